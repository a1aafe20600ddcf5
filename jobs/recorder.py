"""The one writer of the job registry: enqueue rows, claims, outcomes, admin actions, recovery.

Every state change is one short transaction: a conditional ``UPDATE`` on the job row
(the condition — id, dispatch token, state — is what makes two workers, a late or
replayed message, or a stale token harmless) plus ``job_event`` rows for the timeline,
written only when the change happened. Times that are judged across machines
(heartbeats, starts, leases, due times) come from the database's clock: ``now()`` on
PostgreSQL; on SQLite the database is a local file, so its clock is this machine's.

Nothing else in ``jobs/`` writes ``job`` rows; the registry's admin actions, the runner's
recovery and the platform's dispatch all come here. Job data is stored as given: it was
checked to be plain JSON at enqueue (``jobs.config.check_job_data``), so SQLAlchemy's
JSON encoder, orjson on the SQLite hot path and the broker's signed JSON all agree.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine

from jobs.fastpath import SqliteHotPath
from jobs.models import (
    CLAIMABLE,
    IN_BROKER,
    EmailLog,
    Job,
    JobBlob,
    JobEvent,
    JobState,
    JobWorker,
    PausedQueue,
    RateWindow,
)
from jobs.signing import TamperedPayloadError
from purplecross_desktop.database.base import UTCDateTime, utcnow

log = logging.getLogger(__name__)

JOB = cast(Table, Job.__table__)
EVENT = cast(Table, JobEvent.__table__)
BLOB = cast(Table, JobBlob.__table__)
PAUSED = cast(Table, PausedQueue.__table__)
WORKER = cast(Table, JobWorker.__table__)
RATE = cast(Table, RateWindow.__table__)
EMAIL_LOG = cast(Table, EmailLog.__table__)
_INSERT_EVENT = insert(EVENT)
_CLAIMABLE = [s.value for s in CLAIMABLE]
_SQLITE_NOW = func.strftime("%Y-%m-%d %H:%M:%f", "now")

#: When an attempt started, its number and its worker: written with the attempt's outcome.
Started = tuple[dt.datetime, int, str]


@dataclass(frozen=True, slots=True)
class Claim:
    """A job a worker now owns: what to run, and its attempt."""

    task: str
    args: list[Any]
    kwargs: dict[str, Any]
    attempt: int
    max_attempts: int
    started_at: dt.datetime
    ready_at: dt.datetime  # when it became due (enqueue or ETA), for the wait time

    @property
    def wait_ms(self) -> float:
        return max(0.0, (self.started_at - self.ready_at).total_seconds() * 1000)


def _started_event(job_id: str, at: dt.datetime, attempt: int, worker_id: str) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "at": at,
        "kind": "started",
        "queue": None,
        "worker_id": worker_id,
        "detail": f"attempt {attempt}",
    }


def new_token() -> str:
    """A fresh dispatch token: a message carrying any other token is stale."""
    return uuid.uuid4().hex[:16]


def new_seq() -> int:
    """A sequence number ordering jobs by enqueue time across processes."""
    return time.time_ns() // 1000


def summarize(value: Any, limit: int = 500) -> str | None:
    """A short text of a task's return value, for the registry."""
    if value is None:
        return None
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Recorder:
    """The registry's writer, shared by enqueuers, workers and admin actions.

    Args:
        engine: the app database (SQLite or PostgreSQL) holding the ``job`` tables.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        from sqlalchemy.dialects import postgresql, sqlite

        self.postgres = engine.dialect.name == "postgresql"
        # Both dialects spell "insert unless it exists" the same way.
        self._insert: Any = postgresql.insert if self.postgres else sqlite.insert
        # RETURNING, never rowcount: an INSERT's rowcount is -1 on PostgreSQL with
        # psycopg under SQLAlchemy 2.1. Any conflict (id or idempotency key) inserts nothing.
        self._insert_job = self._insert(JOB).on_conflict_do_nothing().returning(JOB.c.id)
        # SQLite lets one writer in at a time and makes the others sleep and poll; queuing
        # this process's writers on a lock instead keeps many worker threads fast.
        self._write_lock: Any = contextlib.nullcontext() if self.postgres else threading.Lock()
        database = engine.url.database
        self.hot: SqliteHotPath | None = None
        if not self.postgres and database and database != ":memory:":
            self.hot = SqliteHotPath(Path(database), _column_defaults())
        # Prebuilt with bind parameters: building statements per call costs more than
        # running them. started_at comes from the database's clock.
        self._claim_stmt = (
            update(JOB)
            .where(
                JOB.c.id == bindparam("b_id"),
                JOB.c.token == bindparam("b_token"),
                JOB.c.state.in_(_CLAIMABLE),
                ~select(PAUSED.c.queue).where(PAUSED.c.queue == bindparam("b_queue")).exists(),
            )
            .values(
                state=JobState.ACTIVE.value,
                attempts=JOB.c.attempts + 1,
                started_at=self._now_sql(),
                worker_id=bindparam("b_worker"),
                held=False,
                progress=0,
                progress_message="",
            )
            .returning(
                JOB.c.task,
                JOB.c.args,
                JOB.c.kwargs,
                JOB.c.attempts,
                JOB.c.max_attempts,
                JOB.c.started_at,
                JOB.c.enqueued_at,
                JOB.c.next_run_at,
            )
        )
        self._complete_one = (
            update(JOB)
            .where(
                JOB.c.id == bindparam("b_id"),
                JOB.c.token == bindparam("b_token"),
                JOB.c.state == JobState.ACTIVE.value,
            )
            .values(
                state=JobState.COMPLETED.value,
                finished_at=self._now_sql(),
                duration_ms=bindparam("b_duration_ms"),
                wait_ms=bindparam("b_wait_ms"),
                progress=100,
                result_summary=bindparam("b_result"),
                next_run_at=None,
            )
            .returning(JOB.c.finished_at)
        )

    # Clock --------------------------------------------------------------------------
    def _now_sql(self) -> Any:
        """The database's "now" inside a statement (a bound local time on SQLite)."""
        if self.postgres:
            return func.now(type_=UTCDateTime())
        return bindparam("b_now", type_=UTCDateTime())

    def now(self, conn: Connection | None = None) -> dt.datetime:
        """The database's clock: ``now()`` on PostgreSQL, SQLite's own ``'now'`` on SQLite.

        Never this process's idea of the time, so a machine whose clock is off cannot
        make a live worker look dead or a lease look expired.
        """
        stmt = select(func.now()) if self.postgres else select(_SQLITE_NOW)
        if conn is not None:
            value = conn.execute(stmt).scalar_one()
        else:
            with self.engine.connect() as c:
                value = c.execute(stmt).scalar_one()
        if isinstance(value, str):
            return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
        return cast(dt.datetime, value).astimezone(dt.UTC)

    @contextlib.contextmanager
    def tx(self) -> Iterator[Connection]:
        """One write transaction (serialized within this process on SQLite)."""
        with self._write_lock, self.engine.begin() as conn:
            yield conn

    def close(self) -> None:
        """Close the hot path's connections."""
        if self.hot is not None:
            self.hot.close()

    # Enqueue -------------------------------------------------------------------------
    #: Whether a registry transaction that wrote a row holds every other writer (a
    #: worker's claim included) until it commits: SQLite's one write lock does; on
    #: PostgreSQL a claim simply does not see the uncommitted row.
    @property
    def holds_writers_until_commit(self) -> bool:
        return not self.postgres

    def insert_job(
        self,
        values: Mapping[str, Any],
        blobs: Mapping[str, bytes] | None = None,
        before_commit: Callable[[], None] | None = None,
    ) -> bool:
        """Insert a job row unless its id or idempotency key exists; returns whether it did.

        ``enqueued_at`` is the database's clock, whatever ``values`` says. ``blobs``
        (digest → bytes) are stored with the row, in its transaction. ``before_commit``
        (which must not raise) runs after a row was inserted, before the commit.
        """
        (inserted,) = self.insert_jobs(
            [values], {values["id"]: blobs} if blobs else {}, before_commit
        )
        return inserted

    def insert_jobs(
        self,
        rows: Sequence[Mapping[str, Any]],
        blobs: Mapping[str, Mapping[str, bytes]] | None = None,
        before_commit: Callable[[], None] | None = None,
    ) -> list[bool]:
        """Insert job rows in one transaction, each unless its id or key exists; which did.

        ``blobs`` maps a row's id to its blobs (stored only if the row went in);
        ``before_commit`` runs, before the commit, when any row went in.
        """
        blobs = blobs or {}
        if self.hot is not None:
            with self._write_lock:
                return self.hot.insert_jobs(rows, blobs, before_commit)
        out: list[bool] = []
        with self.tx() as conn:
            now = self.now(conn)
            for values in rows:
                # Parameters instead of .values(): the compiled statement is cached.
                row = {**values, "enqueued_at": now}
                inserted = conn.execute(self._insert_job, row).first() is not None
                out.append(inserted)
                own = blobs.get(row["id"])
                if inserted and own:
                    conn.execute(
                        insert(BLOB),
                        [
                            {"job_id": row["id"], "digest": d, "size": len(b), "data": b}
                            for d, b in own.items()
                        ],
                    )
            if before_commit is not None and any(out):
                before_commit()
        return out

    def blobs_of(self, job_id: str) -> dict[str, bytes]:
        """Every blob stored with job ``job_id`` (digest → bytes)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(BLOB.c.digest, BLOB.c.data).where(BLOB.c.job_id == job_id)
            ).all()
        return {str(digest): bytes(data) for digest, data in rows}

    def blob(self, job_id: str, digest: str) -> bytes:
        """The bytes stored with job ``job_id`` under ``digest``.

        Raises:
            LookupError: no such blob (the job was cleaned, or the digest is not its).
        """
        with self.engine.connect() as conn:
            data = conn.execute(
                select(BLOB.c.data).where(BLOB.c.job_id == job_id, BLOB.c.digest == digest)
            ).scalar()
        if data is None:
            raise LookupError(f"job {job_id} has no blob {digest}")
        return bytes(data)

    def job_id_for_key(self, idempotency_key: str) -> str | None:
        """The job already enqueued under ``idempotency_key``, if any."""
        with self.engine.connect() as conn:
            value = conn.execute(
                select(JOB.c.id).where(JOB.c.idempotency_key == idempotency_key)
            ).scalar()
        return None if value is None else str(value)

    def push_failed(self, job_id: str, token: str, reason: str) -> bool:
        """A job whose row was written but whose push failed waits in the outbox."""
        with self.tx() as conn:
            done = _matched(
                conn.execute(
                    update(JOB)
                    .where(JOB.c.id == job_id, JOB.c.token == token, JOB.c.state.in_(IN_BROKER))
                    .values(state=JobState.OUTBOX.value, outbox_claimed_by=None)
                )
            )
            if done:
                self._event(conn, job_id, "outbox", None, None, reason)
        return done

    def mark_dispatched(self, pushed: Sequence[tuple[str, str, str, str | None]]) -> int:
        """Outbox rows that reached the broker now wait there: (id, token, state, epoch)."""
        if not pushed:
            return 0
        done = 0
        with self.tx() as conn:
            for job_id, token, state, epoch in pushed:
                if _matched(
                    conn.execute(
                        update(JOB)
                        .where(JOB.c.id == job_id, JOB.c.token == token, JOB.c.state == "outbox")
                        .values(
                            state=state,
                            broker_epoch=epoch,
                            outbox_claimed_by=None,
                            outbox_claimed_at=None,
                        )
                    )
                ):
                    done += 1
                    self._event(conn, job_id, "dispatched", None, None, f"epoch {epoch}")
        return done

    # Claims and outcomes (worker side) ----------------------------------------------
    def claim(self, job_id: str, token: str, worker_id: str, queue: str) -> Claim | None:
        """Make the job ``active`` for this worker and return what to run, or None.

        Not ours: the job is unknown (never enqueued, or cleaned), the token is stale
        (promoted, retried, re-queued, replayed), the job was revoked or already ran, or
        its queue is paused (then the job is held until resumed). A message never
        creates a job: the enqueuer writes the row before it sends the message.
        """
        if self.hot is not None:
            with self._write_lock:
                hot = self.hot.claim(job_id, token, worker_id, queue, utcnow())
            if hot is not None:
                return Claim(*hot)
        params = {
            "b_id": job_id,
            "b_token": token,
            "b_queue": queue,
            "b_now": utcnow(),
            "b_worker": worker_id,
        }
        with self.tx() as conn:
            row = conn.execute(self._claim_stmt, params).first()
            if row is not None:
                return _claim_of(row)
            # Read committed: whatever made the UPDATE miss is committed by now.
            current = conn.execute(
                select(JOB.c.state, JOB.c.token).where(JOB.c.id == job_id)
            ).first()
            if current is None:
                self._event(conn, None, "skipped", queue, worker_id, f"unknown job {job_id}")
                return None
            state, current_token = current
            if current_token != token or state not in _CLAIMABLE:
                reason = "stale token" if current_token != token else f"state {state}"
                self._event(conn, job_id, "skipped", queue, worker_id, reason)
                return None
            if self._paused(conn, queue):
                # Only a paused queue stops a claimable job: hold it until resumed.
                conn.execute(
                    update(JOB)
                    .where(JOB.c.id == job_id, JOB.c.token == token)
                    .values(state=JobState.PAUSED.value, held=True)
                )
                self._event(conn, job_id, "held", queue, worker_id, "queue paused")
                return None
            # Claimable and not paused: it was resumed between the two statements.
            row = conn.execute(self._claim_stmt, params).first()
            return None if row is None else _claim_of(row)

    @staticmethod
    def _paused(conn: Connection, queue: str) -> bool:
        return (
            conn.execute(select(PAUSED.c.queue).where(PAUSED.c.queue == queue)).first() is not None
        )

    def complete_many(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Record completions in one transaction (group-committed by the platform).

        Each row: ``b_id``, ``b_token``, ``b_duration_ms``, ``b_wait_ms``, ``b_result``,
        and the attempt's ``b_started_at``, ``b_attempt``, ``b_worker``. A row whose job is
        no longer active under that token (its run was handed back, timed out or
        revoked) changes nothing and adds nothing to the timeline.
        """
        if not rows:
            return
        if self.hot is not None:
            with self._write_lock:
                self.hot.complete_many(rows, utcnow())
            return
        with self.tx() as conn:
            events: list[dict[str, Any]] = []
            for r in rows:
                finished = conn.execute(self._complete_one, {**r, "b_now": utcnow()}).first()
                if finished is None:
                    continue
                events.append(
                    _started_event(r["b_id"], r["b_started_at"], r["b_attempt"], r["b_worker"])
                )
                events.append(
                    {
                        "job_id": r["b_id"],
                        "at": finished[0],
                        "kind": "completed",
                        "queue": None,
                        "worker_id": None,
                        "detail": "",
                    }
                )
            if events:
                conn.execute(insert(EVENT), events)

    def retrying(
        self,
        job_id: str,
        token: str,
        next_token: str,
        error_class: str,
        message: str,
        traceback_text: str,
        delay: float,
        duration: float,
        epoch: str | None,
        started: Started | None = None,
    ) -> bool:
        """The attempt failed and another is due in ``delay`` s under ``next_token``."""
        with self.tx() as conn:
            now = self.now(conn)
            done = self._finish(
                conn,
                job_id,
                token,
                state=JobState.FAILED_RETRYING.value,
                token=next_token,
                duration_ms=duration * 1000,
                error_class=error_class,
                error_message=message[:4000],
                traceback=traceback_text,
                next_run_at=now + dt.timedelta(seconds=delay),
                broker_epoch=epoch,
            )
            if done:
                if started is not None:
                    conn.execute(_INSERT_EVENT, _started_event(job_id, *started))
                self._event(conn, job_id, "retrying", None, None, f"{error_class}: {message}")
        return done

    def dead(
        self,
        job_id: str,
        token: str,
        error_class: str,
        message: str,
        traceback_text: str,
        duration: float | None,
        started: Started | None = None,
    ) -> bool:
        with self.tx() as conn:
            done = self._finish(
                conn,
                job_id,
                token,
                state=JobState.DEAD.value,
                finished_at=self.now(conn),
                duration_ms=None if duration is None else duration * 1000,
                error_class=error_class,
                error_message=message[:4000],
                traceback=traceback_text,
                next_run_at=None,
            )
            if done:
                if started is not None:
                    conn.execute(_INSERT_EVENT, _started_event(job_id, *started))
                self._event(conn, job_id, "dead", None, None, f"{error_class}: {message}")
        return done

    def to_outbox(
        self,
        job_id: str,
        token: str,
        reason: str,
        next_run_at: dt.datetime | None,
        state: str = JobState.ACTIVE.value,
    ) -> bool:
        """A job (``active`` by default) goes back to the outbox under a fresh token.

        The fresh token makes a late finish of the old run, and any copy of its old
        message, harmless.
        """
        with self.tx() as conn:
            done = _matched(
                conn.execute(
                    update(JOB)
                    .where(JOB.c.id == job_id, JOB.c.token == token, JOB.c.state == state)
                    .values(
                        state=JobState.OUTBOX.value,
                        token=new_token(),
                        next_run_at=next_run_at,
                        outbox_claimed_by=None,
                        outbox_claimed_at=None,
                    )
                )
            )
            if done:
                self._event(conn, job_id, "outbox", None, None, reason)
        return done

    def progress(self, job_id: str, token: str, percent: int, message: str) -> None:
        with self.tx() as conn:
            conn.execute(
                update(JOB)
                .where(JOB.c.id == job_id, JOB.c.token == token, JOB.c.state == "active")
                .values(progress=max(0, min(100, percent)), progress_message=message[:200])
            )

    def refused(self, error: TamperedPayloadError) -> None:
        """A payload that failed its signature check: on record, and nothing else.

        The job id it names is unverified, so no job's state changes on its word; the
        genuine message (if one was replaced) is found missing by the sweep and sent
        again.
        """
        claimed = error.claimed_job_id or "none"
        detail = f"{error.reason}; claims job {claimed}; sha256 {error.digest}"
        self.event(None, "refused", error.queue, detail)

    def event(
        self, job_id: str | None, kind: str, queue: str | None = None, detail: str = ""
    ) -> None:
        with self.tx() as conn:
            self._event(conn, job_id, kind, queue, None, detail)

    # Admin actions (the registry) ---------------------------------------------------
    def revoke(self, job_ids: Sequence[str]) -> list[str]:
        """Cancel jobs that have not started; returns those revoked."""
        out: list[str] = []
        with self.tx() as conn:
            now = self.now(conn)
            for job_id in job_ids:
                if _matched(
                    conn.execute(
                        update(JOB)
                        .where(JOB.c.id == job_id, JOB.c.state.in_(_CLAIMABLE))
                        .values(state=JobState.REVOKED.value, finished_at=now, token=new_token())
                    )
                ):
                    out.append(job_id)
                    self._event(conn, job_id, "revoked", None, None, "by an admin")
        return out

    def redispatch(
        self, job_ids: Sequence[str], allowed: Sequence[str], reset_attempts: bool, event: str
    ) -> list[str]:
        """Send jobs in ``allowed`` states back through the outbox under fresh tokens."""
        out: list[str] = []
        with self.tx() as conn:
            for job_id in job_ids:
                values: dict[str, Any] = {
                    "state": JobState.OUTBOX.value,
                    "token": new_token(),
                    "next_run_at": None,
                    "outbox_claimed_by": None,
                    "held": False,
                    "seq": new_seq(),
                }
                if reset_attempts:
                    values.update(attempts=0, finished_at=None)
                if _matched(
                    conn.execute(
                        update(JOB)
                        .where(JOB.c.id == job_id, JOB.c.state.in_(list(allowed)))
                        .values(**values)
                    )
                ):
                    out.append(job_id)
                    self._event(conn, job_id, event, None, None, "by an admin")
        return out

    def pause(self, queue: str) -> None:
        with self.tx() as conn:
            if not self._paused(conn, queue):
                conn.execute(insert(PAUSED).values(queue=queue, paused_at=self.now(conn)))
            conn.execute(
                update(JOB)
                .where(JOB.c.queue == queue, JOB.c.state == JobState.WAITING.value)
                .values(state=JobState.PAUSED.value)
            )

    def resume(self, queue: str) -> None:
        """Unpause; jobs a worker held (their message is gone) are dispatched again."""
        with self.tx() as conn:
            conn.execute(delete(PAUSED).where(PAUSED.c.queue == queue))
            paused = and_(JOB.c.queue == queue, JOB.c.state == JobState.PAUSED.value)
            conn.execute(
                update(JOB)
                .where(paused, JOB.c.held.is_(True))
                .values(
                    state=JobState.OUTBOX.value,
                    held=False,
                    outbox_claimed_by=None,
                    token=new_token(),
                )
            )
            conn.execute(update(JOB).where(paused).values(state=JobState.WAITING.value))

    def delete_finished(self, queue: str | None, state: str, older_than: dt.timedelta) -> int:
        """Delete jobs in ``state`` finished more than ``older_than`` ago (database clock).

        A message of a deleted job that is still in the broker finds no row and never
        runs: a worker never re-creates a job from its message.
        """
        with self.tx() as conn:
            before = self.now(conn) - older_than
            cond = and_(JOB.c.state == state, JOB.c.finished_at < before)
            if queue is not None:
                cond = and_(cond, JOB.c.queue == queue)
            ids = [r[0] for r in conn.execute(select(JOB.c.id).where(cond)).all()]
            _delete_jobs(conn, ids)
        return len(ids)

    def delete_jobs_in_states(self, job_ids: Sequence[str], states: Sequence[str]) -> list[str]:
        """Delete the jobs of ``job_ids`` that are in one of ``states``; return their ids.

        The ids come back in the order they were asked for (not the database's order).

        The queue monitor's "remove" (of finished jobs) goes through here, so the recorder
        stays the one writer of job rows.
        """
        with self.tx() as conn:
            ids = [
                str(r[0])
                for r in conn.execute(
                    select(JOB.c.id).where(
                        JOB.c.id.in_(list(job_ids)), JOB.c.state.in_(list(states))
                    )
                )
            ]
            _delete_jobs(conn, ids)
        deleted = set(ids)
        return [job_id for job_id in dict.fromkeys(job_ids) if job_id in deleted]

    # Recovery ---------------------------------------------------------------------
    def requeue_lost_epochs(self, current_epoch: str, queues: Sequence[str]) -> int:
        """Jobs held by a broker dataset that no longer exists go back to the outbox."""
        with self.tx() as conn:
            result = conn.execute(
                update(JOB)
                .where(
                    JOB.c.queue.in_(list(queues)),
                    JOB.c.state.in_([s.value for s in IN_BROKER]),
                    JOB.c.broker_epoch.is_not(None),
                    JOB.c.broker_epoch != current_epoch,
                )
                .values(state=JobState.OUTBOX.value, outbox_claimed_by=None)
            )
            count = int(result.rowcount)
            if count:
                self._event(
                    conn, None, "broker-reset", None, None, f"{count} jobs back to the outbox"
                )
        return count

    def overdue_in_broker(self, queue: str, grace: float) -> list[tuple[str, str]]:
        """(id, token) of jobs the broker should have handed out ``grace`` s ago.

        Waiting jobs enqueued, and scheduled or retrying jobs due, more than ``grace``
        seconds ago by the database's clock.
        """
        with self.engine.connect() as conn:
            cutoff = self.now(conn) - dt.timedelta(seconds=grace)
            rows = conn.execute(
                select(JOB.c.id, JOB.c.token).where(
                    JOB.c.queue == queue,
                    or_(
                        and_(JOB.c.state == JobState.WAITING.value, JOB.c.enqueued_at < cutoff),
                        and_(
                            JOB.c.state.in_(
                                [JobState.SCHEDULED.value, JobState.FAILED_RETRYING.value]
                            ),
                            JOB.c.next_run_at < cutoff,
                        ),
                    ),
                )
            ).all()
        return [(str(i), str(t)) for i, t in rows]

    def sweep_missing(self, queue: str, missing: Sequence[tuple[str, str]]) -> int:
        """Overdue jobs absent from the broker go back to the outbox (``swept``)."""
        lost = 0
        with self.tx() as conn:
            for job_id, token in missing:
                if _matched(
                    conn.execute(
                        update(JOB)
                        .where(
                            JOB.c.id == job_id,
                            JOB.c.token == token,
                            JOB.c.state.in_([s.value for s in IN_BROKER]),
                        )
                        .values(state=JobState.OUTBOX.value, outbox_claimed_by=None)
                    )
                ):
                    lost += 1
                    self._event(
                        conn, job_id, "swept", queue, None, "missing from the broker; sent again"
                    )
        return lost

    def claim_outbox(self, owner: str, claim_ttl: float, limit: int) -> list[dict[str, Any]]:
        """Claim up to ``limit`` outbox rows (oldest first) for dispatch by ``owner``.

        One conditional ``UPDATE``: a row another drainer claimed in the meantime no
        longer matches, so no row is ever claimed twice.
        """
        with self.tx() as conn:
            now = self.now(conn)
            stale = now - dt.timedelta(seconds=claim_ttl)
            free = or_(JOB.c.outbox_claimed_by.is_(None), JOB.c.outbox_claimed_at < stale)
            candidates = [
                r[0]
                for r in conn.execute(
                    select(JOB.c.id)
                    .where(JOB.c.state == "outbox", free)
                    .order_by(JOB.c.seq, JOB.c.id)
                    .limit(limit)
                )
            ]
            if not candidates:
                return []
            conn.execute(
                update(JOB)
                .where(JOB.c.id.in_(candidates), JOB.c.state == "outbox", free)
                .values(outbox_claimed_by=owner, outbox_claimed_at=now)
            )
            rows = conn.execute(
                select(JOB)
                .where(
                    JOB.c.id.in_(candidates),
                    JOB.c.outbox_claimed_by == owner,
                    JOB.c.outbox_claimed_at == now,
                )
                .order_by(JOB.c.seq, JOB.c.id)
            ).mappings()
            return [dict(r) for r in rows]

    def release_outbox(self, job_ids: Sequence[str], owner: str) -> None:
        if not job_ids:
            return
        with self.tx() as conn:
            conn.execute(
                update(JOB)
                .where(JOB.c.id.in_(list(job_ids)), JOB.c.outbox_claimed_by == owner)
                .values(outbox_claimed_by=None, outbox_claimed_at=None)
            )

    # Workers ------------------------------------------------------------------------
    def register_worker(self, worker_id: str, values: Mapping[str, Any]) -> None:
        with self.tx() as conn:
            now = self.now(conn)
            row = {**values, "started_at": now, "last_heartbeat": now, "stopped_at": None}
            if not _matched(
                conn.execute(update(WORKER).where(WORKER.c.id == worker_id).values(**row))
            ):
                conn.execute(insert(WORKER).values(id=worker_id, **row))

    def heartbeat(self, worker_id: str) -> None:
        """This worker is alive now, by the database's clock."""
        with self.tx() as conn:
            conn.execute(
                update(WORKER)
                .where(WORKER.c.id == worker_id)
                .values(last_heartbeat=self.now(conn), stopped_at=None)
            )

    def worker_stopped(self, worker_id: str) -> None:
        with self.tx() as conn:
            conn.execute(
                update(WORKER).where(WORKER.c.id == worker_id).values(stopped_at=self.now(conn))
            )

    def orphaned_jobs(self, worker_id: str, timeout: float) -> list[tuple[str, str, str]]:
        """(id, token, worker) of active jobs whose worker fell silent ``timeout`` s ago."""
        with self.engine.connect() as conn:
            cutoff = self.now(conn) - dt.timedelta(seconds=timeout)
            gone = or_(WORKER.c.last_heartbeat < cutoff, WORKER.c.stopped_at.is_not(None))
            orphaned = and_(
                JOB.c.state == JobState.ACTIVE.value,
                JOB.c.worker_id != worker_id,
                or_(
                    select(WORKER.c.id).where(WORKER.c.id == JOB.c.worker_id, gone).exists(),
                    ~select(WORKER.c.id).where(WORKER.c.id == JOB.c.worker_id).exists(),
                ),
            )
            rows = conn.execute(
                select(JOB.c.id, JOB.c.token, JOB.c.worker_id).where(orphaned)
            ).all()
        return [(str(i), str(t), str(w)) for i, t, w in rows]

    def active_jobs_of(self, worker_id: str, older_than: float) -> list[tuple[str, str]]:
        """(id, token) of jobs active under ``worker_id`` for more than ``older_than`` s."""
        with self.engine.connect() as conn:
            cutoff = self.now(conn) - dt.timedelta(seconds=older_than)
            rows = conn.execute(
                select(JOB.c.id, JOB.c.token).where(
                    JOB.c.state == JobState.ACTIVE.value,
                    JOB.c.worker_id == worker_id,
                    JOB.c.started_at < cutoff,
                )
            ).all()
        return [(str(i), str(t)) for i, t in rows]

    # Rate limits ----------------------------------------------------------------------
    def take_rate_slot(self, key: str, limit: int, window: float) -> dt.datetime | None:
        """Take one start from ``key``'s current window: None when taken, else when to retry.

        Windows are fixed and follow the database's clock; the count is one row updated
        under its lock, so runners on several machines share the cap exactly.
        """
        with self.tx() as conn:
            now = self.now(conn)
            conn.execute(
                self._insert(RATE)
                .values(key=key, window_start=now, used=0)
                .on_conflict_do_nothing(index_elements=["key"])
            )
            restart = conn.execute(
                update(RATE)
                .where(RATE.c.key == key, RATE.c.window_start <= now - dt.timedelta(seconds=window))
                .values(window_start=now, used=1)
            )
            if _matched(restart):
                return None
            taken = conn.execute(
                update(RATE)
                .where(RATE.c.key == key, RATE.c.used < limit)
                .values(used=RATE.c.used + 1)
            )
            if _matched(taken):
                return None
            start = conn.execute(select(RATE.c.window_start).where(RATE.c.key == key)).scalar_one()
            return cast(dt.datetime, start) + dt.timedelta(seconds=window)

    def release_rate_slot(self, key: str) -> None:
        """Give back a slot taken for a job that then did not start."""
        with self.tx() as conn:
            conn.execute(
                update(RATE).where(RATE.c.key == key, RATE.c.used > 0).values(used=RATE.c.used - 1)
            )

    # Internals --------------------------------------------------------------------
    def _finish(self, conn: Connection, job_id: str, run_token: str, **values: Any) -> bool:
        return _matched(
            conn.execute(
                update(JOB)
                .where(JOB.c.id == job_id, JOB.c.token == run_token, JOB.c.state == "active")
                .values(**values)
            )
        )

    def write_event(
        self, conn: Connection, job_id: str | None, kind: str, queue: str | None, detail: str
    ) -> None:
        """Add a timeline event inside the caller's transaction."""
        self._event(conn, job_id, kind, queue, None, detail)

    @staticmethod
    def _event(
        conn: Connection,
        job_id: str | None,
        kind: str,
        queue: str | None,
        worker_id: str | None,
        detail: str,
    ) -> None:
        conn.execute(
            _INSERT_EVENT,
            {
                "job_id": job_id,
                "at": utcnow(),
                "kind": kind,
                "queue": queue,
                "worker_id": worker_id,
                "detail": detail[:4000],
            },
        )


def _delete_jobs(conn: Connection, ids: Sequence[str]) -> None:
    """Delete jobs with their timelines and blobs (500 ids a statement)."""
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        conn.execute(delete(EVENT).where(EVENT.c.job_id.in_(chunk)))
        conn.execute(delete(BLOB).where(BLOB.c.job_id.in_(chunk)))
        conn.execute(delete(JOB).where(JOB.c.id.in_(chunk)))


def _matched(result: Any) -> bool:
    """Whether an UPDATE changed a row (UPDATE rowcounts are exact on both drivers)."""
    return bool(result.rowcount)


def _claim_of(row: Any) -> Claim:
    task, args, kwargs, attempts, max_attempts, started_at, enqueued_at, next_run_at = row
    ready = max(enqueued_at, next_run_at or enqueued_at)
    return Claim(
        str(task), list(args), dict(kwargs), int(attempts), int(max_attempts), started_at, ready
    )


def _column_defaults() -> dict[str, Any]:
    """The Python-side defaults of the job table (what SQLAlchemy would fill in)."""
    out: dict[str, Any] = {}
    for column in JOB.columns:
        default = column.default
        if default is None:
            continue
        arg = getattr(default, "arg", None)
        if getattr(default, "is_callable", False):
            out[column.name] = lambda fn=arg: fn(None)
        else:
            out[column.name] = arg
    return out


def error_class_name(error: BaseException) -> str:
    """``module.Class`` of an error (just ``Class`` for builtins)."""
    cls = type(error)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__name__}"
