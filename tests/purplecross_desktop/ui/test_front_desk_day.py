"""A receptionist's whole day on the real window, driven by the keyboard, on SQLite and
PostgreSQL: the first start's admin account, demo data in one click, the desk signs in,
registers an owner and a pet, books from the Calendar (the confirmation email lands in
the outbox), checks in, sees who is waiting, starts and completes the consult, checks out
with two lines and a part payment, prints the receipt, takes the rest from Balances, finds
the owner by part of the phone number, locks when idle, and hands over to a colleague."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from functools import partial
from typing import TypeVar

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from purplecross_desktop.app import build_context, build_window, shutdown
from purplecross_desktop.clinic_time import CLOSED_WEEKDAYS, ClinicTime
from purplecross_desktop.database.base import utcnow
from purplecross_desktop.settings import load_settings
from purplecross_desktop.ui import main_window
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.dialogs.booking import BookingDialog
from purplecross_desktop.ui.dialogs.check_in import CheckInDialog
from purplecross_desktop.ui.dialogs.checkout import CheckoutDialog
from purplecross_desktop.ui.dialogs.client_form import ClientFormDialog
from purplecross_desktop.ui.dialogs.patient_form import PatientFormDialog
from purplecross_desktop.ui.dialogs.take_payment import TakePaymentDialog
from purplecross_desktop.ui.idle import IdleWatcher
from purplecross_desktop.ui.main_window import MainWindow
from purplecross_desktop.ui.pages.balances_page import BalancesPage
from purplecross_desktop.ui.pages.calendar_page import CalendarPage
from purplecross_desktop.ui.pages.clients_page import ClientsPage
from purplecross_desktop.ui.pages.today_page import TodayPage
from purplecross_desktop.ui.records.client_record import ClientRecordDialog
from purplecross_desktop.ui.today.board_model import COLUMN
from tests.purplecross_desktop.ui.keyboard import activate, focused, press, tab, type_text
from widgets.command_palette import CommandPalette

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]

W = TypeVar("W", bound=QWidget)
CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier
SLOW = 30_000  # a step that writes and reloads on a shared 2-core machine
ADMIN_PASSWORD = "opening day 1"
DEMO_PASSWORD = "purplecross"  # the demo staff's password (docs/domain.md)


def _shown(kind: type[W]) -> list[W]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]


def wait_for(qtbot: QtBot, kind: type[W], timeout: int = SLOW) -> W:
    """The visible top-level widget of ``kind`` (a dialog the app opened)."""
    qtbot.waitUntil(lambda: bool(_shown(kind)), timeout=timeout)
    return _shown(kind)[0]


def wait_closed(qtbot: QtBot, widget: QWidget, timeout: int = SLOW) -> None:
    """Wait until ``widget`` (a dialog) closes; then give the window under it the focus
    back, as a window manager does (the offscreen platform leaves no window active)."""
    qtbot.waitUntil(lambda: not widget.isVisible(), timeout=timeout)
    under = widget.parentWidget()
    if QApplication.activeWindow() is None and under is not None:
        activate(qtbot, under.window())


def wait_focus(qtbot: QtBot, widget: QWidget, timeout: int = 10_000) -> None:
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget, timeout=timeout)


def _desk_day(zone: str) -> tuple[dt.date, dt.timedelta]:
    """The day the receptionist works: today until 14:00 (the demo diary fills the
    afternoon), else the next open day; and how far the screens' clocks are moved to get there."""
    clinic = ClinicTime(zone)
    now = clinic.now()
    day = now.date()
    if now.time() > dt.time(14, 0) or day.weekday() in CLOSED_WEEKDAYS:
        day += dt.timedelta(days=1)
        while day.weekday() in CLOSED_WEEKDAYS:
            day += dt.timedelta(days=1)
    return day, dt.timedelta(days=(day - now.date()).days)


@pytest.fixture
def context(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppContext]:
    monkeypatch.setattr(CheckoutDialog, "open_receipts", False)  # no PDF viewer here
    if not database_url.startswith("sqlite"):
        from purplecross_desktop.database.session import upgrade

        upgrade(database_url)  # a clinic server is upgraded once, deliberately
    monkeypatch.setenv("PURPLECROSS_DATABASE_URL", database_url)
    settings = load_settings()
    _day, shift = _desk_day(settings.clinic_timezone)
    if shift:  # after hours or on a Sunday: the screens open on the next open day
        for page in (TodayPage, CalendarPage):
            monkeypatch.setattr(page, "clock", staticmethod(lambda: utcnow() + shift))
    ctx = build_context(settings)  # with the job runner: the confirmation email is sent
    yield ctx
    shutdown(ctx)


def test_a_day_at_the_front_desk(
    qtbot: QtBot, context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    idle_clock = [1000.0]  # the idle lock's clock: the test moves it on
    monkeypatch.setattr(
        main_window,
        "IdleWatcher",
        partial(IdleWatcher, clock=lambda: idle_clock[0], check_ms=100),
    )
    window = build_window(context)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    activate(qtbot, window)
    _first_start(qtbot, window)
    _load_demo_data(qtbot, window)
    _switch_user(qtbot, window, "desk", DEMO_PASSWORD)
    client_id, patient_id = _register_owner_and_pet(qtbot, window)
    appointment_id = _book_from_the_calendar(qtbot, window, patient_id)
    _in_the_outbox(qtbot, context, "Biscuit")  # the booking's confirmation
    today = _check_in_on_today(qtbot, window, appointment_id)
    checkout = _consult(qtbot, today, appointment_id)
    _check_out(qtbot, checkout)
    _settle_the_balance(qtbot, window, client_id)
    _in_the_outbox(qtbot, context, "Your receipt")
    _find_by_phone(qtbot, window, client_id)
    _idle_lock_and_hand_over(qtbot, window, idle_clock)
    _everything_was_done_as_the_desk(context, client_id, patient_id, appointment_id)


def _first_start(qtbot: QtBot, window: MainWindow) -> None:
    """An empty clinic asks for its administrator; Enter creates the account and signs in."""
    screen = window.sign_in_screen
    qtbot.waitUntil(lambda: screen.panel() == "first_run", timeout=SLOW)
    wait_focus(qtbot, screen.first_fields["name"].editor())
    for text in ("Pat Practice", "pat", "pat@example.org", ADMIN_PASSWORD):
        type_text(qtbot, text)
        tab(qtbot)
    type_text(qtbot, ADMIN_PASSWORD)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.is_covered(), timeout=SLOW)
    signed = window.signed_in()
    assert signed is not None
    assert signed.name == "Pat Practice"


def _load_demo_data(qtbot: QtBot, window: MainWindow) -> None:
    """Today offers demo data on an empty clinic; one click loads it off the UI thread."""
    today = window.current_page()
    assert isinstance(today, TodayPage)
    banner = today.welcome
    qtbot.waitUntil(lambda: banner.isVisible(), timeout=SLOW)
    with qtbot.waitSignal(banner.sig_demo_loaded, timeout=240_000):
        qtbot.mouseClick(banner.load_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not banner.isVisible() and today.row_count() > 0, timeout=SLOW)


def _switch_user(qtbot: QtBot, window: MainWindow, login: str, password: str) -> None:
    """Switch user: the app stays open, the next person signs in by keyboard."""
    qtbot.mouseClick(window.switch_button, Qt.MouseButton.LeftButton)
    _sign_in(qtbot, window, login, password)


def _sign_in(qtbot: QtBot, window: MainWindow, login: str, password: str) -> None:
    """Login, Tab, password, Enter on the sign-in panel; the pages show."""
    screen = window.sign_in_screen
    assert window.is_covered()
    assert screen.panel() == "sign_in"
    wait_focus(qtbot, screen.login_edit)
    type_text(qtbot, login)
    tab(qtbot)
    type_text(qtbot, password)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.is_covered(), timeout=SLOW)
    signed = window.signed_in()
    assert signed is not None
    assert signed.login == login


def _register_owner_and_pet(qtbot: QtBot, window: MainWindow) -> tuple[int, int]:
    """Clients (Ctrl+5), New client (Ctrl+N), Enter saves and opens the record; Add pet
    (Alt+P) registers the dog with its alerts; Escape closes the record."""
    press(qtbot, Qt.Key.Key_5, CTRL)
    assert isinstance(window.current_page(), ClientsPage)
    press(qtbot, Qt.Key.Key_N, CTRL)
    form = wait_for(qtbot, ClientFormDialog)
    wait_focus(qtbot, form.name)
    type_text(qtbot, "Maya Okafor")
    tab(qtbot)
    type_text(qtbot, "07700 955 314")  # mobile
    tab(qtbot, 2)  # past the home phone
    assert focused() is form.email
    type_text(qtbot, "maya.okafor@example.org")
    assert form.channel.currentText() == "Email"  # reminders follow what was typed
    press(qtbot, Qt.Key.Key_Return)
    record = wait_for(qtbot, ClientRecordDialog)
    wait_closed(qtbot, form)
    qtbot.waitUntil(
        lambda: record.record is not None and record.pet_button.isEnabled(), timeout=SLOW
    )
    assert record.heading.text() == "Maya Okafor"
    press(qtbot, Qt.Key.Key_P, ALT)
    pet = wait_for(qtbot, PatientFormDialog)
    assert pet.owner.currentText() == "Maya Okafor"
    wait_focus(qtbot, pet.name)
    type_text(qtbot, "Biscuit")
    tab(qtbot)
    assert focused() is pet.species
    type_text(qtbot, "Dog")
    assert pet.species.currentText() == "Dog"
    tab(qtbot, 6)  # breed, sex, date of birth, colour and microchip can wait
    assert focused() is pet.weight
    type_text(qtbot, "24.5")
    tab(qtbot)
    type_text(qtbot, "Bites, Allergic to penicillin")
    press(qtbot, Qt.Key.Key_Return)
    wait_closed(qtbot, pet)
    qtbot.waitUntil(
        lambda: record.record is not None and len(record.record.pets) == 1, timeout=SLOW
    )
    assert record.record is not None
    client_id, patient_id = record.record.id, record.record.pets[0].id
    press(qtbot, Qt.Key.Key_Escape)
    wait_closed(qtbot, record)
    return client_id, patient_id


def _free_slot(page: CalendarPage, length: int) -> tuple[int, int]:
    """The first vet column and quarter hour, from half an hour ahead (by the real clock:
    bookings in the past are refused), where ``length`` minutes are free."""
    now = ClinicTime(page.clinic_time.name).now()
    first = 8 * 60
    if now.date() == page.day:
        first = max(first, (now.hour * 60 + now.minute + 30) // 15 * 15 + 15)
    for index, column in enumerate(page.view.columns()):
        busy = [(i.start, i.end) for i in page.view.items() if i.column == column.key]
        for minute in range(first, 18 * 60 - length, 15):
            if all(end <= minute or start >= minute + length for start, end in busy):
                return index, minute
    raise AssertionError("no free slot left on the desk's day")


def _book_from_the_calendar(qtbot: QtBot, window: MainWindow, patient_id: int) -> int:
    """Calendar (Ctrl+2) opens on the day with a column per vet; the arrows go to a free
    slot, Enter books it with that vet and time; the pet is found by name; Enter books."""
    press(qtbot, Qt.Key.Key_2, CTRL)
    page = window.current_page()
    assert isinstance(page, CalendarPage)
    qtbot.waitUntil(lambda: bool(page.view.columns()) and bool(page.view.items()), timeout=SLOW)
    wait_focus(qtbot, page.view)
    column, minute = _free_slot(page, 20)
    vet = page.view.columns()[column]
    for _ in range(column):
        press(qtbot, Qt.Key.Key_Right)  # the next vet's column
    for _ in range((minute - 8 * 60) // 60):
        press(qtbot, Qt.Key.Key_PageDown)  # an hour
    for _ in range((minute - 8 * 60) % 60 // 15):
        press(qtbot, Qt.Key.Key_Down)  # a quarter
    assert page.view.cursor_slot() == (vet.key, minute)
    press(qtbot, Qt.Key.Key_Return)
    dialog = wait_for(qtbot, BookingDialog)
    wait_focus(qtbot, dialog.search)
    qtbot.waitUntil(lambda: dialog.vet.currentData() == vet.key, timeout=SLOW)
    assert dialog.time.time().toString("HH:mm") == f"{minute // 60:02d}:{minute % 60:02d}"
    type_text(qtbot, "biscuit oka")  # the clinic has other Biscuits
    press(qtbot, Qt.Key.Key_Return)  # at once: the search is still on its way
    qtbot.waitUntil(lambda: dialog.patient is not None, timeout=SLOW)
    assert dialog.patient is not None
    assert dialog.patient.id == patient_id
    assert dialog.alerts.isVisible()  # "Bites", "Allergic to penicillin"
    with qtbot.waitSignal(dialog.sig_booked, timeout=SLOW) as booked:
        press(qtbot, Qt.Key.Key_Return)  # Book: "Any room" takes a free one
    appointment_id = int(booked.args[0])  # type: ignore[index]
    wait_closed(qtbot, dialog)
    qtbot.waitUntil(lambda: any(i.id == appointment_id for i in page.view.items()), timeout=SLOW)
    return appointment_id


def _in_the_outbox(qtbot: QtBot, context: AppContext, text: str) -> None:
    """An email to the owner containing ``text`` was sent by the app's own job runner (no
    SMTP server set: to the outbox folder)."""
    outbox = context.settings.email_outbox_path

    def sent() -> bool:
        for eml in outbox.glob("*.eml"):
            message = eml.read_text(errors="replace")
            if "maya.okafor@example.org" in message and text in message:
                return True
        return False

    qtbot.waitUntil(sent, timeout=90_000)


def _cell(page: TodayPage, appointment_id: int, key: str) -> str:
    row = page.model.row_of(appointment_id)
    assert row is not None, "the appointment is not on the board"
    return str(page.model.index(row, COLUMN[key]).data() or "")


def _check_in_on_today(qtbot: QtBot, window: MainWindow, appointment_id: int) -> TodayPage:
    """Today (Ctrl+1) shows the booking with the pet's alerts; the arrows go to it, Enter
    checks in: the dialog shows the alerts, the weight is typed, Enter saves."""
    press(qtbot, Qt.Key.Key_1, CTRL)
    page = window.current_page()
    assert isinstance(page, TodayPage)
    qtbot.waitUntil(lambda: page.model.row_of(appointment_id) is not None, timeout=SLOW)
    wait_focus(qtbot, page.table)
    assert "Bites" in _cell(page, appointment_id, "alerts")
    assert _cell(page, appointment_id, "status") == "Scheduled"
    press(qtbot, Qt.Key.Key_Home, CTRL)
    target = page.model.row_of(appointment_id)
    assert target is not None
    for _ in range(target):
        press(qtbot, Qt.Key.Key_Down)
    current = page.current_row()
    assert current is not None
    assert current.id == appointment_id
    press(qtbot, Qt.Key.Key_Return)
    dialog = wait_for(qtbot, CheckInDialog)
    qtbot.waitUntil(lambda: dialog.card is not None, timeout=SLOW)
    assert dialog.alerts.isVisible()
    assert "Last weighed 24.5 kg" in dialog.last_weight.text()
    wait_focus(qtbot, dialog.weight)
    type_text(qtbot, "25.1")
    with qtbot.waitSignal(dialog.sig_checked_in, timeout=SLOW):
        press(qtbot, Qt.Key.Key_Return)
    wait_closed(qtbot, dialog)
    qtbot.waitUntil(lambda: _cell(page, appointment_id, "status") == "Arrived", timeout=SLOW)
    # who is waiting: the arrival time and the minutes since, and the summary counts it
    assert _cell(page, appointment_id, "arrived")
    assert _cell(page, appointment_id, "waiting")
    assert "waiting" in page.summary.text()
    current = page.current_row()
    assert current is not None
    assert current.id == appointment_id, "the cursor stayed put"
    return page


def _consult(qtbot: QtBot, page: TodayPage, appointment_id: int) -> CheckoutDialog:
    """Enter starts the consult; Enter again completes it and opens the checkout."""
    wait_focus(qtbot, page.table)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: _cell(page, appointment_id, "status") == "In consult", timeout=SLOW)
    wait_focus(qtbot, page.table)
    press(qtbot, Qt.Key.Key_Return)
    checkout = wait_for(qtbot, CheckoutDialog)
    assert checkout.appointment_id == appointment_id
    qtbot.waitUntil(lambda: _cell(page, appointment_id, "status") == "Completed", timeout=SLOW)
    return checkout


def _check_out(qtbot: QtBot, dialog: CheckoutDialog) -> None:
    """Two lines from the price list (type the start, Enter), a part payment in cash with
    change, Enter; then Print receipt (Alt+P) saves the PDF; Enter closes."""
    qtbot.waitUntil(lambda: dialog.card is not None and dialog.picker.count() > 0, timeout=SLOW)
    wait_focus(qtbot, dialog.picker)
    type_text(qtbot, "consult")
    press(qtbot, Qt.Key.Key_Return)
    type_text(qtbot, "worm")
    press(qtbot, Qt.Key.Key_Return)
    assert dialog.lines.rowCount() == 2
    assert dialog.total() == Decimal("64.20")  # (45.00 + 8.50) + 20 % VAT
    press(qtbot, Qt.Key.Key_O, ALT)  # Amount: starts at the total, selected
    assert focused() is dialog.amount
    type_text(qtbot, "40")
    assert dialog.method.currentData() == "cash"
    press(qtbot, Qt.Key.Key_C, ALT)  # Cash given
    type_text(qtbot, "50")
    assert dialog.change.text().startswith("£10.00")
    assert "£24.20 left to pay" in dialog.change.text()
    with qtbot.waitSignal(dialog.sig_checked_out, timeout=SLOW):
        press(qtbot, Qt.Key.Key_Return)
    invoice = dialog.invoice
    assert invoice is not None
    assert (invoice.total, invoice.paid, invoice.balance) == (
        Decimal("64.20"),
        Decimal("40.00"),
        Decimal("24.20"),
    )
    assert "Give £10.00 change" in dialog.done_note.get_message()
    press(qtbot, Qt.Key.Key_P, ALT)
    qtbot.waitUntil(lambda: dialog.receipt_path is not None, timeout=SLOW)
    assert dialog.receipt_path is not None
    assert dialog.receipt_path.read_bytes().startswith(b"%PDF")
    press(qtbot, Qt.Key.Key_E, ALT)  # Email receipt: to the owner, the PDF attached
    qtbot.waitUntil(lambda: dialog.email_job is not None, timeout=SLOW)
    wait_focus(qtbot, dialog.close_button)
    press(qtbot, Qt.Key.Key_Return)  # Done
    wait_closed(qtbot, dialog)


def _settle_the_balance(qtbot: QtBot, window: MainWindow, client_id: int) -> None:
    """Balances (Ctrl+7): the owner is listed with what they still owe; the search finds
    them, Enter opens Take payment with everything owed, Enter (card) pays it."""
    press(qtbot, Qt.Key.Key_7, CTRL)
    page = window.current_page()
    assert isinstance(page, BalancesPage)
    press(qtbot, Qt.Key.Key_F, CTRL)
    type_text(qtbot, "okafor")
    press(qtbot, Qt.Key.Key_Return)  # search now and go to the first row

    def found() -> bool:
        row = page.grid.row_at(0)
        return page.grid.row_count() == 1 and row is not None and row.id == client_id

    qtbot.waitUntil(found, timeout=SLOW)
    wait_focus(qtbot, page.grid.table_view())
    press(qtbot, Qt.Key.Key_Return)  # Enter on the row takes a payment from the owner
    dialog = wait_for(qtbot, TakePaymentDialog)
    qtbot.waitUntil(lambda: dialog.account is not None, timeout=SLOW)
    assert dialog.amount.text() == "24.20"
    press(qtbot, Qt.Key.Key_M, ALT)
    type_text(qtbot, "card")
    with qtbot.waitSignal(dialog.sig_paid, timeout=SLOW):
        press(qtbot, Qt.Key.Key_Return)
    assert "The account is settled." in dialog.done_note.get_message()
    wait_focus(qtbot, dialog.close_button)
    press(qtbot, Qt.Key.Key_Return)  # Done
    wait_closed(qtbot, dialog)
    qtbot.waitUntil(lambda: page.grid.row_count() == 0, timeout=SLOW)  # nothing owed now


def _find_by_phone(qtbot: QtBot, window: MainWindow, client_id: int) -> None:
    """Ctrl+K finds the owner by a part of the phone number; Enter opens the record, which
    shows the two invoices' worth of history and nothing owed; Escape closes it."""
    press(qtbot, Qt.Key.Key_K, CTRL)
    palette = wait_for(qtbot, CommandPalette)
    wait_focus(qtbot, palette.search)
    type_text(qtbot, "955 31")

    def found() -> bool:
        item = palette.current_item()
        return item is not None and item.key == f"client:{client_id}"

    qtbot.waitUntil(found, timeout=SLOW)
    press(qtbot, Qt.Key.Key_Return)
    record = wait_for(qtbot, ClientRecordDialog)
    qtbot.waitUntil(lambda: record.record is not None, timeout=SLOW)
    assert record.client_id == client_id
    assert record.balance.text() == "Nothing owed"
    assert record.tabs.tabText(1) == "Invoices (1)"
    press(qtbot, Qt.Key.Key_Escape)
    wait_closed(qtbot, record)


def _idle_lock_and_hand_over(qtbot: QtBot, window: MainWindow, idle_clock: list[float]) -> None:
    """Ten idle minutes lock the window; the desk's password unlocks it where it was.
    Locked again (Ctrl+L), "Switch user" lets the vet sign in without closing the app;
    the vet sees no admin pages."""
    page = window.current_page()
    idle_clock[0] += window.context.settings.idle_lock_minutes * 60
    qtbot.waitUntil(window.is_covered, timeout=SLOW)
    screen = window.sign_in_screen
    assert screen.panel() == "locked"
    wait_focus(qtbot, screen.unlock_edit)
    type_text(qtbot, "not it")
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(screen.message.isVisible, timeout=SLOW)
    assert window.is_covered()
    type_text(qtbot, DEMO_PASSWORD)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.is_covered(), timeout=SLOW)
    assert window.current_page() is page
    press(qtbot, Qt.Key.Key_L, CTRL)
    assert window.is_covered()
    wait_focus(qtbot, screen.unlock_edit)
    qtbot.mouseClick(screen.switch_button, Qt.MouseButton.LeftButton)
    _sign_in(qtbot, window, "vet", DEMO_PASSWORD)
    assert {spec.key for spec in window.page_specs()}.isdisjoint({"queues", "staff", "settings"})


def _everything_was_done_as_the_desk(
    context: AppContext, client_id: int, patient_id: int, appointment_id: int
) -> None:
    """The audit log names the receptionist on every change of the day, never "system"."""
    services = context.services
    assert services is not None
    desk = services.staff.authenticate("desk", DEMO_PASSWORD)
    assert desk is not None
    entries = [
        *services.audit.search(entity="client", entity_id=client_id, limit=200).items,
        *services.audit.search(entity="patient", entity_id=patient_id, limit=200).items,
        *services.audit.search(entity="appointment", entity_id=appointment_id, limit=200).items,
    ]
    assert sorted((e.entity, e.action) for e in entries) == [
        ("appointment", "booked"),
        *[("appointment", "status_changed")] * 3,  # arrived, in consult, completed
        ("client", "created"),
        ("patient", "created"),
        ("patient", "weight_recorded"),  # at check-in
    ]
    assert {e.staff_id for e in entries} == {desk.id}
