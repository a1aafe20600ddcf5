"""Demo data: the sizes asked for, consistent and deterministic, usable by the services,
on SQLite and PostgreSQL; the ``purplecross demo`` command."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from purplecross_desktop.database import make_engine, make_session_factory
from purplecross_desktop.database.base import PatientId, StaffId
from purplecross_desktop.database.models import metadata
from purplecross_desktop.database.session import upgrade
from purplecross_desktop.demo import DemoDataError, generate_demo_data, is_database_empty
from purplecross_desktop.demo_command import demo_command
from purplecross_desktop.domain.appointments import AppointmentService, Booking
from purplecross_desktop.domain.errors import ValidationError
from purplecross_desktop.domain.events import EventBus
from purplecross_desktop.domain.staff import StaffService

NOW = dt.datetime(2031, 3, 5, 12, 7, tzinfo=dt.UTC)  # a Wednesday, mid-morning
SIZES = {"clients": 120, "patients": 180, "appointments": 1500}


def _snapshot(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns))]
            for t in metadata.sorted_tables
        }


def _count(conn: sa.Connection, sql: str) -> int:
    return int(conn.execute(sa.text(sql)).scalar_one())


@pytest.fixture
def filled(database_url: str) -> Iterator[sa.Engine]:
    upgrade(database_url)
    engine = make_engine(database_url)
    assert is_database_empty(make_session_factory(engine))
    summary = generate_demo_data(engine, seed=3, now=NOW, **SIZES)
    assert summary.counts["clients"] == SIZES["clients"]
    assert summary.counts["patients"] == SIZES["patients"]
    assert summary.counts["appointments"] == SIZES["appointments"]
    for table in ("staff", "rooms", "prescriptions", "vaccinations", "invoices", "reminders"):
        assert summary.counts[table] > 0, table
    yield engine
    engine.dispose()


def test_filled_database_is_consistent_whole_and_usable(filled: sa.Engine) -> None:
    """One fill per backend (filling is the slow part), three checks."""
    _check_consistent(filled)
    _check_schema_whole_and_services_carry_on(filled)


def _check_consistent(filled: sa.Engine) -> None:
    with filled.connect() as conn:
        for column in ("vet_id", "room_id", "patient_id"):
            overlaps = _count(
                conn,
                "SELECT count(*) FROM appointments a JOIN appointments b"
                f" ON a.{column} = b.{column} AND a.id < b.id"
                " AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at"
                " WHERE a.status NOT IN ('cancelled', 'no_show')"
                " AND b.status NOT IN ('cancelled', 'no_show')",
            )
            assert overlaps == 0, column
        appointments = metadata.tables["appointments"]
        for status, starts, ends, completed, booked in conn.execute(
            sa.select(
                appointments.c.status,
                appointments.c.starts_at,
                appointments.c.ends_at,
                appointments.c.completed_at,
                appointments.c.booked_at,
            )
        ):
            assert booked < starts
            if status.value in ("completed", "no_show"):
                assert ends <= NOW
            if status.value == "completed":
                assert completed is not None
            if status.value in ("scheduled", "confirmed"):
                assert starts > NOW
        assert (
            _count(
                conn,
                "SELECT count(*) FROM appointments WHERE vet_id NOT IN"
                " (SELECT id FROM staff WHERE role = 'veterinarian')",
            )
            == 0
        )
        assert (
            _count(
                conn,
                "SELECT count(*) FROM appointments a JOIN patients p"
                " ON p.id = a.patient_id WHERE p.client_id <> a.client_id",
            )
            == 0
        )
        assert (
            _count(
                conn,
                "SELECT count(*) FROM invoices WHERE total <> subtotal + tax"
                " OR balance <> total - paid",
            )
            == 0
        )
        assert (
            _count(
                conn,
                "SELECT count(*) FROM invoices i WHERE subtotal <> (SELECT"
                " sum(net_amount) FROM invoice_lines l WHERE l.invoice_id = i.id)",
            )
            == 0
        )
        assert (
            _count(conn, "SELECT count(*) FROM invoices WHERE status = 'paid' AND balance <> 0")
            == 0
        )
        assert _count(conn, "SELECT count(*) FROM clients WHERE email NOT LIKE '%@example.%'") == 0
        if filled.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        species = {r[0] for r in conn.exec_driver_sql("SELECT DISTINCT species FROM patients")}
        assert {"dog", "cat"} <= species


def _index_names(engine: sa.Engine) -> set[str]:
    # the catalogues, not the inspector: SQLite's cannot reflect the lower(name) indexes
    sql = (
        "SELECT name FROM sqlite_master WHERE type = 'index'"
        if engine.dialect.name == "sqlite"
        else "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
    )
    with engine.connect() as conn:
        return {row[0] for row in conn.execute(sa.text(sql))}


def _check_schema_whole_and_services_carry_on(filled: sa.Engine) -> None:
    expected = {str(i.name) for t in metadata.sorted_tables for i in t.indexes}
    assert len(expected) > 50
    assert expected <= _index_names(filled)
    if filled.dialect.name == "postgresql":
        with filled.connect() as conn:
            guards = conn.execute(
                sa.text("SELECT conname FROM pg_constraint WHERE contype = 'x' ORDER BY 1")
            )
            assert [r[0] for r in guards] == [
                "ex_appointments_room_overlap",
                "ex_appointments_vet_overlap",
            ]
    sessions = make_session_factory(filled)
    assert not is_database_empty(sessions)
    bus = EventBus()
    appointments = AppointmentService(sessions, bus, clock=lambda: NOW)
    staff = StaffService(sessions, bus)
    vet = staff.search(role="veterinarian", limit=1).items[0]
    assert staff.authenticate(vet.login, "purplecross") is not None
    free_day = NOW.replace(hour=0, minute=0) + dt.timedelta(days=400)
    booked = appointments.book(
        Booking(
            patient_id=PatientId(1),
            vet_id=StaffId(vet.id),
            room_id=1,
            starts_at=free_day,
            ends_at=free_day + dt.timedelta(minutes=30),
        )
    )
    assert booked.id == SIZES["appointments"] + 1  # the id sequence moved past the demo's ids
    today = appointments.search(
        starts_from=NOW.replace(hour=0, minute=0), starts_before=NOW.replace(hour=23)
    )
    assert today.total > 0


def test_same_seed_same_data_other_seed_other_data(tmp_path: Path) -> None:
    engines = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        engine = make_engine(f"sqlite:///{tmp_path / name}.db")
        metadata.create_all(engine)
        generate_demo_data(engine, clients=30, patients=40, appointments=200, seed=seed, now=NOW)
        engines.append(engine)
    a, b, c = (_snapshot(e) for e in engines)
    for engine in engines:
        engine.dispose()
    assert a == b
    assert a["clients"] != c["clients"]


def test_refuses_a_database_with_data_and_bad_sizes(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    with pytest.raises(ValidationError) as caught:
        generate_demo_data(engine, clients=0, patients=-1, appointments=5)
    assert caught.value.errors == {
        "clients": ["must be ≥ 1"],
        "patients": ["must not be negative"],
    }
    with pytest.raises(ValidationError, match="appointments: need at least one patient"):
        generate_demo_data(engine, clients=1, patients=0, appointments=5)
    generate_demo_data(engine, clients=5, patients=5, appointments=10, now=NOW)
    before = _snapshot(engine)
    with pytest.raises(DemoDataError, match="already has clients"):
        generate_demo_data(engine, clients=5, patients=5, appointments=10, now=NOW)
    assert _snapshot(engine) == before
    engine.dispose()


def test_an_unmigrated_database_counts_as_empty(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    assert is_database_empty(make_session_factory(engine))
    engine.dispose()


def test_the_demo_command_upgrades_and_fills_the_configured_database(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        demo_command, ["--clients", "20", "--patients", "30", "--appointments", "100"]
    )
    assert result.exit_code == 0, result.output
    assert "appointments" in result.output
    assert "100" in result.output
    again = runner.invoke(demo_command, ["--clients", "20"])
    assert again.exit_code == 1
    assert "already has clients" in again.output


def test_row_prefetching_hands_over_errors_and_never_hangs() -> None:
    from purplecross_desktop.demo import _prefetched

    def chunks(fail_at: int | None) -> Iterator[list[Any]]:
        for i in range(10):
            if i == fail_at:
                raise RuntimeError("generator broke")
            yield [(i,)]

    assert [c[0][0] for c in _prefetched(chunks(None))] == list(range(10))
    with pytest.raises(RuntimeError, match="generator broke"):
        list(_prefetched(chunks(3)))

    # the consumer fails while the producer waits on a full queue: both end
    def write_all() -> None:
        for chunk in _prefetched(chunks(None)):
            if chunk[0][0] == 1:
                raise ValueError("database broke")

    with pytest.raises(ValueError, match="database broke"):
        write_all()


def test_the_first_admin_stays_and_demo_staff_have_every_role_and_easy_logins(
    database_url: str,
) -> None:
    from argon2 import PasswordHasher

    from purplecross_desktop.domain.roles import StaffRole
    from purplecross_desktop.domain.rooms import RoomService
    from purplecross_desktop.domain.staff import StaffData

    upgrade(database_url)
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    bus = EventBus()
    staff = StaffService(sessions, bus, password_hasher=PasswordHasher(time_cost=1))
    first = staff.create_first_admin(StaffData("Jo Owner", "admin", "admin"), "jo's secret")
    RoomService(sessions, bus).create("Consulting room 1b")
    assert is_database_empty(sessions)  # an admin alone is still an empty clinic
    generate_demo_data(engine, clients=20, patients=30, appointments=200, seed=2, now=NOW)
    assert not is_database_empty(sessions)
    assert staff.authenticate("admin", "jo's secret") is not None
    assert staff.get(StaffId(first.id)).name == "Jo Owner"
    for login, role in (
        ("vet", StaffRole.VETERINARIAN),
        ("desk", StaffRole.FRONT_DESK),
        ("manager", StaffRole.PRACTICE_MANAGER),
    ):
        signed = staff.authenticate(login, "purplecross")
        assert signed is not None, login
        assert signed.role == role
    admins = staff.search(role="admin").items
    assert len(admins) == 3
    assert {a.login for a in admins} > {"admin"}
    with engine.connect() as conn:
        booked_vets = {
            r[0] for r in conn.execute(sa.text("SELECT DISTINCT vet_id FROM appointments"))
        }
        vets = {
            r[0] for r in conn.execute(sa.text("SELECT id FROM staff WHERE role='veterinarian'"))
        }
        rooms = set(conn.execute(sa.text("SELECT DISTINCT room_id FROM appointments")).scalars())
        first_room = conn.execute(sa.text("SELECT min(id) FROM rooms")).scalar_one()
    assert booked_vets <= vets
    assert first.id not in booked_vets
    assert first_room not in rooms
    engine.dispose()


def test_the_demo_clinic_has_a_price_list_for_checkout(filled: sa.Engine) -> None:
    from purplecross_desktop.database import make_session_factory
    from purplecross_desktop.demo import DEMO_PRICE_LIST
    from purplecross_desktop.domain.events import EventBus
    from purplecross_desktop.domain.price_list import PriceListService

    items = PriceListService(make_session_factory(filled), EventBus()).search().items
    assert sorted(i.name for i in items) == sorted(name for name, *_ in DEMO_PRICE_LIST)
    assert {i.kind.value for i in items} == {"service", "product"}
