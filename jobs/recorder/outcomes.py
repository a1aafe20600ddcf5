"""Worker-side writes: the claim of a job, its outcome (completed, retrying, dead, back to
the outbox), its progress, and refused payloads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection, Engine

from jobs.models import JobState
from jobs.recorder.core import (
    _CLAIMABLE,
    _INSERT_EVENT,
    EVENT,
    JOB,
    PAUSED,
    Claim,
    RecorderCore,
    Started,
    _matched,
    _started_event,
    new_token,
)
from jobs.signing import TamperedPayloadError
from purplecross_desktop.database.base import utcnow


class Outcomes(RecorderCore):
    """Claims and outcomes: each a conditional ``UPDATE`` on id, dispatch token and state."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
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

    def _finish(self, conn: Connection, job_id: str, run_token: str, **values: Any) -> bool:
        return _matched(
            conn.execute(
                update(JOB)
                .where(JOB.c.id == job_id, JOB.c.token == run_token, JOB.c.state == "active")
                .values(**values)
            )
        )


def _claim_of(row: Any) -> Claim:
    task, args, kwargs, attempts, max_attempts, started_at, enqueued_at, next_run_at = row
    ready = max(enqueued_at, next_run_at or enqueued_at)
    return Claim(
        str(task), list(args), dict(kwargs), int(attempts), int(max_attempts), started_at, ready
    )
