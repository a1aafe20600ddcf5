"""Integration: a real redis-server is SIGKILLed and restarted under a live CacheService."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from cache import CacheService
from tests.cache.conftest import NO_PROBE, make_service
from tests.cache.proxy import TcpProxy
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.redis


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


@pytest.fixture
def durable_redis() -> Iterator[RedisServer]:
    """A private server that keeps its data across SIGKILL (AOF, fsync on every write),
    so that it comes back holding the entries a stale read would return."""
    server = RedisServer(persist=True)
    server.start()
    client = redis.Redis.from_url(server.url)
    client.config_set("appendfsync", "always")
    client.close()
    yield server
    server.cleanup()


def test_keeps_answering_from_disk_fails_back_and_serves_nothing_stale(
    durable_redis: RedisServer, tmp_path: Path
) -> None:
    cache = make_service(durable_redis.url, tmp_path, probe_backoff=(0.02, 0.1))
    try:
        cache.set("patient:1", {"name": "Rex", "version": 1})
        cache.set("patient:2", {"name": "Tom", "version": 1})
        assert cache.tier == "redis"

        durable_redis.kill()
        # The app keeps answering: a miss, then values from the disk tier.
        assert cache.get("patient:1") is None
        assert cache.tier == "disk"
        assert cache.get_or_set("patient:3", lambda: {"name": "Kit"}) == {"name": "Kit"}
        assert cache.get("patient:3") == {"name": "Kit"}
        # Writes while Redis is down invalidate; Redis must not forget them.
        cache.invalidate("patient", 1)
        assert cache.stats().replay_pending == 1

        # Redis will come back with patient:1 version 1 from its append-only file.
        key = f"pc:{cache.namespace}:patient:1".encode()
        assert any(key in f.read_bytes() for f in durable_redis.dir.rglob("*.aof"))
        durable_redis.start()
        raw = redis.Redis.from_url(durable_redis.url)
        wait_until(lambda: cache.tier == "redis")  # the background probe fails back

        assert cache.get("patient:1") is None  # replayed: the stale entry is gone
        assert raw.exists(f"pc:{cache.namespace}:patient:1") == 0
        # Other desks' outage writes are out of reach: the namespace was cleared whole.
        assert cache.get("patient:2") is None
        assert raw.exists(f"pc:{cache.namespace}:patient:2") == 0
        stats = cache.stats()
        assert (stats.failovers, stats.replay_pending, stats.breaker) == (1, 0, "closed")
        raw.close()
    finally:
        cache.close()


def test_after_detection_calls_never_touch_the_dead_server(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    cache = make_service(redis_server.url, tmp_path, probe_backoff=NO_PROBE)
    try:
        cache.set("k", 1)
        redis_server.kill()
        for i in range(200):
            cache.get("k")
            cache.set(f"k{i}", i)
            cache.get_many(["k", "k1"])
        # One error opened the breaker; the 600 calls after it skipped Redis entirely.
        assert cache.stats().tier_stats("redis").errors == 1
        assert cache.get("k199") == 199
    finally:
        cache.close()


def test_values_stored_on_disk_while_down_do_not_outlive_an_invalidation(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    cache = make_service(redis_server.url, tmp_path, probe_backoff=NO_PROBE)
    try:
        redis_server.kill()
        cache.set("client:5", "old")
        assert cache.get("client:5") == "old"
        cache.invalidate("client", 5)
        assert cache.get("client:5") is None
        redis_server.start()
        assert cache.check_redis() is True
        cache.set("client:5", "new")
        cache.invalidate("client", 5)  # while Redis is up: the disk copy goes too
        redis_server.kill()
        cache.get("detect")
        assert cache.tier == "disk"
        assert cache.get("client:5") is None
    finally:
        cache.close()


def test_disk_entries_from_an_earlier_outage_are_dropped_on_the_next_failover(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    cache = make_service(redis_server.url, tmp_path, probe_backoff=NO_PROBE)
    try:
        redis_server.kill()
        cache.set("report:1", "outage one")
        redis_server.start()
        assert cache.check_redis() is True
        # Meanwhile another workstation changes report 1 through Redis only: our disk
        # copy can't know, so the next failover must not serve it.
        redis_server.kill()
        cache.get("detect")
        assert cache.tier == "disk"
        assert cache.get("report:1") is None
    finally:
        cache.close()


def test_invalidations_survive_a_restart_of_the_app(
    durable_redis: RedisServer, tmp_path: Path
) -> None:
    first = make_service(durable_redis.url, tmp_path, namespace="clinic")
    first.set("invoice:9", "unpaid")
    durable_redis.kill()
    first.invalidate("invoice", 9)
    first.close()  # the app quits while Redis is still down

    durable_redis.start()
    second = make_service(durable_redis.url, tmp_path, namespace="clinic")
    try:
        assert second.get("invoice:9") is None  # not served before the replay
        wait_until(lambda: second.tier == "redis")
        assert second.get("invoice:9") is None
        assert second.stats().replay_pending == 0
        assert second.stats().failovers == 0
    finally:
        second.close()


def test_background_probe_backs_off_and_close_stops_it(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    cache = make_service(redis_server.url, tmp_path, probe_backoff=(0.01, 0.05))
    probed: list[float] = []
    probe = cache._breaker._probe

    def counted() -> bool:
        probed.append(time.monotonic())
        return probe()

    cache._breaker._probe = counted
    redis_server.kill()
    cache.get("detect")
    probes = [t for t in threading.enumerate() if t.name.endswith("breaker-probe")]
    assert len(probes) == 1
    wait_until(lambda: len(probed) >= 4)  # several failed probes, and still on disk
    assert cache.tier == "disk"
    gaps = [later - earlier for earlier, later in itertools.pairwise(probed[:4])]
    assert min(gaps) >= 0.008  # each waits its backoff (0.01 s, then doubling): no busy loop
    cache.close()
    assert not probes[0].is_alive()


def test_password_from_the_keyring_is_used(redis_server: RedisServer, tmp_path: Path) -> None:
    admin = redis.Redis.from_url(redis_server.url)
    admin.config_set("requirepass", "s3cret")
    admin.close()
    wrong = make_service(redis_server.url, tmp_path / "a", probe_backoff=NO_PROBE)
    right = make_service(redis_server.url, tmp_path / "b", password="s3cret")
    try:
        assert wrong.set("k", 1) is True  # refused by Redis: stored on disk instead
        assert wrong.tier == "disk"
        assert "Authentication" in (wrong.stats().last_error or "")
        right.set("k", 2)
        assert right.tier == "redis"
        assert right.get("k") == 2
    finally:
        wrong.close()
        right.close()


def test_redis_errors_that_are_not_outages_are_misses(redis_url: str, tmp_path: Path) -> None:
    cache: CacheService = make_service(redis_url, tmp_path)
    try:
        # Connected first: a namespace new to this server is cleared at the first connection.
        assert cache.get("nothing") is None
        raw = redis.Redis.from_url(redis_url)
        raw.rpush(f"pc:{cache.namespace}:wrongtype", "x")  # GET on a list: WRONGTYPE
        assert cache.get("wrongtype", default="miss") == "miss"
        assert cache.tier == "redis"
        assert cache.stats().tier_stats("redis").errors == 1
        raw.set(f"pc:{cache.namespace}:garbage", b"\x00not ours")
        assert cache.get("garbage") is None  # corrupt entries are dropped
        assert raw.exists(f"pc:{cache.namespace}:garbage") == 0
        raw.close()
    finally:
        cache.close()


def test_an_invalidation_on_redis_also_reaches_a_process_that_is_on_disk(
    proxy: TcpProxy, redis_url: str, tmp_path: Path
) -> None:
    # Two processes of one workstation share the disk tier; one has lost Redis.
    cut_off = make_service(proxy.url, tmp_path, namespace="ws", probe_backoff=NO_PROBE)
    connected = make_service(redis_url, tmp_path, namespace="ws", probe_backoff=NO_PROBE)
    try:
        proxy.cut()
        cut_off.set("staff:3", "old")
        assert cut_off.tier == "disk"
        connected.invalidate("staff", 3)  # through Redis, and the shared disk too
        assert connected.tier == "redis"
        assert cut_off.get("staff:3") is None
    finally:
        cut_off.close()
        connected.close()


def test_a_load_racing_a_write_in_another_process_is_not_stored(
    redis_url: str, tmp_path: Path
) -> None:
    reader = make_service(redis_url, tmp_path / "a", namespace="race")
    writer = make_service(redis_url, tmp_path / "b", namespace="race")  # another process
    database = {"patient:1": "old"}
    try:

        def slow_query() -> str:
            loaded = database["patient:1"]
            database["patient:1"] = "new"  # meanwhile the other process saves...
            writer.invalidate("patient", 1)  # ...and invalidates, before we store
            return loaded

        assert reader.get_or_set("patient:1", slow_query) == "old"  # what the call read
        assert reader.get("patient:1") is None  # but the old value was not kept
        assert reader.get_or_set("patient:1", lambda: database["patient:1"]) == "new"
        assert writer.get("patient:1") == "new"
    finally:
        reader.close()
        writer.close()


def test_a_long_outage_is_replayed_in_one_pass_per_namespace(
    durable_redis: RedisServer, tmp_path: Path
) -> None:
    # Two clinics' processes on one workstation share the replay log: the one failing
    # back clears its own namespace and replays the other's entries (one SCAN pass).
    cache = make_service(durable_redis.url, tmp_path, probe_backoff=NO_PROBE)
    other = make_service(durable_redis.url, tmp_path, probe_backoff=NO_PROBE)
    try:
        other.set_many({f"patient:{i}": i for i in range(50)} | {"client:1": "kept"})
        durable_redis.kill()
        for i in range(50):
            other.invalidate("patient", i)
        assert cache.stats().replay_pending == 50
        durable_redis.start()
        assert cache.check_redis() is True
        assert cache.stats().replay_pending == 0
        raw = redis.Redis.from_url(durable_redis.url)
        names = [f"pc:{other.namespace}:patient:{i}" for i in range(50)]
        assert raw.exists(*names) == 0  # the other namespace was replayed...
        assert raw.get(f"pc:{other.namespace}:client:1") is not None  # ...not cleared
        raw.close()
    finally:
        cache.close()
        other.close()


def test_a_redis_restarted_from_an_older_snapshot_serves_nothing_stale(tmp_path: Path) -> None:
    """Redis's default persistence is RDB snapshots: a crash brings it back with the data
    of the last snapshot, so an invalidation made after it is undone and the value it
    dropped is back. No desk fails over (each just reconnects), and a desk started after
    the restart has nothing to compare with: the restart itself must be noticed."""
    server = RedisServer(snapshots_only=True)
    server.start()
    a = make_service(server.url, tmp_path / "a", namespace="clinic", probe_backoff=NO_PROBE)
    b = make_service(server.url, tmp_path / "b", namespace="clinic", probe_backoff=NO_PROBE)
    try:
        assert a.set("patient:1", "v1")
        client = redis.Redis.from_url(server.url)
        client.save()  # the snapshot holds v1
        client.close()
        assert b.invalidate("patient", 1) == 1  # after the snapshot: lost in the crash
        server.kill()
        server.start()
        assert a.get("patient:1") is None
        assert b.get("patient:1") is None
        fresh = make_service(server.url, tmp_path / "c", namespace="clinic", probe_backoff=NO_PROBE)
        try:
            assert fresh.get("patient:1") is None
            assert fresh.set("patient:1", "v2")  # and then the cache works as before
            assert a.get("patient:1") == "v2"
        finally:
            fresh.close()
    finally:
        a.close()
        b.close()
        server.cleanup()
