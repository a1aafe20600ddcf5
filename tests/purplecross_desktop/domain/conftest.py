"""Fixtures for the domain services: a fresh schema per test, a settable clock, an event log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy import Engine

from purplecross_desktop.database import make_engine, make_session_factory
from purplecross_desktop.database.base import ClientId, PatientId, StaffId
from purplecross_desktop.database.models import metadata
from purplecross_desktop.database.session import SessionFactory
from purplecross_desktop.domain.appointments import AppointmentService, Booking
from purplecross_desktop.domain.audit import AuditService
from purplecross_desktop.domain.billing import InvoiceService
from purplecross_desktop.domain.clients import Client, ClientData, ClientService, Phone
from purplecross_desktop.domain.events import DomainEvent, EventBus
from purplecross_desktop.domain.medical import MedicalService
from purplecross_desktop.domain.patients import Patient, PatientData, PatientService
from purplecross_desktop.domain.reminders import ReminderService
from purplecross_desktop.domain.rooms import Room, RoomService
from purplecross_desktop.domain.staff import Staff, StaffData, StaffRole, StaffService
from tests.support.postgres import create_database, drop_database, require_postgres

# A Monday morning, far enough ahead that "in the past" never depends on the real date.
START = dt.datetime(2031, 3, 3, 8, 0, tzinfo=dt.UTC)


class Clock:
    """The services' notion of now; tests move it."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@dataclass
class Clinic:
    """Every service on one database, plus helpers that make valid rows quickly."""

    engine: Engine
    sessions: SessionFactory
    bus: EventBus
    clock: Clock
    events: list[DomainEvent]
    clients: ClientService
    patients: PatientService
    staff: StaffService
    appointments: AppointmentService
    rooms: RoomService
    medical: MedicalService
    invoices: InvoiceService
    reminders: ReminderService
    audit: AuditService

    def client(self, name: str = "Ada Lovelace", **fields: Any) -> Client:
        fields.setdefault("email", "ada@example.org")
        fields.setdefault("phones", (Phone("+44 20 7946 0000"),))
        return self.clients.create(ClientData(name=name, **fields))

    def patient(self, client_id: int | None = None, name: str = "Rex", **fields: Any) -> Patient:
        if client_id is None:
            client_id = self.client().id
        fields.setdefault("species", "dog")
        weight = fields.pop("weight_kg", None)
        data = PatientData(client_id=ClientId(client_id), name=name, **fields)
        return self.patients.create(data, weight_kg=weight)

    def vet(self, login: str = "vet", name: str = "Dr Who") -> Staff:
        return self.staff.create(
            StaffData(name=name, role=StaffRole.VETERINARIAN, login=login), "correct horse"
        )

    def room(self, name: str = "Room 1") -> Room:
        return self.rooms.create(name)

    def booking(
        self,
        patient: Patient,
        vet: Staff,
        room: Room,
        *,
        at: dt.datetime | None = None,
        minutes: int = 30,
        **fields: Any,
    ) -> Booking:
        starts = at or (self.clock.now + dt.timedelta(hours=2))
        return Booking(
            patient_id=PatientId(patient.id),
            vet_id=StaffId(vet.id),
            room_id=room.id,
            starts_at=starts,
            ends_at=starts + dt.timedelta(minutes=minutes),
            **fields,
        )

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table, to prove that a refused write changed nothing."""
        result: dict[str, list[tuple[Any, ...]]] = {}
        with self.engine.connect() as conn:
            for table in metadata.sorted_tables:
                rows = conn.execute(sa.select(table).order_by(*table.primary_key.columns))
                result[table.name] = [tuple(row) for row in rows]
        return result


@pytest.fixture(scope="session")
def _postgres_engine() -> Iterator[Engine]:
    """One PostgreSQL database with the schema for the whole run, emptied before each test
    (creating a database per test costs ~0.7 s here; emptying one a few ms)."""
    require_postgres()
    url = create_database()
    engine = make_engine(url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()
    drop_database(url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def clinic(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Clinic]:
    """An empty schema on SQLite and on PostgreSQL, every service wired to one bus."""
    if request.param == "sqlite":
        yield from _sqlite_clinic(f"sqlite:///{tmp_path / 'clinic.db'}")
        return
    engine = request.getfixturevalue("_postgres_engine")
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    yield from clinic_on(engine)


@pytest.fixture
def sqlite_clinic(sqlite_url: str) -> Iterator[Clinic]:
    """The same on SQLite only, for behaviour that does not depend on the backend."""
    yield from _sqlite_clinic(sqlite_url)


def _sqlite_clinic(url: str) -> Iterator[Clinic]:
    engine = make_engine(url)
    metadata.create_all(engine)
    yield from clinic_on(engine)
    engine.dispose()


def clinic_on(engine: Engine) -> Iterator[Clinic]:
    """Every service on ``engine``'s (existing) schema."""
    sessions = make_session_factory(engine)
    bus = EventBus()
    clock = Clock()
    events: list[DomainEvent] = []
    bus.subscribe("*", events.append)
    # cheap argon2 parameters: the tests check the wiring, not the cost settings
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    kw: dict[str, Any] = {"clock": clock}
    yield Clinic(
        engine=engine,
        sessions=sessions,
        bus=bus,
        clock=clock,
        events=events,
        clients=ClientService(sessions, bus, **kw),
        patients=PatientService(sessions, bus, **kw),
        staff=StaffService(sessions, bus, password_hasher=hasher, **kw),
        appointments=AppointmentService(sessions, bus, **kw),
        rooms=RoomService(sessions, bus, **kw),
        medical=MedicalService(sessions, bus, **kw),
        invoices=InvoiceService(sessions, bus, **kw),
        reminders=ReminderService(sessions, bus, **kw),
        audit=AuditService(sessions),
    )
