"""The Workflows page: practice managers see it, the list shows each workflow's success rate,
a run opens as a timeline, and the builder saves a new version."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from purplecross_desktop.app import build_context, build_window, shutdown
from purplecross_desktop.domain.staff import StaffRole
from purplecross_desktop.settings import load_settings
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.main_window import MainWindow
from purplecross_desktop.ui.pages.workflows_page import WorkflowsPage
from purplecross_desktop.workflows.document import load, template_paths
from purplecross_desktop.workflows.sample_runs import add_sample_runs
from tests.support.staff import sign_in

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


@pytest.fixture
def desk(qtbot: QtBot) -> Iterator[tuple[AppContext, MainWindow]]:
    context = build_context(load_settings(), start_jobs=False)
    services = context.services
    assert services is not None
    sign_in(context)
    for path in template_paths().values():
        services.workflows.save(load(path))
    add_sample_runs(context.engine, per_workflow=10)
    sign_in(context, StaffRole.PRACTICE_MANAGER)
    window = build_window(context)
    qtbot.addWidget(window)
    yield context, window
    shutdown(context)


def test_practice_managers_see_workflows_and_front_desks_do_not(qtbot: QtBot) -> None:
    context = build_context(load_settings(), start_jobs=False)
    try:
        sign_in(context, StaffRole.FRONT_DESK)
        window = build_window(context)
        qtbot.addWidget(window)
        assert "workflows" not in [spec.key for spec in window.page_specs()]
        sign_in(context, StaffRole.PRACTICE_MANAGER)
        assert "workflows" in [spec.key for spec in window.page_specs()]
    finally:
        shutdown(context)


def test_the_list_runs_and_timeline(desk: tuple[AppContext, MainWindow], qtbot: QtBot) -> None:
    _, window = desk
    page = window.show_page("workflows")
    assert isinstance(page, WorkflowsPage)
    qtbot.waitUntil(lambda: page.workflows.row_count() == 5, timeout=10000)
    qtbot.waitUntil(lambda: page.runs.row_count() > 0, timeout=10000)
    row = page.workflows.row_at(0)
    assert row is not None
    assert row.values["runs"] == 10
    assert row.values["success"].endswith("%")
    assert page.highlights.text().startswith("Busiest: ")
    run = page.runs.row_at(0)
    assert run is not None
    page.show_run(int(run.id))
    qtbot.waitUntil(
        lambda: page.timeline.toPlainText().startswith(f"Run {run.id} of"), timeout=10000
    )
    assert "input:" in page.timeline.toPlainText()


def test_start_from_a_template_change_timing_and_save_a_new_version(
    desk: tuple[AppContext, MainWindow], qtbot: QtBot
) -> None:
    context, window = desk
    page = window.show_page("workflows")
    assert isinstance(page, WorkflowsPage)
    page.builder.load_text(template_paths()["vaccination-due"].read_text("utf-8"))
    page.builder.document.set_input("wait_booked", "timeout", {"days": 9})
    page.builder.request_save()
    qtbot.waitUntil(lambda: "saved as version 2" in page.message.text(), timeout=10000)
    services = context.services
    assert services is not None
    document = services.workflows.document("Vaccination due")
    assert document.data["steps"][1]["with"]["timeout"] == {"days": 9}


def test_a_test_run_against_a_real_past_event_shows_each_step(qtbot: QtBot) -> None:
    from purplecross_desktop.domain.clients import ClientData
    from purplecross_desktop.domain.event_log import EventLog

    context = build_context(load_settings(), start_jobs=True)
    try:
        services = context.services
        assert services is not None
        sign_in(context)
        services.clients.create(ClientData(name="Dora Owner", email="dora@example.org"))
        event = EventLog(context.engine).search(name="client.created", limit=1)[0]
        sign_in(context, StaffRole.PRACTICE_MANAGER)
        window = build_window(context)
        qtbot.addWidget(window)
        page = window.show_page("workflows")
        assert isinstance(page, WorkflowsPage)
        page.builder.load_text(template_paths()["new-client-welcome"].read_text("utf-8"))
        page.builder.event_box.setValue(event.id)
        page.builder.request_test()
        qtbot.waitUntil(
            lambda: "welcome (send_email)" in page.builder.test_output.toPlainText(), timeout=30000
        )
        lines = page.builder.test_output.toPlainText().splitlines()
        assert lines[1] == (
            "welcome (send_email): email dora@example.org: Welcome to the clinic, Dora Owner"
        )
    finally:
        shutdown(context)


def test_the_builder_picks_http_request_endpoints_as_integrations_lists_them(
    qtbot: QtBot,
) -> None:
    context = build_context(load_settings(), start_jobs=True)
    try:
        sign_in(context)
        webhooks = context.job_runtime().platform.services["webhooks"].endpoints
        lab = webhooks.create("https://lab.example.org/hook", ["client.*"], "Lab bridge")
        window = build_window(context)
        qtbot.addWidget(window)
        page = window.show_page("workflows")
        assert isinstance(page, WorkflowsPage)
        document = page.builder.document
        qtbot.waitUntil(lambda: document.endpoints() is not None, timeout=30000)
        assert [(e.id, e.url) for e in document.endpoints() or []] == [
            (lab.endpoint.id, "https://lab.example.org/hook")
        ]

        # A practice manager may not read the endpoints: the field takes a number, and why.
        sign_in(context, StaffRole.PRACTICE_MANAGER)
        page.refresh()
        qtbot.waitUntil(lambda: document.endpoints() is None, timeout=30000)
        assert document.endpoints_note.startswith("Only an admin can list the webhook endpoints")
    finally:
        shutdown(context)
