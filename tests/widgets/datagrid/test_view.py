"""DataGrid behaviour: sorting, filtering, pages, states, columns, selection, keyboard."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt

from tests.widgets.datagrid.conftest import COLUMNS, patient_rows, wait_idle
from widgets.datagrid import (
    ChoiceFilter,
    DataGrid,
    GridQuery,
    GridRow,
    InMemorySource,
    RangeFilter,
    SortKey,
    TextFilter,
)

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


def names_on_page(grid: DataGrid) -> list[str]:
    model = grid.model()
    return [model.data(model.index(r, model.column_of("name"))) for r in range(model.rowCount())]


def click_header(qtbot: Any, grid: DataGrid, key: str, shift: bool = False) -> None:
    header = grid.table_view().horizontalHeader()
    section = grid.model().column_of(key)
    pos = QPoint(header.sectionViewportPosition(section) + 5, header.height() // 2)
    mods = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, mods, pos)
    wait_idle(qtbot, grid)


# ---- sorting ----------------------------------------------------------------------------


def test_sort_by_orders_rows_and_signals_once(make_grid: Any, qtbot: Any) -> None:
    grid = make_grid()
    with qtbot.waitSignal(grid.sig_view_changed):
        grid.sort_by("name", descending=True)
    names = names_on_page(grid)
    assert names == sorted(names, key=lambda n: n.casefold().replace("é", "e"), reverse=True)
    assert grid.sort_keys() == (SortKey("name", True),)


def test_header_click_cycles_ascending_descending_none(make_grid: Any, qtbot: Any) -> None:
    grid = make_grid()
    click_header(qtbot, grid, "species")
    assert grid.sort_keys() == (SortKey("species"),)
    click_header(qtbot, grid, "species")
    assert grid.sort_keys() == (SortKey("species", True),)
    click_header(qtbot, grid, "species")
    assert grid.sort_keys() == ()


def test_shift_click_adds_a_secondary_key(make_grid: Any, qtbot: Any) -> None:
    grid = make_grid()
    click_header(qtbot, grid, "species")
    click_header(qtbot, grid, "name", shift=True)
    assert grid.sort_keys() == (SortKey("species"), SortKey("name"))
    model = grid.model()
    assert model.headerData(model.column_of("name"), Qt.Orientation.Horizontal) == "Name ▲2"
    click_header(qtbot, grid, "name")  # a plain click replaces the sort
    assert grid.sort_keys() == (SortKey("name", True),)


def test_header_clicks_do_nothing_when_sorting_is_disabled(make_grid: Any, qtbot: Any) -> None:
    grid = make_grid(enable_sorting=False)
    click_header(qtbot, grid, "name")
    assert grid.sort_keys() == ()


# ---- filtering --------------------------------------------------------------------------


def test_global_filter_is_case_insensitive_across_visible_columns(
    make_grid: Any, qtbot: Any
) -> None:
    rows = patient_rows(57)
    grid = make_grid()
    grid.set_filter("CAT")
    wait_idle(qtbot, grid)
    assert grid.row_count() == sum(1 for r in rows if "cat" in r["species"].lower())
    grid.set_column_visible("species", False)
    wait_idle(qtbot, grid)
    assert grid.row_count() == 0  # the hidden column is no longer searched
    assert grid.overlay().state == "empty"
    assert grid.overlay().title() == "No matching rows"


def test_column_filters_combine_and_clear(make_grid: Any, qtbot: Any) -> None:
    rows = patient_rows(57)
    grid = make_grid()
    grid.set_column_filter("species", ChoiceFilter(frozenset({"Dog"})))
    grid.set_column_filter("name", "a")
    wait_idle(qtbot, grid)
    expected = [r for r in rows if r["species"] == "Dog" and "a" in r["name"].lower()]
    assert grid.row_count() == len(expected)
    assert grid.column_filter("name") == TextFilter("a")
    model = grid.model()
    name = model.column_of("name")
    assert model.headerData(name, Qt.Orientation.Horizontal, Qt.ItemDataRole.FontRole).bold()
    tooltip = model.headerData(name, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert tooltip == "Name, filtered"
    grid.set_column_filter("fee", RangeFilter(low=None, high=10))
    wait_idle(qtbot, grid)
    assert grid.row_count() == len([r for r in expected if r["fee"] <= 10])
    grid.clear_filters()
    wait_idle(qtbot, grid)
    assert grid.row_count() == 57
    assert grid.query().filters == ()


def test_empty_state_offers_to_clear_the_filters(make_grid: Any, qtbot: Any) -> None:
    grid = make_grid()
    grid.set_filter("no such pet")
    wait_idle(qtbot, grid)
    overlay = grid.overlay()
    assert overlay.isVisible()
    assert overlay.state == "empty"
    assert "Clear them" in overlay.detail()
    with qtbot.waitSignal(grid.sig_view_changed):
        overlay.sig_clear_filters_clicked.emit()
    wait_idle(qtbot, grid)
    assert grid.row_count() == 57
    assert not overlay.isVisible()
    assert grid.toolbar().search_box().text() == ""


def test_empty_grid_without_filters_says_so(make_grid: Any) -> None:
    grid = make_grid(rows=[], empty_text="No patients yet")
    assert grid.overlay().state == "empty"
    assert grid.overlay().title() == "No patients yet"
    assert grid.pager().range_label() == "0 of 0"


def test_typing_in_the_search_box_filters_after_a_pause(make_grid: Any, qtbot: Any) -> None:
    grid = make_grid()
    qtbot.keyClicks(grid.toolbar().search_box(), "bella")
    qtbot.waitUntil(lambda: grid.filter_text() == "bella")
    wait_idle(qtbot, grid)
    assert set(names_on_page(grid)) == {"Bella"}


def test_stale_results_are_dropped(make_grid: Any, qtbot: Any) -> None:
    grid = make_grid()
    for text in ("b", "be", "bel", "bell", "luna"):
        grid.set_filter(text)
    wait_idle(qtbot, grid)
    assert set(names_on_page(grid)) == {"Luna"}


# ---- pages ------------------------------------------------------------------------------


def test_pages_and_range_label(make_grid: Any, qtbot: Any) -> None:
    grid = make_grid(page_size=20)
    assert (grid.page(), grid.page_count(), grid.model().rowCount()) == (1, 3, 20)
    assert grid.pager().range_label() == "1\u201320 of 57"
    grid.set_page(3)
    assert grid.model().rowCount() == 17
    assert grid.pager().range_label() == "41\u201357 of 57"
    grid.set_page(99)
    assert grid.page() == 3
    grid.set_page_size(50)  # the first row shown (41) stays in view
    assert (grid.page(), grid.page_count()) == (1, 2)
    with pytest.raises(ValueError, match="page_size: must be 10, 20, 30, 40, 50 or None"):
        grid.set_page_size(25)
    with pytest.raises(ValueError, match="page: must be a whole number from 1"):
        grid.set_page(0)
    assert grid.page_size() == 50


def test_continuous_mode_shows_every_row(make_grid: Any, qtbot: Any) -> None:
    grid = make_grid(rows=patient_rows(1000), page_size=None)
    assert grid.model().rowCount() == 1000
    assert grid.page_count() == 1
    assert grid.pager().range_label() == "1,000 rows"
    grid.table_view().scrollToBottom()
    model = grid.model()
    last = patient_rows(1000)[999]
    name_column = [c.key for c in COLUMNS].index("name")
    assert model.data(model.index(999, name_column)) == last["name"]


def test_disabled_pagination_scrolls_continuously(make_grid: Any) -> None:
    grid = make_grid(enable_pagination=False, page_size=10)
    assert grid.page_size() is None
    assert grid.model().rowCount() == 57
    with pytest.raises(ValueError, match="pagination is disabled"):
        grid.set_page_size(10)


def test_bad_constructor_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="page_size"):
        DataGrid(COLUMNS, [], page_size=7)
    with pytest.raises(ValueError, match="give one of them"):
        DataGrid(COLUMNS, [], source=InMemorySource(COLUMNS, []))
    with pytest.raises(ValueError, match="selection"):
        DataGrid(COLUMNS, [], selection="many")  # type: ignore[arg-type]


# ---- states -----------------------------------------------------------------------------


class SlowSource:
    """An in-memory source whose queries wait for ``release`` (to watch the loading state)."""

    def __init__(self, rows: list[dict[str, Any]], fail_first: bool = False) -> None:
        self.inner = InMemorySource(COLUMNS, rows, id_key="id")
        self.release = threading.Event()
        self.fail_next = fail_first

    def run(self, query: GridQuery, cancelled: Any) -> Any:
        self.release.wait(10)
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("the database server closed the connection")
        return self.inner.run(query, cancelled)

    def distinct_values(self, key: str, limit: int) -> list[Any]:
        return self.inner.distinct_values(key, limit)


def test_loading_overlay_and_signal(make_grid: Any, qtbot: Any) -> None:
    source = SlowSource(patient_rows(30))
    grid = make_grid(source=source, wait=False)
    assert grid.is_loading()
    qtbot.waitUntil(lambda: grid.overlay().state == "loading")
    assert grid.overlay().isVisible()
    with qtbot.waitSignal(grid.sig_loading_changed) as blocker:
        source.release.set()
    assert blocker.args == [False]
    wait_idle(qtbot, grid)
    assert grid.row_count() == 30
    assert not grid.overlay().isVisible()


def test_error_shows_message_and_retry_recovers(make_grid: Any, qtbot: Any) -> None:
    source = SlowSource(patient_rows(30), fail_first=True)
    source.release.set()
    grid = make_grid(source=source, wait=False)
    qtbot.waitUntil(lambda: grid.overlay().state == "error")
    assert grid.error() == "the database server closed the connection"
    assert not grid.is_loading()
    grid.overlay().sig_retry_clicked.emit()
    wait_idle(qtbot, grid)
    assert grid.error() is None
    assert grid.row_count() == 30
    assert grid.overlay().state == "hidden"


# ---- columns ----------------------------------------------------------------------------


def test_hide_show_and_reorder_columns(make_grid: Any) -> None:
    grid = make_grid()
    grid.set_column_visible("dob", False)
    assert grid.visible_columns() == ["name", "species", "fee"]
    grid.move_column("fee", 0)
    assert grid.column_order() == ["fee", "name", "species", "dob"]
    grid.set_column_visible("dob", True)
    assert grid.visible_columns() == ["fee", "name", "species", "dob"]
    for key in ("fee", "name", "species"):
        grid.set_column_visible(key, False)
    with pytest.raises(ValueError, match="last visible column cannot be hidden"):
        grid.set_column_visible("dob", False)
    with pytest.raises(ValueError, match="unknown key 'nope'"):
        grid.set_column_visible("nope", True)


def test_header_menu_offers_sort_filter_hide_and_columns(make_grid: Any, qtbot: Any) -> None:
    grid = make_grid()
    menu = grid.header_menu(grid.model().column_of("species"))
    texts = [a.text() for a in menu.actions() if a.text()]
    assert texts[:4] == ["Sort ascending", "Sort descending", "Add to sort", "Clear sort"]
    assert "Filter…" in texts
    assert "Hide Species" in texts
    assert "Columns" in texts
    hide = next(a for a in menu.actions() if a.text() == "Hide Species")
    hide.trigger()
    assert "species" not in grid.visible_columns()
    columns_menu = next(a for a in grid.header_menu(0).actions() if a.text() == "Columns").menu()
    species = next(a for a in columns_menu.actions() if a.text() == "Species")
    species.trigger()
    assert "species" in grid.visible_columns()


# ---- selection --------------------------------------------------------------------------


def test_checkbox_selection_select_all_matching_and_bulk_action(make_grid: Any, qtbot: Any) -> None:
    rows = patient_rows(57)
    grid = make_grid(selection="multi", bulk_actions=["Send reminder"])
    model = grid.model()
    first_id = model.row_id(0)
    with qtbot.waitSignal(grid.sig_selection_changed) as changed:
        model.setData(model.index(0, 0), Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole)
    assert changed.args == [[first_id]]
    assert grid.bulk_bar().isVisible()
    assert grid.bulk_bar().text() == "1 selected"
    grid.set_filter("dog")
    wait_idle(qtbot, grid)
    assert grid.selected_ids() == []  # a new filter starts a new selection
    grid.select_all_matching()
    qtbot.waitUntil(grid.is_all_matching_selected)
    dogs = [r["id"] for r in rows if r["species"] == "Dog"]
    assert sorted(grid.selected_ids()) == dogs
    assert grid.bulk_bar().text() == f"All {len(dogs)} matching rows selected"
    with qtbot.waitSignal(grid.sig_bulk_action) as action:
        grid.bulk_bar().action_button("Send reminder").click()
    assert action.args[0] == "Send reminder"
    assert sorted(action.args[1]) == dogs
    grid.set_page(2)  # the selection survives page changes
    assert model.data(model.index(0, 0), Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked


def test_space_toggles_and_ctrl_a_selects_the_page(make_grid: Any, qtbot: Any) -> None:
    grid = make_grid(selection="multi")
    table = grid.table_view()
    table.setFocus()
    table.setCurrentIndex(grid.model().index(2, 1))
    qtbot.keyClick(table, Qt.Key.Key_Space)
    assert grid.selected_ids() == [grid.model().row_id(2)]
    qtbot.keyClick(table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(grid.selected_ids()) == 20
    qtbot.keyClick(table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert grid.selected_ids() == []


def test_single_selection_follows_the_current_row(make_grid: Any, qtbot: Any) -> None:
    grid = make_grid(selection="single")
    with qtbot.waitSignal(grid.sig_selection_changed) as changed:
        grid.table_view().setCurrentIndex(grid.model().index(3, 0))
    assert changed.args == [[grid.model().row_id(3)]]


# ---- keyboard ---------------------------------------------------------------------------


def test_page_keys_change_page_and_enter_activates(make_grid: Any, qtbot: Any) -> None:
    grid = make_grid()
    table = grid.table_view()
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_PageDown)
    assert grid.page() == 2
    qtbot.keyClick(table, Qt.Key.Key_PageUp)
    qtbot.keyClick(table, Qt.Key.Key_PageUp)
    assert grid.page() == 1
    table.setCurrentIndex(grid.model().index(4, 0))
    with qtbot.waitSignal(grid.sig_row_activated) as activated:
        qtbot.keyClick(table, Qt.Key.Key_Return)
    row = activated.args[0]
    assert isinstance(row, GridRow)
    assert row.id == grid.model().row_id(4)
    assert row["name"] == grid.model().row_values(4)[0]
    assert "Row 5" in table.accessibleDescription()


# ---- continuous mode keeps the first visible row (issue 17) ----------------------------------


def first_visible(grid: DataGrid) -> int:
    return grid.model().offset + grid.table_view().rowAt(0)


def is_visible(grid: DataGrid, row: int) -> bool:
    table = grid.table_view()
    local = row - grid.model().offset
    last = table.rowAt(table.viewport().height() - 1)
    last = grid.model().rowCount() - 1 if last < 0 else last
    return 0 <= local < grid.model().rowCount() and table.rowAt(0) <= local <= last


def test_switching_to_and_from_continuous_keeps_the_first_visible_row(
    make_grid: Any, qtbot: Any
) -> None:
    grid = make_grid(rows=patient_rows(1000), page_size=50)
    table = grid.table_view()
    grid.set_page(3)  # rows 100..149
    table.scrollTo(grid.model().index(10, 0), table.ScrollHint.PositionAtTop)
    assert first_visible(grid) == 110
    grid.set_page_size(None)
    wait_idle(qtbot, grid)
    qtbot.waitUntil(lambda: first_visible(grid) == 110)
    table.scrollTo(grid.model().index(537, 0), table.ScrollHint.PositionAtTop)
    assert first_visible(grid) == 537
    grid.set_page_size(20)
    wait_idle(qtbot, grid)
    assert grid.page() == 27  # rows 520..539
    qtbot.waitUntil(lambda: is_visible(grid, 537))
    grid.set_page_size(None)
    wait_idle(qtbot, grid)
    qtbot.waitUntil(lambda: is_visible(grid, 537))
