"""Worker rows (registration, heartbeats by the database's clock, orphaned jobs) and the
rate-limit windows that runners on several machines share.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import and_, insert, or_, select, update

from jobs.models import JobState
from jobs.recorder.core import JOB, RATE, WORKER, RecorderCore, _matched


class Workers(RecorderCore):
    """Worker liveness and shared rate limits, judged by the database's clock."""

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
