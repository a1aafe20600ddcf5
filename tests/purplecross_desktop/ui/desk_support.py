"""A seeded clinic for the front-desk screens: app contexts on one database, a fixed day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from purplecross_desktop.app import build_context, shutdown
from purplecross_desktop.database.base import ClientId, PatientId, StaffId
from purplecross_desktop.database.session import upgrade
from purplecross_desktop.domain.appointments import Appointment, AppointmentService, Booking
from purplecross_desktop.domain.billing import InvoiceData, LineData
from purplecross_desktop.domain.clients import ClientData
from purplecross_desktop.domain.patients import PatientData
from purplecross_desktop.domain.staff import StaffData, StaffRole
from purplecross_desktop.settings import load_settings
from purplecross_desktop.ui.context import AppContext
from tests.support.staff import sign_in


@dataclass
class SeededDesk:
    """Two vets, two rooms, an owner who owes money, a patient with alerts, and three
    appointments today (09:00, 09:30, 10:00 clinic time) that start in the future."""

    context: AppContext
    day: dt.date
    midnight: dt.datetime
    appointments: list[Appointment] = field(default_factory=list)
    vet_ids: list[int] = field(default_factory=list)
    room_ids: list[int] = field(default_factory=list)
    patient_ids: list[int] = field(default_factory=list)
    client_id: int = 0
    others: list[AppContext] = field(default_factory=list)

    def booker(self, context: AppContext | None = None) -> AppointmentService:
        """Appointments as of just after midnight (so today's slots are not in the past)."""
        ctx = context or self.context
        assert ctx.services is not None
        return AppointmentService(
            ctx.session_factory, ctx.services.events, clock=lambda: self.midnight
        )

    def at(self, hour: int, minute: int = 0) -> dt.datetime:
        return self.midnight + dt.timedelta(hours=hour, minutes=minute)

    def second_workstation(self) -> AppContext:
        """Another app context on the same database (its own engine, bus and services)."""
        other = build_context(load_settings(), start_jobs=False)
        sign_in(other)  # the desk's writes are made as the signed-in staff member
        self.others.append(other)
        return other

    def close(self) -> None:
        for ctx in self.others:
            shutdown(ctx)
        shutdown(self.context)


def seed_desk(database_url: str, monkeypatch: Any, *, day: dt.date | None = None) -> SeededDesk:
    """Upgrade ``database_url``, point the settings at it and seed the clinic."""
    upgrade(database_url)
    monkeypatch.setenv("PURPLECROSS_DATABASE_URL", database_url)
    context = build_context(load_settings(), start_jobs=False)
    sign_in(context)  # the desk's writes are made as the signed-in staff member
    services = context.services
    assert services is not None
    day = day or dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    midnight = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    desk = SeededDesk(context, day, midnight)
    ada = services.clients.create(
        ClientData(name="Ada Lovelace", email="ada@example.org", preferred_contact="email")
    )
    desk.client_id = ada.id
    rex = services.patients.create(
        PatientData(
            client_id=ClientId(ada.id),
            name="Rex",
            species="dog",
            alerts=["Bites", "Allergic to penicillin"],
        )
    )
    bella = services.patients.create(
        PatientData(client_id=ClientId(ada.id), name="Bella", species="cat")
    )
    bob = services.clients.create(ClientData(name="Bob Stone"))
    tom = services.patients.create(
        PatientData(client_id=ClientId(bob.id), name="Tom", species="rabbit")
    )
    desk.patient_ids = [rex.id, bella.id, tom.id]
    for login, name in (("jh", "Dr Herriot"), ("sf", "Dr Farnon")):
        vet = services.staff.create(
            StaffData(name=name, role=StaffRole.VETERINARIAN, login=login), "pw-123456"
        )
        desk.vet_ids.append(vet.id)
    for name in ("Room 1", "Room 2"):
        desk.room_ids.append(services.rooms.create(name).id)
    services.invoices.create(
        InvoiceData(client_id=ClientId(ada.id), lines=[LineData("Old visit", 1, "42.50", "0")])
    )
    booker = desk.booker()
    for (hour, minute), patient, vet, room in (
        ((9, 0), rex, 0, 0),
        ((9, 30), bella, 1, 1),
        ((10, 0), tom, 0, 0),
    ):
        starts = desk.at(hour, minute)
        desk.appointments.append(
            booker.book(
                Booking(
                    patient_id=PatientId(patient.id),
                    vet_id=StaffId(desk.vet_ids[vet]),
                    room_id=desk.room_ids[room],
                    starts_at=starts,
                    ends_at=starts + dt.timedelta(minutes=30),
                    reason="Annual check",
                )
            )
        )
    return desk
