"""The transactional outbox: every event is written with its change, and only then."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from purplecross_desktop.database.base import StaffId
from purplecross_desktop.domain.errors import ValidationError
from purplecross_desktop.domain.event_log import EVENT, EventLog
from purplecross_desktop.domain.events import EventBus
from purplecross_desktop.domain.rooms import RoomService
from tests.purplecross_desktop.domain.conftest import Clinic


def _rows(clinic: Clinic) -> list[dict[str, object]]:
    with clinic.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(EVENT).order_by(EVENT.c.id)).mappings()]


def test_a_booking_records_its_event_in_the_table_with_who_and_where(clinic: Clinic) -> None:
    vet, room, patient = clinic.vet(), clinic.room(), clinic.patient()
    before = len(_rows(clinic))
    appointment = clinic.appointments.book(
        clinic.booking(patient, vet, room), actor=StaffId(vet.id)
    )
    rows = _rows(clinic)[before:]
    assert [r["name"] for r in rows] == ["appointment.booked"]
    row = rows[0]
    assert row["entity"] == "appointment"
    assert row["entity_id"] == appointment.id
    assert row["staff_id"] == vet.id
    assert row["workstation"] == clinic.bus.workstation
    assert row["occurred_at"] == clinic.clock.now
    assert row["data"]["patient_id"] == patient.id  # type: ignore[index]
    assert row["data"]["starts_at"] == appointment.starts_at.isoformat()  # type: ignore[index]
    # The in-process bus still gets it after the commit, now carrying the durable id.
    published = clinic.events[-1]
    assert published.name == "appointment.booked"
    assert published.event_id == row["id"]


def test_every_event_of_one_write_is_recorded_in_order(clinic: Clinic) -> None:
    vet, room, patient = clinic.vet(), clinic.room(), clinic.patient()
    appointment = clinic.appointments.book(clinic.booking(patient, vet, room))
    before = len(_rows(clinic))
    clinic.appointments.cancel(appointment.id, "owner rang")
    names = [r["name"] for r in _rows(clinic)[before:]]
    assert names == ["appointment.status_changed", "appointment.cancelled"]
    assert [e.event_id for e in clinic.events[-2:]] == [r["id"] for r in _rows(clinic)[before:]]


def test_a_refused_write_records_no_event(clinic: Clinic) -> None:
    vet, room, patient = clinic.vet(), clinic.room(), clinic.patient()
    before = _rows(clinic)
    bad = clinic.booking(patient, vet, room, at=clinic.clock.now - dt.timedelta(days=1))
    with pytest.raises(ValidationError):
        clinic.appointments.book(bad)
    assert _rows(clinic) == before


def test_a_write_that_fails_after_emitting_rolls_its_event_back(clinic: Clinic) -> None:
    rooms = RoomService(clinic.sessions, clinic.bus, clock=clinic.clock)
    before = _rows(clinic)

    class BoomError(Exception):
        pass

    def write_then_fail() -> None:
        with rooms._write(None) as uow:
            uow.emit("room.created", 999, name="ghost")
            raise BoomError

    with pytest.raises(BoomError):
        write_then_fail()
    assert _rows(clinic) == before


def test_a_bus_that_is_not_durable_records_nothing(clinic: Clinic) -> None:
    bus = EventBus("bench", durable=False)
    rooms = RoomService(clinic.sessions, bus, clock=clinic.clock)
    before = _rows(clinic)
    rooms.create("Theatre")
    assert _rows(clinic) == before


def test_the_log_searches_by_name_pattern_time_and_record(clinic: Clinic) -> None:
    vet, room, patient = clinic.vet(), clinic.room(), clinic.patient()
    appointment = clinic.appointments.book(clinic.booking(patient, vet, room))
    clinic.appointments.cancel(appointment.id)
    log = EventLog(clinic.engine)
    names = [e.name for e in log.search(name="appointment.*")]
    assert names == ["appointment.cancelled", "appointment.status_changed", "appointment.booked"]
    assert [e.name for e in log.search(name="appointment.booked")] == ["appointment.booked"]
    about = log.search(entity="appointment", entity_id=appointment.id, limit=1)
    assert [e.name for e in about] == ["appointment.cancelled"]
    assert log.search(since=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)) == []
    everything = log.search(name="*", limit=1000)
    assert {"client.created", "patient.created", "staff.created", "room.created"} <= {
        e.name for e in everything
    }
    with pytest.raises(ValueError, match="since: must carry a time zone"):
        log.search(since=dt.datetime(2031, 1, 1))


def test_retention_deletes_only_events_recorded_before_the_cutoff(clinic: Clinic) -> None:
    clinic.room("Room A")
    clinic.room("Room B")
    log = EventLog(clinic.engine)
    old, new = log.search(name="room.created", limit=10)[::-1]
    with clinic.engine.begin() as conn:
        conn.execute(
            sa.update(EVENT)
            .where(EVENT.c.id == old.id)
            .values(recorded_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=91))
        )
    removed = log.purge(dt.datetime.now(dt.UTC) - dt.timedelta(days=90))
    assert removed == 1
    assert log.get(old.id) is None
    assert log.get(new.id) is not None
