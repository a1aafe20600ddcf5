"""Real consumer processes on a real Redis: outages, killed workers, two workers, tampering."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
import redis
from sqlalchemy import text

from jobs.platform import JobPlatform, TaskSpec
from jobs.recorder import new_seq
from jobs.registry import JobRegistry
from tests.jobs import worker_tasks
from tests.jobs.conftest import KEY, Harness, wait_until
from tests.support.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.redis, pytest.mark.slow]


class Workers:
    """``purplecross worker`` processes started by a test, stopped at its end."""

    def __init__(self, tmp_path: Path, db_url: str, redis_url: str, effects: Path) -> None:
        self.tmp_path = tmp_path
        self.env = {
            **os.environ,
            "PURPLECROSS_DATABASE_URL": db_url,
            "PURPLECROSS_REDIS_URL": redis_url,
            "PURPLECROSS_JOB_SIGNING_KEY": KEY.decode(),
            "PURPLECROSS_DATA_DIR": str(tmp_path / "worker-data"),
            worker_tasks.EFFECTS_ENV: str(effects),
        }
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, *extra: str, module: str = "purplecross_desktop") -> subprocess.Popen[bytes]:
        log_path = self.tmp_path / f"worker-{len(self.processes)}.log"
        with log_path.open("wb") as log:
            return self._spawn(log, extra, module)

    def _spawn(
        self, log: IO[bytes], extra: tuple[str, ...], module: str
    ) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                module,
                "worker",
                "--queue",
                "email",
                "--workers",
                "2",
                "--heartbeat",
                "0.2",
                "--heartbeat-timeout",
                "1",
                "--shutdown-timeout",
                "3",
                "--register",
                "tests.jobs.worker_tasks:register",
                *extra,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def effects_file(tmp_path: Path) -> Path:
    path = tmp_path / "effects.db"
    worker_tasks.init_effects(path)
    os.environ[worker_tasks.EFFECTS_ENV] = str(path)
    return path


def _workers(
    tmp_path: Path, harness: Harness, redis_url: str, effects_file: Path
) -> Iterator[Workers]:
    workers = Workers(
        tmp_path, harness.engine.url.render_as_string(hide_password=False), redis_url, effects_file
    )
    yield workers
    workers.stop_all()


@pytest.fixture
def private_workers(
    tmp_path: Path, harness: Harness, redis_server: RedisServer, effects_file: Path
) -> Iterator[Workers]:
    yield from _workers(tmp_path, harness, redis_server.url, effects_file)


@pytest.fixture
def shared_workers(
    tmp_path: Path, harness: Harness, redis_url: str, effects_file: Path
) -> Iterator[Workers]:
    yield from _workers(tmp_path, harness, redis_url, effects_file)


def _platform(harness: Harness, url: str) -> JobPlatform:
    platform = harness.platform(url)
    worker_tasks.register(platform)
    return platform


@contextlib.contextmanager
def _skewed_worker(
    tmp_path: Path, postgres_url: str, redis_url: str, effects_file: Path, skew: float
) -> Iterator[tuple[Harness, JobPlatform, JobRegistry]]:
    """A registry on PostgreSQL and one worker process whose clock is ``skew`` seconds off."""
    harness = Harness(tmp_path, postgres_url)
    workers = Workers(
        tmp_path,
        harness.engine.url.render_as_string(hide_password=False),
        redis_url,
        effects_file,
    )
    try:
        platform = _platform(harness, redis_url)
        workers.env["PC_TEST_CLOCK_SKEW"] = str(skew)
        workers.start(module="tests.jobs.skewed_worker")
        yield harness, platform, JobRegistry(platform)
    finally:
        workers.stop_all()
        harness.close()


def test_no_job_is_lost_when_redis_is_killed_mid_run(
    harness: Harness, redis_server: RedisServer, private_workers: Workers, effects_file: Path
) -> None:
    platform = _platform(harness, redis_server.url)
    registry = JobRegistry(platform)
    private_workers.start()
    private_workers.start()
    keys = [f"job-{i}" for i in range(1000)]
    for key in keys[:400]:
        platform.enqueue("email", "test.effect", key, idempotency_key=key)
    redis_server.kill()
    for key in keys[400:600]:  # the broker is down: these wait in the outbox
        platform.enqueue("email", "test.effect", key, idempotency_key=key)
    assert registry.counts()["email"]["outbox"] >= 200
    redis_server.start()
    for key in keys[600:]:
        platform.enqueue("email", "test.effect", key, idempotency_key=key)
    wait_until(lambda: registry.counts()["email"]["completed"] == 1000, timeout=120)
    assert set(worker_tasks.effects(effects_file)) == set(keys)
    # Counted per run, not per effect (the effects table's key would hide a second run):
    # no worker died here, so the claim let each job run exactly once.
    runs = Counter(k for k, _ in worker_tasks.runs(effects_file))
    assert set(runs) == set(keys)
    assert max(runs.values()) == 1


@pytest.fixture
def any_db_workers(
    tmp_path: Path, any_db_harness: Harness, redis_url: str, effects_file: Path
) -> Iterator[Workers]:
    yield from _workers(tmp_path, any_db_harness, redis_url, effects_file)


def test_two_worker_processes_run_each_job_once(
    any_db_harness: Harness, redis_url: str, any_db_workers: Workers, effects_file: Path
) -> None:
    """On SQLite (a workstation) and PostgreSQL (the clinic server).

    Every message is in the queue twice, as a redelivery would put it there (a dispatch
    repeated after a lost epoch, a sweep racing a slow worker): the two workers take the
    two copies at about the same time, and only the claim keeps the second from running.
    The check counts runs, not effects (the effects table's primary key would hide a
    second run).
    """
    harness, shared_workers = any_db_harness, any_db_workers
    platform = _platform(harness, redis_url)
    registry = JobRegistry(platform)
    keys = [f"k{i}" for i in range(200)]
    for key in keys:
        platform.enqueue("email", "test.effect", key)
    client = redis.Redis.from_url(redis_url)
    queue_key = platform.hueys["email"].storage.queue_key
    try:
        messages = client.zrange(queue_key, 0, -1, withscores=True)
        assert len(messages) == 200
        # Huey's priority queue orders members by an 8-byte time prefix: one microsecond
        # later puts the copy right behind its original.
        copies = {
            (int.from_bytes(member[:8], "big") + 1).to_bytes(8, "big") + member[8:]: score
            for member, score in messages
        }
        assert client.zadd(queue_key, copies) == 200
        shared_workers.start()
        shared_workers.start()
        wait_until(lambda: registry.counts()["email"]["completed"] == 200, timeout=60)
        wait_until(lambda: client.zcard(queue_key) == 0, timeout=30)
    finally:
        client.close()

    def skipped() -> int:
        with harness.engine.connect() as conn:
            return int(
                conn.execute(
                    text("select count(*) from job_event where kind = 'skipped'")
                ).scalar_one()
            )

    # Every copy met the claim: it lost (skipped), or, if the claim is broken, ran again.
    wait_until(lambda: skipped() + len(worker_tasks.runs(effects_file)) >= 400, timeout=30)
    runs = worker_tasks.runs(effects_file)
    assert sorted(k for k, _ in runs) == sorted(keys)  # each ran once, none twice
    assert skipped() >= 200
    assert len({pid for _, pid in runs}) == 2  # and both workers took a share
    alive = [w for w in registry.workers() if w.alive]
    assert len(alive) == 2


@pytest.mark.parametrize(
    ("task", "expected"), [("test.slow", "completed"), ("test.slow_once", "dead")]
)
def test_a_worker_killed_mid_job_is_reaped_after_its_heartbeat_times_out(
    any_db_harness: Harness,
    redis_url: str,
    any_db_workers: Workers,
    effects_file: Path,
    task: str,
    expected: str,
) -> None:
    harness, shared_workers = any_db_harness, any_db_workers
    platform = _platform(harness, redis_url)
    registry = JobRegistry(platform)
    victim = shared_workers.start()
    job_id = platform.enqueue("email", task, "slow", 1.5)
    wait_until(lambda: registry.get(job_id).job.state == "active", timeout=20)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    harness.runner(platform)  # another runner notices the silence and takes over
    wait_until(lambda: registry.get(job_id).job.state == expected, timeout=30)
    # Not before the heartbeat timeout, counted from the victim's last heartbeat (on a
    # loaded machine that can be well before the kill) to the hand-back.
    (last_heartbeat,) = [w.last_heartbeat for w in registry.workers() if w.pid == victim.pid]
    handed_back = next(e.at for e in registry.get(job_id).timeline if e.kind in {"outbox", "dead"})
    assert handed_back - last_heartbeat >= dt.timedelta(seconds=1.0)  # --heartbeat-timeout
    job = registry.get(job_id).job
    if expected == "completed":
        assert job.attempts == 2
        assert worker_tasks.effects(effects_file) == ["slow"]
    else:
        assert job.error_class == "WorkerLost"
        assert worker_tasks.effects(effects_file) == []
    kinds = [e.kind for e in registry.get(job_id).timeline]
    assert "outbox" in kinds or "dead" in kinds


def test_sigterm_drains_running_jobs(
    harness: Harness, redis_url: str, shared_workers: Workers, effects_file: Path
) -> None:
    platform = _platform(harness, redis_url)
    registry = JobRegistry(platform)
    worker = shared_workers.start()
    job_id = platform.enqueue("email", "test.slow", "drained", 0.8)
    wait_until(lambda: registry.get(job_id).job.state == "active", timeout=20)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=15) == 0
    assert registry.get(job_id).job.state == "completed"
    assert not any(w.alive for w in registry.workers())


def test_a_tampered_message_is_refused_and_its_job_still_runs(
    harness: Harness, redis_url: str, effects_file: Path
) -> None:
    platform = harness.platform(redis_url)
    worker_tasks.register(platform)
    registry = JobRegistry(platform)
    job_id = platform.enqueue("email", "test.effect", "genuine")
    client = redis.Redis.from_url(redis_url)
    key = platform.hueys["email"].storage.queue_key
    ((member, score),) = client.zrange(key, 0, -1, withscores=True)
    client.zrem(key, member)
    client.zadd(key, {member.replace(b"test.effect", b"test.slow!!"): score})
    client.close()
    harness.runner(platform)
    # The refused copy changes nothing; the sweep finds the job missing and sends it again.
    wait_until(lambda: registry.get(job_id).job.state == "completed", timeout=20)
    assert worker_tasks.effects(effects_file) == ["genuine"]
    refused = registry.refused_payloads()
    assert len(refused) == 1
    assert "signature mismatch" in refused[0].detail
    assert job_id in refused[0].detail
    kinds = [e.kind for e in registry.get(job_id).timeline]
    assert "swept" in kinds


def test_a_forged_message_never_changes_the_job_it_names(
    any_db_harness: Harness, redis_url: str, effects_file: Path
) -> None:
    """Issue 9, case 9: an unsigned message naming a real job is refused and that is all."""
    harness = any_db_harness
    platform = harness.platform(redis_url)
    worker_tasks.register(platform)
    registry = JobRegistry(platform)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    job_id = platform.enqueue("email", "test.effect", "reminder", eta=later)
    assert registry.get(job_id).job.state == "scheduled"
    token = job_id[16:]
    forged = (
        b'{"$msg":["%s","jobs.platform.run",null,0,null,null,'
        b'{"$tuple":["%s","%s","test.effect"]},{}]}'
    )
    client = redis.Redis.from_url(redis_url)
    key = platform.hueys["email"].storage.queue_key
    prefix = bytes(8)  # Huey's priority queue orders members by an 8-byte time prefix
    client.zadd(key, {prefix + forged % (job_id.encode(), job_id.encode(), token.encode()): 0})
    client.close()
    harness.runner(platform)
    wait_until(lambda: registry.refused_payloads(), timeout=10)
    assert "no signature" in registry.refused_payloads()[0].detail
    assert job_id in registry.refused_payloads()[0].detail
    time.sleep(0.5)  # anything done after recording the refusal has landed by now
    job = registry.get(job_id).job
    assert job.state == "scheduled"
    assert job.error_class is None
    assert worker_tasks.runs(effects_file) == []


def test_the_sqlite_queue_survives_an_app_restart(harness: Harness, effects_file: Path) -> None:
    first = _platform(harness, None)  # type: ignore[arg-type]
    ids = [first.enqueue("email", "test.effect", f"r{i}") for i in range(10)]
    first.close()
    second = _platform(harness, None)  # type: ignore[arg-type]
    registry = JobRegistry(second)
    harness.runner(second)
    wait_until(lambda: {registry.get(i).job.state for i in ids} == {"completed"})
    assert sorted(worker_tasks.effects(effects_file)) == sorted(f"r{i}" for i in range(10))


def test_an_app_closing_mid_job_leaves_it_to_run_again(
    harness: Harness, effects_file: Path
) -> None:
    first = _platform(harness, None)  # type: ignore[arg-type]
    registry = JobRegistry(first)
    runner = harness.runner(first, shutdown_timeout=0.2)
    job_id = first.enqueue("email", "test.slow", "interrupted", 1.0)
    wait_until(lambda: registry.get(job_id).job.state == "active")
    runner.stop()
    assert registry.get(job_id).job.state in {"outbox", "waiting"}
    second = _platform(harness, None)  # type: ignore[arg-type]
    harness.runner(second)
    wait_until(lambda: registry.get(job_id).job.state == "completed", timeout=20)
    assert worker_tasks.effects(effects_file) == ["interrupted"]


def test_no_second_email_when_a_worker_dies_between_send_and_ack(
    harness: Harness,
    redis_url: str,
    shared_workers: Workers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from purplecross_desktop.jobs_wiring import build_job_platform
    from purplecross_desktop.settings import load_settings
    from tests.jobs.conftest import FAST
    from tests.jobs.smtp_server import SmtpServer

    with SmtpServer() as server:
        env = {
            "PURPLECROSS_SMTP_HOST": "127.0.0.1",
            "PURPLECROSS_SMTP_PORT": str(server.port),
            "PURPLECROSS_SMTP_TLS": "none",
            "PURPLECROSS_REDIS_URL": redis_url,
            "PURPLECROSS_JOB_SIGNING_KEY": KEY.decode(),
        }
        shared_workers.env.update(env)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        victim = shared_workers.start()
        # The server takes the message, then the worker dies before it hears "250".
        server.inbox.on_data = victim.kill
        platform = build_job_platform(load_settings(), harness.engine, **FAST)
        harness.platforms.append(platform)
        service = platform.services["email"]
        context = {"client_name": "Ada", "patient_name": "Rex", "appointment_time": "9:00"}
        job_id = service.queue("ada@example.org", "Hi", "appointment_reminder", context, (), "k1")
        assert victim.wait(timeout=30) == -signal.SIGKILL
        server.inbox.on_data = None
        registry = JobRegistry(platform)
        assert registry.get(job_id).job.state == "active"
        harness.runner(platform)  # reaps the dead worker's job and runs it again
        wait_until(lambda: registry.get(job_id).job.state == "completed", timeout=30)
        job = registry.get(job_id).job
        assert job.attempts == 2
        assert (job.result_summary or "").startswith("not re-sent")
        assert len(server.inbox.messages) == 1
        entry = service.log_entry("k1")
        assert entry["status"] == "unknown"


def test_a_message_taken_but_never_claimed_is_dispatched_again(
    harness: Harness, redis_url: str, effects_file: Path
) -> None:
    platform = _platform(harness, redis_url)
    registry = JobRegistry(platform)
    job_id = platform.enqueue("email", "test.effect", "swept")
    # A worker pops the message and dies before it records its claim.
    client = redis.Redis.from_url(redis_url)
    assert client.zpopmin(platform.hueys["email"].storage.queue_key)
    client.close()
    assert registry.get(job_id).job.state == "waiting"
    harness.runner(platform)  # its sweep notices the job is in neither place
    wait_until(lambda: registry.get(job_id).job.state == "completed", timeout=20)
    assert worker_tasks.effects(effects_file) == ["swept"]
    assert "swept" in [e.kind for e in registry.get(job_id).timeline]


@pytest.mark.postgres
@pytest.mark.parametrize("skew", [-60.0, 60.0])
def test_a_worker_whose_clock_is_off_is_neither_reaped_nor_reaping(
    tmp_path: Path, postgres_url: str, redis_url: str, effects_file: Path, skew: float
) -> None:
    """Issue 9, case 5: heartbeats are written and judged with the database's clock.

    A worker whose clock is a minute behind (or ahead) runs a 3-second job while an
    honest runner watches, and watches the honest runner's own 3-second job: each job
    runs once, and its timeline records one run. Behind, its heartbeats would look a
    minute old to the honest runner (reaped); ahead, the honest runner's heartbeats would
    look a minute old to it (reaping), if either side used its own clock.
    """
    with _skewed_worker(tmp_path, postgres_url, redis_url, effects_file, skew) as (
        harness,
        platform,
        registry,
    ):
        platform.register(TaskSpec("test.slow_report", worker_tasks.slow_effect, "reports"))
        job_id = platform.enqueue("email", "test.slow", "skewed", 3.0)
        wait_until(lambda: registry.get(job_id).job.state == "active", timeout=20)
        harness.runner(platform, queues=["reports"])  # reaps dead workers of every queue
        honest = platform.enqueue("reports", "test.slow_report", "honest", 3.0)
        wait_until(lambda: registry.get(honest).job.state == "active", timeout=20)
        for job in (job_id, honest):
            wait_until(lambda job=job: registry.get(job).job.state == "completed", timeout=30)
            detail = registry.get(job)
            assert detail.job.attempts == 1, job
            assert [e.kind for e in detail.timeline].count("completed") == 1
            assert "outbox" not in [e.kind for e in detail.timeline]
        runs = sorted(k for k, _ in worker_tasks.runs(effects_file))
        assert runs == ["honest", "skewed", "started:honest", "started:skewed"]


@pytest.mark.postgres
def test_a_stray_job_of_a_worker_whose_clock_is_behind_runs_again_on_time(
    tmp_path: Path, postgres_url: str, redis_url: str, effects_file: Path
) -> None:
    """Issue 9, case 5: "active with no thread" is judged with the database's clock too.

    A job recorded as claimed by a worker whose clock is a minute behind, with no thread
    of it running the job (a claim recorded and never executed), is handed back after the
    heartbeat timeout (1 s), not a minute later.
    """
    with _skewed_worker(tmp_path, postgres_url, redis_url, effects_file, -60) as (
        _harness,
        platform,
        registry,
    ):
        (worker,) = wait_until(lambda: [w for w in registry.workers() if w.alive], timeout=20)
        job_id = "5" * 32
        row = {
            "id": job_id,
            "queue": "email",
            "task": "test.effect",
            "args": ["stray"],
            "kwargs": {},
            "state": "waiting",
            "attempts": 0,
            "max_attempts": 3,
            "priority": 0,
            "repeatable": True,
            "idempotency_key": None,
            "token": "t0ken",
            "seq": new_seq(),
        }
        assert platform.recorder.insert_job(row)  # no message: nothing else claims it
        assert platform.recorder.claim(job_id, "t0ken", worker.id, "email") is not None
        wait_until(lambda: registry.get(job_id).job.state == "completed", timeout=20)
        assert "outbox" in [e.kind for e in registry.get(job_id).timeline]
        assert worker_tasks.effects(effects_file) == ["stray"]
