"""The app hands the clinic's time zone to its grids: times shown and typed there (issue 17)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from pytestqt.qtbot import QtBot

from purplecross_desktop.app import build_context, build_window, shutdown
from purplecross_desktop.database.base import ClientId, PatientId, StaffId
from purplecross_desktop.domain.appointments import AppointmentService, Booking
from purplecross_desktop.domain.clients import ClientData
from purplecross_desktop.domain.patients import PatientData
from purplecross_desktop.domain.staff import StaffData, StaffRole
from purplecross_desktop.settings import load_settings
from purplecross_desktop.ui.pages.grid_page import GridPage
from tests.support.staff import sign_in

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore("does not support raise", "does not support grabbing"),
]


def test_appointments_show_and_filter_in_the_clinic_zone(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PURPLECROSS_CLINIC_TIMEZONE", "Pacific/Auckland")  # UTC+13 in January
    context = build_context(load_settings(), start_jobs=False)
    sign_in(context)
    services = context.services
    assert services is not None
    ada = services.clients.create(ClientData(name="Ada Lovelace"))
    rex = services.patients.create(
        PatientData(client_id=ClientId(ada.id), name="Rex", species="dog")
    )
    vet = services.staff.create(
        StaffData(name="Dr Herriot", role=StaffRole.VETERINARIAN, login="jh"), "pw-123456"
    )
    room = services.rooms.create("Room 1")
    starts = dt.datetime(2031, 1, 14, 21, 30, tzinfo=dt.UTC)  # 15 January 10:30 in Auckland
    booker = AppointmentService(
        context.session_factory, services.events, clock=lambda: starts - dt.timedelta(days=1)
    )
    booker.book(
        Booking(
            patient_id=PatientId(rex.id),
            vet_id=StaffId(vet.id),
            room_id=room.id,
            starts_at=starts,
            ends_at=starts + dt.timedelta(minutes=30),
        )
    )
    window = build_window(context)
    qtbot.addWidget(window)
    try:
        page = window.show_page("appointments")
        assert isinstance(page, GridPage)
        grid = page.grid
        qtbot.waitUntil(lambda: not grid.is_loading() and grid.row_count() == 1, timeout=10000)
        model = grid.model()
        cell = model.data(model.index(0, model.column_of("starts_at")))
        assert cell == "2031-01-15 10:30"
        editor = grid.open_column_filter("starts_at")
        editor.set_range("2031-01-15", "2031-01-15")  # the clinic's 15th, not UTC's
        editor.apply()
        qtbot.waitUntil(lambda: not grid.is_loading(), timeout=10000)
        assert grid.error() is None
        assert grid.row_count() == 1
        low = grid.column_filter("starts_at").low  # type: ignore[union-attr]
        assert low == dt.datetime(2031, 1, 15, tzinfo=ZoneInfo("Pacific/Auckland"))
    finally:
        shutdown(context)
