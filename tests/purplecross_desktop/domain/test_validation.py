"""Bad input to every service: a ValidationError naming each field and rule, and nothing
changed — no row written or altered, no audit entry, no event."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from purplecross_desktop.database import make_engine
from purplecross_desktop.database.base import (
    AppointmentId,
    ClientId,
    InvoiceId,
    PatientId,
    PrescriptionId,
    ReminderId,
    StaffId,
    VaccinationId,
)
from purplecross_desktop.database.models import metadata
from purplecross_desktop.domain.appointments import Appointment, Booking
from purplecross_desktop.domain.billing import Invoice, InvoiceData, LineData, PaymentData
from purplecross_desktop.domain.clients import Client, ClientData, Phone
from purplecross_desktop.domain.errors import ValidationError
from purplecross_desktop.domain.medical import PrescriptionData, VaccinationData
from purplecross_desktop.domain.patients import Patient, PatientData
from purplecross_desktop.domain.reminders import Reminder, ReminderData
from purplecross_desktop.domain.rooms import Room
from purplecross_desktop.domain.staff import Staff, StaffData, StaffRole
from tests.purplecross_desktop.domain.conftest import Clinic, clinic_on
from tests.support.postgres import create_database, drop_database, require_postgres


@dataclass
class World:
    """A small valid clinic that the bad inputs are aimed at."""

    clinic: Clinic
    client: Client
    other_client: Client
    patient: Patient
    other_patient: Patient
    vet: Staff
    vet2: Staff
    desk: Staff
    room: Room
    room2: Room
    appointment: Appointment
    invoice: Invoice
    reminder: Reminder
    prescription_id: PrescriptionId = 0  # type: ignore[assignment]  # set after creation
    vaccination_id: VaccinationId = 0  # type: ignore[assignment]

    def booking(self, **changes: Any) -> Booking:
        base = self.clinic.booking(self.other_patient, self.vet2, self.room2, at=self.later(4))
        return dataclasses.replace(base, **changes)

    def later(self, hours: float) -> dt.datetime:
        return self.clinic.clock.now + dt.timedelta(hours=hours)

    def prescription(self, **changes: Any) -> PrescriptionData:
        base = PrescriptionData(
            patient_id=PatientId(self.patient.id),
            vet_id=StaffId(self.vet.id),
            medication="Meloxicam",
            dosage="1.5 mg/ml, 0.1 ml/kg",
            frequency="once daily",
            starts_on=self.clinic.clock.now.date(),
            ends_on=self.clinic.clock.now.date() + dt.timedelta(days=7),
        )
        return dataclasses.replace(base, **changes)

    def vaccination(self, **changes: Any) -> VaccinationData:
        today = self.clinic.clock.now.date()
        base = VaccinationData(
            patient_id=PatientId(self.patient.id),
            vaccine="DHPPi",
            given_on=today,
            next_due_on=today + dt.timedelta(days=365),
            vet_id=StaffId(self.vet.id),
        )
        return dataclasses.replace(base, **changes)

    def invoice_data(self, **changes: Any) -> InvoiceData:
        base = InvoiceData(
            client_id=ClientId(self.client.id),
            patient_id=PatientId(self.patient.id),
            lines=[LineData("Consultation", 1, "45.00", "0.2")],
        )
        return dataclasses.replace(base, **changes)

    def reminder_data(self, **changes: Any) -> ReminderData:
        base = ReminderData(
            client_id=ClientId(self.client.id),
            kind="appointment",
            channel="email",
            due_at=self.later(24),
            appointment_id=self.appointment.id,
        )
        return dataclasses.replace(base, **changes)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """One small clinic per backend for the whole table: every case must leave it exactly
    as it was (that is what the test asserts), so they can share it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('validation') / 'clinic.db'}"
    else:
        require_postgres()
        url = create_database()
    engine = make_engine(url)
    metadata.create_all(engine)
    clinic = next(clinic_on(engine))
    yield _build_world(clinic)
    engine.dispose()
    if request.param == "postgresql":
        drop_database(url)


def _build_world(clinic: Clinic) -> World:
    client = clinic.client()
    other_client = clinic.client("Charles Babbage", email="cb@example.org")
    patient = clinic.patient(client.id, microchip="985112345678901")
    other_patient = clinic.patient(other_client.id, name="Tibbles", species="cat")
    vet = clinic.vet()
    vet2 = clinic.vet("vet2", "Dr Two")
    desk = clinic.staff.create(
        StaffData(name="Front Desk", role=StaffRole.FRONT_DESK, login="desk"), "long enough"
    )
    room, room2 = clinic.room("Room 1"), clinic.room("Room 2")
    appointment = clinic.appointments.book(clinic.booking(patient, vet, room))
    # something to clash with at +5 h, in the other room
    blocker = clinic.booking(other_patient, vet2, room2)
    clinic.appointments.book(
        dataclasses.replace(
            blocker,
            starts_at=clinic.clock.now + dt.timedelta(hours=5),
            ends_at=clinic.clock.now + dt.timedelta(hours=5.5),
        )
    )
    invoice = clinic.invoices.create(
        InvoiceData(client_id=ClientId(client.id), lines=[LineData("Consultation", 1, "40")])
    )
    reminder = clinic.reminders.create(
        ReminderData(
            client_id=ClientId(client.id),
            kind="appointment",
            channel="email",
            due_at=clinic.clock.now + dt.timedelta(hours=1),
            appointment_id=appointment.id,
        )
    )
    world = World(
        clinic,
        client,
        other_client,
        patient,
        other_patient,
        vet,
        vet2,
        desk,
        room,
        room2,
        appointment,
        invoice,
        reminder,
    )
    world.prescription_id = PrescriptionId(clinic.medical.prescribe(world.prescription()).id)
    world.vaccination_id = VaccinationId(clinic.medical.record_vaccination(world.vaccination()).id)
    return world


Case = tuple[str, Callable[[World], object], dict[str, str]]

CASES: list[Case] = [
    # --- clients
    (
        "client empty name",
        lambda w: w.clinic.clients.create(ClientData(name="  ")),
        {"name": "must not be empty"},
    ),
    (
        "client bad email",
        lambda w: w.clinic.clients.create(ClientData(name="A", email="a@b")),
        {"email": "must be a valid email address"},
    ),
    (
        "client bad phone",
        lambda w: w.clinic.clients.create(ClientData(name="A", phones=[Phone("12ab")])),
        {"phones[0].number": "must be a valid phone number"},
    ),
    (
        "client bad phone kind",
        lambda w: w.clinic.clients.create(
            ClientData(name="A", phones=[Phone("0123456789", "fax")])
        ),
        {"phones[0].kind": "must be one of: mobile, home, work, other"},
    ),
    (
        "client bad channel",
        lambda w: w.clinic.clients.create(ClientData(name="A", preferred_contact="pigeon")),
        {"preferred_contact": "must be one of: email, sms, none"},
    ),
    (
        "client email channel without email",
        lambda w: w.clinic.clients.create(ClientData(name="A", preferred_contact="email")),
        {"email": "must be given when the preferred contact is email"},
    ),
    (
        "client sms without mobile",
        lambda w: w.clinic.clients.create(
            ClientData(name="A", preferred_contact="sms", phones=[Phone("0201234567", "home")])
        ),
        {"phones": "must include a mobile number"},
    ),
    (
        "client several at once",
        lambda w: w.clinic.clients.create(ClientData(name="", email="nope")),
        {"name": "must not be empty", "email": "must be a valid email address"},
    ),
    (
        "client unknown actor",
        lambda w: w.clinic.clients.create(ClientData(name="A"), actor=StaffId(999)),
        {"actor": "must be an existing staff member"},
    ),
    (
        "client update unknown field",
        lambda w: w.clinic.clients.update(ClientId(w.client.id), {"shoe_size": 9}),
        {"shoe_size": "is not a field that can be changed"},
    ),
    (
        "client update bad email",
        lambda w: w.clinic.clients.update(ClientId(w.client.id), {"email": "x@"}),
        {"email": "must be a valid email address"},
    ),
    (
        "client update empty name",
        lambda w: w.clinic.clients.update(ClientId(w.client.id), {"name": ""}),
        {"name": "must not be empty"},
    ),
    (
        "client update bad active",
        lambda w: w.clinic.clients.update(ClientId(w.client.id), {"active": "yes"}),
        {"active": "must be true or false"},
    ),
    # --- patients
    (
        "patient empty name",
        lambda w: w.clinic.patient(w.client.id, name=""),
        {"name": "must not be empty"},
    ),
    (
        "patient bad species",
        lambda w: w.clinic.patient(w.client.id, species="dragon"),
        {"species": "must be one of: dog, cat"},
    ),
    (
        "patient bad sex",
        lambda w: w.clinic.patient(w.client.id, sex="x"),
        {"sex": "must be one of"},
    ),
    (
        "patient unknown client",
        lambda w: w.clinic.patients.create(PatientData(ClientId(999), "Rex", "dog")),
        {"client_id": "must be an existing client"},
    ),
    (
        "patient future birth",
        lambda w: w.clinic.patient(w.client.id, date_of_birth=dt.date(2040, 1, 1)),
        {"date_of_birth": "must not be in the future"},
    ),
    (
        "patient bad microchip",
        lambda w: w.clinic.patient(w.client.id, microchip="12-34"),
        {"microchip": "must be 15 digits"},
    ),
    (
        "patient duplicate microchip",
        lambda w: w.clinic.patient(w.client.id, microchip="985 112 345 678 901"),
        {"microchip": "is already used by patient"},
    ),
    (
        "patient negative weight",
        lambda w: w.clinic.patient(w.client.id, weight_kg="-3"),
        {"weight_kg": "must be positive"},
    ),
    (
        "patient bad alerts",
        lambda w: w.clinic.patient(w.client.id, alerts="bites"),
        {"alerts": "must be a list of text"},
    ),
    (
        "patient update duplicate chip",
        lambda w: w.clinic.patients.update(
            PatientId(w.other_patient.id), {"microchip": "985112345678901"}
        ),
        {"microchip": "is already used by patient"},
    ),
    (
        "patient update unknown client",
        lambda w: w.clinic.patients.update(PatientId(w.patient.id), {"client_id": 999}),
        {"client_id": "must be an existing client"},
    ),
    (
        "patient update unknown field",
        lambda w: w.clinic.patients.update(PatientId(w.patient.id), {"weight": 3}),
        {"weight": "is not a field that can be changed"},
    ),
    (
        "weight negative",
        lambda w: w.clinic.patients.record_weight(PatientId(w.patient.id), "-1.5"),
        {"weight_kg": "must be positive"},
    ),
    (
        "weight not a number",
        lambda w: w.clinic.patients.record_weight(PatientId(w.patient.id), "heavy"),
        {"weight_kg": "must be a number"},
    ),
    (
        "weight too precise",
        lambda w: w.clinic.patients.record_weight(PatientId(w.patient.id), "1.23456"),
        {"weight_kg": "at most 3 decimal places"},
    ),
    (
        "weight in the future",
        lambda w: w.clinic.patients.record_weight(
            PatientId(w.patient.id), "4", measured_on=dt.date(2040, 1, 1)
        ),
        {"measured_on": "must not be in the future"},
    ),
    (
        "deceased in the future",
        lambda w: w.clinic.patients.mark_deceased(PatientId(w.patient.id), dt.date(2040, 1, 1)),
        {"deceased_on": "must not be in the future"},
    ),
    # --- staff
    (
        "staff empty name",
        lambda w: w.clinic.staff.create(StaffData("", "admin", "boss"), "long enough"),
        {"name": "must not be empty"},
    ),
    (
        "staff bad role",
        lambda w: w.clinic.staff.create(StaffData("Boss", "king", "boss"), "long enough"),
        {"role": "must be one of: front_desk, veterinarian, practice_manager, admin"},
    ),
    (
        "staff bad login",
        lambda w: w.clinic.staff.create(StaffData("Boss", "admin", "b o s s"), "long enough"),
        {"login": "must be 2-40 characters"},
    ),
    (
        "staff duplicate login",
        lambda w: w.clinic.staff.create(StaffData("Boss", "admin", "VET"), "long enough"),
        {"login": "is already taken"},
    ),
    (
        "staff short password",
        lambda w: w.clinic.staff.create(StaffData("Boss", "admin", "boss"), "short"),
        {"password": "must be at least 8 characters"},
    ),
    (
        "staff bad email",
        lambda w: w.clinic.staff.create(
            StaffData("Boss", "admin", "boss", email="boss"), "long enough"
        ),
        {"email": "must be a valid email address"},
    ),
    (
        "staff update duplicate login",
        lambda w: w.clinic.staff.update(StaffId(w.vet2.id), {"login": "vet"}),
        {"login": "is already taken"},
    ),
    (
        "staff update unknown field",
        lambda w: w.clinic.staff.update(StaffId(w.vet2.id), {"password_hash": "x"}),
        {"password_hash": "is not a field that can be changed"},
    ),
    (
        "staff set short password",
        lambda w: w.clinic.staff.set_password(StaffId(w.vet2.id), "1234"),
        {"password": "must be at least 8 characters"},
    ),
    # --- appointments
    (
        "booking in the past",
        lambda w: w.clinic.appointments.book(
            w.booking(starts_at=w.later(-2), ends_at=w.later(-1.5))
        ),
        {"starts_at": "must not be in the past"},
    ),
    (
        "booking ends before start",
        lambda w: w.clinic.appointments.book(w.booking(ends_at=w.later(3))),
        {"ends_at": "must be after starts_at"},
    ),
    (
        "booking too short",
        lambda w: w.clinic.appointments.book(
            w.booking(ends_at=w.later(4) + dt.timedelta(minutes=1))
        ),
        {"ends_at": "at least 5 minutes"},
    ),
    (
        "booking naive time",
        lambda w: w.clinic.appointments.book(w.booking(starts_at=dt.datetime(2031, 3, 3, 12))),
        {"starts_at": "must carry a time zone"},
    ),
    (
        "booking overlaps the vet",
        lambda w: w.clinic.appointments.book(
            w.booking(vet_id=w.vet.id, starts_at=w.later(2.25), ends_at=w.later(2.75))
        ),
        {"vet_id": "is already booked"},
    ),
    (
        "booking overlaps the room",
        lambda w: w.clinic.appointments.book(
            w.booking(room_id=w.room.id, starts_at=w.later(1.75), ends_at=w.later(2.25))
        ),
        {"room_id": "is already booked"},
    ),
    (
        "booking overlaps the patient",
        lambda w: w.clinic.appointments.book(
            w.booking(patient_id=w.patient.id, starts_at=w.later(2), ends_at=w.later(2.5))
        ),
        {"patient_id": "already has an appointment"},
    ),
    (
        "booking unknown patient",
        lambda w: w.clinic.appointments.book(w.booking(patient_id=PatientId(999))),
        {"patient_id": "must be an existing patient"},
    ),
    (
        "booking wrong client",
        lambda w: w.clinic.appointments.book(w.booking(client_id=ClientId(w.client.id))),
        {"client_id": "must be the owner of the patient"},
    ),
    (
        "booking a non-vet",
        lambda w: w.clinic.appointments.book(w.booking(vet_id=w.desk.id)),
        {"vet_id": "must be a staff member with the role veterinarian"},
    ),
    (
        "booking unknown vet",
        lambda w: w.clinic.appointments.book(w.booking(vet_id=StaffId(999))),
        {"vet_id": "must be an existing staff member"},
    ),
    (
        "booking unknown room",
        lambda w: w.clinic.appointments.book(w.booking(room_id=999)),
        {"room_id": "must be an existing room"},
    ),
    (
        "booking bad type",
        lambda w: w.clinic.appointments.book(w.booking(type="spa")),
        {"type": "must be one of: consultation"},
    ),
    (
        "reschedule into the past",
        lambda w: w.clinic.appointments.reschedule(
            AppointmentId(w.appointment.id), w.later(-3), w.later(-2.5)
        ),
        {"starts_at": "must not be in the past"},
    ),
    (
        "reschedule onto another booking",
        lambda w: w.clinic.appointments.reschedule(
            AppointmentId(w.appointment.id), w.later(5), w.later(5.5), room_id=w.room2.id
        ),
        {"room_id": "is already booked"},
    ),
    (
        "status jump",
        lambda w: w.clinic.appointments.set_status(AppointmentId(w.appointment.id), "completed"),
        {"status": "cannot go from scheduled to completed"},
    ),
    (
        "status unknown",
        lambda w: w.clinic.appointments.set_status(AppointmentId(w.appointment.id), "beamed"),
        {"status": "must be one of: scheduled"},
    ),
    (
        "no-show before start",
        lambda w: w.clinic.appointments.mark_no_show(AppointmentId(w.appointment.id)),
        {"status": "only be recorded after the start time"},
    ),
    (
        "appointment update unknown field",
        lambda w: w.clinic.appointments.update(
            AppointmentId(w.appointment.id), {"starts_at": w.later(9)}
        ),
        {"starts_at": "is not a field that can be changed"},
    ),
    (
        "room duplicate name",
        lambda w: w.clinic.rooms.create("room 1"),
        {"name": "is already used by another room"},
    ),
    (
        "room empty name",
        lambda w: w.clinic.rooms.create(""),
        {"name": "must not be empty"},
    ),
    # --- prescriptions and vaccinations
    (
        "prescription empty medication",
        lambda w: w.clinic.medical.prescribe(w.prescription(medication=" ")),
        {"medication": "must not be empty"},
    ),
    (
        "prescription negative refills",
        lambda w: w.clinic.medical.prescribe(w.prescription(refills=-1)),
        {"refills": "must not be negative"},
    ),
    (
        "prescription ends before start",
        lambda w: w.clinic.medical.prescribe(w.prescription(ends_on=dt.date(2031, 1, 1))),
        {"ends_on": "must not be before starts_on"},
    ),
    (
        "prescription unknown patient",
        lambda w: w.clinic.medical.prescribe(w.prescription(patient_id=PatientId(999))),
        {"patient_id": "must be an existing patient"},
    ),
    (
        "prescription by a non-vet",
        lambda w: w.clinic.medical.prescribe(w.prescription(vet_id=w.desk.id)),
        {"vet_id": "role veterinarian"},
    ),
    (
        "vaccination in the future",
        lambda w: w.clinic.medical.record_vaccination(
            w.vaccination(given_on=dt.date(2040, 1, 1), next_due_on=None)
        ),
        {"given_on": "must not be in the future"},
    ),
    (
        "vaccination due before given",
        lambda w: w.clinic.medical.record_vaccination(
            w.vaccination(next_due_on=dt.date(2030, 1, 1))
        ),
        {"next_due_on": "must be after given_on"},
    ),
    (
        "vaccination empty vaccine",
        lambda w: w.clinic.medical.record_vaccination(w.vaccination(vaccine="")),
        {"vaccine": "must not be empty"},
    ),
    (
        "prescription update ends before start",
        lambda w: w.clinic.medical.update_prescription(
            w.prescription_id, {"ends_on": dt.date(2031, 1, 1)}
        ),
        {"ends_on": "must not be before starts_on"},
    ),
    (
        "prescription update negative refills",
        lambda w: w.clinic.medical.update_prescription(w.prescription_id, {"refills": -2}),
        {"refills": "must not be negative"},
    ),
    (
        "prescription update empty dosage",
        lambda w: w.clinic.medical.update_prescription(w.prescription_id, {"dosage": ""}),
        {"dosage": "must not be empty"},
    ),
    (
        "prescription update unknown field",
        lambda w: w.clinic.medical.update_prescription(w.prescription_id, {"medication": "x"}),
        {"medication": "is not a field that can be changed"},
    ),
    (
        "vaccination update due before given",
        lambda w: w.clinic.medical.update_vaccination(
            w.vaccination_id, {"next_due_on": dt.date(2030, 1, 1)}
        ),
        {"next_due_on": "must be after given_on"},
    ),
    (
        "vaccination update unknown field",
        lambda w: w.clinic.medical.update_vaccination(w.vaccination_id, {"vaccine": "x"}),
        {"vaccine": "is not a field that can be changed"},
    ),
    # --- invoices
    (
        "invoice without lines",
        lambda w: w.clinic.invoices.create(w.invoice_data(lines=[])),
        {"lines": "must have at least one line item"},
    ),
    (
        "invoice negative quantity",
        lambda w: w.clinic.invoices.create(w.invoice_data(lines=[LineData("X", -1, "5")])),
        {"lines[0].quantity": "must be positive"},
    ),
    (
        "invoice negative price",
        lambda w: w.clinic.invoices.create(w.invoice_data(lines=[LineData("X", 1, "-5")])),
        {"lines[0].unit_price": "must not be negative"},
    ),
    (
        "invoice tax rate above 1",
        lambda w: w.clinic.invoices.create(w.invoice_data(lines=[LineData("X", 1, "5", "20")])),
        {"lines[0].tax_rate": "must be at most 1"},
    ),
    (
        "invoice price not a number",
        lambda w: w.clinic.invoices.create(w.invoice_data(lines=[LineData("X", 1, "five")])),
        {"lines[0].unit_price": "must be a number"},
    ),
    (
        "invoice unknown client",
        lambda w: w.clinic.invoices.create(
            w.invoice_data(client_id=ClientId(999), patient_id=None)
        ),
        {"client_id": "must be an existing client"},
    ),
    (
        "invoice patient of another client",
        lambda w: w.clinic.invoices.create(
            w.invoice_data(patient_id=PatientId(w.other_patient.id))
        ),
        {"patient_id": "must belong to the client"},
    ),
    (
        "invoice due before issue",
        lambda w: w.clinic.invoices.create(
            w.invoice_data(issued_on=dt.date(2031, 3, 3), due_on=dt.date(2031, 3, 1))
        ),
        {"due_on": "must not be before issued_on"},
    ),
    (
        "invoice update unknown field",
        lambda w: w.clinic.invoices.update(InvoiceId(w.invoice.id), {"total": Decimal(1)}),
        {"total": "is not a field that can be changed"},
    ),
    (
        "payment above balance",
        lambda w: w.clinic.invoices.add_payment(
            InvoiceId(w.invoice.id), PaymentData("40.01", "cash")
        ),
        {"amount": "must not exceed the balance of 40.00"},
    ),
    (
        "payment negative",
        lambda w: w.clinic.invoices.add_payment(InvoiceId(w.invoice.id), PaymentData("-5", "cash")),
        {"amount": "must be positive"},
    ),
    (
        "payment bad method",
        lambda w: w.clinic.invoices.add_payment(
            InvoiceId(w.invoice.id), PaymentData("5", "shells")
        ),
        {"method": "must be one of: cash"},
    ),
    (
        "void without reason",
        lambda w: w.clinic.invoices.void(InvoiceId(w.invoice.id), ""),
        {"reason": "must not be empty"},
    ),
    # --- reminders
    (
        "reminder bad kind",
        lambda w: w.clinic.reminders.create(w.reminder_data(kind="birthday")),
        {"kind": "must be one of: appointment"},
    ),
    (
        "reminder bad channel",
        lambda w: w.clinic.reminders.create(w.reminder_data(channel="fax")),
        {"channel": "must be one of: email, sms, desktop"},
    ),
    (
        "reminder naive due",
        lambda w: w.clinic.reminders.create(w.reminder_data(due_at=dt.datetime(2031, 3, 4))),
        {"due_at": "must carry a time zone"},
    ),
    (
        "reminder unknown client",
        lambda w: w.clinic.reminders.create(
            w.reminder_data(client_id=ClientId(999), appointment_id=None)
        ),
        {"client_id": "must be an existing client"},
    ),
    (
        "reminder foreign appointment",
        lambda w: w.clinic.reminders.create(w.reminder_data(client_id=ClientId(w.other_client.id))),
        {"appointment_id": "must belong to the client"},
    ),
    (
        "reminder unknown invoice",
        lambda w: w.clinic.reminders.create(w.reminder_data(invoice_id=999)),
        {"invoice_id": "must be an existing invoice"},
    ),
    (
        "reminder update bad channel",
        lambda w: w.clinic.reminders.update(ReminderId(w.reminder.id), {"channel": "fax"}),
        {"channel": "must be one of"},
    ),
    (
        "reminder bad state move",
        lambda w: w.clinic.reminders.set_state(ReminderId(w.reminder.id), "pending"),
        {"state": "cannot go from pending to pending"},
    ),
    (
        "reminders due window reversed",
        lambda w: w.clinic.reminders.due(w.later(2), w.later(1)),
        {"end": "must be after start"},
    ),
    # --- searches
    (
        "search bad order",
        lambda w: w.clinic.clients.search(order="shoe_size"),
        {"order": "must be one of"},
    ),
    (
        "search bad limit",
        lambda w: w.clinic.patients.search(limit=0),
        {"limit": "must be between 1 and 1000"},
    ),
    (
        "search bad offset",
        lambda w: w.clinic.appointments.search(offset=-1),
        {"offset": "must not be negative"},
    ),
    (
        "search bad species",
        lambda w: w.clinic.patients.search(species="dragon"),
        {"species": "must be one of"},
    ),
    (
        "search bad status",
        lambda w: w.clinic.invoices.search(status="lost"),
        {"status": "must be one of"},
    ),
]


@pytest.mark.parametrize(("name", "call", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_and_changes_nothing(
    world: World, name: str, call: Callable[[World], object], expected: dict[str, str]
) -> None:
    clinic = world.clinic
    before = clinic.snapshot()
    clinic.events.clear()

    with pytest.raises(ValidationError) as caught:
        call(world)

    errors = caught.value.errors
    for field, rule in expected.items():
        assert field in errors, f"{name}: no error on {field!r}: {errors}"
        assert any(rule in message for message in errors[field]), (field, errors[field])
        assert any(m.startswith(f"{field}: ") for m in caught.value.messages())
        assert f"{field}: " in str(caught.value)
    assert clinic.snapshot() == before
    assert clinic.events == []
