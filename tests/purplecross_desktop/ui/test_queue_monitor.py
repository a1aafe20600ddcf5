"""The queue monitor page on the app's real job platform (embedded SQLite queue)."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from purplecross_desktop.app import build_context, build_window, shutdown
from purplecross_desktop.settings import load_settings
from purplecross_desktop.ui.pages.queue_monitor_page import QueueMonitorPage

pytestmark = pytest.mark.gui


def test_counts_recent_jobs_and_revoke(qtbot: QtBot) -> None:
    from jobs.registry import JobRegistry

    context = build_context(load_settings())
    try:
        window = build_window(context)
        qtbot.addWidget(window)
        runtime = context.job_runtime()
        registry = JobRegistry(runtime.platform)
        registry.pause("email")  # hold the job so there is something to revoke
        job_id = runtime.email.queue(
            "owner@example.org",
            "Your appointment",
            "appointment_reminder",
            {"client_name": "Ada", "patient_name": "Rex", "appointment_time": "Mon 10:00"},
        )
        page = window.show_page("queues")
        assert isinstance(page, QueueMonitorPage)
        qtbot.waitUntil(lambda: page.jobs.row_count() == 1, timeout=15000)
        qtbot.waitUntil(lambda: page.counts.row_count() >= 1, timeout=15000)
        email_row = page.counts.model()
        queues = [email_row.index(r, 0).data() for r in range(email_row.rowCount())]
        assert "email" in queues
        assert page.message.text().startswith("1 job in the registry")

        page.jobs.select_ids([str(job_id)])
        page.revoke_button.click()
        qtbot.waitUntil(lambda: page.message.text().startswith("Revoke: 1 job"), timeout=15000)
        assert registry.get(str(job_id)).job.state == "revoked"

        page.retry_button.click()  # nothing selected now
        assert page.message.text() == "Select one or more jobs first."
    finally:
        shutdown(context)
