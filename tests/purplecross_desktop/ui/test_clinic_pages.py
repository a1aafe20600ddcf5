"""The clinic pages on a real database: lists come from SQL, Today's actions change status."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pytestqt.qtbot import QtBot

from purplecross_desktop.app import build_context, build_window, shutdown
from purplecross_desktop.database.base import ClientId, PatientId, StaffId
from purplecross_desktop.domain.appointments import (
    AppointmentService,
    Booking,
)
from purplecross_desktop.domain.clients import ClientData
from purplecross_desktop.domain.patients import PatientData
from purplecross_desktop.domain.staff import StaffData, StaffRole
from purplecross_desktop.settings import load_settings
from purplecross_desktop.ui.main_window import MainWindow
from purplecross_desktop.ui.pages.grid_page import GridPage
from purplecross_desktop.ui.pages.today_page import TodayPage
from tests.support.staff import sign_in

pytestmark = pytest.mark.gui


@dataclass
class Seeded:
    window: MainWindow
    appointment_id: int


@pytest.fixture
def seeded(qtbot: QtBot) -> Iterator[Seeded]:
    context = build_context(load_settings(), start_jobs=False)
    services = context.services
    assert services is not None
    sign_in(context)  # the admin adds the vet
    ada = services.clients.create(ClientData(name="Ada Lovelace", email="ada@example.org"))
    services.patients.create(
        PatientData(client_id=ClientId(ada.id), name="Bella", species="cat", breed="Siamese")
    )
    rex = services.patients.create(
        PatientData(client_id=ClientId(ada.id), name="Rex", species="dog", breed="Beagle")
    )
    vet = services.staff.create(
        StaffData(name="Dr Herriot", role=StaffRole.VETERINARIAN, login="jh"), "pw-123456"
    )
    room = services.rooms.create("Room 1")
    # Book at 10:00 today, with a clock at the start of the day so it is not "in the past".
    midnight = dt.datetime.combine(dt.date.today(), dt.time.min).astimezone()
    booker = AppointmentService(context.session_factory, services.events, clock=lambda: midnight)
    starts = midnight + dt.timedelta(hours=10)
    appointment = booker.book(
        Booking(
            patient_id=PatientId(rex.id),
            vet_id=StaffId(vet.id),
            room_id=room.id,
            starts_at=starts,
            ends_at=starts + dt.timedelta(minutes=30),
            reason="Annual check",
        )
    )
    sign_in(context, StaffRole.FRONT_DESK)
    window = build_window(context)
    qtbot.addWidget(window)
    yield Seeded(window, appointment.id)
    shutdown(context)


def _wait_rows(qtbot: QtBot, page: GridPage, count: int) -> None:
    qtbot.waitUntil(
        lambda: not page.grid.is_loading() and page.grid.row_count() == count, timeout=10000
    )


def test_patients_page_lists_patients_with_their_owner(seeded: Seeded, qtbot: QtBot) -> None:
    page = seeded.window.show_page("patients")
    assert isinstance(page, GridPage)
    _wait_rows(qtbot, page, 2)
    model = page.grid.model()
    cells = {
        model.index(r, c).data()
        for r in range(model.rowCount())
        for c in range(model.columnCount())
    }
    assert {"Bella", "Rex", "Ada Lovelace", "Siamese"} <= cells
    page.grid.set_filter("sia")
    _wait_rows(qtbot, page, 1)


def test_every_list_page_loads(seeded: Seeded, qtbot: QtBot) -> None:
    for key, expected in [("clients", 1), ("appointments", 1), ("invoices", 0)]:
        page = seeded.window.show_page(key)
        assert isinstance(page, GridPage)
        _wait_rows(qtbot, page, expected)
    today = seeded.window.show_page("today")
    assert isinstance(today, TodayPage)
    qtbot.waitUntil(lambda: today.row_count() == 1, timeout=10000)


def test_appointments_open_on_today_in_time_order(seeded: Seeded, qtbot: QtBot) -> None:
    from widgets.datagrid import RangeFilter, SortKey

    page = seeded.window.show_page("appointments")
    assert isinstance(page, GridPage)
    _wait_rows(qtbot, page, 1)
    assert page.grid.query().sort == (SortKey("starts_at"),)
    today_filter = page.grid.column_filter("starts_at")
    assert isinstance(today_filter, RangeFilter)
    assert today_filter.high is None
    assert today_filter.low == dt.datetime.combine(dt.date.today(), dt.time.min, tzinfo=dt.UTC)
