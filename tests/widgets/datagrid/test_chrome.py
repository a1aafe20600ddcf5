"""The grid's bars and its threading: pager, toolbar, views menu, bulk bar, off-thread work."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QInputDialog

from tests.widgets.datagrid.conftest import COLUMNS, patient_rows, wait_idle
from widgets.datagrid import Column, DataGrid, InMemorySource, SavedView, SortKey

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


def test_pager_buttons_page_box_and_size_combo(make_grid: Any, qtbot: Any) -> None:
    grid = make_grid(rows=patient_rows(95))
    pager = grid.pager()
    pager._last.click()
    assert grid.page() == 5
    pager._previous.click()
    assert grid.page() == 4
    pager._first.click()
    assert grid.page() == 1
    pager._next.click()
    assert grid.page() == 2
    pager._spin.setValue(4)
    assert grid.page() == 4
    assert pager._next.isEnabled() is not False  # page 4 of 5: "next" still possible
    index = pager._size.findData(0)  # "Continuous"
    pager._size.activated.emit(index)
    assert grid.page_size() is None
    assert grid.model().rowCount() == 95
    assert not pager._spin.isVisibleTo(pager)
    assert pager.range_label() == "95 rows"


def test_toolbar_clear_filters_and_saved_views_menu(make_grid: Any, qtbot: Any) -> None:
    view = SavedView("By fee", sort=(SortKey("fee", True),), search="a")
    grid = make_grid(saved_views=[view])
    toolbar = grid.toolbar()
    assert not toolbar._clear.isEnabled()
    toolbar._views.activated.emit(1)  # pick "By fee"
    wait_idle(qtbot, grid)
    assert grid.sort_keys() == (SortKey("fee", True),)
    assert grid.filter_text() == "a"
    assert toolbar._clear.isEnabled()
    toolbar._clear.click()
    wait_idle(qtbot, grid)
    assert grid.filter_text() == ""
    assert grid.row_count() == 57


def test_clicking_the_checkbox_header_selects_the_page(make_grid: Any, qtbot: Any) -> None:
    grid = make_grid(selection="multi")
    header = grid.table_view().horizontalHeader()
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert len(grid.selected_ids()) == 20
    assert grid.bulk_bar().select_all_button().text() == "Select all 57 matching"
    grid.bulk_bar().sig_clear_clicked.emit()
    assert grid.selected_ids() == []
    assert not grid.bulk_bar().isVisible()


def test_large_in_memory_sorts_run_off_the_ui_thread(make_grid: Any, qtbot: Any) -> None:
    columns = [Column("n", "N"), Column("text", "Text")]
    count = 60_000  # above the size whose first page is shown synchronously
    source = InMemorySource.from_columns(
        columns, {"n": list(range(count)), "text": [f"row {i % 977}" for i in range(count)]}
    )
    grid = make_grid(rows=None, source=source, columns=columns)
    changes: list[bool] = []
    grid.sig_loading_changed.connect(changes.append)
    grid.sort_by("text", descending=True)
    assert grid.is_loading()  # the call returned before the sort ran
    wait_idle(qtbot, grid)
    assert changes == [True, False]
    assert grid.model().row_values(0) == (99, "row 99")  # text order: "row 99" > "row 976"


def test_set_rows_refresh_and_set_source(make_grid: Any, qtbot: Any) -> None:
    grid = make_grid(rows=patient_rows(10), id_key="id")
    grid.sort_by("name")
    wait_idle(qtbot, grid)
    grid.set_rows(patient_rows(30, seed=2))
    wait_idle(qtbot, grid)
    assert grid.row_count() == 30
    assert grid.sort_keys() == (SortKey("name"),)  # the view survives new rows
    names = [grid.model().row_values(r)[0] for r in range(20)]
    assert names == sorted(names, key=lambda n: n.casefold().replace("é", "e"))
    grid.set_source(InMemorySource(COLUMNS, patient_rows(3)))
    wait_idle(qtbot, grid)
    assert grid.row_count() == 3
    with qtbot.waitSignal(grid.sig_view_changed):
        grid.refresh()

    class Keyed(InMemorySource):
        keys = ("species", "name")

    with pytest.raises(ValueError, match="must match the grid's, in order"):
        DataGrid(COLUMNS, source=Keyed(COLUMNS, []))


def test_a_closed_grid_works_again_when_shown_again(make_grid: Any, qtbot: Any) -> None:
    grid = make_grid(rows=patient_rows(30))
    grid.close()  # stops its worker
    grid.show()
    grid.sort_by("fee", descending=True)
    wait_idle(qtbot, grid)
    fees = [grid.model().row_values(r)[3] for r in range(20)]
    assert fees == sorted(fees, reverse=True)


def test_views_menu_deletes_a_view(make_grid: Any, monkeypatch: Any) -> None:
    grid = make_grid(saved_views=[SavedView("Cats"), SavedView("Dogs")])
    toolbar = grid.toolbar()
    combo = toolbar._views
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "Views…",
        "Cats",
        "Dogs",
        "",
        "Delete a saved view…",
    ]
    monkeypatch.setattr(QInputDialog, "getItem", lambda *_a: ("Cats", True))
    combo.activated.emit(combo.count() - 1)
    assert [v.name for v in grid.saved_views()] == ["Dogs"]
    assert combo.itemText(1) == "Dogs"
