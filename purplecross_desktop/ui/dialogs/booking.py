"""Book an appointment: find the patient by name, owner or phone, pick or find a free slot.

Times are entered in the clinic's time zone. "Find next free slot" searches the opening
hours from the chosen date and time for the type's length, with the chosen vet and room
or any; the double-booking rule's message shows inline under the field it names.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from PySide6.QtCore import QDate, QEvent, QObject, Qt, QTime, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QTimeEdit,
    QWidget,
)

from purplecross_desktop.clinic_time import ClinicTime
from purplecross_desktop.database.base import PatientId, RoomId, StaffId
from purplecross_desktop.domain.appointments import AppointmentType, Booking, FreeSlot
from purplecross_desktop.domain.errors import ValidationError
from purplecross_desktop.domain.front_desk import Choice, PatientChoice
from purplecross_desktop.ui.actor import current_actor
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.dialogs.desk_dialog import DeskDialog
from purplecross_desktop.ui.pages.labels import enum_label
from widgets.alert import Alert
from widgets.button import Button

#: The usual length of each type, in minutes (the duration field starts here).
DEFAULT_MINUTES: Final = {
    AppointmentType.CONSULTATION: 20,
    AppointmentType.VACCINATION: 15,
    AppointmentType.CHECK_UP: 20,
    AppointmentType.FOLLOW_UP: 15,
    AppointmentType.DENTAL: 60,
    AppointmentType.SURGERY: 120,
    AppointmentType.EMERGENCY: 30,
}
SEARCH_DELAY_MS: Final = 200
ROOM_HINT: Final = "Any room"
VET_HINT: Final = "Any vet"


class BookingDialog(DeskDialog):
    """Book one appointment.

    Args:
        context: the app context.
        client_id: list this owner's pets first.
        patient_id: preselect this patient.
        starts_at: the proposed start (e.g. the calendar slot); the next quarter hour
            otherwise.
        vet_id / room_id: preselect them (e.g. the calendar column).

    Signals:
        sig_booked(int): the new appointment's id.
    """

    sig_booked = Signal(int)

    def __init__(
        self,
        context: AppContext,
        parent: QWidget | None = None,
        *,
        client_id: int | None = None,
        patient_id: int | None = None,
        starts_at: dt.datetime | None = None,
        vet_id: int | None = None,
        room_id: int | None = None,
    ) -> None:
        super().__init__(context, "Book an appointment", "Book", parent=parent)
        self.setMinimumWidth(560)
        self.clinic_time = ClinicTime(context.settings.clinic_timezone)
        self._client_id = client_id
        self._want_vet = vet_id
        self._want_room = room_id
        self.patient: PatientChoice | None = None
        # Enter typed before the search answered: pick the first match when it does.
        self._pick_when_found = False
        self._searches = 0  # a search's number, so an older answer never replaces a newer

        form = QFormLayout()
        self.search = QLineEdit()
        self.search.setAccessibleName("Find patient")
        self.search.setPlaceholderText("Name, owner or phone number")
        self.results = QListWidget()
        self.results.setAccessibleName("Matching patients")
        self.results.setMaximumHeight(120)
        self.results.currentItemChanged.connect(self._on_patient_chosen)
        # Enter in the search goes to the matches; it must not also press "Book" (the
        # dialog's default button) with whichever patient happens to be first
        self.search.installEventFilter(self)
        self._search_timer: QTimer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._run_search)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self._add_row(form, "&Patient", self.search, "patient_id")
        form.addRow("", self.results)
        self.alerts = Alert("", kind="error", title="Patient alerts")
        self.alerts.setVisible(False)
        form.addRow("", self.alerts)

        self.type = QComboBox()
        self.type.setAccessibleName("Appointment type")
        for kind in AppointmentType:
            self.type.addItem(enum_label(kind), kind.value)
        self.type.currentIndexChanged.connect(self._on_type_changed)
        self._add_row(form, "&Type", self.type, "type")

        self.vet = QComboBox()
        self.vet.setAccessibleName("Veterinarian")
        self.vet.addItem(VET_HINT, None)
        self._add_row(form, "&Vet", self.vet, "vet_id")
        self.room = QComboBox()
        self.room.setAccessibleName("Room")
        self.room.addItem(ROOM_HINT, None)
        self._add_row(form, "&Room", self.room, "room_id")

        when = QWidget()
        when_row = QHBoxLayout(when)
        when_row.setContentsMargins(0, 0, 0, 0)
        self.date = QDateEdit()
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("ddd d MMM yyyy")
        self.date.setAccessibleName("Date")
        self.time = QTimeEdit()
        self.time.setDisplayFormat("HH:mm")
        self.time.setAccessibleName("Start time")
        self.minutes = QSpinBox()
        self.minutes.setRange(5, 720)
        self.minutes.setSingleStep(5)
        self.minutes.setSuffix(" min")
        self.minutes.setAccessibleName("Duration in minutes")
        when_row.addWidget(self.date)
        when_row.addWidget(self.time)
        when_row.addWidget(self.minutes)
        self.find_slot = Button("Find &next free slot", variant="secondary", button_size="small")
        self.find_slot.setAccessibleDescription(
            "Search the opening hours from this date and time for the type's length"
        )
        self.find_slot.clicked.connect(self.find_next_free_slot)
        when_row.addStretch(1)
        self._add_row(form, "&When", when, "starts_at")
        form.addRow("", self.field_error_label("ends_at"))
        # the search on its own line: beside the date and times it was cut off
        slot = QWidget()
        slot_row = QHBoxLayout(slot)
        slot_row.setContentsMargins(0, 0, 0, 0)
        self.slot_note = QLabel("")
        self.slot_note.setObjectName("mutedText")
        self.slot_note.setAccessibleName("Free slot found")
        self.slot_note.setWordWrap(True)
        slot_row.addWidget(self.find_slot)
        slot_row.addWidget(self.slot_note, 1)
        form.addRow("", slot)

        self.reason = QLineEdit()
        self.reason.setAccessibleName("Reason")
        self.reason.setPlaceholderText("e.g. annual booster, limping since Monday")
        self._add_row(form, "R&eason", self.reason, "reason")
        self.body.addLayout(form)

        start = starts_at or self._next_quarter()
        local = self.clinic_time.local(start)
        self.date.setDate(QDate(local.year, local.month, local.day))
        self.time.setTime(QTime(local.hour, local.minute))
        self._on_type_changed(0)
        self.setTabOrder(self.search, self.results)
        self.search.setFocus()
        self._load_choices(patient_id)

    # Public API ---------------------------------------------------------------
    def starts_at(self) -> dt.datetime:
        """The chosen start as an aware instant (entered in clinic time)."""
        day = self.date.date().toPython()
        time = self.time.time().toPython()
        assert isinstance(day, dt.date)
        assert isinstance(time, dt.time)
        return self.clinic_time.at(day, time)

    def find_next_free_slot(self) -> None:
        """Search from the chosen date and time for the type's length; fill in the result."""
        services = self.context.services
        if services is None:
            return
        windows = self.clinic_time.opening_windows(max(self.starts_at(), self.clinic_time.now()))
        length = dt.timedelta(minutes=self.minutes.value())
        vet, room = self.vet.currentData(), self.room.currentData()
        patient = self.patient.id if self.patient else None
        appointments = services.appointments
        self.slot_note.setText("Searching…")
        self.context.background(
            self,
            lambda: appointments.next_free_slot(
                windows,
                length,
                vet_id=StaffId(vet) if vet else None,
                room_id=RoomId(room) if room else None,
                patient_id=PatientId(patient) if patient else None,
            ),
        ).success(self._show_slot).failure(self.show_errors).run_in_background()

    def submit(self) -> None:
        """Book; "Any vet" or "Any room" takes one that is free for the whole slot."""
        services = self.context.services
        if services is None:
            return
        if self.patient is None:
            self.show_errors(
                ValidationError({"patient_id": ["choose a patient (type a name, owner or phone)"]})
            )
            return
        patient_id = PatientId(self.patient.id)
        starts = self.starts_at()
        ends = starts + dt.timedelta(minutes=self.minutes.value())
        vet, room = self.vet.currentData(), self.room.currentData()
        kind, reason = str(self.type.currentData()), self.reason.text()
        actor = current_actor(self.context)
        appointments = services.appointments

        any_vet, any_room = vet is None, room is None
        first_vet = self.vet.itemData(1) if self.vet.count() > 1 else None
        first_room = self.room.itemData(1) if self.room.count() > 1 else None

        def book() -> Any:
            vet_id = StaffId(int(vet)) if vet is not None else None
            room_id = RoomId(int(room)) if room is not None else None
            if vet_id is None or room_id is None:
                slot = appointments.next_free_slot(
                    [(starts, ends)],
                    ends - starts,
                    vet_id=vet_id,
                    room_id=room_id,
                    patient_id=patient_id,
                )
                if slot is not None:
                    vet_id, room_id = StaffId(slot.vet_id), RoomId(slot.room_id)
                elif first_vet is None or first_room is None:
                    raise ValidationError.single("vet_id", "the clinic has no vets or rooms")
                else:  # the domain says what is busy; "Any" fields get a plain message
                    vet_id = vet_id or StaffId(int(first_vet))
                    room_id = room_id or RoomId(int(first_room))
            booking = Booking(
                patient_id=patient_id,
                vet_id=vet_id,
                room_id=room_id,
                starts_at=starts,
                ends_at=ends,
                type=kind,
                reason=reason,
            )
            try:
                return appointments.book(booking, actor=actor)
            except ValidationError as exc:
                errors = dict(exc.errors)
                for field, chosen, what in (
                    ("vet_id", any_vet, "vet"),
                    ("room_id", any_room, "room"),
                ):
                    if chosen and field in errors:
                        errors[field] = [
                            f"no {what} is free then: choose another time, or find the "
                            "next free slot"
                        ]
                raise ValidationError(errors) from None

        self.run(book, self._done)

    # Internals ----------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.search
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self._focus_results()
            return True
        return super().eventFilter(watched, event)

    def _add_row(self, form: QFormLayout, label: str, field: QWidget, error_key: str) -> None:
        caption = QLabel(label)
        caption.setBuddy(field)
        form.addRow(caption, field)
        form.addRow("", self.field_error_label(error_key))

    def _next_quarter(self) -> dt.datetime:
        now = self.clinic_time.now()
        quarter = (now.minute // 15 + 1) * 15
        return now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(minutes=quarter)

    def _load_choices(self, patient_id: int | None) -> None:
        services = self.context.services
        assert services is not None
        queries = services.front_desk
        client_id = self._client_id

        def load() -> tuple[list[Choice], list[Choice], list[PatientChoice]]:
            patients = (
                queries.find_patients(patient_id=patient_id)
                if patient_id is not None
                else queries.find_patients(client_id=client_id)
                if client_id is not None
                else []
            )
            return queries.vets(), queries.rooms(), patients

        self.context.background(self, load).success(self._show_choices).failure(
            self.show_errors
        ).run_in_background()

    def _show_choices(self, loaded: tuple[list[Choice], list[Choice], list[PatientChoice]]) -> None:
        vets, rooms, patients = loaded
        for combo, items, wanted in (
            (self.vet, vets, self._want_vet),
            (self.room, rooms, self._want_room),
        ):
            for item in items:
                combo.addItem(item.name, item.id)
            if wanted is not None:
                combo.setCurrentIndex(max(0, combo.findData(wanted)))
        self._show_patients(patients)
        if len(patients) == 1:
            self.results.setCurrentRow(0)
            self.type.setFocus()

    def _run_search(self) -> None:
        services = self.context.services
        if services is None:
            return
        self._search_timer.stop()
        text = self.search.text()
        queries = services.front_desk
        client_id = self._client_id if not text.strip() else None
        self._searches += 1
        number = self._searches
        self.context.background(
            self, lambda: queries.find_patients(text, client_id=client_id)
        ).success(lambda found: self._found(number, found)).run_in_background()

    def _found(self, number: int, patients: list[PatientChoice]) -> None:
        if number != self._searches:
            return  # a newer search is on its way
        self._show_patients(patients)
        if self._pick_when_found:
            self._pick_when_found = False
            self._focus_results()

    def _show_patients(self, patients: list[PatientChoice]) -> None:
        chosen = self.patient.id if self.patient else None
        self.results.blockSignals(True)
        self.results.clear()
        for patient in patients:
            item = QListWidgetItem(patient.label)
            item.setData(256, patient)
            self.results.addItem(item)
            if patient.id == chosen:
                self.results.setCurrentItem(item)
        self.results.blockSignals(False)

    def _focus_results(self) -> None:
        if self._search_timer.isActive():
            # Enter right after typing: search now, and pick the first match when found
            self._pick_when_found = True
            self._run_search()
            return
        if self.results.count():
            self.results.setFocus()
            if self.results.currentRow() < 0:
                self.results.setCurrentRow(0)

    def _on_patient_chosen(self, item: QListWidgetItem | None, _previous: Any = None) -> None:
        patient = item.data(256) if item is not None else None
        self.patient = patient if isinstance(patient, PatientChoice) else None
        alerts = self.patient.alerts if self.patient else ()
        self.alerts.set_items(list(alerts))
        self.alerts.setVisible(bool(alerts))
        if self.patient is not None:
            self.heading.setText(f"Book {self.patient.name} ({self.patient.client})")

    def _on_type_changed(self, _index: int) -> None:
        kind = AppointmentType(str(self.type.currentData()))
        self.minutes.setValue(DEFAULT_MINUTES[kind])

    def _show_slot(self, slot: FreeSlot | None) -> None:
        if slot is None:
            self.slot_note.setText("No free slot in the next two weeks with these choices.")
            return
        local = self.clinic_time.local(slot.starts_at)
        self.date.setDate(QDate(local.year, local.month, local.day))
        self.time.setTime(QTime(local.hour, local.minute))
        self.vet.setCurrentIndex(max(0, self.vet.findData(slot.vet_id)))
        self.room.setCurrentIndex(max(0, self.room.findData(slot.room_id)))
        self.slot_note.setText(
            f"Next free: {self.clinic_time.format_day(local.date())} at {local:%H:%M} with "
            f"{self.vet.currentText()} in {self.room.currentText()}."
        )
        self.primary.setFocus()

    def _done(self, appointment: Any) -> None:
        self.sig_booked.emit(int(appointment.id))
        self.accept()


def open_booking_dialog(
    context: AppContext,
    parent: QWidget | None,
    client_id: int | None = None,
    patient_id: int | None = None,
    *,
    starts_at: dt.datetime | None = None,
    vet_id: int | None = None,
    room_id: int | None = None,
) -> BookingDialog:
    """Open the booking dialog (window-modal) and return it; ``sig_booked`` tells the id."""
    dialog = BookingDialog(
        context,
        parent,
        client_id=client_id,
        patient_id=patient_id,
        starts_at=starts_at,
        vet_id=vet_id,
        room_id=room_id,
    )
    dialog.open()
    return dialog
