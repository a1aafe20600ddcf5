"""Job registry tables: jobs, their timeline, workers, paused queues, the email log, reports.

The outbox is not a table of its own: a job the broker could not take is a ``job`` row
in state ``outbox`` (with its args), claimed by whoever dispatches it.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, NewType

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from purplecross_desktop.database.base import Base, UTCDateTime, utcnow

JobId = NewType("JobId", str)
#: A host name may be 253 characters (RFC 1035); a worker id is host:pid:random.
HOST_LENGTH = 255
WORKER_ID_LENGTH = 300
WorkerId = NewType("WorkerId", str)


class JobState(enum.StrEnum):
    """Where a job is in its life; stored as text."""

    OUTBOX = "outbox"  # waiting for the broker to answer
    WAITING = "waiting"  # in the broker's queue
    SCHEDULED = "scheduled"  # in the broker's schedule (an ETA or a retry delay)
    ACTIVE = "active"  # claimed by a worker, running
    COMPLETED = "completed"
    FAILED_RETRYING = "failed_retrying"  # failed, another attempt is scheduled
    DEAD = "dead"  # failed for good; kept with args and traceback until cleaned
    REVOKED = "revoked"  # cancelled before it ran
    PAUSED = "paused"  # its queue is paused


#: States a worker may claim a job from (when the message's token matches).
CLAIMABLE = (
    JobState.OUTBOX,
    JobState.WAITING,
    JobState.SCHEDULED,
    JobState.FAILED_RETRYING,
    JobState.PAUSED,
)
#: States in which a job is held by the broker (and lost if the broker loses its data).
IN_BROKER = (JobState.WAITING, JobState.SCHEDULED, JobState.FAILED_RETRYING)
FINISHED = (JobState.COMPLETED, JobState.DEAD, JobState.REVOKED)


#: Columns of ``job`` that are NULL in most rows (links to clinic records, the cause, and
#: what is only set once a job runs or ends). Their indexes hold only the rows that have a
#: value: an enqueue then writes five index entries instead of twelve, which is most of
#: the cost of its commit on SQLite (every index touched is a page in the WAL), and a
#: lookup by value (``client_id = 12``) still uses them on both databases.
SPARSE_INDEXED = (
    "finished_at",
    "worker_id",
    "client_id",
    "patient_id",
    "appointment_id",
    "invoice_id",
    "event_id",
)


def _index_of_values(column: str) -> Index:
    """An index of ``column`` over the rows where it is set (a partial index)."""
    where = text(f"{column} IS NOT NULL")
    return Index(f"ix_job_{column}", column, sqlite_where=where, postgresql_where=where)


class Job(Base):
    """One job: what to run, where it is, and what happened to it."""

    __tablename__ = "job"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    queue: Mapped[str] = mapped_column(String(40))
    task: Mapped[str] = mapped_column(String(120))
    args: Mapped[list[Any]] = mapped_column(JSON, default=list)
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=1)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    repeatable: Mapped[bool] = mapped_column(Boolean, default=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # Each dispatch carries a fresh token; a message whose token is stale never runs.
    token: Mapped[str] = mapped_column(String(32))
    broker_epoch: Mapped[str | None] = mapped_column(String(40))
    # Monotonic order of enqueue, for draining the outbox in order.
    seq: Mapped[int] = mapped_column(BigInteger)
    outbox_claimed_by: Mapped[str | None] = mapped_column(String(WORKER_ID_LENGTH + 40))
    outbox_claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    held: Mapped[bool] = mapped_column(Boolean, default=False)

    enqueued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_run_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    duration_ms: Mapped[float | None] = mapped_column(Float)
    wait_ms: Mapped[float | None] = mapped_column(Float)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    progress_message: Mapped[str] = mapped_column(String(200), default="")
    result_summary: Mapped[str | None] = mapped_column(Text)
    error_class: Mapped[str | None] = mapped_column(String(200))
    error_message: Mapped[str | None] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)
    worker_id: Mapped[str | None] = mapped_column(String(WORKER_ID_LENGTH))

    client_id: Mapped[int | None] = mapped_column(Integer)
    patient_id: Mapped[int | None] = mapped_column(Integer)
    appointment_id: Mapped[int | None] = mapped_column(Integer)
    invoice_id: Mapped[int | None] = mapped_column(Integer)
    # The durable domain event whose handler enqueued this job (None for jobs people or
    # schedules started): ``purplecross jobs show`` names it, ``search(event=)`` finds them.
    event_id: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_job_queue_state", "queue", "state"),
        Index("ix_job_state_seq", "state", "seq"),
        Index("ix_job_enqueued_at", "enqueued_at"),
        *(_index_of_values(column) for column in SPARSE_INDEXED),
    )


class JobBlob(Base):
    """Large job data (an email's attachments) stored once, apart from the job's args.

    The args carry a reference (the content's SHA-256); the task reads the bytes only
    when it needs them, so claims, the monitor's search and the broker never carry them.
    Deleted with the job.
    """

    __tablename__ = "job_blob"

    job_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("job.id", ondelete="CASCADE"), primary_key=True
    )
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class JobEvent(Base):
    """One entry of a job's timeline (a Huey signal or an admin action)."""

    __tablename__ = "job_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("job.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    queue: Mapped[str | None] = mapped_column(String(40))
    worker_id: Mapped[str | None] = mapped_column(String(WORKER_ID_LENGTH))
    detail: Mapped[str] = mapped_column(Text, default="")


class JobWorker(Base):
    """A consumer process (a `purplecross worker` or an app's embedded runner)."""

    __tablename__ = "job_worker"

    id: Mapped[str] = mapped_column(String(WORKER_ID_LENGTH), primary_key=True)
    host: Mapped[str] = mapped_column(String(HOST_LENGTH))
    pid: Mapped[int] = mapped_column(Integer)
    queues: Mapped[list[str]] = mapped_column(JSON, default=list)
    concurrency: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    embedded: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_heartbeat: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    stopped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class PausedQueue(Base):
    """A queue an admin paused: its jobs are held and nothing runs until resumed."""

    __tablename__ = "job_paused_queue"

    queue: Mapped[str] = mapped_column(String(40), primary_key=True)
    paused_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class EmailLog(Base):
    """Every message the email queue handled, and whether the server accepted it."""

    __tablename__ = "email_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    message_id: Mapped[str] = mapped_column(String(250))
    job_id: Mapped[str | None] = mapped_column(String(36), index=True)
    to: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(500))
    template: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20))  # sending, sent, failed, outbox
    # The job run (job id and attempt) that may send this message now, the worker it runs
    # on, and until when (database clock): only the lease holder connects to the server.
    # A holder whose worker stopped heart-beating holds nothing.
    lease_owner: Mapped[str | None] = mapped_column(String(60))
    lease_worker: Mapped[str | None] = mapped_column(String(WORKER_ID_LENGTH))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    server_response: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class RateWindow(Base):
    """How many jobs of a rate-limited queue or task started in its current window."""

    __tablename__ = "job_rate_window"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used: Mapped[int] = mapped_column(Integer, default=0)


class ReportState(enum.StrEnum):
    """Where a report request is; stored as text."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # its file was removed after the retention period


#: Report states in which nothing more will happen to the request.
REPORT_FINISHED = (
    ReportState.COMPLETED,
    ReportState.FAILED,
    ReportState.CANCELLED,
    ReportState.EXPIRED,
)


class ReportRequest(Base):
    """One report someone asked for: what, for which period, its progress and its file.

    The request row is the report's state (the Reports page lists it); its job on the
    ``reports`` queue does the work. ``cancel_requested`` is read between pages, so a
    running report stops within one page of rows.
    """

    __tablename__ = "report_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    format: Mapped[str] = mapped_column(String(10))
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A staff id, not a foreign key: the job tables stand apart from the clinic's (as the
    # job's record links do), so a worker's registry migrates on its own.
    requested_by: Mapped[int | None] = mapped_column(Integer, index=True)
    email_to: Mapped[str | None] = mapped_column(String(254))
    state: Mapped[str] = mapped_column(String(20), default=ReportState.QUEUED.value, index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(String(500), default="")
    job_id: Mapped[str | None] = mapped_column(String(36), index=True)
    path: Mapped[str | None] = mapped_column(String(1000))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
