"""Check-in: the patient's alerts and the owner's balance in plain sight, and the weight."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QWidget

from purplecross_desktop.clinic_time import ClinicTime
from purplecross_desktop.database.base import AppointmentId
from purplecross_desktop.domain.front_desk import AppointmentCard
from purplecross_desktop.ui.actor import current_actor
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.dialogs.desk_dialog import DeskDialog
from purplecross_desktop.ui.pages.labels import enum_label, money
from widgets.alert import Alert


class CheckInDialog(DeskDialog):
    """Check in one appointment, optionally recording the weight taken at the desk.

    Signals:
        sig_checked_in(int): the appointment id, after the arrival was saved.
    """

    sig_checked_in = Signal(int)

    def __init__(
        self, context: AppContext, appointment_id: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(context, "Check in", "Check in", parent=parent)
        self.appointment_id = appointment_id
        self.clinic_time = ClinicTime(context.settings.clinic_timezone)
        self.card: AppointmentCard | None = None
        self.summary = QLabel("Loading the appointment…")
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Appointment")
        self.body.addWidget(self.summary)
        self.alerts = Alert("", kind="error", title="Patient alerts")
        self.alerts.setVisible(False)
        self.body.addWidget(self.alerts)
        self.balance = Alert("", kind="warning", title="Unpaid balance")
        self.balance.setVisible(False)
        self.body.addWidget(self.balance)
        form = QFormLayout()
        self.weight = QLineEdit()
        self.weight.setAccessibleName("Weight in kg")
        self.weight.setPlaceholderText("optional, e.g. 12.4")
        self.weight.setMaximumWidth(160)
        weight_label = QLabel("&Weight (kg)")
        weight_label.setBuddy(self.weight)
        form.addRow(weight_label, self.weight)
        form.addRow("", self.field_error_label("weight_kg"))
        self.last_weight = QLabel("")
        self.last_weight.setObjectName("mutedText")
        form.addRow("", self.last_weight)
        self.body.addLayout(form)
        self.primary.setEnabled(False)
        self.weight.setFocus()
        self._load()

    def _load(self) -> None:
        services = self.context.services
        assert services is not None
        self.context.background(
            self, lambda: services.front_desk.appointment_card(self.appointment_id)
        ).success(self._show_card).failure(self.show_errors).run_in_background()

    def _show_card(self, card: AppointmentCard) -> None:
        self.card = card
        when = self.clinic_time.format_time(card.starts_at)
        self.heading.setText(f"Check in {card.patient}")
        self.summary.setText(
            f"{when} {enum_label(card.type).lower()} with {card.vet} in {card.room}\n"
            f"{card.patient} ({enum_label(card.species).lower()}), owner {card.client}"
        )
        self.alerts.set_items(list(card.alerts))
        self.alerts.setVisible(bool(card.alerts))
        self.balance.set_message(
            f"{card.client} owes {money(card.balance, self.context.settings.clinic_currency)}."
            " Ask about payment before they leave."
        )
        self.balance.setVisible(card.balance > 0)
        if card.last_weight_kg is not None and card.last_weighed_on is not None:
            self.last_weight.setText(
                f"Last weighed {card.last_weight_kg.normalize():f} kg on {card.last_weighed_on}"
            )
        self.primary.setEnabled(True)
        self.adjustSize()

    def submit(self) -> None:
        services = self.context.services
        if services is None or self.card is None:
            return
        weight = self.weight.text().strip() or None
        actor = current_actor(self.context)
        appointment_id = AppointmentId(self.appointment_id)
        self.run(
            lambda: services.appointments.check_in(appointment_id, weight_kg=weight, actor=actor),
            self._done,
        )

    def _done(self, _result: object) -> None:
        self.sig_checked_in.emit(self.appointment_id)
        self.accept()


def open_check_in_dialog(
    context: AppContext, parent: QWidget | None, appointment_id: int
) -> CheckInDialog:
    """Open the check-in dialog for ``appointment_id`` (window-modal) and return it."""
    dialog = CheckInDialog(context, appointment_id, parent)
    dialog.open()
    return dialog
