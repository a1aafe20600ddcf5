"""The Reports page: request a PDF, see it finish, open it, see it in the notifications centre;
bad input shows inline and queues nothing; a waiting report is cancelled from the page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from jobs.registry import JobRegistry
from jobs.reports import ReportInfo
from purplecross_desktop.app import build_context, build_window, shutdown, start_jobs_in_background
from purplecross_desktop.clinic_time import ClinicTime
from purplecross_desktop.domain.clients import ClientData
from purplecross_desktop.settings import load_settings
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.main_window import MainWindow
from purplecross_desktop.ui.pages.reports_page import ReportsPage, period_dates
from purplecross_desktop.ui.reports_model import ReportRequestsModel
from tests.support.staff import sign_in
from widgets.theme import apply_theme

pytestmark = pytest.mark.gui


@pytest.fixture
def opened(qtbot: QtBot) -> Iterator[tuple[AppContext, MainWindow, ReportsPage]]:
    context = build_context(load_settings(), start_jobs=False)
    sign_in(context)
    start_jobs_in_background(context).join(30)
    assert context.jobs is not None
    window = build_window(context)
    window.notification_centre.timer.setInterval(100)
    qtbot.addWidget(window)
    window.resize(1280, 820)
    window.show()
    page = window.show_page("reports")
    assert isinstance(page, ReportsPage)
    page.timer.setInterval(100)
    yield context, window, page
    shutdown(context)


def _requests(page: ReportsPage) -> list[ReportInfo]:
    return page.model.items()


def test_a_pdf_requested_from_the_page_arrives_opens_and_is_announced(
    opened: tuple[AppContext, MainWindow, ReportsPage], qtbot: QtBot, tmp_path: Path
) -> None:
    context, window, page = opened
    assert context.services is not None
    for name in ("Ada Lovelace", "=HYPERLINK(1)"):
        context.services.clients.create(ClientData(name=name, email="owner@example.org"))
    page.kind.setCurrentIndex(page.kind.findData("clients"))
    page.period.setCurrentText("This year")
    page.format.setCurrentIndex(page.format.findData("pdf"))
    page.request_button.setFocus()
    qtbot.keyClick(page.request_button, Qt.Key.Key_Space)  # keyboard: the default button
    qtbot.waitUntil(lambda: [i.state for i in _requests(page)] == ["completed"], timeout=30_000)
    info = _requests(page)[0]
    assert info.path is not None
    assert info.rows == 2
    text = pypdf.PdfReader(info.path).pages[0].extract_text()
    assert "Client list" in text
    assert "Ada Lovelace" in text
    assert "=HYPERLINK(1)" in text  # a PDF runs nothing: the name as typed
    assert page.model.index(0, 4).data() == "Ready"
    qtbot.waitUntil(page.open_button.isEnabled)  # the new request is selected; Enter opens it
    # Announced in the notifications centre, with a link that opens the file.
    qtbot.waitUntil(
        lambda: window.notifications_button.text() == "Notifications (1)", timeout=20_000
    )
    items = window.notification_centre.model.items()
    assert [(i.title, i.link) for i in items] == [("Report ready: Client list", info.path)]
    for theme in ("light", "dark"):
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        apply_theme(app, theme)
        window.apply_chrome(theme)
        page.kind.setCurrentIndex(page.kind.findData("revenue"))  # shows "Group by"
        window.grab().save(str(tmp_path / f"reports-{theme}.png"))
    assert page.group.isVisibleTo(page)


def test_bad_input_shows_the_rule_inline_and_queues_nothing(
    opened: tuple[AppContext, MainWindow, ReportsPage], qtbot: QtBot
) -> None:
    _, _, page = opened
    page.email.setText("not an address")
    page.start.setDate(page.end.date().addDays(3))  # after the end
    assert page.period.currentText() == "Custom"
    page.email.setFocus()
    qtbot.keyClick(page.email, Qt.Key.Key_Return)
    qtbot.waitUntil(page.error.isVisible)
    assert sorted(page.error.items()) == [
        "Email to: 'not an address' is not an email address",
        f"To: must not be before the start ({page.start.date().toPython().isoformat()})",
    ]
    page.refresh()
    qtbot.wait(300)
    assert _requests(page) == []


def test_a_waiting_report_is_cancelled_from_the_page_with_the_delete_key(
    opened: tuple[AppContext, MainWindow, ReportsPage], qtbot: QtBot
) -> None:
    context, _, page = opened
    assert context.jobs is not None
    JobRegistry(context.jobs.platform).pause("reports")  # it waits: nothing runs it
    page.request()
    qtbot.waitUntil(lambda: len(_requests(page)) == 1, timeout=10_000)
    qtbot.waitUntil(page.cancel_button.isEnabled)
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: _requests(page)[0].state == "cancelled", timeout=10_000)
    assert page.model.index(0, 4).data() == "Cancelled"
    assert not page.cancel_button.isEnabled()
    assert not page.open_button.isEnabled()


def test_the_requests_model_passes_the_model_tester(qtmodeltester: object) -> None:
    model = ReportRequestsModel(ClinicTime("Europe/London"))
    now = dt.datetime(2031, 3, 5, 12, 0, tzinfo=dt.UTC)
    infos = [
        ReportInfo(
            i,
            "revenue",
            "Revenue by period",
            "csv",
            now.date(),
            now.date(),
            {},
            None,
            None,
            state,
            40,
            100 * i,
            "",
            None,
            None,
            None,
            False,
            now,
            None,
        )
        for i, state in enumerate(("running", "completed", "failed"), 1)
    ]
    model.set_items(infos)
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    model.set_items([infos[0]])  # a reset
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    assert model.index(0, 4).data() == "Running"


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("Today", dt.date(2031, 3, 5), dt.date(2031, 3, 5)),
        ("This week", dt.date(2031, 3, 3), dt.date(2031, 3, 9)),
        ("This month", dt.date(2031, 3, 1), dt.date(2031, 3, 31)),
        ("Last month", dt.date(2031, 2, 1), dt.date(2031, 2, 28)),
        ("This year", dt.date(2031, 1, 1), dt.date(2031, 12, 31)),
        ("Last 12 months", dt.date(2030, 3, 6), dt.date(2031, 3, 5)),
    ],
)
def test_named_periods(name: str, first: dt.date, last: dt.date) -> None:
    assert period_dates(name, dt.date(2031, 3, 5)) == (first, last)
