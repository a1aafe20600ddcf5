"""The first promise at its edges: whatever Redis, the disk or the data do, a cache call
answers (a miss at worst) instead of raising into the screen that asked."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

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
