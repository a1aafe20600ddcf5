"""CacheService: Redis first, a local disk cache while Redis is down, never a stale read.

How it stays correct (docs/caching.md tells the whole story):

* Reads and writes go to Redis while the circuit breaker is closed, to the disk tier
  while it is open. A Redis miss is a miss: the disk tier is a fallback, not a second
  level, so it can never answer with something Redis no longer has.
* Every invalidation (``delete``, ``delete_pattern``, ``invalidate``) is applied to the
  disk tier too, and, when Redis can't take it, written to a persistent replay log. The
  breaker closes only after the log has been replayed on Redis, under the same lock
  that invalidations take, so no invalidation can slip between replay and failback.
* On each failover the disk tier's entries of this namespace are dropped: they may
  predate invalidations that other workstations made through Redis. On each failback
  the namespace is cleared in Redis: other workstations' invalidations during the
  outage are in their own replay logs, out of this one's reach.
* With a channel (``cache.channel``: the clinic database), an invalidation Redis did not
  take is published there too, and a follower thread applies what other desks published
  to the tier this desk reads, so a desk idle through an outage, or still on Redis while
  another desk lost it, does not keep what that desk changed.
* ``get_or_set`` does not store a loaded value if an invalidation happened while the
  loader ran (it may have read the database before the write): in this process (an
  epoch counter) or in any other (a generation in Redis that every invalidation bumps
  first and a Lua ``SET`` checks).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Final, TypeVar

import redis

from cache import codec
from cache.breaker import CircuitBreaker
from cache.channel import InvalidationChannel, catch_up
from cache.diskfiles import DISK_ERRORS, open_or_start_over
from cache.flight import SingleFlight
from cache.keys import TTL, check_key, check_ttl, entity_invalidation, unstorable_key
from cache.replay import Invalidation, ReplayLog
from cache.stats import CacheStats, Counters, TierStats
from cache.tiers import (
    POOL_EXHAUSTED,
    DiskTier,
    RedisTier,
    Tier,
    make_redis_client,
)

log = logging.getLogger(__name__)

T = TypeVar("T")


MAX_VALUE_BYTES: Final = 2**20
# How long a desk may go without seeing another desk's change when no shared tier tells
# it (Redis down, or none on a shared database).
FALLBACK_MAX_TTL: Final = 30.0
# Connection-level failures open the breaker; AuthenticationError and BusyLoadingError
# (a restarted Redis still loading its data) are ConnectionError subclasses.
REDIS_DOWN: Final = (redis.ConnectionError, redis.TimeoutError)
_NAMESPACE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_MISSING: Final[Any] = object()


def _generation_key(prefix: str) -> str:
    return f"pc-gen:{prefix}"


def _cursor_key(prefix: str) -> str:
    return f"pc-chan:{prefix}"


def _server_key(prefix: str) -> str:
    return f"pc-server:{prefix}"


# What a Redis call may raise is not only RedisError: a socket closed under a reading
# thread surfaces as ValueError or OSError from the parser. Any of them is a miss.
_ANY_TIER_ERROR: tuple[type[BaseException], ...] = (Exception,)


class CacheService:
    """Key/value cache with Redis as the shared tier and diskcache as the fallback.

    Args:
        redis_url: ``redis://``/``rediss://`` URL, or None for the disk tier only.
        disk_dir: the disk tier's directory (created 0700).
        namespace: prefix of every key, one per clinic database, so that two databases
            sharing a Redis never share entries (letters, digits, ``_.-``).
        password: Redis password when the URL has none (from the keyring).
        max_value_bytes: larger encoded values are refused with ``ValueError``.
        debug: log HIT/MISS per key (logger ``cache.service``, level INFO).
        fallback_max_ttl: TTL cap for values stored on disk while Redis is down, or always
            when ``shared_database`` and no Redis (other workstations' invalidations can't
            reach this disk; this bounds how long they go unseen here).
        shared_database: other workstations write to the same database (a clinic server),
            so the disk tier alone can't know of their changes.
        lock_timeout: seconds a cross-process loader lock lives; waiters re-read until then.
        connect_timeout, socket_timeout, health_check_interval, max_connections:
            the Redis client (no retries; a bounded blocking pool).
        probe_backoff: first and maximum delay between background probes of a dead Redis.
        disk_size_limit: bytes before the disk tier evicts the least recently stored.
        channel: the clinic database's invalidation channel (see ``cache.channel``):
            invalidations Redis did not get are published there, and this service
            applies what other desks published to the tier it reads.
        channel_interval: seconds between two looks at the channel (a background
            thread; ``follow_channel()`` looks at once); None starts no thread.

    Cache errors are misses, never exceptions; bad input (a non-serializable or
    oversized value, a bad key or TTL) raises ``TypeError``/``ValueError`` naming the key.
    """

    def __init__(
        self,
        redis_url: str | None,
        disk_dir: str | os.PathLike[str],
        *,
        namespace: str = "default",
        password: str | None = None,
        max_value_bytes: int = MAX_VALUE_BYTES,
        debug: bool = False,
        fallback_max_ttl: float | None = FALLBACK_MAX_TTL,
        shared_database: bool = False,
        lock_timeout: float = 10.0,
        connect_timeout: float = 0.25,
        socket_timeout: float = 0.5,
        health_check_interval: int = 30,
        max_connections: int = 32,
        probe_backoff: tuple[float, float] = (0.05, 5.0),
        disk_size_limit: int = 512 * 2**20,
        channel: InvalidationChannel | None = None,
        channel_interval: float | None = 1.0,
    ) -> None:
        if not _NAMESPACE.fullmatch(namespace):
            raise ValueError(f"namespace {namespace!r}: use 1-64 letters, digits, '_', '.' or '-'")
        self.namespace = namespace
        self.max_value_bytes = max_value_bytes
        self.debug = debug
        self.fallback_max_ttl = fallback_max_ttl
        self.shared_database = shared_database
        self.lock_timeout = lock_timeout
        self._prefix = f"pc:{namespace}:"
        self._lock_prefix = f"pc-lock:{namespace}:"
        self._generation = _generation_key(self._prefix)
        root = Path(disk_dir)
        # A damaged file must not stop the app: start over, and say so (stats, Health).
        self._disk, disk_notice = open_or_start_over(
            root / "values", "disk cache", lambda d: DiskTier(d, size_limit=disk_size_limit)
        )
        self._replay, replay_notice = open_or_start_over(
            root / "replay", "replay log of invalidations", ReplayLog
        )
        self.notices: tuple[str, ...] = tuple(n for n in (disk_notice, replay_notice) if n)
        self._redis: RedisTier | None = None
        if redis_url is not None:
            client = make_redis_client(
                redis_url,
                password=password,
                connect_timeout=connect_timeout,
                socket_timeout=socket_timeout,
                health_check_interval=health_check_interval,
                max_connections=max_connections,
            )
            self._redis = RedisTier(client)
            self._redis.watch_restarts(_server_key(self._prefix), self._prefix, self._generation)
        self._counters = Counters(("redis", "disk"))
        self._flight: SingleFlight[bytes] = SingleFlight()
        self._epoch = 0
        self._disk_stale = False
        self._switches = 0  # failovers and failbacks: a load never stores across one
        self._breaker = CircuitBreaker(
            probe=self._probe,
            recover=self._replay_invalidations,
            on_open=self._on_failover,
            initial_backoff=probe_backoff[0],
            max_backoff=probe_backoff[1],
        )
        if self._redis is not None and (self._replay.dirty() or replay_notice):
            # An earlier run could not deliver invalidations (or we can't tell, the log
            # being unreadable or incomplete): Redis may hold stale entries until they
            # are replayed, so start on disk and let the probe do it.
            self._breaker.open("invalidations from an earlier run are waiting for Redis")
        self._channel = channel
        self.channel_interval = channel_interval
        self._cursor = _cursor_key(self._prefix)
        self._follow_lock = threading.Lock()
        self._channel_error: str | None = None
        self._follow_stop = threading.Event()
        #: Set once the follower thread's first look (at start) is over.
        self.first_look_done = threading.Event()
        self._follower: threading.Thread | None = None
        if channel is not None and channel_interval is not None:
            self._follower = threading.Thread(
                target=self._follow, name="cache-channel-follower", daemon=True
            )
            self._follower.start()
        else:  # no follower thread: there is no first look to wait for
            self.first_look_done.set()

    # Reads -----------------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        """The cached value of ``key``, or ``default`` on a miss (or any cache failure)."""
        full = self._key(key)
        if full is None:
            self._counters.add(self.tier, "misses")
            return default
        value = self._lookup(key, full)
        return default if value is _MISSING else value

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The cached values of ``keys`` that are present (misses are left out)."""
        wanted: list[str] = []
        full: list[str] = []
        for key in keys:
            full_key = self._key(key)
            if full_key is not None:
                wanted.append(key)
                full.append(full_key)
        if not full:
            return {}
        tier, raws = self._read_many(full)
        out: dict[str, Any] = {}
        for key, full_key, raw in zip(wanted, full, raws, strict=True):
            value = self._decoded(tier, key, full_key, raw)
            if value is not _MISSING:
                out[key] = value
        return out

    def get_or_set(self, key: str, loader: Callable[[], T], ttl: float | None = TTL.MEDIUM) -> Any:
        """The cached value, or ``loader()`` stored for ``ttl`` seconds and returned.

        Concurrent misses on one key run the loader once in this process; across
        processes a short lock in the current tier makes the others wait and re-read.
        The result is always what a later hit returns (the value after a trip through
        the codec: dataclasses and rows become dicts, tuples become lists). A key too long
        to store or a value over ``max_value_bytes`` is returned but not cached.

        Raises:
            TypeError: the key is not a str, or the loaded value is not data.
            ValueError: an empty key or a bad ``ttl`` (before the loader runs).
        """
        check_ttl(key, ttl)
        full = self._key(key)
        if full is None:
            return codec.decode(codec.encode(self._checked_value(key, loader())))
        value = self._lookup(key, full)
        if value is not _MISSING:
            return value
        data = self._flight.run(full, lambda: self._load(key, full, loader, ttl))
        return codec.decode(data)

    def exists(self, key: str) -> bool:
        """Whether ``key`` is cached now in the current tier (False on any cache failure)."""
        full = self._key(key)
        if full is None:
            return False
        if self._redis is not None and self._breaker.closed:
            try:
                return self._redis.exists(full)
            except Exception as exc:  # any failure of the Redis call: see _redis_failed
                self._redis_failed(exc)
                if self._breaker.closed:
                    return False
        if self._disk_stale:
            return False
        try:
            return self._disk.exists(full)
        except DISK_ERRORS as exc:
            self._disk_failed(exc)
            return False

    # Writes ----------------------------------------------------------------------------
    def increment(self, key: str, amount: int = 1, ttl: float | None = TTL.MEDIUM) -> int | None:
        """Add ``amount`` to the counter ``key`` and return its new value (a rate limit, a
        counter of attempts). A missing counter starts at 0 and expires ``ttl`` seconds
        after it was made, however often it is incremented (a fixed window); ``get``
        reads it like any value. Atomic across processes and desks on Redis; while Redis
        is down, counters live in this workstation's disk tier (one count per
        workstation, capped by ``fallback_max_ttl``).

        Returns:
            The new value; None when no tier could count (a cache failure, like a miss),
            or the value under ``key`` is not an integer counter (logged).

        Raises:
            TypeError: ``amount`` is not an ``int``.
            ValueError: an empty key or a bad ``ttl``.
        """
        if type(amount) is not int:
            raise TypeError(
                f"increment of cache key {key!r}: amount must be an int, not {amount!r}"
            )
        check_ttl(key, ttl)
        full = self._key(key)
        if full is None:
            return None
        if self._redis is not None and self._breaker.closed:
            try:
                value = self._redis.increment(full, amount, ttl)
            except Exception as exc:  # any failure of the Redis call: see _redis_failed
                self._redis_failed(exc)
                if self._breaker.closed:
                    return None
            else:
                self._counters.add("redis", "sets")
                return value
        if not self._disk_trusted():
            return None
        try:
            value = self._disk.increment(full, amount, self._disk_ttl(ttl))
        except DISK_ERRORS as exc:
            self._disk_failed(exc)
            return None
        if value is None:
            log.warning("cache: %r is not an integer counter; not incremented", key)
        else:
            self._counters.add("disk", "sets")
        return value

    def set(self, key: str, value: Any, ttl: float | None = TTL.MEDIUM) -> bool:
        """Store ``value`` for ``ttl`` seconds (None: until evicted); False if no tier took
        it, or if it is too big to cache (over ``max_value_bytes`` encoded, or a key over
        1,024 characters: logged at DEBUG, never an error).

        Raises:
            TypeError: ``value`` is not serializable (the message names the key).
            ValueError: an empty key or a bad ttl.
        """
        check_ttl(key, ttl)
        full = self._key(key)
        data = self._encode(key, value)
        if full is None or data is None:
            return False
        return self._write({full: data}, ttl)

    def set_many(self, mapping: Mapping[str, Any], ttl: float | None = TTL.MEDIUM) -> bool:
        """Store every item; all values are checked before anything is stored. False if
        some item was too big to cache (the others are stored) or no tier took them."""
        items: dict[str, bytes] = {}
        complete = True
        for key, value in mapping.items():
            check_ttl(key, ttl)
            full = self._key(key)
            data = self._encode(key, value)
            if full is None or data is None:
                complete = False
            else:
                items[full] = data
        if not items:
            return complete
        return self._write(items, ttl) and complete

    def delete(self, key: str) -> bool:
        """Remove ``key``; True if it was present in the current tier."""
        full = self._key(key)
        if full is None:
            return False
        return self._invalidate(Invalidation((full,), (), self._prefix)) > 0

    def delete_pattern(self, pattern: str) -> int:
        """Remove every key matching the glob ``pattern`` (``*``, ``?``, ``[...]``, ``\\``).

        Redis is walked with SCAN and keys are removed with UNLINK in batches (never
        KEYS). Returns how many entries the current tier removed.
        """
        if not isinstance(pattern, str) or not pattern:
            raise ValueError(f"pattern {pattern!r}: must be a non-empty glob string")
        return self._invalidate(Invalidation((), (self._prefix + pattern,), self._prefix))

    def clear(self) -> int:
        """Remove every entry of this namespace."""
        return self.delete_pattern("*")

    def invalidate(self, entity: str, entity_id: object = None) -> int:
        """Drop what is cached about one entity (or, without an id, about all of that kind).

        Key conventions (docs/caching.md): ``<entity>:<id>`` and ``<entity>:<id>:...``
        for one record, ``<entity>:list`` and ``<entity>:list:...`` for lists and pages,
        ``search:...`` for searches, which any write may change, so every invalidation
        drops them. ``invalidate("search")`` drops only the searches.
        """
        return self.invalidate_many([(entity, entity_id)])

    def invalidate_many(self, targets: Iterable[tuple[str, object]]) -> int:
        """``invalidate`` for several ``(entity, id)`` pairs in one pass over the keys."""
        return self._invalidate(entity_invalidation(self._prefix, targets))

    # State -----------------------------------------------------------------------------
    @property
    def tier(self) -> str:
        """Where calls go now: ``"redis"`` or ``"disk"``."""
        return "redis" if self._redis is not None and self._breaker.closed else "disk"

    def check_redis(self) -> bool:
        """Probe Redis now and fail back if it answers (after replaying invalidations)."""
        if self._redis is None:
            return False
        return self._breaker.try_close()

    def follow_channel(self) -> int:
        """Apply what other desks published to the channel since the current tier last
        looked (the background thread does this every ``channel_interval``).

        Returns:
            How many invalidations were applied (0 without a channel, when up to date,
            or when the channel or the tier can't be read: logged, never raised).
        """
        if self._channel is None:
            return 0
        with self._follow_lock:
            on_redis = self._redis is not None and self._breaker.closed
            tier: Tier = self._redis if on_redis and self._redis is not None else self._disk
            if not on_redis and not self._disk_trusted():
                return 0
            try:
                cursor = tier.channel_cursor(self._cursor)
            except Exception as exc:  # any failure of either tier (see _redis_failed)
                self._tier_failed(tier, exc)
                return 0
            try:
                batch = catch_up(self._channel, cursor, self._prefix)
            except Exception as exc:  # the database: logged, the other safeguards remain
                self._channel_error = f"read: {type(exc).__name__}: {exc}"
                log.warning("cache: could not read the invalidation channel: %r", exc)
                return 0
            self._channel_error = None
            if batch is None:
                return 0
            for op in batch.invalidations:
                self._invalidate(op, from_channel=True)
            if self.tier != tier.name or (not on_redis and self._disk_stale):
                return len(batch.invalidations)  # not all applied there: look again later
            try:
                tier.advance_channel_cursor(self._cursor, batch.latest, batch.reset)
            except Exception as exc:  # any failure of either tier (see _redis_failed)
                self._tier_failed(tier, exc)
            log.info("cache: applied %d invalidations from the channel", len(batch.invalidations))
            return len(batch.invalidations)

    def _follow(self) -> None:
        """The follower thread: look at once (a desk starting may read Redis at once),
        then every ``channel_interval`` until ``close()``."""
        while True:
            try:
                self.follow_channel()
            except Exception:  # never let the thread die: the next look may work
                log.exception("cache: following the invalidation channel failed")
            self.first_look_done.set()
            if self.channel_interval is None or self._follow_stop.wait(self.channel_interval):
                return

    def stats(self) -> CacheStats:
        """App-level counters per tier, keys and memory per tier, tier and failovers."""
        tiers: list[TierStats] = []
        if self._redis is not None:
            keys = memory = None
            if self._breaker.closed:
                try:
                    keys = self._redis.count(self._prefix)
                    memory = self._redis.memory_bytes()
                except Exception as exc:  # any failure of the Redis call: see _redis_failed
                    self._redis_failed(exc)
            counts = self._counters.snapshot("redis")
            tiers.append(TierStats("redis", **counts, keys=keys, memory_bytes=memory))
        try:
            disk_keys: int | None = self._disk.count(self._prefix)
            disk_memory: int | None = self._disk.memory_bytes()
        except DISK_ERRORS:
            disk_keys = disk_memory = None
        counts = self._counters.snapshot("disk")
        tiers.append(TierStats("disk", **counts, keys=disk_keys, memory_bytes=disk_memory))
        return CacheStats(
            namespace=self.namespace,
            tier=self.tier,
            breaker=self._breaker.state if self._redis is not None else "none",
            failovers=self._breaker.failovers,
            replay_pending=len(self._replay),
            last_error=self._breaker.last_error,
            tiers=tuple(tiers),
            notices=self.notices,
            channel=self._channel_state(),
        )

    def _channel_state(self) -> str:
        if self._channel is None:
            return "none"
        error = self._channel_error
        return "following" if error is None else f"failing: {error.splitlines()[0][:200]}"

    def reset_stats(self) -> None:
        self._counters.reset()

    def close(self) -> None:
        """Stop the probe thread and close both tiers.

        A process that quits with invalidations waiting for Redis tries Redis once more
        first (a refused port answers in a millisecond, a hung one within
        ``connect_timeout``): other desks on Redis would read what they invalidate.
        """
        if self._redis is not None and not self._breaker.closed:
            with contextlib.suppress(Exception):
                if self._replay.dirty():
                    self._breaker.try_close()
        self._breaker.stop()
        self._follow_stop.set()
        follower = self._follower
        if follower is not None and follower is not threading.current_thread():
            follower.join(timeout=5)
        if self._redis is not None:
            self._redis.close()
        self._disk.close()
        self._replay.close()

    def __enter__(self) -> CacheService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Internals: keys and values ----------------------------------------------------------
    def _key(self, key: str) -> str | None:
        """The stored name of ``key``, or None when it cannot be stored (logged)."""
        check_key(key)
        why = unstorable_key(key)
        if why is None:
            return self._prefix + key
        log.debug("cache: not caching key %r...: %s", key[:60], why)
        return None

    def _encode(self, key: str, value: Any) -> bytes | None:
        """The stored form of ``value``, or None when it is too big to cache (logged)."""
        try:
            data = codec.encode(value)
        except TypeError as exc:
            raise TypeError(f"cache value for key {key!r} is not serializable: {exc}") from None
        if len(data) > self.max_value_bytes:
            log.debug(
                "cache: not caching %r: %d bytes encoded, over max_value_bytes %d",
                key,
                len(data),
                self.max_value_bytes,
            )
            return None
        return data

    def _checked_value(self, key: str, value: Any) -> Any:
        """``value``, after checking it is data (``TypeError`` naming the key if not)."""
        try:
            codec.encode(value)
        except TypeError as exc:
            raise TypeError(f"cache value for key {key!r} is not serializable: {exc}") from None
        return value

    def _decodable(self, raw: bytes) -> bool:
        """Whether ``raw`` is a value we would store (read back by a waiting loader)."""
        if len(raw) > self.max_value_bytes:
            return False
        try:
            codec.decode(raw)
        except ValueError:
            return False
        return True

    def _decoded(self, tier: str, key: str, full: str, raw: bytes | None) -> Any:
        if raw is None:
            self._counters.add(tier, "misses")
            if self.debug:
                log.info("cache MISS %s (%s)", key, tier)
            return _MISSING
        try:
            if len(raw) > self.max_value_bytes:
                # What is written is bounded; so is what is read: whoever can write to
                # Redis must not make every desk decode hundreds of megabytes.
                raise ValueError(f"{len(raw)} bytes, over max_value_bytes")
            value = codec.decode(raw)
        except ValueError as exc:  # orjson.JSONDecodeError is a ValueError
            log.warning("cache entry %r in %s is corrupt (%s); dropping it", key, tier, exc)
            self._counters.add(tier, "errors")
            self._invalidate(Invalidation((full,), (), self._prefix))
            return _MISSING
        self._counters.add(tier, "hits")
        if self.debug:
            log.info("cache HIT %s (%s)", key, tier)
        return value

    def _lookup(self, key: str, full: str) -> Any:
        tier, raw = self._read(full)
        return self._decoded(tier, key, full, raw)

    # Internals: tiers ------------------------------------------------------------------
    def _read(self, full: str) -> tuple[str, bytes | None]:
        if self._redis is not None and self._breaker.closed:
            try:
                return "redis", self._redis.get(full)
            except Exception as exc:  # any failure of the Redis call: see _redis_failed
                self._redis_failed(exc)
                if self._breaker.closed:
                    return "redis", None
        if self._disk_stale:
            return "disk", None
        try:
            return "disk", self._disk.get(full)
        except DISK_ERRORS as exc:
            self._disk_failed(exc)
            return "disk", None

    def _read_many(self, full: list[str]) -> tuple[str, list[bytes | None]]:
        if self._redis is not None and self._breaker.closed:
            try:
                return "redis", self._redis.get_many(full)
            except Exception as exc:  # any failure of the Redis call: see _redis_failed
                self._redis_failed(exc)
                if self._breaker.closed:
                    return "redis", [None] * len(full)
        if self._disk_stale:
            return "disk", [None] * len(full)
        try:
            return "disk", self._disk.get_many(full)
        except DISK_ERRORS as exc:
            self._disk_failed(exc)
            return "disk", [None] * len(full)

    def _write(self, items: dict[str, bytes], ttl: float | None) -> bool:
        if self._redis is not None and self._breaker.closed:
            try:
                if len(items) == 1:
                    ((key, data),) = items.items()
                    self._redis.set(key, data, ttl)
                else:
                    self._redis.set_many(items, ttl)
            except Exception as exc:  # any failure of the Redis call: see _redis_failed
                self._redis_failed(exc)
                if self._breaker.closed:
                    return False
            else:
                self._counters.add("redis", "sets", len(items))
                return True
        ttl = self._disk_ttl(ttl)
        if not self._disk_trusted():
            return False
        try:
            if len(items) == 1:
                ((key, data),) = items.items()
                self._disk.set(key, data, ttl)
            else:
                self._disk.set_many(items, ttl)
        except DISK_ERRORS as exc:
            self._disk_failed(exc)
            return False
        self._counters.add("disk", "sets", len(items))
        return True

    def _invalidate(self, op: Invalidation, *, from_channel: bool = False) -> int:
        """Apply ``op`` to both tiers; what Redis can't take goes to the replay log and,
        for the other desks, to the channel (``from_channel``: it came from there, and
        Redis gets it through the channel's cursor once it is reachable)."""
        deleted, delivered = self._invalidate_here(op, from_channel)
        if not delivered and not from_channel and self._channel is not None:
            self._publish(op)
        return deleted

    def _publish(self, op: Invalidation) -> None:
        """Tell the other desks through the clinic database (never raises: the replay log,
        the failback clear and ``fallback_max_ttl`` remain if the database can't take it)."""
        assert self._channel is not None
        try:
            self._channel.publish(op)
        except Exception as exc:  # whatever the database says, the cache never raises
            self._channel_error = f"publish: {type(exc).__name__}: {exc}"
            log.warning("cache: could not publish an invalidation to the channel: %r", exc)

    def _invalidate_here(self, op: Invalidation, from_channel: bool) -> tuple[int, bool]:
        """(entries deleted in the current tier, whether Redis took it): under the lock."""
        with self._breaker.lock:
            self._epoch += 1
            disk_deleted = self._apply(self._disk, op) if self._disk_trusted() else None
            if disk_deleted is None:
                # The disk still holds what should be gone (a full or failing disk): this
                # process reads nothing from it until a clear of the namespace succeeds.
                self._disk_stale = True
                disk_deleted = 0
            else:
                self._counters.add("disk", "deletes", disk_deleted)
            if self._redis is None:
                # Nothing shared but the channel: other desks' disks need it only when
                # they share the database.
                return disk_deleted, not self.shared_database
            if self._breaker.closed:
                try:
                    deleted = self._apply(self._redis, op)
                except Exception as exc:  # any failure of the Redis call: see _redis_failed
                    # Whatever the error, Redis may still hold the entries: fail over so
                    # nothing reads them, and let the probe replay this before failback.
                    self._redis_failed(exc, force_open=True)
                else:
                    assert deleted is not None
                    self._counters.add("redis", "deletes", deleted)
                    return deleted, True
            if not from_channel:
                # Never raises: an entry that can't be recorded marks the log incomplete,
                # and failback then clears the whole namespace in Redis.
                self._replay.append(op)
            return disk_deleted, False

    def _disk_ttl(self, ttl: float | None) -> float | None:
        """``ttl`` capped for the disk tier when it stands in for a shared tier."""
        unshared = self._redis is not None or self.shared_database
        if unshared and self.fallback_max_ttl is not None:
            return self.fallback_max_ttl if ttl is None else min(ttl, self.fallback_max_ttl)
        return ttl

    def _disk_trusted(self) -> bool:
        """Whether the disk tier holds nothing an invalidation failed to delete; after such
        a failure, try once more to clear this namespace from it (True if that worked)."""
        if not self._disk_stale:
            return True
        if self._apply(self._disk, Invalidation((), (self._prefix + "*",), self._prefix)) is None:
            return False
        log.info("cache: the disk tier could be cleared again; using it")
        self._disk_stale = False
        return True

    def _apply(self, tier: Tier, op: Invalidation) -> int | None:
        """Apply ``op`` to ``tier``; Redis errors propagate, disk errors give None."""
        try:
            tier.bump_generation(_generation_key(op.prefix))  # before deleting: see _load
            deleted = tier.delete(op.keys) if op.keys else 0
            return deleted + tier.delete_matching(op.patterns, op.prefix)
        except DISK_ERRORS as exc:
            if isinstance(tier, RedisTier):
                raise redis.ConnectionError(str(exc)) from exc
            self._disk_failed(exc)
            return None

    def _redis_failed(self, exc: BaseException, force_open: bool = False) -> None:
        """A Redis call failed: connection-level failures (and anything that is not a
        Redis error, such as a socket closed mid-read) fail over; the rest are misses."""
        self._counters.add("redis", "errors")
        exhausted = POOL_EXHAUSTED in str(exc)  # busy, not down: a miss, keep Redis
        down = isinstance(exc, REDIS_DOWN) or not isinstance(exc, redis.RedisError)
        if force_open or (down and not exhausted):
            self._breaker.record_failure(exc)
        else:
            log.warning("cache: Redis error treated as a miss: %r", exc)

    def _tier_failed(self, tier: Tier, exc: BaseException) -> None:
        if isinstance(tier, RedisTier):
            self._redis_failed(exc)
        else:
            self._disk_failed(exc)

    def _disk_failed(self, exc: BaseException) -> None:
        self._counters.add("disk", "errors")
        log.warning("cache: disk tier error treated as a miss: %r", exc)

    # Internals: breaker hooks ------------------------------------------------------------
    def _probe(self) -> bool:
        return self._redis is not None and self._redis.ping()

    def _on_failover(self) -> None:
        """Runs under the breaker lock as Redis is given up on."""
        self._switches += 1
        if self._redis is not None:
            self._redis.disconnect()
        # Disk entries may predate invalidations made through Redis by other machines.
        dropped = self._apply(self._disk, Invalidation((), (self._prefix + "*",), self._prefix))
        if dropped is None:
            self._disk_stale = True  # not dropped: read nothing from the disk until it is
        else:
            self._disk_stale = False
            if dropped:
                log.info("cache: dropped this namespace's old disk entries on failover")

    def _replay_invalidations(self) -> bool:
        """Runs under the breaker lock before failback: Redis gets what it missed.

        That is more than this workstation's log: other desks invalidated during the
        outage too, into logs of their own that only they can replay (and a desk closed
        meanwhile never will). So the whole namespace is cleared in Redis, then the other
        namespaces in the log are replayed. A cold cache once per outage is the price of
        serving nothing stale after it.
        """
        assert self._redis is not None
        # Merged per namespace: a long outage leaves many entries, and each pattern
        # delete is a SCAN of the whole database; one pass per namespace does them all.
        merged: dict[str, tuple[dict[str, None], dict[str, None]]] = {
            self._prefix: ({}, {self._prefix + "*": None})
        }
        entries: list[str] = []
        for entry, op in self._replay.pending():
            entries.append(entry)
            if op is None:
                log.warning("cache: dropping unreadable replay entry %r", entry)
                continue
            if op.prefix == self._prefix:
                continue  # the namespace is cleared whole
            keys, patterns = merged.setdefault(op.prefix, ({}, {}))
            keys.update(dict.fromkeys(op.keys))
            patterns.update(dict.fromkeys(op.patterns))
        for prefix, (keys, patterns) in merged.items():
            self._apply(self._redis, Invalidation(tuple(keys), tuple(patterns), prefix))
        self._replay.remove(entries)
        self._replay.mark_complete()
        self._switches += 1
        log.info("cache: cleared this namespace in Redis and replayed %d entries", len(entries))
        return True

    # Internals: loading ----------------------------------------------------------------
    def _load(self, key: str, full: str, loader: Callable[[], Any], ttl: float | None) -> bytes:
        """The flight leader: re-check, take the cross-process lock or wait, then load."""
        lock_name = self._lock_prefix + key
        token = uuid.uuid4().hex
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.002
        while True:
            # Read before the loader reads the database: the tier's generation (which
            # every invalidation of any process moves on first) and the tier itself.
            switches = self._switches
            tier: Tier = self._redis if self._redis and self._breaker.closed else self._disk
            generation: bytes | None = None
            raw: bytes | None = None
            try:
                if isinstance(tier, RedisTier):
                    raw, generation = tier.get_with_generation(full, self._generation)
                elif not self._disk_stale:
                    generation = self._disk.generation(self._generation)
                    raw = self._disk.get(full)
            except Exception as exc:  # any failure of either tier (see _redis_failed)
                if isinstance(tier, RedisTier):
                    self._redis_failed(exc)
                else:
                    self._disk_failed(exc)
                generation = None  # nothing to compare with: load, but do not store
            if raw is not None:
                if self._decodable(raw):
                    return raw  # another process loaded it meanwhile
                # Corrupt (or too big): drop it, which also moves the generation on, so
                # read again before loading.
                self._decoded(tier.name, key, full, raw)
                if time.monotonic() <= deadline:
                    continue
            try:
                acquired: bool | None = tier.try_lock(lock_name, token, self.lock_timeout)
            except _ANY_TIER_ERROR:
                acquired = None  # no lock to be had: load without one
            if acquired is not False:
                try:
                    return self._run_loader(key, full, loader, ttl, tier, generation, switches)
                finally:
                    if acquired:
                        self._release(tier, lock_name, token)
            if time.monotonic() > deadline:
                log.warning("cache: loader lock for %r held too long; loading anyway", key)
                return self._run_loader(key, full, loader, ttl, tier, generation, switches)
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def _run_loader(
        self,
        key: str,
        full: str,
        loader: Callable[[], Any],
        ttl: float | None,
        tier: Tier,
        generation: bytes | None,
        switches: int,
    ) -> bytes:
        """Load, and store only where the load began and only if no invalidation came in
        meanwhile: from this process (the epoch), from any process through that tier (its
        generation, read before), and not across a failover or failback (a load begun on
        disk saw no generation of Redis, and one begun on Redis none of the disk's)."""
        epoch = self._epoch
        value = loader()
        data = self._encode(key, value)
        if data is None:  # too big to cache: the caller still gets it, in a hit's shape
            return codec.encode(value)
        if self._epoch != epoch:
            log.info("cache: %r was invalidated while loading; not storing it", key)
            return data
        if generation is None or self._switches != switches:
            log.info("cache: %r was loaded across a change of tier; not storing it", key)
            return data
        try:
            if isinstance(tier, RedisTier):
                stored = tier.set_if_generation(full, data, ttl, self._generation, generation)
            else:
                stored = self._disk_trusted() and self._disk.set_if_generation(
                    full, data, self._disk_ttl(ttl), self._generation, generation
                )
        except Exception as exc:  # any failure of either tier (see _redis_failed)
            if isinstance(tier, RedisTier):
                self._redis_failed(exc)
            else:
                self._disk_failed(exc)
            return data
        if stored:
            self._counters.add(tier.name, "sets")
        else:
            log.info("cache: %r was invalidated elsewhere while loading", key)
        return data

    def _release(self, tier: Tier, lock_name: str, token: str) -> None:
        with contextlib.suppress(*_ANY_TIER_ERROR):  # the lock expires by itself anyway
            tier.unlock(lock_name, token)
