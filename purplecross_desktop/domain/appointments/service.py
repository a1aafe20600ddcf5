"""Booking, rescheduling and moving appointments through their statuses; searches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from purplecross_desktop.clinic_time import ClinicTime
from purplecross_desktop.database.base import (
    AppointmentId,
    ClientId,
    PatientId,
    RoomId,
    StaffId,
    utcnow,
)
from purplecross_desktop.database.session import SessionFactory
from purplecross_desktop.domain.appointments.model import (
    BLOCKING,
    STAMP,
    TRANSITIONS,
    Appointment,
    AppointmentStatus,
    AppointmentType,
)
from purplecross_desktop.domain.clients import Client
from purplecross_desktop.domain.events import EventBus
from purplecross_desktop.domain.patients import MAX_WEIGHT_KG, Patient, PatientWeight
from purplecross_desktop.domain.query import Page, like_pattern, paginate
from purplecross_desktop.domain.rooms import Room, check_room
from purplecross_desktop.domain.service import (
    Clock,
    CurrentActor,
    ServiceBase,
    UnitOfWork,
    apply_changes,
    get_or_raise,
    system_actor,
)
from purplecross_desktop.domain.staff import Staff, StaffRole, require_role
from purplecross_desktop.domain.validation import Checker, unknown_fields

PAST_GRACE = dt.timedelta(minutes=5)
MIN_LENGTH = dt.timedelta(minutes=5)
MAX_LENGTH = dt.timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class Booking:
    """What is needed to book an appointment (``client_id`` defaults to the owner)."""

    patient_id: PatientId
    vet_id: StaffId
    room_id: RoomId
    starts_at: dt.datetime
    ends_at: dt.datetime
    type: AppointmentType | str = AppointmentType.CONSULTATION
    reason: str = ""
    notes: str = ""
    client_id: ClientId | None = None


EDITABLE = frozenset({"type", "reason", "notes"})

#: Candidate start times of a free-slot search fall on this grid (from each window's start).
SLOT_STEP = dt.timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class FreeSlot:
    """A time when a vet and a room (and the patient, if given) are all free."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    vet_id: int
    room_id: int


class AppointmentService(ServiceBase):
    """Book, reschedule, move through statuses and find appointments.

    ``timezone`` is the clinic's IANA zone (``settings.clinic_timezone``): messages name
    times on the clinic's wall clock, as the receptionist reads them; other arguments as
    :class:`ServiceBase`.
    """

    def __init__(
        self,
        session_factory: SessionFactory,
        events: EventBus,
        *,
        clock: Clock = utcnow,
        current_actor: CurrentActor = system_actor,
        timezone: str = "UTC",
    ) -> None:
        super().__init__(session_factory, events, clock=clock, current_actor=current_actor)
        self._clinic_time = ClinicTime(timezone)

    ORDER = {
        "starts_at": Appointment.starts_at,
        "ends_at": Appointment.ends_at,
        "status": Appointment.status,
        "type": Appointment.type,
        "vet_id": Appointment.vet_id,
        "room_id": Appointment.room_id,
        "booked_at": Appointment.booked_at,
        "id": Appointment.id,
    }

    # --- booking -------------------------------------------------------------------------

    def book(self, booking: Booking, *, actor: StaffId | None = None) -> Appointment:
        """Book an appointment in the future for a free vet and room."""
        with self._write(actor) as uow:
            checker = Checker()
            starts, ends = self._check_times(booking.starts_at, booking.ends_at, uow.now, checker)
            kind = checker.choice("type", booking.type, AppointmentType)
            reason = checker.text("reason", booking.reason, required=False, max_length=500)
            notes = checker.text("notes", booking.notes, required=False, max_length=10_000)
            client_id = self._check_parties(uow.session, booking, checker)
            if starts and ends:
                self._check_free(uow.session, booking, starts, ends, None, checker)
            checker.raise_if_any()
            appointment = Appointment(
                patient_id=booking.patient_id,
                client_id=client_id,
                vet_id=booking.vet_id,
                room_id=booking.room_id,
                starts_at=starts,
                ends_at=ends,
                type=kind,
                reason=reason or "",
                notes=notes or "",
                status=AppointmentStatus.SCHEDULED,
                booked_at=uow.now,
                updated_at=uow.now,
            )
            uow.session.add(appointment)
            uow.session.flush()
            uow.audit("booked", "appointment", appointment.id, _snapshot(appointment))
            uow.emit("appointment.booked", appointment.id, **_payload(appointment))
        return appointment

    def reschedule(
        self,
        appointment_id: AppointmentId,
        starts_at: dt.datetime,
        ends_at: dt.datetime,
        *,
        vet_id: StaffId | None = None,
        room_id: RoomId | None = None,
        actor: StaffId | None = None,
    ) -> Appointment:
        """Move a scheduled or confirmed appointment (optionally to another vet or room)."""
        with self._write(actor) as uow:
            appt = get_or_raise(uow.session, Appointment, "appointment", appointment_id)
            checker = Checker()
            if appt.status not in (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED):
                checker.add("status", f"a {appt.status.value} appointment cannot be rescheduled")
                checker.raise_if_any()
            starts, ends = self._check_times(starts_at, ends_at, uow.now, checker)
            booking = Booking(
                patient_id=PatientId(appt.patient_id),
                vet_id=vet_id if vet_id is not None else StaffId(appt.vet_id),
                room_id=room_id if room_id is not None else RoomId(appt.room_id),
                starts_at=starts_at,
                ends_at=ends_at,
                client_id=ClientId(appt.client_id),
            )
            if vet_id is not None:
                require_role(uow.session, vet_id, StaffRole.VETERINARIAN, "vet_id", checker)
            if room_id is not None:
                check_room(uow.session, room_id, checker)
            if starts and ends:
                self._check_free(uow.session, booking, starts, ends, appt.id, checker)
            checker.raise_if_any()
            old = {"starts_at": appt.starts_at.isoformat(), "ends_at": appt.ends_at.isoformat()}
            changed = apply_changes(
                appt,
                {
                    "starts_at": starts,
                    "ends_at": ends,
                    "vet_id": booking.vet_id,
                    "room_id": booking.room_id,
                },
            )
            if changed:
                appt.updated_at = uow.now
                uow.audit("rescheduled", "appointment", appt.id, changed)
                uow.emit(
                    "appointment.rescheduled",
                    appt.id,
                    **_payload(appt),
                    previous_starts_at=old["starts_at"],
                    previous_ends_at=old["ends_at"],
                )
        return appt

    def update(
        self,
        appointment_id: AppointmentId,
        changes: Mapping[str, object],
        *,
        actor: StaffId | None = None,
    ) -> Appointment:
        """Change the type, reason or notes (times: ``reschedule``; status: ``set_status``)."""
        unknown_fields(dict(changes), EDITABLE)
        with self._write(actor) as uow:
            appt = get_or_raise(uow.session, Appointment, "appointment", appointment_id)
            checker = Checker()
            values: dict[str, Any] = {}
            if "type" in changes:
                values["type"] = checker.choice("type", changes["type"], AppointmentType)
            if "reason" in changes:
                text = checker.text("reason", changes["reason"], required=False, max_length=500)
                values["reason"] = text or ""
            if "notes" in changes:
                text = checker.text("notes", changes["notes"], required=False, max_length=10_000)
                values["notes"] = text or ""
            checker.raise_if_any()
            changed = apply_changes(appt, values)
            if changed:
                appt.updated_at = uow.now
                uow.audit("updated", "appointment", appt.id, changed)
                uow.emit("appointment.updated", appt.id, **_payload(appt), fields=sorted(changed))
        return appt

    # --- statuses ------------------------------------------------------------------------

    def set_status(
        self,
        appointment_id: AppointmentId,
        status: AppointmentStatus | str,
        *,
        reason: str | None = None,
        actor: StaffId | None = None,
    ) -> Appointment:
        """Move to ``status`` if ``TRANSITIONS`` allows it, stamping the time of the move.

        Publishes ``appointment.status_changed`` and, for those two, also
        ``appointment.cancelled`` / ``appointment.completed``.
        """
        with self._write(actor) as uow:
            return self._move(uow, appointment_id, status, reason, Checker())

    def _move(
        self,
        uow: UnitOfWork,
        appointment_id: AppointmentId,
        status: AppointmentStatus | str,
        reason: str | None,
        checker: Checker,
    ) -> Appointment:
        """``set_status`` inside an open unit of work; problems already in ``checker``
        (e.g. a check-in weight) are reported together with the move's own."""
        appt = get_or_raise(uow.session, Appointment, "appointment", appointment_id)
        target = checker.choice("status", status, AppointmentStatus)
        if target is None:
            checker.raise_if_any()
        assert target is not None
        current = appt.status
        if target not in TRANSITIONS[current]:
            allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (it is final)"
            checker.add(
                "status",
                f"cannot go from {current.value} to {target.value} (allowed: {allowed})",
            )
        if target is AppointmentStatus.NO_SHOW and uow.now < appt.starts_at:
            checker.add("status", "no_show can only be recorded after the start time")
        note = checker.text("reason", reason, required=False, max_length=500)
        checker.raise_if_any()
        appt.status = target
        setattr(appt, STAMP[target], uow.now)
        if target is AppointmentStatus.CANCELLED:
            appt.cancel_reason = note
        appt.updated_at = uow.now
        uow.audit(
            "status_changed",
            "appointment",
            appt.id,
            {"status": [current.value, target.value], STAMP[target]: [None, uow.now]},
        )
        payload = _payload(appt)
        uow.emit("appointment.status_changed", appt.id, **payload, previous=current)
        if target is AppointmentStatus.CANCELLED:
            uow.emit("appointment.cancelled", appt.id, **payload, reason=note)
        elif target is AppointmentStatus.COMPLETED:
            uow.emit("appointment.completed", appt.id, **payload)
        return appt

    def confirm(
        self, appointment_id: AppointmentId, *, actor: StaffId | None = None
    ) -> Appointment:
        """The client confirmed they will come."""
        return self.set_status(appointment_id, AppointmentStatus.CONFIRMED, actor=actor)

    def check_in(
        self,
        appointment_id: AppointmentId,
        *,
        weight_kg: Decimal | str | float | None = None,
        actor: StaffId | None = None,
    ) -> Appointment:
        """The patient arrived at the front desk; ``weight_kg``, when weighed there, goes
        into the patient's weight history in the same transaction (both or neither)."""
        with self._write(actor) as uow:
            checker = Checker()
            weight = None
            if weight_kg is not None and weight_kg != "":
                weight = checker.decimal(
                    "weight_kg",
                    weight_kg,
                    minimum=Decimal(0),
                    exclusive_minimum=True,
                    maximum=MAX_WEIGHT_KG,
                    places=3,
                )
            appt = self._move(uow, appointment_id, AppointmentStatus.ARRIVED, None, checker)
            if weight is not None:
                patient = get_or_raise(uow.session, Patient, "patient", appt.patient_id)
                uow.session.add(
                    PatientWeight(
                        patient_id=patient.id, measured_on=uow.now.date(), weight_kg=weight
                    )
                )
                patient.updated_at = uow.now
                uow.audit("weight_recorded", "patient", patient.id, {"weight_kg": [None, weight]})
                uow.emit(
                    "patient.updated", patient.id, client_id=patient.client_id, fields=["weights"]
                )
        return appt

    def start_consult(
        self, appointment_id: AppointmentId, *, actor: StaffId | None = None
    ) -> Appointment:
        """The vet called the patient in."""
        return self.set_status(appointment_id, AppointmentStatus.IN_CONSULT, actor=actor)

    def complete(
        self, appointment_id: AppointmentId, *, actor: StaffId | None = None
    ) -> Appointment:
        """The consultation is over."""
        return self.set_status(appointment_id, AppointmentStatus.COMPLETED, actor=actor)

    def cancel(
        self, appointment_id: AppointmentId, reason: str = "", *, actor: StaffId | None = None
    ) -> Appointment:
        """Cancel and free the slot."""
        return self.set_status(
            appointment_id, AppointmentStatus.CANCELLED, reason=reason, actor=actor
        )

    def mark_no_show(
        self, appointment_id: AppointmentId, *, actor: StaffId | None = None
    ) -> Appointment:
        """The patient did not come (only after the start time)."""
        return self.set_status(appointment_id, AppointmentStatus.NO_SHOW, actor=actor)

    # --- reading -------------------------------------------------------------------------

    def get(self, appointment_id: AppointmentId) -> Appointment:
        """One appointment, or ``NotFound``."""
        with self._read() as session:
            return get_or_raise(session, Appointment, "appointment", appointment_id)

    def search(
        self,
        text: str | None = None,
        *,
        starts_from: dt.datetime | None = None,
        starts_before: dt.datetime | None = None,
        status: AppointmentStatus | str | Iterable[AppointmentStatus | str] | None = None,
        vet_id: StaffId | None = None,
        room_id: RoomId | None = None,
        patient_id: PatientId | None = None,
        client_id: ClientId | None = None,
        order: str | Sequence[str] = "starts_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[Appointment]:
        """Appointments in a time window, by status/vet/room/patient/client, or by text
        (patient name, client name, reason)."""
        stmt = sa.select(Appointment)
        checker = Checker()
        if text and text.strip():
            pattern = like_pattern(text)
            stmt = stmt.where(
                sa.or_(
                    sa.func.lower(Appointment.reason).like(pattern, escape="\\"),
                    Appointment.patient_id.in_(
                        sa.select(Patient.id).where(
                            sa.func.lower(Patient.name).like(pattern, escape="\\")
                        )
                    ),
                    Appointment.client_id.in_(
                        sa.select(Client.id).where(
                            sa.func.lower(Client.name).like(pattern, escape="\\")
                        )
                    ),
                )
            )
        if starts_from is not None:
            stmt = stmt.where(Appointment.starts_at >= checker.moment("starts_from", starts_from))
        if starts_before is not None:
            stmt = stmt.where(
                Appointment.starts_at < checker.moment("starts_before", starts_before)
            )
        if status is not None:
            wanted = [status] if isinstance(status, str) else list(status)
            members = [checker.choice("status", s, AppointmentStatus) for s in wanted]
            stmt = stmt.where(Appointment.status.in_(members))
        checker.raise_if_any()
        for column, value in (
            (Appointment.vet_id, vet_id),
            (Appointment.room_id, room_id),
            (Appointment.patient_id, patient_id),
            (Appointment.client_id, client_id),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        with self._read() as session:
            return paginate(
                session, stmt, order, self.ORDER, limit, offset, tiebreak=Appointment.id
            )

    def next_free_slot(
        self,
        windows: Sequence[tuple[dt.datetime, dt.datetime]],
        length: dt.timedelta,
        *,
        vet_id: StaffId | None = None,
        room_id: RoomId | None = None,
        patient_id: PatientId | None = None,
        step: dt.timedelta = SLOT_STEP,
    ) -> FreeSlot | None:
        """The earliest slot of ``length`` inside one of ``windows`` (opening hours, in
        order) when the vet (any active vet if None), the room (any active room if None)
        and the patient are all free; None if there is none. Two queries, whatever the span.
        """
        checker = Checker()
        if not windows:
            checker.add("windows", "must not be empty")
        if length < MIN_LENGTH or length > MAX_LENGTH:
            checker.add("length", "must be between 5 minutes and 12 hours")
        if step <= dt.timedelta(0):
            checker.add("step", "must be positive")
        bounds = [(checker.moment("windows", a), checker.moment("windows", b)) for a, b in windows]
        checker.raise_if_any()
        span_start = min(a for a, _b in bounds if a is not None)
        span_end = max(b for _a, b in bounds if b is not None)
        with self._read() as session:
            vets = (
                [int(vet_id)]
                if vet_id is not None
                else list(
                    session.scalars(
                        sa.select(Staff.id)
                        .where(Staff.role == StaffRole.VETERINARIAN, Staff.active.is_(True))
                        .order_by(Staff.name, Staff.id)
                    )
                )
            )
            rooms = (
                [int(room_id)]
                if room_id is not None
                else list(
                    session.scalars(
                        sa.select(Room.id).where(Room.active.is_(True)).order_by(Room.name)
                    )
                )
            )
            if not vets or not rooms:
                return None
            busy = session.execute(
                sa.select(
                    Appointment.starts_at,
                    Appointment.ends_at,
                    Appointment.vet_id,
                    Appointment.room_id,
                    Appointment.patient_id,
                ).where(
                    Appointment.status.in_(BLOCKING),
                    Appointment.starts_at < span_end,
                    Appointment.ends_at > span_start,
                    sa.or_(
                        Appointment.vet_id.in_(vets),
                        Appointment.room_id.in_(rooms),
                        Appointment.patient_id == (patient_id or -1),
                    ),
                )
            ).all()
        now = self._clock()
        for start, end in bounds:
            assert start is not None
            assert end is not None
            moment = start
            while moment + length <= end:
                if moment >= now - PAST_GRACE:
                    slot = _free_at(moment, moment + length, vets, rooms, patient_id, busy)
                    if slot is not None:
                        return slot
                moment += step
        return None

    # --- checks --------------------------------------------------------------------------

    @staticmethod
    def _check_times(
        starts_at: object, ends_at: object, now: dt.datetime, checker: Checker
    ) -> tuple[dt.datetime | None, dt.datetime | None]:
        starts = checker.moment("starts_at", starts_at)
        ends = checker.moment("ends_at", ends_at)
        if starts is not None and starts < now - PAST_GRACE:
            checker.add("starts_at", "must not be in the past")
        if starts is not None and ends is not None:
            if ends <= starts:
                checker.add("ends_at", "must be after starts_at")
            elif ends - starts < MIN_LENGTH:
                checker.add("ends_at", "must be at least 5 minutes after starts_at")
            elif ends - starts > MAX_LENGTH:
                checker.add("ends_at", "must be at most 12 hours after starts_at")
        return starts, ends

    @staticmethod
    def _check_parties(session: Session, booking: Booking, checker: Checker) -> int | None:
        patient = (
            session.get(Patient, booking.patient_id)
            if isinstance(booking.patient_id, int)
            else None
        )
        client_id: int | None = None
        if patient is None:
            checker.add("patient_id", "must be an existing patient")
        elif patient.deceased:
            checker.add("patient_id", "must not be a deceased patient")
        elif not patient.active:
            checker.add("patient_id", "must be an active patient")
        else:
            client_id = patient.client_id
        if booking.client_id is not None and patient is not None:
            if not isinstance(booking.client_id, int) or not session.get(Client, booking.client_id):
                checker.add("client_id", "must be an existing client")
            elif booking.client_id != patient.client_id:
                checker.add("client_id", "must be the owner of the patient")
        require_role(session, booking.vet_id, StaffRole.VETERINARIAN, "vet_id", checker)
        if booking.vet_id is None:
            checker.add("vet_id", "must not be empty")
        check_room(session, booking.room_id, checker)
        return client_id

    def _check_free(
        self,
        session: Session,
        booking: Booking,
        starts: dt.datetime,
        ends: dt.datetime,
        own_id: int | None,
        checker: Checker,
    ) -> None:
        if not (checker.ok("vet_id") and checker.ok("room_id") and checker.ok("patient_id")):
            return
        # Serialise bookings of this vet and room across workstations (no-op on SQLite,
        # whose single writer already does it).
        session.execute(sa.select(Staff.id).where(Staff.id == booking.vet_id).with_for_update())
        session.execute(sa.select(Room.id).where(Room.id == booking.room_id).with_for_update())
        clashes = session.scalars(
            sa.select(Appointment)
            .where(
                Appointment.status.in_(BLOCKING),
                Appointment.starts_at < ends,
                Appointment.ends_at > starts,
                sa.or_(
                    Appointment.vet_id == booking.vet_id,
                    Appointment.room_id == booking.room_id,
                    Appointment.patient_id == booking.patient_id,
                ),
                Appointment.id != (own_id or 0),
            )
            .order_by(Appointment.starts_at)
        )
        for other in clashes:
            when = self._clinic_time.format_span(other.starts_at, other.ends_at)
            if other.vet_id == booking.vet_id:
                checker.add("vet_id", f"is already booked {when} (appointment {other.id})")
            if other.room_id == booking.room_id:
                checker.add("room_id", f"is already booked {when} (appointment {other.id})")
            if other.patient_id == booking.patient_id:
                checker.add("patient_id", f"already has an appointment {when} ({other.id})")


def _free_at(
    starts: dt.datetime,
    ends: dt.datetime,
    vets: Sequence[int],
    rooms: Sequence[int],
    patient_id: int | None,
    busy: Sequence[Any],
) -> FreeSlot | None:
    clashing = [b for b in busy if b[0] < ends and b[1] > starts]
    if patient_id is not None and any(b[4] == patient_id for b in clashing):
        return None
    taken_vets = {b[2] for b in clashing}
    taken_rooms = {b[3] for b in clashing}
    vet = next((v for v in vets if v not in taken_vets), None)
    room = next((r for r in rooms if r not in taken_rooms), None)
    if vet is None or room is None:
        return None
    return FreeSlot(starts, ends, vet, room)


def _payload(appt: Appointment) -> dict[str, Any]:
    return {
        "patient_id": appt.patient_id,
        "client_id": appt.client_id,
        "vet_id": appt.vet_id,
        "room_id": appt.room_id,
        "starts_at": appt.starts_at.isoformat(),
        "ends_at": appt.ends_at.isoformat(),
        "status": appt.status.value,
    }


def _snapshot(appt: Appointment) -> dict[str, list[Any]]:
    fields = ("patient_id", "client_id", "vet_id", "room_id", "starts_at", "ends_at", "type")
    return {name: [None, getattr(appt, name)] for name in fields} | {"status": [None, "scheduled"]}
