"""The job registry end to end on the embedded SQLite queue: states, timeline and admin actions."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import threading
from collections import Counter

import pytest
from sqlalchemy import text

from jobs import JobState, PermanentError, RetryPolicy, TaskSpec, TransientError
from jobs.platform import JobPlatform, UnknownQueueError, UnknownTaskError
from jobs.registry import JobNotFoundError, JobRegistry
from jobs.runner import PausableWorker, Runner
from purplecross_desktop.database.base import utcnow
from tests.jobs.conftest import Harness, wait_until

FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.1, jitter=0.1)


class Effects:
    """What the test tasks did, thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done: list[object] = []
        self.calls: dict[str, int] = {}

    def record(self, value: object) -> object:
        with self.lock:
            self.done.append(value)
        return value

    def count(self, key: str) -> int:
        with self.lock:
            self.calls[key] = self.calls.get(key, 0) + 1
            return self.calls[key]


@pytest.fixture
def effects() -> Effects:
    return Effects()


@pytest.fixture
def harness(any_db_harness: Harness) -> Harness:
    """Every registry test runs on SQLite and on PostgreSQL."""
    return any_db_harness


@pytest.fixture
def platform(harness: Harness, effects: Effects) -> JobPlatform:
    p = harness.platform()

    def flaky(key: str, failures: int) -> str:
        if effects.count(key) <= failures:
            raise TransientError(f"attempt {effects.calls[key]} failed")
        effects.record(key)
        return f"ok after {effects.calls[key]}"

    def broken(reason: str) -> None:
        raise PermanentError(reason)

    p.register(TaskSpec("t.record", effects.record, "email"))
    p.register(TaskSpec("t.flaky", flaky, "email", policy=FAST_RETRY))
    p.register(TaskSpec("t.broken", broken, "email", policy=FAST_RETRY))
    p.register(TaskSpec("t.report", broken, "reports"))
    return p


def _state(registry: JobRegistry, job_id: str) -> str:
    return registry.get(job_id).job.state


class WorkerLoops:
    """Counts the rounds each Huey worker thread makes (a round: check the pause, then take
    a job or wait). Two rounds after a moment mean a whole round since then: the positive
    signal that a paused worker looked at its queue and took nothing."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.rounds: Counter[int] = Counter()
        original = PausableWorker.loop
        rounds = self.rounds

        def loop(worker: PausableWorker, now: object = None) -> None:
            try:
                original(worker, now)
            finally:
                rounds[id(worker)] += 1  # each worker thread writes only its own key

        monkeypatch.setattr(PausableWorker, "loop", loop)

    def wait_for_rounds(self, runner: Runner, queue: str, rounds: int = 2) -> None:
        workers = [id(worker) for worker, _thread in runner.consumers[queue].worker_threads]
        assert workers
        start = {worker: self.rounds[worker] for worker in workers}
        wait_until(lambda: all(self.rounds[w] >= start[w] + rounds for w in workers))


def test_enqueue_runs_and_records_the_whole_life(
    harness: Harness, platform: JobPlatform, effects: Effects
) -> None:
    registry = JobRegistry(platform)
    harness.runner(platform)
    job_id = platform.enqueue(
        "email", "t.record", "hello", record={"client": 7, "patient": 9}, priority=3
    )
    wait_until(lambda: _state(registry, job_id) == "completed")
    detail = registry.get(job_id)
    assert effects.done == ["hello"]
    job = detail.job
    assert (job.queue, job.task, job.args, job.attempts, job.priority) == (
        "email",
        "t.record",
        ["hello"],
        1,
        3,
    )
    assert (job.client_id, job.patient_id) == (7, 9)
    assert job.result_summary == "hello"
    assert job.progress == 100
    assert job.started_at is not None
    assert job.finished_at is not None
    assert job.duration_ms is not None
    assert job.wait_ms is not None
    assert job.worker_id == platform.worker_id
    assert [e.kind for e in detail.timeline] == ["enqueued", "started", "completed"]


def test_transient_errors_retry_with_backoff_then_succeed(
    harness: Harness, platform: JobPlatform, effects: Effects
) -> None:
    registry = JobRegistry(platform)
    harness.runner(platform)
    job_id = platform.enqueue("email", "t.flaky", "k1", 2)
    wait_until(lambda: _state(registry, job_id) == "completed", timeout=15)
    detail = registry.get(job_id)
    assert detail.job.attempts == 3
    kinds = [e.kind for e in detail.timeline]
    assert kinds == [
        "enqueued",
        "started",
        "retrying",
        "started",
        "retrying",
        "started",
        "completed",
    ]
    assert effects.done == ["k1"]


def test_retries_run_out_into_a_dead_letter_that_keeps_args_and_traceback(
    harness: Harness, platform: JobPlatform, effects: Effects
) -> None:
    registry = JobRegistry(platform)
    harness.runner(platform)
    job_id = platform.enqueue("email", "t.flaky", "k2", 4)
    wait_until(lambda: _state(registry, job_id) == "dead", timeout=15)
    job = registry.get(job_id).job
    assert job.attempts == 3
    assert job.args == ["k2", 4]
    assert job.error_class == "jobs.policy.TransientError"
    assert job.error_message == "attempt 3 failed"
    assert job.traceback is not None
    assert "TransientError" in job.traceback
    # Retry from the dead letter: the counter is past its failures now, so it succeeds.
    assert registry.retry([job_id]) == [job_id]
    wait_until(lambda: _state(registry, job_id) == "completed", timeout=15)
    assert registry.get(job_id).job.attempts == 2  # attempts restart at 1 on a manual retry
    assert effects.done == ["k2"]


def test_permanent_errors_fail_at_once(harness: Harness, platform: JobPlatform) -> None:
    registry = JobRegistry(platform)
    harness.runner(platform)
    job_id = platform.enqueue("email", "t.broken", "no such mailbox")
    wait_until(lambda: _state(registry, job_id) == "dead")
    job = registry.get(job_id).job
    assert job.attempts == 1
    assert job.error_class == "jobs.policy.PermanentError"
    assert job.error_message == "no such mailbox"


def test_reports_get_one_attempt(harness: Harness, platform: JobPlatform) -> None:
    registry = JobRegistry(platform)
    harness.runner(platform)
    job_id = platform.enqueue("reports", "t.report", "out of paper")
    wait_until(lambda: _state(registry, job_id) == "dead")
    assert registry.get(job_id).job.attempts == 1
    assert registry.get(job_id).job.max_attempts == 1


def test_idempotency_key_returns_the_first_job(platform: JobPlatform) -> None:
    first = platform.enqueue("email", "t.record", 1, idempotency_key="once")
    assert platform.enqueue("email", "t.record", 2, idempotency_key="once") == first
    assert JobRegistry(platform).counts()["email"]["waiting"] == 1


def test_bad_enqueues_name_the_problem_and_change_nothing(platform: JobPlatform) -> None:
    with pytest.raises(UnknownQueueError, match="queue"):
        platform.enqueue("nope", "t.record")
    with pytest.raises(UnknownTaskError, match="task"):
        platform.enqueue("email", "t.nope")
    with pytest.raises(TypeError, match="JSON"):
        platform.enqueue("email", "t.record", object())
    with pytest.raises(ValueError, match="eta"):
        platform.enqueue("email", "t.record", 1, eta=dt.datetime(2030, 1, 1))
    with pytest.raises(ValueError, match="record"):
        platform.enqueue("email", "t.record", 1, record={"horse": 1})
    assert sum(JobRegistry(platform).counts()["email"].values()) == 0


def test_search_filters_orders_and_pages(platform: JobPlatform) -> None:
    registry = JobRegistry(platform)
    ids = [
        platform.enqueue("email", "t.record", f"note {i}", record={"patient": i % 2})
        for i in range(6)
    ]
    platform.enqueue("reports", "t.report", "quarterly")
    assert len(registry.search()) == 7
    assert {j.id for j in registry.search(queue="email")} == set(ids)
    assert [j.args for j in registry.search(text="QUARTERLY")] == [["quarterly"]]
    assert {j.id for j in registry.search(record={"patient": 1})} == set(ids[1::2])
    assert registry.search(task="t.report")[0].queue == "reports"
    assert [j.id for j in registry.search(queue="email", order="enqueued_at")] == ids
    page = registry.search(queue="email", order="enqueued_at", limit=2, offset=2)
    assert [j.id for j in page] == ids[2:4]
    assert registry.search(states=["dead"]) == []
    assert registry.search(since=utcnow()) == []
    assert len(registry.search(until=utcnow())) == 7
    with pytest.raises(ValueError, match="states"):
        registry.search(states=["sleeping"])


def test_get_unknown_job(platform: JobPlatform) -> None:
    with pytest.raises(JobNotFoundError, match="nope"):
        JobRegistry(platform).get("nope")


def test_promote_runs_a_scheduled_job_now(
    harness: Harness, platform: JobPlatform, effects: Effects
) -> None:
    registry = JobRegistry(platform)
    harness.runner(platform)
    job_id = platform.enqueue("email", "t.record", "later", eta=utcnow() + dt.timedelta(hours=1))
    assert _state(registry, job_id) == "scheduled"
    assert registry.promote([job_id]) == [job_id]
    wait_until(lambda: _state(registry, job_id) == "completed")
    assert effects.done == ["later"]


def test_revoke_prevents_a_run(harness: Harness, platform: JobPlatform, effects: Effects) -> None:
    registry = JobRegistry(platform)
    job_id = platform.enqueue("email", "t.record", "never")
    assert registry.revoke([job_id]) == [job_id]
    other = platform.enqueue("email", "t.record", "yes")
    harness.runner(platform)
    wait_until(lambda: _state(registry, other) == "completed")
    assert _state(registry, job_id) == "revoked"
    assert effects.done == ["yes"]
    assert registry.revoke([other]) == []  # finished jobs cannot be revoked
    kinds = [e.kind for e in registry.get(job_id).timeline]
    assert kinds[:2] == ["enqueued", "revoked"]
    assert "skipped" in kinds


def test_pause_holds_jobs_and_resume_runs_them(
    harness: Harness, platform: JobPlatform, effects: Effects, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = JobRegistry(platform)
    registry.pause("email")
    loops = WorkerLoops(monkeypatch)
    runner = harness.runner(platform)
    ids = [platform.enqueue("email", "t.record", i) for i in range(5)]
    report = platform.enqueue("reports", "t.report", "other queues still run")
    wait_until(lambda: _state(registry, report) == "dead")
    loops.wait_for_rounds(runner, "email")  # every email worker looked, with the jobs queued
    assert effects.done == []
    assert registry.paused_queues() == {"email"}
    assert all(_state(registry, i) in {"waiting", "paused"} for i in ids)
    registry.resume("email")
    wait_until(lambda: len(effects.done) == 5)
    assert sorted(effects.done) == list(range(5))  # type: ignore[type-var]
    assert {_state(registry, i) for i in ids} == {"completed"}


def test_pause_also_holds_jobs_already_queued(
    harness: Harness, platform: JobPlatform, effects: Effects, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = JobRegistry(platform)
    ids = [platform.enqueue("email", "t.record", i) for i in range(3)]
    registry.pause("email")
    assert {_state(registry, i) for i in ids} == {"paused"}
    loops = WorkerLoops(monkeypatch)
    runner = harness.runner(platform)
    loops.wait_for_rounds(runner, "email")
    assert effects.done == []
    registry.resume("email")
    wait_until(lambda: len(effects.done) == 3)


def test_duplicate_enqueues_the_same_work_again(
    harness: Harness, platform: JobPlatform, effects: Effects
) -> None:
    registry = JobRegistry(platform)
    job_id = platform.enqueue("email", "t.record", "twice", record={"invoice": 4})
    copy = registry.duplicate(job_id)
    assert copy != job_id
    assert registry.get(copy).job.invoice_id == 4
    harness.runner(platform)
    wait_until(lambda: len(effects.done) == 2)


def test_retry_failed_dry_run_reports_eligibility(harness: Harness, platform: JobPlatform) -> None:
    registry = JobRegistry(platform)
    harness.runner(platform)
    dead = platform.enqueue("email", "t.broken", "x")
    wait_until(lambda: _state(registry, dead) == "dead")
    platform.tasks.pop("t.broken")
    plan = registry.retry_failed("email", dry_run=True)
    assert plan.eligible == []
    assert "not registered" in plan.ineligible[dead]
    assert _state(registry, dead) == "dead"


def test_clean_counts_workers_and_throughput(harness: Harness, platform: JobPlatform) -> None:
    registry = JobRegistry(platform)
    harness.runner(platform)
    ids = [platform.enqueue("email", "t.record", i) for i in range(4)]
    dead = platform.enqueue("email", "t.broken", "x")
    wait_until(lambda: registry.counts()["email"]["completed"] == 4)
    wait_until(lambda: _state(registry, dead) == "dead")
    counts = registry.counts()
    assert counts["email"]["completed"] == 4
    assert counts["email"]["dead"] == 1
    assert set(counts) >= {"email", "reports", "reminders", "notifications"}
    stats = registry.throughput(5)
    assert len(stats.minutes) == 5
    assert sum(c for _, c, _ in stats.minutes) == 4
    assert sum(f for _, _, f in stats.minutes) == 1
    assert stats.run_p50_ms is not None
    assert stats.wait_p95_ms is not None
    # A heartbeat can be late on a loaded machine: wait for one, do not sample once.
    (worker,) = wait_until(lambda: [w for w in registry.workers() if w.alive], timeout=15)
    assert worker.id == platform.worker_id
    assert worker.queues == list(platform.queues)
    assert registry.clean("email", "completed") == 4
    assert registry.clean("email", "dead", dt.timedelta(days=1)) == 0
    with pytest.raises(ValueError, match="finished"):
        registry.clean("email", "waiting")
    assert [j.id for j in registry.search(queue="email")] == [dead]
    assert set(ids).isdisjoint(j.id for j in registry.search())


def test_progress_is_recorded(harness: Harness, platform: JobPlatform) -> None:
    registry = JobRegistry(platform)
    seen = threading.Event()
    release = threading.Event()

    def slow(job):  # type: ignore[no-untyped-def]
        job.progress(40, "halfway")
        seen.set()
        release.wait(5)

    platform.register(TaskSpec("t.slow", slow, "email", context=True))
    harness.runner(platform)
    job_id = platform.enqueue("email", "t.slow")
    assert seen.wait(5)
    job = registry.get(job_id).job
    assert (job.state, job.progress, job.progress_message) == ("active", 40, "halfway")
    assert registry.workers()[0].current_jobs == [job_id]
    release.set()
    wait_until(lambda: _state(registry, job_id) == JobState.COMPLETED)


def _finished_long_ago(platform: JobPlatform, *job_ids: str) -> None:
    long_ago = utcnow() - dt.timedelta(days=30)
    if platform.engine.dialect.name == "sqlite":
        long_ago = long_ago.replace(tzinfo=None)
    with platform.engine.begin() as conn:
        for job_id in job_ids:
            conn.execute(
                text("update job set finished_at = :t where id = :id"),
                {"t": long_ago, "id": job_id},
            )


def test_retention_removes_old_completed_jobs_only(
    harness: Harness, platform: JobPlatform, effects: Effects
) -> None:
    registry = JobRegistry(platform)
    runner = harness.runner(platform)
    old = platform.enqueue("email", "t.record", "old")
    fresh = platform.enqueue("email", "t.record", "fresh")
    dead = platform.enqueue("email", "t.broken", "kept until cleaned")
    wait_until(lambda: registry.counts()["email"]["completed"] == 2)
    wait_until(lambda: _state(registry, dead) == "dead")
    runner.stop()  # its own purge (at start, then hourly) must not race the one below
    _finished_long_ago(platform, old, dead)
    assert runner.purge_expired() == 1
    assert {j.id for j in registry.search()} == {fresh, dead}


def test_a_runner_applies_the_retention_when_it_starts(
    harness: Harness, platform: JobPlatform, effects: Effects
) -> None:
    """Not an hour after its start: a worker restarted every night still purges."""
    registry = JobRegistry(platform)
    first = harness.runner(platform)
    old = platform.enqueue("email", "t.record", "old")
    fresh = platform.enqueue("email", "t.record", "fresh")
    wait_until(lambda: registry.counts()["email"]["completed"] == 2)
    first.stop()
    _finished_long_ago(platform, old)
    harness.runner(platform)
    wait_until(lambda: {j.id for j in registry.search()} == {fresh}, timeout=15)


def test_a_claim_that_fails_on_the_database_is_retried_later_not_spun(
    harness: Harness, effects: Effects, caplog: pytest.LogCaptureFixture
) -> None:
    platform = harness.platform(claim_retry_delay=0.5)
    platform.register(TaskSpec("t.record", effects.record, "email"))
    registry = JobRegistry(platform)
    harness.runner(platform)
    # Take the registry away under the runner: every claim now fails on the database.
    with harness.engine.begin() as conn:
        conn.execute(text("ALTER TABLE job_paused_queue RENAME TO job_paused_queue_away"))
    caplog.set_level(logging.DEBUG, logger="jobs.execution")
    job_id = platform.enqueue("email", "t.record", "once")
    platform.writer.flush()

    def attempts() -> list[logging.LogRecord]:  # one record per failed claim
        return [
            r
            for r in list(caplog.records)
            if r.name == "jobs.execution" and job_id in r.getMessage()
        ]

    wait_until(lambda: len(attempts()) >= 3)
    ours = attempts()[:3]
    logged = [r for r in ours if r.levelno >= logging.INFO]
    assert len(logged) == 1  # once per job, not once per spin
    assert "tried again" in logged[0].getMessage()
    gaps = [later.created - earlier.created for earlier, later in itertools.pairwise(ours)]
    assert min(gaps) >= 0.4  # each retry waits claim_retry_delay (0.5 s): not a hot loop
    assert effects.done == []
    with harness.engine.begin() as conn:
        conn.execute(text("ALTER TABLE job_paused_queue_away RENAME TO job_paused_queue"))
    wait_until(lambda: _state(registry, job_id) == "completed")
    assert effects.done == ["once"]
    detail = registry.get(job_id)
    assert detail.job.attempts == 1
    assert "swept" not in [e.kind for e in detail.timeline]


def test_retries_wait_their_backoff_delay(harness: Harness, effects: Effects) -> None:
    """The delay between attempts is the policy's, growing by its factor.

    It fails if the delay were zero, or the same after every failure: the scheduler reads
    its schedule once a second, so a retry may start up to ~1 s late, and the second delay
    (2 s) is more than the first (0.4 s) plus that.
    """
    platform = harness.platform()
    policy = RetryPolicy(max_attempts=3, base_delay=0.4, factor=5, max_delay=5, jitter=0)

    def flaky(key: str) -> str:
        if effects.count(key) < 3:
            raise TransientError("not yet")
        return "ok"

    platform.register(TaskSpec("t.backoff", flaky, "email", policy=policy))
    registry = JobRegistry(platform)
    harness.runner(platform)
    job_id = platform.enqueue("email", "t.backoff", "b")
    wait_until(lambda: _state(registry, job_id) == "completed", timeout=20)
    timeline = registry.get(job_id).timeline
    retried = [e.at for e in timeline if e.kind == "retrying"]
    started = [e.at for e in timeline if e.kind == "started"]
    assert len(retried) == 2
    assert len(started) == 3
    gaps = [(started[i + 1] - retried[i]).total_seconds() for i in range(2)]
    assert gaps[0] >= 0.4 - 0.05
    assert gaps[1] >= 2.0 - 0.05
