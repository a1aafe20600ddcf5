"""The monitor's reads: queue cards, failure triage and job logs, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from jobs import JobContext, PermanentError, TaskSpec
from jobs.monitor import MonitorReader, error_signature
from jobs.platform import JobPlatform
from jobs.registry import JobRegistry
from tests.jobs.conftest import Harness, wait_until


@pytest.fixture
def harness(any_db_harness: Harness) -> Harness:
    return any_db_harness


@pytest.fixture
def platform(harness: Harness) -> JobPlatform:
    p = harness.platform()

    def fine(value: str, job: JobContext) -> str:
        job.log(f"working on {value}")
        job.log("x" * 5000)
        return value

    def broken(address: str, code: int) -> None:
        raise PermanentError(f"recipient {address} refused with code {code}")

    def other(item: int) -> None:
        raise KeyError(f"no item {item}")

    p.register(TaskSpec("t.fine", fine, "email", context=True))
    p.register(TaskSpec("t.broken", broken, "email"))
    p.register(TaskSpec("t.other", other, "reports"))
    return p


@pytest.mark.parametrize(
    ("message", "signature"),
    [
        (
            "recipient ada@example.org refused with code 550",
            "X: recipient <email> refused with code <n>",
        ),
        ("job 7f3e2a10-1b2c-4d5e-8f90-a1b2c3d4e5f6 lost", "X: job <id> lost"),
        ("connect to 10.0.0.7:6379 failed after 1.5 s", "X: connect to <ip> failed after <n> s"),
        ("GET https://hooks.example.org/a?id=3 returned 503", "X: GET <url> returned <n>"),
        ("digest deadbeef0123 mismatch", "X: digest <hex> mismatch"),
        ("  spaced \n  out  ", "X: spaced out"),
        ("", "X"),
    ],
)
def test_error_signature_normalises_ids_numbers_and_addresses(message: str, signature: str) -> None:
    assert error_signature("X", message) == signature


def test_error_signature_keeps_words_with_hex_letters() -> None:
    # "deadline" and "facade" are words, not ids: only hex runs with a digit are replaced.
    assert error_signature("E", "deadline passed at facade") == "E: deadline passed at facade"


def test_failure_groups_by_signature_with_counts_times_and_example(
    harness: Harness, platform: JobPlatform
) -> None:
    registry = JobRegistry(platform)
    reader = MonitorReader(registry)
    harness.runner(platform)
    refused = [
        platform.enqueue("email", "t.broken", f"owner{i}@example.org", 550 + i) for i in range(3)
    ]
    missing = platform.enqueue("reports", "t.other", 42)
    ok = platform.enqueue("email", "t.fine", "a")
    every = [*refused, missing, ok]
    wait_until(lambda: all(registry.get(j).job.state in ("dead", "completed") for j in every))
    groups = reader.failure_groups()
    assert [(g.signature, g.count) for g in groups] == [
        ("jobs.policy.PermanentError: recipient <email> refused with code <n>", 3),
        ("KeyError: 'no item <n>'", 1),
    ]
    first = groups[0]
    assert sorted(first.job_ids) == sorted(refused)
    assert first.example_id == refused[-1]  # the newest
    assert first.example_message == "recipient owner2@example.org refused with code 552"
    assert first.first_seen <= first.last_seen
    assert (first.queues, first.tasks, first.dead) == (("email",), ("t.broken",), 3)
    assert [g.signature for g in reader.failure_groups("reports")] == ["KeyError: 'no item <n>'"]
    # Retrying a whole group makes its jobs leave triage (they fail again and come back).
    assert sorted(registry.retry(first.job_ids)) == sorted(refused)


def test_overview_counts_throughput_badges_and_percentiles(
    harness: Harness, platform: JobPlatform
) -> None:
    registry = JobRegistry(platform)
    reader = MonitorReader(registry)
    before = {card.queue: card for card in reader.overview()}
    assert before["email"].no_workers  # nothing runs jobs yet
    registry.pause("reports")
    harness.runner(platform)
    ids = [platform.enqueue("email", "t.fine", str(i)) for i in range(4)]
    dead = platform.enqueue("email", "t.broken", "x@example.org", 1)
    wait_until(lambda: all(registry.get(j).job.state == "completed" for j in ids))
    wait_until(lambda: registry.get(dead).job.state == "dead")
    wait_until(lambda: not {c.queue: c for c in reader.overview()}["email"].no_workers)
    cards = {card.queue: card for card in reader.overview(minutes=60)}
    email = cards["email"]
    assert email.counts["completed"] == 4
    assert email.counts["dead"] == 1
    assert email.failures == 1
    assert email.failed_recently == 1
    assert len(email.minutes) == 60
    assert sum(done for _, done, _ in email.minutes) == 4
    assert sum(failed for _, _, failed in email.minutes) == 1
    assert email.minutes[-1][1] + email.minutes[-2][1] == 4  # this minute (or the last)
    assert email.run_p50_ms is not None
    assert email.run_p95_ms is not None
    assert email.run_p50_ms <= email.run_p95_ms
    assert email.wait_p50_ms is not None
    reports = cards["reports"]
    assert reports.paused
    assert not reports.no_workers
    assert list(cards) == sorted(cards)
    with pytest.raises(ValueError, match="minutes/recent"):
        reader.overview(minutes=0)


def test_job_log_lines_are_kept_in_order_and_cut(harness: Harness, platform: JobPlatform) -> None:
    registry = JobRegistry(platform)
    reader = MonitorReader(registry)
    harness.runner(platform)
    job_id = platform.enqueue("email", "t.fine", "rex")
    wait_until(lambda: registry.get(job_id).job.state == "completed")
    lines = [text for _at, text in reader.logs(job_id)]
    assert lines[0] == "working on rex"
    assert lines[1] == "x" * 2000
    with pytest.raises(LookupError, match="no-such-job: no such job"):
        reader.logs("no-such-job")


def test_job_view_summarises_large_data_and_splits_logs_from_the_timeline(
    harness: Harness, platform: JobPlatform
) -> None:
    from jobs.monitor import DATA_LIMIT, DATA_PREVIEW

    registry = JobRegistry(platform)
    reader = MonitorReader(registry)
    harness.runner(platform)
    small = platform.enqueue("email", "t.fine", "rex")
    big = platform.enqueue("email", "t.fine", "P" * (DATA_LIMIT + 10))
    wait_until(lambda: all(registry.get(j).job.state == "completed" for j in (small, big)))
    view = reader.job_view(small)
    assert view.data == {"args": ["rex"], "kwargs": {}}
    assert view.fields["state"] == "completed"
    assert "args" not in view.fields
    assert view.timeline[0][1] == "enqueued"
    assert "log" not in {kind for _at, kind, _d, _w in view.timeline}
    assert view.logs[0][1] == "working on rex"
    large = reader.job_view(big)
    assert large.data is None
    assert large.data_size > DATA_LIMIT
    assert large.data_preview.startswith('["PPP')
    assert len(large.data_preview) == DATA_PREVIEW
    with pytest.raises(LookupError, match="no such job"):
        reader.job_view("nope")


def test_workers_view_shows_live_workers_and_their_running_jobs(
    harness: Harness, platform: JobPlatform
) -> None:
    import threading

    release = threading.Event()

    def slow(job: JobContext) -> None:
        release.wait(10)

    platform.register(TaskSpec("t.slow", slow, "email", context=True))
    registry = JobRegistry(platform)
    reader = MonitorReader(registry)
    harness.runner(platform)
    job_id = platform.enqueue("email", "t.slow")
    wait_until(lambda: registry.get(job_id).job.state == "active")
    try:
        rows = wait_until(lambda: [r for r in reader.workers_view() if r["current"]])
        assert rows[0]["status"] == "live"
        assert f"t.slow {job_id[:8]}" in rows[0]["current"]
        assert rows[0]["threads"] >= 1
        assert "email" in rows[0]["queues"]
    finally:
        release.set()


def test_card_percentiles_match_statistics_over_each_queue_s_newest_jobs(
    harness: Harness, platform: JobPlatform
) -> None:
    """The database ranks the values; the figures are statistics.quantiles' (inclusive),
    over the newest PERCENTILE_SAMPLE finished jobs of each queue in the hour."""
    import datetime as dt
    import random
    import uuid

    from sqlalchemy import insert

    from jobs.monitor import PERCENTILE_SAMPLE
    from jobs.registry import JOB, _percentile

    rng = random.Random(3)
    now = dt.datetime.now(dt.UTC)
    sizes = {"email": 1, "reports": 2, "reminders": 157, "notifications": PERCENTILE_SAMPLE + 300}
    expected: dict[str, tuple[list[float], list[float]]] = {}
    rows = []
    for queue, size in sizes.items():
        jobs = []
        for number in range(size):
            finished = now - dt.timedelta(seconds=rng.uniform(1, 3000))
            wait = None if number % 11 == 5 else round(rng.uniform(1, 5000), 3)
            run = round(rng.expovariate(1 / 300), 3)
            jobs.append((finished, number, wait, run))
            rows.append(
                {
                    "id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "queue": queue,
                    "task": "t.fine",
                    "args": [],
                    "kwargs": {},
                    "state": "completed" if number % 9 else "dead",
                    "token": "t",
                    "seq": number,
                    "enqueued_at": finished,
                    "finished_at": finished,
                    "wait_ms": wait,
                    "duration_ms": run,
                }
            )
        newest = sorted(jobs, key=lambda j: (-j[0].timestamp(), j[1]))[:PERCENTILE_SAMPLE]
        expected[queue] = (
            [w for _f, _n, w, _r in newest if w is not None],
            [r for _f, _n, _w, r in newest],
        )
    with platform.engine.begin() as conn:
        conn.execute(insert(JOB), rows)
    cards = {card.queue: card for card in MonitorReader(JobRegistry(platform)).overview()}
    for queue, (waits, runs) in expected.items():
        card = cards[queue]
        got = (card.wait_p50_ms, card.wait_p95_ms, card.run_p50_ms, card.run_p95_ms)
        want = (
            _percentile(waits, 50),
            _percentile(waits, 95),
            _percentile(runs, 50),
            _percentile(runs, 95),
        )
        assert got == pytest.approx(want, rel=1e-9), queue
    assert cards["events"].run_p50_ms is None  # no finished job


def test_triage_reuses_its_groups_until_a_job_fails_or_is_retried(
    harness: Harness, platform: JobPlatform
) -> None:
    registry = JobRegistry(platform)
    reader = MonitorReader(registry)
    harness.runner(platform)
    first = platform.enqueue("email", "t.broken", "a@example.org", 1)
    wait_until(lambda: registry.get(first).job.state == "dead")
    groups = reader.failure_groups()
    assert [g.count for g in groups] == [1]
    assert reader.failure_groups() is groups  # nothing new: not regrouped
    second = platform.enqueue("email", "t.broken", "b@example.org", 2)
    wait_until(lambda: registry.get(second).job.state == "dead")
    grown = reader.failure_groups()
    assert [g.count for g in grown] == [2]
    assert reader.failure_groups() is grown
    import datetime as dt

    registry.clean("email", "dead", dt.timedelta(0))  # the failed jobs are gone: regrouped
    assert reader.failure_groups() == []


def test_periodic_shows_each_schedule_s_last_outcome_and_next_run(
    harness: Harness, platform: JobPlatform
) -> None:
    import datetime as dt

    from jobs.monitor import Schedule

    registry = JobRegistry(platform)
    reader = MonitorReader(registry)
    every_5_min = Schedule("Fine", "t.fine", 300.0, aligned=True)
    after_work = Schedule("Broken", "t.broken", 15.0, aligned=False)
    never = Schedule("Never", "t.other", 60.0, aligned=False)
    harness.runner(platform)
    platform.enqueue("email", "t.fine", "a")
    dead = platform.enqueue("email", "t.broken", "x@example.org", 9)
    wait_until(lambda: registry.get(dead).job.state == "dead")
    fine, broken, idle = reader.periodic([every_5_min, after_work, never])
    assert fine.last_state == "completed"
    assert fine.runs == 1
    assert fine.failures == 0
    assert fine.next_run is not None
    assert fine.next_run.timestamp() % 300 == 0  # on the clock
    assert 0 < (fine.next_run - dt.datetime.now(dt.UTC)).total_seconds() <= 300
    assert broken.last_job_id == dead
    assert broken.last_state == "dead"
    assert broken.failures == 1
    assert broken.last_error == "recipient x@example.org refused with code 9"
    assert broken.last_enqueued is not None
    assert broken.next_run is not None
    assert broken.next_run >= broken.last_enqueued + dt.timedelta(seconds=15)
    assert (idle.last_job_id, idle.last_state, idle.next_run, idle.runs) == (None, None, None, 0)
