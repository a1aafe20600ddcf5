"""Signal spy and log: every signal of the story's widgets, with arguments."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from gallery.signal_log import SignalLog, SignalSpy, signal_signatures
from widgets.alert import Alert
from widgets.button import Button
from widgets.card import Card

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


def test_signals_are_discovered_through_the_meta_object(qtbot: QtBot) -> None:
    alert = Alert("x")
    button = Button("x")
    qtbot.addWidget(alert)
    qtbot.addWidget(button)
    assert "sig_closed()" in signal_signatures(alert)
    assert "clicked(bool)" in signal_signatures(button)
    assert "clicked()" not in signal_signatures(button)  # the richest overload only
    assert not any(s.startswith("destroyed") for s in signal_signatures(button))


def test_spy_logs_signals_of_the_root_and_kit_descendants(qtbot: QtBot) -> None:
    save = Button("Save")
    card = Card("Title", actions=[save])
    qtbot.addWidget(card)
    card.show()
    spy, log = SignalSpy(), SignalLog()
    qtbot.addWidget(log)
    spy.sig_emitted.connect(log.add)
    assert spy.watch(card) > 0
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    names = [(source, signature) for source, signature, _ in log.entries()]
    assert ("Button 'Save'", "pressed()") in names
    assert ("Button 'Save'", "clicked(bool)") in names
    clicked = next(args for _, sig, args in log.entries() if sig == "clicked(bool)")
    assert clicked == [False]
    assert "clicked(False)" in log._text.toPlainText()


def test_closing_an_alert_logs_sig_closed_once_and_clear_disconnects(qtbot: QtBot) -> None:
    alert = Alert("Saved", closable=True)
    qtbot.addWidget(alert)
    alert.show()
    spy, log = SignalSpy(), SignalLog()
    qtbot.addWidget(log)
    spy.sig_emitted.connect(log.add)
    spy.watch(alert)
    qtbot.mouseClick(alert._close, Qt.MouseButton.LeftButton)
    alert.dismiss()
    closed = [e for e in log.entries() if e[1] == "sig_closed()"]
    assert len(closed) == 1
    spy.clear()
    log.clear()
    alert.set_title("changed")
    alert.windowTitleChanged.emit("x")
    assert log.entries() == []
