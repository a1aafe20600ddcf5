"""The booking dialog on SQLite and PostgreSQL: find a patient, find a slot, book, clash."""

from __future__ import annotations

from collections.abc import Iterator
from zoneinfo import ZoneInfo

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
    qtbot.waitUntil(lambda: dialog.vet.count() >= 3, timeout=10000)  # Any + the vets
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


def test_the_clash_is_named_on_the_clinic_clock(
    qtbot: QtBot, desk: SeededDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A workstation set to New York names Rex's 09:00 UTC appointment in New York time:
    the app hands ``clinic_timezone`` to the services, not only to the screens."""
    monkeypatch.setenv("PURPLECROSS_CLINIC_TIMEZONE", "America/New_York")
    other = desk.second_workstation()
    dialog = open_booking_dialog(
        other,
        None,  # type: ignore[arg-type]
        patient_id=desk.patient_ids[1],
        vet_id=desk.vet_ids[0],
        room_id=desk.room_ids[1],
        starts_at=desk.at(9, 10),
    )
    qtbot.addWidget(dialog)
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: dialog.patient is not None, timeout=10000)
    dialog.primary.click()
    error = dialog.field_errors["vet_id"]
    qtbot.waitUntil(error.isVisible, timeout=10000)
    local = desk.at(9).astimezone(ZoneInfo("America/New_York"))  # 04:00 EST / 05:00 EDT
    assert f"is already booked {local:%Y-%m-%d %H:%M}-" in error.text()
    assert local.strftime("%Z") in error.text()
    assert "UTC" not in error.text()


def test_a_missing_patient_is_named_before_anything_is_sent(qtbot: QtBot, desk: SeededDesk) -> None:
    dialog = _dialog(qtbot, desk)
    dialog.primary.click()
    assert dialog.field_errors["patient_id"].isVisible()
    assert "choose a patient" in dialog.field_errors["patient_id"].text()
    assert not dialog.field_errors["vet_id"].isVisible()  # "Any vet" is a choice


def test_enter_right_after_typing_picks_the_first_match_when_it_comes(
    qtbot: QtBot, desk: SeededDesk
) -> None:
    dialog = _dialog(qtbot, desk)
    qtbot.keyClicks(dialog.search, "tom")
    booked: list[int] = []
    dialog.sig_booked.connect(booked.append)
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)  # before the search has answered
    qtbot.waitUntil(lambda: dialog.patient is not None, timeout=10000)
    assert dialog.patient is not None
    assert dialog.patient.name == "Tom"
    assert dialog.results.hasFocus()
    dialog.search.setFocus()
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)  # the matches are there: go to them
    assert dialog.results.hasFocus()
    dialog.context.runner.wait_for_done(5000)
    qtbot.wait(300)
    assert booked == []  # Enter in the search never presses "Book"
    assert dialog.isVisible()


def test_any_vet_and_any_room_book_whoever_is_free_for_the_slot(
    qtbot: QtBot, desk: SeededDesk
) -> None:
    services = desk.context.services
    assert services is not None
    # Tom at 09:00: Dr Herriot and Room 1 see Rex then; Dr Farnon and Room 2 are free.
    dialog = _dialog(qtbot, desk, patient_id=desk.patient_ids[2], starts_at=desk.at(9))
    qtbot.waitUntil(lambda: dialog.patient is not None, timeout=10000)
    assert dialog.vet.currentData() is None
    assert dialog.room.currentData() is None
    with qtbot.waitSignal(dialog.sig_booked, timeout=10000) as booked:
        dialog.primary.click()
    appointment = services.appointments.get(booked.args[0])
    assert (appointment.vet_id, appointment.room_id) == (desk.vet_ids[1], desk.room_ids[1])
    assert appointment.starts_at == desk.at(9)


def test_any_room_when_every_room_is_busy_says_so_under_the_room(
    qtbot: QtBot, desk: SeededDesk
) -> None:
    services = desk.context.services
    assert services is not None
    # 09:30-09:50 with Dr Herriot: Room 2 has Bella; a third vet sees Kit in Room 1.
    from purplecross_desktop.database.base import ClientId, PatientId, StaffId
    from purplecross_desktop.domain.appointments import Booking
    from purplecross_desktop.domain.clients import ClientData
    from purplecross_desktop.domain.patients import PatientData
    from purplecross_desktop.domain.staff import StaffData, StaffRole

    owner = services.clients.create(ClientData(name="Cy Young"))
    kit = services.patients.create(
        PatientData(client_id=ClientId(owner.id), name="Kit", species="cat")
    )
    third = services.staff.create(
        StaffData(name="Dr Hall", role=StaffRole.VETERINARIAN, login="hall"), "pw-123456"
    )
    desk.booker().book(
        Booking(
            patient_id=PatientId(kit.id),
            vet_id=StaffId(third.id),
            room_id=desk.room_ids[0],
            starts_at=desk.at(9, 30),
            ends_at=desk.at(9, 50),
        )
    )
    dialog = _dialog(
        qtbot,
        desk,
        patient_id=desk.patient_ids[2],
        vet_id=desk.vet_ids[0],
        starts_at=desk.at(9, 30),
    )
    qtbot.waitUntil(lambda: dialog.patient is not None, timeout=10000)
    dialog.primary.click()
    error = dialog.field_errors["room_id"]
    qtbot.waitUntil(error.isVisible, timeout=10000)
    assert error.text().startswith("no room is free then")
    assert not dialog.field_errors["vet_id"].isVisible()  # Dr Herriot is free at 09:30
    assert services.appointments.search(patient_id=desk.patient_ids[2]).total == 1
