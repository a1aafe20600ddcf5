"""IdleWatcher: any input restarts the idle time; the lock comes once per idle spell."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot

from purplecross_desktop.ui.idle import IdleWatcher

pytestmark = pytest.mark.gui


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_idle_fires_after_the_timeout_and_input_restarts_it(
    qapp: QApplication, qtbot: QtBot
) -> None:
    clock = FakeClock()
    minutes = [1.0]
    watcher = IdleWatcher(qapp, lambda: minutes[0] * 60, clock=clock, check_ms=60_000)
    edit = QLineEdit()
    qtbot.addWidget(edit)
    fired: list[bool] = []
    watcher.sig_idle.connect(lambda: fired.append(True))
    try:
        clock.now += 59
        watcher.check()
        assert fired == []
        QApplication.sendEvent(
            edit, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_A, Qt.KeyboardModifier.NoModifier)
        )
        clock.now += 59
        watcher.check()
        assert fired == []  # the key press counted as activity
        move = QMouseEvent(
            QEvent.Type.MouseMove,
            QPointF(3, 3),
            QPointF(3, 3),
            Qt.MouseButton.NoButton,
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(edit, move)
        clock.now += 60
        watcher.check()
        watcher.check()
        assert fired == [True]  # once per idle spell
        watcher.touch()
        minutes[0] = 0  # "never", read at each check
        clock.now += 10_000
        watcher.check()
        assert fired == [True]
    finally:
        watcher.stop()
