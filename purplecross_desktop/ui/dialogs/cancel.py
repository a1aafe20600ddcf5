"""Cancel an appointment: a reason is required, and the dialog is the confirmation."""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QWidget

from purplecross_desktop.clinic_time import ClinicTime
from purplecross_desktop.database.base import AppointmentId
from purplecross_desktop.domain.errors import ValidationError
from purplecross_desktop.domain.front_desk import AppointmentCard
from purplecross_desktop.ui.actor import current_actor
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.dialogs.desk_dialog import DeskDialog
from purplecross_desktop.ui.pages.labels import enum_label

#: Reasons offered first; any other text can be typed.
COMMON_REASONS: Final = (
    "Owner cancelled by phone",
    "Owner rescheduling",
    "Patient unwell / hospitalised elsewhere",
    "Vet unavailable",
    "Booked in error",
)


class CancelDialog(DeskDialog):
    """Ask why, show what will be cancelled, and cancel it on confirmation.

    Signals:
        sig_cancelled(int): the appointment id, after the cancellation was saved.
    """

    sig_cancelled = Signal(int)

    def __init__(
        self, context: AppContext, appointment_id: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(
            context,
            "Cancel appointment",
            "Cancel appointment",
            primary_variant="danger",
            close_text="Keep it",
            parent=parent,
        )
        self.appointment_id = appointment_id
        self.clinic_time = ClinicTime(context.settings.clinic_timezone)
        self.card: AppointmentCard | None = None
        self.summary = QLabel("Loading the appointment…")
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Appointment")
        self.body.addWidget(self.summary)
        form = QFormLayout()
        self.reason = QComboBox()
        self.reason.setEditable(True)
        self.reason.addItems(COMMON_REASONS)
        self.reason.setCurrentIndex(-1)
        self.reason.setAccessibleName("Reason for cancelling")
        line = self.reason.lineEdit()
        if line is not None:
            line.setPlaceholderText("Why is it cancelled? (required)")
            line.setAccessibleName("Reason for cancelling")
        reason_label = QLabel("&Reason")
        reason_label.setBuddy(self.reason)
        form.addRow(reason_label, self.reason)
        form.addRow("", self.field_error_label("reason"))
        self.body.addLayout(form)
        self.primary.setEnabled(False)
        self.reason.setFocus()
        services = context.services
        assert services is not None
        context.background(
            self, lambda: services.front_desk.appointment_card(appointment_id)
        ).success(self._show_card).failure(self.show_errors).run_in_background()

    def _show_card(self, card: AppointmentCard) -> None:
        self.card = card
        day = self.clinic_time.local(card.starts_at).date()
        self.summary.setText(
            f"{card.patient} ({card.client}): {enum_label(card.type).lower()} on "
            f"{self.clinic_time.format_day(day)} at {self.clinic_time.format_time(card.starts_at)}"
            f" with {card.vet}.\nThe slot becomes free for other bookings."
        )
        self.primary.setEnabled(True)

    def submit(self) -> None:
        services = self.context.services
        if services is None or self.card is None:
            return
        reason = self.reason.currentText().strip()
        if not reason:
            self.show_errors(ValidationError.single("reason", "must be given to cancel"))
            self.reason.setFocus()
            return
        actor = current_actor(self.context)
        appointment_id = AppointmentId(self.appointment_id)
        self.run(
            lambda: services.appointments.cancel(appointment_id, reason, actor=actor),
            self._done,
        )

    def _done(self, _result: object) -> None:
        self.sig_cancelled.emit(self.appointment_id)
        self.accept()


def open_cancel_dialog(
    context: AppContext, parent: QWidget | None, appointment_id: int
) -> CancelDialog:
    """Open the cancel dialog for ``appointment_id`` (window-modal) and return it."""
    dialog = CancelDialog(context, appointment_id, parent)
    dialog.open()
    return dialog
