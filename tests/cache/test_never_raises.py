"""The first promise at its edges: whatever Redis, the disk or the data do, a cache call
answers (a miss at worst) instead of raising into the screen that asked."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.cache.conftest import NO_PROBE, frozen, make_service, wait_until
from tests.support.redis_server import RedisServer


def test_a_frozen_redis_never_makes_concurrent_calls_raise(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """Eight threads are mid-call when Redis freezes; the first to time out fails over.
    Failing over must not pull the sockets from under the other seven (issue 16, case 1)."""
    cache = make_service(redis_server.url, tmp_path, probe_backoff=NO_PROBE)
    cache.set("patient:1", {"name": "Rex"})
    errors: list[BaseException] = []
    answers: list[Any] = []
    stop = threading.Event()
    started = threading.Barrier(9)

    def desk(n: int) -> None:
        started.wait()
        while not stop.is_set():
            try:
                if n % 4 == 0:
                    answers.append(cache.get_many(["patient:1", "patient:2"]))
                elif n % 4 == 1:
                    answers.append(cache.set(f"patient:{n}", n))
                elif n % 4 == 2:
                    answers.append(cache.get_or_set("patient:3", lambda: "loaded"))
                else:
                    answers.append(cache.get("patient:1", "miss"))
            except BaseException as exc:  # the promise: nothing at all comes out
                errors.append(exc)

    threads = [threading.Thread(target=desk, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    started.wait()
    try:
        time.sleep(0.05)  # every thread is busy with Redis
        with frozen(redis_server):
            wait_until(lambda: cache.tier == "disk")
            time.sleep(1.0)  # the calls that were in flight have all timed out by now
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
        cache.close()
    assert errors == []
    assert answers


def corrupt(path: Path) -> None:
    """Overwrite a SQLite file with what a failing disk or a bad sync leaves behind."""
    path.write_bytes(b"\x00garbage, not a database\xff" * 400)


@pytest.mark.parametrize("part", ["values", "replay"])
def test_a_corrupt_disk_cache_file_is_moved_aside_and_the_cache_starts_empty(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, part: str
) -> None:
    """Issue 16, case 2: ``file is not a database`` must not stop the app from starting."""
    make_service(None, tmp_path, namespace="c").close()
    corrupt(tmp_path / part / "cache.db")
    with caplog.at_level("WARNING", logger="cache"):
        cache = make_service(None, tmp_path, namespace="c")
    try:
        assert cache.set("patient:1", "Rex") is True
        assert cache.get("patient:1") == "Rex"
        (notice,) = cache.stats().notices
        aside = [p for p in tmp_path.iterdir() if p.name.startswith(f"{part}.unreadable-")]
        assert len(aside) == 1
        assert (aside[0] / "cache.db").read_bytes().startswith(b"\x00garbage")
        assert f"{tmp_path / part} could not be read (DatabaseError: file is not a database)" in (
            notice
        )
        assert f"moved aside to {aside[0]}" in notice
        assert "started empty" in notice
        assert notice in caplog.text
        assert cache.stats().as_dict()["notices"] == [notice]
    finally:
        cache.close()
    again = make_service(None, tmp_path, namespace="c")  # the next start is quiet again
    try:
        assert again.stats().notices == ()
        assert again.get("patient:1") == "Rex"
    finally:
        again.close()


def test_a_disk_cache_that_is_busy_at_start_is_not_moved_aside(tmp_path: Path) -> None:
    """Locked by another process is not corrupt: this process uses a cache of its own."""
    first = make_service(None, tmp_path, namespace="c")
    first.set("patient:1", "Rex")
    holder = sqlite3.connect(tmp_path / "values" / "cache.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        second = make_service(None, tmp_path, namespace="c")
        try:
            (notice,) = second.stats().notices
            assert "could not be opened" in notice
            assert "temporary" in notice
            assert second.set("k", 1) is True
            assert second.get("k") == 1
        finally:
            second.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert not [p for p in tmp_path.iterdir() if ".unreadable-" in p.name]
    assert first.get("patient:1") == "Rex"
    first.close()
