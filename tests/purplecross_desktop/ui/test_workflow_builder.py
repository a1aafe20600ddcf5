"""The workflow builder: every template round-trips canvas -> document -> canvas unchanged;
edits are undoable; the keyboard does everything; rules show under their fields."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from purplecross_desktop.ui.workflow_builder.builder import WorkflowBuilder
from purplecross_desktop.ui.workflow_builder.outline_model import OutlineModel
from purplecross_desktop.workflows.document import load, loads, template_paths
from tests.purplecross_desktop.ui.keyboard import activate

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]
TEMPLATES = template_paths()


@pytest.fixture
def builder(qtbot: QtBot) -> WorkflowBuilder:
    widget = WorkflowBuilder(TEMPLATES)
    qtbot.addWidget(widget)
    widget.resize(1200, 700)
    return widget


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_template_round_trips_through_the_builder(
    builder: WorkflowBuilder, name: str
) -> None:
    original = load(TEMPLATES[name])
    builder.load_text(TEMPLATES[name].read_text("utf-8"))
    nodes = {k: (n.pos().x(), n.pos().y()) for k, n in builder.canvas.nodes.items()}
    assert set(nodes) == {"", *(s["id"] for s in original.steps())}
    exported = builder.export_text()
    assert loads(exported).data == original.data
    builder.load_text(exported)
    assert {k: (n.pos().x(), n.pos().y()) for k, n in builder.canvas.nodes.items()} == nodes
    assert builder.document.data == original.data
    assert builder.status.text().endswith("no problems")


def test_the_outline_model_passes_the_model_tester(
    builder: WorkflowBuilder, qtmodeltester: ModelTester
) -> None:
    builder.load_text(TEMPLATES["vaccination-due"].read_text("utf-8"))
    model = OutlineModel(builder.document)
    qtmodeltester.check(model)
    builder.document.add_step("stop", after="email_owner")
    qtmodeltester.check(model)
    labels = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert labels[0] == "Trigger: date vaccination.next_due_on"
    assert labels[1] == "Email the owner (send_email)"


def test_edits_are_undone_and_redone_exactly(builder: WorkflowBuilder) -> None:
    builder.load_text(TEMPLATES["no-show-follow-up"].read_text("utf-8"))
    before = copy.deepcopy(builder.document.data)
    builder.canvas.select("next_morning")
    builder.document.set_input("next_morning", "at", "10:30")
    new = builder.add_step("staff_task")
    builder.document.move_step(new, -1)
    builder.document.remove_step("kind_email")
    after = copy.deepcopy(builder.document.data)
    assert after != before
    for _ in range(4):
        builder.undo_action.trigger()
    assert builder.document.data == before
    for _ in range(4):
        builder.redo_action.trigger()
    assert builder.document.data == after


def test_the_keyboard_walks_moves_removes_and_zooms(builder: WorkflowBuilder, qtbot: QtBot) -> None:
    builder.load_text(TEMPLATES["new-client-welcome"].read_text("utf-8"))
    activate(qtbot, builder)
    canvas = builder.canvas
    canvas.setFocus()
    canvas.select("")
    qtbot.keyClick(canvas, Qt.Key.Key_Down)
    assert canvas.selected() == "settle"
    assert builder.properties.heading.text() == "Step settle (wait)"
    qtbot.keyClick(canvas, Qt.Key.Key_Down)
    assert canvas.selected() == "welcome"
    qtbot.keyClick(canvas, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert [s["id"] for s in builder.document.data["steps"]] == ["welcome", "settle", "note"]
    qtbot.keyClick(canvas, Qt.Key.Key_Plus)
    assert canvas.zoom_level() == pytest.approx(1.2)
    qtbot.keyClick(canvas, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert canvas.zoom_level() == pytest.approx(1.0)
    canvas.select("note")
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    assert [s["id"] for s in builder.document.data["steps"]] == ["welcome", "settle"]
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert [s["id"] for s in builder.document.data["steps"]] == ["welcome", "settle", "note"]


def test_a_broken_rule_shows_under_its_field_and_blocks_saving(
    builder: WorkflowBuilder, qtbot: QtBot
) -> None:
    builder.load_text(TEMPLATES["new-client-welcome"].read_text("utf-8"))
    builder.canvas.select("welcome")
    editor = builder.properties.editors["with.subject"]
    editor.setText("")
    editor.setModified(True)
    editor.editingFinished.emit()
    assert builder.properties.error_text("with.subject") == "is required by send_email"
    assert "step 'welcome', with.subject: is required by send_email" in builder.status.text()
    assert not builder.save_action.isEnabled()
    with qtbot.assertNotEmitted(builder.sig_save_requested):
        builder.request_save()
    builder.undo_action.trigger()
    assert builder.save_action.isEnabled()
    with qtbot.waitSignal(builder.sig_save_requested) as saved:
        builder.request_save()
    assert saved.args[0]["steps"][1]["with"]["subject"].startswith("Welcome")


def test_the_value_picker_offers_trigger_fields_and_earlier_outputs(
    builder: WorkflowBuilder,
) -> None:
    from PySide6.QtWidgets import QToolButton

    builder.load_text(TEMPLATES["new-client-welcome"].read_text("utf-8"))
    builder.canvas.select("note")
    editor = builder.properties.editors["with.text"]
    button = editor.parentWidget().findChild(QToolButton)
    offered = [a.text() for a in button.menu().actions()]
    assert "trigger.client_name" in offered
    assert offered[-3:] == ["steps.settle.resumed_at", "steps.welcome.job_id", "steps.welcome.to"]
    editor.clear()
    next(a for a in button.menu().actions() if a.text() == "steps.welcome.to").trigger()
    assert builder.document.step("note")["with"]["text"] == "{{ steps.welcome.to }}"
    assert builder.document.earlier_outputs("settle") == []


def test_a_changed_timing_is_a_new_document_that_still_checks(
    builder: WorkflowBuilder, tmp_path: Path
) -> None:
    builder.load_text(TEMPLATES["vaccination-due"].read_text("utf-8"))
    builder.canvas.select("wait_booked")
    editor = builder.properties.editors["with.timeout"]
    assert editor.text() == '{"days": 11}'
    editor.setText('{"days": 9}')
    editor.setModified(True)
    editor.editingFinished.emit()
    data = builder.document.data
    assert data["steps"][1]["with"]["timeout"] == {"days": 9}
    assert builder.status.text().endswith("no problems")


def test_the_builder_offers_the_webhook_and_report_actions_with_their_inputs(
    builder: WorkflowBuilder, tmp_path: Path
) -> None:
    offered = [a.text() for a in builder.add_menu.actions()]
    assert {"http_request", "generate_report"} <= set(offered)
    builder.load_text(TEMPLATES["new-client-welcome"].read_text("utf-8"))
    step = builder.add_step("generate_report")
    builder.canvas.select(step)
    labels = {label.text() for label in builder.properties.findChildren(QLabel)}
    assert {"kind", "format", "start", "end"} <= {t.rstrip(" *:") for t in labels}
    builder.grab().save(str(tmp_path / "builder-report-step.png"))
