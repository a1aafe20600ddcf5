"""Enqueue-side writes: job rows and their blobs, the idempotency-key lookup, and the
hand-off between the outbox and the broker.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, insert, select, update

from jobs.models import IN_BROKER, JobState
from jobs.recorder.core import BLOB, JOB, RecorderCore, _matched


class RowWrites(RecorderCore):
    """Writes a job's row (and blobs) before its message, and moves it in and out of the outbox."""

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

    def insert_job_in(self, conn: Connection, values: Mapping[str, Any]) -> bool:
        """Insert a job row in the caller's open transaction ``conn`` (on the registry's
        database) unless its id or idempotency key exists; returns whether it did.

        The row commits or rolls back with the caller's own change; ``enqueued_at`` is the
        database's clock. On SQLite that is this process's own clock (SQLite reads the
        time from the machine it runs in, which is this one), so it is read here, as the
        plain enqueue does, instead of with a query.
        """
        at = self.now(conn) if self.postgres else dt.datetime.now(dt.UTC)
        row = {**values, "enqueued_at": at}
        return conn.execute(self._insert_job, row).first() is not None

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
