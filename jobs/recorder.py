"""Writes the job registry: enqueue rows, claims, outcomes, timeline events (from Huey signals).

Every state change is one short transaction: a conditional ``UPDATE`` on the job row
(the condition is what makes two workers, a late message or a stale token harmless)
plus one ``job_event`` row for the timeline.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, exists, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine

from jobs.fastpath import SqliteHotPath
from jobs.models import CLAIMABLE, IN_BROKER, Job, JobEvent, JobState, PausedQueue
from jobs.signing import TamperedPayloadError
from purplecross_desktop.database.base import utcnow

log = logging.getLogger(__name__)

JOB = cast(Table, Job.__table__)
EVENT = cast(Table, JobEvent.__table__)
PAUSED = cast(Table, PausedQueue.__table__)
_INSERT_EVENT = insert(EVENT)

#: When an attempt started, its number and its worker: written with the attempt's outcome.
Started = tuple[dt.datetime, int, str]


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

        # Both dialects spell "insert unless the id exists" the same way.
        self._insert: Any = (
            postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        )
        self._insert_job = self._insert(JOB).on_conflict_do_nothing(index_elements=["id"])
        self._insert_job_returning = self._insert_job.returning(JOB.c.id)
        # SQLite lets one writer in at a time and makes the others sleep and poll; queuing
        # this process's writers on a lock instead keeps many worker threads fast.
        self._write_lock: Any = (
            threading.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()
        )
        database = engine.url.database
        self.hot: SqliteHotPath | None = None
        if engine.dialect.name == "sqlite" and database and database != ":memory:":
            self.hot = SqliteHotPath(Path(database), _column_defaults())
        self._complete_many = (
            update(JOB)
            .where(
                JOB.c.id == bindparam("b_id"),
                JOB.c.token == bindparam("b_token"),
                JOB.c.state == "active",
            )
            .values(
                state=JobState.COMPLETED.value,
                finished_at=bindparam("b_finished_at"),
                duration_ms=bindparam("b_duration_ms"),
                wait_ms=bindparam("b_wait_ms"),
                progress=100,
                result_summary=bindparam("b_result"),
                next_run_at=None,
            )
        )

        # Prebuilt with bind parameters: building statements per call costs more than
        # running them.
        self._claim_stmt = (
            update(JOB)
            .where(
                JOB.c.id == bindparam("b_id"),
                JOB.c.token == bindparam("b_token"),
                JOB.c.state.in_([s.value for s in CLAIMABLE]),
                ~exists().where(PAUSED.c.queue == bindparam("b_queue")),
            )
            .values(
                state=JobState.ACTIVE.value,
                attempts=JOB.c.attempts + 1,
                started_at=bindparam("b_now"),
                worker_id=bindparam("b_worker"),
                held=False,
                progress=0,
                progress_message="",
            )
            .returning(JOB.c.attempts, JOB.c.enqueued_at, JOB.c.next_run_at)
        )

    @contextlib.contextmanager
    def tx(self) -> Iterator[Connection]:
        """One write transaction (serialized within this process on SQLite)."""
        with self._write_lock, self.engine.begin() as conn:
            yield conn

    # Enqueue -------------------------------------------------------------------------
    def insert_job(self, values: Mapping[str, Any], event: str | None = None) -> bool:
        """Insert a job row unless one with its id exists; returns whether it inserted."""
        with self.tx() as conn:
            # Parameters instead of .values(): the compiled statement is cached. RETURNING,
            # not rowcount: an INSERT's rowcount is -1 on PostgreSQL with psycopg under
            # SQLAlchemy 2.1, which once made every insert look refused.
            inserted = conn.execute(self._insert_job_returning, dict(values)).first() is not None
            if inserted and event:
                self._event(conn, values["id"], event, values.get("queue"), None, "")
        return inserted

    def insert_jobs(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert rows (skipping ids that exist) in one transaction."""
        if not rows:
            return
        if self.hot is not None:
            with self._write_lock:
                self.hot.insert_jobs(rows)
            return
        keys = set().union(*(r.keys() for r in rows))
        params = [{k: r.get(k) for k in keys} for r in rows]
        with self.tx() as conn:
            conn.execute(self._insert_job, params)

    def close(self) -> None:
        """Close the hot path's connections."""
        if self.hot is not None:
            self.hot.close()

    def job_id_for_key(self, idempotency_key: str) -> str | None:
        """The job already enqueued under ``idempotency_key``, if any."""
        with self.engine.connect() as conn:
            value = conn.execute(
                select(JOB.c.id).where(JOB.c.idempotency_key == idempotency_key)
            ).scalar()
        return None if value is None else str(value)

    def mark_dispatched(self, pushed: Sequence[tuple[str, str, str, str | None]]) -> int:
        """Outbox rows that reached the broker now wait there: (id, token, state, epoch)."""
        if not pushed:
            return 0
        done = 0
        with self.tx() as conn:
            for job_id, token, state, epoch in pushed:
                n = conn.execute(
                    update(JOB)
                    .where(JOB.c.id == job_id, JOB.c.token == token, JOB.c.state == "outbox")
                    .values(
                        state=state,
                        broker_epoch=epoch,
                        outbox_claimed_by=None,
                        outbox_claimed_at=None,
                    )
                ).rowcount
                if n:
                    done += 1
                    self._event(conn, job_id, "dispatched", None, None, f"epoch {epoch}")
        return done

    # Claims and outcomes (worker side) ----------------------------------------------
    def claim(
        self,
        job_id: str,
        token: str,
        worker_id: str,
        queue: str,
        row_if_missing: Mapping[str, Any],
    ) -> tuple[int, dt.datetime] | None:
        """Make the job ``active`` for this worker: (attempt, when it became due), or None.

        Not ours: the token is stale (promoted, retried, re-queued), the job was revoked
        or already ran, or its queue is paused (then the job is held until resumed).
        A message that reached a worker before its enqueuer wrote the row creates it.
        """
        now = utcnow()
        if self.hot is not None:
            with self._write_lock:
                claimed = self.hot.claim(job_id, token, worker_id, queue, now)
            if claimed is not None:
                return claimed
        params = {
            "b_id": job_id,
            "b_token": token,
            "b_queue": queue,
            "b_now": now,
            "b_worker": worker_id,
        }
        with self.tx() as conn:
            # Each statement sees what was committed before it started (read committed):
            # the enqueuer's row may appear between two of them, so look again rather
            # than conclude from a stale view. Two rounds suffice: the row can only
            # appear once, and nothing but an insert makes a missing row exist.
            for _ in range(3):
                row = conn.execute(self._claim_stmt, params).first()
                if row is not None:
                    attempts, enqueued_at, next_run_at = row
                    return int(attempts), max(enqueued_at, next_run_at or enqueued_at)
                current = conn.execute(
                    select(JOB.c.state, JOB.c.token).where(JOB.c.id == job_id)
                ).first()
                paused = self._paused(conn, queue)
                if current is None:
                    values = dict(row_if_missing)
                    if paused:
                        values.update(state=JobState.PAUSED.value, held=True)
                    else:
                        values.update(
                            state=JobState.ACTIVE.value,
                            attempts=1,
                            started_at=now,
                            worker_id=worker_id,
                        )
                    # RETURNING says whether this insert took; rowcount cannot (it is -1
                    # for an INSERT on PostgreSQL with psycopg under SQLAlchemy 2.1).
                    inserted = conn.execute(
                        self._insert(JOB)
                        .values(**values)
                        .on_conflict_do_nothing()
                        .returning(JOB.c.id)
                    ).first()
                    if inserted is None:
                        continue  # the enqueuer's row was committed meanwhile: claim that
                    if paused:
                        self._event(conn, job_id, "held", queue, worker_id, "queue paused")
                        return None
                    return 1, values["enqueued_at"]
                state, current_token = current
                if current_token != token or state not in {s.value for s in CLAIMABLE}:
                    reason = "stale token" if current_token != token else f"state {state}"
                    self._event(conn, job_id, "skipped", queue, worker_id, reason)
                    return None
                if paused:
                    # Only a paused queue stops a claimable job: hold it until resumed.
                    conn.execute(
                        update(JOB)
                        .where(JOB.c.id == job_id, JOB.c.token == token)
                        .values(state=JobState.PAUSED.value, held=True)
                    )
                    self._event(conn, job_id, "held", queue, worker_id, "queue paused")
                    return None
                # Claimable and not paused: the row was committed after our UPDATE looked.
        raise RuntimeError(f"job {job_id}: the claim did not settle in three rounds")

    @staticmethod
    def _paused(conn: Connection, queue: str) -> bool:
        return (
            conn.execute(select(PAUSED.c.queue).where(PAUSED.c.queue == queue)).first() is not None
        )

    def complete_many(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Record completions in one transaction (group-committed by the platform's writer).

        Each row: ``b_id``, ``b_token``, ``b_finished_at``, ``b_duration_ms``, ``b_wait_ms``,
        ``b_result``, and the attempt's ``b_started_at``, ``b_attempt``, ``b_worker`` (its
        "started" event is written here, not at the claim, to keep the claim one statement);
        a row whose job is no longer active under that token is ignored.
        """
        if not rows:
            return
        if self.hot is not None:
            with self._write_lock:
                self.hot.complete_many(rows)
            return
        with self.tx() as conn:
            conn.execute(self._complete_many, list(rows))
            events: list[dict[str, Any]] = []
            for r in rows:
                events.append(
                    _started_event(r["b_id"], r["b_started_at"], r["b_attempt"], r["b_worker"])
                )
                events.append(
                    {
                        "job_id": r["b_id"],
                        "at": r["b_finished_at"],
                        "kind": "completed",
                        "queue": None,
                        "worker_id": None,
                        "detail": "",
                    }
                )
            conn.execute(insert(EVENT), events)

    def retrying(
        self,
        job_id: str,
        token: str,
        error: BaseException,
        traceback_text: str,
        next_run_at: dt.datetime,
        duration: float,
        epoch: str | None,
        started: Started | None = None,
    ) -> bool:
        with self.tx() as conn:
            if started is not None:
                conn.execute(_INSERT_EVENT, _started_event(job_id, *started))
            done = self._finish(
                conn,
                job_id,
                token,
                state=JobState.FAILED_RETRYING.value,
                duration_ms=duration * 1000,
                error_class=_error_class(error),
                error_message=str(error)[:4000],
                traceback=traceback_text,
                next_run_at=next_run_at,
                broker_epoch=epoch,
            )
            self._event(conn, job_id, "retrying", None, None, f"{_error_class(error)}: {error}")
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
            if started is not None:
                conn.execute(_INSERT_EVENT, _started_event(job_id, *started))
            done = self._finish(
                conn,
                job_id,
                token,
                state=JobState.DEAD.value,
                finished_at=utcnow(),
                duration_ms=None if duration is None else duration * 1000,
                error_class=error_class,
                error_message=message[:4000],
                traceback=traceback_text,
                next_run_at=None,
            )
            self._event(conn, job_id, "dead", None, None, f"{error_class}: {message}")
        return done

    def to_outbox(
        self, job_id: str, token: str, reason: str, next_run_at: dt.datetime | None
    ) -> bool:
        """A running job whose next step could not reach the broker waits in the outbox."""
        with self.tx() as conn:
            done = self._finish(
                conn, job_id, token, state=JobState.OUTBOX.value, next_run_at=next_run_at
            )
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
        """A tampered payload: recorded on the timeline; the job it claims to be is dead."""
        with self.tx() as conn:
            job_id = error.claimed_job_id
            known = job_id is not None and (
                conn.execute(select(JOB.c.id).where(JOB.c.id == job_id)).first() is not None
            )
            detail = f"{error.reason}; sha256 {error.digest}"
            self._event(conn, job_id if known else None, "refused", error.queue, None, detail)
            if known:
                conn.execute(
                    update(JOB)
                    .where(JOB.c.id == job_id, JOB.c.state.in_([s.value for s in CLAIMABLE]))
                    .values(
                        state=JobState.DEAD.value,
                        finished_at=utcnow(),
                        error_class="TamperedPayloadError",
                        error_message=f"payload refused: {detail}",
                        traceback="",
                    )
                )

    def event(
        self, job_id: str | None, kind: str, queue: str | None = None, detail: str = ""
    ) -> None:
        with self.tx() as conn:
            self._event(conn, job_id, kind, queue, None, detail)

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

    def claim_outbox(self, owner: str, claim_ttl: float, limit: int) -> list[dict[str, Any]]:
        """Claim up to ``limit`` outbox rows (oldest first) for dispatch by ``owner``.

        One conditional ``UPDATE``: a row another drainer claimed in the meantime no
        longer matches, so no row is ever claimed twice.
        """
        now = utcnow()
        stale = now - dt.timedelta(seconds=claim_ttl)
        free = or_(JOB.c.outbox_claimed_by.is_(None), JOB.c.outbox_claimed_at < stale)
        with self.tx() as conn:
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

    def delete_finished(self, queue: str | None, state: str, before: dt.datetime) -> int:
        cond = and_(JOB.c.state == state, JOB.c.finished_at < before)
        if queue is not None:
            cond = and_(cond, JOB.c.queue == queue)
        with self.tx() as conn:
            ids = [r[0] for r in conn.execute(select(JOB.c.id).where(cond)).all()]
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                conn.execute(delete(EVENT).where(EVENT.c.job_id.in_(chunk)))
                conn.execute(delete(JOB).where(JOB.c.id.in_(chunk)))
        return len(ids)

    def write_event(
        self, conn: Connection, job_id: str | None, kind: str, queue: str | None, detail: str
    ) -> None:
        """Add a timeline event inside the caller's transaction."""
        self._event(conn, job_id, kind, queue, None, detail)

    # Internals --------------------------------------------------------------------
    def _finish(self, conn: Connection, job_id: str, token: str, **values: Any) -> bool:
        result = conn.execute(
            update(JOB)
            .where(JOB.c.id == job_id, JOB.c.token == token, JOB.c.state == "active")
            .values(**values)
        )
        return bool(result.rowcount == 1)

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


def _error_class(error: BaseException) -> str:
    cls = type(error)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__name__}"


error_class_name = _error_class
