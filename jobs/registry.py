"""The job registry's Qt-free API: counts, search, timelines and the admin operations.

Used by the ``purplecross queues`` / ``purplecross jobs`` commands and the queue monitor.
Admin operations change the registry first (a fresh dispatch token makes any older
message of the job harmless) and then dispatch through the outbox.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal, cast

from sqlalchemy import Table, Text, and_, func, or_, select, true
from sqlalchemy import cast as cast_
from sqlalchemy.sql.elements import ColumnElement

from jobs.models import (
    FINISHED,
    Job,
    JobEvent,
    JobId,
    JobState,
    JobWorker,
    PausedQueue,
)
from jobs.platform import JobPlatform, RecordLinks
from purplecross_desktop.database.base import utcnow

JOB = cast(Table, Job.__table__)
EVENT = cast(Table, JobEvent.__table__)
WORKER = cast(Table, JobWorker.__table__)
PAUSED = cast(Table, PausedQueue.__table__)

Order = Literal[
    "enqueued_at", "-enqueued_at", "finished_at", "-finished_at", "started_at", "-started_at"
]
ALL_STATES = tuple(s.value for s in JobState)


class JobNotFoundError(LookupError):
    """No job has that id."""


@dataclass(frozen=True, slots=True)
class JobRecord:
    """One job as the registry knows it (a row of ``search``)."""

    id: JobId
    queue: str
    task: str
    args: list[Any]
    kwargs: dict[str, Any]
    state: str
    attempts: int
    max_attempts: int
    priority: int
    idempotency_key: str | None
    enqueued_at: dt.datetime
    next_run_at: dt.datetime | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    duration_ms: float | None
    wait_ms: float | None
    progress: int
    progress_message: str
    result_summary: str | None
    error_class: str | None
    error_message: str | None
    traceback: str | None
    worker_id: str | None
    client_id: int | None
    patient_id: int | None
    appointment_id: int | None
    invoice_id: int | None
    #: The durable event whose handler enqueued the job (None when none did).
    event_id: int | None = None
    #: How long an active job has been running (database clock); None when not active.
    running_ms: float | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any], now: dt.datetime | None = None) -> JobRecord:
        values = {f.name: row[f.name] for f in fields(cls) if f.name != "running_ms"}
        record = cls(**values)
        if now is not None and record.state == JobState.ACTIVE.value and record.started_at:
            running = max(0.0, (now - record.started_at).total_seconds() * 1000)
            record = dataclasses.replace(record, running_ms=running)
        return record


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One event of a job's life."""

    at: dt.datetime
    kind: str
    detail: str
    worker_id: str | None


@dataclass(frozen=True, slots=True)
class JobDetail:
    """A job with its timeline, oldest event first."""

    job: JobRecord
    timeline: list[TimelineEntry]


@dataclass(frozen=True, slots=True)
class RetryPlan:
    """What ``retry_failed`` would do (or did): eligible ids, and why the others are not."""

    eligible: list[JobId]
    ineligible: dict[JobId, str]
    dry_run: bool


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """A runner as seen from its heartbeats."""

    id: str
    host: str
    pid: int
    queues: list[str]
    concurrency: dict[str, int]
    embedded: bool
    started_at: dt.datetime
    last_heartbeat: dt.datetime
    stopped_at: dt.datetime | None
    alive: bool
    current_jobs: list[JobId]


@dataclass(frozen=True, slots=True)
class Throughput:
    """Completed and failed jobs per minute, with wait and run time percentiles (ms)."""

    minutes: list[tuple[dt.datetime, int, int]]
    wait_p50_ms: float | None
    wait_p95_ms: float | None
    run_p50_ms: float | None
    run_p95_ms: float | None


class JobRegistry:
    """Queries and admin operations over the job tables.

    Args:
        platform: the job platform (its engine, queues, tasks and dispatcher).
    """

    def __init__(self, platform: JobPlatform) -> None:
        self.platform = platform
        self.engine = platform.engine

    def _settle(self) -> None:
        """Read this process's own completions: wait for rows still in the write buffer."""
        self.platform.completions.flush()

    # Reading ------------------------------------------------------------------------
    def counts(self) -> dict[str, dict[str, int]]:
        """Jobs per queue and state (every configured queue and state, zeros included)."""
        self._settle()
        out = {q: dict.fromkeys(ALL_STATES, 0) for q in self.platform.queues}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(JOB.c.queue, JOB.c.state, func.count()).group_by(JOB.c.queue, JOB.c.state)
            ).all()
        for queue, state, count in rows:
            out.setdefault(queue, dict.fromkeys(ALL_STATES, 0))[state] = int(count)
        return out

    def paused_queues(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(conn.execute(select(PAUSED.c.queue)).scalars())

    def search(
        self,
        queue: str | None = None,
        states: Iterable[str] | None = None,
        task: str | None = None,
        text: str | None = None,
        record: RecordLinks | Mapping[str, int | None] | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        order: Order = "-enqueued_at",
        limit: int = 100,
        offset: int = 0,
        event: int | None = None,
    ) -> list[JobRecord]:
        """Jobs matching every given filter; ``text`` matches args, error and traceback.

        ``event`` finds the jobs enqueued by the durable handlers of that domain event.
        """
        self._settle()
        conds = self.conditions(queue, states, task, text, record, since, until, event)
        if limit < 0 or offset < 0:
            raise ValueError("limit/offset: must not be negative")
        column = JOB.c[order.lstrip("-")]
        ordering = column.desc() if order.startswith("-") else column.asc()
        stmt = (
            select(JOB)
            .where(and_(true(), *conds))
            .order_by(ordering, JOB.c.seq.desc())
            .limit(limit)
            .offset(offset)
        )
        with self.engine.connect() as conn:
            now = self.platform.recorder.now(conn)
            return [JobRecord.from_row(r, now) for r in conn.execute(stmt).mappings()]

    def conditions(
        self,
        queue: str | None = None,
        states: Iterable[str] | None = None,
        task: str | None = None,
        text: str | None = None,
        record: RecordLinks | Mapping[str, int | None] | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        event: int | None = None,
    ) -> list[ColumnElement[bool]]:
        """The WHERE terms of ``search`` (its filters), for readers that select fewer columns.

        Raises:
            ValueError: an unknown state.
        """
        conds: list[ColumnElement[bool]] = []
        if queue is not None:
            conds.append(JOB.c.queue == queue)
        if states is not None:
            wanted = list(states)
            bad = [s for s in wanted if s not in ALL_STATES]
            if bad:
                raise ValueError(f"states: unknown {bad}; use {ALL_STATES}")
            conds.append(JOB.c.state.in_(wanted))
        if task is not None:
            conds.append(JOB.c.task == task)
        if text:
            pattern = f"%{text.lower()}%"
            conds.append(
                or_(
                    func.lower(cast_(JOB.c.args, Text)).like(pattern),
                    func.lower(cast_(JOB.c.kwargs, Text)).like(pattern),
                    func.lower(func.coalesce(JOB.c.error_message, "")).like(pattern),
                    func.lower(func.coalesce(JOB.c.error_class, "")).like(pattern),
                    func.lower(JOB.c.id).like(pattern),
                )
            )
        links = RecordLinks.coerce(record)
        for column, value in zip(
            (JOB.c.client_id, JOB.c.patient_id, JOB.c.appointment_id, JOB.c.invoice_id),
            links.as_list(),
            strict=True,
        ):
            if value is not None:
                conds.append(column == value)
        if event is not None:
            conds.append(JOB.c.event_id == event)
        if since is not None:
            conds.append(JOB.c.enqueued_at >= since)
        if until is not None:
            conds.append(JOB.c.enqueued_at < until)
        return conds

    def get(self, job_id: str) -> JobDetail:
        """A job and its timeline; raises :class:`JobNotFoundError`."""
        self._settle()
        with self.engine.connect() as conn:
            now = self.platform.recorder.now(conn)
            row = conn.execute(select(JOB).where(JOB.c.id == job_id)).mappings().first()
            if row is None:
                raise JobNotFoundError(f"job {job_id}: no such job")
            events = conn.execute(
                select(EVENT.c.at, EVENT.c.kind, EVENT.c.detail, EVENT.c.worker_id)
                .where(EVENT.c.job_id == job_id)
                .order_by(EVENT.c.at, EVENT.c.id)
            ).all()
        record = JobRecord.from_row(row, now)
        timeline = [TimelineEntry(record.enqueued_at, "enqueued", record.queue, None)]
        timeline += [TimelineEntry(*e) for e in events]
        return JobDetail(record, timeline)

    def refused_payloads(self, limit: int = 100) -> list[TimelineEntry]:
        """Tampered payloads the workers refused, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(EVENT.c.at, EVENT.c.kind, EVENT.c.detail, EVENT.c.worker_id)
                .where(EVENT.c.kind == "refused")
                .order_by(EVENT.c.id.desc())
                .limit(limit)
            ).all()
        return [TimelineEntry(*r) for r in rows]

    # Admin operations ---------------------------------------------------------------
    def retry(self, job_ids: Sequence[str]) -> list[JobId]:
        """Run dead, revoked or retrying jobs again from attempt 1; returns those re-dispatched."""
        allowed = (JobState.DEAD.value, JobState.REVOKED.value, JobState.FAILED_RETRYING.value)
        done = self._redispatch(job_ids, allowed, reset_attempts=True, event="retried")
        self.platform.drain_outbox()
        return done

    def retry_failed(self, queue: str | None = None, dry_run: bool = False) -> RetryPlan:
        """Retry every dead job of ``queue`` (all queues when None) that can be retried."""
        with self.engine.connect() as conn:
            stmt = select(JOB.c.id, JOB.c.task, JOB.c.error_class).where(
                JOB.c.state == JobState.DEAD.value
            )
            if queue is not None:
                stmt = stmt.where(JOB.c.queue == queue)
            rows = conn.execute(stmt.order_by(JOB.c.seq)).all()
        eligible: list[JobId] = []
        ineligible: dict[JobId, str] = {}
        for job_id, task, error_class in rows:
            spec = self.platform.tasks.get(task)
            if spec is None:
                ineligible[JobId(job_id)] = f"task {task} is not registered in this process"
            elif error_class == "WorkerLost" and not spec.repeatable:
                ineligible[JobId(job_id)] = (
                    "its worker died mid-run and the task is not safe to repeat; "
                    "check it did not take effect, then retry it by id"
                )
            else:
                eligible.append(JobId(job_id))
        if not dry_run and eligible:
            eligible = self.retry(eligible)
        return RetryPlan(eligible, ineligible, dry_run)

    def revoke(self, job_ids: Sequence[str]) -> list[JobId]:
        """Cancel jobs that have not started; returns those revoked.

        A revoked job's messages (and those of a revoked job later cleaned) never run.
        """
        self._settle()
        return [JobId(j) for j in self.platform.recorder.revoke(job_ids)]

    def promote(self, job_ids: Sequence[str]) -> list[JobId]:
        """Run scheduled (or retry-waiting) jobs now instead of at their ETA."""
        self._settle()
        allowed = (JobState.SCHEDULED.value, JobState.FAILED_RETRYING.value)
        done = self._redispatch(job_ids, allowed, reset_attempts=False, event="promoted")
        self.platform.drain_outbox()
        return done

    def duplicate(self, job_id: str) -> JobId:
        """Enqueue a new job with the same task, args, blobs and record links."""
        # Blobs first: they go with the row in one transaction, so a job still there
        # after them had them all (read after it, a clean in between left the copy
        # naming attachments it does not carry: dead at every attempt).
        blobs = self.platform.recorder.blobs_of(job_id)
        job = self.get(job_id).job
        record = RecordLinks(job.client_id, job.patient_id, job.appointment_id, job.invoice_id)
        return self.platform.enqueue(
            job.queue,
            job.task,
            *job.args,
            record=record,
            priority=job.priority,
            blobs=blobs or None,
            **job.kwargs,
        )

    def clean(
        self, queue: str | None, state: str, older_than: dt.timedelta = dt.timedelta(0)
    ) -> int:
        """Delete finished jobs (completed, dead or revoked) finished before ``older_than`` ago."""
        self._settle()
        if state not in {s.value for s in FINISHED}:
            finished = [s.value for s in FINISHED]
            raise ValueError(f"state: only finished jobs can be cleaned ({finished})")
        return self.platform.recorder.delete_finished(queue, state, older_than)

    def purge_expired(self) -> int:
        """Apply retention: completed jobs older than the configured days go."""
        days = self.platform.config.completed_retention_days
        return self.clean(None, JobState.COMPLETED.value, dt.timedelta(days=days))

    def pause(self, queue: str) -> None:
        """Hold the queue's jobs: nothing of it runs until :meth:`resume`."""
        self._settle()
        self.platform.queue_names([queue])
        self.platform.recorder.pause(queue)

    def resume(self, queue: str) -> None:
        """Let a paused queue run again; jobs a worker held are dispatched again."""
        self.platform.queue_names([queue])
        self.platform.recorder.resume(queue)
        self.platform.notify_outbox()
        self.platform.drain_outbox()

    def workers(self) -> list[WorkerInfo]:
        """Every runner that registered, newest first, with the jobs each runs now."""
        timeout = dt.timedelta(seconds=self.platform.config.heartbeat_timeout)
        with self.engine.connect() as conn:
            now = self.platform.recorder.now(conn)
            rows = (
                conn.execute(select(WORKER).order_by(WORKER.c.started_at.desc())).mappings().all()
            )
            active = conn.execute(
                select(JOB.c.worker_id, JOB.c.id).where(JOB.c.state == JobState.ACTIVE.value)
            ).all()
        current: dict[str, list[JobId]] = {}
        for worker_id, job_id in active:
            current.setdefault(worker_id, []).append(JobId(job_id))
        return [
            WorkerInfo(
                id=r["id"],
                host=r["host"],
                pid=r["pid"],
                queues=list(r["queues"]),
                concurrency=dict(r["concurrency"]),
                embedded=bool(r["embedded"]),
                started_at=r["started_at"],
                last_heartbeat=r["last_heartbeat"],
                stopped_at=r["stopped_at"],
                alive=r["stopped_at"] is None and now - r["last_heartbeat"] < timeout,
                current_jobs=current.get(r["id"], []),
            )
            for r in rows
        ]

    def throughput(self, minutes: int = 15) -> Throughput:
        """Per-minute completed/failed counts and p50/p95 wait and run times."""
        self._settle()
        if minutes < 1:
            raise ValueError("minutes: must be at least 1")
        now = utcnow()
        start = (now - dt.timedelta(minutes=minutes - 1)).replace(second=0, microsecond=0)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(JOB.c.finished_at, JOB.c.state, JOB.c.wait_ms, JOB.c.duration_ms).where(
                    JOB.c.finished_at >= start,
                    JOB.c.state.in_([JobState.COMPLETED.value, JobState.DEAD.value]),
                )
            ).all()
        done: Counter[dt.datetime] = Counter()
        failed: Counter[dt.datetime] = Counter()
        waits: list[float] = []
        runs: list[float] = []
        for finished_at, state, wait_ms, duration_ms in rows:
            minute = finished_at.replace(second=0, microsecond=0)
            (done if state == JobState.COMPLETED.value else failed)[minute] += 1
            if wait_ms is not None:
                waits.append(wait_ms)
            if duration_ms is not None:
                runs.append(duration_ms)
        buckets = [start + dt.timedelta(minutes=i) for i in range(minutes)]
        return Throughput(
            [(b, done[b], failed[b]) for b in buckets],
            _percentile(waits, 50),
            _percentile(waits, 95),
            _percentile(runs, 50),
            _percentile(runs, 95),
        )

    # Internals ----------------------------------------------------------------------
    def _redispatch(
        self, job_ids: Sequence[str], allowed: Sequence[str], reset_attempts: bool, event: str
    ) -> list[JobId]:
        out = self.platform.recorder.redispatch(job_ids, allowed, reset_attempts, event)
        if out:
            self.platform.notify_outbox()
        return [JobId(j) for j in out]


def _percentile(values: list[float], pct: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[max(0, min(98, math.ceil(pct) - 1))]
