"""The app's jobs runtime: embedded consumers without touching signal handlers; make-run email."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import pytest

import jobs
from jobs.platform import JobPlatform
from jobs.registry import JobRegistry
from jobs.runner import Runner
from purplecross_desktop.jobs_wiring import JobsRuntime, build_job_platform
from purplecross_desktop.settings import load_settings
from tests.jobs.conftest import FAST, make_db, wait_until
from tests.support.redis_server import RedisServer

CONTEXT = {"client_name": "Ada", "patient_name": "Rex", "appointment_time": "Mon 9:00"}


@pytest.fixture
def runtime_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    monkeypatch.setenv("PURPLECROSS_DATABASE_URL", url)
    monkeypatch.setenv("PURPLECROSS_DATA_DIR", str(tmp_path / "data"))
    return url


def test_embedded_runtime_sends_test_email_to_the_outbox_without_touching_signals(
    runtime_env: str, tmp_path: Path
) -> None:
    engine = make_db(runtime_env)
    settings = load_settings()
    watched = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    saved = {s: signal.getsignal(s) for s in watched}

    def the_apps_handler(signum: int, frame: object) -> None:
        raise AssertionError("never delivered in this test")

    for s in watched:  # the app's own handlers, which the runtime must leave alone
        signal.signal(s, the_apps_handler)
    runtime = JobsRuntime(settings, engine, **FAST)
    # On the main thread, the only one where handlers can be changed at all.
    assert threading.current_thread() is threading.main_thread()
    try:
        runtime.start()
        assert {s: signal.getsignal(s) for s in watched} == dict.fromkeys(watched, the_apps_handler)
        job_id = runtime.email.queue("ada@example.org", "Test", "appointment_reminder", CONTEXT)
        registry = JobRegistry(runtime.platform)
        wait_until(lambda: registry.get(job_id).job.state == "completed")
        assert len(list(settings.email_outbox_path.glob("*.eml"))) == 1
        assert (tmp_path / "data" / "queue.db").exists()
        assert registry.workers()[0].embedded
        with pytest.raises(jobs.NotConfiguredError):
            jobs.default_platform()
    finally:
        runtime.stop()
        engine.dispose()
        for s, handler in saved.items():
            signal.signal(s, handler)
    # The runtime binds no process-wide default: the module-level helpers are for scripts.
    with pytest.raises(jobs.NotConfiguredError):
        jobs.queue_email("ada@example.org", "Test", "appointment_reminder", CONTEXT)


def test_the_runtime_starts_from_a_thread_other_than_the_main_one(
    runtime_env: str,
) -> None:
    """An app may start it from its startup code on any thread (no signal calls there)."""
    engine = make_db(runtime_env)
    runtime = JobsRuntime(load_settings(), engine, **FAST)
    errors: list[BaseException] = []

    def start() -> None:
        try:
            runtime.start()
        except BaseException as exc:  # signal.signal off the main thread raises ValueError
            errors.append(exc)

    starter = threading.Thread(target=start)
    starter.start()
    starter.join(10)
    try:
        assert errors == []
        job_id = runtime.email.queue("ada@example.org", "Test", "appointment_reminder", CONTEXT)
        registry = JobRegistry(runtime.platform)
        wait_until(lambda: registry.get(job_id).job.state == "completed")
    finally:
        runtime.stop()
        engine.dispose()


def test_without_embedded_worker_the_app_only_queues(
    runtime_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PURPLECROSS_EMBEDDED_WORKER", "false")
    engine = make_db(runtime_env)
    runtime = JobsRuntime(load_settings(), engine, **FAST)
    runtime.start()
    try:
        job_id = runtime.email.queue("ada@example.org", "Test", "appointment_reminder", CONTEXT)
        runtime.platform.writer.flush()
        registry = JobRegistry(runtime.platform)
        assert registry.get(job_id).job.state == "waiting"
        # Nothing can take it: the message sits in the queue and no consumer exists.
        assert runtime.platform.hueys["email"].storage.queue_size() == 1
        assert runtime.runner.consumers == {}
        assert registry.workers() == []
    finally:
        runtime.stop()
        engine.dispose()


@pytest.mark.redis
def test_the_broker_logs_in_with_the_keyring_redis_password(
    runtime_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = RedisServer(password="broker-s3cret")
    server.start()
    try:
        monkeypatch.setenv("PURPLECROSS_REDIS_URL", server.url)  # no password in the URL
        monkeypatch.setenv("PURPLECROSS_REDIS_PASSWORD", "broker-s3cret")
        monkeypatch.setenv("PURPLECROSS_JOB_SIGNING_KEY", "shared-test-key")
        engine = make_db(runtime_env)
        platform = build_job_platform(load_settings(), engine, **FAST)
        try:
            job_id = _queue_test_email(platform)
            registry = JobRegistry(platform)
            assert registry.get(job_id).job.state == "waiting"  # in Redis, not the outbox
            assert platform.hueys["email"].storage.queue_size() == 1
            runner = Runner(platform, shutdown_timeout=2.0, pause_poll=0.05)
            runner.start()  # the consumers pop it through the same logged-in pool
            try:
                wait_until(lambda: registry.get(job_id).job.state == "completed")
            finally:
                runner.stop()
        finally:
            platform.close()
            engine.dispose()
    finally:
        server.cleanup()


def _queue_test_email(platform: JobPlatform) -> str:
    service = platform.services["email"]
    return str(service.queue("ada@example.org", "Test", "appointment_reminder", CONTEXT))


def test_a_missing_dependency_of_the_email_family_is_an_error_not_a_silent_skip(
    runtime_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if jinja2 were not installed: importing jobs.email fails on it.
    monkeypatch.setitem(sys.modules, "jinja2", None)
    monkeypatch.delitem(sys.modules, "jobs.email", raising=False)
    monkeypatch.delitem(sys.modules, "jobs.email_templates", raising=False)
    monkeypatch.delattr(jobs, "email", raising=False)
    monkeypatch.delattr(jobs, "email_templates", raising=False)
    engine = make_db(runtime_env)
    try:
        with pytest.raises(ModuleNotFoundError, match="jinja2"):
            build_job_platform(load_settings(), engine, **FAST).close()
    finally:
        engine.dispose()


def test_job_alerts_follow_the_settings_and_turn_off(
    runtime_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    from purplecross_desktop.jobs_wiring import start_alerts

    engine = make_db(runtime_env)
    monkeypatch.setenv("PURPLECROSS_JOB_ALERT_FAILURES", "7")
    monkeypatch.setenv("PURPLECROSS_JOB_ALERT_QUIET_MINUTES", "12")
    platform = build_job_platform(load_settings(), engine)
    try:
        watcher = start_alerts(platform, load_settings(), 60.0)
        assert watcher is not None
        try:
            assert watcher.policy.failures == 7
            assert watcher.policy.quiet == dt.timedelta(minutes=12)
            assert watcher._thread.is_alive()
        finally:
            watcher.stop()
        monkeypatch.setenv("PURPLECROSS_JOB_ALERTS", "false")
        assert start_alerts(platform, load_settings(), 60.0) is None
        assert not [t for t in threading.enumerate() if t.name == "jobs-alerts" and t.is_alive()]
    finally:
        platform.close()
        engine.dispose()
