"""Datetime range filters mean what they show: the clinic's time zone, whole days (issue 17)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.widgets.datagrid.conftest import wait_idle
from widgets.datagrid import Column, DataGrid, GridQuery, InMemorySource, RangeFilter
from widgets.datagrid.filter_editor import ColumnFilterEditor

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore(
        "propagateSizeHints", "does not support raise", "does not support grabbing"
    ),
]
BERLIN = ZoneInfo("Europe/Berlin")  # UTC+1 in January
UTC = dt.UTC
STARTS = Column("starts", "Starts", kind="datetime", filter_mode="range", timezone=BERLIN)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def applied(qtbot: Any, editor: ColumnFilterEditor) -> Any:
    with qtbot.waitSignal(editor.sig_applied) as blocker:
        editor.apply()
    return blocker.args[0]


def test_a_datetime_shows_in_the_columns_zone() -> None:
    assert STARTS.display(utc(2024, 1, 31, 8, 0)) == "2024-01-31 09:00"
    assert Column("x", "X").display(utc(2024, 1, 31, 8, 0)) == "2024-01-31 08:00"


@pytest.mark.parametrize("sample", [utc(2024, 1, 1, 12), None])  # None: an empty page
def test_typed_bounds_are_read_in_the_columns_zone(qtbot: Any, sample: Any) -> None:
    editor = ColumnFilterEditor(STARTS, sample=sample)
    qtbot.addWidget(editor)
    editor.set_range("2024-01-31 09:00", "")
    flt = applied(qtbot, editor)
    assert flt.low == utc(2024, 1, 31, 8, 0)
    assert flt.low.tzinfo is not None


def test_a_date_only_to_includes_the_whole_day(qtbot: Any) -> None:
    editor = ColumnFilterEditor(STARTS, sample=utc(2024, 1, 1, 12))
    qtbot.addWidget(editor)
    editor.set_range("2024-01-30", "2024-01-31")
    flt = applied(qtbot, editor)
    assert flt.low == dt.datetime(2024, 1, 30, tzinfo=BERLIN)
    rows = [
        (utc(2024, 1, 29, 22, 59),),  # 23:59 on the 29th in Berlin: out
        (utc(2024, 1, 29, 23, 0),),  # 00:00 on the 30th: in
        (utc(2024, 1, 31, 22, 59, 59),),  # 23:59:59 on the 31st: in
        (utc(2024, 1, 31, 23, 0),),  # 00:00 on 1 February: out
    ]
    result = InMemorySource([STARTS], rows).run(GridQuery(filters=(("starts", flt),)))
    assert [r[0] for r in result.rows(0, result.count)] == [rows[1][0], rows[2][0]]


def test_the_editor_shows_bounds_in_the_zone_and_an_unchanged_apply_changes_nothing(
    qtbot: Any,
) -> None:
    current = RangeFilter(utc(2024, 1, 31, 8, 0, 30, 5), utc(2024, 2, 3, 22, 59, 59, 999999))
    editor = ColumnFilterEditor(STARTS, current, sample=utc(2024, 1, 1, 12))
    qtbot.addWidget(editor)
    assert (editor._low.text(), editor._high.text()) == ("2024-01-31 09:00:30", "2024-02-03")
    assert applied(qtbot, editor) == current  # not moved by a zone, not shortened to minutes
    day = RangeFilter(dt.datetime(2024, 1, 31, tzinfo=BERLIN), None)
    editor = ColumnFilterEditor(STARTS, day, sample=None)
    qtbot.addWidget(editor)
    assert editor._low.text() == "2024-01-31"
    assert applied(qtbot, editor) == day


def test_the_grid_hands_its_time_zone_to_datetime_columns(make_grid: Any, qtbot: Any) -> None:
    plain = Column("starts", "Starts", kind="datetime", filter_mode="range")
    rows = [{"id": 1, "starts": utc(2024, 1, 31, 23, 30)}]
    grid: DataGrid = make_grid(rows=rows, columns=[plain], id_key="id", timezone=BERLIN)
    model = grid.model()
    assert model.data(model.index(0, 0)) == "2024-02-01 00:30"
    grid.set_filter("no such row")  # an empty page: no sample value to learn the zone from
    wait_idle(qtbot, grid)
    editor = grid.open_column_filter("starts")
    editor.set_range("2024-02-01", "2024-02-01")
    editor.apply()
    wait_idle(qtbot, grid)
    assert grid.column_filter("starts").low.tzinfo is not None
    grid.set_filter("")
    wait_idle(qtbot, grid)
    assert grid.row_count() == 1
