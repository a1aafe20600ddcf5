"""The workflow builder: every template round-trips canvas -> document -> canvas unchanged;
edits are undoable; the keyboard does everything; rules show under their fields."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from purplecross_desktop.database import make_engine, make_session_factory
from purplecross_desktop.database.session import upgrade
from purplecross_desktop.domain.staff import StaffData, StaffRole
from purplecross_desktop.domain.webhooks import SecretBox, WebhookService
from purplecross_desktop.services import build_services
from purplecross_desktop.staff_session import StaffSession
from purplecross_desktop.ui.workflow_builder.builder import WorkflowBuilder
from purplecross_desktop.ui.workflow_builder.outline_model import OutlineModel
from purplecross_desktop.workflows.document import load, loads, parse_text, template_paths
from tests.purplecross_desktop.ui.keyboard import activate
from widgets.theme import current_colors

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]
TEMPLATES = template_paths()
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
#: A popup menu on the offscreen platform (it can neither raise nor grab the keyboard).
POPUP = pytest.mark.qt_log_ignore(
    "propagateSizeHints", "does not support raise", "does not support grabbing"
)


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
    assert builder.connect_steps("booked", "then", "second_notice")
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


# Connecting steps: drag from a port onto a node, or Connect to… from the keyboard -------


def _ids(steps: list[dict[str, Any]]) -> list[str]:
    return [str(s["id"]) for s in steps]


def _drag(qtbot: QtBot, builder: WorkflowBuilder, start: QPoint, end: QPoint) -> None:
    """Press on ``start``, move in steps (the dashed line follows), release on ``end``."""
    viewport = builder.canvas.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, 5):
        QTest.mouseMove(viewport, start + (end - start) * (i / 4))
    assert builder.canvas.dragging()
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    assert not builder.canvas.dragging()


@pytest.fixture
def shown(builder: WorkflowBuilder, qtbot: QtBot) -> WorkflowBuilder:
    builder.resize(1300, 900)
    builder.show()
    qtbot.waitExposed(builder)
    return builder


def test_dragging_a_port_onto_a_step_connects_them_undoably(
    shown: WorkflowBuilder, qtbot: QtBot, tmp_path: Path
) -> None:
    builder = shown
    builder.load_text(TEMPLATES["new-client-welcome"].read_text("utf-8"))
    canvas = builder.canvas
    before = builder.document.data
    assert _ids(before["steps"]) == ["settle", "welcome", "note"]
    assert ("", "next", "settle") in builder.document.edges()

    # The trigger's port onto "note": note runs first, the rest after it.
    viewport = canvas.viewport()
    start, end = canvas.port_point(""), canvas.node_point("note")
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(viewport, (start + end) / 2)
    QTest.mouseMove(viewport, end)
    assert canvas.nodes["note"].drop_state == "ok"
    canvas.grab().save(str(tmp_path / "dragging.png"))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    after = builder.document.data
    assert _ids(after["steps"]) == ["note", "settle", "welcome"]
    assert builder.document.edges()[:2] == [("", "next", "note"), ("note", "next", "settle")]
    assert canvas.selected() == "note"
    # The document is the file: the connection is in the YAML and comes back from it.
    assert parse_text(builder.export_text()) == after
    assert builder.undo_action.toolTip() == "Undo Connect trigger next → note"

    builder.undo_action.trigger()
    assert builder.document.data == before
    builder.redo_action.trigger()
    assert builder.document.data == after


def test_a_connection_into_a_branch_moves_the_step_with_its_arm(
    shown: WorkflowBuilder, qtbot: QtBot
) -> None:
    builder = shown
    builder.load_text(TEMPLATES["vaccination-due"].read_text("utf-8"))
    builder.canvas.zoom(0.7)
    before = builder.document.data
    booked = before["steps"][2]
    assert (_ids(booked["then"]), _ids(booked["else"])) == (["done"], ["second_notice"])
    _drag(
        qtbot,
        builder,
        builder.canvas.port_point("booked", "then"),
        builder.canvas.node_point("second_notice"),
    )
    booked = builder.document.data["steps"][2]
    assert _ids(booked["then"]) == ["second_notice", "done"]
    assert "else" not in booked  # an emptied arm goes, rather than stay as "else: []"
    assert ("booked", "then", "second_notice") in builder.document.edges()
    builder.undo_action.trigger()
    assert builder.document.data == before


@pytest.mark.parametrize(
    ("source", "port", "target", "message"),
    [
        (
            "note",
            "next",
            "settle",
            "Cannot connect 'note' to 'settle': 'settle' already runs before 'note', so the "
            "workflow would loop back (a cycle).",
        ),
        ("welcome", "next", "", "The trigger starts the workflow: no step can lead into it."),
    ],
)
def test_a_cycle_or_the_trigger_as_target_is_refused_with_its_reason(
    shown: WorkflowBuilder, qtbot: QtBot, source: str, port: str, target: str, message: str
) -> None:
    builder = shown
    builder.load_text(TEMPLATES["new-client-welcome"].read_text("utf-8"))
    before = builder.document.data
    start = builder.canvas.port_point(source, port)
    _drag(qtbot, builder, start, builder.canvas.node_point(target))
    assert builder.document.data == before
    assert builder.document.undo_stack.count() == 0
    assert builder.status.text().startswith(message)
    assert builder.status.styleSheet() == f"color: {current_colors().error_text};"


def test_a_branch_cannot_be_connected_into_itself(builder: WorkflowBuilder) -> None:
    builder.load_text(TEMPLATES["vaccination-due"].read_text("utf-8"))
    before = builder.document.data
    assert not builder.connect_steps("done", "next", "booked")
    assert "'done' is inside 'booked'" in builder.status.text()
    assert not builder.connect_steps("second_notice", "next", "email_owner")
    assert "a cycle" in builder.status.text()
    assert builder.document.data == before


@POPUP
def test_connect_to_is_the_keyboard_way(builder: WorkflowBuilder, qtbot: QtBot) -> None:
    builder.load_text(TEMPLATES["new-client-welcome"].read_text("utf-8"))
    activate(qtbot, builder)
    canvas = builder.canvas
    canvas.setFocus()
    canvas.select("note")
    qtbot.keyClick(canvas, Qt.Key.Key_C, CTRL_SHIFT)
    menu = builder.connect_menu
    qtbot.waitUntil(menu.isVisible)
    offered = {a.data()[2]: a for a in menu.actions()}
    assert set(offered) == {"settle", "welcome"}
    assert not offered["settle"].isEnabled()  # it runs before note: a cycle
    assert "a cycle" in offered["settle"].toolTip()
    menu.hide()

    canvas.select("settle")
    qtbot.keyClick(canvas, Qt.Key.Key_C, CTRL_SHIFT)
    qtbot.waitUntil(menu.isVisible)
    assert [a.data()[2] for a in menu.actions()] == ["welcome", "note"]
    qtbot.keyClick(menu, Qt.Key.Key_Down)
    qtbot.keyClick(menu, Qt.Key.Key_Down)
    assert menu.activeAction().data() == ("settle", "next", "note")
    qtbot.keyClick(menu, Qt.Key.Key_Return)
    assert _ids(builder.document.data["steps"]) == ["settle", "note", "welcome"]
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert _ids(builder.document.data["steps"]) == ["settle", "welcome", "note"]


@POPUP
def test_a_branch_offers_a_menu_per_port(builder: WorkflowBuilder) -> None:
    builder.load_text(TEMPLATES["vaccination-due"].read_text("utf-8"))
    builder.canvas.select("booked")
    menu = builder.open_connect_menu()
    menu.hide()
    ports = [a.text().split(":")[0] for a in menu.actions()]
    assert ports == ["then", "else", "next"]
    then = menu.actions()[0].menu()
    choice = next(a for a in then.actions() if a.data()[2] == "second_notice")
    choice.trigger()
    assert _ids(builder.document.data["steps"][2]["then"]) == ["second_notice", "done"]


# The endpoint picker of http_request -----------------------------------------------------


@pytest.fixture
def webhooks(tmp_path: Path) -> Iterator[WebhookService]:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    upgrade(url)
    engine = make_engine(url)
    session = StaffSession()
    services = build_services(make_session_factory(engine), current_actor=session.actor)
    admin = services.staff.create_first_admin(
        StaffData("Alex Admin", StaffRole.ADMIN, "admin"), "a long enough password"
    )
    session.sign_in(admin)
    yield WebhookService(
        make_session_factory(engine),
        services.events,
        SecretBox(b"test signing key"),
        current_actor=session.actor,
    )
    engine.dispose()


def _http_step(builder: WorkflowBuilder, endpoint_id: int | None) -> str:
    builder.load_text(TEMPLATES["new-client-welcome"].read_text("utf-8"))
    builder.canvas.select("note")
    step = builder.add_step("http_request")
    builder.document.set_input(step, "endpoint_id", endpoint_id)
    builder.canvas.select(step)
    return step


def test_the_endpoint_picker_lists_the_registered_endpoints(
    builder: WorkflowBuilder, webhooks: WebhookService, qtbot: QtBot, tmp_path: Path
) -> None:
    lab = webhooks.create("https://lab.example.org/hook", ["client.*"], "Lab results bridge")
    crm = webhooks.create("https://crm.example.org/in", ["appointment.*"], "CRM")
    webhooks.disable(crm.endpoint.id, reason="moving")
    builder.set_endpoints(webhooks.endpoints())
    # A refresh that changes nothing rebuilds nothing (a field being typed in survives it).
    with qtbot.assertNotEmitted(builder.document.sig_document_changed):
        builder.set_endpoints(webhooks.endpoints())
    step = _http_step(builder, None)
    picker = builder.properties.editors["with.endpoint_id"]
    assert isinstance(picker, QComboBox)
    texts = [picker.itemText(i) for i in range(picker.count())]
    assert texts == [
        "Choose a webhook endpoint…",
        f"{lab.endpoint.id}: https://lab.example.org/hook (Lab results bridge)",
        f"{crm.endpoint.id}: https://crm.example.org/in (CRM) [disabled]",
    ]
    assert "is required by http_request" in builder.properties.error_text("with.endpoint_id")

    picker.activated.emit(1)
    assert builder.document.step(step)["with"]["endpoint_id"] == lab.endpoint.id
    picker = builder.properties.editors["with.endpoint_id"]
    assert isinstance(picker, QComboBox)
    assert picker.currentData() == lab.endpoint.id
    assert builder.properties.error_text("with.endpoint_id") == ""
    assert builder.status.text().endswith("no problems")
    builder.grab().save(str(tmp_path / "endpoint-picker.png"))
    assert "endpoint_id: " + str(lab.endpoint.id) in builder.export_text()

    # Disabled, or removed since it was chosen: the rule shows and saving is off.
    picker.activated.emit(2)
    assert "is disabled" in builder.properties.error_text("with.endpoint_id")
    assert not builder.save_action.isEnabled()
    webhooks.remove(lab.endpoint.id)
    builder.document.set_input(step, "endpoint_id", lab.endpoint.id)
    builder.set_endpoints(webhooks.endpoints())
    picker = builder.properties.editors["with.endpoint_id"]
    assert isinstance(picker, QComboBox)
    assert picker.currentText() == f"{lab.endpoint.id}: not registered"
    assert builder.properties.error_text("with.endpoint_id") == (
        f"webhook endpoint {lab.endpoint.id} is not registered (any more): pick another"
    )
    assert not builder.save_action.isEnabled()


def test_without_the_endpoint_list_the_field_takes_a_number_and_says_why(
    builder: WorkflowBuilder,
) -> None:
    builder.set_endpoints(None, "Only an admin can list the webhook endpoints.")
    step = _http_step(builder, 4)
    editor = builder.properties.editors["with.endpoint_id"]
    assert isinstance(editor, QLineEdit)
    assert editor.text() == "4"
    labels = [w.text() for w in builder.properties.findChildren(QLabel)]
    assert "Only an admin can list the webhook endpoints." in labels
    assert builder.document.step(step)["with"]["endpoint_id"] == 4
    assert builder.status.text().endswith("no problems")  # not checkable: not refused
