"""The guarantees of docs/jobs.md at their edges (issue 9): each test failed on the old code.

Cleanup, overlap, lost messages, failed outcome writes, bad data, long names, a rolling
upgrade. On SQLite and PostgreSQL registries; with Redis where the broker matters.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import threading
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from jobs import RetryPolicy, TaskSpec, TransientError
from jobs.platform import JobPlatform, JobsConfig
from jobs.queues import BrokerConfig
from jobs.registry import JobNotFoundError, JobRegistry
from purplecross_desktop.database.base import utcnow
from tests.jobs.conftest import Harness, fast_config, wait_until

FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.1, jitter=0)


@pytest.fixture
def harness(any_db_harness: Harness) -> Harness:
    return any_db_harness


def _recording(platform: JobPlatform, done: list[Any], name: str = "t.record") -> None:
    lock = threading.Lock()

    def record(value: Any) -> Any:
        with lock:
            done.append(value)
        return value

    platform.register(TaskSpec(name, record, "email", policy=FAST_RETRY))


@pytest.mark.redis
def test_a_revoked_scheduled_job_never_runs_after_it_is_cleaned(
    harness: Harness, redis_url: str
) -> None:
    """Case 1: the cancelled appointment's reminder stays cancelled after cleanup."""
    platform = harness.platform(redis_url)
    done: list[Any] = []
    _recording(platform, done)
    registry = JobRegistry(platform)
    soon = utcnow() + dt.timedelta(seconds=1)
    job_id = platform.enqueue("email", "t.record", "reminder", eta=soon)
    assert registry.revoke([job_id]) == [job_id]
    assert registry.clean("email", "revoked") == 1
    harness.runner(platform)
    control = platform.enqueue("email", "t.record", "control", eta=soon)
    wait_until(lambda: registry.get(control).job.state == "completed", timeout=15)
    time.sleep(0.5)
    assert done == ["control"]
    with pytest.raises(JobNotFoundError):
        registry.get(job_id)
    assert registry.refused_payloads() == []  # no payload was refused either


@pytest.mark.redis
def test_concurrent_enqueues_with_one_key_get_the_same_written_id(
    harness: Harness, redis_url: str
) -> None:
    """Case 3: the loser of the race gets the winner's id, never one that was not written."""
    platform = harness.platform(redis_url)
    done: list[Any] = []
    _recording(platform, done)
    registry = JobRegistry(platform)
    for round_ in range(15):
        key = f"race-{round_}"
        barrier = threading.Barrier(2)
        ids: list[str] = []
        errors: list[BaseException] = []

        def enqueue(
            key: str = key,
            barrier: threading.Barrier = barrier,
            ids: list[str] = ids,
            errors: list[BaseException] = errors,
        ) -> None:
            barrier.wait()
            try:
                ids.append(platform.enqueue("email", "t.record", key, idempotency_key=key))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=enqueue) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert errors == []
        assert len(set(ids)) == 1, f"round {round_}: two ids {ids}"
        assert registry.get(ids[0]).job.idempotency_key == key
    assert registry.counts()["email"]["waiting"] == 15


@pytest.mark.redis
@pytest.mark.parametrize("due", ["eta", "retry"])
def test_a_scheduled_job_lost_on_its_way_to_the_queue_is_sent_again(
    harness: Harness, redis_url: str, monkeypatch: pytest.MonkeyPatch, due: str
) -> None:
    """Case 4: the scheduler's push to the queue fails once; the job still runs.

    Both ways a job waits in the schedule: an ETA (``scheduled``) and a retry's delay
    (``failed_retrying``).
    """
    platform = harness.platform(redis_url)
    done: list[Any] = []
    _recording(platform, done)
    failures: list[str] = []

    def fails_once(value: str) -> str:
        if not failures:
            failures.append(value)
            raise TransientError("first attempt fails; the retry waits in the schedule")
        done.append(value)
        return value

    platform.register(TaskSpec("t.fails_once", fails_once, "email", policy=FAST_RETRY))
    registry = JobRegistry(platform)
    storage = platform.hueys["email"].storage
    real_enqueue = storage.enqueue
    dropped: list[bytes] = []

    def flaky_enqueue(data: bytes, priority: int | None = None) -> None:
        if not dropped and "Scheduler" in threading.current_thread().name:
            dropped.append(data)  # Redis refused the push: the message is gone
            raise ConnectionError("Redis went away between the schedule and the queue")
        real_enqueue(data, priority)

    monkeypatch.setattr(storage, "enqueue", flaky_enqueue)
    if due == "eta":
        job_id = platform.enqueue(
            "email", "t.record", "late", eta=utcnow() + dt.timedelta(seconds=1)
        )
    else:
        job_id = platform.enqueue("email", "t.fails_once", "late")
    harness.runner(platform)
    wait_until(lambda: registry.get(job_id).job.state == "completed", timeout=20)
    assert dropped
    assert done == ["late"]
    timeline = [e.kind for e in registry.get(job_id).timeline]
    assert "swept" in timeline
    assert ("retrying" in timeline) == (due == "retry")


def test_a_failed_write_of_a_retry_is_tried_until_it_lands(harness: Harness) -> None:
    """Case 6: the outcome write fails once (the registry is away); the retry still runs."""
    platform = harness.platform()
    registry = JobRegistry(platform)
    running = threading.Event()
    release = threading.Event()
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) == 1:
            running.set()
            release.wait(10)
            raise TransientError("first attempt fails")
        return "second attempt"

    platform.register(TaskSpec("t.flaky", flaky, "email", policy=FAST_RETRY))
    harness.runner(platform)
    job_id = platform.enqueue("email", "t.flaky")
    assert running.wait(10)
    with harness.engine.begin() as conn:  # the outcome's timeline write now fails
        conn.execute(text("ALTER TABLE job_event RENAME TO job_event_away"))
    release.set()
    time.sleep(0.6)
    assert len(calls) == 1
    with harness.engine.begin() as conn:
        conn.execute(text("ALTER TABLE job_event_away RENAME TO job_event"))
    wait_until(lambda: registry.get(job_id).job.state == "completed", timeout=15)
    detail = registry.get(job_id)
    assert detail.job.attempts == 2
    assert [e.kind for e in detail.timeline].count("retrying") == 1
    assert len(calls) == 2


class Colour(enum.Enum):
    RED = "red"


@pytest.mark.parametrize(
    ("args", "kwargs", "where"),
    [
        ((uuid.uuid4(),), {}, "args[0]"),
        ((Colour.RED,), {}, "args[0]"),
        (({"when": dt.date(2026, 1, 1)},), {}, "args[0]['when']"),
        ((), {"amount": float("nan")}, "kwargs['amount']"),
        ((10**30,), {}, "args[0]"),
        (({1: "a"},), {}, "args[0]"),
    ],
)
def test_data_that_is_not_plain_json_is_refused_at_enqueue(
    harness: Harness, args: tuple[Any, ...], kwargs: dict[str, Any], where: str
) -> None:
    """Case 7: one rule for every encoder; the registry never sees what it cannot store."""
    platform = harness.platform()
    _recording(platform, [])
    registry = JobRegistry(platform)
    with pytest.raises(TypeError) as info:
        platform.enqueue("email", "t.record", *args, **kwargs)
    assert str(info.value).startswith(where)
    ok = platform.enqueue("email", "t.record", {"id": str(uuid.uuid4()), "n": [1, 2.5, None]})
    assert registry.search() == [registry.get(ok).job]


def test_lengths_are_checked_at_enqueue_and_columns_fit_real_host_names(
    harness: Harness, tmp_path: Any
) -> None:
    """Case 8: a 201-character key is refused by name; a 253-character host name works."""
    config = fast_config(tmp_path)
    host = "h" * 61 + "." + "clinic-server-" * 13 + "example.org"
    host = host[:253]
    platform = JobPlatform(config, harness.engine, worker_id=f"{host}:4242:abcdef")
    harness.platforms.append(platform)
    done: list[Any] = []
    _recording(platform, done)
    registry = JobRegistry(platform)
    with pytest.raises(ValueError, match="idempotency_key: at most 200"):
        platform.enqueue("email", "t.record", 1, idempotency_key="k" * 201)
    assert registry.search() == []
    platform.outbox_pending.set()  # the broker is down: the job waits in the outbox
    job_id = platform.enqueue("email", "t.record", 2, idempotency_key="k" * 200)
    assert registry.get(job_id).job.state == "outbox"
    harness.runner(platform)  # drains the outbox, claiming rows under the long owner name
    wait_until(lambda: registry.get(job_id).job.state == "completed", timeout=15)
    assert registry.workers()[0].host  # the worker row holds its id
    assert registry.get(job_id).job.worker_id == platform.worker_id


def test_a_runner_that_does_not_know_a_task_leaves_it_for_one_that_does(
    harness: Harness,
) -> None:
    """Case 10: a rolling upgrade; the older runner never buries the newer task kind."""
    newer = harness.platform()
    done: list[Any] = []
    _recording(newer, done, "t.new")
    registry = JobRegistry(newer)
    job_id = newer.enqueue("email", "t.new", "hello")
    older = harness.platform(unknown_task_delay=0.2)  # the same queues, without "t.new"
    harness.runner(older)
    time.sleep(1.0)
    job = registry.get(job_id).job
    assert job.state == "waiting"
    assert job.attempts == 0
    harness.runner(newer)
    wait_until(lambda: registry.get(job_id).job.state == "completed", timeout=20)
    assert done == ["hello"]


def test_the_config_never_shows_its_secrets() -> None:
    """Case 10: repr() of the jobs config hides the signing key and the Redis password."""
    broker = BrokerConfig(redis_url="redis://:hunter2@cache.clinic:6380/0")
    config = JobsConfig(broker=broker, signing_key=b"s3cr3t-signing-key")
    shown = repr(config) + str(config) + repr(dataclasses.replace(broker, redis_password="pw9"))
    assert "hunter2" not in shown
    assert "s3cr3t" not in shown
    assert "pw9" not in shown
    assert "cache.clinic:6380" in shown


def test_a_hung_job_times_out_and_its_thread_is_replaced(harness: Harness) -> None:
    """Also: a per-task timeout fails a hung run and frees the queue for the next job."""
    platform = harness.platform()
    registry = JobRegistry(platform)
    hang = threading.Event()
    done: list[Any] = []
    _recording(platform, done)
    once = RetryPolicy(max_attempts=1)
    platform.register(TaskSpec("t.hang", lambda: hang.wait(30), "reports", once, timeout=0.5))
    platform.register(TaskSpec("t.report", done.append, "reports"))
    harness.runner(platform)  # "reports" has one thread
    try:
        hung = platform.enqueue("reports", "t.hang")
        wait_until(lambda: registry.get(hung).job.state == "active")
        assert registry.search(states=["active"])[0].running_ms is not None
        after = platform.enqueue("reports", "t.report", "next")
        wait_until(lambda: registry.get(hung).job.state == "dead", timeout=10)
        job = registry.get(hung).job
        assert job.error_class == "jobs.execution.JobTimeoutError"
        assert "0.5 s timeout" in (job.error_message or "")
        wait_until(lambda: registry.get(after).job.state == "completed", timeout=10)
        assert done == ["next"]
    finally:
        hang.set()  # the abandoned thread returns; its late result changes nothing
    time.sleep(0.3)
    assert registry.get(hung).job.state == "dead"


def test_jobs_over_a_rate_limit_wait_instead_of_failing(harness: Harness) -> None:
    """Also: at most 2 starts per 1.5 s window; the third job starts in the next window."""
    from jobs import RateLimit

    platform = harness.platform()
    registry = JobRegistry(platform)
    starts: list[float] = []
    limit = RateLimit(jobs=2, per_seconds=1.5)
    platform.register(
        TaskSpec("t.sms", lambda: starts.append(time.monotonic()), "email", rate_limit=limit)
    )
    ids = [platform.enqueue("email", "t.sms") for _ in range(3)]
    harness.runner(platform)
    wait_until(lambda: {registry.get(j).job.state for j in ids} == {"completed"}, timeout=15)
    starts.sort()
    assert starts[1] - starts[0] < 1.0
    assert starts[2] - starts[0] >= 1.2  # waited for the next window
    assert all(registry.get(j).job.attempts == 1 for j in ids)  # waiting is not failing


def test_a_run_handed_back_while_it_ran_leaves_nothing_on_the_timeline(
    harness: Harness,
) -> None:
    """Case 5: a run whose result was discarded is not recorded as "completed".

    The job is handed back while its first run still runs (as the reaper does when it
    takes a runner for dead); the second run completes it. The first run then returns:
    its result changes nothing, and the timeline shows one run, the one that counted.
    """
    platform = harness.platform()
    registry = JobRegistry(platform)
    release = threading.Event()
    calls: list[int] = []

    def slow_first() -> str:
        calls.append(1)
        if len(calls) == 1:
            release.wait(15)
            return "first, discarded"
        return "second"

    platform.register(TaskSpec("t.slow_first", slow_first, "email", policy=FAST_RETRY))
    harness.runner(platform)  # two threads on "email"
    job_id = platform.enqueue("email", "t.slow_first")
    try:
        wait_until(lambda: calls)
        with harness.engine.connect() as conn:
            token = conn.execute(
                text("select token from job where id = :id"), {"id": job_id}
            ).scalar_one()
        platform.requeue_or_bury(job_id, token, "test: taken for dead")
        wait_until(lambda: registry.get(job_id).job.state == "completed", timeout=15)
    finally:
        release.set()
    time.sleep(0.3)
    platform.completions.flush(timeout=5)
    detail = registry.get(job_id)
    assert len(calls) == 2
    assert detail.job.attempts == 2
    assert detail.job.result_summary == "second"
    kinds = [e.kind for e in detail.timeline]
    assert kinds.count("completed") == 1, kinds
    assert kinds.count("started") == 1, kinds


def test_a_runner_whose_upkeep_is_slow_keeps_heart_beating(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Case 5: a long outbox drain or purge never makes a live runner look dead.

    The upkeep thread is held (its broker check blocks) for several heartbeat timeouts;
    the runner's heartbeat keeps advancing meanwhile, so no other runner reaps its jobs.
    """
    platform = harness.platform()
    registry = JobRegistry(platform)
    harness.runner(platform)
    held = threading.Event()
    release = threading.Event()
    real_check = platform.check_broker

    def slow_check() -> int:
        if not release.is_set():
            held.set()
            release.wait(30)
        return real_check()

    monkeypatch.setattr(platform, "check_broker", slow_check)
    try:
        assert held.wait(10)
        (before,) = registry.workers()
        span = dt.timedelta(seconds=3 * platform.config.heartbeat_timeout)
        wait_until(lambda: registry.workers()[0].last_heartbeat - before.last_heartbeat > span, 20)
        assert not release.is_set()  # the upkeep was held all along
    finally:
        release.set()


@pytest.mark.redis
def test_a_valid_message_replayed_never_runs_its_job_again(
    harness: Harness, redis_url: str
) -> None:
    """Case 9: a copied, correctly signed message put back in Redis, before and after clean.

    The dispatch token is a one-time id: the claim that runs a job consumes it (the job
    leaves the claimable states), and a job that was cleaned has no row to claim.
    """
    import redis as redis_client

    platform = harness.platform(redis_url)
    done: list[Any] = []
    _recording(platform, done)
    registry = JobRegistry(platform)
    job_id = platform.enqueue("email", "t.record", "once")
    client = redis_client.Redis.from_url(redis_url)
    key = platform.hueys["email"].storage.queue_key
    ((copied, score),) = client.zrange(key, 0, -1, withscores=True)

    def skipped(detail: str) -> int:
        with harness.engine.connect() as conn:
            rows = conn.execute(
                text("select detail from job_event where kind = 'skipped'")
            ).scalars()
            return sum(detail in row for row in rows)

    try:
        harness.runner(platform)
        wait_until(lambda: registry.get(job_id).job.state == "completed", timeout=15)
        client.zadd(key, {copied: score})  # replayed while the job's row is still there
        wait_until(lambda: skipped("state completed"), timeout=15)
        assert registry.clean("email", "completed") == 1
        client.zadd(key, {copied: score})  # replayed after the row was cleaned
        wait_until(lambda: skipped(f"unknown job {job_id}"), timeout=15)
    finally:
        client.close()
    assert done == ["once"]
    assert registry.search() == []  # the replay re-created nothing
    assert registry.refused_payloads() == []  # it was genuine, and still did not run


@pytest.mark.redis
def test_enqueue_many_writes_every_row_in_one_go_and_runs_each_job_once(
    harness: Harness, redis_url: str
) -> None:
    """The batch enqueue (one transaction, one round trip) keeps enqueue's guarantees.

    A taken key (earlier, or earlier in the same batch) gives the existing job's id; an
    ETA schedules; blobs are stored; a bad request enqueues nothing and says which.
    """
    import hashlib

    from jobs import JobRequest

    platform = harness.platform(redis_url)
    done: list[Any] = []
    _recording(platform, done)
    registry = JobRegistry(platform)
    earlier = platform.enqueue("email", "t.record", "earlier", idempotency_key="taken")
    data = b"attachment bytes"
    digest = hashlib.sha256(data).hexdigest()
    soon = utcnow() + dt.timedelta(seconds=1)
    requests = [JobRequest("t.record", (f"job-{i}",)) for i in range(20)]
    requests += [
        JobRequest("t.record", ("keyed",), idempotency_key="k1"),
        JobRequest("t.record", ("same key again",), idempotency_key="k1"),
        JobRequest("t.record", ("taken key",), idempotency_key="taken"),
        JobRequest("t.record", ("later",), eta=soon, record={"client": 7}),
        JobRequest("t.record", ("with blob",), blobs={digest: data}),
    ]
    bad = [*requests, JobRequest("t.record", (uuid.uuid4(),))]
    with pytest.raises(TypeError, match=r"^requests\[25\]\.args\[0\]"):
        platform.enqueue_many("email", bad)
    assert [j.id for j in registry.search()] == [earlier]  # the bad batch wrote nothing
    ids = platform.enqueue_many("email", requests)
    assert len(ids) == len(requests)
    assert ids[21] == ids[20]
    assert ids[22] == earlier
    assert len(set(ids)) == len(requests) - 1
    assert registry.get(ids[23]).job.state == "scheduled"
    assert registry.get(ids[23]).job.client_id == 7
    assert platform.recorder.blobs_of(ids[24]) == {digest: data}
    harness.runner(platform)
    wait_until(lambda: registry.counts()["email"]["completed"] == len(set(ids)), timeout=20)
    expected = ["earlier", *(f"job-{i}" for i in range(20)), "keyed", "later", "with blob"]
    assert sorted(done) == sorted(expected)


@pytest.mark.redis
def test_enqueue_many_waits_in_the_outbox_while_the_broker_is_down(
    harness: Harness, redis_url: str
) -> None:
    from jobs import JobRequest

    platform = harness.platform(redis_url)
    done: list[Any] = []
    _recording(platform, done)
    registry = JobRegistry(platform)
    platform.outbox_pending.set()  # the broker was found unreachable
    ids = platform.enqueue_many("email", [JobRequest("t.record", (i,)) for i in range(5)])
    assert {registry.get(j).job.state for j in ids} == {"outbox"}
    harness.runner(platform)  # drains the outbox once the broker answers
    wait_until(lambda: {registry.get(j).job.state for j in ids} == {"completed"}, timeout=20)
    assert sorted(done) == [0, 1, 2, 3, 4]
