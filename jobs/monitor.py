"""What the queue monitor shows, read in a few SQL queries: queue overviews and failure triage.

Qt-free (the pane, ``purplecross jobs`` and the health check all read it). Everything here
reads only small columns: a job's args, kwargs, traceback and result are never loaded in
bulk, so the cost of a refresh does not grow with the size of the jobs' data.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Integer,
    Table,
    Text,
    and_,
    case,
    func,
    or_,
    select,
    true,
)
from sqlalchemy import cast as sql_cast

from jobs.models import JobEvent, JobId, JobState
from jobs.platform import RecordLinks
from jobs.registry import JOB, JobNotFoundError, JobRegistry, WorkerInfo

EVENT = cast(Table, JobEvent.__table__)

#: States counted as failures on a card and in triage.
FAILED_STATES = (JobState.FAILED_RETRYING.value, JobState.DEAD.value)
#: How many of a queue's newest finished jobs the wait and run percentiles are taken over.
PERCENTILE_SAMPLE = 2000
#: The percentiles on a card.
PERCENTILES = (50, 95)
#: Triage groups at most this many failed jobs (the newest); the count says when more exist.
TRIAGE_SCAN_LIMIT = 50_000
#: Seconds a reader reuses its failure groups while the failed jobs look the same (their
#: number, newest enqueue, latest failure and dead count); then it regroups anyway.
TRIAGE_REUSE = 30.0
#: The job_event kind of a line a job wrote with ``job.log(...)``.
LOG_EVENT = "log"
#: The columns of a job list row (``MonitorReader.jobs``), besides the cut ``error``.
LIST_COLUMNS = (
    "id",
    "queue",
    "task",
    "state",
    "attempts",
    "max_attempts",
    "priority",
    "enqueued_at",
    "next_run_at",
    "started_at",
    "finished_at",
    "duration_ms",
    "error_class",
    "worker_id",
    "client_id",
    "patient_id",
    "appointment_id",
    "invoice_id",
    "event_id",
)


@dataclass(frozen=True, slots=True)
class QueueOverview:
    """One queue's card: counts per state, badges, throughput and latency.

    Attributes:
        queue: the queue's name.
        counts: jobs per state (every state, zeros included).
        paused: an admin paused the queue.
        live_workers: live workers that serve the queue.
        minutes: (minute start, completed, dead) for each minute of the window, oldest first.
        failed_recently: jobs of the queue that died in the last ``recent`` minutes.
        wait_p50_ms, wait_p95_ms, run_p50_ms, run_p95_ms: over the newest finished jobs
            of the window (None when none finished).
    """

    queue: str
    counts: dict[str, int]
    paused: bool
    live_workers: int
    minutes: list[tuple[dt.datetime, int, int]]
    failed_recently: int
    wait_p50_ms: float | None
    wait_p95_ms: float | None
    run_p50_ms: float | None
    run_p95_ms: float | None

    @property
    def no_workers(self) -> bool:
        """No live worker serves this queue and it is not paused: its jobs will not run."""
        return not self.paused and self.live_workers == 0

    @property
    def failures(self) -> int:
        """Jobs failing now (retrying) or failed for good (dead)."""
        return sum(self.counts.get(s, 0) for s in FAILED_STATES)

    @property
    def backlog(self) -> int:
        """Jobs not yet running (outbox, waiting, scheduled, paused, retrying)."""
        return sum(
            self.counts.get(s.value, 0)
            for s in (
                JobState.OUTBOX,
                JobState.WAITING,
                JobState.SCHEDULED,
                JobState.PAUSED,
                JobState.FAILED_RETRYING,
            )
        )


@dataclass(frozen=True, slots=True)
class FailureGroup:
    """Failed jobs that failed the same way (one error signature).

    Attributes:
        signature: the exception class and the message with ids, numbers and addresses
            replaced by placeholders (``SMTPRecipientsRefused: <email> refused (<n>)``).
        error_class: the exception class.
        count: failed and dead jobs with this signature.
        first_seen, last_seen: when the oldest and newest of them failed.
        example_id: the newest job of the group.
        example_message: its message as it was.
        queues, tasks: where the group's jobs come from.
        job_ids: every job of the group (what the group's retry or revoke acts on).
    """

    signature: str
    error_class: str
    count: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    example_id: JobId
    example_message: str
    queues: tuple[str, ...]
    tasks: tuple[str, ...]
    job_ids: list[JobId] = field(repr=False)
    dead: int = 0


_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "<email>"),
    (re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+", re.IGNORECASE), "<url>"),
    (
        re.compile(
            r"\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b", re.IGNORECASE
        ),
        "<id>",
    ),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"), "<ip>"),
    (re.compile(r"\b(?:0x)?(?=[0-9a-f]*\d)[0-9a-f]{8,}\b", re.IGNORECASE), "<hex>"),
    (re.compile(r"[-+]?\d+(?:[.,:]\d+)*"), "<n>"),
)
_SPACE = re.compile(r"\s+")


def error_signature(error_class: str | None, message: str | None) -> str:
    """The failure's signature: its class and its message, normalised.

    E-mail addresses, URLs, UUIDs, IP addresses, hex strings with digits and numbers
    become placeholders, so "job 17 timed out after 30 s" and "job 912 timed out after
    31 s" fall into one group.
    """
    text = (message or "")[:500]
    for pattern, placeholder in _PATTERNS:
        text = pattern.sub(placeholder, text)
    text = _SPACE.sub(" ", text).strip()
    name = error_class or "Error"
    return f"{name}: {text}" if text else name


#: A job's args and kwargs are loaded for the detail only up to this size (characters of
#: JSON); past it the detail shows the first ``DATA_PREVIEW`` characters and the size.
DATA_LIMIT = 256 * 1024
DATA_PREVIEW = 4096
#: The traceback shown is cut to this many characters (its end is kept: the raise).
TRACEBACK_LIMIT = 20_000
_BLOBS = ("args", "kwargs", "traceback", "result_summary")


@dataclass(frozen=True, slots=True)
class JobView:
    """What the job detail shows, with large data summarised instead of loaded.

    Attributes:
        fields: the job's small columns (id, queue, task, state, attempts, times, error,
            links, progress...), by column name.
        data: ``{"args": [...], "kwargs": {...}}`` when it is at most ``DATA_LIMIT``
            characters of JSON, else None.
        data_size: the size of args plus kwargs, in characters of JSON.
        data_preview: the start of the args' JSON when ``data`` is None.
        result: the result summary (cut at ``DATA_PREVIEW``).
        traceback: the last ``TRACEBACK_LIMIT`` characters of the traceback.
        timeline: (at, kind, detail, worker) of each event, oldest first; log lines apart.
        logs: (at, line) of each line the job wrote.
    """

    fields: dict[str, Any]
    data: dict[str, Any] | None
    data_size: int
    data_preview: str
    result: str
    traceback: str
    timeline: list[tuple[dt.datetime, str, str, str | None]]
    logs: list[tuple[dt.datetime, str]]


@dataclass(frozen=True, slots=True)
class Schedule:
    """A job that runs on a schedule (the reminder scan, the event dispatcher's poll...).

    Attributes:
        name: what people call it ("Reminder scan").
        task: the task it enqueues.
        every: seconds between runs.
        aligned: runs start on multiples of ``every`` since the epoch (one job per slot,
            cluster-wide); otherwise ``every`` after the last one, when there is work.
        note: what it does, in a few words.
    """

    name: str
    task: str
    every: float
    aligned: bool = True
    note: str = ""


@dataclass(frozen=True, slots=True)
class PeriodicView:
    """A schedule with its last and next run (the monitor's Periodic tab).

    Attributes:
        schedule: the schedule.
        last_job_id: its newest job (None when it never ran).
        last_state: that job's state; ``last_enqueued``/``last_finished`` its times.
        last_error: its error message, if it failed.
        next_run: when the next one is due (None: when there is work, never yet).
        runs: jobs of the task in the last 24 hours; ``failures`` how many of them failed.
    """

    schedule: Schedule
    last_job_id: JobId | None
    last_state: str | None
    last_enqueued: dt.datetime | None
    last_finished: dt.datetime | None
    last_error: str | None
    next_run: dt.datetime | None
    runs: int
    failures: int


class MonitorReader:
    """Reads what the monitor shows from the registry's tables.

    Args:
        registry: the job registry (its platform's engine, queues and clock).
    """

    def __init__(self, registry: JobRegistry) -> None:
        self.registry = registry
        self.engine = registry.engine
        self.postgres = self.engine.dialect.name == "postgresql"
        # queue → (what the failed jobs looked like, when, the groups): a refresh that
        # finds the same failed jobs returns the same groups without regrouping them.
        self._triage: dict[str | None, tuple[tuple[Any, ...], float, list[FailureGroup]]] = {}

    # Overview -----------------------------------------------------------------------
    def overview(
        self,
        minutes: int = 60,
        recent: int = 10,
        workers: Sequence[WorkerInfo] | None = None,
    ) -> list[QueueOverview]:
        """A card per queue (configured queues and any queue with jobs), sorted by name.

        Args:
            minutes: the throughput window, in minutes (60 on the cards).
            recent: the window of ``failed_recently``, in minutes (for alerts).
            workers: the workers, when the caller read them already.
        """
        if minutes < 1 or recent < 1:
            raise ValueError("minutes/recent: must be at least 1")
        counts = self.registry.counts()
        paused = self.registry.paused_queues()
        if workers is None:
            workers = self.registry.workers()
        serving: dict[str, int] = {}
        for worker in workers:
            if worker.alive:
                for queue in worker.queues:
                    serving[queue] = serving.get(queue, 0) + 1
        bucket = self._minute_bucket(JOB.c.finished_at)
        with self.engine.connect() as conn:
            now = self.registry.platform.recorder.now(conn)
            start = (now - dt.timedelta(minutes=minutes - 1)).replace(second=0, microsecond=0)
            recent_start = now - dt.timedelta(minutes=recent)
            finished = (JobState.COMPLETED.value, JobState.DEAD.value)
            per_minute = conn.execute(
                select(JOB.c.queue, JOB.c.state, bucket, func.count())
                .where(JOB.c.finished_at >= start, JOB.c.state.in_(finished))
                .group_by(JOB.c.queue, JOB.c.state, bucket)
            ).all()
            died: dict[str, int] = {
                queue: int(count)
                for queue, count in conn.execute(
                    select(JOB.c.queue, func.count())
                    .where(JOB.c.state == JobState.DEAD.value, JOB.c.finished_at >= recent_start)
                    .group_by(JOB.c.queue)
                )
            }
            window = and_(JOB.c.finished_at >= start, JOB.c.state.in_(finished))
            waits = self._percentiles(conn, JOB.c.wait_ms, window)
            runs = self._percentiles(conn, JOB.c.duration_ms, window)
        first_minute = int(start.timestamp()) // 60
        series: dict[str, list[list[int]]] = {q: [[0, 0] for _ in range(minutes)] for q in counts}
        for queue, state, minute, count in per_minute:
            index = int(minute) - first_minute
            if queue in series and 0 <= index < minutes:
                series[queue][index][0 if state == JobState.COMPLETED.value else 1] += int(count)
        out = []
        for queue in sorted(counts):
            wait = waits.get(queue, {})
            run = runs.get(queue, {})
            out.append(
                QueueOverview(
                    queue=queue,
                    counts=counts[queue],
                    paused=queue in paused,
                    live_workers=serving.get(queue, 0),
                    minutes=[
                        (start + dt.timedelta(minutes=i), done, dead)
                        for i, (done, dead) in enumerate(series[queue])
                    ],
                    failed_recently=died.get(queue, 0),
                    wait_p50_ms=wait.get(50),
                    wait_p95_ms=wait.get(95),
                    run_p50_ms=run.get(50),
                    run_p95_ms=run.get(95),
                )
            )
        return out

    def _percentiles(
        self, conn: Connection, column: ColumnElement[Any], window: ColumnElement[bool]
    ) -> dict[str, dict[int, float]]:
        """p50 and p95 of ``column`` over each queue's newest ``PERCENTILE_SAMPLE`` jobs in
        ``window``, by queue, as ``statistics.quantiles(method="inclusive")`` gives them.

        The database ranks the values (window functions) and returns only the two values
        each percentile lies between: a refresh never carries thousands of rows through
        Python, which would hold the interpreter lock the UI thread needs.
        """
        recent = (
            select(
                JOB.c.queue,
                column.label("x"),
                func.row_number()
                .over(partition_by=JOB.c.queue, order_by=(JOB.c.finished_at.desc(), JOB.c.seq))
                .label("recent"),
            )
            .where(window)
            .subquery()
        )
        sample = (
            select(recent.c.queue, recent.c.x)
            .where(recent.c.recent <= PERCENTILE_SAMPLE, recent.c.x.is_not(None))
            .subquery()
        )
        ranked = select(
            sample.c.queue,
            sample.c.x,
            func.row_number().over(partition_by=sample.c.queue, order_by=sample.c.x).label("rn"),
            func.count().over(partition_by=sample.c.queue).label("n"),
        ).subquery()
        # statistics.quantiles (inclusive): position j = pct * (n - 1) // 100 (0-based),
        # interpolated towards j + 1 by the remainder.
        wanted = [
            ranked.c.rn - 1 - offset == (pct * (ranked.c.n - 1)) // 100
            for pct in PERCENTILES
            for offset in (0, 1)
        ]
        rows = conn.execute(
            select(ranked.c.queue, ranked.c.rn, ranked.c.n, ranked.c.x).where(or_(*wanted))
        ).all()
        values: dict[str, dict[int, float]] = {}
        sizes: dict[str, int] = {}
        for queue, rn, n, x in rows:
            values.setdefault(queue, {})[int(rn) - 1] = float(x)
            sizes[queue] = int(n)
        out: dict[str, dict[int, float]] = {}
        for queue, at in values.items():
            n = sizes[queue]
            if n == 1:
                out[queue] = dict.fromkeys(PERCENTILES, at[0])
                continue
            out[queue] = {}
            for pct in PERCENTILES:
                j, delta = divmod(pct * (n - 1), 100)
                upper = at.get(j + 1, at[j])
                out[queue][pct] = (at[j] * (100 - delta) + upper * delta) / 100
        return out

    def _minute_bucket(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        """Whole minutes since the epoch of ``column`` (UTC), in SQL."""
        if self.postgres:
            return sql_cast(func.floor(func.extract("epoch", column) / 60), BigInteger)
        minutes: ColumnElement[Any] = sql_cast(func.strftime("%s", column), Integer) / 60
        return minutes

    # Failure triage -------------------------------------------------------------------
    def failure_groups(self, queue: str | None = None) -> list[FailureGroup]:
        """Failed and dead jobs grouped by error signature, the biggest group first.

        Reads only ids, queue, task, state, times and the error's class and message
        (at most ``TRIAGE_SCAN_LIMIT`` jobs, the newest). While the failed jobs look as
        they did at this reader's last call (see ``TRIAGE_REUSE``), it returns the same
        list without reading or regrouping them: a live refresh costs one small query.
        """
        self.registry.platform.completions.flush()
        conds: list[ColumnElement[bool]] = [JOB.c.state.in_(FAILED_STATES)]
        if queue is not None:
            conds.append(JOB.c.queue == queue)
        when = func.coalesce(JOB.c.finished_at, JOB.c.started_at, JOB.c.enqueued_at)
        with self.engine.connect() as conn:
            mark = tuple(
                conn.execute(
                    select(
                        func.count(),
                        func.max(JOB.c.seq),
                        func.max(when),
                        func.sum(case((JOB.c.state == JobState.DEAD.value, 1), else_=0)),
                    ).where(and_(*conds))
                ).one()
            )
        cached = self._triage.get(queue)
        if cached is not None and cached[0] == mark and time.monotonic() - cached[1] < TRIAGE_REUSE:
            return cached[2]
        stmt = (
            select(
                JOB.c.id,
                JOB.c.queue,
                JOB.c.task,
                JOB.c.state,
                when,
                JOB.c.error_class,
                func.substr(JOB.c.error_message, 1, 500),
            )
            .where(and_(*conds))
            .order_by(JOB.c.seq.desc())
            .limit(TRIAGE_SCAN_LIMIT)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        groups: dict[str, dict[str, Any]] = {}
        for job_id, job_queue, task, state, at, error_class, message in rows:
            signature = error_signature(error_class, message)
            group = groups.get(signature)
            if group is None:
                # Rows come newest first: the first of a signature is its example.
                group = groups[signature] = {
                    "error_class": error_class or "Error",
                    "ids": [],
                    "first": at,
                    "last": at,
                    "example": (job_id, message or ""),
                    "queues": set(),
                    "tasks": set(),
                    "dead": 0,
                }
            group["ids"].append(JobId(job_id))
            group["queues"].add(job_queue)
            group["tasks"].add(task)
            group["dead"] += state == JobState.DEAD.value
            if at is not None:
                group["first"] = at if group["first"] is None else min(group["first"], at)
                group["last"] = at if group["last"] is None else max(group["last"], at)
        out = [
            FailureGroup(
                signature=signature,
                error_class=g["error_class"],
                count=len(g["ids"]),
                first_seen=g["first"],
                last_seen=g["last"],
                example_id=JobId(g["example"][0]),
                example_message=g["example"][1],
                queues=tuple(sorted(g["queues"])),
                tasks=tuple(sorted(g["tasks"])),
                job_ids=g["ids"],
                dead=g["dead"],
            )
            for signature, g in groups.items()
        ]
        out.sort(key=lambda g: (-g.count, g.signature))
        self._triage[queue] = (mark, time.monotonic(), out)
        return out

    def job_view(self, job_id: str) -> JobView:
        """Job ``job_id`` for the detail: small columns whole, large data summarised.

        Raises:
            JobNotFoundError: no job has that id.
        """
        self.registry.platform.completions.flush()
        small = [c for c in JOB.columns if c.name not in _BLOBS]
        args_len = func.length(sql_cast(JOB.c.args, Text))
        kwargs_len = func.length(sql_cast(JOB.c.kwargs, Text))
        tb_len = func.length(func.coalesce(JOB.c.traceback, ""))
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(
                        *small,
                        args_len.label("_args_len"),
                        kwargs_len.label("_kwargs_len"),
                        tb_len.label("_tb_len"),
                        func.substr(JOB.c.result_summary, 1, DATA_PREVIEW).label("_result"),
                    ).where(JOB.c.id == job_id)
                )
                .mappings()
                .first()
            )
            if row is None:
                raise JobNotFoundError(f"job {job_id}: no such job")
            size = int(row["_args_len"] or 0) + int(row["_kwargs_len"] or 0)
            data: dict[str, Any] | None = None
            preview = ""
            if size <= DATA_LIMIT:
                args, kwargs = conn.execute(
                    select(JOB.c.args, JOB.c.kwargs).where(JOB.c.id == job_id)
                ).one()
                data = {"args": args, "kwargs": kwargs}
            else:
                preview = conn.execute(
                    select(func.substr(sql_cast(JOB.c.args, Text), 1, DATA_PREVIEW)).where(
                        JOB.c.id == job_id
                    )
                ).scalar_one()
            tb_total = int(row["_tb_len"] or 0)
            start = max(1, tb_total - TRACEBACK_LIMIT + 1)
            traceback = conn.execute(
                select(func.substr(JOB.c.traceback, start, TRACEBACK_LIMIT)).where(
                    JOB.c.id == job_id
                )
            ).scalar_one()
            events = conn.execute(
                select(EVENT.c.at, EVENT.c.kind, EVENT.c.detail, EVENT.c.worker_id)
                .where(EVENT.c.job_id == job_id)
                .order_by(EVENT.c.at, EVENT.c.id)
                .limit(5000)
            ).all()
        fields = {k: v for k, v in row.items() if not k.startswith("_")}
        timeline: list[tuple[dt.datetime, str, str, str | None]] = [
            (row["enqueued_at"], "enqueued", row["queue"], None)
        ]
        timeline += [
            (at, kind, detail, worker) for at, kind, detail, worker in events if kind != LOG_EVENT
        ]
        logs = [(at, detail) for at, kind, detail, _w in events if kind == LOG_EVENT]
        return JobView(
            fields=fields,
            data=data,
            data_size=size,
            data_preview=preview,
            result=row["_result"] or "",
            traceback=("…" if start > 1 else "") + (traceback or ""),
            timeline=timeline,
            logs=logs,
        )

    # Workers --------------------------------------------------------------------------
    def workers_view(self) -> list[dict[str, Any]]:
        """Every registered worker as a row: host, pid, queues, threads, times, state
        ("live", "lost": it stopped heartbeating, "stopped": it shut down), the jobs it
        runs now with how long each has run, and for a lost worker where its jobs are now.
        """
        workers = self.registry.workers()
        gone = [w.id for w in workers if not w.alive]
        with self.engine.connect() as conn:
            now = self.registry.platform.recorder.now(conn)
            running = conn.execute(
                select(JOB.c.worker_id, JOB.c.id, JOB.c.task, JOB.c.started_at).where(
                    JOB.c.state == JobState.ACTIVE.value
                )
            ).all()
            fates = (
                conn.execute(
                    select(JOB.c.worker_id, JOB.c.state, func.count())
                    .where(JOB.c.worker_id.in_(gone))
                    .group_by(JOB.c.worker_id, JOB.c.state)
                ).all()
                if gone
                else []
            )
        current: dict[str, list[str]] = {}
        for worker_id, job_id, task, started_at in running:
            seconds = (now - started_at).total_seconds() if started_at else 0.0
            current.setdefault(worker_id, []).append(f"{task} {job_id[:8]} ({seconds:.0f} s)")
        after: dict[str, list[str]] = {}
        for worker_id, state, count in fates:
            after.setdefault(worker_id, []).append(f"{count} {state.replace('_', ' ')}")
        rows = []
        for w in workers:
            if w.alive:
                status = "live"
            elif w.stopped_at is not None:
                status = "stopped"
            else:
                status = "lost"
            rows.append(
                {
                    "id": w.id,
                    "host": w.host,
                    "pid": w.pid,
                    "queues": ", ".join(w.queues),
                    "threads": sum(w.concurrency.values()),
                    "embedded": w.embedded,
                    "started_at": w.started_at,
                    "last_heartbeat": w.last_heartbeat,
                    "heartbeat_age_s": round((now - w.last_heartbeat).total_seconds(), 1),
                    "status": status,
                    "current": "; ".join(current.get(w.id, [])),
                    "jobs_after": ", ".join(sorted(after.get(w.id, []))) if not w.alive else "",
                }
            )
        return rows

    # Job list -------------------------------------------------------------------------
    def jobs(
        self,
        queue: str | None = None,
        states: Sequence[str] | None = None,
        task: str | None = None,
        text: str | None = None,
        record: RecordLinks | dict[str, int | None] | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        event: int | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """The newest jobs matching every filter (those of ``JobRegistry.search``), as rows of
        ``LIST_COLUMNS`` with ``error`` cut to 200 characters: args, kwargs, result and
        traceback are matched by ``text`` in SQL but never read.

        Raises:
            ValueError: an unknown state, or a negative limit.
        """
        if limit < 0:
            raise ValueError("limit: must not be negative")
        self.registry.platform.completions.flush()
        conds = self.registry.conditions(queue, states, task, text, record, since, until, event)
        stmt = (
            select(
                *(JOB.c[name] for name in LIST_COLUMNS),
                func.substr(JOB.c.error_message, 1, 200).label("error"),
            )
            .where(and_(true(), *conds))
            .order_by(JOB.c.enqueued_at.desc(), JOB.c.seq.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(stmt).mappings()]

    # Periodic tasks -------------------------------------------------------------------
    def periodic(self, schedules: Sequence[Schedule]) -> list[PeriodicView]:
        """Each schedule with its newest job, its outcome and its next run."""
        self.registry.platform.completions.flush()
        out = []
        with self.engine.connect() as conn:
            now = self.registry.platform.recorder.now(conn)
            day = now - dt.timedelta(days=1)
            for schedule in schedules:
                last = conn.execute(
                    select(
                        JOB.c.id,
                        JOB.c.state,
                        JOB.c.enqueued_at,
                        JOB.c.finished_at,
                        func.substr(JOB.c.error_message, 1, 300),
                    )
                    .where(JOB.c.task == schedule.task)
                    .order_by(JOB.c.seq.desc())
                    .limit(1)
                ).first()
                runs, failures = conn.execute(
                    select(
                        func.count(),
                        func.coalesce(
                            func.sum(case((JOB.c.state.in_(FAILED_STATES), 1), else_=0)), 0
                        ),
                    ).where(JOB.c.task == schedule.task, JOB.c.enqueued_at >= day)
                ).one()
                if schedule.aligned:
                    slot = math.floor(now.timestamp() / schedule.every) + 1
                    next_run = dt.datetime.fromtimestamp(slot * schedule.every, dt.UTC)
                elif last is not None:
                    next_run = max(now, last[2] + dt.timedelta(seconds=schedule.every))
                else:
                    next_run = None
                out.append(
                    PeriodicView(
                        schedule=schedule,
                        last_job_id=None if last is None else JobId(last[0]),
                        last_state=None if last is None else last[1],
                        last_enqueued=None if last is None else last[2],
                        last_finished=None if last is None else last[3],
                        last_error=None if last is None else last[4],
                        next_run=next_run,
                        runs=int(runs),
                        failures=int(failures),
                    )
                )
        return out

    # Logs -----------------------------------------------------------------------------
    def logs(self, job_id: str, limit: int = 1000) -> list[tuple[dt.datetime, str]]:
        """The lines job ``job_id`` wrote with ``job.log(...)``, oldest first.

        Raises:
            JobNotFoundError: no job has that id.
        """
        with self.engine.connect() as conn:
            if conn.execute(select(JOB.c.id).where(JOB.c.id == job_id)).first() is None:
                raise JobNotFoundError(f"job {job_id}: no such job")
            rows = conn.execute(
                select(EVENT.c.at, EVENT.c.detail)
                .where(EVENT.c.job_id == job_id, EVENT.c.kind == LOG_EVENT)
                .order_by(EVENT.c.at, EVENT.c.id)
                .limit(limit)
            ).all()
        return [(at, detail) for at, detail in rows]
