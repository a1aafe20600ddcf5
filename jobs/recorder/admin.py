"""The registry's admin actions: revoke, re-dispatch (retry, promote), pause and resume a
queue, and delete finished jobs (cleaning; the monitor's remove).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.engine import Connection

from jobs.models import JobState
from jobs.recorder.core import (
    _CLAIMABLE,
    BLOB,
    EVENT,
    JOB,
    PAUSED,
    RecorderCore,
    _matched,
    new_seq,
    new_token,
)


class AdminActions(RecorderCore):
    """Admin actions on job rows; each is one transaction with its timeline events."""

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


def _delete_jobs(conn: Connection, ids: Sequence[str]) -> None:
    """Delete jobs with their timelines and blobs (500 ids a statement)."""
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        conn.execute(delete(EVENT).where(EVENT.c.job_id.in_(chunk)))
        conn.execute(delete(BLOB).where(BLOB.c.job_id.in_(chunk)))
        conn.execute(delete(JOB).where(JOB.c.id.in_(chunk)))
