"""The recorder's core: the registry tables, the database clock, write transactions and
timeline events, and the small values and helpers every part of the writer shares.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select
from sqlalchemy.engine import Connection, Engine

from jobs.fastpath import SqliteHotPath
from jobs.models import (
    CLAIMABLE,
    EmailLog,
    Job,
    JobBlob,
    JobEvent,
    JobWorker,
    PausedQueue,
    RateWindow,
)
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


class RecorderCore:
    """What every part of the registry's writer stands on (see :class:`jobs.recorder.Recorder`).

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

    # Timeline events -------------------------------------------------------------------
    def event(
        self, job_id: str | None, kind: str, queue: str | None = None, detail: str = ""
    ) -> None:
        with self.tx() as conn:
            self._event(conn, job_id, kind, queue, None, detail)

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

    @staticmethod
    def _paused(conn: Connection, queue: str) -> bool:
        return (
            conn.execute(select(PAUSED.c.queue).where(PAUSED.c.queue == queue)).first() is not None
        )


def _matched(result: Any) -> bool:
    """Whether an UPDATE changed a row (UPDATE rowcounts are exact on both drivers)."""
    return bool(result.rowcount)


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
