"""The Calendar on SQLite and PostgreSQL: opens on today, books from a slot, moves by keyboard."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt, QTime
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from purplecross_desktop.ui.dialogs.booking import BookingDialog
from purplecross_desktop.ui.pages.calendar_page import CalendarPage
from tests.purplecross_desktop.ui.desk_support import SeededDesk, seed_desk

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


@pytest.fixture
def desk(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SeededDesk]:
    seeded = seed_desk(database_url, monkeypatch)
    monkeypatch.setattr(CalendarPage, "clock", staticmethod(lambda: seeded.at(7)))
    yield seeded
    seeded.close()


def _page(qtbot: QtBot, desk: SeededDesk) -> CalendarPage:
    page = CalendarPage(desk.context)
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.show()
    qtbot.waitExposed(page)
    page.activate()
    qtbot.waitUntil(lambda: len(page.view.items()) == 3, timeout=10000)
    return page


def test_opens_on_today_with_a_column_per_vet(qtbot: QtBot, desk: SeededDesk) -> None:
    page = _page(qtbot, desk)
    assert page.day == desk.day
    assert [c.title for c in page.view.columns()] == ["Dr Farnon", "Dr Herriot"]
    assert desk.day.strftime("%A") in page.heading_label.text()
    page.axis.setCurrentIndex(1)  # by room
    qtbot.waitUntil(lambda: [c.title for c in page.view.columns()] == ["Room 1", "Room 2"])
    page.span.setCurrentIndex(1)  # Room 1's week: Rex and Tom
    qtbot.waitUntil(lambda: len(page.view.columns()) == 7 and len(page.view.items()) == 2)
    assert {r.room_id for r in page.rows} == {desk.room_ids[0]}  # only Room 1's were read


def test_enter_on_a_free_slot_books_with_that_vet_and_time(qtbot: QtBot, desk: SeededDesk) -> None:
    page = _page(qtbot, desk)
    page.view.setFocus()
    page.view.set_cursor(desk.vet_ids[0], 11 * 60)  # Dr Herriot, 11:00, free
    qtbot.keyClick(page.view, Qt.Key.Key_Return)
    found: list[BookingDialog] = []
    qtbot.waitUntil(
        lambda: bool(
            found.extend(
                w
                for w in QApplication.topLevelWidgets()
                if isinstance(w, BookingDialog) and w.isVisible()
            )
            or found
        ),
        timeout=10000,
    )
    dialog = found[0]
    qtbot.waitUntil(lambda: dialog.vet.currentData() == desk.vet_ids[0], timeout=10000)
    assert dialog.time.time() == QTime(11, 0)
    dialog.reject()


def test_ctrl_down_moves_an_appointment_and_a_clash_is_explained(
    qtbot: QtBot, desk: SeededDesk
) -> None:
    page = _page(qtbot, desk)
    services = desk.context.services
    assert services is not None
    page.view.setFocus()
    page.view.set_cursor(desk.vet_ids[0], 9 * 60)  # Rex with Dr Herriot at 09:00
    qtbot.keyClick(page.view, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    rex = desk.appointments[0].id
    qtbot.waitUntil(
        lambda: services.appointments.get(rex).starts_at == desk.at(9, 15), timeout=10000
    )
    qtbot.waitUntil(lambda: page.message.get_kind() == "success" and page.message.isVisible())
    # Moving Rex onto Tom's 10:00 (same vet and room) is refused with the rule's words.
    page.view.set_cursor(desk.vet_ids[0], 9 * 60 + 15)
    page._move_item(rex, desk.vet_ids[0], 9 * 60 + 45)
    qtbot.waitUntil(lambda: page.message.get_kind() == "error", timeout=10000)
    assert "is already booked" in page.message.get_message()
    assert services.appointments.get(rex).starts_at == desk.at(9, 15)
