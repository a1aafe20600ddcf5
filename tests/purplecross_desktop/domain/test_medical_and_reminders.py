"""Prescriptions, vaccinations with next-due dates, and reminders due in a window."""

from __future__ import annotations

import datetime as dt

import pytest

from purplecross_desktop.database.base import (
    ClientId,
    PatientId,
    PrescriptionId,
    ReminderId,
    StaffId,
    VaccinationId,
)
from purplecross_desktop.domain.errors import ValidationError
from purplecross_desktop.domain.medical import PrescriptionData, VaccinationData
from purplecross_desktop.domain.reminders import ReminderData, ReminderState
from tests.purplecross_desktop.domain.conftest import Clinic


def test_prescribe_and_find_running_prescriptions(clinic: Clinic) -> None:
    patient, vet = clinic.patient(), clinic.vet()
    today = clinic.clock.now.date()
    prescription = clinic.medical.prescribe(
        PrescriptionData(
            patient_id=PatientId(patient.id),
            vet_id=StaffId(vet.id),
            medication="Amoxicillin 250 mg",
            dosage="1 tablet",
            frequency="twice daily",
            starts_on=today,
            ends_on=today + dt.timedelta(days=10),
            refills=1,
        )
    )
    event = clinic.events[-1]
    assert (event.name, event.data["patient_id"]) == ("prescription.created", patient.id)
    running = clinic.medical.search_prescriptions(active_on=today + dt.timedelta(days=3))
    assert [p.id for p in running.items] == [prescription.id]
    assert clinic.medical.search_prescriptions(active_on=today + dt.timedelta(days=11)).total == 0
    assert clinic.medical.search_prescriptions("amoxi").total == 1


def test_vaccinations_due_in_a_window(clinic: Clinic) -> None:
    patient, vet = clinic.patient(), clinic.vet()
    today = clinic.clock.now.date()
    for vaccine, due_days in (("Rabies", 365), ("Leptospirosis", 30), ("Kennel cough", None)):
        clinic.medical.record_vaccination(
            VaccinationData(
                patient_id=PatientId(patient.id),
                vaccine=vaccine,
                given_on=today,
                next_due_on=today + dt.timedelta(days=due_days) if due_days else None,
                vet_id=StaffId(vet.id),
                batch_number="B-1",
            )
        )
    assert [e.name for e in clinic.events][-1] == "vaccination.recorded"
    soon = clinic.medical.search_vaccinations(
        due_from=today, due_before=today + dt.timedelta(days=60)
    )
    assert [v.vaccine for v in soon.items] == ["Leptospirosis"]
    assert clinic.medical.search_vaccinations(patient_id=PatientId(patient.id)).total == 3


def test_reminders_due_in_a_window_and_their_states(clinic: Clinic) -> None:
    client = clinic.client()
    now = clinic.clock.now

    def remind(hours: float) -> ReminderId:
        reminder = clinic.reminders.create(
            ReminderData(
                client_id=ClientId(client.id),
                kind="follow_up",
                channel="email",
                due_at=now + dt.timedelta(hours=hours),
                message="How is Rex?",
            )
        )
        return ReminderId(reminder.id)

    early, inside, edge, late = remind(0.5), remind(2), remind(3), remind(30)
    due = clinic.reminders.due(now + dt.timedelta(hours=1), now + dt.timedelta(hours=3))
    assert [r.id for r in due.items] == [inside]  # [start, end): the edge is excluded
    clinic.reminders.set_state(inside, "sent")
    assert clinic.reminders.get(inside).sent_at == now
    assert clinic.reminders.due(now, now + dt.timedelta(hours=4)).total == 2  # early, edge
    clinic.reminders.set_state(early, "failed", error="SMTP 550")
    assert clinic.reminders.get(early).last_error == "SMTP 550"
    clinic.reminders.set_state(early, "pending")  # retry
    clinic.reminders.update(edge, {"due_at": now + dt.timedelta(days=2), "channel": "sms"})
    clinic.reminders.set_state(late, ReminderState.CANCELLED)
    with pytest.raises(ValidationError, match="state: a cancelled reminder cannot be changed"):
        clinic.reminders.update(late, {"message": "x"})
    assert [e.name for e in clinic.events if e.entity == "reminder"].count("reminder.created") == 4
    assert clinic.events[-1].name == "reminder.updated"
    assert clinic.reminders.search(state="pending", order="-due_at").items[0].id == edge


def test_prescriptions_and_vaccinations_can_be_corrected(clinic: Clinic) -> None:
    patient, vet = clinic.patient(), clinic.vet()
    today = clinic.clock.now.date()
    prescription = clinic.medical.prescribe(
        PrescriptionData(
            patient_id=PatientId(patient.id),
            vet_id=StaffId(vet.id),
            medication="Carprofen 50 mg",
            dosage="1 tablet",
            frequency="once daily",
            starts_on=today,
        )
    )
    vaccination = clinic.medical.record_vaccination(
        VaccinationData(PatientId(patient.id), "Rabies", today, today + dt.timedelta(days=365))
    )
    clinic.events.clear()
    updated = clinic.medical.update_prescription(
        PrescriptionId(prescription.id),
        {"dosage": "half a tablet", "ends_on": today + dt.timedelta(days=5), "refills": 2},
    )
    assert (updated.dosage, updated.refills) == ("half a tablet", 2)
    moved = clinic.medical.update_vaccination(
        VaccinationId(vaccination.id), {"next_due_on": today + dt.timedelta(days=1095)}
    )
    assert moved.next_due_on == today + dt.timedelta(days=1095)
    assert [e.name for e in clinic.events] == ["prescription.updated", "vaccination.updated"]
    assert clinic.events[0].data["fields"] == ["dosage", "ends_on", "refills"]
    assert clinic.medical.get_prescription(PrescriptionId(prescription.id)).ends_on == (
        today + dt.timedelta(days=5)
    )
