"""Run workflow… on a client's and a patient's record: the manual workflows that take the
record's id, their inputs prefilled, the run started as the signed-in staff member from that
record; front desks are refused by the engine, and a wrong input names the field and starts
nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot

from purplecross_desktop.app import build_window, start_jobs_runtime
from purplecross_desktop.database.base import ClientId
from purplecross_desktop.domain.audit import AuditEntry
from purplecross_desktop.domain.errors import PermissionDenied
from purplecross_desktop.domain.staff import StaffRole
from purplecross_desktop.ui.dialogs.run_workflow import RunWorkflowDialog
from purplecross_desktop.ui.pages.workflows_page import WorkflowsPage
from purplecross_desktop.ui.records.client_record import ClientRecordDialog, open_client_record
from purplecross_desktop.ui.records.patient_record import PatientRecordDialog
from purplecross_desktop.workflows.document import Document
from purplecross_desktop.workflows.models import WorkflowRun
from tests.purplecross_desktop.ui.desk_support import SeededDesk, seed_desk
from tests.purplecross_desktop.ui.keyboard import activate, focused, press, tab, type_text
from tests.support.staff import sign_in

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


def _manual(
    name: str, inputs: dict[str, str], entity: str, *, enabled: bool = True, target: Any = None
) -> Document:
    return Document.from_data(
        {
            "name": name,
            "description": f"{name}: a dated line in the {entity}'s notes.",
            "trigger": {"type": "manual", "inputs": inputs},
            "steps": [
                {
                    "id": "note",
                    "action": "add_note",
                    "with": {
                        "entity": entity,
                        "id": target or f"{{{{ trigger.{entity}_id }}}}",
                        "text": "{{ trigger.note }}",
                    },
                }
            ],
            "settings": {"enabled": enabled},
        }
    )


@pytest.fixture
def desk(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SeededDesk]:
    seeded = seed_desk(database_url, monkeypatch)
    services = seeded.context.services
    assert services is not None
    for document in (
        _manual("Client call", {"client_id": "integer", "note": "text"}, "client"),
        _manual(
            "Pet check-in",
            {"patient_id": "integer", "client_id": "integer", "note": "text"},
            "patient",
        ),
        _manual(
            "Clinic memo", {"note": "text"}, "client", target=1
        ),  # takes no record: not offered
        _manual("Old call", {"client_id": "integer", "note": "text"}, "client", enabled=False),
    ):
        services.workflows.save(document)
    start_jobs_runtime(seeded.context)
    yield seeded
    seeded.close()


def _runs(desk: SeededDesk) -> list[WorkflowRun]:
    with desk.context.session_factory() as session:
        return list(session.scalars(sa.select(WorkflowRun).order_by(WorkflowRun.id)))


def _started_audits(desk: SeededDesk) -> list[AuditEntry]:
    with desk.context.session_factory() as session:
        return list(
            session.scalars(
                sa.select(AuditEntry).where(
                    AuditEntry.entity == "workflow_run", AuditEntry.action == "started"
                )
            )
        )


def _dialog(qtbot: QtBot) -> RunWorkflowDialog:
    found: list[RunWorkflowDialog] = []

    def seen() -> bool:
        found[:] = [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, RunWorkflowDialog) and w.isVisible()
        ]
        return bool(found)

    qtbot.waitUntil(seen, timeout=10000)
    dialog = found[0]
    qtbot.waitUntil(lambda: dialog.workflow_box.isEnabled(), timeout=10000)
    # The inputs' editors are shown by the event loop after they join the layout.
    qtbot.waitUntil(lambda: all(e.isVisible() for e in dialog.editors.values()), timeout=5000)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=5000)
    return dialog


def _line(dialog: RunWorkflowDialog, name: str) -> QLineEdit:
    editor = dialog.editors[name]
    assert isinstance(editor, QLineEdit)
    return editor


def test_a_practice_manager_starts_a_workflow_from_a_client_by_keyboard(
    qtbot: QtBot, desk: SeededDesk
) -> None:
    context = desk.context
    manager = sign_in(context, StaffRole.PRACTICE_MANAGER)
    window = build_window(context)
    qtbot.addWidget(window)
    activate(qtbot, window)
    record = open_client_record(context, window, desk.client_id)
    with qtbot.waitSignal(record.sig_loaded, timeout=10000):
        pass
    assert record.workflow_button.isVisible()
    assert record.workflow_button.isEnabled()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is record, timeout=5000)
    press(qtbot, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    dialog = _dialog(qtbot)
    # Only the enabled manual workflows that take a client_id; its id is filled in.
    names = [dialog.workflow_box.itemText(i) for i in range(dialog.workflow_box.count())]
    assert names == ["Client call", "Pet check-in"]
    assert focused() is dialog.workflow_box
    assert list(dialog.editors) == ["client_id", "note"]
    assert _line(dialog, "client_id").text() == str(desk.client_id)
    tab(qtbot, 2)  # past the client's id to the note
    assert focused() is dialog.editors["note"]
    type_text(qtbot, "Called about the booster")
    dialog.grab().save("/tmp/run-workflow-client.png")
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.run_id is not None, timeout=20000)
    qtbot.wait(50)  # the layout settles before the picture
    dialog.grab().save("/tmp/run-workflow-started.png")
    assert dialog.started.isVisible()
    assert f"Run {dialog.run_id} of “Client call” started" in dialog.started.get_message()

    (run,) = _runs(desk)
    assert run.id == dialog.run_id
    assert run.context["trigger"]["inputs"] == {
        "client_id": desk.client_id,
        "note": "Called about the booster",
    }
    assert run.context["started"] == {
        "by": manager.staff_id,
        "by_name": manager.name,
        "record": {"entity": "client", "id": desk.client_id, "name": "Ada Lovelace"},
    }
    (audit,) = _started_audits(desk)
    assert (audit.staff_id, audit.entity_id) == (manager.staff_id, run.id)
    assert audit.changes["record"] == [None, f"client {desk.client_id}"]

    # Enter again opens the run on the Workflows page (the record closes to show it).
    run_id = dialog.run_id
    assert focused() is dialog.primary
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not record.isVisible(), timeout=5000)
    page = window.current_page()
    assert isinstance(page, WorkflowsPage)
    assert page.tabs.currentWidget() is page.runs_tab
    qtbot.waitUntil(
        lambda: page.timeline.toPlainText().startswith(f"Run {run_id} of Client call"),
        timeout=10000,
    )
    assert (
        f"started by hand by {manager.name} from client {desk.client_id} (Ada Lovelace)"
        in page.timeline.toPlainText()
    )


def test_the_patient_record_offers_patient_workflows_with_the_owner_filled_in(
    qtbot: QtBot, desk: SeededDesk
) -> None:
    manager = sign_in(desk.context, StaffRole.PRACTICE_MANAGER)
    rex = desk.patient_ids[0]
    record = PatientRecordDialog(desk.context, rex)
    qtbot.addWidget(record)
    with qtbot.waitSignal(record.sig_loaded, timeout=10000):
        activate(qtbot, record)
    press(qtbot, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    dialog = _dialog(qtbot)
    assert [dialog.workflow_box.itemText(i) for i in range(dialog.workflow_box.count())] == [
        "Pet check-in"
    ]
    assert _line(dialog, "patient_id").text() == str(rex)
    assert _line(dialog, "client_id").text() == str(desk.client_id)
    _line(dialog, "note").setText("Post-op check")
    dialog.grab().save("/tmp/run-workflow-patient.png")
    dialog.primary.click()
    qtbot.waitUntil(lambda: dialog.run_id is not None, timeout=20000)
    (run,) = _runs(desk)
    assert run.context["trigger"]["inputs"] == {
        "patient_id": rex,
        "client_id": desk.client_id,
        "note": "Post-op check",
    }
    assert run.context["started"]["by"] == manager.staff_id
    assert run.context["started"]["record"] == {"entity": "patient", "id": rex, "name": "Rex"}


def test_a_front_desk_is_refused_by_the_engine_and_sees_no_action(
    qtbot: QtBot, desk: SeededDesk
) -> None:
    front = sign_in(desk.context, StaffRole.FRONT_DESK)
    record = ClientRecordDialog(desk.context, desk.client_id)
    qtbot.addWidget(record)
    with qtbot.waitSignal(record.sig_loaded, timeout=10000):
        activate(qtbot, record)
    assert record.workflow_button.isHidden()
    assert record.run_workflow() is None
    engine: Any = desk.context.job_runtime().platform.services["workflows"]
    with pytest.raises(
        PermissionDenied, match="only practice manager or admin staff may manage workflows"
    ):
        engine.start_manual(
            "Client call",
            {"client_id": desk.client_id, "note": "x"},
            record=("client", desk.client_id),
        )
    with pytest.raises(PermissionDenied):  # named explicitly, the same refusal
        engine.start_manual("Client call", {"client_id": 1, "note": "x"}, actor=front.staff_id)
    assert _runs(desk) == []
    assert _started_audits(desk) == []


def test_an_invalid_input_names_the_field_and_starts_nothing(
    qtbot: QtBot, desk: SeededDesk
) -> None:
    sign_in(desk.context)  # an admin
    services = desk.context.services
    assert services is not None
    notes_before = services.clients.get(ClientId(desk.client_id)).notes
    record = ClientRecordDialog(desk.context, desk.client_id)
    qtbot.addWidget(record)
    with qtbot.waitSignal(record.sig_loaded, timeout=10000):
        activate(qtbot, record)
    record.workflow_button.click()
    dialog = _dialog(qtbot)
    _line(dialog, "client_id").setText("twelve")
    dialog.primary.click()
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=20000)
    assert not dialog.primary.is_loading()
    label = dialog.field_errors["inputs.client_id"]
    assert label.isVisible()
    assert label.text() == "must be integer"
    assert dialog.field_errors["inputs.note"].text() == "is required (text)"
    message = dialog.error.get_message()
    assert message.startswith("Nothing was started.")
    assert "client_id: must be integer" in message
    assert "note: is required (text)" in message
    assert focused() is dialog.editors["client_id"]
    qtbot.wait(50)
    dialog.grab().save("/tmp/run-workflow-invalid.png")
    assert dialog.run_id is None
    assert _runs(desk) == []
    assert _started_audits(desk) == []
    assert services.clients.get(ClientId(desk.client_id)).notes == notes_before


def test_a_client_with_one_pet_has_it_filled_in_as_the_patient(
    qtbot: QtBot, desk: SeededDesk
) -> None:
    sign_in(desk.context, StaffRole.PRACTICE_MANAGER)
    services = desk.context.services
    assert services is not None
    tom = desk.patient_ids[2]
    bob = services.patients.get(tom).client_id  # Bob Stone has Tom only
    record = ClientRecordDialog(desk.context, bob)
    qtbot.addWidget(record)
    with qtbot.waitSignal(record.sig_loaded, timeout=10000):
        activate(qtbot, record)
    record.run_workflow()
    dialog = _dialog(qtbot)
    dialog.workflow_box.setCurrentIndex(1)  # "Pet check-in" takes both ids
    assert dialog.current() is not None
    assert dialog.current().name == "Pet check-in"  # type: ignore[union-attr]
    assert _line(dialog, "client_id").text() == str(bob)
    assert _line(dialog, "patient_id").text() == str(tom)
