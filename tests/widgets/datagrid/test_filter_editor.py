"""Per-column filter editors: text, choice list and range, with clear validation messages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from PySide6.QtWidgets import QListWidget
from shiboken6 import isValid

from tests.widgets.datagrid.conftest import wait_idle
from widgets.datagrid import ChoiceFilter, Column, RangeFilter, TextFilter
from widgets.datagrid.filter_editor import ColumnFilterEditor, parse_bound

# The offscreen platform warns about what popups do on a real screen; not our bugs.
pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore(
        "propagateSizeHints", "does not support raise", "does not support grabbing"
    ),
]


def applied(qtbot: Any, editor: ColumnFilterEditor) -> Any:
    with qtbot.waitSignal(editor.sig_applied) as blocker:
        editor.apply()
    return blocker.args[0]


def test_text_editor(qtbot: Any) -> None:
    editor = ColumnFilterEditor(Column("name", "Name"), TextFilter("be"))
    qtbot.addWidget(editor)
    editor.set_text("  lu ")
    assert applied(qtbot, editor) == TextFilter("lu")
    editor.set_text("")
    assert applied(qtbot, editor) is None


def test_choice_editor(qtbot: Any) -> None:
    column = Column("species", "Species", filter_mode="choice")
    editor = ColumnFilterEditor(column, ChoiceFilter(frozenset({"Cat"})), choices=["Cat", "Dog"])
    qtbot.addWidget(editor)
    assert applied(qtbot, editor) == ChoiceFilter(frozenset({"Cat"}))
    editor.set_checked({"Cat", "Dog"})
    assert applied(qtbot, editor) == ChoiceFilter(frozenset({"Cat", "Dog"}))
    editor.set_checked(set())
    assert applied(qtbot, editor) is None


def test_range_editor_parses_like_the_column_and_refuses_bad_input(qtbot: Any) -> None:
    column = Column("dob", "Born", filter_mode="range")
    editor = ColumnFilterEditor(column, sample=dt.date(2020, 1, 1))
    qtbot.addWidget(editor)
    editor.set_range("2019-01-01", "")
    assert applied(qtbot, editor) == RangeFilter(dt.date(2019, 1, 1), None)
    editor.set_range("01/02/2019", "")
    with qtbot.assertNotEmitted(editor.sig_applied):
        editor.apply()
    assert editor.error_text() == "From: enter a date as YYYY-MM-DD"
    editor.set_range("2020-01-01", "2019-01-01")
    with qtbot.assertNotEmitted(editor.sig_applied):
        editor.apply()
    assert editor.error_text() == "To: must not be before From"


@pytest.mark.parametrize(
    ("text", "kind", "sample", "expected"),
    [
        ("12.5", "money", None, Decimal("12.5")),
        ("1,200", "number", 3, 1200),
        ("2.5", "auto", 1.0, 2.5),
        ("2024-05-01 10:00", "datetime", None, dt.datetime(2024, 5, 1, 10, 0)),
        ("", "number", None, None),
    ],
)
def test_parse_bound(text: str, kind: str, sample: Any, expected: Any) -> None:
    assert parse_bound(text, kind, sample, "From") == expected


def test_parse_bound_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"To: enter a number, like 12\.5"):
        parse_bound("twelve", "number", 3, "To")


def test_header_filter_popup_filters_the_grid(make_grid: Any, qtbot: Any) -> None:
    grid = make_grid()
    editor = grid.open_column_filter("fee")
    editor.set_range("", "10")
    editor.apply()
    wait_idle(qtbot, grid)
    assert grid.column_filter("fee") == RangeFilter(None, Decimal("10"))
    fees = [grid.model().row_values(r)[3] for r in range(grid.model().rowCount())]
    assert all(fee <= 10 for fee in fees)


def test_choice_popup_loads_distinct_values_off_thread(make_grid: Any, qtbot: Any) -> None:
    grid = make_grid()
    grid.open_column_filter("species")
    menu = grid._filter_menu

    def lists() -> list[int]:
        return [w.count() for w in menu.findChildren(QListWidget)]

    qtbot.waitUntil(lambda: 4 in lists())
    editor = next(
        e for e in menu.findChildren(ColumnFilterEditor) if e.findChild(QListWidget).count()
    )
    editor.set_checked({"Dog"})
    editor.apply()
    wait_idle(qtbot, grid)
    assert grid.column_filter("species") == ChoiceFilter(frozenset({"Dog"}))
    qtbot.waitUntil(lambda: not isValid(menu))  # closed and deleted
