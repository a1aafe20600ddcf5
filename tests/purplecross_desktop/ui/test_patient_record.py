"""Patients: the record (alerts in plain sight, weight chart, vaccinations with next-due
dates, prescriptions, visits, invoices), the forms, and marking a patient deceased."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from purplecross_desktop.database.base import PatientId, StaffId
from purplecross_desktop.domain.appointments import AppointmentStatus
from purplecross_desktop.domain.audit import AuditEntry
from purplecross_desktop.domain.medical import PrescriptionData, VaccinationData
from purplecross_desktop.ui.dialogs.patient_form import PatientFormDialog, parse_alerts
from purplecross_desktop.ui.pages.patients_page import PatientsPage
from purplecross_desktop.ui.records.patient_record import (
    DeceasedDialog,
    PatientRecordDialog,
    age_text,
)
from tests.purplecross_desktop.ui.desk_support import SeededDesk, seed_desk
from tests.purplecross_desktop.ui.keyboard import activate, focused, type_text

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


@pytest.fixture
def desk(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SeededDesk]:
    seeded = seed_desk(database_url, monkeypatch)
    services = seeded.context.services
    assert services is not None
    rex = PatientId(seeded.patient_ids[0])
    today = dt.datetime.now(dt.UTC).date()
    for days_ago, kg in ((400, "24.0"), (200, "26.5"), (10, "25.1")):
        services.patients.record_weight(rex, kg, measured_on=today - dt.timedelta(days=days_ago))
    services.medical.record_vaccination(
        VaccinationData(
            rex,
            "Rabies",
            today - dt.timedelta(days=350),
            next_due_on=today + dt.timedelta(days=15),
            batch_number="RB-1",
        )
    )
    services.medical.prescribe(
        PrescriptionData(
            rex, StaffId(seeded.vet_ids[0]), "Carprofen", "50 mg", "twice daily", today
        )
    )
    yield seeded
    seeded.close()


def _open(qtbot: QtBot, desk: SeededDesk, patient_id: int) -> PatientRecordDialog:
    dialog = PatientRecordDialog(desk.context, patient_id)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.sig_loaded, timeout=10000):
        dialog.show()
    return dialog


def test_the_record_puts_alerts_first_and_shows_the_history(qtbot: QtBot, desk: SeededDesk) -> None:
    dialog = _open(qtbot, desk, desk.patient_ids[0])
    assert dialog.heading.text() == "Rex"
    assert dialog.alerts.isVisible()
    assert dialog.alerts.get_message() == "Bites · Allergic to penicillin"
    assert dialog.alerts.get_kind() == "error"
    assert dialog.owner_button.text() == "Owner: Ada Lovelace"
    assert dialog.details["weight"].text().startswith("25.1 kg")
    assert dialog.details["balance"].text() == "Owes £42.50"
    assert [p.value for p in dialog.chart.points()] == [24.0, 26.5, 25.1]
    assert "25.1 kg" in dialog.chart.accessibleDescription()
    assert dialog.vaccinations.text(0, 0) == "Rabies"
    assert dialog.vaccinations.text(0, 2).endswith("(due soon)")
    assert dialog.prescriptions.text(0, 0) == "Carprofen"
    assert dialog.prescriptions.text(0, 4) == "ongoing"
    assert dialog.visits.row_count() == 1
    assert dialog.tabs.tabText(0) == "Weight (3)"


def test_a_patient_without_alerts_shows_no_alert_box(qtbot: QtBot, desk: SeededDesk) -> None:
    dialog = _open(qtbot, desk, desk.patient_ids[1])  # Bella
    assert not dialog.alerts.isVisible()
    assert dialog.chart.points() == ()


def test_mark_deceased_cancels_the_upcoming_visit_as_the_signed_in_staff(
    qtbot: QtBot, desk: SeededDesk
) -> None:
    services = desk.context.services
    assert services is not None
    dialog = _open(qtbot, desk, desk.patient_ids[0])
    confirm = dialog.mark_deceased()
    assert isinstance(confirm, DeceasedDialog)
    assert "1 upcoming appointment will be cancelled" in confirm.body.itemAt(0).widget().text()  # type: ignore[union-attr]
    activate(qtbot, confirm)
    qtbot.keyClick(confirm.day, Qt.Key.Key_Return)  # Enter alone records no death
    assert confirm.isVisible()
    confirm.day.setText("tomorrow")
    confirm.primary.click()
    qtbot.waitUntil(lambda: confirm.field_errors["deceased_on"].isVisible(), timeout=5000)
    assert "must be a date" in confirm.field_errors["deceased_on"].text()
    confirm.day.setText(dt.datetime.now(dt.UTC).date().isoformat())
    with qtbot.waitSignal(dialog.sig_loaded, timeout=10000):
        confirm.primary.click()
    assert dialog.deceased_note.isVisible()
    assert not dialog.deceased_button.isEnabled()
    assert not dialog.book_button.isEnabled()
    appointment = services.appointments.get(desk.appointments[0].id)  # type: ignore[arg-type]
    assert appointment.status is AppointmentStatus.CANCELLED
    signed = desk.context.staff_session.current
    assert signed is not None
    with desk.context.session_factory() as session:
        actors = set(
            session.scalars(
                sa.select(AuditEntry.staff_id).where(
                    AuditEntry.action.in_(["deceased", "status_changed"]),
                    AuditEntry.entity.in_(["patient", "appointment"]),
                )
            )
        )
    assert actors == {signed.staff_id}


def test_new_patient_finds_the_owner_by_phone_and_saves_with_a_weight(
    qtbot: QtBot, desk: SeededDesk
) -> None:
    services = desk.context.services
    assert services is not None
    from purplecross_desktop.database.base import ClientId
    from purplecross_desktop.domain.clients import Phone

    services.clients.update(ClientId(desk.client_id), {"phones": (Phone("07700 900123"),)})
    page = PatientsPage(desk.context)
    qtbot.addWidget(page)
    dialog = page.create_new()
    activate(qtbot, dialog)
    assert focused() is dialog.owner  # keys go on to its line edit
    type_text(qtbot, "900123")
    qtbot.waitUntil(lambda: dialog.owner.count() == 1, timeout=10000)
    assert dialog.owner.currentData() == desk.client_id
    dialog.name.setText("Pip")
    dialog.microchip.setText("123")
    dialog.weight.setText("0")
    dialog.date_of_birth.setText("31/02/2020")
    dialog.save()
    assert "must be a date" in dialog.fields["date_of_birth"].error()  # caught before saving
    dialog.date_of_birth.setText("2020-02-29")
    dialog.save()
    qtbot.waitUntil(lambda: bool(dialog.fields["microchip"].error()), timeout=10000)
    assert "15 digits" in dialog.fields["microchip"].error()
    assert dialog.fields["weight_kg"].error()
    dialog.microchip.setText("")
    dialog.weight.setText("3.2")
    dialog.alerts.setText("Nervous; muzzle")
    with qtbot.waitSignal(dialog.sig_saved, timeout=10000) as saved:
        dialog.save()
    patient = services.patients.get(saved.args[0].id)
    assert patient.client_id == desk.client_id
    assert patient.alerts == ["Nervous", "muzzle"]
    assert patient.current_weight_kg == Decimal("3.200")


def test_edit_patient_changes_alerts(qtbot: QtBot, desk: SeededDesk) -> None:
    services = desk.context.services
    assert services is not None
    record = _open(qtbot, desk, desk.patient_ids[1])
    form = record.edit()
    assert isinstance(form, PatientFormDialog)
    assert not form.owner.isEnabled()  # moving an owner is not done here
    form.alerts.setText("Diabetic")
    with qtbot.waitSignal(record.sig_loaded, timeout=10000):
        form.save()
    assert record.alerts.get_message() == "Diabetic"
    assert services.patients.get(PatientId(desk.patient_ids[1])).alerts == ["Diabetic"]


def test_helpers() -> None:
    assert parse_alerts(" Bites , ; allergic to X;") == ("Bites", "allergic to X")
    today = dt.date(2031, 3, 4)
    assert age_text(dt.date(2028, 3, 5), today) == "2 years"
    assert age_text(dt.date(2030, 3, 4), today) == "12 months"
    assert age_text(dt.date(2031, 2, 4), today) == "1 month"
    assert age_text(dt.date(2031, 3, 3), today) == "1 day"
    assert age_text(None, today) == ""


def test_the_jobs_tab_lists_the_patient_s_jobs(qtbot: QtBot, desk: SeededDesk) -> None:
    from jobs.models import Job

    rex = desk.patient_ids[0]
    with desk.context.session_factory() as session, session.begin():
        for seq, patient in enumerate((rex, rex + 1000), start=1):
            session.add(
                Job(
                    id=f"job-{seq}",
                    queue="reminders",
                    task="reminders.send",
                    state="scheduled",
                    token="t",
                    seq=seq,
                    patient_id=patient,
                )
            )
    dialog = _open(qtbot, desk, rex)
    assert dialog.tabs.tabText(dialog.tabs.indexOf(dialog.jobs)) == "Jobs (1)"
    assert dialog.jobs.job_id(0) == "job-1"
    assert dialog.jobs.text(0, 2) == "Scheduled"
