"""Health: is the database reachable and current, is Redis answering, how are cache and jobs."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QPushButton, QWidget

from purplecross_desktop.settings import mask_url
from purplecross_desktop.ui.context import AppContext, HealthCheck
from purplecross_desktop.ui.pages.base import Page
from widgets.status_chip import StatusChip

#: overall status -> chip tone.
STATUS_TONES = {"healthy": "success", "degraded": "warning", "down": "error"}


def overall_health(context: AppContext) -> Any:
    """The health report (``purplecross_desktop.health``) with this app's cache; runs on a
    worker thread."""
    from purplecross_desktop.health import check_health

    return check_health(context.settings, context.cache)


def database_check(context: AppContext) -> HealthCheck:
    """Rows about the clinic database: where, reachable, schema revision, round-trip time."""

    def check() -> list[tuple[str, str]]:
        from sqlalchemy import text

        from purplecross_desktop.database.session import current_revision

        url = context.settings.effective_database_url
        rows = [("Database", mask_url(url))]
        if context.session_factory is None:
            return [*rows, ("Status", "not connected")]
        started = time.perf_counter()
        with context.session_factory() as session:
            session.execute(text("select 1"))
        rows.append(("Round trip", f"{(time.perf_counter() - started) * 1000:.1f} ms"))
        rows.append(("Schema revision", current_revision(url) or "(none)"))
        return rows

    return check


def redis_check(context: AppContext) -> HealthCheck:
    """Rows about Redis: configured or not, and whether it answers a PING quickly."""

    def check() -> list[tuple[str, str]]:
        url = context.settings.redis_url
        if not url:
            return [("Redis", "not configured (jobs and cache use this computer)")]
        import redis

        from purplecross_desktop.secrets import redis_password_for

        client = redis.Redis.from_url(
            url,
            password=redis_password_for(url),
            socket_connect_timeout=0.5,
            socket_timeout=0.5,
        )
        try:
            started = time.perf_counter()
            client.ping()
            return [
                ("Redis", mask_url(url)),
                ("Redis ping", f"{(time.perf_counter() - started) * 1000:.1f} ms"),
            ]
        except redis.RedisError as exc:
            return [("Redis", mask_url(url)), ("Redis status", f"unreachable: {exc}")]
        finally:
            client.close()

    return check


class HealthPage(Page):
    """The overall status (healthy, degraded or down, with the reasons), one line per
    subsystem, then each check's rows; checks run off the UI thread on every visit.

    Signals:
        sig_status_changed(str): the overall status just read ("healthy", "degraded", "down").
    """

    title = "Health"
    sig_status_changed = Signal(str)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.checks: list[HealthCheck] = [database_check(context), redis_check(context)]
        top = QHBoxLayout()
        self.status_chip = StatusChip("Checking…", "neutral")
        self.status_chip.setAccessibleName("Overall health")
        top.addWidget(self.status_chip)
        top.addStretch(1)
        self.body.addLayout(top)
        self.findings = QLabel("")
        self.findings.setWordWrap(True)
        self.findings.setAccessibleName("Health findings")
        self.body.addWidget(self.findings)
        self.report: Any = None
        self.form = QFormLayout()
        self.body.addLayout(self.form)
        row = QHBoxLayout()
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setAccessibleName("Refresh health checks")
        self.refresh_button.clicked.connect(self.activate)
        row.addWidget(self.refresh_button)
        row.addStretch(1)
        self.body.addLayout(row)
        self.body.addStretch(1)
        self.rows: list[tuple[str, str]] = []
        self.value_labels: list[QLabel] = []

    def activate(self) -> None:
        self.refresh_button.setEnabled(False)
        self.context.background(self, self._run_checks).success(self._show).finally_(
            lambda: self.refresh_button.setEnabled(True)
        ).run_in_background()

    def _run_checks(self) -> tuple[Any, list[tuple[str, str]]]:
        try:
            report = overall_health(self.context)
        except Exception:  # the rows below still say what they can
            report = None
        return report, self._rows()

    def _rows(self) -> list[tuple[str, str]]:
        rows: list[tuple[str, str]] = []
        # Subsystems that start after the window (the job runner) add their checks later.
        for check in [*self.checks, *self.context.health_checks]:
            try:
                rows.extend(check())
            except Exception as exc:  # a failing check is a row, not a crash
                rows.append((getattr(check, "__qualname__", "check"), f"failed: {exc}"))
        return rows

    def _show(self, result: Any) -> None:
        report, rows = result
        if report is not None:
            self.report = report
            self.status_chip.set_text(report.status.capitalize())
            self.status_chip.set_tone(STATUS_TONES[report.status])
            self.findings.setText(
                "\n".join(f"{c.name}: {c.status} - {c.summary}" for c in report.checks)
            )
            self.sig_status_changed.emit(report.status)
        previous, self.rows = self.rows, list(rows)
        if [label for label, _ in previous] == [label for label, _ in self.rows]:
            # The same checks as last time (the usual refresh): update the values in place,
            # so a refresh costs a few setText calls on the UI thread, not a new form.
            for value_label, (_, value) in zip(self.value_labels, self.rows, strict=True):
                value_label.setText(value)
            return
        while self.form.rowCount():
            self.form.removeRow(0)
        self.value_labels = []
        for label, value in self.rows:
            value_label = QLabel(value)
            value_label.setWordWrap(True)
            value_label.setAccessibleName(label)
            self.form.addRow(f"{label}:", value_label)
            self.value_labels.append(value_label)
