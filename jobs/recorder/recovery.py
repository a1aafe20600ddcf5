"""Recovery sweeps: jobs of a lost broker dataset, overdue jobs missing from the broker,
and the outbox drainers' claims.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, or_, select, update

from jobs.models import IN_BROKER, JobState
from jobs.recorder.core import JOB, RecorderCore, _matched


class Recovery(RecorderCore):
    """Finds jobs the broker lost and sends them back through the outbox."""

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
