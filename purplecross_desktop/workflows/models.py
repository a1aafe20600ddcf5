"""The workflow tables: workflows, their versions, runs and each step's result."""

from __future__ import annotations

import datetime as dt
from typing import Any, NewType, cast

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from purplecross_desktop.database.base import Base, UTCDateTime, utcnow

WorkflowId = NewType("WorkflowId", int)
RunId = NewType("RunId", int)

#: Run states: queued (over the workflow's concurrency), ready (its next step is due),
#: running (a worker holds it), waiting (until ``wake_at`` or an event), and the ends.
ACTIVE = ("queued", "ready", "running", "waiting")
FINISHED = ("succeeded", "failed", "cancelled", "skipped")
RunIdType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Workflow(Base):
    """A workflow: its current version and whether it starts new runs."""

    __tablename__ = "workflow"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    archived: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    current_version: Mapped[int] = mapped_column(sa.Integer, default=1)
    # The trigger type of the current version (the tick reads only schedule/date ones).
    trigger_type: Mapped[str] = mapped_column(sa.String(12))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # How far schedule and date triggers have been looked at (the tick moves it).
    checked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class WorkflowVersion(Base):
    """One version of a workflow's document (never changed; a new edit is a new version)."""

    __tablename__ = "workflow_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_id: Mapped[int] = mapped_column(
        sa.ForeignKey("workflow.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(sa.Integer)
    document: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(sa.Integer)

    __table_args__ = (sa.UniqueConstraint("workflow_id", "number"),)


class WorkflowRun(Base):
    """One run: where it is (``pc``, ``seq``), what it knows (``context``) and how it ended."""

    __tablename__ = "workflow_run"

    id: Mapped[int] = mapped_column(RunIdType, primary_key=True, autoincrement=True)
    workflow_id: Mapped[int] = mapped_column(
        sa.ForeignKey("workflow.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("workflow_version.id"))
    version: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(12), index=True)
    # The instruction the run is at, and how many steps it has finished (the idempotency
    # key of a step is run + seq, so a step repeated after a crash keeps its key).
    pc: Mapped[int] = mapped_column(sa.Integer, default=0)
    seq: Mapped[int] = mapped_column(sa.Integer, default=0)
    attempt: Mapped[int] = mapped_column(sa.Integer, default=1)
    context: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    depth: Mapped[int] = mapped_column(sa.Integer, default=0)
    trigger_event_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    # Unique per workflow: an event, a schedule slot or a record date starts one run.
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    deadline: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    wake_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The event a wait_for_event step listens for (its name), while it waits.
    wait_event: Mapped[str | None] = mapped_column(sa.String(80), index=True)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (
        sa.Index("ix_workflow_run_dedupe", "workflow_id", "dedupe_key", unique=True),
        sa.Index("ix_workflow_run_status_wake", "status", "wake_at"),
        # The tick's max-runtime check reads only the active runs past their deadline.
        sa.Index("ix_workflow_run_status_deadline", "status", "deadline"),
    )


class WorkflowStep(Base):
    """One attempt of one step of a run: its input, output, timing and error."""

    __tablename__ = "workflow_step"

    id: Mapped[int] = mapped_column(RunIdType, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(
        RunIdType, sa.ForeignKey("workflow_run.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(sa.Integer)
    attempt: Mapped[int] = mapped_column(sa.Integer, default=1)
    step_id: Mapped[str] = mapped_column(sa.String(40))
    action: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(12))  # done, failed, waiting
    input: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    output: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (sa.Index("ix_workflow_step_run", "run_id", "seq", "attempt", unique=True),)


WORKFLOW = cast(sa.Table, Workflow.__table__)
VERSION = cast(sa.Table, WorkflowVersion.__table__)
RUN = cast(sa.Table, WorkflowRun.__table__)
STEP = cast(sa.Table, WorkflowStep.__table__)
