"""A load that races a change is returned but never kept, whichever process, workstation
or tier the change came through (issue 16, cases 9 and 10)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import redis

from tests.cache.conftest import NO_PROBE, make_service
from tests.cache.proxy import TcpProxy

ROOT = Path(__file__).resolve().parents[2]


def test_a_load_that_spans_failback_is_not_stored_in_redis(
    proxy: TcpProxy, redis_url: str, tmp_path: Path
) -> None:
    """Case 9: the load begins on disk, Redis comes back and another desk saves through
    it before the loader returns: the old row must not land in Redis."""
    desk = make_service(proxy.url, tmp_path / "a", namespace="clinic", probe_backoff=NO_PROBE)
    other = make_service(redis_url, tmp_path / "b", namespace="clinic", probe_backoff=NO_PROBE)
    database = {"patient:1": "v1"}
    try:
        proxy.cut()
        desk.get("detect")
        assert desk.tier == "disk"

        def slow_query() -> str:
            loaded = database["patient:1"]
            proxy.restore()
            assert desk.check_redis() is True  # failback while the query runs
            database["patient:1"] = "v2"
            other.invalidate("patient", 1)
            return loaded

        assert desk.get_or_set("patient:1", slow_query) == "v1"  # what the call read
        raw = redis.Redis.from_url(redis_url)
        assert raw.exists("pc:clinic:patient:1") == 0
        raw.close()
        assert desk.get_or_set("patient:1", lambda: database["patient:1"]) == "v2"
        assert other.get("patient:1") == "v2"
    finally:
        desk.close()
        other.close()


def test_a_load_that_spans_failover_is_not_stored_on_disk(proxy: TcpProxy, tmp_path: Path) -> None:
    """The other direction: begun on Redis, Redis lost mid-load; the disk was cleared on
    failover and holds no generation the load saw, so nothing is stored there either."""
    desk = make_service(proxy.url, tmp_path, namespace="clinic", probe_backoff=NO_PROBE)
    try:

        def slow_query() -> str:
            proxy.cut()
            desk.get("detect")
            assert desk.tier == "disk"
            return "loaded on Redis"

        assert desk.get_or_set("patient:1", slow_query) == "loaded on Redis"
        assert desk.get("patient:1") is None
    finally:
        desk.close()


OTHER_PROCESS = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from cache import CacheService

    cache = CacheService(None, Path(sys.argv[1]), namespace="clinic")
    cache.invalidate("patient", 1)
    cache.close()
    """
)


def test_a_disk_load_racing_a_write_in_another_process_is_not_stored(tmp_path: Path) -> None:
    """Case 10: two processes of one workstation share the disk tier and no Redis. One
    loads patient 1; meanwhile the other saves it and invalidates."""
    desk = make_service(None, tmp_path, namespace="clinic")
    database = {"patient:1": "v1"}
    try:

        def slow_query() -> str:
            loaded = database["patient:1"]
            database["patient:1"] = "v2"
            subprocess.run(
                [sys.executable, "-c", OTHER_PROCESS, str(tmp_path)],
                cwd=ROOT,
                check=True,
                timeout=60,
            )
            return loaded

        assert desk.get_or_set("patient:1", slow_query) == "v1"
        assert desk.get("patient:1") is None  # the old row was not kept
        assert desk.get_or_set("patient:1", lambda: database["patient:1"]) == "v2"
        assert desk.get("patient:1") == "v2"  # and a load that raced nothing is stored
    finally:
        desk.close()


def test_a_failed_over_load_racing_a_write_in_another_process_is_not_stored(
    proxy: TcpProxy, tmp_path: Path
) -> None:
    """Case 10 while Redis is down: the same, on the disk tier that stands in for Redis."""
    desk = make_service(proxy.url, tmp_path, namespace="clinic", probe_backoff=NO_PROBE)
    database = {"patient:1": "v1"}
    try:
        proxy.cut()
        desk.get("detect")

        def slow_query() -> str:
            loaded = database["patient:1"]
            database["patient:1"] = "v2"
            subprocess.run(
                [sys.executable, "-c", OTHER_PROCESS, str(tmp_path)],
                cwd=ROOT,
                check=True,
                timeout=60,
            )
            return loaded

        assert desk.get_or_set("patient:1", slow_query) == "v1"
        assert desk.get("patient:1") is None
    finally:
        desk.close()
