"""The grid model passes Qt's model tester in every mode, and pages match the reference."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt

from tests.widgets.datagrid.conftest import COLUMNS, patient_rows, wait_idle
from tests.widgets.datagrid.reference import reference_view
from widgets.datagrid import GridModel, GridQuery, InMemorySource, SortKey
from widgets.datagrid.model import RAW_VALUE_ROLE, ROW_ID_ROLE

# The offscreen platform warns when a top-level window is shown; that is not our bug.
pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


def test_model_in_every_mode_passes_the_model_tester(
    qtmodeltester: Any, make_grid: Any, qtbot: Any
) -> None:
    grid = make_grid(selection="multi")
    qtmodeltester.check(grid.model())
    grid.sort_by("name")
    wait_idle(qtbot, grid)
    qtmodeltester.check(grid.model())
    grid.set_filter("a")
    wait_idle(qtbot, grid)
    qtmodeltester.check(grid.model())
    grid.set_page(2)
    wait_idle(qtbot, grid)
    qtmodeltester.check(grid.model())
    grid.set_page_size(None)
    wait_idle(qtbot, grid)
    qtmodeltester.check(grid.model())
    grid.set_filter("nothing matches this")
    wait_idle(qtbot, grid)
    qtmodeltester.check(grid.model())


def test_empty_model_passes_the_model_tester(qtmodeltester: Any) -> None:
    model = GridModel(COLUMNS)
    qtmodeltester.check(model)
    model.show(InMemorySource(COLUMNS, []).run(GridQuery()), 0, 0)
    qtmodeltester.check(model)


def test_a_refresh_that_finds_the_same_rows_resets_nothing(qtmodeltester: Any) -> None:
    """A live refresh of a database page: the same rows again leave the view alone."""
    rows = patient_rows(30)
    model = GridModel(COLUMNS)

    def page(source_rows: list[dict[str, Any]]) -> tuple[Any, list[Any], list[Any]]:
        result = InMemorySource(COLUMNS, source_rows, id_key="id").run(GridQuery())
        return result, result.rows(0, 10), result.ids(0, 10)

    first, shown, ids = page(rows)
    model.show(first, 0, 10, shown, ids)
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    again = page(rows)
    assert model.show(again[0], 0, 10, again[1], again[2]) == "kept"
    assert resets == []
    qtmodeltester.check(model)
    assert [model.data(model.index(r, 0)) for r in range(10)] == [r["name"] for r in rows[:10]]
    changes: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(
        lambda a, b, _roles=(): changes.append((a.row(), a.column(), b.row(), b.column()))
    )
    renamed = page([{**rows[0], "name": "Zed"}, *rows[1:]])
    assert model.show(renamed[0], 0, 10, renamed[1], renamed[2]) == "replaced"
    assert resets == []  # as many rows: changed in place, one dataChanged over the page
    assert changes == [(0, 0, 9, model.columnCount() - 1)]
    assert model.data(model.index(0, 0)) == "Zed"
    qtmodeltester.check(model)
    moved = page(rows[1:])  # every row of the page moved up one: still in place
    assert model.show(moved[0], 0, 10, moved[1], moved[2]) == "replaced"
    assert resets == []
    assert [model.row_id(r) for r in range(10)] == [r["id"] for r in rows[1:11]]
    qtmodeltester.check(model)
    shorter = page(rows[:5])  # fewer rows: one reset
    assert model.show(shorter[0], 0, 5, shorter[1][:5], shorter[2][:5]) == "reset"
    assert resets == [1]
    assert model.rowCount() == 5
    qtmodeltester.check(model)


def test_roles_and_headers() -> None:
    rows = patient_rows(5)
    source = InMemorySource(COLUMNS, rows, id_key="id")
    model = GridModel(COLUMNS)
    model.show(source.run(GridQuery(sort=(SortKey("fee", True),))), 0, 5)
    top = max(rows, key=lambda r: r["fee"])
    fee = model.index(0, 3)
    assert model.data(fee, RAW_VALUE_ROLE) == top["fee"]
    assert model.data(fee) == f"{top['fee']:,.2f}"
    assert model.data(fee, ROW_ID_ROLE) == top["id"]
    assert model.data(fee, Qt.ItemDataRole.TextAlignmentRole) & int(Qt.AlignmentFlag.AlignRight)
    model.set_sort_markers((SortKey("fee", True),))
    assert model.headerData(3, Qt.Orientation.Horizontal) == "Fee ▼"
    model.set_sort_markers((SortKey("name"), SortKey("fee", True)))
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Name ▲1"
    assert model.headerData(3, Qt.Orientation.Horizontal) == "Fee ▼2"
    assert model.headerData(3, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole) == (
        "Fee, sorted descending"
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    count=st.integers(0, 120),
    page_size=st.sampled_from([10, 20, 30, 40, 50]),
    sort=st.sampled_from([(), (SortKey("name"),), (SortKey("species", True), SortKey("dob"))]),
    search=st.sampled_from(["", "a", "É", "cat"]),
)
def test_every_page_matches_the_reference_cell_by_cell(
    count: int, page_size: int, sort: tuple[SortKey, ...], search: str
) -> None:
    rows = patient_rows(count, seed=count)
    tuples = [tuple(r[c.key] for c in COLUMNS) for r in rows]
    query = GridQuery(sort=sort, search=search, search_keys=("name", "species"))
    result = InMemorySource(COLUMNS, rows).run(query)
    expected = [tuples[i] for i in reference_view(COLUMNS, tuples, query)]
    model = GridModel(COLUMNS)
    seen: list[tuple[Any, ...]] = []
    for start in range(0, max(result.count, 1), page_size):
        model.show(result, start, min(page_size, result.count - start))
        for r in range(model.rowCount()):
            seen.append(tuple(model.data(model.index(r, c), RAW_VALUE_ROLE) for c in range(4)))
            assert model.data(model.index(r, 0)) == COLUMNS[0].display(seen[-1][0])
    assert seen == expected
