"""The tier protocol on both tiers, glob semantics, locks, and no pickle anywhere."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import diskcache
import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cache import CacheService
from cache.diskfiles import BytesOnlyDisk
from cache.tiers import (
    DiskTier,
    RedisTier,
    Tier,
    escape_glob,
    glob_to_regex,
    make_redis_client,
)
from tests.cache.conftest import make_service
from tests.support.redis_server import RedisServer

PREFIX = "pc:tiers:"


@pytest.fixture(params=["redis", "disk"])
def tier(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Tier]:
    if request.param == "redis":
        made: Tier = RedisTier(make_redis_client(request.getfixturevalue("redis_url")))
    else:
        made = DiskTier(tmp_path / "disk")
    yield made
    made.close()


class TestTierProtocol:
    def test_bytes_in_bytes_out(self, tier: Tier) -> None:
        tier.set(PREFIX + "a", b"\x00\xffJ", ttl=None)
        assert tier.get(PREFIX + "a") == b"\x00\xffJ"
        assert tier.get(PREFIX + "b") is None
        tier.set_many({PREFIX + "b": b"2", PREFIX + "c": b"3"}, ttl=60)
        assert tier.get_many([PREFIX + "a", PREFIX + "x", PREFIX + "c"]) == [
            b"\x00\xffJ",
            None,
            b"3",
        ]

    def test_delete_and_count(self, tier: Tier) -> None:
        tier.set_many({f"{PREFIX}{i}": b"v" for i in range(5)}, ttl=None)
        tier.set("other:1", b"v", ttl=None)
        assert tier.count(PREFIX) == 5
        assert tier.delete([PREFIX + "0", PREFIX + "nope"]) == 1
        assert tier.delete_matching([PREFIX + "[12]", PREFIX + "4"], PREFIX) == 3
        assert tier.count(PREFIX) == 1
        assert tier.get("other:1") == b"v"
        tier.delete(["other:1"])

    def test_lock_is_exclusive_until_released_or_expired(self, tier: Tier) -> None:
        assert tier.try_lock("lock:x", "me", ttl=10) is True
        assert tier.try_lock("lock:x", "you", ttl=10) is False
        tier.unlock("lock:x", "you")  # not the owner: no effect
        assert tier.try_lock("lock:x", "you", ttl=10) is False
        tier.unlock("lock:x", "me")
        assert tier.try_lock("lock:x", "you", ttl=0.1) is True
        time.sleep(0.2)
        assert tier.try_lock("lock:x", "third", ttl=10) is True
        tier.unlock("lock:x", "third")

    def test_memory_is_reported(self, tier: Tier) -> None:
        assert tier.memory_bytes() > 0


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        ("patient:*", ["patient:", "patient:1:x"], ["patients", "client:patient:1"]),
        ("p?t", ["pat", "pet"], ["pt", "paat"]),
        ("k[ab]", ["ka", "kb"], ["kc", "k"]),
        ("k[^ab]", ["kc"], ["ka"]),
        ("k[a-c]", ["kb"], ["kd"]),
        ("star\\*", ["star*"], ["starx"]),
        ("q[", [], ["q[", "q"]),  # an unclosed class matches nothing, as in Redis
        ("new\nline*", ["new\nline and more"], ["newline"]),
    ],
)
def test_glob_matches_like_redis(
    pattern: str, matches: list[str], misses: list[str], redis_url: str
) -> None:
    regex = glob_to_regex(pattern)
    client = redis.Redis.from_url(redis_url)
    try:
        for key in matches + misses:
            client.set(key, 1)
        found = {k.decode() for k in client.scan_iter(match=pattern)}
    finally:
        client.close()
    assert found == set(matches)
    assert [k for k in matches + misses if regex.fullmatch(k)] == matches


# Every key of up to three characters over the characters glob syntax cares about.
GLOB_ALPHABET = "ab-]^\\[*?"
GLOB_KEYS = ["".join(p) for n in (1, 2, 3) for p in itertools.product("ab-]^\\[", repeat=n)]


@pytest.fixture(scope="module")
def glob_keys(redis_server_session: RedisServer) -> Iterator[redis.Redis[bytes]]:
    client: redis.Redis[bytes] = redis.Redis.from_url(redis_server_session.url.replace("/0", "/9"))
    client.flushdb()
    client.mset({f"g:{k}": 1 for k in GLOB_KEYS})
    yield client
    client.flushdb()
    client.close()


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pattern=st.text(GLOB_ALPHABET, min_size=1, max_size=6))
def test_glob_to_regex_agrees_with_redis_on_any_pattern(
    glob_keys: redis.Redis[bytes], pattern: str
) -> None:
    """Redis's own matcher is the reference: brackets, escapes, ranges, unclosed classes."""
    found = {k.decode()[2:] for k in glob_keys.scan_iter(match="g:" + pattern, count=5000)}
    regex = glob_to_regex("g:" + pattern)
    assert {k for k in GLOB_KEYS if regex.fullmatch("g:" + k)} == found


def test_escape_glob_makes_a_literal() -> None:
    text = "a*b?c[d]e\\f"
    assert glob_to_regex(escape_glob(text)).fullmatch(text)
    assert not glob_to_regex(escape_glob(text)).fullmatch("aXb?c[d]e\\f")


def test_disk_tier_never_unpickles(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self) -> tuple[object, ...]:
            return (marker.write_text, ("code ran",))

    cache = make_service(None, tmp_path / "c", namespace="ns")
    try:
        # Someone with write access plants a pickle with the default diskcache Disk.
        planted = diskcache.Cache(str(tmp_path / "c" / "values"))
        planted.set("pc:ns:patient:1", Exploit())
        planted.close()
        assert not marker.exists()
        assert cache.get("patient:1", default="miss") == "miss"
        assert not marker.exists()
        assert cache.stats().tier_stats("disk").errors == 1
    finally:
        cache.close()


def test_bytes_only_disk_refuses_to_store_anything_else(tmp_path: Path) -> None:
    store = diskcache.Cache(str(tmp_path), disk=BytesOnlyDisk)
    try:
        with pytest.raises(TypeError, match="values are bytes, not dict"):
            store.set("k", {"a": 1})
        with pytest.raises(TypeError, match="keys are str, not tuple"):
            store.set(("k",), b"v")
        store.set("k", b"x" * 100_000)  # large values go to files, still raw bytes
        assert store.get("k") == b"x" * 100_000
    finally:
        store.close()


def test_redis_client_is_configured_to_fail_fast(redis_url: str) -> None:
    client = make_redis_client(redis_url.replace("/0", "/3"), password="pw")
    pool = client.connection_pool
    try:
        assert isinstance(pool, redis.ConnectionPool)
        kwargs = pool.connection_kwargs
        assert kwargs["retry"].get_retries() == 0
        assert kwargs["socket_connect_timeout"] <= 0.25
        assert kwargs["socket_timeout"] <= 0.5
        assert kwargs["health_check_interval"] == 30
        assert kwargs["password"] == "pw"
        assert kwargs["db"] == 3
        assert pool.max_connections == 32
    finally:
        client.close()


def test_tls_urls_use_ssl_connections() -> None:
    client = make_redis_client("rediss://cache.clinic.example:6380/0")
    try:
        assert issubclass(client.connection_pool.connection_class, redis.SSLConnection)
        assert client.connection_pool.connection_kwargs["port"] == 6380
    finally:
        client.close()


def test_service_with_tls_url_builds_without_connecting(tmp_path: Path) -> None:
    service = CacheService("rediss://127.0.0.1:1/0", tmp_path, connect_timeout=0.05)
    try:
        assert service.get("k") is None  # unreachable: a miss, on disk now
        assert service.tier == "disk"
    finally:
        service.close()


def test_the_disk_tiers_direct_read_agrees_with_diskcache(tmp_path: Path) -> None:
    """``DiskTier.get`` reads inline rows itself; everything else still goes through
    diskcache: values in files, expired rows, rows that are not plain bytes."""
    tier = DiskTier(tmp_path / "t")
    try:
        tier.set("small", b"J1", None)
        tier.set("big", b"J" + b"1" * 100_000, None)  # stored in a file
        tier.set("brief", b"J2", 0.05)
        planted = diskcache.Cache(str(tmp_path / "t"))  # a row in another form: a str
        planted.set("text", "a str row")
        planted.close()
        assert tier.get("text") is None
        assert tier.get("small") == b"J1"
        assert tier.get("big") == b"J" + b"1" * 100_000
        assert tier.get("missing") is None
        time.sleep(0.1)
        assert tier.get("brief") is None  # expired, as diskcache would say
        assert tier.get_many(["small", "missing"]) == [b"J1", None]
    finally:
        tier.close()
