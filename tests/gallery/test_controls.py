"""Controls panel: editors per arg type, live edits, JSON validation, reset one and all."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QPlainTextEdit, QSpinBox
from pytestqt.qtbot import QtBot

from gallery.controls import ControlsPanel
from tests.gallery.conftest import story_of

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


@pytest.fixture
def panel(qtbot: QtBot) -> ControlsPanel:
    panel = ControlsPanel()
    qtbot.addWidget(panel)
    panel.set_story(story_of("Alert", "WithList")[1])
    panel.show()
    return panel


def test_editor_kinds_follow_the_arg_types(panel: ControlsPanel) -> None:
    assert isinstance(panel.editor("kind"), QComboBox)
    assert isinstance(panel.editor("title"), QLineEdit)
    assert isinstance(panel.editor("items"), QPlainTextEdit)
    assert isinstance(panel.editor("closable"), QCheckBox)
    assert isinstance(panel.editor("timeout_ms"), QSpinBox)
    assert panel.editor("kind").accessibleName() == "kind"


def test_each_edit_emits_the_complete_args(qtbot: QtBot, panel: ControlsPanel) -> None:
    combo = panel.editor("kind")
    assert isinstance(combo, QComboBox)
    with qtbot.waitSignal(panel.sig_args_changed) as blocker:
        combo.setCurrentIndex(combo.findData("success"))
    assert blocker.args[0]["kind"] == "success"
    assert blocker.args[0]["items"] == panel.values()["items"]
    line = panel.editor("title")
    with qtbot.waitSignal(panel.sig_args_changed) as blocker:
        qtbot.keyClicks(line, "!")
    assert blocker.args[0]["title"].endswith("!")
    checkbox = panel.editor("closable")
    checkbox.setFocus()
    with qtbot.waitSignal(panel.sig_args_changed) as blocker:
        qtbot.keyClick(checkbox, Qt.Key.Key_Space)
    assert blocker.args[0]["closable"] is True


def test_invalid_json_shows_the_rule_and_emits_nothing(qtbot: QtBot, panel: ControlsPanel) -> None:
    editor = panel.editor("items")
    assert isinstance(editor, QPlainTextEdit)
    before = panel.values()
    with qtbot.assertNotEmitted(panel.sig_args_changed):
        editor.setPlainText('["unclosed"')
    assert panel.error("items").startswith("items: not valid JSON")
    with qtbot.assertNotEmitted(panel.sig_args_changed):
        editor.setPlainText('{"not": "a list"}')
    assert panel.error("items") == "items: must be a JSON list"
    assert panel.values() == before
    with qtbot.waitSignal(panel.sig_args_changed) as blocker:
        editor.setPlainText('["one"]')
    assert blocker.args[0]["items"] == ["one"]
    assert panel.error("items") == ""


def test_reset_one_and_reset_all(qtbot: QtBot, panel: ControlsPanel) -> None:
    story = panel.story()
    assert story is not None
    panel.set_value("title", "changed")
    panel.set_value("timeout_ms", 1000)
    panel.reset("title")
    assert panel.values()["title"] == story.args["title"]
    assert panel.values()["timeout_ms"] == 1000
    with qtbot.waitSignal(panel.sig_args_changed) as blocker:
        panel.reset_all()
    assert blocker.args[0] == story.default_args()
    spin = panel.editor("timeout_ms")
    assert isinstance(spin, QSpinBox)
    assert spin.value() == 0


def test_set_value_rejects_bad_values_and_changes_nothing(panel: ControlsPanel) -> None:
    before = panel.values()
    with pytest.raises(ValueError, match="timeout_ms: must be between 0 and 60000"):
        panel.set_value("timeout_ms", 10**9)
    assert panel.values() == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 5000 + "]" * 5000, "items: nested too deeply (at most 64 levels)"),
        ("[" * 70 + "]" * 70, "items: nested too deeply (at most 64 levels)"),
        ("[" + "9" * 5000 + "]", "items: not valid JSON (a number of more than 4300 digits)"),
    ],
    ids=["recursion", "deep", "long-number"],
)
def test_json_the_parser_cannot_take_is_an_error_under_the_field(
    qtbot: QtBot, panel: ControlsPanel, text: str, message: str
) -> None:
    """Too deep raised RecursionError out of the slot (nothing shown); a 5,000-digit
    number gave an error without the field's name."""
    editor = panel.editor("items")
    assert isinstance(editor, QPlainTextEdit)
    before = panel.values()
    with qtbot.assertNotEmitted(panel.sig_args_changed):
        editor.setPlainText(text)
    assert panel.error("items") == message
    assert panel.values() == before
