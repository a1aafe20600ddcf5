"""Named queues and the Huey instances behind them: Redis (priorities) or SQLite in the data dir.

Each queue is its own Huey instance built by :func:`make_huey`; nothing is registered at
import time. The broker storages record the broker *epoch* (a key set once per Redis
dataset) atomically with every push, so that a Redis that lost its data (a crash
without persistence) is detected and the jobs it held are dispatched again.
"""

from __future__ import annotations

import datetime as dt
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

from jobs.policy import DEFAULT_POLICY, SINGLE_ATTEMPT, RateLimit, RetryPolicy
from jobs.signing import RefusedCallback, SignedJsonSerializer

log = logging.getLogger(__name__)

EPOCH_KEY = "purplecross.jobs.epoch"
SQLITE_EPOCH = "sqlite"

EMAIL = "email"
REPORTS = "reports"
REMINDERS = "reminders"
NOTIFICATIONS = "notifications"
WEBHOOKS = "webhooks"
WORKFLOWS = "workflows"
EVENTS = "events"  # the durable-event dispatcher (jobs.event_dispatch)


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """One named queue.

    Args:
        name: the queue name (letters, digits and underscores).
        concurrency: worker threads serving it in each runner.
        policy: the default retry policy of its tasks.
        timeout: seconds after which a run of its tasks counts as hung (a task's own
            ``timeout`` wins); None never times out.
        rate_limit: a cap on how many of its jobs start per window, across every runner;
            jobs over the cap wait for the next window.
    """

    name: str
    concurrency: int = 1
    policy: RetryPolicy = DEFAULT_POLICY
    timeout: float | None = None
    rate_limit: RateLimit | None = None

    def __post_init__(self) -> None:
        if not self.name.replace("_", "").isalnum():
            raise ValueError(f"queue name: letters, digits and _ only; got {self.name!r}")
        if self.concurrency < 1:
            raise ValueError(f"queue {self.name}: concurrency must be at least 1")
        if self.timeout is not None and self.timeout <= 0:
            raise ValueError(f"queue {self.name}: timeout must be positive")


DEFAULT_QUEUES: tuple[QueueSpec, ...] = (
    QueueSpec(EMAIL, concurrency=2, timeout=300.0),
    QueueSpec(REPORTS, concurrency=1, policy=SINGLE_ATTEMPT, timeout=1800.0),
    QueueSpec(REMINDERS, concurrency=1, timeout=300.0),
    QueueSpec(NOTIFICATIONS, concurrency=2, timeout=300.0),
    # Four threads; each endpoint holds at most webhook_endpoint_concurrency (2) of them,
    # so a dead receiver never starves a healthy one (jobs.webhooks.delivery).
    QueueSpec(WEBHOOKS, concurrency=4, timeout=300.0),
    QueueSpec(WORKFLOWS, concurrency=1, timeout=600.0),
    # One attempt: a dispatch that fails is simply run again by the next trigger or sweep.
    QueueSpec(EVENTS, concurrency=1, policy=SINGLE_ATTEMPT, timeout=300.0),
)


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    """Where the queues live and how the runner paces itself.

    Args:
        redis_url: Huey on Redis (with priorities) when set.
        redis_password: the Redis password when the URL has none (from the keyring).
        queue_file: the SqliteHuey file used when there is no Redis URL.
        name_prefix: prefix of every Huey name (keeps apps sharing a Redis apart).
        read_timeout: seconds a Redis worker blocks waiting for a job.
        connect_timeout: seconds before an unreachable Redis counts as down.
        poll_max_delay: longest sleep of an idle SQLite worker between polls.
    """

    redis_url: str | None = None
    redis_password: str | None = field(default=None, repr=False)
    queue_file: Path | None = None
    name_prefix: str = "purplecross"
    read_timeout: float = 1.0
    connect_timeout: float = 0.5
    poll_max_delay: float = 0.5
    queues: tuple[QueueSpec, ...] = field(default=DEFAULT_QUEUES)

    def __post_init__(self) -> None:
        if self.redis_url is None and self.queue_file is None:
            raise ValueError("queue_file: required when no redis_url is configured")

    def __repr__(self) -> str:
        # A URL may carry the Redis password (redis://:secret@host): never show it.
        return (
            f"BrokerConfig(redis_url={redact_url(self.redis_url)!r}, "
            f"queue_file={self.queue_file!r}, name_prefix={self.name_prefix!r}, "
            f"queues={[q.name for q in self.queues]!r})"
        )

    @property
    def uses_redis(self) -> bool:
        return self.redis_url is not None


def redact_url(url: str | None) -> str | None:
    """``url`` with its password replaced by ``***``."""
    if url is None:
        return None
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


class EpochRedisStorage(PriorityRedisStorage):  # type: ignore[misc]
    """Priority Redis storage that knows which broker *epoch* each push went into.

    The epoch is read (and set when the dataset has none) at most once per
    ``epoch_ttl`` seconds and cached; a push is then a plain ``ZADD``, as in Huey. The
    cache is read before the push, so a push is never recorded under a newer epoch than
    the dataset it went into. A push recorded under an older one (Redis restarted within
    the TTL) only makes the job dispatched twice, and the registry's claim runs it once.
    The epoch of this thread's last push is in :attr:`last_epoch`.
    """

    epoch_ttl = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._local = threading.local()
        self._epoch: tuple[float, str] | None = None

    @property
    def last_epoch(self) -> str | None:
        value: str | None = getattr(self._local, "epoch", None)
        return value

    def push_epoch(self) -> str:
        """The epoch the next push goes into (cached for ``epoch_ttl``)."""
        cached = self._epoch
        now = time.monotonic()
        if cached is not None and now - cached[0] < self.epoch_ttl:
            return cached[1]
        epoch = self.current_epoch()
        self._epoch = (now, epoch)
        return epoch

    def enqueue(self, data: bytes, priority: int | None = None) -> None:
        epoch = self.push_epoch()
        super().enqueue(data, priority)
        self._local.epoch = epoch

    def add_to_schedule(self, data: bytes, ts: dt.datetime) -> None:
        epoch = self.push_epoch()
        super().add_to_schedule(data, ts)
        self._local.epoch = epoch

    def start_push(self, data: bytes, priority: int | None, when: dt.datetime | None) -> SplitPush:
        """A push split in two: :meth:`SplitPush.send` writes it, :meth:`SplitPush.wait`
        reads Redis's answer.

        The connection is taken (and opened if needed) here, so ``send`` only writes to a
        socket: the enqueuer calls it while its registry transaction is still open and
        reads the answer after the commit, so the push's round trip and the commit
        overlap. ``when`` (naive UTC) puts the message in the schedule, as
        :meth:`add_to_schedule` does; otherwise it goes on the queue, as :meth:`enqueue`.
        """
        epoch = self.push_epoch()
        if when is None:
            prefix = struct.pack(">Q", int(time.time() * 1e6))  # as Huey's enqueue
            args: tuple[Any, ...] = ("ZADD", self.queue_key, -(priority or 0), prefix + data)
        else:
            args = ("ZADD", self.schedule_key, self.convert_ts(when), data)
        pool = self.conn.connection_pool
        connection = pool.get_connection()
        return SplitPush(pool, connection, args, epoch, self._local)

    def push_many(self, items: list[tuple[bytes, int | None, dt.datetime | None]]) -> None:
        """Push (data, priority, when) messages in one round trip (a pipeline, no MULTI).

        ``when`` (naive UTC) puts a message in the schedule. On an error, any of them may
        or may not have gone: the caller sends them again, and the registry's claim runs
        each job once.
        """
        epoch = self.push_epoch()
        pipe = self.conn.pipeline(transaction=False)
        for data, priority, when in items:
            if when is None:
                prefix = struct.pack(">Q", int(time.time() * 1e6))  # as Huey's enqueue
                pipe.zadd(self.queue_key, {prefix + data: -(priority or 0)})
            else:
                pipe.zadd(self.schedule_key, {data: self.convert_ts(when)})
        pipe.execute()
        self._local.epoch = epoch

    def current_epoch(self) -> str:
        """The broker's epoch now (set if the dataset has none yet)."""
        pipe = self.conn.pipeline(transaction=True)
        pipe.set(EPOCH_KEY, uuid.uuid4().hex, nx=True)
        pipe.get(EPOCH_KEY)
        value: bytes = pipe.execute()[1]
        self._epoch = (time.monotonic(), value.decode("ascii"))
        return self._epoch[1]


class SplitPush:
    """One Redis push whose command is written and whose answer is read at separate times.

    Any failure is kept and raised by :meth:`wait`; the connection goes back to the pool
    (closed, if anything went wrong) exactly once.
    """

    def __init__(
        self, pool: Any, connection: Any, args: tuple[Any, ...], epoch: str, local: Any
    ) -> None:
        self._pool = pool
        self._connection: Any = connection
        self._args = args
        self._epoch = epoch
        self._local = local
        self._error: BaseException | None = None
        self._sent = False

    def send(self) -> None:
        """Write the command (never raises: a failure is raised later by :meth:`wait`)."""
        try:
            self._connection.send_command(*self._args)
            self._sent = True
        except Exception as exc:
            self._error = exc

    def wait(self) -> None:
        """Read Redis's answer; raises what went wrong since :meth:`send`."""
        try:
            if self._error is not None:
                raise self._error
            if not self._sent:
                raise RuntimeError("the push was never sent")
            self._connection.read_response()
        except BaseException:
            self.abandon()
            raise
        self._release()
        self._local.epoch = self._epoch

    def abandon(self) -> None:
        """Give the connection back closed (an unread answer must not reach the next user)."""
        if self._connection is not None:
            self._connection.disconnect()
            self._release()

    def _release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            self._pool.release(connection)


class EpochSqliteStorage(SqliteStorage):  # type: ignore[misc]
    """SQLite storage: durable in the data dir, so its epoch never changes."""

    last_epoch = SQLITE_EPOCH

    def current_epoch(self) -> str:
        return SQLITE_EPOCH

    def push_epoch(self) -> str:
        return SQLITE_EPOCH


def make_redis_pool(config: BrokerConfig) -> Any:
    """One connection pool per process for every queue, failing fast when Redis is down.

    redis-py retries a dead server with backoff by default (DESIGN.md, known traps); here a
    refused connection fails after ``connect_timeout`` with no retry, and the caller
    falls back to the outbox. A password in the URL wins over ``redis_password``.
    """
    from redis import ConnectionPool
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    assert config.redis_url is not None
    extra: dict[str, Any] = {}
    if config.redis_password is not None:
        extra["password"] = config.redis_password
    return ConnectionPool.from_url(
        config.redis_url,
        **extra,
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
