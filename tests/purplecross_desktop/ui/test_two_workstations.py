"""Two workstations (two processes) on one PostgreSQL and one Redis: each sees the other's
bookings and check-ins on Today and the Calendar within seconds, keeping its cursor and
scroll position, and a slot booked from both at once is booked once."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from purplecross_desktop.database.base import PatientId, StaffId
from purplecross_desktop.desk_cache import CachedFrontDesk
from purplecross_desktop.domain.appointments import Booking
from purplecross_desktop.domain.errors import DomainError
from purplecross_desktop.ui.pages.calendar_page import CalendarPage
from purplecross_desktop.ui.pages.today_page import TodayPage
from purplecross_desktop.ui.today.board_model import COLUMN
from tests.purplecross_desktop.other_workstation import OtherWorkstation
from tests.purplecross_desktop.ui.desk_support import SeededDesk, seed_desk

pytestmark = [
    pytest.mark.gui,
    pytest.mark.postgres,
    pytest.mark.qt_log_ignore("propagateSizeHints"),
]


@pytest.fixture
def desk(
    postgres_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SeededDesk]:
    monkeypatch.setenv("PURPLECROSS_REDIS_URL", redis_url)
    seeded = seed_desk(postgres_url, monkeypatch)
    for page in (TodayPage, CalendarPage):
        monkeypatch.setattr(page, "clock", staticmethod(lambda: seeded.at(8)))
    yield seeded
    seeded.close()


@pytest.fixture
def other(desk: SeededDesk, tmp_path: Path) -> Iterator[OtherWorkstation]:
    workstation = OtherWorkstation({**os.environ, "PURPLECROSS_DATA_DIR": str(tmp_path / "b")})
    assert workstation.ready == "ready redis"
    yield workstation
    workstation.close()


def _status(page: TodayPage, appointment_id: int) -> str:
    row = page.model.row_of(appointment_id)
    return "" if row is None else str(page.model.index(row, COLUMN["status"]).data())


def test_each_sees_the_other_s_bookings_and_check_ins_keeping_its_place(
    qtbot: QtBot, desk: SeededDesk, other: OtherWorkstation
) -> None:
    services = desk.context.services
    assert services is not None
    assert isinstance(services.front_desk, CachedFrontDesk)
    assert services.front_desk.shared()  # the poll reads Redis while nothing changes
    today = TodayPage(desk.context)
    qtbot.addWidget(today)
    today.resize(1280, 300)  # short: the board scrolls
    today.show()
    with qtbot.waitSignal(today.sig_board_loaded, timeout=10000):
        today.activate()
    calendar = CalendarPage(desk.context)
    qtbot.addWidget(calendar)
    calendar.resize(1200, 500)
    calendar.show()
    calendar.activate()
    qtbot.waitUntil(lambda: len(calendar.view.items()) == 3, timeout=10000)
    tom = desk.appointments[2].id
    today.select_appointment(tom)
    calendar.view.set_cursor(desk.vet_ids[1], 14 * 60)
    bar = calendar.scroll_area.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    scrolled = bar.value()

    other.do(do="check_in", appointment_id=desk.appointments[0].id)  # B checks Rex in
    qtbot.waitUntil(lambda: _status(today, desk.appointments[0].id) == "Arrived", timeout=10000)
    new_id = other.do(
        do="book",
        patient_id=desk.patient_ids[1],
        vet_id=desk.vet_ids[1],
        room_id=desk.room_ids[1],
        starts_at=desk.at(11).isoformat(),
    )
    qtbot.waitUntil(lambda: today.model.row_of(new_id) is not None, timeout=10000)
    qtbot.waitUntil(lambda: any(item.id == new_id for item in calendar.view.items()), timeout=10000)
    assert today.current_row().id == tom  # type: ignore[union-attr]
    assert calendar.view.cursor_slot() == (desk.vet_ids[1], 14 * 60)
    assert bar.value() == scrolled
    rex_block = next(i for i in calendar.view.items() if i.id == desk.appointments[0].id)
    assert rex_block.subtitle.endswith("Arrived")

    # And the other way round: A's check-in reaches B's reads at once (shared cache).
    services.appointments.check_in(desk.appointments[1].id)
    board = other.do(do="board", start=desk.midnight.isoformat())
    assert board[str(desk.appointments[1].id)] == "arrived"


def test_a_slot_booked_from_both_workstations_at_once_is_booked_once(
    desk: SeededDesk, other: OtherWorkstation
) -> None:
    booker = desk.booker()
    outcomes: list[tuple[str, str]] = []
    for hour in (12, 13, 14, 15, 16):
        starts = desk.at(hour)
        command = {
            "do": "book",
            "patient_id": desk.patient_ids[2],
            "vet_id": desk.vet_ids[0],
            "room_id": desk.room_ids[0],
            "starts_at": starts.isoformat(),
        }
        other.send(**command)  # B starts booking Tom with Dr Herriot...
        try:  # ...while A books Bella with him at the same time
            booker.book(
                Booking(
                    patient_id=PatientId(desk.patient_ids[1]),
                    vet_id=StaffId(desk.vet_ids[0]),
                    room_id=desk.room_ids[1],
                    starts_at=starts,
                    ends_at=starts + dt.timedelta(minutes=15),
                )
            )
            mine = "booked"
        except DomainError as exc:
            mine = f"refused: {exc}"
        theirs = other.answer()
        outcomes.append((mine, theirs))
    for mine, theirs in outcomes:
        assert (mine == "booked") != theirs.startswith("ok "), (mine, theirs)
    services = desk.context.services
    assert services is not None
    rows = services.front_desk.board(desk.midnight, desk.midnight + dt.timedelta(days=1))
    herriot = [r for r in rows if r.vet_id == desk.vet_ids[0] and r.starts_at.hour >= 12]
    assert sorted(r.starts_at.hour for r in herriot) == [12, 13, 14, 15, 16]
