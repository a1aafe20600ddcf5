"""The booking dialog on SQLite and PostgreSQL: find a patient, find a slot, book, clash."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QDate, Qt, QTime
from pytestqt.qtbot import QtBot

from purplecross_desktop.domain.appointments import AppointmentStatus
from purplecross_desktop.ui.dialogs.booking import BookingDialog, open_booking_dialog
from tests.purplecross_desktop.ui.desk_support import SeededDesk, seed_desk

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


@pytest.fixture
def desk(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SeededDesk]:
    seeded = seed_desk(database_url, monkeypatch)
    yield seeded
    seeded.close()


def _dialog(qtbot: QtBot, desk: SeededDesk, **kwargs: object) -> BookingDialog:
    dialog = open_booking_dialog(desk.context, None, **kwargs)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: dialog.vet.count() == 3, timeout=10000)  # Any + two vets
    return dialog


def _set_when(dialog: BookingDialog, desk: SeededDesk, hour: int, minute: int = 0) -> None:
    dialog.date.setDate(QDate(desk.day.year, desk.day.month, desk.day.day))
    dialog.time.setTime(QTime(hour, minute))


def test_find_by_phone_then_next_free_slot_then_book_by_keyboard(
    qtbot: QtBot, desk: SeededDesk
) -> None:
    services = desk.context.services
    assert services is not None
    from purplecross_desktop.domain.clients import Phone

    services.clients.update(desk.client_id, {"phones": (Phone("+44 20 7946 0123"),)})
    dialog = _dialog(qtbot, desk)
    assert dialog.search.hasFocus() or dialog.focusWidget() is dialog.search
    qtbot.keyClicks(dialog.search, "7946 01")
    qtbot.waitUntil(lambda: dialog.results.count() == 2, timeout=10000)  # Ada's two pets
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
    assert dialog.results.hasFocus()
    qtbot.keyClick(dialog.results, Qt.Key.Key_Down)
    assert dialog.patient is not None
    assert dialog.patient.name == "Rex"
    assert dialog.alerts.isVisible()  # Rex bites
    # Dr Herriot (first vet) at 09:00 is taken by Rex's own appointment: the next free slot
    # for Rex is after it, since a patient cannot be in two places.
    dialog.vet.setCurrentIndex(dialog.vet.findText("Dr Herriot"))
    _set_when(dialog, desk, 9)
    dialog.find_slot.setFocus()
    qtbot.keyClick(dialog.find_slot, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: dialog.slot_note.text().startswith("Next free"), timeout=10000)
    assert dialog.time.time() == QTime(9, 30)  # Herriot sees Tom at 10:00; 09:30-09:50 fits
    assert dialog.room.currentData() is not None
    with qtbot.waitSignal(dialog.sig_booked, timeout=10000) as booked:
        qtbot.keyClick(dialog.primary, Qt.Key.Key_Return)
    appointment = services.appointments.get(booked.args[0])
    assert appointment.patient_id == desk.patient_ids[0]
    assert appointment.status is AppointmentStatus.SCHEDULED
    assert desk.context.settings.clinic_timezone == "UTC"
    assert appointment.starts_at == desk.at(9, 30)


def test_a_double_booking_is_refused_inline_under_the_vet(qtbot: QtBot, desk: SeededDesk) -> None:
    services = desk.context.services
    assert services is not None
    dialog = _dialog(
        qtbot,
        desk,
        patient_id=desk.patient_ids[1],
        vet_id=desk.vet_ids[0],
        room_id=desk.room_ids[1],
        starts_at=desk.at(9, 10),
    )
    qtbot.waitUntil(lambda: dialog.patient is not None, timeout=10000)
    assert dialog.patient.name == "Bella"  # type: ignore[union-attr]
    dialog.primary.click()
    error = dialog.field_errors["vet_id"]
    qtbot.waitUntil(error.isVisible, timeout=10000)
    assert "is already booked" in error.text()
    assert dialog.isVisible()
    assert services.appointments.search(patient_id=desk.patient_ids[1]).total == 1


def test_missing_choices_are_named_before_anything_is_sent(qtbot: QtBot, desk: SeededDesk) -> None:
    dialog = _dialog(qtbot, desk)
    dialog.primary.click()
    assert dialog.field_errors["patient_id"].isVisible()
    assert "choose a patient" in dialog.field_errors["patient_id"].text()
    assert "find the next free slot" in dialog.field_errors["vet_id"].text()
