"""Alert: kinds, icons, roles, closing once, auto-dismiss, wrapping, lists."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible, QCursor
from pytestqt.qtbot import QtBot

from widgets.alert import KINDS, Alert

# The offscreen platform warns when a top-level window gets size constraints.
pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_has_the_alert_role_and_a_spoken_name(qtbot: QtBot, kind: str) -> None:
    alert = Alert("Saved", kind=kind)
    qtbot.addWidget(alert)
    assert alert.property("kind") == kind
    interface = QAccessible.queryAccessibleInterface(alert)
    assert interface.role() == QAccessible.Role.AlertMessage
    assert alert.accessibleName().endswith(": Saved")


def test_closing_emits_sig_closed_exactly_once(qtbot: QtBot) -> None:
    alert = Alert("Saved", closable=True)
    qtbot.addWidget(alert)
    alert.show()
    received: list[bool] = []
    alert.sig_closed.connect(lambda: received.append(True))
    qtbot.mouseClick(alert._close, Qt.MouseButton.LeftButton)
    alert.dismiss()
    alert.dismiss()
    assert received == [True]
    assert alert.isHidden()
    assert alert.is_closed()


def test_close_button_is_keyboard_reachable_and_named(qtbot: QtBot) -> None:
    alert = Alert("Saved", closable=True)
    qtbot.addWidget(alert)
    alert.show()
    assert alert._close.accessibleName() == "Dismiss"
    alert._close.setFocus()
    with qtbot.waitSignal(alert.sig_closed, timeout=1000):
        qtbot.keyClick(alert._close, Qt.Key.Key_Space)


def test_escape_dismisses_only_a_closable_alert(qtbot: QtBot) -> None:
    alert = Alert("Saved")
    qtbot.addWidget(alert)
    alert.show()
    with qtbot.assertNotEmitted(alert.sig_closed):
        qtbot.keyClick(alert, Qt.Key.Key_Escape)
    alert.set_closable(True)
    with qtbot.waitSignal(alert.sig_closed, timeout=1000):
        qtbot.keyClick(alert, Qt.Key.Key_Escape)


def test_auto_dismiss_after_timeout(qtbot: QtBot) -> None:
    alert = Alert("Saved", kind="success", timeout_ms=50)
    qtbot.addWidget(alert)
    QCursor.setPos(5000, 5000)  # a pointer over the toast would pause it
    with qtbot.waitSignal(alert.sig_closed, timeout=2000):
        alert.show()
    assert alert.isHidden()


def test_long_messages_wrap_and_lists_are_escaped(qtbot: QtBot) -> None:
    alert = Alert("word " * 200, kind="warning", items=["<b>not bold</b>", "two"])
    qtbot.addWidget(alert)
    alert.resize(400, alert.heightForWidth(400))
    alert.show()
    assert alert._message.wordWrap()
    assert alert.width() <= 400
    assert alert._message.height() > alert._message.fontMetrics().height() * 5
    assert "&lt;b&gt;not bold&lt;/b&gt;" in alert._list.text()
    assert alert.items() == ["<b>not bold</b>", "two"]


def test_bad_kind_and_timeout_are_named(qtbot: QtBot) -> None:
    with pytest.raises(ValueError, match=r"^kind: must be one of info, success"):
        Alert("x", kind="fatal")
    alert = Alert("x", timeout_ms=10)
    qtbot.addWidget(alert)
    with pytest.raises(ValueError, match=r"^timeout_ms: must be 0 or more"):
        alert.set_timeout_ms(-1)
    assert alert.get_timeout_ms() == 10
