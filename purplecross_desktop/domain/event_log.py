"""The durable event table (a transactional outbox): every domain event, written with its change.

``ServiceBase._write`` adds one ``domain_event`` row per event in the transaction of the
change it describes, so an event exists exactly when its change does, whichever process
or workstation made it and whether or not that process lived past the commit. Durable
listeners (reminders, webhooks, workflows) read this table through the dispatcher in
``jobs.event_dispatch``, which records in ``event_delivery`` what each handler has
processed and in ``event_handler_state`` how far each handler is wholly done.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from purplecross_desktop.database.base import Base, UTCDateTime, utcnow
from purplecross_desktop.domain.events import DomainEvent
from purplecross_desktop.domain.provenance import ACTING

# Integer primary keys autoincrement on SQLite only as INTEGER (an alias of the rowid).
EventIdType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

DEFAULT_RETENTION_DAYS = 90


class EventRow(Base):
    """One domain event as committed (never changed after; deleted by retention)."""

    __tablename__ = "domain_event"

    id: Mapped[int] = mapped_column(EventIdType, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(sa.String(80), index=True)
    entity: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[int] = mapped_column(sa.BigInteger)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # The time of the change (the service's clock, the same as the audit row's).
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # The writing process's wall clock at insert: retention and the dispatcher's horizon.
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    workstation: Mapped[str] = mapped_column(sa.String(120), default="")
    staff_id: Mapped[int | None] = mapped_column(sa.Integer)
    # A write made by a workflow run: the run, and how deep in a chain of runs it is.
    workflow_run_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    workflow_depth: Mapped[int | None] = mapped_column(sa.Integer)

    __table_args__ = (sa.Index("ix_domain_event_entity", "entity", "entity_id"),)


class EventDelivery(Base):
    """What one durable handler did with one event (absent: not tried yet)."""

    __tablename__ = "event_delivery"

    event_id: Mapped[int] = mapped_column(
        EventIdType, sa.ForeignKey("domain_event.id", ondelete="CASCADE"), primary_key=True
    )
    handler: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    # running (claimed until lease_until), done, failed (again at next_attempt_at), dead
    state: Mapped[str] = mapped_column(sa.String(12))
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(sa.Text)
    # The jobs the handler enqueued for this event (how a job links to its cause).
    job_ids: Mapped[list[str]] = mapped_column(sa.JSON, default=list)

    __table_args__ = (sa.Index("ix_event_delivery_handler_state", "handler", "state"),)


class EventHandlerState(Base):
    """How far a durable handler is wholly done: every event up to ``watermark`` is settled."""

    __tablename__ = "event_handler_state"

    handler: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    watermark: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


EVENT = cast(sa.Table, EventRow.__table__)
DELIVERY = cast(sa.Table, EventDelivery.__table__)
HANDLER_STATE = cast(sa.Table, EventHandlerState.__table__)


def record_events(
    session: Session,
    events: Sequence[DomainEvent],
    *,
    workstation: str,
    staff_id: int | None,
) -> list[int]:
    """Insert ``events`` in the session's transaction; returns their ids in order."""
    if not events:
        return []
    now = utcnow()
    acting = ACTING.get()
    rows = [
        {
            "name": e.name,
            "entity": e.entity,
            "entity_id": e.entity_id,
            "data": dict(e.data),
            "occurred_at": e.occurred_at,
            "recorded_at": now,
            "workstation": workstation,
            "staff_id": staff_id,
            "workflow_run_id": None if acting is None else acting.run_id,
            "workflow_depth": None if acting is None else acting.depth,
        }
        for e in events
    ]
    if len(rows) == 1:
        new_id = session.execute(sa.insert(EVENT).returning(EVENT.c.id), rows[0]).scalar_one()
        return [int(new_id)]
    result = session.execute(
        sa.insert(EVENT).returning(EVENT.c.id, sort_by_parameter_order=True), rows
    )
    return [int(r) for r in result.scalars()]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """A domain event read back from the table.

    Attributes:
        id: its unique id (increasing in commit order on SQLite; see the dispatcher).
        name: ``"<entity>.<verb>"``.
        entity: the entity kind.
        entity_id: the entity's id.
        data: the JSON payload.
        occurred_at: the time of the change.
        recorded_at: when its row was written.
        workstation: the workstation or worker that made the change.
        staff_id: the acting staff member (None for the system).
        workflow_run_id: the workflow run whose action made the change (None: not one).
        workflow_depth: that run's depth plus one (None: not made by a workflow).
    """

    id: int
    name: str
    entity: str
    entity_id: int
    data: dict[str, Any]
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    workstation: str
    staff_id: int | None
    workflow_run_id: int | None = None
    workflow_depth: int | None = None

    @classmethod
    def from_row(cls, row: Any) -> StoredEvent:
        m = row._mapping if hasattr(row, "_mapping") else row
        return cls(
            id=int(m["id"]),
            name=m["name"],
            entity=m["entity"],
            entity_id=int(m["entity_id"]),
            data=dict(m["data"] or {}),
            occurred_at=m["occurred_at"],
            recorded_at=m["recorded_at"],
            workstation=m["workstation"] or "",
            staff_id=m["staff_id"],
            workflow_run_id=m.get("workflow_run_id"),
            workflow_depth=m.get("workflow_depth"),
        )

    def as_json(self) -> dict[str, Any]:
        """A JSON-able dict (times as ISO text)."""
        return {
            "id": self.id,
            "name": self.name,
            "entity": self.entity,
            "entity_id": self.entity_id,
            "data": self.data,
            "occurred_at": self.occurred_at.isoformat(),
            "recorded_at": self.recorded_at.isoformat(),
            "workstation": self.workstation,
            "staff_id": self.staff_id,
        }


def pattern_clause(patterns: Sequence[str]) -> sa.ColumnElement[bool]:
    """SQL matching ``domain_event.name`` against patterns (exact, ``"x.*"`` or ``"*"``)."""
    clauses: list[sa.ColumnElement[bool]] = []
    for pattern in patterns:
        if pattern == "*":
            return sa.true()
        if pattern.endswith(".*"):
            prefix = pattern[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            clauses.append(EVENT.c.name.like(prefix + "%", escape="\\"))
        else:
            clauses.append(EVENT.c.name == pattern)
    return sa.or_(*clauses) if clauses else sa.false()


@dataclass(frozen=True, slots=True)
class DeliveryInfo:
    """One handler's outcome for one event."""

    handler: str
    state: str
    attempts: int
    finished_at: dt.datetime | None
    error: str | None
    job_ids: list[str]


class EventLog:
    """Reads and prunes the durable event table.

    Args:
        engine: the clinic database.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def search(
        self,
        *,
        since: dt.datetime | None = None,
        name: str | None = None,
        entity: str | None = None,
        entity_id: int | None = None,
        limit: int = 100,
    ) -> list[StoredEvent]:
        """Events newest first; ``name`` is an exact name or a pattern (``"appointment.*"``)."""
        if limit < 1:
            raise ValueError("limit: must be at least 1")
        stmt = sa.select(EVENT)
        if since is not None:
            if since.tzinfo is None:
                raise ValueError("since: must carry a time zone")
            stmt = stmt.where(EVENT.c.recorded_at >= since)
        if name:
            stmt = stmt.where(pattern_clause([name]))
        if entity:
            stmt = stmt.where(EVENT.c.entity == entity)
        if entity_id is not None:
            stmt = stmt.where(EVENT.c.entity_id == entity_id)
        stmt = stmt.order_by(EVENT.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [StoredEvent.from_row(r) for r in conn.execute(stmt)]

    def get(self, event_id: int) -> StoredEvent | None:
        """One event by id."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(EVENT).where(EVENT.c.id == event_id)).first()
        return None if row is None else StoredEvent.from_row(row)

    def deliveries(self, event_ids: Sequence[int]) -> dict[int, list[DeliveryInfo]]:
        """Each event's per-handler outcomes."""
        out: dict[int, list[DeliveryInfo]] = {i: [] for i in event_ids}
        if not event_ids:
            return out
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(DELIVERY)
                .where(DELIVERY.c.event_id.in_(list(event_ids)))
                .order_by(DELIVERY.c.event_id, DELIVERY.c.handler)
            ).mappings()
            for r in rows:
                out[int(r["event_id"])].append(
                    DeliveryInfo(
                        r["handler"],
                        r["state"],
                        r["attempts"],
                        r["finished_at"],
                        r["error"],
                        list(r["job_ids"] or []),
                    )
                )
        return out

    def purge(self, older_than: dt.datetime) -> int:
        """Delete events recorded before ``older_than`` (and their deliveries); returns how many."""
        with self.engine.begin() as conn:
            doomed = sa.select(EVENT.c.id).where(EVENT.c.recorded_at < older_than)
            conn.execute(sa.delete(DELIVERY).where(DELIVERY.c.event_id.in_(doomed)))
            removed = conn.execute(sa.delete(EVENT).where(EVENT.c.recorded_at < older_than))
            return int(removed.rowcount)
