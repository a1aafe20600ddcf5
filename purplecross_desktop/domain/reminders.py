"""Reminders to clients (appointments, vaccinations, medication, follow-ups, payments)."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from purplecross_desktop.database.base import (
    Base,
    ClientId,
    PatientId,
    ReminderId,
    StaffId,
    UTCDateTime,
    utcnow,
)
from purplecross_desktop.domain.clients import Client
from purplecross_desktop.domain.columns import enum_type
from purplecross_desktop.domain.errors import Conflict
from purplecross_desktop.domain.query import Page, paginate
from purplecross_desktop.domain.service import ServiceBase, apply_changes, get_or_raise
from purplecross_desktop.domain.validation import Checker, unknown_fields


class ReminderKind(enum.StrEnum):
    """What the reminder is about."""

    APPOINTMENT = "appointment"
    VACCINATION = "vaccination"
    MEDICATION = "medication"
    FOLLOW_UP = "follow_up"
    PAYMENT = "payment"


class ReminderChannel(enum.StrEnum):
    """How it reaches the client (or the front desk, for ``desktop``)."""

    EMAIL = "email"
    SMS = "sms"
    DESKTOP = "desktop"


class ReminderState(enum.StrEnum):
    """Pending until sent; failed ones may be retried; cancelled ones are never sent."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


# Allowed state moves (a failed reminder may be sent again or given up).
STATE_MOVES: dict[ReminderState, frozenset[ReminderState]] = {
    ReminderState.PENDING: frozenset(
        {ReminderState.SENT, ReminderState.FAILED, ReminderState.CANCELLED}
    ),
    ReminderState.FAILED: frozenset(
        {ReminderState.PENDING, ReminderState.SENT, ReminderState.CANCELLED}
    ),
    ReminderState.SENT: frozenset(),
    ReminderState.CANCELLED: frozenset(),
}


class Reminder(Base):
    """A message due at ``due_at`` to a client, linked to what it is about."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ReminderKind] = mapped_column(enum_type(ReminderKind, "kind"), index=True)
    channel: Mapped[ReminderChannel] = mapped_column(enum_type(ReminderChannel, "channel"))
    state: Mapped[ReminderState] = mapped_column(
        enum_type(ReminderState, "state"), default=ReminderState.PENDING
    )
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    patient_id: Mapped[int | None] = mapped_column(sa.ForeignKey("patients.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("appointments.id", ondelete="CASCADE"), index=True
    )
    vaccination_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("vaccinations.id", ondelete="CASCADE"), index=True
    )
    prescription_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("prescriptions.id", ondelete="CASCADE"), index=True
    )
    invoice_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    message: Mapped[str] = mapped_column(sa.Text, default="")
    # What the reminder is for, e.g. "vaccination:12:2031-04-01": unique, so that several
    # scanners (workers, workstations) create each reminder once (None: no such guard).
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(160))
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    # "what is due now" scans pending reminders by due time
    __table_args__ = (
        sa.Index("ix_reminders_state_due", "state", "due_at"),
        # A unique index (not a constraint): SQLite adds it without rebuilding the table.
        sa.Index("ix_reminders_dedupe_key", "dedupe_key", unique=True),
    )


LINKS = ("patient_id", "appointment_id", "vaccination_id", "prescription_id", "invoice_id")


@dataclass(frozen=True, slots=True)
class ReminderData:
    """A new reminder; at most one of the links besides the patient is usual."""

    client_id: ClientId
    kind: ReminderKind | str
    channel: ReminderChannel | str
    due_at: dt.datetime
    message: str = ""
    patient_id: PatientId | None = None
    appointment_id: int | None = None
    vaccination_id: int | None = None
    prescription_id: int | None = None
    invoice_id: int | None = None
    dedupe_key: str | None = None


EDITABLE = frozenset({"due_at", "channel", "message"})


class ReminderService(ServiceBase):
    """Create reminders, move them through their states, and find those due."""

    ORDER = {
        "due_at": Reminder.due_at,
        "kind": Reminder.kind,
        "state": Reminder.state,
        "created_at": Reminder.created_at,
        "id": Reminder.id,
    }

    def create(self, data: ReminderData, *, actor: StaffId | None = None) -> Reminder:
        """Add a pending reminder (the client must be active).

        Raises:
            Conflict: a reminder with the same ``dedupe_key`` exists (also when another
                process created it at the same moment: the unique constraint decides).
        """
        with self._write(actor) as uow:
            if data.dedupe_key is not None:
                existing = uow.session.scalar(
                    sa.select(Reminder.id).where(Reminder.dedupe_key == data.dedupe_key)
                )
                if existing is not None:
                    raise Conflict(f"dedupe_key: reminder {existing} already has this key")
            checker = Checker()
            values: dict[str, Any] = {
                "client_id": data.client_id,
                "kind": checker.choice("kind", data.kind, ReminderKind),
                "channel": checker.choice("channel", data.channel, ReminderChannel),
                "due_at": checker.moment("due_at", data.due_at),
                "message": checker.text("message", data.message, required=False, max_length=5000)
                or "",
            }
            _check_links(uow.session, data, checker)
            values |= {name: getattr(data, name) for name in LINKS}
            checker.raise_if_any()
            reminder = Reminder(
                **values, dedupe_key=data.dedupe_key, created_at=uow.now, updated_at=uow.now
            )
            uow.session.add(reminder)
            uow.session.flush()
            uow.audit("created", "reminder", reminder.id, {k: [None, v] for k, v in values.items()})
            uow.emit("reminder.created", reminder.id, **_payload(reminder))
        return reminder

    def update(
        self,
        reminder_id: ReminderId,
        changes: Mapping[str, object],
        *,
        actor: StaffId | None = None,
    ) -> Reminder:
        """Change the due time, channel or message of a pending or failed reminder."""
        unknown_fields(dict(changes), EDITABLE)
        with self._write(actor) as uow:
            reminder = get_or_raise(uow.session, Reminder, "reminder", reminder_id)
            checker = Checker()
            if reminder.state not in (ReminderState.PENDING, ReminderState.FAILED):
                checker.add("state", f"a {reminder.state.value} reminder cannot be changed")
            values: dict[str, Any] = {}
            if "due_at" in changes:
                values["due_at"] = checker.moment("due_at", changes["due_at"])
            if "channel" in changes:
                values["channel"] = checker.choice("channel", changes["channel"], ReminderChannel)
            if "message" in changes:
                text = checker.text("message", changes["message"], required=False, max_length=5000)
                values["message"] = text or ""
            checker.raise_if_any()
            changed = apply_changes(reminder, values)
            if changed:
                reminder.updated_at = uow.now
                uow.audit("updated", "reminder", reminder.id, changed)
                uow.emit(
                    "reminder.updated", reminder.id, **_payload(reminder), fields=sorted(changed)
                )
        return reminder

    def set_state(
        self,
        reminder_id: ReminderId,
        state: ReminderState | str,
        *,
        error: str | None = None,
        actor: StaffId | None = None,
    ) -> Reminder:
        """Record that a reminder was sent, failed (with ``error``), retried or cancelled."""
        with self._write(actor) as uow:
            reminder = get_or_raise(uow.session, Reminder, "reminder", reminder_id)
            checker = Checker()
            target = checker.choice("state", state, ReminderState)
            if target is not None and target not in STATE_MOVES[reminder.state]:
                checker.add("state", f"cannot go from {reminder.state.value} to {target.value}")
            checker.raise_if_any()
            assert target is not None
            previous = reminder.state
            reminder.state = target
            reminder.sent_at = uow.now if target is ReminderState.SENT else reminder.sent_at
            reminder.last_error = (
                (error or "unknown error") if target is ReminderState.FAILED else None
            )
            reminder.updated_at = uow.now
            uow.audit("state_changed", "reminder", reminder.id, {"state": [previous, target]})
            uow.emit("reminder.updated", reminder.id, **_payload(reminder), previous=previous)
        return reminder

    def get(self, reminder_id: ReminderId) -> Reminder:
        """One reminder, or ``NotFound``."""
        with self._read() as session:
            return get_or_raise(session, Reminder, "reminder", reminder_id)

    def due(
        self, start: dt.datetime, end: dt.datetime, *, limit: int = 1000, offset: int = 0
    ) -> Page[Reminder]:
        """Pending reminders with ``start <= due_at < end``, earliest first."""
        checker = Checker()
        begin = checker.moment("start", start)
        stop = checker.moment("end", end)
        if begin is not None and stop is not None and stop <= begin:
            checker.add("end", "must be after start")
        checker.raise_if_any()
        return self.search(
            state=ReminderState.PENDING, due_from=begin, due_before=stop, limit=limit, offset=offset
        )

    def search(
        self,
        *,
        client_id: ClientId | None = None,
        patient_id: PatientId | None = None,
        kind: ReminderKind | str | None = None,
        state: ReminderState | str | None = None,
        due_from: dt.datetime | None = None,
        due_before: dt.datetime | None = None,
        order: str | Sequence[str] = "due_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[Reminder]:
        """Reminders by client, patient, kind, state and due window ``[from, before)``."""
        stmt = sa.select(Reminder)
        checker = Checker()
        if kind is not None:
            stmt = stmt.where(Reminder.kind == checker.choice("kind", kind, ReminderKind))
        if state is not None:
            stmt = stmt.where(Reminder.state == checker.choice("state", state, ReminderState))
        if due_from is not None:
            stmt = stmt.where(Reminder.due_at >= checker.moment("due_from", due_from))
        if due_before is not None:
            stmt = stmt.where(Reminder.due_at < checker.moment("due_before", due_before))
        checker.raise_if_any()
        if client_id is not None:
            stmt = stmt.where(Reminder.client_id == client_id)
        if patient_id is not None:
            stmt = stmt.where(Reminder.patient_id == patient_id)
        with self._read() as session:
            return paginate(session, stmt, order, self.ORDER, limit, offset, tiebreak=Reminder.id)


def _check_links(session: Session, data: ReminderData, checker: Checker) -> None:
    from purplecross_desktop.domain.appointments import Appointment
    from purplecross_desktop.domain.billing import Invoice
    from purplecross_desktop.domain.medical import Prescription, Vaccination
    from purplecross_desktop.domain.patients import Patient

    client = session.get(Client, data.client_id) if isinstance(data.client_id, int) else None
    if client is None:
        checker.add("client_id", "must be an existing client")
    elif not client.active:
        checker.add("client_id", "must be an active client")
    models: Mapping[str, type[Base]] = {
        "patient_id": Patient,
        "appointment_id": Appointment,
        "vaccination_id": Vaccination,
        "prescription_id": Prescription,
        "invoice_id": Invoice,
    }
    for name, model in models.items():
        value = getattr(data, name)
        if value is None:
            continue
        row = session.get(model, value) if isinstance(value, int) else None
        if row is None:
            checker.add(name, f"must be an existing {name.removesuffix('_id')}")
        elif (
            name in ("patient_id", "appointment_id", "invoice_id")
            and client is not None
            and getattr(row, "client_id", None) != client.id
        ):
            checker.add(name, "must belong to the client")


def _payload(reminder: Reminder) -> dict[str, Any]:
    return {
        "kind": reminder.kind.value,
        "channel": reminder.channel.value,
        "state": reminder.state.value,
        "due_at": reminder.due_at.isoformat(),
        "client_id": reminder.client_id,
        **{name: getattr(reminder, name) for name in LINKS},
    }
