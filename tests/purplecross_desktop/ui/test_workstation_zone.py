"""A workstation whose own clock is in another zone still shows and reads the clinic's time.

The process runs in Pacific/Auckland (a laptop brought from abroad); the clinic is in
America/New_York (Settings → Time zone), 16-18 hours behind, so neither the workstation's
time nor UTC can pass for the clinic's. Each screen that showed the computer's time shows
the clinic's: the Reports list, the notifications centre, a workflow run's steps, the
Appointments presets, the webhooks "Failed since" input, the queue monitor's job detail.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QDate, QDateTime, QTime, QTimeZone
from pytestqt.qtbot import QtBot

from jobs.registry import JobRegistry
from purplecross_desktop.app import build_context, build_window, shutdown, start_jobs_in_background
from purplecross_desktop.clinic_time import ClinicTime
from purplecross_desktop.database.base import StaffId
from purplecross_desktop.domain.notifications import NotificationKind
from purplecross_desktop.domain.staff import StaffRole
from purplecross_desktop.domain.webhooks.service import EndpointInfo
from purplecross_desktop.settings import load_settings
from purplecross_desktop.ui.monitor.detail import options_rows
from purplecross_desktop.ui.pages.appointments_page import AppointmentsPage
from purplecross_desktop.ui.pages.integrations_page import IntegrationsPage
from purplecross_desktop.ui.pages.reports_page import ReportsPage
from purplecross_desktop.ui.pages.staff_page import StaffPage
from purplecross_desktop.ui.pages.workflows_page import WorkflowsPage
from purplecross_desktop.workflows.document import load, template_paths
from purplecross_desktop.workflows.sample_runs import add_sample_runs
from tests.purplecross_desktop.ui.desk_support import seed_desk
from tests.support.staff import PASSWORD, sign_in
from widgets.datagrid import DataGrid, RangeFilter

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise"),
]

CLINIC = ZoneInfo("America/New_York")
WORKSTATION = ZoneInfo("Pacific/Auckland")


@pytest.fixture(autouse=True)
def far_workstation(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The clinic in New York; this process (the workstation) in Auckland, then restored."""
    monkeypatch.setenv("PURPLECROSS_CLINIC_TIMEZONE", "America/New_York")
    with pytest.MonkeyPatch.context() as zone:
        zone.setenv("TZ", "Pacific/Auckland")
        time.tzset()
        try:
            now = dt.datetime.now(dt.UTC)
            assert now.astimezone().utcoffset() == now.astimezone(WORKSTATION).utcoffset()
            yield
        finally:
            zone.undo()
            time.tzset()


def on_clinic(moment: dt.datetime, fmt: str) -> str:
    """``moment`` as the clinic reads it; never what the workstation's clock says."""
    shown = moment.astimezone(CLINIC).strftime(fmt)
    assert shown != moment.astimezone().strftime(fmt)  # the test can tell the two apart
    return shown


def test_the_reports_list_shows_when_a_report_was_requested_on_the_clinic_clock(
    qtbot: QtBot,
) -> None:
    context = build_context(load_settings(), start_jobs=False)
    try:
        sign_in(context)
        start_jobs_in_background(context).join(30)
        assert context.jobs is not None
        JobRegistry(context.jobs.platform).pause("reports")  # it stays listed as waiting
        window = build_window(context)
        qtbot.addWidget(window)
        page = window.show_page("reports")
        assert isinstance(page, ReportsPage)
        page.timer.setInterval(100)
        page.request()
        qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10_000)
        [info] = page.model.items()
        assert page.model.index(0, 0).data() == on_clinic(info.created_at, "%d %b %H:%M")
    finally:
        shutdown(context)


def test_the_notifications_centre_shows_each_item_on_the_clinic_clock(qtbot: QtBot) -> None:
    context = build_context(load_settings(), start_jobs=False)
    try:
        me = sign_in(context)
        window = build_window(context)
        window.notification_centre.timer.setInterval(100)
        qtbot.addWidget(window)
        assert context.services is not None
        context.services.notifications.deliver(
            StaffId(me.staff_id),
            NotificationKind.PAYMENT_RECEIVED,
            "Payment received",
            "£40.00 from Ada Lovelace.",
            dedupe_key="zone:1",
        )
        model = window.notification_centre.model
        qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=10_000)
        [item] = model.items()
        text = model.index(0).data()
        assert text == f"● Payment received  ·  {on_clinic(item.created_at, '%d %b %H:%M')}"
    finally:
        shutdown(context)


def test_a_workflow_run_and_its_steps_show_the_clinic_clock(qtbot: QtBot) -> None:
    context = build_context(load_settings(), start_jobs=False)
    try:
        services = context.services
        assert services is not None
        sign_in(context)
        for path in template_paths().values():
            services.workflows.save(load(path))
        add_sample_runs(context.engine, per_workflow=3)
        sign_in(context, StaffRole.PRACTICE_MANAGER)
        window = build_window(context)
        qtbot.addWidget(window)
        page = window.show_page("workflows")
        assert isinstance(page, WorkflowsPage)
        qtbot.waitUntil(lambda: page.runs.row_count() > 0, timeout=10_000)
        row = page.runs.row_at(0)
        assert row is not None
        run, steps = services.workflows.run(int(row.id))
        grid = page.runs.model()
        started = grid.data(grid.index(0, grid.column_of("started_at")))
        assert started == on_clinic(run.started_at, "%Y-%m-%d %H:%M")
        page.show_run(run.id)
        qtbot.waitUntil(lambda: page.timeline.toPlainText().startswith(f"Run {run.id} of"))
        step_lines = [
            line for line in page.timeline.toPlainText().splitlines() if line[:2] in ("19", "20")
        ]
        assert steps
        assert [line[:19] for line in step_lines] == [
            on_clinic(s.started_at, "%Y-%m-%d %H:%M:%S") for s in steps
        ]
    finally:
        shutdown(context)


def test_the_appointments_presets_are_the_clinic_s_days(
    qtbot: QtBot, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = seed_desk(database_url, monkeypatch)
    try:
        window = build_window(desk.context)
        qtbot.addWidget(window)
        page = window.show_page("appointments")
        assert isinstance(page, AppointmentsPage)
        today = dt.datetime.now(CLINIC).date()
        midnight = dt.datetime.combine(today, dt.time.min, tzinfo=CLINIC)
        last = dt.datetime.combine(today, dt.time.max, tzinfo=CLINIC)
        views = {view.name: dict(view.filters) for view in page.saved_views()}
        arrivals = views["Today's arrivals"]["starts_at"]
        assert arrivals == RangeFilter(midnight, last)
        week = views["Upcoming week"]["starts_at"]
        assert isinstance(week, RangeFilter)
        assert week.low == midnight
        assert week.high == dt.datetime.combine(
            today + dt.timedelta(days=7), dt.time.max, tzinfo=CLINIC
        )
        # The list opens on the clinic's today and shows each start on the clinic's clock.
        grid = page.grid
        opening = grid.column_filter("starts_at")
        assert isinstance(opening, RangeFilter)
        assert opening.low == midnight
        qtbot.waitUntil(lambda: not grid.is_loading() and grid.row_count() == 3, timeout=10_000)
        model = grid.model()
        cell = model.data(model.index(0, model.column_of("starts_at")))
        assert cell == on_clinic(desk.at(9), "%Y-%m-%d %H:%M")
    finally:
        desk.close()


def test_the_webhooks_failed_since_input_is_typed_on_the_clinic_clock(qtbot: QtBot) -> None:
    context = build_context(load_settings(), start_jobs=False)
    try:
        sign_in(context)
        window = build_window(context)
        qtbot.addWidget(window)
        page = window.show_page("integrations")
        assert isinstance(page, IntegrationsPage)
        panel = page.webhooks
        edit = panel.since_edit
        # It opens on a day ago, on the clinic's clock.
        opened = edit.text()
        day_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        assert opened in {
            on_clinic(day_ago - dt.timedelta(minutes=m), "%Y-%m-%d %H:%M") for m in (0, 1)
        }
        # What the admin types is the clinic's time, zone shown as the booking spans show it.
        utc = QTimeZone(QTimeZone.Initialization.UTC)
        edit.setDateTime(QDateTime(QDate(2031, 1, 15), QTime(10, 30), utc))
        assert panel.recover_since() == dt.datetime(2031, 1, 15, 15, 30, tzinfo=dt.UTC)
        assert panel.since_zone.text() == "EST"
        # 02:30 on the night Auckland skips 02:00-03:00 is an ordinary New York time.
        edit.setDateTime(QDateTime(QDate(2031, 9, 28), QTime(2, 30), utc))
        assert panel.recover_since() == dt.datetime(2031, 9, 28, 6, 30, tzinfo=dt.UTC)
        assert panel.since_zone.text() == "EDT"
        # And an instant put in shows as the clinic reads it.
        moment = dt.datetime(2031, 7, 4, 1, 5, tzinfo=dt.UTC)
        panel.set_recover_since(moment)
        assert edit.text() == on_clinic(moment, "%Y-%m-%d %H:%M") == "2031-07-03 21:05"
        assert panel.recover_since() == moment
        # After a rotation, until when the old secret signs: clinic time, zone named.
        until = dt.datetime.now(dt.UTC) + dt.timedelta(hours=20)
        info = EndpointInfo(
            1, "https://lab.example.org/hook", "Lab", ["client.*"], True, None, None, False,
            None, until, until - dt.timedelta(days=1), {},
        )  # fmt: skip
        panel._show_endpoint(info)
        stated = f"{on_clinic(until, '%Y-%m-%d %H:%M')} {until.astimezone(CLINIC):%Z}"
        assert f"Old secret also signs until {stated}" in panel.detail_label.text()
    finally:
        shutdown(context)


def test_a_job_s_detail_shows_its_times_on_the_clinic_clock() -> None:
    at = dt.datetime(2031, 1, 15, 15, 30, 5, tzinfo=dt.UTC)
    fields: dict[str, Any] = {
        "id": "j1",
        "queue": "default",
        "task": "send_email",
        "state": "completed",
        "attempts": 1,
        "max_attempts": 3,
        "priority": 0,
        "idempotency_key": None,
        "enqueued_at": at,
        "next_run_at": at,
        "started_at": at,
        "finished_at": at,
        "wait_ms": 0,
        "duration_ms": 5,
        "progress": 100,
        "progress_message": "",
        "worker_id": None,
    }
    view = SimpleNamespace(fields=fields, result=None)
    rows = dict(options_rows(view, None, ClinicTime("America/New_York")))
    assert rows["Enqueued"] == rows["Started"] == rows["Finished"] == "2031-01-15 10:30:05"
    assert rows["Runs at (ETA)"] == on_clinic(at, "%Y-%m-%d %H:%M") == "2031-01-15 10:30"


def test_every_grid_the_app_builds_shows_and_exports_times_in_the_clinic_zone(
    qtbot: QtBot,
) -> None:
    """A grid given no zone shows aware times as stored (UTC) and exports them to Excel in
    the computer's zone: every grid on every page gets the clinic's."""
    context = build_context(load_settings(), start_jobs=False)
    try:
        sign_in(context)
        window = build_window(context)
        qtbot.addWidget(window)
        keys = [spec.key for spec in window.page_specs()]
        for key in keys:
            window.show_page(key)
        grids = window.findChildren(DataGrid)
        names = {grid.accessibleName() for grid in grids}
        assert {"Jobs", "Workers", "Failure groups", "Job timeline", "Delivery log"} <= names
        assert len(grids) >= 14, names
        unzoned = [
            (grid.accessibleName() or grid.parent().objectName(), column.key)
            for grid in grids
            for column in grid.model().columns
            if column.kind in ("datetime", "auto") and column.timezone != CLINIC
        ]
        assert unzoned == []
    finally:
        shutdown(context)


def test_the_staff_list_shows_the_last_sign_in_on_the_clinic_clock(qtbot: QtBot) -> None:
    context = build_context(load_settings(), start_jobs=False)
    try:
        sign_in(context)
        assert context.services is not None
        member = context.services.staff.sign_in("admin", PASSWORD)
        assert member is not None
        assert member.last_sign_in_at is not None
        window = build_window(context)
        qtbot.addWidget(window)
        page = window.show_page("staff")
        assert isinstance(page, StaffPage)
        grid = page.grid
        qtbot.waitUntil(lambda: not grid.is_loading() and grid.row_count() == 1, timeout=10_000)
        model = grid.model()
        cell = model.data(model.index(0, model.column_of("last_sign_in_at")))
        assert cell == on_clinic(member.last_sign_in_at, "%Y-%m-%d %H:%M")
    finally:
        shutdown(context)
