"""Cache fixtures: a service per tier (Redis, disk, Redis dead after failover)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cache import CacheService
from tests.cache.proxy import TcpProxy
from tests.support.redis_server import RedisServer

# The probe must not race the tests that drive failback themselves.
NO_PROBE = (3600.0, 3600.0)


def make_service(redis_url: str | None, disk_dir: Path, **kwargs: object) -> CacheService:
    kwargs.setdefault("namespace", f"t{uuid.uuid4().hex[:8]}")
    return CacheService(redis_url, disk_dir, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(params=["redis", "disk", "failover"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, CacheService]]:
    """The same CacheService API on each tier: Redis up, disk only, Redis dead."""
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        service = make_service(url, tmp_path / "cache")
    elif request.param == "disk":
        service = make_service(None, tmp_path / "cache")
    else:
        # Redis unreachable (connection refused), as after a crash; cheaper than a
        # private server per test (test_failover.py SIGKILLs real servers).
        proxy: TcpProxy = request.getfixturevalue("proxy")
        service = make_service(proxy.url, tmp_path / "cache", probe_backoff=NO_PROBE)
        service.set("before", 1)
        assert service.tier == "redis"
        proxy.cut()
        service.get("detect")  # the first call finds Redis gone and opens the breaker
        assert service.tier == "disk"
        service.reset_stats()
    yield request.param, service
    service.close()


@pytest.fixture
def cache(backend: tuple[str, CacheService]) -> CacheService:
    return backend[1]


@pytest.fixture
def proxy(redis_url: str) -> Iterator[TcpProxy]:
    """A cuttable network path to the shared test Redis."""
    port = int(redis_url.rsplit(":", 1)[1].split("/", 1)[0])
    p = TcpProxy(port)
    p.restore()
    yield p
    p.cut()


@contextlib.contextmanager
def frozen(server: RedisServer) -> Iterator[None]:
    """SIGSTOP the server for the block: connections stay open and nothing answers (a hung
    host, a swapping VM), the case where timeouts, not refusals, decide what happens."""
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(server.process.pid, signal.SIGCONT)


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
