"""SchedulerView: keyboard cursor, booking an empty slot, moving and deleting blocks, drag."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from widgets.scheduler import SchedulerColumn, SchedulerItem, SchedulerView

pytestmark = pytest.mark.gui


@pytest.fixture
def view(qtbot: QtBot) -> SchedulerView:
    widget = SchedulerView(8 * 60, 12 * 60, slot_minutes=15, slot_height=20)
    widget.set_columns([SchedulerColumn("a", "Dr A"), SchedulerColumn("b", "Dr B")])
    widget.set_items([SchedulerItem(7, "a", 9 * 60, 9 * 60 + 30, "Rex", "Check up")])
    widget.resize(400, widget.sizeHint().height())
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    widget.setFocus()
    return widget


def test_arrows_move_the_cursor_and_enter_books_an_empty_slot(
    qtbot: QtBot, view: SchedulerView
) -> None:
    assert view.cursor_slot() == ("a", 8 * 60)
    qtbot.keyClick(view, Qt.Key.Key_Down)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.cursor_slot() == ("b", 8 * 60 + 15)
    assert view.accessibleDescription() == "Dr B, 08:15: free"
    with qtbot.waitSignal(view.sig_slot_activated) as booked:
        qtbot.keyClick(view, Qt.Key.Key_Return)
    assert booked.args == ["b", 8 * 60 + 15]
    qtbot.keyClick(view, Qt.Key.Key_Right)  # stops at the last column
    qtbot.keyClick(view, Qt.Key.Key_End)
    assert view.cursor_slot() == ("b", 11 * 60 + 45)


def test_enter_on_a_block_opens_it_and_ctrl_arrows_move_it(
    qtbot: QtBot, view: SchedulerView
) -> None:
    view.set_cursor("a", 9 * 60 + 15)  # inside Rex's block
    assert view.item_at_cursor() is not None
    assert "Rex" in view.accessibleDescription()
    with qtbot.waitSignal(view.sig_item_activated) as opened:
        qtbot.keyClick(view, Qt.Key.Key_Return)
    assert opened.args == [7]
    with qtbot.waitSignal(view.sig_item_move_requested) as moved:
        qtbot.keyClick(view, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert moved.args == [7, "a", 9 * 60 + 15]
    with qtbot.waitSignal(view.sig_item_move_requested) as moved:
        qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert moved.args == [7, "b", 9 * 60]
    with qtbot.waitSignal(view.sig_item_delete_requested) as deleted:
        view.set_cursor("a", 9 * 60)
        qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert deleted.args == [7]


def test_a_block_is_dragged_to_another_column_and_time(qtbot: QtBot, view: SchedulerView) -> None:
    source = view.slot_rect(0, 4).center()  # 09:00 in column a
    target = view.slot_rect(1, 8).center()  # 10:00 in column b
    with qtbot.waitSignal(view.sig_item_move_requested) as moved:
        qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=source)
        qtbot.mouseMove(view, target)
        from PySide6.QtGui import QMouseEvent

        move = QMouseEvent(
            QMouseEvent.Type.MouseMove,
            target.toPointF(),
            view.mapToGlobal(target).toPointF(),
            Qt.MouseButton.NoButton,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        view.mouseMoveEvent(move)
        qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=target)
    assert moved.args == [7, "b", 10 * 60]
    assert isinstance(source, QPoint)


def test_a_bad_range_is_refused() -> None:
    with pytest.raises(ValueError, match="slot_minutes"):
        SchedulerView(8 * 60, 9 * 60, slot_minutes=25)


def test_the_column_titles_stay_in_view_while_the_day_scrolls(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QScrollArea

    view = SchedulerView(8 * 60, 18 * 60, slot_minutes=15, slot_height=26)
    view.set_columns([SchedulerColumn("a", "Dr A"), SchedulerColumn("b", "Dr B")])
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setWidget(view)
    area.resize(500, 300)
    qtbot.addWidget(area)
    area.show()
    qtbot.waitExposed(area)
    assert view.header_rect().top() == 0
    area.verticalScrollBar().setValue(400)
    qtbot.waitUntil(lambda: view.header_rect().top() == 400)
    # the titles are painted there: the row under them is the header's colour, not a slot's
    image = view.grab(view.header_rect()).toImage()
    assert image.height() > 0
    # a click on the titles does not land on the slot scrolled beneath them
    before = view.cursor_slot()
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(300, 410))
    assert view.cursor_slot() == before
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(300, 400 + 40 + 26))
    assert view.cursor_slot() != before
