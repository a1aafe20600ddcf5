"""Render the queue monitor with live jobs, light and dark, into docs/screenshots/.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/monitor_screenshots.py [out_dir]

Builds a throwaway embedded clinic, signs in as its admin, registers a few demo tasks
(reports that take a moment and log, a printer that fails in two ways, a scheduled
export), runs a couple of hundred jobs on the app's own runner and grabs each view.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BACKUP_DONE = threading.Event()
sys.path.insert(0, str(ROOT))


def _tasks(platform: Any) -> None:
    from jobs import JobContext, PermanentError, TaskSpec

    def report(month: int, job: JobContext) -> str:
        job.log(f"collecting invoices for month {month}")
        time.sleep(random.uniform(0.01, 0.08))
        job.progress(60, "rendering")
        job.log("rendered 42 pages")
        return f"report {month}: 42 pages"

    def print_invoice(invoice: int, printer: str) -> None:
        if invoice % 5 == 0:
            raise PermanentError(f"printer {printer} refused invoice {invoice}: out of paper")
        if invoice % 7 == 0:
            raise KeyError(f"invoice {invoice} has no lines")

    platform.register(TaskSpec("demo.monthly_report", report, "reports", context=True))
    platform.register(TaskSpec("demo.print_invoice", print_invoice, "reports"))
    platform.register(TaskSpec("demo.export", lambda: None, "reports"))

    def backup(job: JobContext) -> None:
        job.log("copying the clinic database")
        job.progress(30, "copying")
        BACKUP_DONE.wait(120)  # still running while the screenshots are taken

    platform.register(TaskSpec("demo.backup", backup, "email", context=True))


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="pc-monitor-"))
    os.environ["PURPLECROSS_DATA_DIR"] = str(data_dir)
    os.environ["PURPLECROSS_CONFIG_FILE"] = str(data_dir / "settings.toml")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from purplecross_desktop.app import build_context, build_window, shutdown
    from purplecross_desktop.database.base import utcnow
    from purplecross_desktop.database.session import upgrade
    from purplecross_desktop.domain.roles import StaffRole
    from purplecross_desktop.domain.staff import StaffData
    from purplecross_desktop.settings import load_settings
    from purplecross_desktop.ui.pages.queue_monitor_page import QueueMonitorPage
    from widgets.theme import apply_theme

    upgrade(f"sqlite:///{data_dir / 'clinic.db'}")
    app = QApplication(sys.argv[:1])
    context = build_context(load_settings())
    services = context.services
    assert services is not None
    admin = services.staff.create_first_admin(
        StaffData("Alex Admin", StaffRole.ADMIN, "admin"), "purplecross"
    )
    context.staff_session.sign_in(admin)
    platform = context.job_runtime().platform
    _tasks(platform)
    random.seed(7)
    for month in range(1, 61):
        platform.enqueue("reports", "demo.monthly_report", month, priority=month % 3)
    for invoice in range(1, 80):
        platform.enqueue(
            "reports", "demo.print_invoice", invoice, "10.0.0.23", record={"invoice": invoice}
        )
    platform.enqueue("email", "demo.backup")
    for hours in range(1, 6):
        platform.enqueue("reports", "demo.export", eta=utcnow() + dt.timedelta(hours=hours))
    window = build_window(context)
    window.resize(1440, 900)
    window.show()

    def settle(ms: int = 1500) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    settle(4000)
    page = window.show_page("queues")
    assert isinstance(page, QueueMonitorPage)
    page.overview.sort_box.setCurrentIndex(1)  # by failures: the failing queue first
    for theme in ("light", "dark"):
        apply_theme(app, theme)
        window.apply_chrome(theme)
        for index, name in enumerate(("overview", "jobs", "failures", "workers", "periodic")):
            page.tabs.setCurrentIndex(index)
            settle(1800)
            window.grab().save(str(out / f"monitor-{name}-{theme}.png"))
            print("wrote", out / f"monitor-{name}-{theme}.png")
        page.tabs.setCurrentIndex(2)
        settle(1200)
        group = next(iter(page._groups.values()))
        page.open_job(str(group.example_id))
        settle(1200)
        page.detail.tabs.setCurrentIndex(4)
        settle(300)
        page.detail.grab().save(str(out / f"monitor-detail-error-{theme}.png"))
        report = platform_job(context, "demo.monthly_report")
        page.open_job(report)
        settle(1200)
        page.detail.tabs.setCurrentIndex(2)
        settle(300)
        page.detail.grab().save(str(out / f"monitor-detail-timeline-{theme}.png"))
        page.detail.tabs.setCurrentIndex(1)
        settle(300)
        page.detail.grab().save(str(out / f"monitor-detail-data-{theme}.png"))
        page.detail.hide()
        print("wrote detail", theme)
    BACKUP_DONE.set()
    window.close()
    shutdown(context)


def platform_job(context: Any, task: str) -> str:
    """The newest job of ``task``."""
    from jobs.registry import JobRegistry

    registry = JobRegistry(context.job_runtime().platform)
    return str(registry.search(task=task, limit=1)[0].id)


if __name__ == "__main__":
    main()
