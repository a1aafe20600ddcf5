"""Booking, double-booking detection, rescheduling, status transitions and searches."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from purplecross_desktop.database.base import AppointmentId, PatientId, StaffId
from purplecross_desktop.domain.appointments import (
    STAMP,
    TRANSITIONS,
    AppointmentService,
    AppointmentStatus,
    Booking,
)
from purplecross_desktop.domain.errors import Conflict, ValidationError
from tests.purplecross_desktop.domain.conftest import Clinic


def test_booking_stores_the_appointment_and_publishes_booked(clinic: Clinic) -> None:
    patient, vet, room = clinic.patient(), clinic.vet(), clinic.room()
    booking = clinic.booking(patient, vet, room, type="vaccination", reason="annual booster")
    appt = clinic.appointments.book(booking)
    stored = clinic.appointments.get(AppointmentId(appt.id))
    assert stored.status is AppointmentStatus.SCHEDULED
    assert stored.client_id == patient.client_id  # taken from the patient
    assert stored.starts_at == booking.starts_at
    assert stored.booked_at == clinic.clock.now
    event = clinic.events[-1]
    assert event.name == "appointment.booked"
    assert event.data["patient_id"] == patient.id
    assert event.data["client_id"] == patient.client_id
    assert event.data["starts_at"] == booking.starts_at.isoformat()


def test_back_to_back_and_cancelled_slots_are_free(clinic: Clinic) -> None:
    patient, other, vet, room = (
        clinic.patient(),
        clinic.patient(name="Fido"),
        clinic.vet(),
        clinic.room(),
    )
    at = clinic.clock.now + dt.timedelta(hours=1)
    first = clinic.appointments.book(clinic.booking(patient, vet, room, at=at))
    clinic.appointments.book(clinic.booking(other, vet, room, at=at + dt.timedelta(minutes=30)))
    with pytest.raises(ValidationError) as caught:
        clinic.appointments.book(clinic.booking(other, vet, room, at=at))
    assert set(caught.value.errors) == {"vet_id", "room_id"}
    assert f"appointment {first.id}" in caught.value.errors["vet_id"][0]
    clinic.appointments.cancel(AppointmentId(first.id), "owner ill")
    clinic.appointments.book(clinic.booking(other, vet, room, at=at - dt.timedelta(minutes=30)))
    clinic.appointments.book(clinic.booking(patient, vet, room, at=at))  # the freed slot


def test_two_vets_in_two_rooms_at_the_same_time(clinic: Clinic) -> None:
    a, b = clinic.patient(), clinic.patient(name="Fido")
    vet1, vet2 = clinic.vet(), clinic.vet("vet2", "Dr Two")
    room1, room2 = clinic.room(), clinic.room("Room 2")
    at = clinic.clock.now + dt.timedelta(hours=1)
    clinic.appointments.book(clinic.booking(a, vet1, room1, at=at))
    clinic.appointments.book(clinic.booking(b, vet2, room2, at=at))
    page = clinic.appointments.search(starts_from=at, starts_before=at + dt.timedelta(hours=1))
    assert page.total == 2


def test_the_whole_day_of_an_appointment(clinic: Clinic) -> None:
    patient, vet, room = clinic.patient(), clinic.vet(), clinic.room()
    appt = clinic.appointments.book(clinic.booking(patient, vet, room))
    aid = AppointmentId(appt.id)
    steps = [
        (clinic.appointments.confirm, AppointmentStatus.CONFIRMED, "confirmed_at"),
        (clinic.appointments.check_in, AppointmentStatus.ARRIVED, "arrived_at"),
        (clinic.appointments.start_consult, AppointmentStatus.IN_CONSULT, "consult_started_at"),
        (clinic.appointments.complete, AppointmentStatus.COMPLETED, "completed_at"),
    ]
    for step, status, stamp in steps:
        clinic.clock.advance(minutes=10)
        step(aid)
        stored = clinic.appointments.get(aid)
        assert stored.status is status
        assert getattr(stored, stamp) == clinic.clock.now
    names = [e.name for e in clinic.events if e.entity == "appointment"]
    assert names[-2:] == ["appointment.status_changed", "appointment.completed"]
    assert names.count("appointment.status_changed") == 4
    history = clinic.audit.search(entity="appointment", entity_id=appt.id, order="occurred_at")
    assert [e.changes.get("status") for e in history.items] == [
        [None, "scheduled"],
        ["scheduled", "confirmed"],
        ["confirmed", "arrived"],
        ["arrived", "in_consult"],
        ["in_consult", "completed"],
    ]


ALL_MOVES = [(a, b) for a in AppointmentStatus for b in AppointmentStatus]


@pytest.mark.parametrize(("source", "target"), ALL_MOVES, ids=[f"{a}->{b}" for a, b in ALL_MOVES])
def test_every_transition_is_allowed_or_refused_by_the_table(
    sqlite_clinic: Clinic, source: AppointmentStatus, target: AppointmentStatus
) -> None:
    clinic = sqlite_clinic
    patient, vet, room = clinic.patient(), clinic.vet(), clinic.room()
    appt = clinic.appointments.book(clinic.booking(patient, vet, room))
    aid = AppointmentId(appt.id)
    clinic.clock.advance(hours=3)  # past the start, so no-show is possible in time
    path = {
        AppointmentStatus.SCHEDULED: [],
        AppointmentStatus.CONFIRMED: ["confirmed"],
        AppointmentStatus.ARRIVED: ["arrived"],
        AppointmentStatus.IN_CONSULT: ["arrived", "in_consult"],
        AppointmentStatus.COMPLETED: ["arrived", "in_consult", "completed"],
        AppointmentStatus.CANCELLED: ["cancelled"],
        AppointmentStatus.NO_SHOW: ["no_show"],
    }[source]
    for status in path:
        clinic.appointments.set_status(aid, status)
    if target in TRANSITIONS[source]:
        clinic.appointments.set_status(aid, target)
        stored = clinic.appointments.get(aid)
        assert stored.status is target
        assert getattr(stored, STAMP[target]) == clinic.clock.now
    else:
        with pytest.raises(ValidationError) as caught:
            clinic.appointments.set_status(aid, target)
        assert f"cannot go from {source.value} to {target.value}" in str(caught.value)
        assert str(caught.value).startswith("status: ")
        assert clinic.appointments.get(aid).status is source


def test_cancel_keeps_the_reason_and_publishes_cancelled(clinic: Clinic) -> None:
    patient, vet, room = clinic.patient(), clinic.vet(), clinic.room()
    appt = clinic.appointments.book(clinic.booking(patient, vet, room))
    clinic.appointments.cancel(AppointmentId(appt.id), "moved away")
    stored = clinic.appointments.get(AppointmentId(appt.id))
    assert stored.cancel_reason == "moved away"
    assert stored.cancelled_at == clinic.clock.now
    cancelled = [e for e in clinic.events if e.name == "appointment.cancelled"]
    assert cancelled[0].data["reason"] == "moved away"


def test_reschedule_moves_and_checks_conflicts(clinic: Clinic) -> None:
    patient, other = clinic.patient(), clinic.patient(name="Fido")
    vet, room, room2 = clinic.vet(), clinic.room(), clinic.room("Room 2")
    at = clinic.clock.now + dt.timedelta(hours=1)
    appt = clinic.appointments.book(clinic.booking(patient, vet, room, at=at))
    blocker = clinic.appointments.book(
        clinic.booking(other, vet, room2, at=at + dt.timedelta(hours=2))
    )
    # overlapping itself is fine (moving by 15 minutes)
    moved = clinic.appointments.reschedule(
        AppointmentId(appt.id), at + dt.timedelta(minutes=15), at + dt.timedelta(minutes=45)
    )
    assert moved.starts_at == at + dt.timedelta(minutes=15)
    event = clinic.events[-1]
    assert event.name == "appointment.rescheduled"
    assert event.data["previous_starts_at"] == at.isoformat()
    with pytest.raises(ValidationError, match=f"appointment {blocker.id}"):
        clinic.appointments.reschedule(
            AppointmentId(appt.id), at + dt.timedelta(hours=2), at + dt.timedelta(hours=2.5)
        )
    clinic.appointments.cancel(AppointmentId(appt.id))
    with pytest.raises(ValidationError, match="a cancelled appointment cannot be rescheduled"):
        clinic.appointments.reschedule(
            AppointmentId(appt.id), at + dt.timedelta(hours=5), at + dt.timedelta(hours=5.5)
        )


def test_search_by_window_status_text_and_paging(clinic: Clinic) -> None:
    vet, room = clinic.vet(), clinic.room()
    owner = clinic.client("Grace Hopper", email="grace@example.org")
    rex = clinic.patient(owner.id, "Rex")
    tom = clinic.patient(owner.id, "Tom", species="cat")
    day = clinic.clock.now + dt.timedelta(days=1)
    booked = []
    for i in range(6):
        patient = rex if i % 2 == 0 else tom
        at = day + dt.timedelta(minutes=30 * i)
        booked.append(clinic.appointments.book(clinic.booking(patient, vet, room, at=at)))
    clinic.appointments.cancel(AppointmentId(booked[0].id))
    page = clinic.appointments.search(
        starts_from=day, starts_before=day + dt.timedelta(days=1), limit=2, offset=2
    )
    assert page.total == 6
    assert [a.id for a in page.items] == [booked[2].id, booked[3].id]
    assert clinic.appointments.search(status="cancelled").total == 1
    assert clinic.appointments.search(status=["scheduled", "confirmed"]).total == 5
    assert clinic.appointments.search("tom").total == 3
    assert clinic.appointments.search("hopper").total == 6
    assert clinic.appointments.search(patient_id=PatientId(rex.id)).total == 3
    latest = clinic.appointments.search(vet_id=StaffId(vet.id), order="-starts_at", limit=1)
    assert latest.items[0].id == booked[-1].id


def test_booking_a_deceased_patient_is_refused(clinic: Clinic) -> None:
    patient, vet, room = clinic.patient(), clinic.vet(), clinic.room()
    clinic.patients.mark_deceased(PatientId(patient.id))
    with pytest.raises(ValidationError, match="patient_id: must not be a deceased patient"):
        clinic.appointments.book(clinic.booking(patient, vet, room))


def test_two_desks_booking_the_same_slot_at_once_get_one_booking(clinic: Clinic) -> None:
    """Two threads (two workstations) race for one vet and slot: exactly one wins, the
    other gets the friendly double-booking error, on SQLite and PostgreSQL alike."""
    a, b = clinic.patient(), clinic.patient(name="Fido")
    vet, room1, room2 = clinic.vet(), clinic.room(), clinic.room("Room 2")
    at = clinic.clock.now + dt.timedelta(hours=1)
    bookings = [clinic.booking(a, vet, room1, at=at), clinic.booking(b, vet, room2, at=at)]
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def book(booking: Booking) -> None:
        barrier.wait()
        try:
            outcomes.append(clinic.appointments.book(booking).id)
        except (ValidationError, Conflict) as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=book, args=(bk,)) for bk in bookings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(outcomes) == 2
    assert len(errors) == 1, outcomes
    assert "vet_id: is already booked" in str(errors[0])
    assert clinic.appointments.search(vet_id=StaffId(vet.id)).total == 1


def test_rooms_are_renamed_retired_and_listed(clinic: Clinic) -> None:
    patient, vet = clinic.patient(), clinic.vet()
    room, other = clinic.room("Room 1"), clinic.room("Theatre")
    clinic.rooms.update(room.id, {"name": "Consulting 1"})
    with pytest.raises(ValidationError, match="name: is already used by another room"):
        clinic.rooms.update(room.id, {"name": "THEATRE"})
    clinic.rooms.update(other.id, {"active": False})
    assert [r.name for r in clinic.rooms.list()] == ["Consulting 1"]
    assert len(clinic.rooms.list(active=None)) == 2
    with pytest.raises(ValidationError, match="room_id: must be an active room"):
        clinic.appointments.book(clinic.booking(patient, vet, other))
    assert [e.name for e in clinic.events if e.entity == "room"] == [
        "room.created",
        "room.created",
        "room.updated",
        "room.updated",
    ]


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        ("Europe/London", "2031-07-07 09:00-09:30 BST"),
        ("America/New_York", "2031-07-07 04:00-04:30 EDT"),
    ],
)
def test_a_double_booking_names_the_clash_in_the_clinic_time_zone(
    clinic: Clinic, zone: str, shown: str
) -> None:
    """The receptionist reads the clinic's wall clock, not UTC: 08:00 UTC on a summer
    Monday is 09:00 in London and 04:00 in New York."""
    appointments = AppointmentService(
        clinic.sessions, clinic.bus, clock=clinic.clock, timezone=zone
    )
    patient, other, vet = clinic.patient(), clinic.patient(name="Fido"), clinic.vet()
    room, room2 = clinic.room(), clinic.room("Room 2")
    at = dt.datetime(2031, 7, 7, 8, 0, tzinfo=dt.UTC)
    first = appointments.book(clinic.booking(patient, vet, room, at=at))
    with pytest.raises(ValidationError) as refused:
        appointments.book(clinic.booking(other, vet, room2, at=at + dt.timedelta(minutes=10)))
    assert f"vet_id: is already booked {shown} (appointment {first.id})" in str(refused.value)
    assert "UTC" not in str(refused.value)
