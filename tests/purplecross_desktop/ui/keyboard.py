"""Driving the real widgets by keyboard: keys go to whatever has the focus, like a user's."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot


def focused() -> QWidget:
    """The widget with the keyboard focus (fails the test if none has it)."""
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def activate(qtbot: QtBot, window: QWidget) -> None:
    """Show ``window`` and make it the active window, so it gets key presses."""
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)


def type_text(qtbot: QtBot, text: str) -> None:
    """Type ``text`` into the focused widget."""
    qtbot.keyClicks(focused(), text)


def press(
    qtbot: QtBot, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
) -> None:
    """Press ``key`` (with ``modifier``) on the focused widget."""
    qtbot.keyClick(focused(), key, modifier)


def tab(qtbot: QtBot, times: int = 1) -> None:
    """Move the focus forward like the Tab key."""
    for _ in range(times):
        press(qtbot, Qt.Key.Key_Tab)
