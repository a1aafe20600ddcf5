"""Reports: pick a report, a period and a format, request it; follow it, open it, cancel it.

Requests run as jobs on the ``reports`` queue (``jobs.reports``); the page reads and
writes them only off the UI thread, and reads the signed-in member's requests every
second while it is visible and one of them is unfinished (every ten seconds otherwise).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, QModelIndex, Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QHideEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QWidget,
)

from purplecross_desktop.clinic_time import ClinicTime
from purplecross_desktop.domain.errors import ValidationError
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.pages.base import Page
from purplecross_desktop.ui.reports_model import InfoRole, ReportRequestsModel
from widgets.alert import Alert
from widgets.button import Button
from widgets.tokens import Spacing

if TYPE_CHECKING:
    from jobs.reports import ReportInfo, ReportJobs

FORMAT_NAMES = {"pdf": "PDF (print)", "xlsx": "Excel", "csv": "CSV"}
PERIODS = ("Today", "This week", "This month", "Last month", "This year", "Last 12 months")
GROUPS = {"month": "Month", "week": "Week", "day": "Day"}
FAST_MS = 1000
SLOW_MS = 10_000


def period_dates(name: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of a named period around ``today``."""
    if name == "Today":
        return today, today
    if name == "This week":
        start = today - dt.timedelta(days=today.weekday())
        return start, start + dt.timedelta(days=6)
    if name == "This month":
        start = today.replace(day=1)
        following = (start + dt.timedelta(days=32)).replace(day=1)
        return start, following - dt.timedelta(days=1)
    if name == "Last month":
        end = today.replace(day=1) - dt.timedelta(days=1)
        return end.replace(day=1), end
    if name == "This year":
        return today.replace(month=1, day=1), today.replace(month=12, day=31)
    if name == "Last 12 months":
        return today.replace(year=today.year - 1) + dt.timedelta(days=1), today
    raise ValueError(f"period: unknown period {name!r}")


class ReportsPage(Page):
    """Request a report and follow the signed-in member's requests.

    Enter in the form requests the report; in the table, Enter opens the selected file and
    Delete cancels the selected report; F5 refreshes.
    """

    title = "Reports"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self._clinic = ClinicTime(context.settings.clinic_timezone)
        self._loading = False
        self._select_job: str | None = None  # the job just requested: select it once listed
        self._build_form()
        self._build_table()
        self.timer = QTimer(self)
        self.timer.setInterval(SLOW_MS)
        self.timer.timeout.connect(self.refresh)
        self._apply_period()
        self._kind_changed()

    # Building -----------------------------------------------------------------------
    def _build_form(self) -> None:
        form = QFormLayout()
        form.setHorizontalSpacing(Spacing.LG)
        form.setVerticalSpacing(Spacing.SM)
        # Imported here, not at the top: the window loads without the jobs stack, and this
        # page is built on its first visit.
        from jobs.report_kinds import KINDS

        self.kind = QComboBox()
        self.kind.setAccessibleName("Report")
        for kind in KINDS.values():
            self.kind.addItem(kind.title, kind.name)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.about = QLabel("")
        self.about.setObjectName("mutedText")
        self.about.setWordWrap(True)
        form.addRow("&Report", self.kind)
        form.addRow("", self.about)

        self.period = QComboBox()
        self.period.setAccessibleName("Period")
        self.period.addItems([*PERIODS, "Custom"])
        self.period.setCurrentText("This month")
        self.period.currentIndexChanged.connect(self._apply_period)
        self.start = self._date_edit("From")
        self.end = self._date_edit("To")
        dates = QHBoxLayout()
        dates.setSpacing(Spacing.SM)
        dates.addWidget(self.period)
        dates.addWidget(QLabel("from"))
        dates.addWidget(self.start)
        dates.addWidget(QLabel("to"))
        dates.addWidget(self.end)
        dates.addStretch(1)
        period_label = QLabel("&Period")
        period_label.setBuddy(self.period)
        form.addRow(period_label, dates)

        self.group = QComboBox()
        self.group.setAccessibleName("Group by")
        for key, label in GROUPS.items():
            self.group.addItem(label, key)
        self.group_label = QLabel("&Group by")
        self.group_label.setBuddy(self.group)
        form.addRow(self.group_label, self.group)

        self.format = QComboBox()
        self.format.setAccessibleName("Format")
        for fmt in ("pdf", "xlsx", "csv"):
            self.format.addItem(FORMAT_NAMES[fmt], fmt)
        form.addRow("&Format", self.format)

        self.email = QLineEdit()
        self.email.setAccessibleName("Email to")
        self.email.setPlaceholderText("Optional: also email the file to this address")
        self.email.returnPressed.connect(self.request)
        form.addRow("&Email to", self.email)
        self.body.addLayout(form)

        self.error = Alert("", kind="error", title="Not requested")
        self.error.setVisible(False)
        self.body.addWidget(self.error)
        buttons = QHBoxLayout()
        self.request_button = Button("Request report", accessible_name="Request report")
        self.request_button.setDefault(True)
        self.request_button.clicked.connect(self.request)
        buttons.addWidget(self.request_button)
        buttons.addStretch(1)
        self.body.addLayout(buttons)

    def _date_edit(self, name: str) -> QDateEdit:
        edit = QDateEdit()
        edit.setAccessibleName(name)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("dd MMM yyyy")
        edit.userDateChanged.connect(lambda _d: self.period.setCurrentText("Custom"))
        return edit

    def _build_table(self) -> None:
        heading = QLabel("Your reports")
        heading.setObjectName("sectionHeading")
        self.body.addWidget(heading)
        self.model = ReportRequestsModel(self._clinic, self)
        self.table = QTableView()
        self.table.setAccessibleName("Your reports")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table (keyboard users)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        for column, width in enumerate((110, 220, 190, 70, 90, 80, 80)):
            self.table.setColumnWidth(column, width)
        self.table.activated.connect(self._open_index)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.body.addWidget(self.table, 1)
        QShortcut(QKeySequence(Qt.Key.Key_Delete), self.table, self.cancel_selected)

        row = QHBoxLayout()
        self.open_button = Button("Open", variant="secondary", accessible_name="Open report")
        self.open_button.clicked.connect(self.open_selected)
        self.cancel_button = Button(
            "Cancel report", variant="secondary", accessible_name="Cancel report"
        )
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.folder_button = Button(
            "Open reports folder", variant="secondary", accessible_name="Open reports folder"
        )
        self.folder_button.clicked.connect(self._open_folder)
        self.status = QLabel("")
        self.status.setObjectName("mutedText")
        self.status.setAccessibleName("Reports status")
        for widget in (self.open_button, self.cancel_button, self.folder_button):
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(self.status)
        self.body.addLayout(row)
        self._update_buttons()

    # Page hooks ---------------------------------------------------------------------
    def activate(self) -> None:
        self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self.timer.stop()
        super().hideEvent(event)

    # Actions ------------------------------------------------------------------------
    def request(self) -> None:
        """Queue the report the form describes (checked by the service: errors show here)."""
        kind = str(self.kind.currentData())
        filters: dict[str, Any] = {}
        if kind == "revenue":
            filters["group"] = str(self.group.currentData())
        start: dt.date = self.start.date().toPython()  # type: ignore[assignment]
        end: dt.date = self.end.date().toPython()  # type: ignore[assignment]
        args = (
            kind,
            str(self.format.currentData()),
            start,
            end,
            filters,
            self._me(),
            self.email.text().strip() or None,
        )
        self.error.setVisible(False)
        self.request_button.set_loading(True)
        self.context.background(self, lambda: self._reports().queue(*args)).success(
            self._requested
        ).failure(self._refused).finally_(
            lambda: self.request_button.set_loading(False)
        ).run_in_background()

    def cancel_selected(self) -> None:
        info = self.selected()
        if info is None or info.finished:
            return
        request_id = info.id
        self.context.background(self, lambda: self._reports().cancel(request_id)).success(
            lambda _ok: self.refresh()
        ).failure(self._show_failure).run_in_background()

    def open_selected(self) -> None:
        info = self.selected()
        if info is not None and info.state == "completed" and info.path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(info.path))

    def refresh(self) -> None:
        """Read the signed-in member's requests off the UI thread."""
        if self._loading:
            return
        self._loading = True
        me = self._me()
        self.context.background(self, lambda: self._reports().recent(me)).success(
            self._show
        ).failure(self._show_failure).finally_(self._loaded).run_in_background()

    def selected(self) -> ReportInfo | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        info: ReportInfo | None = rows[0].data(InfoRole)
        return info

    # Internals ----------------------------------------------------------------------
    def _reports(self) -> ReportJobs:
        service: ReportJobs = self.context.job_runtime().platform.services["reports"]
        return service

    def _me(self) -> int | None:
        current = self.context.staff_session.current
        return None if current is None else int(current.staff_id)

    def _requested(self, job_id: str) -> None:
        self.status.setText("Report requested: it appears below as it runs.")
        self.refresh()
        self._select_job = job_id

    def _refused(self, exc: BaseException) -> None:
        if isinstance(exc, ValidationError):
            labels = {
                "kind": "Report",
                "fmt": "Format",
                "start": "From",
                "end": "To",
                "email_to": "Email to",
            }
            lines = []
            for field, rules in exc.errors.items():
                name = labels.get(field, field)
                lines += [f"{name}: {rule}" for rule in rules]
            self.error.set_message("")
            self.error.set_items(lines)
        else:
            self.error.set_items([])
            self.error.set_message(str(exc))
        self.error.setVisible(True)

    def _show_failure(self, exc: BaseException) -> None:
        self.status.setText(f"Could not read the reports: {exc}")

    def _show(self, items: list[ReportInfo]) -> None:
        selected = self.selected()
        self.model.set_items(items)
        wanted = self._select_job
        row = -1
        if wanted is not None:
            row = next((r for r, i in enumerate(items) if i.job_id == wanted), -1)
            if row >= 0:
                self._select_job = None
        if row < 0 and selected is not None:
            row = self.model.row_of(selected.id)
        if row >= 0 and (selected is None or self.model.row_of(selected.id) != row or wanted):
            self.table.selectRow(row)
        running = any(not i.finished for i in items)
        self.timer.setInterval(FAST_MS if running else SLOW_MS)
        self._update_buttons()

    def _loaded(self) -> None:
        self._loading = False

    def _update_buttons(self) -> None:
        info = self.selected()
        self.open_button.setEnabled(info is not None and info.state == "completed")
        self.cancel_button.setEnabled(info is not None and not info.finished)

    def _open_index(self, index: QModelIndex) -> None:
        self.table.selectRow(index.row())
        self.open_selected()

    def _open_folder(self) -> None:
        folder = self.context.settings.reports_path
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def _kind_changed(self) -> None:
        from jobs.report_kinds import KINDS

        kind = KINDS[str(self.kind.currentData())]
        self.about.setText(kind.description)
        is_revenue = kind.name == "revenue"
        self.group.setVisible(is_revenue)
        self.group_label.setVisible(is_revenue)

    def _apply_period(self) -> None:
        name = self.period.currentText()
        if name == "Custom":
            return
        start, end = period_dates(name, self._clinic.today())
        for edit, day in ((self.start, start), (self.end, end)):
            edit.blockSignals(True)
            edit.setDate(QDate(day.year, day.month, day.day))
            edit.blockSignals(False)
