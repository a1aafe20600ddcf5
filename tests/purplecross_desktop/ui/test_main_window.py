"""The main window: navigation builds pages lazily, status bar, settings and health pages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from purplecross_desktop.app import build_context, build_window, default_pages, shutdown
from purplecross_desktop.settings import load_settings
from purplecross_desktop.ui.context import JobsUnavailableError
from purplecross_desktop.ui.main_window import MainWindow
from purplecross_desktop.ui.pages.health_page import HealthPage
from purplecross_desktop.ui.pages.settings_page import SettingsPage
from tests.support.staff import sign_in

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    context = build_context(load_settings(), start_jobs=False)
    sign_in(context)
    win = build_window(context)
    qtbot.addWidget(win)
    yield win
    shutdown(context)


def test_navigation_lists_every_page_and_builds_only_the_first(window: MainWindow) -> None:
    titles = [window.navigation.item(i).text() for i in range(window.navigation.count())]
    assert titles == [spec.title for spec in default_pages()]
    assert window.built_pages() == [default_pages()[0].key]


def test_every_navigation_entry_builds_its_page(window: MainWindow) -> None:
    """The pages other than Today are imported on their first visit: each entry's lazy
    factory names a module and class that exist."""
    for spec in default_pages():
        page = window.show_page(spec.key)
        assert window.current_page() is page
        named = getattr(spec.factory, "name", None) or getattr(spec.factory, "__name__", None)
        assert type(page).__name__ == named
    assert sorted(window.built_pages()) == sorted(spec.key for spec in default_pages())


def test_after_start_up_the_objects_are_frozen_then_the_other_pages_imported_a_turn_each() -> None:
    """Once the jobs stack is in, start-up's objects are frozen out of the collector's full
    passes, then the pages the window did not need are imported one module per event-loop
    turn, so a first visit does not wait for its code."""
    code = """
import gc, sys, time, types
from PySide6.QtWidgets import QApplication
app = QApplication([])
import purplecross_desktop.app as shell
pages = shell.default_pages()
assert gc.get_freeze_count() == 0
before = [m for m in sys.modules if m.startswith('purplecross_desktop.ui.pages.')]
shell.freeze_start_up_objects(types.SimpleNamespace(jobs_starter=None))
frozen = gc.get_freeze_count() > 0
loaded, deadline = [], time.monotonic() + 60
while time.monotonic() < deadline:
    app.processEvents()
    now = [m for m in shell.later_page_modules() if m in sys.modules]
    if len(now) > len(loaded) + 1:
        raise SystemExit(f"two pages in one turn: {sorted(set(now) - set(loaded))}")
    loaded = now
    if len(loaded) == len(shell.later_page_modules()):
        break
    time.sleep(0.002)
print(len(before), len(loaded), frozen)
"""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    before, later, frozen = result.stdout.split()
    assert int(before) == 3  # base, labels, today_page
    assert int(later) == len(default_pages()) - 1  # every other page's module
    assert frozen == "True"  # before the imports


def test_switching_pages_builds_them_on_first_visit(window: MainWindow, qtbot: QtBot) -> None:
    with qtbot.waitSignal(window.sig_page_changed) as blocker:
        window.show_page("settings")
    assert blocker.args == ["settings"]
    assert window.current_page() is not None
    assert window.current_page().title == "Settings"
    assert "settings" in window.built_pages()


def test_status_bar_says_where_the_data_is(window: MainWindow) -> None:
    assert "this computer" in window.database_label.text()
    assert "Jobs:" in window.queue_label.text()


def test_health_page_reports_the_database(window: MainWindow, qtbot: QtBot) -> None:
    page = window.show_page("health")
    qtbot.waitUntil(lambda: any(label == "Round trip" for label, _ in page.rows), timeout=10000)  # type: ignore[attr-defined]
    rows = dict(page.rows)  # type: ignore[attr-defined]
    assert rows["Redis"].startswith("not configured")
    from alembic.script import ScriptDirectory

    from purplecross_desktop.database.session import alembic_config

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert rows["Schema revision"] == head
    assert rows["Cache tier"].startswith("disk")


def test_health_refresh_updates_values_in_place_and_rebuilds_when_checks_change(
    window: MainWindow, qtbot: QtBot
) -> None:
    page = window.show_page("health")
    assert isinstance(page, HealthPage)
    qtbot.waitUntil(lambda: bool(page.rows) and page.refresh_button.isEnabled(), timeout=10000)
    labels = list(page.value_labels)
    assert [label.text() for label in labels] == [value for _, value in page.rows]

    checks = window.context.health_checks  # where late subsystems add theirs
    checks.append(lambda: [("Extra", "first")])
    page.activate()
    qtbot.waitUntil(page.refresh_button.isEnabled, timeout=10000)
    assert page.form.rowCount() == len(labels) + 1
    assert page.value_labels[-1].text() == "first"

    rebuilt = list(page.value_labels)
    checks[-1] = lambda: [("Extra", "second")]
    page.activate()
    qtbot.waitUntil(page.refresh_button.isEnabled, timeout=10000)
    assert all(a is b for a, b in zip(page.value_labels, rebuilt, strict=True))
    assert page.form.rowCount() == len(rebuilt)
    assert page.value_labels[-1].text() == "second"
    assert [label.text() for label in page.value_labels] == [value for _, value in page.rows]


def test_settings_page_refuses_bad_input_and_changes_nothing(
    window: MainWindow, tmp_path: Path
) -> None:
    page = window.show_page("settings")
    assert isinstance(page, SettingsPage)
    config_file = Path(load_settings().data_dir).parent / "settings.toml"
    page.inputs["smtp_port"].setText("not a port")  # type: ignore[union-attr]
    assert page.save() is None
    assert "smtp_port" in page.message.text()
    assert "whole number" in page.message.text()
    assert not config_file.exists()


def test_settings_page_saves_what_was_edited(window: MainWindow, qtbot: QtBot) -> None:
    page = window.show_page("settings")
    assert isinstance(page, SettingsPage)
    page.inputs["clinic_name"].setText("Happy Paws")  # type: ignore[union-attr]
    assert page.save() is not None
    qtbot.waitUntil(lambda: page.message.text().startswith("Saved to"), timeout=10000)
    assert load_settings().clinic_name == "Happy Paws"


def test_main_window_renders(window: MainWindow, tmp_path: Path) -> None:
    window.resize(1280, 800)
    window.show()
    image = window.grab()
    assert image.width() == 1280
    assert image.save(str(tmp_path / "main.png"))


def test_an_empty_clinic_is_offered_demo_data_in_one_click(
    window: MainWindow, qtbot: QtBot
) -> None:
    from purplecross_desktop.ui.pages.today_page import TodayPage

    page = window.show_page("today")
    assert isinstance(page, TodayPage)
    qtbot.waitUntil(lambda: not page.welcome.isHidden(), timeout=10000)
    with qtbot.waitSignal(page.welcome.sig_demo_loaded, timeout=120000):
        page.welcome.load_button.click()
    assert page.welcome.isHidden()
    services = window.context.services
    assert services is not None
    assert services.clients.search(active=None, limit=1).total == 500


def test_the_app_runs_its_jobs_in_process_and_stops_them_cleanly(qtbot: QtBot) -> None:
    """The embedded default: the runner consumes the queues; an email lands in the outbox."""
    import jobs
    from jobs.registry import JobRegistry

    settings = load_settings()
    context = build_context(settings)
    try:
        window = build_window(context)
        qtbot.addWidget(window)
        assert context.jobs is not None
        job_id = context.jobs.email.queue(
            "owner@example.org",
            "Your appointment",
            "appointment_confirmation",
            {"client_name": "Ada", "patient_name": "Rex", "appointment_time": "Mon 10:00"},
        )
        registry = JobRegistry(context.jobs.platform)
        qtbot.waitUntil(lambda: registry.get(job_id).job.state == "completed", timeout=30000)
        assert list(settings.email_outbox_path.glob("*.eml"))
        page = window.show_page("health")
        qtbot.waitUntil(lambda: any(k == "Queue email" for k, _ in page.rows), timeout=10000)  # type: ignore[attr-defined]
        # The app hands its platform to what needs it; the process-wide default stays
        # unbound (it is for scripts), so no screen can depend on it by accident.
        with pytest.raises(jobs.NotConfiguredError):
            jobs.default_platform()
    finally:
        shutdown(context)
    assert context.jobs is None


def test_jobs_started_in_the_background_are_set_then_stopped_by_shutdown() -> None:
    """``purplecross run`` shows the window first and starts the jobs stack on a thread."""
    from purplecross_desktop.app import start_jobs_in_background

    context = build_context(load_settings(), start_jobs=False)
    assert context.jobs is None
    checks = len(context.health_checks)
    try:
        start_jobs_in_background(context).join(30)
        assert context.jobs is not None
        assert context.job_runtime() is context.jobs
        assert len(context.health_checks) == checks + 1
    finally:
        shutdown(context)
    assert context.jobs is None


def test_shutdown_waits_for_a_jobs_start_still_under_way() -> None:
    from purplecross_desktop.app import start_jobs_in_background

    context = build_context(load_settings(), start_jobs=False)
    starter = start_jobs_in_background(context)
    shutdown(context)  # at once, most likely before the runner is up
    assert not starter.is_alive()
    assert context.jobs is None


def test_a_jobs_start_failure_shows_on_the_health_page(monkeypatch: pytest.MonkeyPatch) -> None:
    from purplecross_desktop import jobs_wiring
    from purplecross_desktop.app import start_jobs_in_background

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("no queue file")

    monkeypatch.setattr(jobs_wiring, "JobsRuntime", refuse)
    context = build_context(load_settings(), start_jobs=False)
    try:
        start_jobs_in_background(context).join(30)
        rows = [row for check in context.health_checks for row in check()]
        assert ("Jobs", "not started: RuntimeError: no queue file") in rows
        assert context.jobs is None
        with pytest.raises(JobsUnavailableError, match="not running"):
            context.job_runtime()
    finally:
        shutdown(context)


def test_settings_sends_a_test_email_through_the_queue(qtbot: QtBot) -> None:
    """As in the app: jobs start on a thread after the window shows; an email sent at
    once waits for them instead of being refused."""
    from jobs.registry import JobRegistry
    from purplecross_desktop.app import start_jobs_in_background

    settings = load_settings()
    context = build_context(settings, start_jobs=False)
    try:
        window = build_window(context)
        qtbot.addWidget(window)
        start_jobs_in_background(context)
        page = window.show_page("settings")
        assert isinstance(page, SettingsPage)
        page.test_address.setText("frontdesk@example.org")
        page.test_button.click()
        qtbot.waitUntil(lambda: "queued as job" in page.mail_message.text(), timeout=30000)
        job_id = page.mail_message.text().split("job ")[1].split(";")[0]
        registry = JobRegistry(context.job_runtime().platform)
        qtbot.waitUntil(lambda: registry.get(job_id).job.state == "completed", timeout=30000)
        sent = list(settings.email_outbox_path.glob("*.eml"))
        assert len(sent) == 1
        assert "frontdesk@example.org" in sent[0].read_text()
        page.test_address.setText("not an address")
        page.test_button.click()
        qtbot.waitUntil(lambda: page.mail_message.text().startswith("Not sent."), timeout=10000)
        assert "to: 'not an address' is not an email address" in page.mail_message.text()
    finally:
        shutdown(context)


def test_saving_settings_does_not_copy_environment_values_into_the_file(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PURPLECROSS_SMTP_PORT", "2525")
    settings = load_settings()
    context = build_context(settings, start_jobs=False)
    try:
        sign_in(context)
        window = build_window(context)
        qtbot.addWidget(window)
        page = window.show_page("settings")
        assert isinstance(page, SettingsPage)
        page.inputs["clinic_name"].setText("Happy Paws")  # type: ignore[union-attr]
        assert page.save() is not None
        qtbot.waitUntil(lambda: page.message.text().startswith("Saved to"), timeout=10000)
        from purplecross_desktop.settings import default_config_file

        text = default_config_file().read_text()
        assert "Happy Paws" in text
        assert "smtp_port" not in text
    finally:
        shutdown(context)


def test_closing_the_window_stops_every_grid(qtbot: QtBot) -> None:
    from widgets.datagrid import DataGrid

    context = build_context(load_settings(), start_jobs=False)
    try:
        window = build_window(context)
        qtbot.addWidget(window)
        window.show_page("patients")
        grids = window.findChildren(DataGrid)
        assert grids
        window.close()
        assert all(grid._runner.alive[0] is False for grid in grids)
    finally:
        shutdown(context)


def test_health_logs_in_to_redis_with_the_keyring_password(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from purplecross_desktop.ui.pages.health_page import redis_check
    from tests.support.redis_server import RedisServer

    server = RedisServer(password="s3cret")
    server.start()
    try:
        monkeypatch.setenv("PURPLECROSS_REDIS_URL", server.url)  # no password in the URL
        context = build_context(load_settings(), start_jobs=False)
        try:
            monkeypatch.setenv("PURPLECROSS_REDIS_PASSWORD", "s3cret")
            rows = dict(redis_check(context)())
            assert "Redis ping" in rows, rows
            monkeypatch.setenv("PURPLECROSS_REDIS_PASSWORD", "wrong")
            assert "unreachable" in dict(redis_check(context)())["Redis status"]
        finally:
            shutdown(context)
    finally:
        server.cleanup()


def test_health_page_shows_the_overall_status_and_the_status_bar_opens_it(
    window: MainWindow, qtbot: QtBot
) -> None:
    page = window.show_page("health")
    assert isinstance(page, HealthPage)
    with qtbot.waitSignal(page.sig_status_changed, timeout=20000) as signal:
        pass
    status = signal.args[0]
    assert status in ("healthy", "degraded", "down")
    assert page.status_chip.get_text() == status.capitalize()
    assert "database: healthy" in page.findings.text()
    assert window.health_button.text() == f"Health: {status}"
    window.show_page("today")
    window.health_button.click()
    assert window.current_page() is page
