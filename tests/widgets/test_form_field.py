"""FormField: label as accessible name and buddy, inline error with property and description."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from widgets.form_field import FormField

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


def test_the_label_names_the_input_and_is_its_buddy(qtbot: QtBot) -> None:
    host = QWidget()
    layout = QVBoxLayout(host)
    email = QLineEdit()
    field = FormField("&Email", email, required=True, hint="name@example.org")
    layout.addWidget(field)
    qtbot.addWidget(host)
    assert email.accessibleName() == "Email"
    assert field.label_text() == "Email"
    assert email.accessibleDescription() == "required. name@example.org"
    label = field.findChild(QLabel, "form_field_label")
    assert label is not None
    assert label.buddy() is email
    assert label.text() == "&Email *"


@pytest.mark.parametrize(
    ("error", "shown", "invalid"),
    [("must be a valid email address", True, True), ("", False, False), (None, False, False)],
)
def test_set_error_shows_the_rule_and_marks_the_input(
    qtbot: QtBot, error: str | None, shown: bool, invalid: bool
) -> None:
    editor = QLineEdit("ada@example")
    field = FormField("Email", editor)
    qtbot.addWidget(field)
    field.show()
    with qtbot.waitSignal(field.sig_error_changed, timeout=1000, raising=False) as blocker:
        field.set_error("something else first")
    assert blocker.args == ["something else first"]
    field.set_error(error)
    message = field.findChild(QLabel, "form_field_error")
    assert message is not None
    assert message.isVisible() is shown
    assert bool(editor.property("invalid")) is invalid
    assert field.error() == (error or "")
    assert editor.accessibleDescription() == (error or "")


def test_the_error_is_drawn_in_the_error_colour(qtbot: QtBot) -> None:
    from widgets.theme import current_colors

    field = FormField("Email", QLineEdit())
    qtbot.addWidget(field)
    field.set_error("must be a valid email address")
    field.show()
    message = field.findChild(QLabel, "form_field_error")
    assert message is not None
    colour = message.palette().color(message.foregroundRole()).name()
    assert colour == current_colors().error_text


def test_clearing_and_hints_and_any_editor(qtbot: QtBot) -> None:
    combo = QComboBox()
    field = FormField("Preferred contact", combo)
    qtbot.addWidget(field)
    field.set_error("must be one of: email, sms, none")
    field.clear_error()
    assert field.error() == ""
    assert combo.accessibleName() == "Preferred contact"
    field.set_hint("How reminders reach the owner")
    assert combo.accessibleDescription() == "How reminders reach the owner"
    assert field.editor() is combo
