"""The audit log: who changed what and when, written in the same transaction as the change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from purplecross_desktop.database.base import Base, StaffId, UTCDateTime, utcnow
from purplecross_desktop.database.session import SessionFactory
from purplecross_desktop.domain.provenance import ACTING
from purplecross_desktop.domain.query import Page, paginate


class AuditEntry(Base):
    """One change to one entity.

    ``staff_id`` is the acting staff member, or None for the system (jobs, demo data).
    ``changes`` maps each changed field to ``[old, new]`` (JSON-able).
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    staff_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(sa.String(40))
    entity: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[int]
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # What acted for the system, when not a person: "workflow 3 'No-show' v2, run 17".
    via: Mapped[str | None] = mapped_column(sa.String(200))

    __table_args__ = (sa.Index("ix_audit_log_entity", "entity", "entity_id"),)


def json_value(value: object) -> Any:
    """A JSON-able rendering of a column value for the audit log and event payloads."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if hasattr(value, "value"):  # enum members
        return json_value(value.value)
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return str(value)


def record(
    session: Session,
    *,
    actor: StaffId | None,
    action: str,
    entity: str,
    entity_id: int,
    changes: Mapping[str, Any],
    at: dt.datetime,
) -> None:
    """Add an audit row to ``session`` (committed together with the change itself).

    A write made by a workflow run (:data:`provenance.ACTING`) records it in ``via``.
    """
    acting = ACTING.get()
    session.add(
        AuditEntry(
            occurred_at=at,
            staff_id=actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            changes={k: json_value(v) for k, v in changes.items()},
            via=None if acting is None else acting.label,
        )
    )


class AuditService:
    """Reads the audit log (it is written by the other services, never edited).

    Args:
        session_factory: opens a session per call.
    """

    ORDER = {"occurred_at": AuditEntry.occurred_at, "id": AuditEntry.id}

    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    def search(
        self,
        *,
        entity: str | None = None,
        entity_id: int | None = None,
        staff_id: StaffId | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        order: str = "-occurred_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[AuditEntry]:
        """Entries matching every given filter, newest first by default."""
        stmt = sa.select(AuditEntry)
        if entity is not None:
            stmt = stmt.where(AuditEntry.entity == entity)
        if entity_id is not None:
            stmt = stmt.where(AuditEntry.entity_id == entity_id)
        if staff_id is not None:
            stmt = stmt.where(AuditEntry.staff_id == staff_id)
        if since is not None:
            stmt = stmt.where(AuditEntry.occurred_at >= since)
        if until is not None:
            stmt = stmt.where(AuditEntry.occurred_at < until)
        with self._sessions() as session:
            return paginate(session, stmt, order, self.ORDER, limit, offset, tiebreak=AuditEntry.id)
