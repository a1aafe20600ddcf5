"""``purplecross queues`` and ``purplecross jobs …`` against a real SQLite registry."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from jobs.platform import JobPlatform, TaskSpec
from jobs.registry import JobRegistry
from purplecross_desktop import cli_extensions
from purplecross_desktop.cli import cli
from purplecross_desktop.database import make_engine
from purplecross_desktop.database.base import utcnow
from purplecross_desktop.jobs_wiring import build_job_platform
from purplecross_desktop.settings import load_settings
from tests.jobs.conftest import make_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> JobPlatform:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    monkeypatch.setenv("PURPLECROSS_DATABASE_URL", url)
    monkeypatch.setenv("PURPLECROSS_DATA_DIR", str(tmp_path / "data"))
    engine = make_db(url)
    p = build_job_platform(load_settings(), engine)
    p.register(TaskSpec("t.noop", lambda *a: None, "email"))
    cli_extensions.register(cli)
    yield p  # type: ignore[misc]
    p.close()
    engine.dispose()


def _run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_queues_prints_counts_as_text_and_json(platform: JobPlatform) -> None:
    platform.enqueue("email", "t.noop", 1)
    platform.enqueue("email", "t.noop", 2)
    JobRegistry(platform).pause("reports")
    data = json.loads(_run("queues", "--json"))
    assert data["counts"]["email"]["waiting"] == 2
    assert data["paused"] == ["reports"]
    text = _run("queues")
    assert "email" in text
    assert "(paused)" in text


def test_jobs_revoke_promote_show_and_clean(platform: JobPlatform) -> None:
    registry = JobRegistry(platform)
    later = platform.enqueue("email", "t.noop", eta=utcnow() + dt.timedelta(hours=1))
    doomed = platform.enqueue("email", "t.noop", "x")
    assert "revoked 1 of 1" in _run("jobs", "revoke", doomed)
    assert "promoted 1 of 1" in _run("jobs", "promote", later)
    assert registry.get(later).job.state == "waiting"
    shown = _run("jobs", "show", doomed)
    assert "revoked" in shown
    assert '["x"]' in shown
    assert "deleted 1 revoked" in _run("jobs", "clean", "--state", "revoked")
    out = _run("jobs", "revoke", "nope")
    assert "not nope" in out


def test_jobs_retry_failed_dry_run(platform: JobPlatform) -> None:
    registry = JobRegistry(platform)
    job_id = platform.enqueue("email", "t.noop", "y")
    with platform.engine.begin() as conn:
        from sqlalchemy import text

        conn.execute(text("update job set state='dead' where id=:i"), {"i": job_id})
    out = _run("jobs", "retry", "--failed", "email", "--dry-run")
    # The CLI's platform knows the app's task kinds only, and says why it skips this one.
    assert "would retry 0" in out
    assert "t.noop is not registered" in out
    assert registry.get(job_id).job.state == "dead"
    assert "retried 1" in _run("jobs", "retry", job_id)


def test_pause_and_resume_commands(platform: JobPlatform) -> None:
    assert "paused email" in _run("jobs", "pause", "email")
    assert JobRegistry(platform).paused_queues() == {"email"}
    assert "resumed email" in _run("jobs", "resume", "email")
    result = CliRunner().invoke(cli, ["jobs", "pause", "nope"])
    assert result.exit_code != 0
    assert "queue" in result.output


def test_a_database_without_job_tables_gets_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PURPLECROSS_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    make_engine(f"sqlite:///{tmp_path / 'empty.db'}").dispose()
    cli_extensions.register(cli)
    result = CliRunner().invoke(cli, ["queues"])
    assert result.exit_code == 1
    assert "purplecross db upgrade" in result.output


def test_a_worker_on_redis_without_a_signing_key_says_how_to_set_one(
    tmp_path: Path, redis_url: str
) -> None:
    db_url = f"sqlite:///{tmp_path / 'clinic.db'}"
    make_db(db_url).dispose()
    env = {
        **os.environ,
        "PURPLECROSS_DATABASE_URL": db_url,
        "PURPLECROSS_REDIS_URL": redis_url,
        "PURPLECROSS_DATA_DIR": str(tmp_path / "data"),
    }
    env.pop("PURPLECROSS_JOB_SIGNING_KEY", None)
    result = subprocess.run(
        [sys.executable, "-m", "purplecross_desktop", "worker", "--queue", "email"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Error: job_signing_key: required when redis_url is set" in result.stderr
    assert "PURPLECROSS_JOB_SIGNING_KEY" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "job_signing.key").exists()


def test_the_app_on_redis_without_a_signing_key_stops_before_opening(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PURPLECROSS_REDIS_URL", "redis://127.0.0.1:6399/0")
    opened: list[object] = []
    # The window itself stays closed: run_app is replaced to record whether it was called.
    monkeypatch.setattr("purplecross_desktop.app.run_app", lambda s: opened.append(s) or 0)
    result = CliRunner().invoke(cli, ["run"])
    assert result.exit_code == 1
    assert "job_signing_key" in result.output
    assert "keyring" in result.output
    assert opened == []
    # With the key set, the same settings open the app.
    monkeypatch.setenv("PURPLECROSS_JOB_SIGNING_KEY", "shared-key")
    assert CliRunner().invoke(cli, ["run"]).exit_code == 0
    assert len(opened) == 1


def _fail(platform: JobPlatform, job_id: str, error: str, message: str) -> None:
    """Mark a job dead with an error, as a worker would after its last attempt."""
    from sqlalchemy import update

    from jobs.models import Job

    with platform.engine.begin() as conn:
        conn.execute(
            update(Job.__table__)  # type: ignore[arg-type]
            .where(Job.__table__.c.id == job_id)
            .values(state="dead", error_class=error, error_message=message, finished_at=utcnow())
        )


def test_jobs_list_filters_like_the_monitor_and_never_prints_args(platform: JobPlatform) -> None:
    rex = platform.enqueue("email", "t.noop", "rex@example.org", record={"client": 7})
    other = platform.enqueue("email", "t.noop", "X" * 10_000)
    dead = platform.enqueue("email", "t.noop", 3)
    _fail(platform, dead, "KeyError", "invoice 3 has no lines")

    rows = json.loads(_run("jobs", "list", "--json"))
    assert [r["id"] for r in rows] == [dead, other, rex]  # newest first
    assert "args" not in rows[0]
    assert rows[0]["error"] == "invoice 3 has no lines"
    assert rows[0]["enqueued_at"].endswith("+00:00")

    def ids(*options: str) -> list[str]:
        return [r["id"] for r in json.loads(_run("jobs", "list", "--json", *options))]

    assert ids("--state", "dead") == [dead]
    assert ids("--state", "dead,waiting") == [dead, other, rex]
    assert ids("--state", "dead", "--state", "revoked") == [dead]
    assert ids("--search", "REX@example") == [rex]  # args, case-insensitive
    assert ids("--search", "no lines") == [dead]  # the error
    assert ids("--search", rex[:13]) == [rex]  # find by id
    assert ids("--client", "7") == [rex]
    assert ids("--task", "t.noop", "--limit", "2") == [dead, other]
    assert ids("--since", "1h") == [dead, other, rex]
    assert ids("--until", "1h") == []
    assert ids("--since", "2000-01-01", "--queue", "reports") == []

    text = _run("jobs", "list", "--state", "dead")
    assert text.splitlines()[0].split() == [
        "job", "queue", "task", "state", "tries", "enqueued", "ran", "error"
    ]  # fmt: skip
    assert dead in text
    assert "invoice 3 has no lines" in text
    assert "XXXX" not in _run("jobs", "list")
    assert _run("jobs", "list", "--queue", "reports") == "no jobs match\n"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--state", "bogus"], "Invalid value for '--state': unknown state bogus; use one of"),
        (["--since", "yesterday"], "Invalid value for '--since': 'yesterday' is neither an age"),
        (["--until", "3y"], "Invalid value for '--until'"),
        (["--client", "0"], "Invalid value for '--client'"),
    ],
)
def test_jobs_list_says_which_option_is_wrong(
    platform: JobPlatform, options: list[str], message: str
) -> None:
    job_id = platform.enqueue("email", "t.noop", 1)
    result = CliRunner().invoke(cli, ["jobs", "list", *options])
    assert result.exit_code == 2
    assert message in result.output
    assert JobRegistry(platform).get(job_id).job.state == "waiting"  # nothing changed


def test_jobs_groups_prints_the_failure_triage(platform: JobPlatform) -> None:
    first = platform.enqueue("email", "t.noop", 41)
    second = platform.enqueue("email", "t.noop", 80)
    lone = platform.enqueue("email", "t.noop", 1)
    _fail(platform, first, "PermanentError", "printer 10.0.0.5 refused invoice 41")
    _fail(platform, second, "PermanentError", "printer 10.0.0.9 refused invoice 80")
    _fail(platform, lone, "KeyError", "invoice 1 has no lines")

    groups = json.loads(_run("jobs", "groups", "--json"))
    assert [(g["signature"], g["count"], g["dead"]) for g in groups] == [
        ("PermanentError: printer <ip> refused invoice <n>", 2, 2),
        ("KeyError: invoice <n> has no lines", 1, 1),
    ]
    assert sorted(groups[0]["job_ids"]) == sorted([first, second])
    assert groups[0]["example_id"] == second  # the newest
    assert groups[0]["queues"] == ["email"]
    text = _run("jobs", "groups")
    assert "2 job(s), 2 dead: PermanentError: printer <ip> refused invoice <n>" in text
    assert f"example {second}: printer 10.0.0.9 refused invoice 80" in text
    assert _run("jobs", "groups", "--queue", "reports") == "no failed jobs\n"


def test_jobs_workers_and_logs_from_a_real_runner(platform: JobPlatform) -> None:
    from jobs import JobContext
    from jobs.runner import Runner

    def report(month: int, job: JobContext) -> str:
        job.log(f"collecting invoices for month {month}")
        job.log("rendered 42 pages")
        return "ok"

    platform.register(TaskSpec("t.report", report, "email", context=True))
    assert _run("jobs", "workers") == "no worker has registered\n"
    runner = Runner(platform, ["email"], shutdown_timeout=2.0, pause_poll=0.05)
    runner.start()
    try:
        job_id = platform.enqueue("email", "t.report", 11)
        registry = JobRegistry(platform)
        deadline = dt.datetime.now() + dt.timedelta(seconds=20)
        while registry.get(job_id).job.state != "completed":
            assert dt.datetime.now() < deadline, registry.get(job_id).job.state
            import time

            time.sleep(0.05)
        workers = json.loads(_run("jobs", "workers", "--json"))
        assert [(w["status"], w["queues"]) for w in workers] == [("live", "email")]
        assert workers[0]["id"] == runner.worker_id
        assert "live" in _run("jobs", "workers")
    finally:
        runner.stop()
    assert json.loads(_run("jobs", "workers", "--json"))[0]["status"] == "stopped"

    text = _run("jobs", "logs", job_id)
    assert [line.split("  ", 1)[1] for line in text.splitlines()] == [
        "collecting invoices for month 11",
        "rendered 42 pages",
    ]
    lines = json.loads(_run("jobs", "logs", job_id, "--json"))
    assert [entry["line"] for entry in lines] == [
        "collecting invoices for month 11",
        "rendered 42 pages",
    ]
    quiet = platform.enqueue("email", "t.noop", 2)
    assert _run("jobs", "logs", quiet) == f"job {quiet} wrote no log lines\n"
    result = CliRunner().invoke(cli, ["jobs", "logs", "nope"])
    assert result.exit_code == 1
    assert "job nope: no such job" in result.output
