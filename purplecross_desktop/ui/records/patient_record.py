"""The patient record: alerts first and in red, then the profile, weight history chart,
vaccinations with next-due dates, prescriptions, visits and invoices."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from purplecross_desktop.clinic_time import ClinicTime
from purplecross_desktop.database.base import PatientId
from purplecross_desktop.domain.errors import NotFound
from purplecross_desktop.records import PatientRecord, RecordQueries
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.dialogs.desk_dialog import DeskDialog
from purplecross_desktop.ui.dialogs.patient_form import SEX_LABELS, parse_day
from purplecross_desktop.ui.dialogs.run_workflow import may_run_workflows
from purplecross_desktop.ui.pages.labels import enum_label, money
from purplecross_desktop.ui.records.jobs_tab import RecordJobsTable
from purplecross_desktop.ui.records.record_table import RecordTable, caption_label
from widgets.alert import Alert
from widgets.button import Button
from widgets.line_chart import ChartPoint, LineChart
from widgets.tokens import Spacing


def age_text(born: dt.date | None, today: dt.date) -> str:
    """ "3 years", "7 months", "12 days" (empty when unknown)."""
    if born is None or born > today:
        return ""
    months = (today.year - born.year) * 12 + today.month - born.month - (today.day < born.day)
    if months >= 24:
        return f"{months // 12} years"
    if months >= 1:
        return f"{months} month{'s' if months != 1 else ''}"
    days = (today - born).days
    return f"{days} day{'s' if days != 1 else ''}"


class PatientRecordDialog(QDialog):
    """One patient's record, loaded off the UI thread.

    Signals:
        sig_loaded(): the record is shown (after each load).
        sig_changed(): something was saved from here.
    """

    sig_loaded = Signal()
    sig_changed = Signal()

    def __init__(self, context: AppContext, patient_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.patient_id = patient_id
        self.record: PatientRecord | None = None
        self.clinic_time = ClinicTime(context.settings.clinic_timezone)
        self._queries = RecordQueries(context.session_factory)
        self.setWindowTitle("Patient")
        self.setAccessibleName("Patient record")
        self.resize(900, 680)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(Spacing.XL, Spacing.LG, Spacing.XL, Spacing.LG)
        outer.setSpacing(Spacing.MD)

        top = QHBoxLayout()
        self.heading = QLabel("Loading…")
        self.heading.setObjectName("dialogHeading")
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.heading.setFont(font)
        self.heading.setAccessibleName("Patient name")
        self.summary = QLabel("")
        self.summary.setAccessibleName("Patient summary")
        top.addWidget(self.heading)
        top.addWidget(self.summary)
        top.addStretch(1)
        self.owner_button = Button("Owner", variant="secondary")
        self.owner_button.setToolTip("Open the owner's record (Ctrl+O)")
        self.owner_button.setAutoDefault(False)
        self.owner_button.setEnabled(False)
        self.owner_button.clicked.connect(self.open_owner)
        top.addWidget(self.owner_button)
        outer.addLayout(top)

        self.alerts = Alert("", kind="error", title="Alerts")
        self.alerts.setAccessibleName("Patient alerts")
        self.alerts.setVisible(False)
        outer.addWidget(self.alerts)
        self.deceased_note = Alert("", kind="info", title="Deceased")
        self.deceased_note.setVisible(False)
        outer.addWidget(self.deceased_note)
        self.error = Alert("", kind="error", title="Could not load the patient")
        self.error.setVisible(False)
        outer.addWidget(self.error)

        details = QGridLayout()
        details.setHorizontalSpacing(Spacing.XL)
        details.setVerticalSpacing(Spacing.XS)
        self.details: dict[str, QLabel] = {}
        for index, (key, label) in enumerate(
            (
                ("species", "Species and breed"),
                ("sex", "Sex"),
                ("born", "Born"),
                ("weight", "Latest weight"),
                ("microchip", "Microchip"),
                ("colour", "Colour"),
                ("balance", "Owner's balance"),
                ("notes", "Notes"),
            )
        ):
            caption = caption_label(label)
            value = QLabel("")
            value.setAccessibleName(label)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            row, column = divmod(index, 4)
            details.addWidget(caption, row * 2, column)
            details.addWidget(value, row * 2 + 1, column)
            self.details[key] = value
        for column in range(4):
            details.setColumnStretch(column, 1)
        outer.addLayout(details)

        actions = QHBoxLayout()
        self.book_button = Button("&Book appointment", icon="plus")
        self.book_button.setToolTip("Book this patient (Ctrl+B)")
        self.book_button.clicked.connect(self.book)
        self.edit_button = Button("&Edit patient", variant="secondary")
        self.edit_button.setToolTip("Edit the profile and alerts (Ctrl+E)")
        self.edit_button.clicked.connect(self.edit)
        self.deceased_button = Button("Mark &deceased…", variant="danger")
        self.deceased_button.setToolTip(
            "Record the death: cancels upcoming appointments and reminders"
        )
        self.deceased_button.clicked.connect(self.mark_deceased)
        self.workflow_button = Button("&Run workflow…", variant="secondary")
        self.workflow_button.setToolTip("Start a workflow for this patient (Ctrl+R)")
        self.workflow_button.clicked.connect(self.run_workflow)
        self.workflow_button.setVisible(may_run_workflows(context))
        for button in (
            self.book_button,
            self.edit_button,
            self.workflow_button,
            self.deceased_button,
        ):
            button.setEnabled(False)
            button.setAutoDefault(False)
            actions.addWidget(button)
        actions.addStretch(1)
        self.close_button = Button("Close", variant="secondary")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)
        actions.addWidget(self.close_button)
        outer.addLayout(actions)

        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Patient record sections")
        self.chart = LineChart("kg", "No weight recorded yet")
        self.chart.setAccessibleName("Weight history")
        self.vaccinations = RecordTable(
            "Vaccinations",
            ("Vaccine", "Given", "Next due", "Batch", "Vet"),
            "No vaccinations recorded",
        )
        self.vaccinations.set_widths((200, 110, 150, 120))
        self.prescriptions = RecordTable(
            "Prescriptions",
            ("Medication", "Dosage", "Frequency", "From", "Until", "Refills", "Vet"),
            "No prescriptions",
            numeric=(5,),
        )
        self.prescriptions.set_widths((170, 110, 120, 100, 100, 60))
        self.visits = RecordTable(
            "Appointments", ("When", "Type", "Vet", "Room", "Status", "Reason"), "No appointments"
        )
        self.visits.set_widths((140, 110, 130, 90, 100))
        self.invoices = RecordTable(
            "Invoices",
            ("Number", "Issued", "Status", "Total", "Balance"),
            "No invoices",
            numeric=(3, 4),
        )
        self.invoices.set_widths((110, 110, 90, 110, 110))
        self.jobs = RecordJobsTable(self.clinic_time.format_datetime)
        for widget, title in (
            (self.chart, "Weight"),
            (self.vaccinations, "Vaccinations"),
            (self.prescriptions, "Prescriptions"),
            (self.visits, "Appointments"),
            (self.invoices, "Invoices"),
            (self.jobs, "Jobs"),
        ):
            self.tabs.addTab(widget, title)
        outer.addWidget(self.tabs, 1)

        QShortcut(QKeySequence("Ctrl+E"), self, self.edit)
        QShortcut(QKeySequence("Ctrl+B"), self, self.book)
        QShortcut(QKeySequence("Ctrl+O"), self, self.open_owner)
        QShortcut(QKeySequence("Ctrl+R"), self, self.run_workflow)
        QShortcut(QKeySequence(Qt.Key.Key_F5), self, self.reload)
        self.reload()

    # Public API ---------------------------------------------------------------
    def reload(self) -> None:
        """Load (again) the whole record off the UI thread."""
        queries, patient_id = self._queries, self.patient_id
        self.context.background(self, lambda: queries.patient_record(patient_id)).success(
            self._show
        ).failure(self._failed).run_in_background()

    def edit(self) -> Any:
        if self.record is None:
            return None
        from purplecross_desktop.ui.dialogs.patient_form import PatientFormDialog

        dialog = PatientFormDialog(self.context, self.record, parent=self)
        dialog.sig_saved.connect(lambda _p: self._after_save())
        dialog.open()
        return dialog

    def book(self) -> Any:
        if self.record is None or not self.record.active:
            return None
        from purplecross_desktop.ui.dialogs.booking import open_booking_dialog

        dialog = open_booking_dialog(self.context, self, self.record.client_id, self.record.id)
        dialog.sig_booked.connect(lambda _id: self._after_save())
        return dialog

    def mark_deceased(self) -> Any:
        """Ask for the date and confirm; the service cancels what was booked."""
        if self.record is None or self.record.deceased:
            return None
        dialog = DeceasedDialog(self.context, self.record, self.clinic_time.today(), self)
        dialog.sig_done.connect(self._after_save)
        dialog.open()
        return dialog

    def open_owner(self) -> Any:
        if self.record is None:
            return None
        from purplecross_desktop.ui.records.client_record import open_client_record

        return open_client_record(self.context, self, self.record.client_id)

    # Internals ----------------------------------------------------------------
    def run_workflow(self) -> Any:
        """Start a manual workflow for this patient (admins and practice managers); the
        owner fills a ``client_id`` input."""
        if self.record is None or not may_run_workflows(self.context):
            return None
        from purplecross_desktop.ui.dialogs.run_workflow import open_run_workflow

        dialog = open_run_workflow(
            self.context,
            self,
            "patient",
            self.record.id,
            self.record.name,
            {"client_id": self.record.client_id},
        )
        dialog.sig_open_run.connect(lambda _run: self.accept())
        return dialog

    def _after_save(self) -> None:
        self.sig_changed.emit()
        self.reload()

    def _show(self, record: PatientRecord) -> None:
        self.record = record
        today = self.clinic_time.today()
        self.error.setVisible(False)
        self.setWindowTitle(f"Patient: {record.name}")
        self.heading.setText(record.name)
        status = "deceased" if record.deceased else ("" if record.active else "inactive")
        self.summary.setText(" · ".join(p for p in (f"No. {record.id}", status) if p))
        self.owner_button.setText(f"Owner: {record.client}")
        self.owner_button.setEnabled(True)
        self.alerts.set_message(" · ".join(record.alerts))
        self.alerts.setVisible(bool(record.alerts))
        if record.deceased:
            day = record.deceased_on.isoformat() if record.deceased_on else "date unknown"
            self.deceased_note.set_message(f"Died {day}. Nothing can be booked.")
        self.deceased_note.setVisible(record.deceased)
        species = enum_label(record.species)
        self.details["species"].setText(f"{species}, {record.breed}" if record.breed else species)
        self.details["sex"].setText(SEX_LABELS.get(record.sex, enum_label(record.sex)))  # type: ignore[call-overload]
        born = record.date_of_birth
        self.details["born"].setText(
            f"{born.isoformat()} ({age_text(born, today)})" if born else "—"
        )
        if record.weights:
            last = record.weights[-1]
            self.details["weight"].setText(
                f"{last.weight_kg.normalize():f} kg on {last.measured_on}"
            )
        else:
            self.details["weight"].setText("—")
        self.details["microchip"].setText(record.microchip or "—")
        self.details["colour"].setText(record.colour or "—")
        owes = record.client_balance
        self.details["balance"].setText(f"Owes {money(owes)}" if owes > 0 else "Nothing owed")
        self.details["notes"].setText(record.notes or "—")
        self.chart.set_points(
            [ChartPoint(w.measured_on, float(w.weight_kg)) for w in record.weights]
        )
        self.vaccinations.set_rows(
            [
                (
                    v.vaccine,
                    v.given_on.isoformat(),
                    _due(v.next_due_on, today),
                    v.batch_number,
                    v.vet,
                )
                for v in record.vaccinations
            ]
        )
        self.prescriptions.set_rows(
            [
                (
                    p.medication,
                    p.dosage,
                    p.frequency,
                    p.starts_on.isoformat(),
                    p.ends_on.isoformat() if p.ends_on else "ongoing",
                    p.refills,
                    p.vet,
                )
                for p in record.prescriptions
            ]
        )
        fmt = self.clinic_time.format_datetime
        self.visits.set_rows(
            [
                (
                    fmt(v.starts_at),
                    enum_label(v.type),
                    v.vet,
                    v.room,
                    enum_label(v.status),
                    v.reason,
                )
                for v in record.visits
            ]
        )
        self.invoices.set_rows(
            [
                (
                    i.number,
                    i.issued_on.isoformat(),
                    enum_label(i.status),
                    money(i.total),
                    money(i.balance),
                )
                for i in record.invoices
            ]
        )
        self.jobs.show_jobs(record.jobs)
        counts = (
            (self.chart, "Weight", len(record.weights)),
            (self.vaccinations, "Vaccinations", len(record.vaccinations)),
            (self.prescriptions, "Prescriptions", len(record.prescriptions)),
            (self.visits, "Appointments", len(record.visits)),
            (self.invoices, "Invoices", len(record.invoices)),
            (self.jobs, "Jobs", len(record.jobs)),
        )
        for widget, title, count in counts:
            self.tabs.setTabText(self.tabs.indexOf(widget), f"{title} ({count})")
        self.edit_button.setEnabled(True)
        self.workflow_button.setEnabled(True)
        self.book_button.setEnabled(record.active)
        self.deceased_button.setEnabled(not record.deceased)
        if self.focusWidget() in (None, self.close_button):
            (self.book_button if record.active else self.edit_button).setFocus()
        self.sig_loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, NotFound):
            text = "This patient no longer exists. Close and search again."
        else:
            text = f"The database did not answer ({type(exc).__name__}: {exc}). Press F5 to retry."
        self.heading.setText("Patient")
        self.error.set_message(text)
        self.error.setVisible(True)


def _due(day: dt.date | None, today: dt.date) -> str:
    if day is None:
        return "—"
    if day < today:
        return f"{day.isoformat()} (overdue)"
    if (day - today).days <= 30:
        return f"{day.isoformat()} (due soon)"
    return day.isoformat()


class DeceasedDialog(DeskDialog):
    """Confirm a death: the date, and what it cancels.

    Signals:
        sig_done(): the death is recorded.
    """

    sig_done = Signal()

    def __init__(
        self, context: AppContext, record: PatientRecord, today: dt.date, parent: QWidget | None
    ) -> None:
        super().__init__(
            context,
            f"Mark {record.name} as deceased",
            "Mark deceased",
            primary_variant="danger",
            close_text="Cancel",
            parent=parent,
        )
        self.record = record
        upcoming = len(record.upcoming)
        booked = (
            f"Their {upcoming} upcoming appointment{'s' if upcoming != 1 else ''} will be cancelled"
            if upcoming
            else "Nothing is booked for them"
        )
        note = QLabel(
            f"{booked}, and pending reminders are withdrawn, so no message reaches "
            f"{record.client} about {record.name} again. This cannot be undone here."
        )
        note.setWordWrap(True)
        self.body.addWidget(note)
        label = QLabel("&Date of death")
        self.day = QLineEdit(today.isoformat())
        self.day.setAccessibleName("Date of death")
        self.day.setMaximumWidth(180)
        label.setBuddy(self.day)
        self.body.addWidget(label)
        self.body.addWidget(self.day)
        self.body.addWidget(self.field_error_label("deceased_on"))
        self.close_button.setAutoDefault(False)
        self.primary.setDefault(False)  # Enter alone must not record a death
        self.day.setFocus()

    def submit(self) -> None:
        services = self.context.services
        assert services is not None
        from purplecross_desktop.domain.errors import ValidationError

        try:
            day = parse_day("deceased_on", self.day.text())
        except ValidationError as exc:
            self.show_errors(exc)
            return
        patient_id = PatientId(self.record.id)
        self.run(lambda: services.patients.mark_deceased(patient_id, day), self._done)

    def _done(self, _patient: Any) -> None:
        self.sig_done.emit()
        self.accept()


def open_patient_record(
    context: AppContext, parent: QWidget | None, patient_id: int
) -> PatientRecordDialog:
    """Open a patient's record (window-modal) and return it."""
    dialog = PatientRecordDialog(context, patient_id, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
