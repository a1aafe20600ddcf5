"""Notifications: kinds and channels, staff members' in-app inbox, clients' channel opt-outs.

The ``notifications`` job family (``jobs.notifications``) decides who gets what on which
channel; this module holds what it stores: the in-app notifications of each staff member
(read state per member, so it survives a restart and differs between colleagues) and the
channels a client has opted out of (never sent on, whatever the caller asks for).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from purplecross_desktop.database.base import Base, ClientId, StaffId, UTCDateTime, utcnow
from purplecross_desktop.domain.clients import Client
from purplecross_desktop.domain.columns import enum_type
from purplecross_desktop.domain.errors import ValidationError
from purplecross_desktop.domain.service import ServiceBase, get_or_raise


class NotificationKind(enum.StrEnum):
    """What a notification is about."""

    APPOINTMENT_CONFIRMED = "appointment_confirmed"
    APPOINTMENT_CANCELLED = "appointment_cancelled"
    APPOINTMENT_REMINDER = "appointment_reminder"
    PAYMENT_RECEIVED = "payment_received"
    INVOICE_DUE = "invoice_due"
    PRESCRIPTION_READY = "prescription_ready"
    REPORT_READY = "report_ready"
    SYSTEM_ALERT = "system_alert"


#: Kinds that also pop up a system-tray message on the staff member's workstation.
IMPORTANT_KINDS = frozenset({NotificationKind.REPORT_READY, NotificationKind.SYSTEM_ALERT})


class NotificationChannel(enum.StrEnum):
    """Where a notification goes: a client's email or phone, or a staff member's inbox."""

    EMAIL = "email"
    SMS = "sms"
    IN_APP = "in_app"


#: The channels a client can opt out of.
CLIENT_CHANNELS = (NotificationChannel.EMAIL, NotificationChannel.SMS)


class StaffNotification(Base):
    """One notification in one staff member's in-app inbox."""

    __tablename__ = "staff_notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(sa.ForeignKey("staff.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(
        enum_type(NotificationKind, "notification_kind", length=40)
    )
    title: Mapped[str] = mapped_column(sa.String(200))
    message: Mapped[str] = mapped_column(sa.Text, default="")
    #: What "open" does: a file path, or ``job:<id>`` / ``appointment:<id>`` and the like.
    link: Mapped[str | None] = mapped_column(sa.String(500))
    important: Mapped[bool] = mapped_column(default=False)
    #: The job key that delivered it: a job run twice still leaves one row.
    dedupe_key: Mapped[str] = mapped_column(sa.String(240), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("ix_staff_notifications_inbox", "staff_id", "read_at", "id"),)


class ClientChannelOptOut(Base):
    """A channel a client asked never to be contacted on."""

    __tablename__ = "client_channel_opt_outs"

    client_id: Mapped[int] = mapped_column(
        sa.ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[NotificationChannel] = mapped_column(
        enum_type(NotificationChannel, "opt_out_channel"), primary_key=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SmsLog(Base):
    """Every text message the SMS family handled, and what the gateway said."""

    __tablename__ = "sms_log"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    job_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    to: Mapped[str] = mapped_column(sa.String(20))
    text: Mapped[str] = mapped_column(sa.Text)
    gateway: Mapped[str] = mapped_column(sa.String(20))
    # queued, sending, sent, logged, retrying, failed, unknown, expired
    status: Mapped[str] = mapped_column(sa.String(20))
    # The run (job id and attempt) that may call the gateway now, and until when.
    lease_owner: Mapped[str | None] = mapped_column(sa.String(60))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    gateway_response: Mapped[str] = mapped_column(sa.Text, default="")
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True, slots=True)
class InboxItem:
    """A notification as the inbox shows it."""

    id: int
    kind: NotificationKind
    title: str
    message: str
    link: str | None
    important: bool
    created_at: dt.datetime
    read_at: dt.datetime | None

    @property
    def unread(self) -> bool:
        return self.read_at is None


INBOX = StaffNotification.__table__
OPT_OUT = ClientChannelOptOut.__table__


class NotificationService(ServiceBase):
    """Staff inboxes (deliver, list, count unread, mark read) and client channel opt-outs."""

    # Inbox ------------------------------------------------------------------------------
    def deliver(
        self,
        staff_id: StaffId,
        kind: NotificationKind,
        title: str,
        message: str,
        *,
        dedupe_key: str,
        link: str | None = None,
        important: bool = False,
    ) -> int | None:
        """Put a notification in ``staff_id``'s inbox; None when ``dedupe_key`` already did."""
        now = self._clock()
        values = {
            "staff_id": staff_id,
            "kind": kind,
            "title": title[:200],
            "message": message,
            "link": link,
            "important": important,
            "dedupe_key": dedupe_key,
            "created_at": now,
        }
        with self._sessions() as session, session.begin():
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            new_id = session.execute(
                insert(StaffNotification)
                .values(**values)
                .on_conflict_do_nothing(index_elements=["dedupe_key"])
                .returning(StaffNotification.id)
            ).scalar()
        return None if new_id is None else int(new_id)

    def inbox(
        self, staff_id: StaffId, *, unread_only: bool = False, limit: int = 100
    ) -> list[InboxItem]:
        """The newest notifications of ``staff_id`` first."""
        stmt = (
            sa.select(StaffNotification)
            .where(StaffNotification.staff_id == staff_id)
            .order_by(StaffNotification.id.desc())
            .limit(limit)
        )
        if unread_only:
            stmt = stmt.where(StaffNotification.read_at.is_(None))
        with self._read() as session:
            return [
                InboxItem(
                    n.id, n.kind, n.title, n.message, n.link, n.important, n.created_at, n.read_at
                )
                for n in session.scalars(stmt)
            ]

    def unread_count(self, staff_id: StaffId) -> int:
        """How many notifications ``staff_id`` has not read."""
        with self._read() as session:
            return int(
                session.scalar(
                    sa.select(sa.func.count())
                    .select_from(StaffNotification)
                    .where(
                        StaffNotification.staff_id == staff_id,
                        StaffNotification.read_at.is_(None),
                    )
                )
                or 0
            )

    def mark_read(self, staff_id: StaffId, ids: Iterable[int] | None = None) -> int:
        """Mark ``ids`` (every unread one when None) of ``staff_id`` read; returns how many.

        Only the member's own notifications change: another member's ids are ignored.
        """
        stmt = (
            sa.update(StaffNotification)
            .where(StaffNotification.staff_id == staff_id, StaffNotification.read_at.is_(None))
            .values(read_at=self._clock())
        )
        if ids is not None:
            wanted = list(ids)
            if not wanted:
                return 0
            stmt = stmt.where(StaffNotification.id.in_(wanted))
        with self._sessions() as session, session.begin():
            result: Any = session.execute(stmt)
            return int(result.rowcount or 0)

    # Opt-outs -----------------------------------------------------------------------------
    def opted_out(self, client_id: ClientId) -> frozenset[NotificationChannel]:
        """The channels ``client_id`` opted out of."""
        with self._read() as session:
            return frozenset(
                session.scalars(
                    sa.select(ClientChannelOptOut.channel).where(
                        ClientChannelOptOut.client_id == client_id
                    )
                )
            )

    def opted_out_many(
        self, client_ids: Sequence[int]
    ) -> dict[int, frozenset[NotificationChannel]]:
        """The opt-outs of many clients at once (only clients that have some)."""
        out: dict[int, set[NotificationChannel]] = {}
        with self._read() as session:
            for start in range(0, len(client_ids), 900):
                chunk = client_ids[start : start + 900]
                rows = session.execute(
                    sa.select(ClientChannelOptOut.client_id, ClientChannelOptOut.channel).where(
                        ClientChannelOptOut.client_id.in_(chunk)
                    )
                )
                for client_id, channel in rows:
                    out.setdefault(client_id, set()).add(channel)
        return {k: frozenset(v) for k, v in out.items()}

    def set_opt_out(
        self,
        client_id: ClientId,
        channel: NotificationChannel | str,
        opted_out: bool = True,
        *,
        actor: StaffId | None = None,
    ) -> None:
        """Opt ``client_id`` out of ``channel`` (or back in with ``opted_out=False``)."""
        try:
            member = NotificationChannel(channel)
        except ValueError:
            member = None
        if member not in CLIENT_CHANNELS:
            names = ", ".join(c.value for c in CLIENT_CHANNELS)
            raise ValidationError.single("channel", f"must be one of {names}; got {channel!r}")
        assert member is not None
        with self._write(actor) as uow:
            get_or_raise(uow.session, Client, "client", client_id)
            existing = uow.session.get(ClientChannelOptOut, (client_id, member))
            if opted_out == (existing is not None):
                return
            if opted_out:
                uow.session.add(
                    ClientChannelOptOut(client_id=client_id, channel=member, created_at=uow.now)
                )
            else:
                uow.session.delete(existing)
            uow.audit(
                "opted_out" if opted_out else "opted_in",
                "client",
                client_id,
                {f"opt_out_{member.value}": [not opted_out, opted_out]},
            )
            uow.emit("client.updated", client_id, fields=[f"opt_out_{member.value}"])
