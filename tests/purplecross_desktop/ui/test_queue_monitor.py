"""The queue monitor pane on the app's real job platform, driven like an admin would."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from jobs import PermanentError, TaskSpec
from jobs.registry import JobRegistry
from purplecross_desktop.app import build_context, build_window, shutdown
from purplecross_desktop.database.base import utcnow
from purplecross_desktop.settings import load_settings
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.main_window import MainWindow
from purplecross_desktop.ui.pages.queue_monitor_page import QueueMonitorPage
from tests.support.staff import sign_in
from widgets.datagrid.state import GridRow

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise"),
]

TIMEOUT = 20000


@pytest.fixture
def context(qtbot: QtBot) -> Iterator[AppContext]:
    context = build_context(load_settings())
    yield context
    shutdown(context)


def _page(qtbot: QtBot, context: AppContext) -> tuple[MainWindow, QueueMonitorPage]:
    sign_in(context)
    window = build_window(context)
    qtbot.addWidget(window)
    window.show()
    page = window.show_page("queues")
    assert isinstance(page, QueueMonitorPage)
    return window, page


def _confirm(qtbot: QtBot, page: QueueMonitorPage) -> None:
    qtbot.waitUntil(lambda: page.confirmation is not None, timeout=TIMEOUT)
    box = page.confirmation
    assert isinstance(box, QMessageBox)
    box.button(QMessageBox.StandardButton.Ok).click()


def _shown_ids(page: QueueMonitorPage) -> set[str]:
    rows = (page.jobs.row_at(r) for r in range(page.jobs.row_count()))
    return {str(row.id) for row in rows if row is not None}


def _email(context: AppContext) -> str:
    job_id = context.job_runtime().email.queue(
        "owner@example.org",
        "Your appointment",
        "appointment_reminder",
        {"client_name": "Ada", "patient_name": "Rex", "appointment_time": "Mon 10:00"},
    )
    return str(job_id)


def test_pause_revoke_and_cards_from_the_pane(qtbot: QtBot, context: AppContext) -> None:
    _window, page = _page(qtbot, context)
    registry = JobRegistry(context.job_runtime().platform)
    qtbot.waitUntil(lambda: "email" in page.overview.cards, timeout=TIMEOUT)
    card = page.overview.cards["email"]
    assert not card.paused_chip.isVisible()
    card.pause_button.click()
    _confirm(qtbot, page)
    qtbot.waitUntil(lambda: "email" in registry.paused_queues(), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: card.paused_chip.isVisible(), timeout=TIMEOUT)  # live refresh
    assert card.pause_button.text() == "Resume"

    job_id = _email(context)
    held = ("outbox", "waiting", "paused")  # the job moves among these; nothing runs it
    assert registry.get(job_id).job.state in held
    qtbot.waitUntil(
        lambda: any(card.count_labels[state].text() != "0" for state in held), timeout=TIMEOUT
    )
    page.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: job_id in _shown_ids(page), timeout=TIMEOUT)
    page.jobs.select_ids([job_id])
    page.job_buttons["revoke"].click()
    _confirm(qtbot, page)
    qtbot.waitUntil(lambda: page.message.text().startswith("Revoke: 1 job"), timeout=TIMEOUT)
    assert registry.get(job_id).job.state == "revoked"

    page.job_buttons["retry"].click()  # the selection survived the refreshes
    qtbot.waitUntil(lambda: page.message.text().startswith("Retry: 1 job"), timeout=TIMEOUT)
    page.jobs.clear_selection()
    page.job_buttons["retry"].click()
    assert page.message.text() == "Select one or more jobs first."

    page.tabs.setCurrentIndex(0)
    card.pause_button.click()  # resume asks nothing
    qtbot.waitUntil(lambda: "email" not in registry.paused_queues(), timeout=TIMEOUT)


def test_a_failing_job_is_triaged_retried_from_the_pane_and_completes(
    qtbot: QtBot, context: AppContext
) -> None:
    calls: list[int] = []
    lock = threading.Lock()

    def fragile(invoice: int) -> str:
        with lock:
            calls.append(invoice)
            if len(calls) == 1:
                raise PermanentError(f"printer 10.0.0.{invoice} refused invoice {invoice}")
        return "printed"

    platform = context.job_runtime().platform
    platform.register(TaskSpec("test.print", fragile, "reports"))
    _window, page = _page(qtbot, context)
    registry = JobRegistry(platform)
    job_id = platform.enqueue("reports", "test.print", 41, record={"invoice": 41})
    qtbot.waitUntil(lambda: registry.get(job_id).job.state == "dead", timeout=TIMEOUT)

    page.tabs.setCurrentIndex(2)
    signature = "jobs.policy.PermanentError: printer <ip> refused invoice <n>"
    qtbot.waitUntil(lambda: page.failures.row_count() == 1, timeout=TIMEOUT)
    row = page.failures.row_at(0)
    assert row is not None
    assert row.id == signature
    page.failures.select_ids([signature])

    page.group_example.click()  # the detail of the group's example
    qtbot.waitUntil(lambda: page.detail.job_id == job_id, timeout=TIMEOUT)
    assert page.detail.isVisible()
    assert "refused invoice 41" in page.detail.error.toPlainText()
    assert page.detail.link_buttons["invoice_id"].text() == "Open invoice #41"
    assert page.detail.action_buttons["retry"].isEnabled()
    assert not page.detail.action_buttons["promote"].isEnabled()

    page.group_retry.click()
    qtbot.waitUntil(lambda: registry.get(job_id).job.state == "completed", timeout=TIMEOUT)
    qtbot.waitUntil(lambda: page.failures.row_count() == 0, timeout=TIMEOUT)

    page.tabs.setCurrentIndex(3)
    qtbot.waitUntil(lambda: page.workers.row_count() >= 1, timeout=TIMEOUT)
    worker = page.workers.row_at(0)
    assert worker is not None


def test_a_scheduled_job_is_promoted_from_its_card(qtbot: QtBot, context: AppContext) -> None:
    done = threading.Event()
    platform = context.job_runtime().platform
    platform.register(TaskSpec("test.later", lambda: done.set(), "reports"))
    _window, page = _page(qtbot, context)
    platform.enqueue("reports", "test.later", eta=utcnow() + dt.timedelta(hours=1))
    qtbot.waitUntil(lambda: "reports" in page.overview.cards, timeout=TIMEOUT)
    card = page.overview.cards["reports"]
    qtbot.waitUntil(lambda: card.promote_button.isEnabled(), timeout=TIMEOUT)
    card.promote_button.click()
    qtbot.waitUntil(done.is_set, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: page.message.text() == "Promote: 1 job.", timeout=TIMEOUT)


def test_refresh_keeps_the_scroll_position_and_stops_while_hidden(
    qtbot: QtBot, context: AppContext
) -> None:
    window, page = _page(qtbot, context)
    registry = JobRegistry(context.job_runtime().platform)
    registry.pause("email")
    ids = [_email(context) for _ in range(60)]
    page.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: page.jobs.row_count() >= 50, timeout=TIMEOUT)
    bar = page.jobs.table_view().verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=TIMEOUT)
    bar.setValue(bar.maximum() // 2)
    kept = bar.value()
    page.jobs.select_ids(ids[:2])
    for _ in range(2):
        with qtbot.waitSignal(page.sig_refreshed, timeout=TIMEOUT):
            pass
        qtbot.waitUntil(lambda: not page.jobs.is_loading(), timeout=TIMEOUT)
    assert bar.value() == kept
    assert set(page.jobs.selected_ids()) == set(ids[:2])
    assert page.timer.isActive()
    window.show_page("today")
    assert not page.timer.isActive()


# Every admin action from the pane, on a real Redis broker ----------------------------------
@pytest.fixture
def redis_context(
    qtbot: QtBot, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[AppContext]:
    """The app on a real redis-server (Huey on Redis, the embedded runner consuming it)."""
    monkeypatch.setenv("PURPLECROSS_REDIS_URL", redis_url)
    monkeypatch.setenv("PURPLECROSS_JOB_SIGNING_KEY", "monitor-test-signing-key")
    context = build_context(load_settings())
    yield context
    shutdown(context)


def _select(qtbot: QtBot, page: QueueMonitorPage, ids: list[str]) -> None:
    page.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: set(ids) <= _shown_ids(page), timeout=TIMEOUT)
    page.jobs.select_ids(ids)
    qtbot.waitUntil(lambda: set(page.jobs.selected_ids()) == set(ids), timeout=TIMEOUT)


def _said(qtbot: QtBot, page: QueueMonitorPage, start: str) -> None:
    qtbot.waitUntil(lambda: page.message.text().startswith(start), timeout=TIMEOUT)


def test_every_admin_action_from_the_pane_on_a_real_redis(
    qtbot: QtBot, redis_context: AppContext, redis_url: str
) -> None:
    import redis
    from sqlalchemy import select, update

    from jobs.models import Job
    from purplecross_desktop.domain.audit import AuditEntry
    from purplecross_desktop.ui.pages.queue_monitor_page import CleanDialog

    context = redis_context
    platform = context.job_runtime().platform
    from huey.storage import RedisStorage

    assert all(isinstance(h.storage, RedisStorage) for h in platform.hueys.values())
    ran: list[str] = []
    lock = threading.Lock()
    failures = {"flaky": 1}

    def work(name: str) -> str:
        with lock:
            if name.startswith("flaky") and failures["flaky"]:
                failures["flaky"] -= 1
                raise PermanentError(f"printer 10.0.0.9 refused {name}")
            ran.append(name)
        return name

    platform.register(TaskSpec("test.work", work, "reports"))
    platform.register(TaskSpec("test.once", work, "reports", repeatable=False))
    _window, page = _page(qtbot, context)
    registry = JobRegistry(platform)

    def state(job_id: str) -> str:
        return str(registry.get(job_id).job.state)

    def later() -> dt.datetime:
        return utcnow() + dt.timedelta(hours=2)

    # Retry: a job that failed for good runs again from the job list and completes.
    flaky = platform.enqueue("reports", "test.work", "flaky")
    qtbot.waitUntil(lambda: state(flaky) == "dead", timeout=TIMEOUT)
    _select(qtbot, page, [flaky])
    page.job_buttons["retry"].click()
    _said(qtbot, page, "Retry: 1 job.")
    qtbot.waitUntil(lambda: state(flaky) == "completed", timeout=TIMEOUT)

    # Promote: a job scheduled for later runs now; one in Redis's schedule before that.
    scheduled = platform.enqueue("reports", "test.work", "scheduled", eta=later())
    qtbot.waitUntil(lambda: state(scheduled) == "scheduled", timeout=TIMEOUT)
    broker = redis.Redis.from_url(redis_url)
    assert any(broker.zcard(key) for key in broker.keys("*schedule*"))
    _select(qtbot, page, [scheduled])
    page.job_buttons["promote"].click()
    _said(qtbot, page, "Promote: 1 job.")
    qtbot.waitUntil(lambda: state(scheduled) == "completed", timeout=TIMEOUT)

    # Revoke (asks first): a scheduled job is cancelled and never runs.
    doomed = platform.enqueue("reports", "test.work", "doomed", eta=later())
    _select(qtbot, page, [doomed])
    page.job_buttons["revoke"].click()
    _confirm(qtbot, page)
    _said(qtbot, page, "Revoke: 1 job.")
    assert state(doomed) == "revoked"

    # Duplicate: a copy of a finished job runs with the same args.
    page.jobs.clear_selection()
    _select(qtbot, page, [flaky])
    page.job_buttons["duplicate"].click()
    _said(qtbot, page, "Duplicate: 1 job.")
    qtbot.waitUntil(lambda: ran.count("flaky") == 2, timeout=TIMEOUT)

    # Remove (asks first), from the job's detail: the job leaves the registry.
    page.open_job(doomed)
    qtbot.waitUntil(lambda: page.detail.job_id == doomed, timeout=TIMEOUT)
    page.detail.action_buttons["remove"].click()
    _confirm(qtbot, page)
    _said(qtbot, page, "Remove: 1 job.")
    with pytest.raises(LookupError):
        registry.get(doomed)
    page.detail.hide()

    # Pause (asks first) and resume from the card: nothing of the queue runs meanwhile.
    page.tabs.setCurrentIndex(0)
    qtbot.waitUntil(lambda: "reports" in page.overview.cards, timeout=TIMEOUT)
    card = page.overview.cards["reports"]
    card.pause_button.click()
    _confirm(qtbot, page)
    qtbot.waitUntil(lambda: card.paused_chip.isVisible(), timeout=TIMEOUT)
    held = platform.enqueue("reports", "test.work", "held")
    with qtbot.waitSignals([page.sig_refreshed] * 3, timeout=TIMEOUT):
        pass
    assert "held" not in ran
    card.pause_button.click()  # resume asks nothing
    qtbot.waitUntil(lambda: state(held) == "completed", timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not card.paused_chip.isVisible(), timeout=TIMEOUT)

    # Promote scheduled, from the card: every scheduled job of the queue runs now.
    soon = [platform.enqueue("reports", "test.work", f"soon {i}", eta=later()) for i in range(3)]
    qtbot.waitUntil(lambda: card.promote_button.isEnabled(), timeout=TIMEOUT)
    card.promote_button.click()
    _said(qtbot, page, "Promote: 3 jobs.")
    qtbot.waitUntil(lambda: all(state(j) == "completed" for j in soon), timeout=TIMEOUT)

    # Retry failed, from the card: the dry run says what is not eligible and why, and
    # cancelling it changes nothing; confirming retries the eligible ones.
    failures["flaky"] = 1
    again = platform.enqueue("reports", "test.work", "flaky again")
    lost = platform.enqueue("reports", "test.once", "once")
    qtbot.waitUntil(lambda: state(again) == "dead" and state(lost) == "completed", timeout=TIMEOUT)
    with platform.engine.begin() as conn:  # as the sweep leaves a job whose worker died
        conn.execute(
            update(Job.__table__)  # type: ignore[arg-type]
            .where(Job.__table__.c.id == lost)
            .values(state="dead", error_class="WorkerLost", error_message="worker lost")
        )
    qtbot.waitUntil(lambda: card.retry_button.isEnabled(), timeout=TIMEOUT)
    card.retry_button.click()
    _said(qtbot, page, "Dry run: 1 retryable, 1 not.")
    box = page.confirmation
    assert isinstance(box, QMessageBox)
    assert "1 dead jobs of reports can be retried." in box.text()
    assert f"{lost[:8]}: its worker died mid-run and the task is not safe to repeat" in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert (state(again), state(lost)) == ("dead", "dead")
    card.retry_button.click()
    _confirm(qtbot, page)
    _said(qtbot, page, "Retry: 1 jobs of reports.")
    qtbot.waitUntil(lambda: state(again) == "completed", timeout=TIMEOUT)
    assert state(lost) == "dead"

    # Clean, from the card: completed jobs leave the registry, the others stay.
    completed = [j.id for j in registry.search(queue="reports", states=["completed"])]
    assert len(completed) >= 7
    card.clean_button.click()
    qtbot.waitUntil(lambda: isinstance(page.confirmation, CleanDialog), timeout=TIMEOUT)
    dialog = page.confirmation
    assert isinstance(dialog, CleanDialog)
    dialog.age_box.setValue(0)
    dialog.accept()
    _said(qtbot, page, f"Cleaned {len(completed):,} completed jobs of reports.")
    assert registry.search(queue="reports", states=["completed"]) == []
    assert state(lost) == "dead"

    # Every action is in the audit log with the admin who took it.
    assert context.services is not None
    admin = context.staff_session.current
    assert admin is not None
    with context.session_factory() as session:
        actions = session.execute(
            select(AuditEntry.action, AuditEntry.staff_id).where(AuditEntry.entity == "job_queue")
        ).all()
    assert {staff for _a, staff in actions} == {admin.staff_id}
    assert {a for a, _s in actions} == {
        "jobs.retry",
        "jobs.promote",
        "jobs.revoke",
        "jobs.duplicate",
        "jobs.remove",
        "jobs.pause",
        "jobs.resume",
        "jobs.promote_scheduled",
        "jobs.retry_failed",
        "jobs.clean",
    }


def test_a_dead_job_raises_one_desktop_alert_that_opens_the_job(
    qtbot: QtBot, redis_context: AppContext
) -> None:
    from jobs.notification_triggers import AlertWatcher
    from purplecross_desktop.domain.notifications import InboxItem
    from purplecross_desktop.jobs_wiring import alert_policy

    context = redis_context

    def doomed(invoice: int) -> None:
        raise PermanentError(f"printer refused invoice {invoice}")

    platform = context.job_runtime().platform
    platform.register(TaskSpec("test.print", doomed, "reports"))
    window, page = _page(qtbot, context)
    centre = window.notification_centre
    centre.timer.setInterval(100)
    alerts: list[InboxItem] = []
    centre.sig_important.connect(alerts.append)
    registry = JobRegistry(platform)
    job_id = platform.enqueue("reports", "test.print", 7)
    qtbot.waitUntil(lambda: registry.get(job_id).job.state == "dead", timeout=TIMEOUT)

    def watcher() -> AlertWatcher:  # each workstation and worker runs one
        return AlertWatcher(
            platform, platform.services["notifications"], policy=alert_policy(context.settings)
        )

    first = watcher()
    assert len(first.check()) == 1
    qtbot.waitUntil(lambda: len(alerts) == 1, timeout=TIMEOUT)
    assert first.check() == []
    assert watcher().check() == []
    qtbot.wait(500)  # several polls of the notifications centre later
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.title == "test.print failed after 1 attempt"
    assert window.statusBar().currentMessage().startswith("test.print failed after 1 attempt")
    window.show_page("today")
    window.open_link(str(alert.link))  # what clicking the tray message does
    qtbot.waitUntil(lambda: page.detail.job_id == job_id, timeout=TIMEOUT)
    assert window.current_page() is page
    assert "printer refused invoice 7" in page.detail.error.toPlainText()


def test_the_periodic_tab_shows_each_schedule_and_opens_its_last_run(
    qtbot: QtBot, context: AppContext
) -> None:
    _window, page = _page(qtbot, context)
    page.tabs.setCurrentIndex(4)
    assert page.current_tab() == "periodic"

    def scan() -> GridRow | None:
        rows = (page.periodic.row_at(n) for n in range(page.periodic.row_count()))
        return next((r for r in rows if r is not None and r["name"] == "Reminder scan"), None)

    def scan_state() -> str | None:
        row = scan()
        return None if row is None else str(row["last_state"])

    # The app enqueues a scan as it starts, and its embedded worker runs it.
    qtbot.waitUntil(lambda: scan_state() == "completed", timeout=TIMEOUT)
    assert page.periodic.row_count() == 2
    row = scan()
    assert row is not None
    assert row["every"] == "every 5 min, on the clock"
    assert row["next_run"] > row["last_enqueued"]
    page.periodic.sig_row_activated.emit(row)
    qtbot.waitUntil(lambda: page.detail.job_id == row["last_job_id"], timeout=TIMEOUT)


def test_the_live_refresh_backs_off_after_a_slow_read(qtbot: QtBot, context: AppContext) -> None:
    from purplecross_desktop.ui.pages.queue_monitor_page import next_read_at

    assert next_read_at(100.0, 100.05) == pytest.approx(100.1)  # quick: the next tick
    assert next_read_at(100.0, 103.0) == pytest.approx(106.0)  # slow: half the time
    _window, page = _page(qtbot, context)
    page.tabs.setCurrentIndex(3)
    with qtbot.waitSignal(page.sig_refreshed, timeout=TIMEOUT):
        pass
    # No read in flight, of any tab: the Overview's first read (the page opens on it) can
    # still be running under load, and its answer would arrive during the wait below.
    qtbot.waitUntil(lambda: not page._read_started, timeout=TIMEOUT)
    page._next_read["workers"] = time.monotonic() + 60  # as after a 20 s read
    refreshed: list[str] = []
    page.sig_refreshed.connect(refreshed.append)
    qtbot.wait(2500)  # two ticks of the live refresh
    assert refreshed == []
    page.refresh()  # what the admin asks for is read at once
    qtbot.waitUntil(lambda: refreshed == ["workers"], timeout=TIMEOUT)
    page._next_read.clear()
    qtbot.waitUntil(lambda: len(refreshed) >= 2, timeout=TIMEOUT)  # the ticks read again
