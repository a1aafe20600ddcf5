"""Stampede protection across processes: one loader, the others wait and re-read."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from tests.cache.conftest import make_service

ROOT = Path(__file__).resolve().parents[2]

WORKER = """
import json, sys, time
import redis
from cache import CacheService

counter_url, url, disk_dir, start_at = sys.argv[1:5]
counter = redis.Redis.from_url(counter_url)

def loader():
    counter.incr("stampede:loader-calls")
    time.sleep(0.4)  # a slow query: the others must wait for it, not run it
    return {"report": "monthly", "total": 1234}

cache = CacheService(url or None, disk_dir, namespace="stampede")
while time.time() < float(start_at):
    time.sleep(0.001)
print(json.dumps(cache.get_or_set("report:monthly", loader)))
cache.close()
"""


@pytest.mark.parametrize("tier", ["redis", "disk"])
def test_processes_missing_one_key_run_the_loader_once(
    redis_url: str, tmp_path: Path, tier: str
) -> None:
    # Redis counts loader calls in both cases; with tier="disk" the cache itself has
    # no Redis and the processes share the disk tier's lock.
    cache_url = redis_url if tier == "redis" else ""
    start_at = time.time() + 1.5  # every process imported and waiting by then
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                redis_url,
                cache_url,
                str(tmp_path / "d"),
                str(start_at),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0]
    assert [json.loads(o) for o in outputs] == [{"report": "monthly", "total": 1234}] * 3
    counter = redis.Redis.from_url(redis_url)
    try:
        assert counter.get("stampede:loader-calls") == b"1"
    finally:
        counter.close()


def test_a_crashed_loaders_lock_expires(redis_url: str, tmp_path: Path) -> None:
    cache = make_service(redis_url, tmp_path, namespace="crash", lock_timeout=0.3)
    try:
        # Another process took the lock and died without releasing it.
        raw = redis.Redis.from_url(redis_url)
        raw.set("pc-lock:crash:k", "dead-process", px=300)
        raw.close()
        start = time.monotonic()
        assert cache.get_or_set("k", lambda: 7) == 7
        assert time.monotonic() - start < 5
    finally:
        cache.close()
