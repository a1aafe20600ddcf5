"""Migrations: empty database -> head -> base -> head on SQLite and PostgreSQL, and the
migrated schema is exactly what the models declare."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.orm import Session

from purplecross_desktop.database import make_engine
from purplecross_desktop.database.models import metadata
from purplecross_desktop.database.session import current_revision, downgrade, upgrade
from purplecross_desktop.domain.appointments import Appointment, AppointmentStatus
from purplecross_desktop.domain.clients import Client
from purplecross_desktop.domain.patients import Patient, Species
from purplecross_desktop.domain.rooms import Room
from purplecross_desktop.domain.staff import Staff, StaffRole

CLINIC_TABLES = {
    "appointments",
    "audit_log",
    "client_phones",
    "clients",
    "invoice_lines",
    "invoices",
    "patient_weights",
    "patients",
    "payments",
    "prescriptions",
    "reminders",
    "rooms",
    "staff",
    "vaccinations",
}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _schema_diff(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


# SQLite cannot reflect lower(name) indexes, so Alembic says it skips comparing them.
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression")
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_upgrade_downgrade_round_trip_and_no_schema_drift(database_url: str) -> None:
    assert current_revision(database_url) is None

    upgrade(database_url)
    assert _tables(database_url) >= CLINIC_TABLES
    assert current_revision(database_url) is not None
    assert _schema_diff(database_url) == []

    downgrade(database_url, "base")
    assert _tables(database_url) == set()
    assert current_revision(database_url) is None

    upgrade(database_url)
    assert _tables(database_url) >= CLINIC_TABLES
    assert _schema_diff(database_url) == []


def test_first_revision_id_is_stable(sqlite_url: str) -> None:
    """Other areas chain their migrations onto ``0001_clinic``."""
    upgrade(sqlite_url, "0001_clinic")
    assert current_revision(sqlite_url) == "0001_clinic"


# What each backend's own guard says when it refuses an overlap: PostgreSQL's exclusion
# constraints by name, SQLite's triggers by message.
GUARD_ERRORS = {
    "postgresql": {
        "vet": "ex_appointments_vet_overlap",
        "room": "ex_appointments_room_overlap",
        "any": "_overlap",
    },
    "sqlite": {"vet": "double booking", "room": "double booking", "any": "double booking"},
}


def test_the_database_guards_against_double_booking_itself(database_url: str) -> None:
    """Even when two workstations race past the service check (or a writer skips it), the
    database refuses an overlapping vet or room; cancelled and back-to-back ones are fine."""
    upgrade(database_url)
    engine = make_engine(database_url)
    errors = GUARD_ERRORS[engine.dialect.name]
    now = dt.datetime(2030, 1, 1, 10, 0, tzinfo=dt.UTC)
    try:
        with Session(engine) as session, session.begin():
            session.add(Client(id=1, name="A"))
            session.flush()  # parents before children
            session.add_all(
                [
                    Patient(id=1, client_id=1, name="Rex", species=Species.DOG),
                    Staff(
                        id=1, name="Dr", role=StaffRole.VETERINARIAN, login="dr", password_hash="x"
                    ),
                    Staff(
                        id=2,
                        name="Dr 2",
                        role=StaffRole.VETERINARIAN,
                        login="dr2",
                        password_hash="x",
                    ),
                    Room(id=1, name="R1"),
                    Room(id=2, name="R2"),
                ]
            )

        def book(room: int, minute: int, status: str = "scheduled", vet: int = 1) -> int:
            with Session(engine) as session, session.begin():
                starts = now + dt.timedelta(minutes=minute)
                appt = Appointment(
                    patient_id=1,
                    client_id=1,
                    vet_id=vet,
                    room_id=room,
                    starts_at=starts,
                    ends_at=starts + dt.timedelta(minutes=30),
                    status=AppointmentStatus(status),
                )
                session.add(appt)
                session.flush()
                return appt.id

        book(1, 0)
        cancelled = book(1, 0, "cancelled")  # a cancelled appointment does not hold the slot
        book(1, 30)  # back to back is fine
        with pytest.raises(sa.exc.IntegrityError, match=errors["vet"]):
            book(2, 15)  # same vet
        with pytest.raises(sa.exc.IntegrityError, match=errors["room"]):
            book(1, 45, vet=2)  # same room
        book(2, 60 * 13)  # the next day's slot is free
        revive = (
            sa.update(Appointment)
            .where(Appointment.id == cancelled)
            .values(status=AppointmentStatus.SCHEDULED)
        )
        with engine.connect() as conn, pytest.raises(sa.exc.IntegrityError, match=errors["any"]):
            conn.execute(revive)
    finally:
        engine.dispose()


def _sqlite_objects(url: str) -> set[tuple[str, str]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT type, name FROM sqlite_master WHERE type IN ('index', 'trigger')")
            )
            return {(kind, name) for kind, name in rows}
    finally:
        engine.dispose()


@pytest.mark.slow
# A batch block reflects its table, and SQLite cannot reflect lower(name) indexes.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_every_step_down_and_back_keeps_sqlite_indexes_and_triggers(sqlite_url: str) -> None:
    """A batch operation that rebuilds a table on SQLite silently drops the indexes it cannot
    reflect (``lower(name)``) and the table's triggers; the schema comparison above cannot
    see either. Every index the models declare exists at head, and after undoing any one
    migration and upgrading again every index and trigger is still there."""
    from alembic.script import ScriptDirectory

    from purplecross_desktop.database.session import alembic_config

    upgrade(sqlite_url)
    at_head = _sqlite_objects(sqlite_url)
    declared = {str(i.name) for table in metadata.tables.values() for i in table.indexes}
    assert declared <= {name for kind, name in at_head if kind == "index"}
    assert ("trigger", "tr_appointments_no_overlap_insert") in at_head
    script = ScriptDirectory.from_config(alembic_config(sqlite_url))
    for revision in script.walk_revisions():
        downgrade(sqlite_url, str(revision.down_revision or "base"))
        upgrade(sqlite_url)
        assert _sqlite_objects(sqlite_url) == at_head, f"undoing {revision.revision}"
