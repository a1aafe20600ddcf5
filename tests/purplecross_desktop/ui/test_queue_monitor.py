"""The queue monitor page on the app's real job platform (embedded SQLite queue)."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from purplecross_desktop.app import build_context, build_window, shutdown
from purplecross_desktop.settings import load_settings
from purplecross_desktop.ui.pages.queue_monitor_page import QueueMonitorPage
from tests.support.staff import sign_in

pytestmark = pytest.mark.gui


def test_counts_recent_jobs_and_revoke(qtbot: QtBot) -> None:
    from jobs.registry import JobRegistry

    context = build_context(load_settings())
    try:
        sign_in(context)
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

        def shown_ids() -> set[str]:
            rows = (page.jobs.row_at(r) for r in range(page.jobs.row_count()))
            return {str(row.id) for row in rows if row is not None}

        # Signing in records events, whose dispatch jobs are listed too.
        qtbot.waitUntil(lambda: str(job_id) in shown_ids(), timeout=15000)
        qtbot.waitUntil(lambda: page.counts.row_count() >= 1, timeout=15000)
        email_row = page.counts.model()
        queues = [email_row.index(r, 0).data() for r in range(email_row.rowCount())]
        assert "email" in queues
        assert " in the registry" in page.message.text()

        page.jobs.select_ids([str(job_id)])
        page.revoke_button.click()
        qtbot.waitUntil(lambda: page.message.text().startswith("Revoke: 1 job"), timeout=15000)
        assert registry.get(str(job_id)).job.state == "revoked"

        page.retry_button.click()  # nothing selected now
        assert page.message.text() == "Select one or more jobs first."
    finally:
        shutdown(context)
