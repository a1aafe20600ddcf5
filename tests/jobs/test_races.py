"""Races between an enqueuer, its message and the workers, repeated until they would show.

A race that loses one run in seven passes a single run most of the time; each scenario
here runs many times inside one test, so that the old code fails it reliably.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert, select

import jobs
from jobs.email import EmailService, SmtpConfig
from jobs.email_templates import ClinicInfo
from jobs.models import JobState
from jobs.platform import JobPlatform, TaskSpec
from jobs.queues import EMAIL
from jobs.recorder import JOB, new_seq
from jobs.registry import JobRegistry
from purplecross_desktop.database.base import utcnow
from tests.jobs.conftest import Harness, wait_until

pytestmark = [pytest.mark.redis]

CONTEXT = {"client_name": "Ada", "patient_name": "Rex", "appointment_time": "Mon 9:00"}
RUNS = 30


def _email_family(platform: JobPlatform, outbox: Path) -> EmailService:
    service = EmailService(
        platform, SmtpConfig(host=None, outbox_dir=outbox), ClinicInfo("Vets", "1 High St", "555")
    )
    platform.register(TaskSpec("email.send", service.send, EMAIL, context=True))
    platform.services["email"] = service
    return service


def test_a_job_that_queues_an_email_with_a_key_always_gets_it_sent(
    any_db_harness: Harness, redis_url: str, tmp_path: Path
) -> None:
    """Issue 19: the nested enqueue a new job family makes, 30 times, on SQLite and PostgreSQL.

    The email's message reaches an idle worker before (or while) its enqueuer writes the
    row; whichever side writes the row first, the email must run exactly once and no job
    may be left ``active`` with nobody running it.
    """
    harness = any_db_harness
    platform = harness.platform(redis_url)
    service = _email_family(platform, tmp_path / "outbox")

    def remind(n: int) -> str:
        return jobs.queue_email(
            "ada@example.org", "Reminder", "appointment_reminder", CONTEXT, idempotency_key=f"r{n}"
        )

    platform.register(TaskSpec("test.remind", remind, "reminders"))
    registry = JobRegistry(platform)
    jobs.configure(platform)
    try:
        harness.runner(platform, queues=["reminders", "email"], concurrency={"email": 2})
        outer = [platform.enqueue("reminders", "test.remind", n) for n in range(RUNS)]

        def settled() -> bool:
            states = {registry.get(j).job.state for j in outer}
            return states == {"completed"}

        wait_until(settled, timeout=30)
        emails = [registry.get(j).job.result_summary for j in outer]
        assert all(emails)

        def stuck() -> list[tuple[str, str]]:
            rows = [registry.get(e or "").job for e in emails]
            return [(r.id, r.state) for r in rows if r.state != "completed"]

        try:
            wait_until(lambda: not stuck(), timeout=15)
        except AssertionError:
            pytest.fail(f"emails not completed: {stuck()}")
        for n in range(RUNS):
            entry = service.log_entry(f"r{n}")
            assert entry is not None
            assert entry["status"] == "outbox"
            assert entry["attempts"] == 1
        assert len(list((tmp_path / "outbox").glob("*.eml"))) == RUNS
    finally:
        jobs.configure(None)


def _row(job_id: str, token: str, state: str) -> dict[str, Any]:
    return {
        "id": job_id,
        "queue": "email",
        "task": "t.any",
        "args": [],
        "kwargs": {},
        "state": state,
        "attempts": 0,
        "max_attempts": 1,
        "priority": 0,
        "repeatable": True,
        "idempotency_key": None,
        "token": token,
        "seq": new_seq(),
        "client_id": None,
        "patient_id": None,
        "appointment_id": None,
        "invoice_id": None,
    }


@pytest.mark.postgres
def test_a_row_committed_between_the_claims_update_and_its_select_is_claimed(
    tmp_path: Path, postgres_url: str
) -> None:
    """Issue 19, cause 2: not "held, queue paused" on a queue that is not paused.

    SQLite lets one writer in at a time, so only PostgreSQL can interleave here; the
    enqueuer's commit is made to land exactly between the claim's two statements.
    """
    harness = Harness(tmp_path, postgres_url)
    try:
        recorder = harness.platform().recorder
        row = _row("a" * 32, "t0ken", JobState.WAITING.value)
        landed: list[str] = []

        def enqueuer_commits(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            if not landed and statement.lstrip().upper().startswith("SELECT JOB.STATE"):
                landed.append(statement)
                with harness.engine.connect() as other, other.begin():
                    other.execute(insert(JOB).values(enqueued_at=utcnow(), **row))

        event.listen(harness.engine, "before_cursor_execute", enqueuer_commits)
        try:
            claimed = recorder.claim(row["id"], row["token"], "w1", "email")
        finally:
            event.remove(harness.engine, "before_cursor_execute", enqueuer_commits)
        assert landed  # the commit did land between the UPDATE and the SELECT
        assert claimed is not None
        assert claimed.attempt == 1
        with harness.engine.connect() as conn:
            state, held = conn.execute(
                select(JOB.c.state, JOB.c.held).where(JOB.c.id == row["id"])
            ).one()
        assert (state, held) == ("active", False)
    finally:
        harness.close()


def test_a_message_whose_job_has_no_row_never_runs_or_creates_it(any_db_harness: Harness) -> None:
    """A worker never re-creates a job from its message (issue 9, case 1; issue 19)."""
    recorder = any_db_harness.platform().recorder
    assert recorder.claim("c" * 32, "t0ken", "w1", "email") is None
    with any_db_harness.engine.connect() as conn:
        assert conn.execute(select(JOB.c.id)).all() == []


def test_an_insert_reports_whether_it_took(any_db_harness: Harness) -> None:
    """Issue 19, cause 1: RETURNING, not rowcount (-1 for an INSERT on psycopg)."""
    recorder = any_db_harness.platform().recorder
    assert recorder.insert_job(_row("d" * 32, "t0ken", "outbox")) is True
    assert recorder.insert_job(_row("d" * 32, "t0ken", "outbox")) is False


def test_a_job_left_active_with_no_thread_running_it_runs_again(
    any_db_harness: Harness,
) -> None:
    """Issue 19: whatever leaves a job ``active`` unrun, the runner's own sweep finds it."""
    harness = any_db_harness
    platform = harness.platform()
    done: list[str] = []
    platform.register(TaskSpec("t.record", done.append, "email"))
    registry = JobRegistry(platform)
    row = _row("e" * 32, "t0ken", JobState.WAITING.value)
    row["task"] = "t.record"
    row["args"] = ["ran"]
    # What the bug did: a claim recorded for this worker, and no thread to run the job.
    assert platform.recorder.insert_job(row)
    claimed = platform.recorder.claim(row["id"], row["token"], platform.worker_id, "email")
    assert claimed is not None
    harness.runner(platform)
    wait_until(lambda: registry.get(row["id"]).job.state == "completed", timeout=15)
    assert done == ["ran"]
    assert "outbox" in [e.kind for e in registry.get(row["id"]).timeline]


def test_what_the_registry_relies_on_from_the_driver(any_db_harness: Harness) -> None:
    """UPDATE rowcounts are exact, and INSERT … RETURNING tells a conflict from an insert.

    The registry's conditional writes read an UPDATE's rowcount; an INSERT's rowcount is
    never read (it is -1 on PostgreSQL with psycopg under SQLAlchemy 2.1). If a driver
    or SQLAlchemy upgrade changes either, this fails before any job is stranded.
    """
    engine = any_db_harness.engine
    with engine.begin() as conn:
        conn.execute(insert(JOB).values(enqueued_at=utcnow(), **_row("f" * 32, "t0ken", "waiting")))
        moved = conn.execute(
            JOB.update().where(JOB.c.id == "f" * 32, JOB.c.state == "waiting").values(priority=1)
        )
        assert moved.rowcount == 1
        missed = conn.execute(
            JOB.update().where(JOB.c.id == "f" * 32, JOB.c.state == "dead").values(priority=2)
        )
        assert missed.rowcount == 0


def test_a_claim_while_an_enqueue_is_uncommitted_waits_for_the_row_on_sqlite(
    any_db_harness: Harness,
) -> None:
    """Why the enqueuer may send its message before its commit on SQLite, and not on PostgreSQL.

    On SQLite the enqueuer sends the message while its row's write transaction is open (the
    push's round trip overlaps the commit): a worker that takes the message at once must
    wait for the commit and then claim the row, not find "no row" and drop the message.
    Another process's recorder claims here (its own lock), so SQLite's lock is what holds
    it. On PostgreSQL a claim does not see an uncommitted row, so the push follows the commit.
    """
    harness = any_db_harness
    enqueuer = harness.platform().recorder
    worker = harness.platform().recorder
    row = _row("9" * 32, "t0ken", JobState.WAITING.value)
    claims: list[Any] = []
    waited: list[bool] = []

    def claim_before_commit() -> None:
        thread = threading.Thread(target=lambda: claims.append(worker.claim(*ids)))
        thread.start()
        thread.join(timeout=0.5)
        waited.append(thread.is_alive())
        threads.append(thread)

    ids = (row["id"], row["token"], "w1", "email")
    threads: list[threading.Thread] = []
    if not enqueuer.holds_writers_until_commit:
        assert harness.engine.dialect.name == "postgresql"
        # Not safe there: the claim misses the uncommitted row at once.
        enqueuer.insert_job(row, before_commit=claim_before_commit)
        assert (waited, claims) == ([False], [None])
        return
    assert enqueuer.insert_job(row, before_commit=claim_before_commit)
    threads[0].join(timeout=10)
    assert waited == [True]  # the claim waited for the commit
    assert claims[0] is not None  # and then found the row
    assert claims[0].attempt == 1
