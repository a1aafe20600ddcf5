"""The registry's hot statements on SQLite, run through ``sqlite3`` directly.

Inserting a job, claiming it and recording its completion happen once per job; through
SQLAlchemy they cost several times the statement itself, which made the registry the
runner's bottleneck. These three use plain ``sqlite3`` on per-thread connections and
store values exactly as the SQLAlchemy columns do (naive UTC datetimes as text, JSON as
``json.dumps`` text, booleans as 0/1), so every other query reads them unchanged.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from jobs.models import Job
from purplecross_desktop.database.base import UTCDateTime

log = logging.getLogger(__name__)

_CLAIMABLE = "('outbox', 'waiting', 'scheduled', 'failed_retrying', 'paused')"
_JSON_COLUMNS = {"args", "kwargs"}
_BOOL_COLUMNS = {"repeatable", "held"}
_TIME_COLUMNS = {
    name for name, column in Job.__table__.columns.items() if isinstance(column.type, UTCDateTime)
}

CLAIM_SQL = f"""
UPDATE job SET state = 'active', attempts = attempts + 1, started_at = ?, worker_id = ?,
    held = 0, progress = 0, progress_message = ''
WHERE id = ? AND token = ? AND state IN {_CLAIMABLE}
    AND NOT EXISTS (SELECT 1 FROM job_paused_queue WHERE queue = ?)
RETURNING task, args, kwargs, attempts, max_attempts, started_at, enqueued_at, next_run_at
"""
COMPLETE_SQL = """
UPDATE job SET state = 'completed', finished_at = ?, duration_ms = ?, wait_ms = ?,
    progress = 100, result_summary = ?, next_run_at = NULL
WHERE id = ? AND token = ? AND state = 'active'
"""
#: An INSERT statement and, per column, how its value is stored.
_Insert = tuple[str, list[tuple[str, Callable[[Any], Any] | None]]]
BLOB_SQL = "INSERT INTO job_blob (job_id, digest, size, data) VALUES (?, ?, ?, ?)"
EVENT_SQL = (
    "INSERT INTO job_event (job_id, at, kind, queue, worker_id, detail) VALUES (?, ?, ?, ?, ?, ?)"
)


def to_db_time(value: dt.datetime | None) -> str | None:
    """A datetime as SQLAlchemy's SQLite ``DateTime`` stores it (naive UTC text)."""
    if value is None:
        return None
    naive = value.astimezone(dt.UTC).replace(tzinfo=None)
    return naive.strftime("%Y-%m-%d %H:%M:%S.%f")


def from_db_time(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


def _converter(name: str) -> Callable[[Any], Any] | None:
    """How a value of column ``name`` is stored (as SQLAlchemy's column type stores it).

    None: as it is (text, numbers, NULL).
    """
    if name in _JSON_COLUMNS:
        # The same encoder SQLAlchemy's JSON type uses (json.dumps), so a row reads the
        # same whichever path wrote it.
        return json.dumps
    if name in _BOOL_COLUMNS:
        return lambda value: int(bool(value))
    if name in _TIME_COLUMNS:
        return to_db_time
    return None


class SqliteHotPath:
    """Per-thread ``sqlite3`` connections to the registry file for the per-job statements.

    These connections never checkpoint the WAL themselves: SQLite's automatic checkpoint
    runs inside whichever commit crosses its threshold, and its two ``fsync`` calls then
    land on an enqueuer or a worker. A thread of this object checkpoints instead, every
    ``checkpoint_every`` commits or ``checkpoint_interval`` seconds (``PASSIVE``: it never
    waits for, or holds up, a writer). Commits are as durable as before (WAL,
    ``synchronous=NORMAL``); only the copy into the main file moves.

    Args:
        database: the SQLite file of the app database.
        defaults: the job table's column defaults.
    """

    checkpoint_every = 500
    checkpoint_interval = 1.0

    def __init__(self, database: Path, defaults: Mapping[str, Any]) -> None:
        self.database = database
        self.defaults = dict(defaults)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._inserts: dict[tuple[str, ...], _Insert] = {}
        self._commits = 0
        self._checkpoint_due = threading.Event()
        self._closed = threading.Event()
        self._checkpointer: threading.Thread | None = None

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.database, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's job
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
                if self._checkpointer is None:
                    self._checkpointer = threading.Thread(
                        target=self._checkpoint_loop, name="jobs-wal-checkpoint", daemon=True
                    )
                    self._checkpointer.start()
        return conn

    def _committed(self) -> None:
        # A lost increment between threads only delays a checkpoint a little.
        self._commits += 1
        if self._commits >= self.checkpoint_every:
            self._commits = 0
            self._checkpoint_due.set()

    def _checkpoint_loop(self) -> None:
        conn = sqlite3.connect(self.database, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=30000")
            while not self._closed.is_set():
                self._checkpoint_due.wait(self.checkpoint_interval)
                self._checkpoint_due.clear()
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:
                    log.debug("WAL checkpoint of %s failed: %s", self.database, exc)
        finally:
            conn.close()

    def insert_job(
        self,
        row: Mapping[str, Any],
        blobs: Mapping[str, bytes] | None = None,
        before_commit: Callable[[], None] | None = None,
    ) -> bool:
        """Insert a job row unless its id or idempotency key exists; whether it did.

        ``blobs`` (digest → bytes) go into ``job_blob`` in the same transaction.
        ``before_commit`` runs once the row is in, with the write transaction still open:
        every other writer of the file, a worker's claim included, waits until the commit.
        """
        (inserted,) = self.insert_jobs([row], {row["id"]: blobs} if blobs else {}, before_commit)
        return inserted

    def insert_jobs(
        self,
        rows: Sequence[Mapping[str, Any]],
        blobs: Mapping[str, Mapping[str, bytes]],
        before_commit: Callable[[], None] | None = None,
    ) -> list[bool]:
        """Insert job rows in one transaction (each unless its id or key exists).

        ``blobs`` maps a row's id to its blobs. ``before_commit`` runs if any row went in.
        """
        now = dt.datetime.now(dt.UTC)
        conn = self._connection()
        out: list[bool] = []
        with _Transaction(conn):
            for row in rows:
                values = {**row, "enqueued_at": now}
                sql, columns = self._insert_statement(tuple(values))
                params = [
                    (values[c] if c in values else self._default(c))
                    if convert is None
                    else convert(values[c] if c in values else self._default(c))
                    for c, convert in columns
                ]
                inserted = conn.execute(sql, params).fetchone() is not None
                out.append(inserted)
                own = blobs.get(row["id"])
                if inserted and own:
                    conn.executemany(BLOB_SQL, [(row["id"], d, len(b), b) for d, b in own.items()])
            if before_commit is not None and any(out):
                before_commit()
        self._committed()
        return out

    def _insert_statement(self, keys: tuple[str, ...]) -> _Insert:
        """The INSERT for rows with these keys (built once per set of keys)."""
        cached = self._inserts.get(keys)
        if cached is None:
            names = sorted(set().union(self.defaults, keys))
            sql = (
                f"INSERT INTO job ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
                "ON CONFLICT DO NOTHING RETURNING id"
            )
            cached = (sql, [(name, _converter(name)) for name in names])
            self._inserts[keys] = cached
        return cached

    def _default(self, column: str) -> Any:
        value = self.defaults.get(column)
        return value() if callable(value) else value

    def claim(
        self, job_id: str, token: str, worker_id: str, queue: str, now: dt.datetime
    ) -> tuple[str, list[Any], dict[str, Any], int, int, dt.datetime, dt.datetime] | None:
        """The plain claim (see ``Recorder.claim``); None when it needs the careful path."""
        conn = self._connection()
        # One statement in autocommit mode is atomic on its own; the "started" event is
        # written later, with the outcome (see Recorder.complete_many / retrying / dead).
        row = conn.execute(CLAIM_SQL, (to_db_time(now), worker_id, job_id, token, queue)).fetchone()
        self._committed()
        if row is None:
            return None
        task, args, kwargs, attempts, max_attempts, started_at, enqueued_at, next_run_at = row
        started = from_db_time(started_at)
        enqueued = from_db_time(enqueued_at)
        assert started is not None
        assert enqueued is not None
        due = from_db_time(next_run_at)
        return (
            task,
            json.loads(args),
            json.loads(kwargs),
            int(attempts),
            int(max_attempts),
            started,
            max(enqueued, due or enqueued),
        )

    def complete_many(self, rows: Sequence[Mapping[str, Any]], now: dt.datetime) -> None:
        """Record completions (the ``b_*`` rows of ``Recorder.complete_many``).

        Only a row that is still active under its token is completed, and only a
        completed row gets its "started" and "completed" events.
        """
        finished = to_db_time(now)
        conn = self._connection()
        with _Transaction(conn):
            for r in rows:
                cursor = conn.execute(
                    COMPLETE_SQL,
                    (
                        finished,
                        r["b_duration_ms"],
                        r["b_wait_ms"],
                        r["b_result"],
                        r["b_id"],
                        r["b_token"],
                    ),
                )
                if cursor.rowcount != 1:
                    continue  # handed back, timed out or revoked: this run's result is void
                started = to_db_time(r["b_started_at"])
                attempt = f"attempt {r['b_attempt']}"
                conn.execute(
                    EVENT_SQL, (r["b_id"], started, "started", None, r["b_worker"], attempt)
                )
                conn.execute(EVENT_SQL, (r["b_id"], finished, "completed", None, None, ""))
        self._committed()

    def close(self) -> None:
        self._closed.set()
        self._checkpoint_due.set()
        checkpointer = self._checkpointer
        if checkpointer is not None:
            checkpointer.join(timeout=5)
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
            self._checkpointer = None
        self._local = threading.local()


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (or ``ROLLBACK``) on an autocommit connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.conn.execute("ROLLBACK" if exc_type is not None else "COMMIT")
