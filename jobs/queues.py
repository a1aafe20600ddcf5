"""Named queues and the Huey instances behind them: Redis (priorities) or SQLite in the data dir.

Each queue is its own Huey instance built by :func:`make_huey`; nothing is registered at
import time. The broker storages record the broker *epoch* (a key set once per Redis
dataset) atomically with every push, so that a Redis that lost its data (a crash
without persistence) is detected and the jobs it held are dispatched again.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huey import Huey
from huey.storage import PriorityRedisStorage, SqliteStorage

from jobs.policy import DEFAULT_POLICY, SINGLE_ATTEMPT, RetryPolicy
from jobs.signing import RefusedCallback, SignedJsonSerializer

log = logging.getLogger(__name__)

EPOCH_KEY = "purplecross.jobs.epoch"
PUSH_LUA = """\
redis.call('SET', KEYS[1], ARGV[1], 'NX')
local epoch = redis.call('GET', KEYS[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return epoch"""
SQLITE_EPOCH = "sqlite"

EMAIL = "email"
REPORTS = "reports"
REMINDERS = "reminders"
NOTIFICATIONS = "notifications"
WEBHOOKS = "webhooks"
WORKFLOWS = "workflows"


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """One named queue.

    Args:
        name: the queue name (letters, digits and underscores).
        concurrency: worker threads serving it in each runner.
        policy: the default retry policy of its tasks.
    """

    name: str
    concurrency: int = 1
    policy: RetryPolicy = DEFAULT_POLICY

    def __post_init__(self) -> None:
        if not self.name.replace("_", "").isalnum():
            raise ValueError(f"queue name: letters, digits and _ only; got {self.name!r}")
        if self.concurrency < 1:
            raise ValueError(f"queue {self.name}: concurrency must be at least 1")


DEFAULT_QUEUES: tuple[QueueSpec, ...] = (
    QueueSpec(EMAIL, concurrency=2),
    QueueSpec(REPORTS, concurrency=1, policy=SINGLE_ATTEMPT),
    QueueSpec(REMINDERS, concurrency=1),
    QueueSpec(NOTIFICATIONS, concurrency=2),
    QueueSpec(WEBHOOKS, concurrency=1),
    QueueSpec(WORKFLOWS, concurrency=1),
)


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    """Where the queues live and how the runner paces itself.

    Args:
        redis_url: Huey on Redis (with priorities) when set.
        queue_file: the SqliteHuey file used when there is no Redis URL.
        name_prefix: prefix of every Huey name (keeps apps sharing a Redis apart).
        read_timeout: seconds a Redis worker blocks waiting for a job.
        connect_timeout: seconds before an unreachable Redis counts as down.
        poll_max_delay: longest sleep of an idle SQLite worker between polls.
    """

    redis_url: str | None = None
    queue_file: Path | None = None
    name_prefix: str = "purplecross"
    read_timeout: float = 1.0
    connect_timeout: float = 0.5
    poll_max_delay: float = 0.5
    queues: tuple[QueueSpec, ...] = field(default=DEFAULT_QUEUES)

    def __post_init__(self) -> None:
        if self.redis_url is None and self.queue_file is None:
            raise ValueError("queue_file: required when no redis_url is configured")

    @property
    def uses_redis(self) -> bool:
        return self.redis_url is not None


class EpochRedisStorage(PriorityRedisStorage):  # type: ignore[misc]
    """Priority Redis storage whose pushes also read (and, if missing, set) the epoch key.

    The epoch seen by the last push of this thread is in :attr:`last_epoch`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._local = threading.local()
        self._push_script = self.conn.register_script(PUSH_LUA)
        # A fresh epoch candidate per push, without a random draw each time.
        self._candidates = itertools.count()
        self._candidate_base = uuid.uuid4().hex[:20]

    @property
    def last_epoch(self) -> str | None:
        value: str | None = getattr(self._local, "epoch", None)
        return value

    def _add(self, key: str, member: bytes, score: float) -> None:
        # One round trip, atomically: set the epoch if missing, read it, add the message.
        candidate = f"{self._candidate_base}-{next(self._candidates)}"
        epoch = self._push_script(keys=[EPOCH_KEY, key], args=[candidate, score, member])
        self._local.epoch = epoch.decode("ascii")

    def enqueue(self, data: bytes, priority: int | None = None) -> None:
        score = 0 if priority is None else -priority
        prefix = struct.pack(">Q", int(time.time() * 1e6))
        self._add(self.queue_key, prefix + data, score)

    def add_to_schedule(self, data: bytes, ts: dt.datetime) -> None:
        self._add(self.schedule_key, data, self.convert_ts(ts))

    def current_epoch(self) -> str:
        """The broker's epoch now (set if the dataset has none yet)."""
        pipe = self.conn.pipeline(transaction=True)
        pipe.set(EPOCH_KEY, uuid.uuid4().hex, nx=True)
        pipe.get(EPOCH_KEY)
        value: bytes = pipe.execute()[1]
        return value.decode("ascii")


class EpochSqliteStorage(SqliteStorage):  # type: ignore[misc]
    """SQLite storage: durable in the data dir, so its epoch never changes."""

    last_epoch = SQLITE_EPOCH

    def current_epoch(self) -> str:
        return SQLITE_EPOCH


def make_redis_pool(config: BrokerConfig) -> Any:
    """One connection pool per process for every queue, failing fast when Redis is down.

    redis-py retries a dead server with backoff by default (DESIGN.md, known traps); here a
    refused connection fails after ``connect_timeout`` with no retry, and the caller
    falls back to the outbox.
    """
    from redis import ConnectionPool
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    assert config.redis_url is not None
    return ConnectionPool.from_url(
        config.redis_url,
        socket_connect_timeout=config.connect_timeout,
        socket_timeout=config.read_timeout + 2.0,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=5,
    )


def make_huey(
    spec: QueueSpec,
    config: BrokerConfig,
    signing_key: bytes,
    on_refused: RefusedCallback | None = None,
    redis_pool: Any = None,
    huey_class: type[Huey] = Huey,
) -> Huey:
    """A Huey instance for one queue: signed JSON, no result store (the registry keeps results)."""
    serializer = SignedJsonSerializer(signing_key, spec.name, on_refused)
    name = f"{config.name_prefix}.{spec.name}"
    if config.uses_redis:
        return huey_class(
            name,
            results=False,
            utc=True,
            serializer=serializer,
            storage_class=EpochRedisStorage,
            connection_pool=redis_pool if redis_pool is not None else make_redis_pool(config),
            blocking=True,
            read_timeout=config.read_timeout,
        )
    assert config.queue_file is not None
    config.queue_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return huey_class(
        name,
        results=False,
        utc=True,
        serializer=serializer,
        storage_class=EpochSqliteStorage,
        filename=str(config.queue_file),
        timeout=30,
    )
