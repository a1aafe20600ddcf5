"""The Today board on SQLite and PostgreSQL, driven by the keyboard."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from purplecross_desktop.database.base import AppointmentId
from purplecross_desktop.database.session import upgrade
from purplecross_desktop.domain.appointments import AppointmentStatus
from purplecross_desktop.ui.dialogs.cancel import CancelDialog
from purplecross_desktop.ui.dialogs.check_in import CheckInDialog
from purplecross_desktop.ui.pages.today_page import TodayPage
from purplecross_desktop.ui.today.board_model import COLUMN, TodayBoardModel
from tests.purplecross_desktop.ui.desk_support import SeededDesk, seed_desk
from widgets.chip_delegate import TONE_ROLE

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


@pytest.fixture
def desk(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SeededDesk]:
    seeded = seed_desk(database_url, monkeypatch)
    monkeypatch.setattr(TodayPage, "clock", staticmethod(lambda: seeded.at(8)))
    yield seeded
    seeded.close()


def _page(qtbot: QtBot, desk: SeededDesk) -> TodayPage:
    page = TodayPage(desk.context)
    qtbot.addWidget(page)
    page.resize(1280, 700)
    page.show()
    qtbot.waitExposed(page)
    with qtbot.waitSignal(page.sig_board_loaded, timeout=10000):
        page.activate()
    return page


def _cell(page: TodayPage, row: int, key: str, role: int = Qt.ItemDataRole.DisplayRole) -> object:
    return page.model.index(row, COLUMN[key]).data(role)


def _dialog(qtbot: QtBot, kind: type) -> object:
    found: list[object] = []

    def shown() -> bool:
        found[:] = [
            w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()
        ]
        return bool(found)

    qtbot.waitUntil(shown, timeout=10000)
    return found[0]


def test_the_board_shows_the_day_in_time_order_with_alerts_and_balance(
    qtbot: QtBot, qtmodeltester: object, desk: SeededDesk
) -> None:
    page = _page(qtbot, desk)
    qtmodeltester.check(page.model)  # type: ignore[attr-defined]
    assert page.row_count() == 3
    assert [_cell(page, r, "time") for r in range(3)] == [
        "09:00\u201309:30",
        "09:30\u201310:00",
        "10:00\u201310:30",
    ]
    assert _cell(page, 0, "patient") == "Rex (dog)"
    assert _cell(page, 0, "alerts") == "Bites · Allergic to penicillin"
    assert _cell(page, 0, "alerts", TONE_ROLE) == "error"
    assert _cell(page, 0, "balance") == "£42.50"
    assert _cell(page, 2, "balance") == ""  # Bob owes nothing
    assert _cell(page, 0, "status") == "Scheduled"
    assert _cell(page, 0, "status", TONE_ROLE) == "neutral"
    assert desk.day.strftime("%A") in page.summary.text()
    assert "3 appointments" in page.summary.text()


def test_grouping_by_vet_keeps_the_cursor_row(qtbot: QtBot, desk: SeededDesk) -> None:
    page = _page(qtbot, desk)
    qtbot.keyClick(page.table, Qt.Key.Key_Down)
    qtbot.keyClick(page.table, Qt.Key.Key_Down)
    chosen = page.current_row()
    assert chosen is not None
    assert chosen.patient == "Tom"
    page.view_choice.setCurrentIndex(1)  # By vet: Farnon (Bella), then Herriot (Rex, Tom)
    assert [page.model.board_row(r).patient for r in range(3)] == ["Bella", "Rex", "Tom"]  # type: ignore[union-attr]
    assert _cell(page, 0, "group") == "Dr Farnon"
    assert _cell(page, 2, "group") == ""  # same vet as the row above
    assert page.current_row() == chosen


def test_enter_checks_in_with_weight_and_shows_the_alerts(qtbot: QtBot, desk: SeededDesk) -> None:
    page = _page(qtbot, desk)
    assert page.table.hasFocus()  # the board opens with the cursor on the first row
    assert page.current_row().patient == "Rex"  # type: ignore[union-attr]
    assert page.action_buttons["check_in"].get_variant() == "primary"  # the next step
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    dialog = _dialog(qtbot, CheckInDialog)
    assert isinstance(dialog, CheckInDialog)
    qtbot.waitUntil(lambda: dialog.card is not None, timeout=10000)
    assert dialog.alerts.isVisible()
    assert "Bites" in dialog.alerts._list.text()
    assert dialog.balance.isVisible()
    assert "£42.50" in dialog.balance.get_message()
    assert dialog.weight.hasFocus() or dialog.focusWidget() is dialog.weight
    qtbot.keyClicks(dialog.weight, "-2")
    qtbot.keyClick(dialog.weight, Qt.Key.Key_Return)
    error = dialog.field_errors["weight_kg"]
    qtbot.waitUntil(error.isVisible, timeout=10000)
    assert error.text() == "must be positive"
    services = desk.context.services
    assert services is not None
    rex = desk.appointments[0]
    assert services.appointments.get(rex.id).status is AppointmentStatus.SCHEDULED
    dialog.weight.clear()
    qtbot.keyClicks(dialog.weight, "31.4")
    with qtbot.waitSignal(dialog.sig_checked_in, timeout=10000):
        qtbot.keyClick(dialog.weight, Qt.Key.Key_Return)
    assert services.appointments.get(rex.id).status is AppointmentStatus.ARRIVED
    weights = services.patients.get(rex.patient_id).weights
    assert [w.weight_kg for w in weights] == [Decimal("31.400")]
    qtbot.waitUntil(lambda: _cell(page, 0, "status") == "Arrived", timeout=10000)
    assert _cell(page, 0, "waiting") == "0 min" or str(_cell(page, 0, "waiting")).endswith("min")
    assert page.current_row().id == rex.id  # type: ignore[union-attr]
    assert page.action_buttons["start"].get_variant() == "primary"


def test_cancel_asks_for_a_reason_and_frees_the_slot(qtbot: QtBot, desk: SeededDesk) -> None:
    page = _page(qtbot, desk)
    page.select_appointment(desk.appointments[1].id)
    page.action_buttons["cancel"].setFocus()
    qtbot.keyClick(page.action_buttons["cancel"], Qt.Key.Key_Space)
    dialog = _dialog(qtbot, CancelDialog)
    assert isinstance(dialog, CancelDialog)
    qtbot.waitUntil(lambda: dialog.card is not None, timeout=10000)
    assert "Bella" in dialog.summary.text()
    qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)  # no reason yet
    assert dialog.field_errors["reason"].text() == "must be given to cancel"
    assert dialog.isVisible()
    qtbot.keyClicks(dialog.reason, "Owner phoned: car broke down")
    with qtbot.waitSignal(dialog.sig_cancelled, timeout=10000):
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
    services = desk.context.services
    assert services is not None
    stored = services.appointments.get(desk.appointments[1].id)
    assert stored.status is AppointmentStatus.CANCELLED
    assert stored.cancel_reason == "Owner phoned: car broke down"
    qtbot.waitUntil(lambda: _cell(page, 1, "status") == "Cancelled", timeout=10000)
    assert _cell(page, 1, "status", TONE_ROLE) == "muted"
    assert "1 cancelled" in page.summary.text()


def test_escape_closes_the_check_in_dialog_without_a_change(qtbot: QtBot, desk: SeededDesk) -> None:
    page = _page(qtbot, desk)
    page.select_appointment(desk.appointments[0].id)
    dialog = page.open_check_in(desk.appointments[0].id)
    qtbot.waitUntil(lambda: dialog.card is not None, timeout=10000)
    qtbot.keyClick(dialog.weight, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    services = desk.context.services
    assert services is not None
    assert services.appointments.get(desk.appointments[0].id).status is AppointmentStatus.SCHEDULED


def test_a_refused_move_says_why_and_changes_nothing(qtbot: QtBot, desk: SeededDesk) -> None:
    page = _page(qtbot, desk)
    page.select_appointment(desk.appointments[0].id)
    # No-show is only possible after the start time (the page's day is in the future).
    page.action_buttons["no_show"].setEnabled(True)
    page.run_action("no_show")
    qtbot.waitUntil(lambda: page.message.isVisible(), timeout=10000)
    assert page.message.get_kind() == "error"
    assert "no_show can only be recorded after the start time" in page.message.get_message()


def test_another_workstation_s_changes_appear_within_seconds_keeping_the_cursor(
    qtbot: QtBot, desk: SeededDesk
) -> None:
    page = _page(qtbot, desk)
    page.select_appointment(desk.appointments[2].id)
    other = desk.second_workstation()  # its own engine and event bus: only the probe sees it
    assert other.services is not None
    other.services.appointments.check_in(AppointmentId(desk.appointments[0].id))
    qtbot.waitUntil(lambda: _cell(page, 0, "status") == "Arrived", timeout=10000)
    assert page.current_row().id == desk.appointments[2].id  # type: ignore[union-attr]
    # A booking made elsewhere adds a row; the cursor stays on the same appointment.
    booker = desk.booker(other)
    from purplecross_desktop.database.base import PatientId, StaffId
    from purplecross_desktop.domain.appointments import Booking

    booker.book(
        Booking(
            patient_id=PatientId(desk.patient_ids[1]),
            vet_id=StaffId(desk.vet_ids[1]),
            room_id=desk.room_ids[1],
            starts_at=desk.at(8, 30),
            ends_at=desk.at(8, 45),
        )
    )
    qtbot.waitUntil(lambda: page.row_count() == 4, timeout=10000)
    assert _cell(page, 0, "patient") == "Bella (cat)"
    assert page.current_row().id == desk.appointments[2].id  # type: ignore[union-attr]


def test_waiting_turns_red_past_the_threshold() -> None:
    from purplecross_desktop.clinic_time import ClinicTime
    from purplecross_desktop.domain.front_desk import BoardRow

    now = dt.datetime(2031, 3, 3, 10, 0, tzinfo=dt.UTC)
    model = TodayBoardModel(ClinicTime("Europe/London", clock=lambda: now), wait_alert_minutes=15)

    def row(minutes: int, status: AppointmentStatus = AppointmentStatus.ARRIVED) -> BoardRow:
        return BoardRow(
            id=minutes, starts_at=now, ends_at=now, patient_id=1, patient="Rex", species="dog",
            client_id=1, client="Ada", vet_id=1, vet="Dr", room_id=1, room="R", type="check_up",
            status=status, reason="", arrived_at=now - dt.timedelta(minutes=minutes),
        )  # fmt: skip

    model.set_rows([row(14), row(15), row(40, AppointmentStatus.IN_CONSULT)])
    waiting = COLUMN["waiting"]
    assert [model.index(r, waiting).data() for r in range(3)] == ["14 min", "15 min", ""]
    assert [model.index(r, waiting).data(TONE_ROLE) for r in range(3)] == ["neutral", "error", None]


EMPTINESS_CHECK = """
import sys
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from purplecross_desktop.app import build_context, shutdown
from purplecross_desktop.settings import load_settings
from purplecross_desktop.ui.pages.today_page import TodayPage
context = build_context(load_settings(), start_jobs=False)
page = TodayPage(context)
page.show()
page.activate()
loop = QEventLoop()
QTimer.singleShot(20000, loop.quit)
page.welcome.sig_demo_loaded.connect(loop.quit)
def check():
    if page.welcome.isVisible():
        loop.quit()
timer = QTimer()
timer.timeout.connect(check)
timer.start(20)
loop.exec()
print(page.welcome.isVisible(), "purplecross_desktop.demo" in sys.modules, "huey" in sys.modules)
shutdown(context)
"""


def test_the_empty_clinic_check_leaves_the_demo_generator_and_jobs_stack_unimported(
    sqlite_url: str, tmp_path: Path
) -> None:
    """Importing them takes about a second that holds the interpreter lock: the window
    froze for up to half a second soon after it opened."""
    upgrade(sqlite_url)
    env = {**os.environ, "PURPLECROSS_DATABASE_URL": sqlite_url, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", EMPTINESS_CHECK],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert done.stdout.split()[-3:] == ["True", "False", "False"], done.stdout + done.stderr


@pytest.mark.parametrize("grouping", ["time", "vet"])
def test_every_column_fits_a_1280_pixel_window(
    qtbot: QtBot, desk: SeededDesk, grouping: str, tmp_path: Path
) -> None:
    """In the main window 1280 px wide (sidebar and all) the board needs no sideways scroll:
    the Room and Type columns are on screen, whichever grouping shows the extra column."""
    from purplecross_desktop.app import build_window

    services = desk.context.services
    assert services is not None
    for number, room_id in enumerate(desk.room_ids, start=1):  # names that differ at the end
        services.rooms.update(room_id, {"name": f"Consulting room {number}"})
    window = build_window(desk.context)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    page = window.show_page("today")
    assert isinstance(page, TodayPage)
    qtbot.waitUntil(lambda: page.model.rowCount() == 3, timeout=10000)
    page.view_choice.setCurrentIndex(page.view_choice.findData(grouping))
    QApplication.processEvents()
    window.grab().save(str(tmp_path / f"today-1280-{grouping}.png"))  # to look at
    table = page.table
    assert window.width() == 1280
    assert not table.horizontalScrollBar().isVisible()
    header = table.horizontalHeader()
    viewport = table.viewport().width()
    for key in ("group", "vet", "room", "type"):
        column = COLUMN[key]
        if table.isColumnHidden(column):
            continue
        right = header.sectionViewportPosition(column) + header.sectionSize(column)
        assert right <= viewport, (key, right, viewport)
        # the whole name shows ("Consulting room 1" cut short told no room from another)
        assert header.sectionSize(column) >= table.sizeHintForColumn(column), key
