"""The client record: contact details, balance, pets, invoices, visits and every message
sent (or not) to the owner, with edit, add a pet and book one keystroke away."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from purplecross_desktop.clinic_time import ClinicTime
from purplecross_desktop.domain.errors import NotFound
from purplecross_desktop.records import ClientRecord, RecordQueries
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.dialogs.run_workflow import may_run_workflows
from purplecross_desktop.ui.pages.labels import enum_label, money
from purplecross_desktop.ui.records.jobs_tab import RecordJobsTable
from purplecross_desktop.ui.records.record_table import RecordTable, caption_label
from widgets.alert import Alert
from widgets.button import Button
from widgets.tokens import Spacing

CHANNELS = {"email": "Email", "sms": "Text message (SMS)", "none": "No reminders"}


class ClientRecordDialog(QDialog):
    """One client's record, loaded off the UI thread.

    Args:
        context: the app context.
        client_id: the client to show.
        parent: the parent widget.

    Signals:
        sig_loaded(): the record is shown (after each load).
        sig_changed(): something was saved from here (lists behind may refresh).
    """

    sig_loaded = Signal()
    sig_changed = Signal()

    def __init__(self, context: AppContext, client_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.client_id = client_id
        self.record: ClientRecord | None = None
        self.clinic_time = ClinicTime(context.settings.clinic_timezone)
        self._queries = RecordQueries(context.session_factory)
        self.setWindowTitle("Client")
        self.setAccessibleName("Client record")
        self.resize(880, 640)
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
        self.heading.setAccessibleName("Client name")
        self.status = QLabel("")
        self.status.setObjectName("recordStatus")
        self.balance = QLabel("")
        self.balance.setObjectName("recordBalance")
        self.balance.setAccessibleName("Balance")
        bold = self.balance.font()
        bold.setBold(True)
        bold.setPointSizeF(bold.pointSizeF() * 1.2)
        self.balance.setFont(bold)
        top.addWidget(self.heading)
        top.addWidget(self.status)
        top.addStretch(1)
        top.addWidget(self.balance)
        outer.addLayout(top)

        self.error = Alert("", kind="error", title="Could not load the client")
        self.error.setVisible(False)
        outer.addWidget(self.error)

        details = QGridLayout()
        details.setHorizontalSpacing(Spacing.XL)
        details.setVerticalSpacing(Spacing.XS)
        self.details: dict[str, QLabel] = {}
        for index, (key, label) in enumerate(
            (
                ("phones", "Phones"),
                ("email", "Email"),
                ("address", "Address"),
                ("channel", "Reminders by"),
                ("notes", "Notes"),
            )
        ):
            caption = caption_label(label)
            value = QLabel("")
            value.setAccessibleName(label)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            row, column = divmod(index, 2)
            details.addWidget(caption, row * 2, column)
            details.addWidget(value, row * 2 + 1, column)
            self.details[key] = value
        details.setColumnStretch(0, 1)
        details.setColumnStretch(1, 1)
        outer.addLayout(details)

        actions = QHBoxLayout()
        self.edit_button = Button("&Edit client", variant="secondary")
        self.edit_button.setToolTip("Edit contact details (Ctrl+E)")
        self.edit_button.clicked.connect(self.edit)
        self.pet_button = Button("Add &pet", variant="secondary", icon="plus")
        self.pet_button.setToolTip("Register a new pet for this client")
        self.pet_button.clicked.connect(self.add_pet)
        self.book_button = Button("&Book appointment", icon="plus")
        self.book_button.setToolTip("Book for one of this client's pets (Ctrl+B)")
        self.book_button.clicked.connect(self.book)
        self.workflow_button = Button("&Run workflow…", variant="secondary")
        self.workflow_button.setToolTip("Start a workflow for this client (Ctrl+R)")
        self.workflow_button.clicked.connect(self.run_workflow)
        self.workflow_button.setVisible(may_run_workflows(context))
        for button in (self.book_button, self.pet_button, self.edit_button, self.workflow_button):
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
        self.tabs.setAccessibleName("Client record sections")
        self.pets = RecordTable(
            "Pets", ("Name", "Species", "Breed", "Alerts", "Status"), "No pets registered yet"
        )
        self.pets.set_widths((140, 110, 150, 260))
        self.pets.sig_row_activated.connect(self._open_pet)
        self.invoices = RecordTable(
            "Invoices",
            ("Number", "Issued", "Pet", "Status", "Total", "Balance"),
            "No invoices yet",
            numeric=(4, 5),
        )
        self.invoices.set_widths((110, 110, 130, 90, 110))
        self.visits = RecordTable(
            "Appointments",
            ("When", "Pet", "Type", "Vet", "Status", "Reason"),
            "No appointments yet",
        )
        self.visits.set_widths((140, 110, 110, 130, 100))
        self.visits.sig_row_activated.connect(self._open_visit_pet)
        self.messages = RecordTable(
            "Messages",
            ("When", "By", "What", "To", "Outcome", "Detail"),
            "No emails, texts or reminders sent yet",
        )
        self.messages.set_widths((140, 80, 220, 170, 110))
        self.jobs = RecordJobsTable(self.clinic_time.format_datetime)
        for table, title in (
            (self.pets, "Pets"),
            (self.invoices, "Invoices"),
            (self.visits, "Appointments"),
            (self.messages, "Messages"),
            (self.jobs, "Jobs"),
        ):
            self.tabs.addTab(table, title)
        outer.addWidget(self.tabs, 1)

        QShortcut(QKeySequence("Ctrl+E"), self, self.edit)
        QShortcut(QKeySequence("Ctrl+B"), self, self.book)
        QShortcut(QKeySequence("Ctrl+R"), self, self.run_workflow)
        QShortcut(QKeySequence(Qt.Key.Key_F5), self, self.reload)
        self.reload()

    # Public API ---------------------------------------------------------------
    def reload(self) -> None:
        """Load (again) the whole record off the UI thread."""
        queries, client_id = self._queries, self.client_id
        self.context.background(self, lambda: queries.client_record(client_id)).success(
            self._show
        ).failure(self._failed).run_in_background()

    def edit(self) -> Any:
        """The edit form over this record; saving reloads it."""
        if self.record is None:
            return None
        from purplecross_desktop.ui.dialogs.client_form import ClientFormDialog

        dialog = ClientFormDialog(self.context, self.record, parent=self)
        dialog.sig_saved.connect(lambda _c: self._after_save())
        dialog.sig_open_client.connect(lambda cid: open_client_record(self.context, self, cid))
        dialog.open()
        return dialog

    def add_pet(self) -> Any:
        """The new-patient form with this client as owner."""
        if self.record is None:
            return None
        from purplecross_desktop.ui.dialogs.patient_form import PatientFormDialog

        dialog = PatientFormDialog(
            self.context, owner=(self.record.id, self.record.name), parent=self
        )
        dialog.sig_saved.connect(lambda _p: self._after_save())
        dialog.open()
        return dialog

    def book(self) -> Any:
        """The booking dialog for this client (the selected pet when one is)."""
        if self.record is None or not self.record.active:
            return None
        from purplecross_desktop.ui.dialogs.booking import open_booking_dialog

        patient_id = None
        row = self.pets.table.currentRow()
        if 0 <= row < len(self.record.pets) and self.tabs.currentWidget() is self.pets:
            patient_id = self.record.pets[row].id
        dialog = open_booking_dialog(self.context, self, self.record.id, patient_id)
        dialog.sig_booked.connect(lambda _id: self._after_save())
        return dialog

    def run_workflow(self) -> Any:
        """Start a manual workflow for this client (admins and practice managers); the
        selected pet, or the only one, fills a ``patient_id`` input."""
        if self.record is None or not may_run_workflows(self.context):
            return None
        from purplecross_desktop.ui.dialogs.run_workflow import open_run_workflow

        prefill: dict[str, Any] = {}
        row = self.pets.table.currentRow()
        if 0 <= row < len(self.record.pets) and self.tabs.currentWidget() is self.pets:
            prefill["patient_id"] = self.record.pets[row].id
        elif len(self.record.pets) == 1:
            prefill["patient_id"] = self.record.pets[0].id
        dialog = open_run_workflow(
            self.context, self, "client", self.record.id, self.record.name, prefill
        )
        dialog.sig_open_run.connect(lambda _run: self.accept())
        return dialog

    # Internals ----------------------------------------------------------------
    def _after_save(self) -> None:
        self.sig_changed.emit()
        self.reload()

    def _show(self, record: ClientRecord) -> None:
        self.record = record
        self.error.setVisible(False)
        self.setWindowTitle(f"Client: {record.name}")
        self.heading.setText(record.name)
        self.status.setText(f"No. {record.id}" + ("" if record.active else " · inactive"))
        if record.balance > 0:
            self.balance.setText(f"Owes {money(record.balance)}")
            self.balance.setProperty("tone", "warning")
        else:
            self.balance.setText("Nothing owed")
            self.balance.setProperty("tone", "")
        self.balance.style().unpolish(self.balance)
        self.balance.style().polish(self.balance)
        phones = ", ".join(f"{p.number} ({p.kind})" for p in record.phones)
        self.details["phones"].setText(phones or "—")
        self.details["email"].setText(record.email or "—")
        self.details["address"].setText(record.address or "—")
        self.details["channel"].setText(CHANNELS.get(record.preferred_contact, "—"))
        self.details["notes"].setText(record.notes or "—")
        self.pets.set_rows(
            [
                (
                    p.name,
                    enum_label(p.species),
                    p.breed,
                    ", ".join(p.alerts),
                    "Deceased" if p.deceased else ("Active" if p.active else "Inactive"),
                )
                for p in record.pets
            ]
        )
        self.invoices.set_rows(
            [
                (
                    i.number,
                    i.issued_on.isoformat(),
                    i.patient,
                    enum_label(i.status),
                    money(i.total),
                    money(i.balance),
                )
                for i in record.invoices
            ]
        )
        fmt = self.clinic_time.format_datetime
        self.visits.set_rows(
            [
                (
                    fmt(v.starts_at),
                    v.patient,
                    enum_label(v.type),
                    v.vet,
                    enum_label(v.status),
                    v.reason,
                )
                for v in record.visits
            ]
        )
        self.messages.set_rows(
            [(fmt(m.at), m.channel, m.what, m.to, m.outcome, m.detail) for m in record.messages]
        )
        self.jobs.show_jobs(record.jobs)
        for table, title in (
            (self.pets, "Pets"),
            (self.invoices, "Invoices"),
            (self.visits, "Appointments"),
            (self.messages, "Messages"),
            (self.jobs, "Jobs"),
        ):
            self.tabs.setTabText(self.tabs.indexOf(table), f"{title} ({table.row_count()})")
        self.edit_button.setEnabled(True)
        self.workflow_button.setEnabled(True)
        self.pet_button.setEnabled(record.active)
        self.book_button.setEnabled(record.active and any(p.active for p in record.pets))
        if self.focusWidget() in (None, self.close_button):
            self.pets.focus_widget().setFocus()  # arrows pick a pet, Enter opens it
        self.sig_loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, NotFound):
            text = "This client no longer exists (deleted meanwhile?). Close and search again."
        else:
            text = f"The database did not answer ({type(exc).__name__}: {exc}). Press F5 to retry."
        self.heading.setText("Client")
        self.error.set_message(text)
        self.error.setVisible(True)

    def _open_pet(self, row: int) -> None:
        if self.record is not None and 0 <= row < len(self.record.pets):
            open_patient_record(self.context, self, self.record.pets[row].id).sig_changed.connect(
                self._after_save
            )

    def _open_visit_pet(self, row: int) -> None:
        if self.record is not None and 0 <= row < len(self.record.visits):
            patient_id = self.record.visits[row].patient_id
            open_patient_record(self.context, self, patient_id).sig_changed.connect(
                self._after_save
            )


def open_client_record(
    context: AppContext, parent: QWidget | None, client_id: int
) -> ClientRecordDialog:
    """Open a client's record (window-modal) and return it."""
    dialog = ClientRecordDialog(context, client_id, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


def open_patient_record(context: AppContext, parent: QWidget | None, patient_id: int) -> Any:
    """Open a patient's record (window-modal) and return it."""
    from purplecross_desktop.ui.records.patient_record import open_patient_record as open_it

    return open_it(context, parent, patient_id)
