"""The two storage tiers behind one small protocol: Redis (shared) and a local disk cache.

Tiers store encoded bytes under full (already namespaced) keys and raise on failure;
the :class:`~cache.service.CacheService` decides what a failure means.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import diskcache
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from cache.diskfiles import BoundedCache, BytesOnlyDisk, make_private_dir

log = logging.getLogger(__name__)

SCAN_COUNT = 1000
UNLINK_BATCH = 500


class Tier(Protocol):
    """What the service needs from a storage tier.

    Every method may raise; ``RedisTier`` raises ``redis.RedisError`` subclasses and
    ``DiskTier`` raises ``diskcache.Timeout``/``sqlite3.Error``/``OSError``.
    """

    name: str

    def get(self, key: str) -> bytes | None: ...

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]: ...

    def set(self, key: str, value: bytes, ttl: float | None) -> None: ...

    def set_many(self, items: Mapping[str, bytes], ttl: float | None) -> None: ...

    def delete(self, keys: Sequence[str]) -> int: ...

    def delete_matching(self, patterns: Sequence[str], prefix: str) -> int:
        """Delete every key under ``prefix`` that matches one of the glob ``patterns``."""
        ...

    def exists(self, key: str) -> bool: ...

    def increment(self, key: str, amount: int, ttl: float | None) -> int | None:
        """Add ``amount`` to the integer counter at ``key`` (made with ``ttl``)."""
        ...

    def count(self, prefix: str) -> int: ...

    def memory_bytes(self) -> int: ...

    def try_lock(self, name: str, token: str, ttl: float) -> bool: ...

    def unlock(self, name: str, token: str) -> None: ...

    def bump_generation(self, name: str) -> None:
        """Move the generation ``name`` on (every invalidation does, before deleting)."""
        ...

    def set_if_generation(
        self, key: str, value: bytes, ttl: float | None, name: str, generation: bytes
    ) -> bool:
        """Store unless the generation ``name`` moved on from ``generation``."""
        ...

    def channel_cursor(self, name: str) -> int | None:
        """How far through the invalidation channel this tier is (None: unknown)."""
        ...

    def advance_channel_cursor(self, name: str, to: int, reset: bool = False) -> None:
        """Move the cursor ``name`` to ``to``, never backwards unless ``reset``."""
        ...

    def close(self) -> None: ...


# Glob patterns -----------------------------------------------------------------------
_GLOB_SPECIAL = re.compile(r"([\\*?\[\]])")


def escape_glob(text: str) -> str:
    """``text`` as a glob pattern that matches only itself (Redis ``MATCH`` syntax)."""
    return _GLOB_SPECIAL.sub(r"\\\1", text)


def _glob_class(pattern: str, i: int) -> tuple[str, int]:
    """The regex of the ``[...]`` class whose body starts at ``pattern[i]``, and the index
    of its last character. A port of Redis's ``stringmatchlen`` (util.c), quirks included:
    ``\\x`` is a literal anywhere in the class, ``a-z`` is a range in either order (even
    ``a-]``), ``]`` first closes an empty class, and an unclosed class runs to the end."""
    n = len(pattern)
    negate = i < n and pattern[i] == "^"
    if negate:
        i += 1
    members: list[str] = []
    while True:
        if n - i >= 2 and pattern[i] == "\\":
            i += 1
            members.append(re.escape(pattern[i]))
        elif i >= n:
            i = n - 1
            break
        elif pattern[i] == "]":
            break
        elif n - i >= 3 and pattern[i + 1] == "-":
            low, high = sorted((pattern[i], pattern[i + 2]))
            members.append(f"{re.escape(low)}-{re.escape(high)}")
            i += 2
        else:
            members.append(re.escape(pattern[i]))
        i += 1
    if not members:
        return ("." if negate else "(?!)"), i
    return f"[{'^' if negate else ''}{''.join(members)}]", i


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """Redis glob semantics (``*``, ``?``, ``[a-z]``, ``[^x]``, ``\\x``) as a regex.

    One difference, on purpose: ``?`` and a class match one *character* here, where
    Redis matches one byte; :meth:`RedisTier.delete_matching` applies such patterns
    itself so that both tiers follow this rule.
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        elif c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[":
            cls, i = _glob_class(pattern, i + 1)
            out.append(cls)
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def literal_prefix(pattern: str) -> str:
    """The part of a glob pattern before its first wildcard, unescaped."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(pattern[i + 1])
            i += 2
            continue
        if c in "*?[":
            break
        out.append(c)
        i += 1
    return "".join(out)


# An unescaped ``?`` or ``[``: Redis would match it against a byte.
_BYTEWISE = re.compile(r"(?<!\\)(?:\\\\)*[?\[]")


def _matcher(patterns: Sequence[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{glob_to_regex(p).pattern})" for p in patterns), re.DOTALL)


# Redis ---------------------------------------------------------------------------------
# Store only if no invalidation happened since the loader started (the generation it
# read before loading is still current).
_SET_IF_GENERATION = """
if (redis.call('get', KEYS[1]) or '0') ~= ARGV[1] then
    return 0
end
if ARGV[3] == '' then
    redis.call('set', KEYS[2], ARGV[2])
else
    redis.call('set', KEYS[2], ARGV[2], 'PX', ARGV[3])
end
return 1
"""

# The generation must move on even when Redis is out of memory (maxmemory with
# noeviction refuses INCR, a "denyoom" command): an invalidation that can't bump it
# would be refused before it deletes anything, and so would every replay of it.
# ``allow-oom`` (Redis 7+) lets this one script write; UNLINK needs no such flag.
_BUMP_GENERATION = """#!lua flags=allow-oom
return redis.call('incr', KEYS[1])
"""

# INCRBY on our encoding (``J`` + the JSON integer), so that ``get`` reads a counter like
# any value; the expiry is set when the counter is made and kept by every increment.
_INCREMENT = """
local raw = redis.call('get', KEYS[1])
local amount = tonumber(ARGV[1])
if not raw then
    if ARGV[2] == '' then
        redis.call('set', KEYS[1], 'J' .. ARGV[1])
    else
        redis.call('set', KEYS[1], 'J' .. ARGV[1], 'PX', ARGV[2])
    end
    return amount
end
local n = string.match(raw, '^J(-?%d+)$')
if not n then
    return redis.error_reply('cache value is not an integer counter')
end
n = tonumber(n) + amount
redis.call('set', KEYS[1], 'J' .. string.format('%d', n), 'KEEPTTL')
return n
"""

# Never backwards: desks following the channel at once may finish in any order. Allowed
# out of memory, as the generation bump is: it only ever follows deletions.
_ADVANCE_CURSOR = """#!lua flags=allow-oom
local current = tonumber(redis.call('get', KEYS[1]) or '-1')
if tonumber(ARGV[1]) > current then
    redis.call('set', KEYS[1], ARGV[1])
end
return 1
"""

_RELEASE_LOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


def make_redis_client(
    url: str,
    *,
    password: str | None = None,
    connect_timeout: float = 0.25,
    socket_timeout: float = 0.5,
    health_check_interval: int = 30,
    max_connections: int = 32,
) -> redis.Redis[bytes]:
    """A client that fails fast: no retries, short timeouts, a bounded pool.

    redis-py's defaults retry a failing server and wait 5 s for a hung one; a cache
    must answer (with a miss) at once instead. ``rediss://`` URLs use TLS. The pool is
    bounded but does not block: an exhausted pool is a miss (see ``POOL_EXHAUSTED``),
    not a wait, and measured ~25 µs per call cheaper than ``BlockingConnectionPool``.
    """
    kwargs: dict[str, Any] = {
        "socket_connect_timeout": connect_timeout,
        "socket_timeout": socket_timeout,
        "retry": Retry(NoBackoff(), 0),
        "retry_on_error": [],
        "health_check_interval": health_check_interval,
        "max_connections": max_connections,
    }
    if password is not None:
        kwargs["password"] = password
    pool = redis.ConnectionPool.from_url(url, **kwargs)
    return redis.Redis(connection_pool=pool)


POOL_EXHAUSTED = "Too many connections"  # redis-py's message (MaxConnectionsError in 6+)


class RedisTier:
    """The shared tier: plain GET/SET with a TTL, SCAN + UNLINK for patterns.

    Args:
        client: a client from :func:`make_redis_client` (the tier closes it).
    """

    name = "redis"

    def __init__(self, client: redis.Redis[bytes]) -> None:
        self.client = client
        self._pool = client.connection_pool
        self._release = client.register_script(_RELEASE_LOCK)
        self._set_if_generation = client.register_script(_SET_IF_GENERATION)
        self._bump_generation = client.register_script(_BUMP_GENERATION)
        self._increment = client.register_script(_INCREMENT)
        self._advance_cursor = client.register_script(_ADVANCE_CURSOR)

    def watch_restarts(self, marker: str, prefix: str, generation: str) -> None:
        """Clear ``prefix`` on a server that is not the one this namespace last saw.

        A Redis restarted from its last RDB snapshot (its default persistence) is back
        with the data of that moment: invalidations made after it are undone and what
        they dropped is readable again, and no client fails over (each just reconnects).
        So every new connection, before its first command, compares the server's
        ``run_id`` (new at every start) with the one recorded at ``marker``; on a
        different one it moves ``generation`` on, deletes every key under ``prefix``
        through that connection, and only then records the new ``run_id``. Connections
        racing through this each clear (a cold cache once per restart).
        """
        pattern = escape_glob(prefix) + "*"

        def connected(conn: Any) -> None:
            conn.on_connect()
            try:
                _clear_if_restarted(conn, marker, pattern, generation)
            except redis.RedisError:
                raise
            except Exception as exc:  # a reply we did not expect: not this server's word
                raise redis.ConnectionError(f"cache restart check: {exc!r}") from exc

        self._pool.connection_kwargs["redis_connect_func"] = connected

    def _call(self, *args: Any) -> Any:
        """One command on a pooled connection, without redis-py's retry/callback layers
        (the hit path: ~20 µs less per call than ``client.get``)."""
        conn = self._pool.get_connection()
        try:
            conn.send_command(*args)
            return conn.read_response()
        except redis.ResponseError:
            raise
        except BaseException:
            conn.disconnect()
            raise
        finally:
            self._pool.release(conn)

    def ping(self) -> bool:
        return bool(self.client.ping())

    def disconnect(self) -> None:
        """Drop the idle pooled sockets (after a failure they are dead; new ones are made
        on use). Sockets in use are left to their threads, which drop them when their own
        call fails: closing them here would pull them from under a read in progress."""
        self.client.connection_pool.disconnect(inuse_connections=False)

    def get(self, key: str) -> bytes | None:
        value: bytes | None = self._call("GET", key)
        return value

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        values: list[bytes | None] = self._call("MGET", *keys)
        return values

    def set(self, key: str, value: bytes, ttl: float | None) -> None:
        if ttl is None:
            self._call("SET", key, value)
        else:
            self._call("SET", key, value, "PX", _ms(ttl))

    def set_many(self, items: Mapping[str, bytes], ttl: float | None) -> None:
        pipe = self.client.pipeline(transaction=False)
        for key, value in items.items():
            pipe.set(key, value, px=_ms(ttl))
        pipe.execute()

    def delete(self, keys: Sequence[str]) -> int:
        deleted = 0
        for start in range(0, len(keys), UNLINK_BATCH):
            deleted += int(self.client.unlink(*keys[start : start + UNLINK_BATCH]))
        return deleted

    def delete_matching(self, patterns: Sequence[str], prefix: str) -> int:
        if not patterns:
            return 0
        # One SCAN pass however many patterns: MATCH the single pattern, or the common
        # prefix with the patterns applied here. Redis matches ``?`` and ``[...]`` against
        # one byte, not one character, so patterns using them are applied here too.
        if len(patterns) == 1 and not _BYTEWISE.search(patterns[0]):
            match, check = patterns[0], None
        elif len(patterns) == 1:
            match, check = escape_glob(literal_prefix(patterns[0])) + "*", _matcher(patterns)
        else:
            match, check = escape_glob(prefix) + "*", _matcher(patterns)
        deleted = 0
        batch: list[str] = []
        for raw in self.client.scan_iter(match=match, count=SCAN_COUNT):
            key = raw.decode("utf-8", "surrogateescape") if isinstance(raw, bytes) else raw
            if check is not None and not check.fullmatch(key):
                continue
            batch.append(key)
            if len(batch) >= UNLINK_BATCH:
                deleted += self.delete(batch)
                batch = []
        if batch:
            deleted += self.delete(batch)
        return deleted

    def exists(self, key: str) -> bool:
        return bool(self._call("EXISTS", key))

    def increment(self, key: str, amount: int, ttl: float | None) -> int | None:
        ms = _ms(ttl)
        return int(self._increment(keys=[key], args=[amount, "" if ms is None else ms]))

    def count(self, prefix: str) -> int:
        return sum(1 for _ in self.client.scan_iter(match=escape_glob(prefix) + "*", count=1000))

    def memory_bytes(self) -> int:
        """Memory used by the whole Redis server (Redis has no per-prefix figure)."""
        info = self.client.info("memory")
        return int(info.get("used_memory", 0))

    def try_lock(self, name: str, token: str, ttl: float) -> bool:
        return bool(self.client.set(name, token, nx=True, px=_ms(ttl)))

    # Generations: a counter per namespace that every invalidation bumps first, so a
    # loader that read the database before an invalidation cannot store afterwards.
    def bump_generation(self, name: str) -> None:
        self._bump_generation(keys=[name])

    def get_with_generation(self, key: str, name: str) -> tuple[bytes | None, bytes]:
        value, generation = self._call("MGET", key, name)
        return value, generation or b"0"

    def set_if_generation(
        self, key: str, value: bytes, ttl: float | None, name: str, generation: bytes
    ) -> bool:
        ms = _ms(ttl)
        args = [generation, value, "" if ms is None else str(ms)]
        return bool(self._set_if_generation(keys=[name, key], args=args))

    def unlock(self, name: str, token: str) -> None:
        self._release(keys=[name], args=[token])

    def channel_cursor(self, name: str) -> int | None:
        return _cursor(self._call("GET", name))

    def advance_channel_cursor(self, name: str, to: int, reset: bool = False) -> None:
        if reset:
            self._call("SET", name, b"%d" % to)
        else:
            self._advance_cursor(keys=[name], args=[to])

    def close(self) -> None:
        self.client.close()
        self.client.connection_pool.disconnect()


def _counter(raw: object) -> int | None:
    """The integer a counter's stored bytes hold, or None if they hold something else."""
    if not isinstance(raw, bytes) or not raw.startswith(b"J"):
        return None
    digits = raw[1:]
    if not digits.lstrip(b"-").isdigit():
        return None
    return int(digits)


_RUN_ID = re.compile(rb"^run_id:([0-9a-f]+)\r?$", re.MULTILINE)
# Allowed out of memory: a server at maxmemory must still be checked and cleared.
_RECORD_RUN_ID = """#!lua flags=allow-oom
redis.call('set', KEYS[1], ARGV[1])
return 1
"""


def _command(conn: Any, *args: Any) -> Any:
    conn.send_command(*args)
    return conn.read_response()


def _clear_if_restarted(conn: Any, marker: str, pattern: str, generation: str) -> None:
    """See :meth:`RedisTier.watch_restarts` (on one new connection, before its use)."""
    try:
        info = _command(conn, "INFO", "server")
    except redis.ResponseError as exc:  # INFO refused (an ACL, a managed service)
        log.debug("cache: no restart check, INFO refused: %s", exc)
        return
    found = _RUN_ID.search(info if isinstance(info, bytes) else str(info).encode())
    if found is None:
        raise redis.ConnectionError("cache restart check: no run_id in INFO")
    run_id = found.group(1)
    if _command(conn, "GET", marker) == run_id:
        return
    _command(conn, "EVAL", _BUMP_GENERATION, 1, generation)  # before deleting: see _load
    cursor: Any = b"0"
    deleted = 0
    while True:
        cursor, keys = _command(conn, "SCAN", cursor, "MATCH", pattern, "COUNT", SCAN_COUNT)
        if keys:
            deleted += int(_command(conn, "UNLINK", *keys))
        if int(cursor) == 0:
            break
    _command(conn, "EVAL", _RECORD_RUN_ID, 1, marker, run_id)
    log.info("cache: Redis (re)started as %s; cleared %d keys of %s", run_id, deleted, pattern)


def _cursor(raw: object) -> int | None:
    if isinstance(raw, bytes) and raw.isdigit():
        return int(raw)
    return None


def _ms(ttl: float | None) -> int | None:
    return None if ttl is None else max(1, int(ttl * 1000))


# Disk ----------------------------------------------------------------------------------
# diskcache's read of one live row (str keys are stored raw), as Cache.get makes it.
_INLINE_GET = (
    "SELECT mode, value FROM Cache WHERE key = ? AND raw = 1"
    " AND (expire_time IS NULL OR expire_time > ?)"
)


class DiskTier:
    """The local tier: a diskcache (SQLite + files) in a 0700 directory, bytes only.

    Args:
        directory: where the cache lives (created 0700).
        size_limit: bytes before diskcache evicts the least recently stored entries.
        timeout: seconds SQLite waits for another writer before the call fails.
    """

    name = "disk"

    def __init__(self, directory: Path, size_limit: int = 512 * 2**20, timeout: float = 1.0):
        self.directory = make_private_dir(directory)
        self.cache = BoundedCache(
            str(self.directory),
            timeout=timeout,
            disk=BytesOnlyDisk,
            size_limit=size_limit,
            eviction_policy="least-recently-stored",
        )

    def get(self, key: str) -> bytes | None:
        # diskcache's own get without its generic layers (key and value translation,
        # eviction and statistics branches): one indexed SELECT on this thread's
        # connection, about a third of a disk hit. Only an inline bytes row is taken as
        # it is; anything else (a value big enough to live in a file, a row that is not
        # ours) goes through diskcache, whose BytesOnlyDisk refuses what is not bytes.
        rows = self.cache._sql(_INLINE_GET, (key, time.time())).fetchall()
        if not rows:
            return None
        ((mode, value),) = rows
        if mode == diskcache.core.MODE_RAW and type(value) is bytes:
            return value
        value = self.cache.get(key, default=None, retry=False)
        return value if isinstance(value, bytes) else None

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [self.get(key) for key in keys]

    def set(self, key: str, value: bytes, ttl: float | None) -> None:
        self.cache.set(key, value, expire=ttl, retry=False)

    def set_many(self, items: Mapping[str, bytes], ttl: float | None) -> None:
        with self.cache.transact(retry=False):
            for key, value in items.items():
                self.cache.set(key, value, expire=ttl, retry=False)

    def delete(self, keys: Sequence[str]) -> int:
        deleted = 0
        with self.cache.transact(retry=False):
            for key in keys:
                deleted += bool(self.cache.delete(key, retry=False))
        return deleted

    def _keys(self, prefix: str) -> Iterable[str]:
        """Keys starting with ``prefix``, read as a range of the (key, raw) index.

        diskcache has no public prefix scan (``iterkeys`` reads every key, ~30 ms per
        10k entries); its SQL connection is used read-only for this one query.
        """
        rows = self.cache._sql(
            "SELECT key FROM Cache WHERE key >= ? AND key < ? AND raw = 1",
            (prefix, prefix + "\U0010ffff"),
        )
        for (key,) in rows.fetchall():
            if isinstance(key, str):
                yield key

    def delete_matching(self, patterns: Sequence[str], prefix: str) -> int:
        if not patterns:
            return 0
        matched: dict[str, None] = {}
        for pattern in patterns:
            check = glob_to_regex(pattern)
            for key in self._keys(literal_prefix(pattern)):
                if check.fullmatch(key):
                    matched[key] = None
        keys = list(matched)
        deleted = 0
        for start in range(0, len(keys), UNLINK_BATCH):
            deleted += self.delete(keys[start : start + UNLINK_BATCH])
        return deleted

    def exists(self, key: str) -> bool:
        return self.get(key) is not None

    def increment(self, key: str, amount: int, ttl: float | None) -> int | None:
        """``amount`` added to the counter at ``key`` (made with ``ttl``, whose expiry
        later increments keep); None if the value there is not an integer."""
        with self.cache.transact(retry=False):
            raw, expires_at = self.cache.get(key, expire_time=True, retry=False)
            if raw is None:
                value = amount
            else:
                number = _counter(raw)
                if number is None:
                    return None
                value = number + amount
                ttl = None if expires_at is None else max(expires_at - time.time(), 0.001)
            self.cache.set(key, b"J%d" % value, expire=ttl, retry=False)
        return value

    def count(self, prefix: str) -> int:
        self.cache.expire()
        return sum(1 for _ in self._keys(prefix))

    def memory_bytes(self) -> int:
        return int(self.cache.volume())

    def try_lock(self, name: str, token: str, ttl: float) -> bool:
        return bool(self.cache.add(name, token.encode(), expire=ttl, retry=False))

    def unlock(self, name: str, token: str) -> None:
        with self.cache.transact(retry=False):
            if self.cache.get(name, retry=False) == token.encode():
                self.cache.delete(name, retry=False)

    # Generations, as on Redis, for the processes sharing this disk. A random token rather
    # than a counter: if eviction drops it, no later bump can bring an old value back.
    def generation(self, name: str) -> bytes:
        value = self.cache.get(name, retry=False)
        return value if isinstance(value, bytes) else b"0"

    def bump_generation(self, name: str) -> None:
        self.cache.set(name, uuid.uuid4().hex.encode(), retry=False)

    def set_if_generation(
        self, key: str, value: bytes, ttl: float | None, name: str, generation: bytes
    ) -> bool:
        with self.cache.transact(retry=False):
            if self.generation(name) != generation:
                return False
            self.cache.set(key, value, expire=ttl, retry=False)
        return True

    def channel_cursor(self, name: str) -> int | None:
        return _cursor(self.cache.get(name, retry=False))

    def advance_channel_cursor(self, name: str, to: int, reset: bool = False) -> None:
        with self.cache.transact(retry=False):
            current = self.channel_cursor(name)
            if reset or current is None or to > current:
                self.cache.set(name, b"%d" % to, retry=False)

    def close(self) -> None:
        self.cache.close()
