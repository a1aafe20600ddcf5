""" "Select all N matching" means exactly the rows that match now, whatever changed (issue 17)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.widgets.datagrid.conftest import patient_rows, wait_idle
from widgets.datagrid import DataGrid

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


def matching_ids(grid: DataGrid) -> list[Any]:
    result = grid.current_result()
    assert result is not None
    return result.ids(0, result.count)


def assert_bar_is_honest(grid: DataGrid, qtbot: Any) -> None:
    """What the bar says is what a bulk action receives."""
    wait_idle(qtbot, grid)
    selected = grid.selected_ids()
    bar = grid.bulk_bar()
    if not selected:
        assert not bar.isVisible()
        return
    with qtbot.waitSignal(grid.sig_bulk_action) as action:
        bar.action_button("Remind").click()
    assert action.args[1] == selected
    if grid.is_all_matching_selected():
        assert sorted(selected) == sorted(matching_ids(grid))
        assert bar.text() == f"All {grid.row_count()} matching rows selected"
    elif selected:
        assert bar.text() == f"{len(selected)} selected"


def select_all(grid: DataGrid, qtbot: Any, search: str) -> None:
    grid.set_filter(search)
    wait_idle(qtbot, grid)
    grid.select_all_matching()
    qtbot.waitUntil(grid.is_all_matching_selected)
    assert sorted(grid.selected_ids()) == sorted(matching_ids(grid))


@pytest.fixture
def grid(make_grid: Any) -> DataGrid:
    grid: DataGrid = make_grid(selection="multi", bulk_actions=["Remind"])
    return grid


def test_hiding_a_searched_column_ends_select_all(grid: DataGrid, qtbot: Any) -> None:
    select_all(grid, qtbot, "dog")
    assert grid.row_count() > 0
    grid.set_column_visible("species", False)  # "dog" was found in Species only
    wait_idle(qtbot, grid)
    assert grid.row_count() == 0
    assert not grid.is_all_matching_selected()
    assert grid.selected_ids() == []
    assert_bar_is_honest(grid, qtbot)


def test_refresh_ends_select_all(grid: DataGrid, qtbot: Any) -> None:
    select_all(grid, qtbot, "cat")
    grid.refresh()
    wait_idle(qtbot, grid)
    assert not grid.is_all_matching_selected()
    assert grid.selected_ids() == []
    assert_bar_is_honest(grid, qtbot)


def test_new_rows_end_select_all(grid: DataGrid, qtbot: Any) -> None:
    select_all(grid, qtbot, "cat")
    before = grid.row_count()
    grid.set_rows(patient_rows(10))
    wait_idle(qtbot, grid)
    assert grid.row_count() < before
    assert not grid.is_all_matching_selected()
    assert grid.selected_ids() == []
    assert_bar_is_honest(grid, qtbot)


def test_select_all_ids_arriving_after_a_filter_change_are_dropped(
    grid: DataGrid, qtbot: Any
) -> None:
    grid.set_filter("cat")
    wait_idle(qtbot, grid)
    grid.select_all_matching()  # the ids are fetched on the worker, before the next query
    grid.set_filter("bella")
    wait_idle(qtbot, grid)
    qtbot.wait(50)
    assert not grid.is_all_matching_selected()
    assert grid.selected_ids() == []
    assert_bar_is_honest(grid, qtbot)


def test_sorting_keeps_select_all(grid: DataGrid, qtbot: Any) -> None:
    select_all(grid, qtbot, "dog")
    grid.sort_by("name")
    wait_idle(qtbot, grid)
    assert grid.is_all_matching_selected()
    assert_bar_is_honest(grid, qtbot)
    grid.select_all_matching()  # then sorting while the ids are on their way
    grid.sort_by("fee")
    wait_idle(qtbot, grid)
    qtbot.waitUntil(grid.is_all_matching_selected)
    assert_bar_is_honest(grid, qtbot)
