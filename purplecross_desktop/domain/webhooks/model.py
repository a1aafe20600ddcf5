"""The webhook tables: endpoints, messages (one per event and endpoint) and their attempts.

A *message* is what one endpoint is owed for one event: its id (``msg_…``, sent as
``webhook-id``) and its body are fixed when it is created, so every attempt and every
replay sends the same bytes under the same id. An *attempt* is one HTTP request of a
message, kept with its outcome for the delivery log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from purplecross_desktop.database.base import Base, UTCDateTime, utcnow
from purplecross_desktop.domain.event_log import EventIdType

#: Message states: ``pending`` (due at ``next_attempt_at``), ``queued`` (a job holds it),
#: ``sending`` (a worker is sending it until ``lease_until``), ``succeeded`` and
#: ``failed`` (every attempt of its schedule failed; a replay or a recovery restarts it).
MESSAGE_STATES = ("pending", "queued", "sending", "succeeded", "failed")
#: What started an attempt: the retry schedule, an admin's replay or recovery, a test.
TRIGGERS = ("scheduled", "replay", "recover", "test")

MAX_URL = 2000
MAX_DESCRIPTION = 500


class WebhookEndpoint(Base):
    """A receiver of the clinic's events (an admin registers it)."""

    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(MAX_URL))
    description: Mapped[str] = mapped_column(sa.String(MAX_DESCRIPTION), default="")
    # Exact event names and "entity.*" patterns (never empty).
    event_types: Mapped[list[str]] = mapped_column(sa.JSON)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(sa.Text)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # http:// and private, loopback or link-local addresses are refused unless ticked.
    allow_local_network: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # The signing secrets, encrypted (Fernet, key derived from the job signing key).
    secret_encrypted: Mapped[str] = mapped_column(sa.Text)
    previous_secret_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    previous_secret_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Start of the current run of failed attempts (None after a success): auto-disable.
    failing_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(sa.Integer)


class WebhookMessage(Base):
    """One event owed to one endpoint (or a test message), with its delivery state."""

    __tablename__ = "webhook_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The Standard Webhooks id: stable across attempts and replays.
    msg_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    endpoint_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_endpoint.id", ondelete="CASCADE")
    )
    # No foreign key: the message (with its body) outlives the event's retention.
    event_id: Mapped[int | None] = mapped_column(EventIdType)
    event_type: Mapped[str] = mapped_column(sa.String(80))
    body: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(sa.String(12), default="pending")
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    # Attempts in the current schedule (a replay or recovery starts a new one).
    round_attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    next_trigger: Mapped[str] = mapped_column(sa.String(12), default="scheduled")
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    job_id: Mapped[str | None] = mapped_column(sa.String(36))
    last_status: Mapped[int | None] = mapped_column(sa.Integer)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_message_endpoint_event"),
        sa.Index("ix_webhook_message_due", "state", "next_attempt_at"),
        sa.Index("ix_webhook_message_endpoint_state", "endpoint_id", "state"),
    )


class WebhookAttempt(Base):
    """One HTTP request of a message and what came back."""

    __tablename__ = "webhook_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_message.id", ondelete="CASCADE"), index=True
    )
    endpoint_id: Mapped[int] = mapped_column(sa.Integer)
    attempt: Mapped[int] = mapped_column(sa.Integer)
    trigger: Mapped[str] = mapped_column(sa.String(12))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[float] = mapped_column(sa.Float)
    status_code: Mapped[int | None] = mapped_column(sa.Integer)
    succeeded: Mapped[bool] = mapped_column(sa.Boolean)
    response_excerpt: Mapped[str] = mapped_column(sa.Text, default="")
    error: Mapped[str | None] = mapped_column(sa.Text)
    # The request as sent (URL and headers; never a secret: signatures only).
    request: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    job_id: Mapped[str | None] = mapped_column(sa.String(36))

    __table_args__ = (sa.Index("ix_webhook_attempt_endpoint_time", "endpoint_id", "started_at"),)


ENDPOINT = cast(sa.Table, WebhookEndpoint.__table__)
MESSAGE = cast(sa.Table, WebhookMessage.__table__)
ATTEMPT = cast(sa.Table, WebhookAttempt.__table__)
