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
