"""Clients, patients and staff: create, update, search, weights, deaths, passwords."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from purplecross_desktop.database.base import (
    AppointmentId,
    ClientId,
    PatientId,
    ReminderId,
    StaffId,
)
from purplecross_desktop.domain.appointments import AppointmentStatus
from purplecross_desktop.domain.clients import ClientData, ContactChannel, Phone, PhoneKind
from purplecross_desktop.domain.errors import ValidationError
from purplecross_desktop.domain.patients import Species
from purplecross_desktop.domain.reminders import ReminderData, ReminderState
from purplecross_desktop.domain.staff import Staff, StaffData, StaffRole
from tests.purplecross_desktop.domain.conftest import Clinic


def test_client_create_normalises_and_update_replaces_phones(clinic: Clinic) -> None:
    client = clinic.clients.create(
        ClientData(
            name="  Ada Lovelace ",
            email="Ada@Example.ORG",
            phones=[Phone("+44 (20) 7946-0000", "mobile"), Phone("020 7946 0001", "home")],
            preferred_contact="sms",
            city="London",
        )
    )
    assert client.name == "Ada Lovelace"
    assert client.email == "Ada@example.org"
    assert [(p.kind, p.number) for p in client.phones] == [
        (PhoneKind.MOBILE, "+442079460000"),
        (PhoneKind.HOME, "02079460001"),
    ]
    assert client.preferred_contact is ContactChannel.SMS
    updated = clinic.clients.update(
        ClientId(client.id), {"phones": [Phone("07700 900123")], "city": "Bath"}
    )
    assert [p.number for p in clinic.clients.get(ClientId(client.id)).phones] == ["07700900123"]
    assert updated.city == "Bath"
    event = clinic.events[-1]
    assert (event.name, event.data["fields"]) == ("client.updated", ["city", "phones"])


def test_client_deactivation_publishes_deactivated_and_withdraws_reminders(
    clinic: Clinic,
) -> None:
    client = clinic.client()
    reminder = clinic.reminders.create(
        ReminderData(
            client_id=ClientId(client.id),
            kind="payment",
            channel="email",
            due_at=clinic.clock.now + dt.timedelta(days=1),
        )
    )
    clinic.clients.deactivate(ClientId(client.id))
    assert [e.name for e in clinic.events][-3:] == [
        "client.updated",
        "client.deactivated",
        "reminder.updated",
    ]
    assert clinic.reminders.get(ReminderId(reminder.id)).state is ReminderState.CANCELLED
    assert clinic.clients.search().total == 0
    assert clinic.clients.search(active=None).total == 1


def test_client_search_by_name_email_phone_postcode_with_paging(clinic: Clinic) -> None:
    for i, name in enumerate(["Zoe Adams", "adam smith", "Bob Stone", "Carla Adamo"]):
        clinic.clients.create(
            ClientData(
                name=name,
                email=f"p{i}@example.org",
                phones=[Phone(f"0117 496 00{i}0")],
                postal_code=f"BS{i} 1AA",
            )
        )
    page = clinic.clients.search("adam", limit=2)
    assert page.total == 3
    assert [c.name for c in page.items] == ["adam smith", "Carla Adamo"]  # case-insensitive
    assert [c.name for c in clinic.clients.search("adam", offset=2).items] == ["Zoe Adams"]
    assert [c.name for c in clinic.clients.search("p2@").items] == ["Bob Stone"]
    assert [c.name for c in clinic.clients.search("496 0030").items] == ["Carla Adamo"]
    assert [c.name for c in clinic.clients.search("bs1 ").items] == ["adam smith"]
    assert clinic.clients.search("100%").total == 0  # wildcards are literal
    assert [c.name for c in clinic.clients.search(order="-name", limit=1).items] == ["Zoe Adams"]


def test_patient_lifecycle(clinic: Clinic) -> None:
    owner = clinic.client()
    patient = clinic.patient(
        owner.id,
        "Rex",
        breed="Labrador Retriever",
        sex="male_neutered",
        date_of_birth=dt.date(2025, 5, 1),
        microchip="985 1123 4567 8901",
        alerts=["bites", " bites ", "", "nervous"],
        weight_kg="31.5",
    )
    assert patient.microchip == "985112345678901"
    assert patient.alerts == ["bites", "nervous"]
    assert patient.current_weight_kg == Decimal("31.500")
    clinic.clock.advance(days=30)
    clinic.patients.record_weight(PatientId(patient.id), Decimal("32.25"))
    stored = clinic.patients.get(PatientId(patient.id))
    assert [w.weight_kg for w in stored.weights] == [Decimal("31.500"), Decimal("32.250")]
    assert stored.current_weight_kg == Decimal("32.250")
    other_owner = clinic.client("New Owner", email="new@example.org")
    moved = clinic.patients.update(PatientId(patient.id), {"client_id": other_owner.id})
    assert moved.client_id == other_owner.id
    dead = clinic.patients.mark_deceased(PatientId(patient.id))
    assert (dead.deceased, dead.active, dead.deceased_on) == (True, False, clinic.clock.now.date())
    names = [e.name for e in clinic.events if e.entity == "patient"]
    assert names == ["patient.created", "patient.updated", "patient.updated", "patient.deceased"]
    with pytest.raises(ValidationError, match="deceased: is already recorded"):
        clinic.patients.mark_deceased(PatientId(patient.id))
    with pytest.raises(ValidationError, match="active: a deceased patient cannot be reactivated"):
        clinic.patients.update(PatientId(patient.id), {"active": True})


def test_patient_search(clinic: Clinic) -> None:
    grace = clinic.client("Grace Hopper", email="grace@example.org")
    clinic.patient(grace.id, "Rex", breed="Beagle")
    clinic.patient(grace.id, "Whiskers", species="cat", breed="Siamese")
    chip = clinic.patient(name="Bella", microchip="985000000000001")
    assert clinic.patients.search("hopper").total == 2
    assert [p.name for p in clinic.patients.search("siam").items] == ["Whiskers"]
    assert [p.name for p in clinic.patients.search("985000000000001").items] == ["Bella"]
    assert clinic.patients.search(species=Species.CAT).total == 1
    assert clinic.patients.search(client_id=ClientId(grace.id), order="-name").items[0].name == (
        "Whiskers"
    )
    clinic.patients.mark_deceased(PatientId(chip.id))
    assert clinic.patients.search().total == 2
    assert clinic.patients.search(active=None).total == 3


def test_staff_passwords_are_argon2_hashes(clinic: Clinic) -> None:
    vet = clinic.staff.create(
        StaffData(name="Dr Ng", role="veterinarian", login="Dr.Ng", email="ng@example.org"),
        "correct horse battery",
    )
    with clinic.sessions() as session:
        stored = session.get(Staff, vet.id)
        assert stored is not None
        assert stored.password_hash.startswith("$argon2id$")
        assert "correct horse" not in stored.password_hash
    assert vet.login == "dr.ng"
    assert clinic.staff.authenticate("DR.NG", "correct horse battery") is not None
    assert clinic.staff.authenticate("dr.ng", "wrong password") is None
    assert clinic.staff.authenticate("nobody", "correct horse battery") is None
    clinic.staff.set_password(StaffId(vet.id), "another passphrase")
    assert clinic.staff.authenticate("dr.ng", "another passphrase") is not None
    clinic.staff.update(StaffId(vet.id), {"active": False})
    assert clinic.staff.authenticate("dr.ng", "another passphrase") is None
    names = [e.name for e in clinic.events]
    assert names == ["staff.created", "staff.updated", "staff.updated"]
    audit = clinic.audit.search(entity="staff", entity_id=vet.id)
    assert all("password" not in str(entry.changes) or entry.changes == {} for entry in audit.items)


def test_staff_search_by_role(clinic: Clinic) -> None:
    clinic.vet("v1", "Dr Able")
    clinic.vet("v2", "Dr Baker")
    clinic.staff.create(StaffData("Desk", StaffRole.FRONT_DESK, "desk"), "long enough")
    assert clinic.staff.search(role="veterinarian").total == 2
    assert [s.login for s in clinic.staff.search("baker").items] == ["v2"]


def test_a_death_cancels_upcoming_visits_and_withdraws_reminders(clinic: Clinic) -> None:
    patient, other = clinic.patient(), clinic.patient(name="Fido")
    vet, room = clinic.vet(), clinic.room()
    now = clinic.clock.now
    soon = clinic.appointments.book(clinic.booking(patient, vet, room))
    confirmed = clinic.appointments.book(
        clinic.booking(patient, vet, room, at=now + dt.timedelta(days=3))
    )
    clinic.appointments.confirm(AppointmentId(confirmed.id))
    kept = clinic.appointments.book(clinic.booking(other, vet, room, at=now + dt.timedelta(days=4)))
    linked = clinic.reminders.create(
        ReminderData(
            client_id=ClientId(patient.client_id),
            kind="appointment",
            channel="email",
            due_at=now + dt.timedelta(hours=1),
            appointment_id=soon.id,
        )
    )
    clinic.events.clear()
    clinic.patients.mark_deceased(PatientId(patient.id))
    for appt in (soon, confirmed):
        stored = clinic.appointments.get(AppointmentId(appt.id))
        assert (stored.status, stored.cancel_reason) == (
            AppointmentStatus.CANCELLED,
            "patient deceased",
        )
    assert clinic.appointments.get(AppointmentId(kept.id)).status is AppointmentStatus.SCHEDULED
    assert clinic.reminders.get(ReminderId(linked.id)).state is ReminderState.CANCELLED
    names = [e.name for e in clinic.events]
    assert names[0] == "patient.deceased"
    assert names.count("appointment.cancelled") == 2
    assert names[-1] == "reminder.updated"
