"""The promises at the edges of an outage: the replay log full, locked or damaged, and
invalidations made on other desks while Redis was away (issue 16, cases 3, 6, 7, 12).

Real components throughout: a real redis-server behind a cuttable TCP proxy, real
diskcache files, and real second processes for the full disk and the held lock.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import diskcache
import pytest
import redis

from cache.diskfiles import BoundedCache, BytesOnlyDisk
from tests.cache.conftest import NO_PROBE, make_service, wait_until
from tests.cache.proxy import TcpProxy
from tests.support.redis_server import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[2]


def plant(redis_url: str, namespace: str, key: str, value: object) -> None:
    """What an earlier run stored in Redis, before the outage."""
    desk = make_service(redis_url, Path(f"/tmp/cache/plant-{namespace}"), namespace=namespace)
    try:
        assert desk.set(key, value) is True
        assert desk.tier == "redis"
    finally:
        desk.close()


def in_redis(redis_url: str, namespace: str, key: str) -> bool:
    raw = redis.Redis.from_url(redis_url)
    try:
        return bool(raw.exists(f"pc:{namespace}:{key}"))
    finally:
        raw.close()


# Case 3 ---------------------------------------------------------------------------------
FULL_DISK_DESK = textwrap.dedent(
    """
    import resource, signal, sys
    from pathlib import Path
    from cache import CacheService

    dead_redis, disk_dir, namespace = sys.argv[1:]
    cache = CacheService(dead_redis, Path(disk_dir), namespace=namespace,
                         probe_backoff=(3600.0, 3600.0))
    cache.set("patient:1", "old (on disk)")  # Redis refuses: this desk is on disk
    assert cache.tier == "disk" and cache.get("patient:1") == "old (on disk)"
    # From here on, no file of this process may grow: the disk is full.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    try:
        cache.invalidate("patient", 1)
        print("invalidate returned")
        print("read after:", cache.get("patient:1", "miss"))
        cache.close()
    except BaseException as exc:
        print("raised", repr(exc))
    """
)


def test_a_full_disk_during_an_outage_neither_raises_nor_loses_the_invalidation(
    redis_url: str, tmp_path: Path
) -> None:
    plant(redis_url, "clinic", "patient:1", "old")
    dead = f"redis://127.0.0.1:{free_port()}/0"
    desk = subprocess.run(
        [sys.executable, "-c", FULL_DISK_DESK, dead, str(tmp_path), "clinic"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert desk.returncode == 0, desk.stderr
    lines = desk.stdout.splitlines()
    assert lines[0] == "invalidate returned", desk.stdout
    # The disk copy could not be deleted either: the desk reads nothing from its disk.
    assert lines[1] == "read after: miss"
    assert "could not record an invalidation" in desk.stderr

    # The next start of that workstation, Redis reachable: the lost entry is not known,
    # so Redis is not used before the namespace is cleared.
    again = make_service(redis_url, tmp_path, namespace="clinic", probe_backoff=NO_PROBE)
    try:
        assert again.tier == "disk"
        assert again.check_redis() is True
        assert not in_redis(redis_url, "clinic", "patient:1")
        assert again.get("patient:1") is None
        again.close()
        quiet = make_service(redis_url, tmp_path, namespace="clinic", probe_backoff=NO_PROBE)
        assert quiet.tier == "redis"  # the log is complete again
        quiet.close()
    finally:
        again.close()


# Case 6 ---------------------------------------------------------------------------------
HOLD_THE_LOG = textwrap.dedent(
    """
    import sqlite3, sys
    db = sqlite3.connect(sys.argv[1], isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    print("held", flush=True)
    sys.stdin.readline()
    db.execute("ROLLBACK")
    """
)


def test_a_replay_log_locked_by_another_process_costs_a_bounded_wait(
    proxy: TcpProxy, redis_url: str, tmp_path: Path
) -> None:
    cache = make_service(proxy.url, tmp_path, namespace="clinic", probe_backoff=NO_PROBE)
    cache.set("patient:1", "old")
    proxy.cut()
    cache.get("detect")
    assert cache.tier == "disk"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOG, str(tmp_path / "replay" / "cache.db")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdin is not None
    took: list[float] = []
    try:
        assert holder.stdout.readline().strip() == "held"
        other_call_took: list[float] = []

        def invalidate() -> None:
            started = time.monotonic()
            cache.invalidate("patient", 1)
            took.append(time.monotonic() - started)

        def other_call() -> None:  # waits for the breaker lock the invalidation holds
            started = time.monotonic()
            cache.delete("client:1")
            other_call_took.append(time.monotonic() - started)

        workers = [threading.Thread(target=invalidate), threading.Thread(target=other_call)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(10)
        assert took, "invalidate() hung on the locked replay log"
        assert took[0] < 2.0
        assert other_call_took
        assert other_call_took[0] < 4.0
    finally:
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(10)
        holder.stdout.close()
    try:
        proxy.restore()
        assert cache.check_redis() is True
        assert not in_redis(redis_url, "clinic", "patient:1")  # not lost
    finally:
        cache.close()


# Case 12 --------------------------------------------------------------------------------
def write_garbage_entry(log_dir: Path) -> None:
    raw = BoundedCache(str(log_dir), timeout=1.0, disk=BytesOnlyDisk)
    raw.set("00000000000000000000:1:00000000", b"\x00not an invalidation", retry=False)
    raw.set("00000000000000000001:1:00000000", b'{"keys": 7}', retry=False)
    raw.close()


def write_pickled_entry(log_dir: Path) -> None:
    raw = diskcache.Cache(str(log_dir))  # diskcache's default disk pickles the dict
    raw.set("00000000000000000000:1:00000000", {"keys": [], "patterns": []})
    raw.close()


@pytest.mark.parametrize("damage", [write_garbage_entry, write_pickled_entry])
def test_an_unreadable_replay_entry_does_not_keep_the_desk_off_redis(
    redis_url: str, tmp_path: Path, damage: object
) -> None:
    plant(redis_url, "clinic", "patient:1", "old")
    make_service(None, tmp_path, namespace="clinic").close()  # the log exists
    damage(tmp_path / "replay")  # type: ignore[operator]
    cache = make_service(redis_url, tmp_path, namespace="clinic", probe_backoff=NO_PROBE)
    try:
        assert cache.tier == "disk"  # what the entry said is unknown: Redis may be stale
        assert cache.check_redis() is True
        assert cache.tier == "redis"
        assert cache.stats().replay_pending == 0  # dropped, not kept to fail again
        assert cache.get("patient:1") is None  # and the namespace was cleared instead
    finally:
        cache.close()


# Case 7 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("desk_b", ["goes home during the outage", "stays open"])
def test_invalidations_another_desk_made_during_the_outage_are_not_lost(
    redis_url: str, tmp_path: Path, desk_b: str
) -> None:
    """Two desks, one Redis, a disk each; Redis is unreachable from both for a while."""
    port = int(redis_url.rsplit(":", 1)[1].split("/", 1)[0])
    path_a, path_b = TcpProxy(port), TcpProxy(port)
    path_a.start()
    path_b.start()
    a = make_service(path_a.url, tmp_path / "a", namespace="clinic", probe_backoff=NO_PROBE)
    b = make_service(path_b.url, tmp_path / "b", namespace="clinic", probe_backoff=NO_PROBE)
    database = {"patient:1": "v1"}
    try:
        assert a.get_or_set("patient:1", lambda: database["patient:1"]) == "v1"
        path_a.cut()
        path_b.cut()
        assert a.get("patient:2") is None  # desk A is in use: it notices the outage
        assert a.tier == "disk"
        database["patient:1"] = "v2"  # desk B saves during the outage
        b.invalidate("patient", 1)
        assert b.tier == "disk"
        if desk_b == "goes home during the outage":
            b.close()
        path_a.restore()
        path_b.restore()
        assert a.check_redis() is True  # desk A fails back first
        assert a.get_or_set("patient:1", lambda: database["patient:1"]) == "v2"
    finally:
        a.close()
        b.close()
        path_a.cut()
        path_b.cut()


def test_a_desk_that_quits_with_invalidations_waiting_delivers_them(
    redis_url: str, tmp_path: Path
) -> None:
    """Desk A is back on Redis; desk B still on disk (its probe not due yet) saves and
    quits: its close() tries Redis once more, so A does not read the old record."""
    port = int(redis_url.rsplit(":", 1)[1].split("/", 1)[0])
    path_b = TcpProxy(port)
    path_b.start()
    a = make_service(redis_url, tmp_path / "a", namespace="clinic", probe_backoff=NO_PROBE)
    b = make_service(path_b.url, tmp_path / "b", namespace="clinic", probe_backoff=NO_PROBE)
    database = {"patient:1": "v1"}
    try:
        path_b.cut()
        b.get("detect")
        assert b.tier == "disk"
        path_b.restore()
        assert a.get_or_set("patient:1", lambda: database["patient:1"]) == "v1"
        database["patient:1"] = "v2"
        b.invalidate("patient", 1)  # into B's replay log
        b.close()
        assert a.get_or_set("patient:1", lambda: database["patient:1"]) == "v2"
    finally:
        a.close()
        b.close()
        path_b.cut()


# Case 8 ---------------------------------------------------------------------------------
def test_invalidation_deletes_even_when_redis_is_out_of_memory(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """maxmemory reached with ``noeviction``: Redis refuses every write that needs memory,
    and the cache's invalidations must still delete (deleting frees memory)."""
    cache = make_service(redis_server.url, tmp_path, namespace="clinic", probe_backoff=NO_PROBE)
    raw = redis.Redis.from_url(redis_server.url)
    try:
        cache.set_many({"patient:1": "old", "patient:2": "old", "client:1": "old"})
        generation = int(raw.get("pc-gen:pc:clinic:") or 0)
        used = int(raw.info("memory")["used_memory"])
        raw.config_set("maxmemory-policy", "noeviction")
        raw.config_set("maxmemory", str(used + 512 * 1024))
        filler = iter(range(10**6))

        def fill_to_the_limit() -> None:
            refused = ""
            for i in filler:
                try:
                    raw.set(f"filler:{i}", b"x" * 4096)
                except redis.ResponseError as exc:
                    refused = str(exc)
                    break
            assert "maxmemory" in refused

        fill_to_the_limit()
        assert cache.invalidate("patient", 1) >= 1
        fill_to_the_limit()
        assert cache.delete_pattern("client:*") == 1
        assert cache.tier == "redis"  # not an outage: nothing waits for a replay
        assert cache.stats().replay_pending == 0
        assert raw.exists("pc:clinic:patient:1", "pc:clinic:client:1") == 0
        assert raw.get("pc:clinic:patient:2") is not None  # only what was named
        assert int(raw.get("pc-gen:pc:clinic:") or 0) == generation + 2
    finally:
        raw.config_set("maxmemory", "0")
        raw.close()
        cache.close()


# Case 11 --------------------------------------------------------------------------------
def test_without_redis_desks_sharing_a_database_see_each_others_changes_in_bounded_time(
    tmp_path: Path,
) -> None:
    """Two desks on one clinic database, no Redis, a disk each: nothing carries B's
    invalidation to A, so A keeps what it loaded at most ``fallback_max_ttl``."""
    a = make_service(
        None, tmp_path / "a", namespace="clinic", shared_database=True, fallback_max_ttl=0.3
    )
    b = make_service(
        None, tmp_path / "b", namespace="clinic", shared_database=True, fallback_max_ttl=0.3
    )
    database = {"patient:1": "v1"}
    try:
        assert a.get_or_set("patient:1", lambda: database["patient:1"], ttl=3600) == "v1"
        assert a.get("patient:1") == "v1"  # cached, for a while
        database["patient:1"] = "v2"
        b.invalidate("patient", 1)  # reaches B's disk only
        started = time.monotonic()
        wait_until(lambda: a.get_or_set("patient:1", lambda: database["patient:1"]) == "v2", 5)
        assert time.monotonic() - started < 2
    finally:
        a.close()
        b.close()
