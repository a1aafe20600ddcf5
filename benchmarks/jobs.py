"""Job platform benchmarks: tracked vs raw Huey enqueue, runner vs raw consumer, start latency.

Everything runs against one private redis-server started here, with the registry in a
SQLite file (the workstation setup); the raw Huey side uses the same server, and both
sides are measured in interleaved rounds so that a busy machine affects both alike.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from huey import PriorityRedisHuey
from huey.consumer import Consumer

from jobs.platform import JobPlatform, JobRequest, JobsConfig, TaskSpec
from jobs.queues import BrokerConfig
from jobs.registry import JobRegistry
from jobs.runner import Runner
from purplecross_desktop.database import Base, make_engine

ENQUEUE_TARGET = 2.0
THROUGHPUT_TARGET = 0.5
WORKERS = 2


class Counter:
    def __init__(self) -> None:
        self.value = 0
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.goal = 0

    def reset(self, goal: int) -> None:
        with self.lock:
            self.value = 0
            self.goal = goal
            self.done.clear()

    def hit(self, *_args: Any) -> None:
        with self.lock:
            self.value += 1
            if self.value >= self.goal:
                self.done.set()


class QuietConsumer(Consumer):  # type: ignore[misc]
    """The raw consumer, minus the signal handlers a benchmark should not install."""

    def _set_signal_handlers(self) -> None:
        return


def _platform(folder: Path, redis_url: str) -> JobPlatform:
    engine = make_engine(f"sqlite:///{folder / 'registry.db'}")
    import jobs.models  # noqa: F401

    Base.metadata.create_all(engine)
    config = JobsConfig(
        broker=BrokerConfig(redis_url=redis_url, queue_file=folder / "queue.db", read_timeout=0.5),
        signing_key=b"benchmark-key",
        maintenance_interval=0.5,
    )
    return JobPlatform(config, engine)


def _per_op_us(fn: Callable[[int], Any], n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.perf_counter() - start) / n * 1e6


def _interleaved(
    raw: PriorityRedisHuey,
    platform: JobPlatform,
    raw_task: Callable[[int], Any],
    tracked: Callable[[int], Any],
    rounds: int,
    n: int,
) -> tuple[float, float]:
    """Median µs a job of ``n`` raw and ``n`` tracked enqueues, in interleaved rounds.

    ``tracked(n)`` enqueues ``n`` jobs however it likes.
    """
    raw_us: list[float] = []
    ours_us: list[float] = []
    for _ in range(rounds):
        raw_us.append(_per_op_us(raw_task, n))
        start = time.perf_counter()
        tracked(n)
        ours_us.append((time.perf_counter() - start) / n * 1e6)
        raw.storage.flush_queue()
        platform.hueys["email"].storage.flush_queue()
    return statistics.median(raw_us), statistics.median(ours_us)


def bench_enqueue(raw: PriorityRedisHuey, platform: JobPlatform, rounds: int, n: int) -> float:
    raw_task = raw.task(name="noop")(lambda i: None)
    platform.register(TaskSpec("bench.noop", lambda i: None, "email"))

    def tracked(count: int) -> None:
        for i in range(count):
            platform.enqueue("email", "bench.noop", i)

    r, o = _interleaved(raw, platform, raw_task, tracked, rounds, n)
    ratio = o / r
    print(
        f"enqueue: raw Huey {r:7.0f} µs   tracked {o:7.0f} µs   ratio {ratio:.2f}x  "
        f"(target ≤ {ENQUEUE_TARGET}x; median of {rounds} rounds of {n})"
    )
    return ratio


def bench_enqueue_many(
    raw: PriorityRedisHuey, platform: JobPlatform, rounds: int, n: int, batch: int
) -> float:
    """A fan-out (a notification to ``batch`` recipients): per job, tracked vs raw Huey."""
    raw_task = raw.task(name="noop_many")(lambda i: None)
    platform.register(TaskSpec("bench.noop_many", lambda i: None, "email"))

    def tracked(count: int) -> None:
        for first in range(0, count, batch):
            calls = [JobRequest("bench.noop_many", (i,)) for i in range(first, first + batch)]
            platform.enqueue_many("email", calls)

    r, o = _interleaved(raw, platform, raw_task, tracked, rounds, n)
    ratio = o / r
    print(
        f"enqueue_many ({batch} a call): raw Huey {r:7.0f} µs   tracked {o:7.0f} µs a job   "
        f"ratio {ratio:.2f}x  (median of {rounds} rounds of {n})"
    )
    return ratio


def bench_throughput(raw: PriorityRedisHuey, platform: JobPlatform, n: int) -> float:
    counter = Counter()
    raw_task = raw.task(name="count")(counter.hit)
    platform.register(TaskSpec("bench.count", counter.hit, "email"))
    registry = JobRegistry(platform)

    # Raw: a Huey consumer with WORKERS threads drains n pre-enqueued no-op jobs.
    for i in range(n):
        raw_task(i)
    counter.reset(n)
    consumer = QuietConsumer(
        raw,
        workers=WORKERS,
        periodic=False,
        initial_delay=0.05,
        max_delay=0.5,
        check_worker_health=False,
    )
    start = time.perf_counter()
    consumer.start()
    counter.done.wait(300)
    raw_s = time.perf_counter() - start
    consumer.stop(graceful=True)

    # Ours: the runner with the same threads; done when the registry says completed.
    for i in range(n):
        platform.enqueue("email", "bench.count", i)
    counter.reset(n)
    runner = Runner(platform, ["email"], {"email": WORKERS}, embedded=False)
    start = time.perf_counter()
    runner.start()
    counter.done.wait(300)
    platform.completions.flush()  # every completion is in the registry before the clock stops
    ours_s = time.perf_counter() - start
    completed = registry.counts()["email"]["completed"]
    assert completed >= n, f"only {completed} of {n} jobs recorded as completed"
    runner.stop()
    ratio = (n / ours_s) / (n / raw_s)
    print(
        f"throughput ({WORKERS} workers, {n} no-op jobs): raw consumer {n / raw_s:7.0f}/s   "
        f"runner {n / ours_s:7.0f}/s   ratio {ratio:.2f}x  (target ≥ {THROUGHPUT_TARGET}x)"
    )
    return ratio


def bench_latency(platform: JobPlatform, n: int) -> tuple[float, float]:
    started: dict[int, float] = {}
    lock = threading.Lock()

    def mark(i: int) -> None:
        with lock:
            started[i] = time.perf_counter()

    platform.register(TaskSpec("bench.mark", mark, "email"))
    runner = Runner(platform, ["email"], {"email": WORKERS}, embedded=False)
    runner.start()
    sent: dict[int, float] = {}
    try:
        time.sleep(0.5)
        for i in range(n):
            sent[i] = time.perf_counter()
            platform.enqueue("email", "bench.mark", i)
            time.sleep(0.01)
        deadline = time.monotonic() + 60
        while len(started) < n and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        runner.stop()
    waits = sorted((started[i] - sent[i]) * 1000 for i in started)
    p50 = statistics.median(waits)
    p95 = waits[max(0, int(len(waits) * 0.95) - 1)]
    print(
        f"enqueue→start latency on Redis ({len(waits)} jobs): p50 {p50:.1f} ms   p95 {p95:.1f} ms"
    )
    return p50, p95


def main() -> int:
    from tests.support.redis_server import RedisServer

    server = RedisServer()
    server.start()
    folder = Path(tempfile.mkdtemp(prefix="pc-bench-jobs-"))
    platform = _platform(folder, server.url)
    raw = PriorityRedisHuey("bench-raw", url=server.url, results=False)
    try:
        enqueue_ratio = bench_enqueue(raw, platform, rounds=9, n=300)
        bench_enqueue_many(raw, platform, rounds=9, n=300, batch=30)
        throughput_ratio = bench_throughput(raw, platform, n=2000)
        bench_latency(platform, n=200)
    finally:
        platform.close()
        platform.engine.dispose()
        server.cleanup()
    ok = enqueue_ratio <= ENQUEUE_TARGET and throughput_ratio >= THROUGHPUT_TARGET
    print("jobs: targets met" if ok else "jobs: TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
