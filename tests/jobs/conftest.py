"""Fixtures of the job platform tests: a platform on a fresh database and broker."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

# Every table on Base.metadata (the registry's, and the clinic's that a worker checks for:
# events, the SMS log), whichever test module runs first.
import purplecross_desktop.database.models  # noqa: F401
from jobs.platform import JobPlatform, JobsConfig
from jobs.queues import BrokerConfig
from jobs.runner import Runner
from purplecross_desktop.database import Base, make_engine

FAST = {
    "heartbeat_interval": 0.2,
    "heartbeat_timeout": 1.0,
    "outbox_claim_ttl": 2.0,
    "maintenance_interval": 0.1,
}
KEY = b"test-signing-key"


def make_db(url: str) -> Engine:
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    return engine


def fast_config(tmp_path: Path, redis_url: str | None = None, **overrides: Any) -> JobsConfig:
    broker = BrokerConfig(
        redis_url=redis_url,
        queue_file=tmp_path / "queue.db",
        read_timeout=0.2,
        poll_max_delay=0.05,
    )
    config = JobsConfig(broker=broker, signing_key=KEY, **FAST)
    return dataclasses.replace(config, **overrides)


class Harness:
    """Platforms and runners made by one test, closed at its end."""

    def __init__(self, tmp_path: Path, db_url: str) -> None:
        self.tmp_path = tmp_path
        self.engine = make_db(db_url)
        self.platforms: list[JobPlatform] = []
        self.runners: list[Runner] = []

    def platform(self, redis_url: str | None = None, **overrides: Any) -> JobPlatform:
        platform = JobPlatform(fast_config(self.tmp_path, redis_url, **overrides), self.engine)
        self.platforms.append(platform)
        return platform

    def runner(self, platform: JobPlatform, **kwargs: Any) -> Runner:
        kwargs.setdefault("shutdown_timeout", 2.0)
        kwargs.setdefault("pause_poll", 0.05)
        runner = Runner(platform, **kwargs)
        self.runners.append(runner)
        runner.start()
        return runner

    def close(self) -> None:
        for runner in self.runners:
            runner.stop()
        for platform in self.platforms:
            platform.close()
        self.engine.dispose()


@pytest.fixture
def harness(tmp_path: Path, sqlite_url: str) -> Iterator[Harness]:
    """A harness whose registry is a SQLite file."""
    h = Harness(tmp_path, sqlite_url)
    yield h
    h.close()


@pytest.fixture
def any_db_harness(tmp_path: Path, database_url: str) -> Iterator[Harness]:
    """A harness whose registry is SQLite, then the real PostgreSQL."""
    h = Harness(tmp_path, database_url)
    yield h
    h.close()


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {predicate}")
        time.sleep(interval)
