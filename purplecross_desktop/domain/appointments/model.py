"""The appointment table, its statuses and the allowed moves, and the database's own
guards against double booking (PostgreSQL exclusion constraints, SQLite triggers)."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from purplecross_desktop.database.base import Base, UTCDateTime, utcnow
from purplecross_desktop.domain.columns import enum_type


class AppointmentStatus(enum.StrEnum):
    """Where an appointment is in its day."""

    SCHEDULED = "scheduled"
    CONFIRMED = "confirmed"
    ARRIVED = "arrived"
    IN_CONSULT = "in_consult"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class AppointmentType(enum.StrEnum):
    """What the appointment is for."""

    CONSULTATION = "consultation"
    VACCINATION = "vaccination"
    CHECK_UP = "check_up"
    FOLLOW_UP = "follow_up"
    DENTAL = "dental"
    SURGERY = "surgery"
    EMERGENCY = "emergency"


# The allowed moves; completed, cancelled and no-show are final.
_S = AppointmentStatus
TRANSITIONS: dict[AppointmentStatus, frozenset[AppointmentStatus]] = {
    _S.SCHEDULED: frozenset({_S.CONFIRMED, _S.ARRIVED, _S.CANCELLED, _S.NO_SHOW}),
    _S.CONFIRMED: frozenset({_S.ARRIVED, _S.CANCELLED, _S.NO_SHOW}),
    _S.ARRIVED: frozenset({_S.IN_CONSULT, _S.CANCELLED}),
    _S.IN_CONSULT: frozenset({_S.COMPLETED}),
    _S.COMPLETED: frozenset(),
    _S.CANCELLED: frozenset(),
    _S.NO_SHOW: frozenset(),
}

# Statuses that hold the vet and the room (cancelled and no-show free the slot).
FREEING = (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)
BLOCKING = tuple(s for s in AppointmentStatus if s not in FREEING)

# The timestamp column each status sets when it is entered.
STAMP = {
    AppointmentStatus.CONFIRMED: "confirmed_at",
    AppointmentStatus.ARRIVED: "arrived_at",
    AppointmentStatus.IN_CONSULT: "consult_started_at",
    AppointmentStatus.COMPLETED: "completed_at",
    AppointmentStatus.CANCELLED: "cancelled_at",
    AppointmentStatus.NO_SHOW: "no_show_at",
}


_blocking_sql = sa.text("status NOT IN ('cancelled', 'no_show')")
_during = sa.text("tstzrange(starts_at, ends_at)")


class Appointment(Base):
    """A patient seen by a veterinarian in a room from ``starts_at`` to ``ends_at``."""

    __tablename__ = "appointments"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id"), index=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    vet_id: Mapped[int] = mapped_column(sa.ForeignKey("staff.id"))
    room_id: Mapped[int] = mapped_column(sa.ForeignKey("rooms.id"))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    type: Mapped[AppointmentType] = mapped_column(
        enum_type(AppointmentType, "type"), default=AppointmentType.CONSULTATION, index=True
    )
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[AppointmentStatus] = mapped_column(
        enum_type(AppointmentStatus, "status"), default=AppointmentStatus.SCHEDULED, index=True
    )
    booked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    arrived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    consult_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    no_show_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(500))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.Index("ix_appointments_vet_starts", "vet_id", "starts_at"),
        sa.Index("ix_appointments_room_starts", "room_id", "starts_at"),
        # The database's own guard against double booking (PostgreSQL: needs btree_gist);
        # the service checks first and gives the friendly message.
        ExcludeConstraint(
            ("vet_id", "="),
            (_during, "&&"),
            name="ex_appointments_vet_overlap",
            using="gist",
            where=_blocking_sql,
        ).ddl_if(dialect="postgresql"),
        ExcludeConstraint(
            ("room_id", "="),
            (_during, "&&"),
            name="ex_appointments_room_overlap",
            using="gist",
            where=_blocking_sql,
        ).ddl_if(dialect="postgresql"),
    )


sa.event.listen(
    Appointment.__table__,
    "before_create",
    sa.DDL("CREATE EXTENSION IF NOT EXISTS btree_gist").execute_if(  # type: ignore[no-untyped-call]
        dialect="postgresql"
    ),
)


def _sqlite_guard(event: str) -> str:
    """SQLite's own guard against double booking (PostgreSQL has exclusion constraints):
    refuse a holding appointment that overlaps one of the same vet or room. Appointments
    last at most 12 hours, which bounds the index range each check reads."""
    own = "" if event == "INSERT" else " AND a.id <> NEW.id"
    clash = (
        "SELECT 1 FROM appointments a WHERE a.{column} = NEW.{column}"
        " AND a.starts_at < NEW.ends_at AND a.starts_at > datetime(NEW.starts_at, '-12 hours')"
        " AND a.ends_at > NEW.starts_at AND a.status NOT IN ('cancelled', 'no_show')" + own
    )
    when = "UPDATE OF vet_id, room_id, starts_at, ends_at, status" if event == "UPDATE" else event
    return (
        f"CREATE TRIGGER tr_appointments_no_overlap_{event.lower()} BEFORE {when} ON appointments"
        " WHEN NEW.status NOT IN ('cancelled', 'no_show') BEGIN"
        " SELECT RAISE(ABORT, 'double booking: the vet or the room is already booked')"
        f" WHERE EXISTS ({clash.format(column='vet_id')})"
        f" OR EXISTS ({clash.format(column='room_id')}); END"
    )


SQLITE_GUARDS = {
    f"tr_appointments_no_overlap_{event.lower()}": _sqlite_guard(event)
    for event in ("INSERT", "UPDATE")
}
for _sql in SQLITE_GUARDS.values():
    sa.event.listen(
        Appointment.__table__,
        "after_create",
        sa.DDL(_sql).execute_if(dialect="sqlite"),  # type: ignore[no-untyped-call]
    )
