"""Every header action has a keyboard route, and Tab leaves the table (issue 17)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QVBoxLayout, QWidget

from tests.widgets.datagrid.conftest import COLUMNS, patient_rows, wait_idle
from widgets.datagrid import DataGrid, SortKey

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore(
        "propagateSizeHints", "does not support raise", "does not support grabbing"
    ),
]
SHIFT = Qt.KeyboardModifier.ShiftModifier
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def window(qtbot: Any) -> Any:
    """A grid between two line edits, in a shown, active window."""
    host = QWidget()
    qtbot.addWidget(host)
    layout = QVBoxLayout(host)
    before, after = QLineEdit(host), QLineEdit(host)
    grid = DataGrid(COLUMNS, patient_rows(57), id_key="id", selection="multi")
    layout.addWidget(before)
    layout.addWidget(grid)
    layout.addWidget(after)
    host.resize(900, 700)
    host.show()
    host.activateWindow()
    qtbot.waitExposed(host)
    wait_idle(qtbot, grid)
    yield grid, before, after
    grid.shutdown()


def focused() -> Any:
    return QApplication.focusWidget()


def test_tab_leaves_the_table(window: Any, qtbot: Any) -> None:
    grid, _before, _after = window
    table = grid.table_view()
    table.setFocus()
    table.setCurrentIndex(grid.model().index(0, 1))
    qtbot.waitUntil(lambda: focused() is table)
    qtbot.keyClick(table, Qt.Key.Key_Tab)
    assert focused() is not table
    assert not table.isAncestorOf(focused())
    table.setFocus()
    qtbot.waitUntil(lambda: focused() is table)
    qtbot.keyClick(table, Qt.Key.Key_Backtab, SHIFT)
    assert focused() is grid.table_view().horizontalHeader()  # Shift+Tab: the header first


def test_the_header_takes_focus_and_sorts_from_the_keyboard(window: Any, qtbot: Any) -> None:
    grid, _before, _after = window
    header = grid.table_view().horizontalHeader()
    assert header.focusPolicy() & Qt.FocusPolicy.TabFocus
    header.setFocus()
    qtbot.waitUntil(lambda: focused() is header)
    assert header.current_section() == grid.model().column_of("name")
    qtbot.keyClick(header, Qt.Key.Key_Right)
    assert header.current_section() == grid.model().column_of("species")
    qtbot.keyClick(header, Qt.Key.Key_Return)
    wait_idle(qtbot, grid)
    assert grid.sort_keys() == (SortKey("species"),)
    qtbot.keyClick(header, Qt.Key.Key_Right)
    qtbot.keyClick(header, Qt.Key.Key_Space, SHIFT)  # Shift adds a key, like shift-click
    wait_idle(qtbot, grid)
    assert grid.sort_keys() == (SortKey("species"), SortKey("dob"))
    qtbot.keyClick(header, Qt.Key.Key_Home)
    assert header.current_section() == 0  # the checkbox column: Space selects the page
    qtbot.keyClick(header, Qt.Key.Key_Space)
    assert len(grid.selected_ids()) == 20
    qtbot.keyClick(header, Qt.Key.Key_Down)  # back to the table
    assert focused() is grid.table_view()


def test_header_keys_move_and_resize_columns(window: Any, qtbot: Any) -> None:
    grid, _before, _after = window
    header = grid.table_view().horizontalHeader()
    header.setFocus()
    qtbot.waitUntil(lambda: focused() is header)
    qtbot.keyClick(header, Qt.Key.Key_Right, CTRL)  # move "name" one place right
    assert grid.column_order() == ["species", "name", "dob", "fee"]
    assert header.current_section() == grid.model().column_of("name")
    width = header.sectionSize(grid.model().column_of("name"))
    qtbot.keyClick(header, Qt.Key.Key_Plus, CTRL)
    assert header.sectionSize(grid.model().column_of("name")) > width
    qtbot.keyClick(header, Qt.Key.Key_Minus, CTRL)
    assert header.sectionSize(grid.model().column_of("name")) == width


@pytest.mark.parametrize(
    ("key", "mods"), [(Qt.Key.Key_Menu, Qt.KeyboardModifier.NoModifier), (Qt.Key.Key_F10, SHIFT)]
)
@pytest.mark.parametrize("where", ["table", "header"])
def test_menu_key_and_shift_f10_open_the_header_menu(
    window: Any, qtbot: Any, key: Any, mods: Any, where: str
) -> None:
    grid, _before, _after = window
    table = grid.table_view()
    header = table.horizontalHeader()
    fee = grid.model().column_of("fee")
    if where == "table":
        table.setFocus()
        table.setCurrentIndex(grid.model().index(3, fee))
        target = table
    else:
        header.setFocus()
        header.set_current_section(fee)
        target = header
    qtbot.waitUntil(lambda: focused() is target)
    qtbot.keyClick(target, key, mods)
    menu = grid.header_popup()
    assert menu is not None
    qtbot.waitUntil(menu.isVisible)
    texts = [a.text() for a in menu.actions() if a.text()]
    assert texts[:2] == ["Sort ascending", "Sort descending"]
    assert "Hide Fee" in texts
    qtbot.keyClick(menu, Qt.Key.Key_Down)  # the first action, then the second
    qtbot.keyClick(menu, Qt.Key.Key_Down)
    qtbot.keyClick(menu, Qt.Key.Key_Return)
    wait_idle(qtbot, grid)
    assert grid.sort_keys() == (SortKey("fee", True),)


def test_menu_key_reaches_filter_and_hide(window: Any, qtbot: Any) -> None:
    grid, _before, _after = window
    header = grid.table_view().horizontalHeader()
    header.setFocus()
    header.set_current_section(grid.model().column_of("species"))
    qtbot.keyClick(header, Qt.Key.Key_Menu)
    menu = grid.header_popup()
    qtbot.waitUntil(menu.isVisible)
    hide = next(a for a in menu.actions() if a.text() == "Hide Species")
    menu.setActiveAction(hide)
    qtbot.keyClick(menu, Qt.Key.Key_Return)
    assert "species" not in grid.visible_columns()
    assert header.current_section() != grid.model().column_of("species")  # moved off it


@pytest.mark.parametrize("key", [Qt.Key.Key_Return, Qt.Key.Key_Down])
def test_enter_or_down_in_the_search_searches_at_once_and_goes_to_the_first_match(
    window: Any, qtbot: Any, key: Qt.Key
) -> None:
    grid, _before, _after = window
    box = grid.toolbar().search_box()
    box.setFocus()
    qtbot.waitUntil(lambda: focused() is box)
    qtbot.keyClicks(box, "rabbit")
    qtbot.keyClick(box, key)  # before the typing pause has run the search
    table = grid.table_view()
    assert focused() is table
    assert grid.filter_text() == "rabbit"
    wait_idle(qtbot, grid)
    qtbot.waitUntil(lambda: table.currentIndex().isValid(), timeout=10000)
    first = grid.row_at(0)
    assert first is not None
    assert first.values["species"] == "Rabbit"
    assert table.currentIndex().row() == 0
    assert not table.isColumnHidden(table.currentIndex().column())
