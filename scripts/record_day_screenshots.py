"""Render the receptionist's day for docs/user-guide.md, from the real window on demo data.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/record_day_screenshots.py [out_dir]

A fresh clinic: the first start's admin account, the empty clinic's welcome, sign-in as
the demo's desk login, a new client, booking from a Calendar slot, check-in, the Today
board with someone waiting, checkout with a part payment, Take payment on Balances, and
the locked screen. The steps where the theme matters are taken light and dark.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="pc-day-"))
    os.environ["PURPLECROSS_DATA_DIR"] = str(data_dir)
    os.environ["PURPLECROSS_CONFIG_FILE"] = str(data_dir / "settings.toml")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication, QWidget

    from purplecross_desktop.app import build_context, build_window, shutdown
    from purplecross_desktop.settings import load_settings
    from purplecross_desktop.ui.dialogs.checkout import CheckoutDialog
    from purplecross_desktop.ui.dialogs.client_form import ClientFormDialog
    from purplecross_desktop.ui.pages.calendar_page import CalendarPage
    from purplecross_desktop.ui.pages.today_page import TodayPage
    from widgets.theme import apply_theme

    app = QApplication(sys.argv[:1])
    CheckoutDialog.open_receipts = False
    context = build_context(load_settings(), start_jobs=False)
    window = build_window(context)
    window.resize(1280, 800)
    window.show()

    def settle(ms: int = 600) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def until(condition: Callable[[], Any], seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("the window did not get there")
            settle(50)

    def save(widget: QWidget, name: str, themes: tuple[str, ...] = ("light",)) -> None:
        for theme in themes:
            apply_theme(app, theme)
            window.apply_chrome(theme)
            settle(300)
            widget.grab().save(str(out / f"day-{name}-{theme}.png"))
            print("wrote", out / f"day-{name}-{theme}.png")
        if themes[-1] != "light":
            apply_theme(app, "light")
            window.apply_chrome("light")
            settle(200)

    both = ("light", "dark")
    screen = window.sign_in_screen
    until(lambda: screen.panel() == "first_run")
    for key, text in (
        ("name", "Pat Practice"),
        ("login", "pat"),
        ("email", "pat@example.org"),
        ("password", "opening day 1"),
        ("repeat", "opening day 1"),
    ):
        screen.first_fields[key].editor().setText(text)  # type: ignore[attr-defined]
    save(window, "first-start")
    screen.create_button.click()
    until(lambda: not window.is_covered())
    today = window.current_page()
    assert isinstance(today, TodayPage)
    until(today.welcome.isVisible)
    save(window, "welcome")
    today.welcome.load_demo()
    until(lambda: not today.welcome.isVisible() and today.row_count() > 0, 240)

    window.switch_user()
    screen.login_edit.setText("desk")
    screen.password_edit.setFocus()
    save(window, "sign-in")
    screen.password_edit.setText("purplecross")
    screen.sign_in_button.click()
    until(lambda: not window.is_covered())

    clients = window.show_page("clients")
    form = clients.create_new()
    assert isinstance(form, ClientFormDialog)
    settle()
    form.name.setText("Maya Okafor")
    form.phones["mobile"].setText("07700 955 314")
    form.email.setText("maya.okafor@example.org")
    settle(300)
    save(form, "new-client")
    form.save()
    record = None
    until(lambda: form.isHidden())
    from purplecross_desktop.ui.records.client_record import ClientRecordDialog

    until(
        lambda: any(
            isinstance(w, ClientRecordDialog) and w.isVisible() for w in app.topLevelWidgets()
        )
    )
    record = next(
        w for w in app.topLevelWidgets() if isinstance(w, ClientRecordDialog) and w.isVisible()
    )
    until(lambda: record.record is not None)
    pet = record.add_pet()
    settle()
    pet.name.setText("Biscuit")
    pet.species.setCurrentIndex(pet.species.findText("Dog"))
    pet.weight.setText("24.5")
    pet.alerts.setText("Bites, Allergic to penicillin")
    settle(300)
    save(pet, "add-pet")
    pet.save()
    until(lambda: record.record is not None and len(record.record.pets) == 1)
    record.reject()

    calendar = window.show_page("calendar")
    assert isinstance(calendar, CalendarPage)
    until(lambda: bool(calendar.view.items()))

    def free_slot() -> tuple[Any, int] | None:
        now = calendar.clinic_time.now()
        first = 8 * 60
        if calendar.day == now.date():
            first = max(first, (now.hour * 60 + now.minute + 30) // 15 * 15 + 15)
        for column in calendar.view.columns():
            busy = [(i.start, i.end) for i in calendar.view.items() if i.column == column.key]
            for m in range(first, 18 * 60 - 20, 15):
                if all(end <= m or start >= m + 20 for start, end in busy):
                    return column.key, m
        return None

    found = free_slot()
    while found is None:  # late in the day: the next day
        calendar.go(1)
        settle(1500)  # the next day's appointments loaded
        found = free_slot()
    vet_key, minute = found
    window.activateWindow()  # the cursor is drawn while the diary has the focus
    until(lambda: app.activeWindow() is window, 5)
    calendar.view.setFocus()
    calendar.view.set_cursor(vet_key, minute)
    save(window, "calendar-slot", both)
    calendar.book_at_cursor()
    from purplecross_desktop.ui.dialogs.booking import BookingDialog

    until(
        lambda: any(isinstance(w, BookingDialog) and w.isVisible() for w in app.topLevelWidgets())
    )
    booking = next(
        w for w in app.topLevelWidgets() if isinstance(w, BookingDialog) and w.isVisible()
    )
    booking.search.setText("biscuit oka")
    booking._focus_results()
    until(lambda: booking.patient is not None)
    booking.reason.setText("Limping since Monday")
    settle(300)
    save(booking, "booking")
    with_booked: list[int] = []
    booking.sig_booked.connect(with_booked.append)
    booking.submit()
    until(lambda: bool(with_booked))
    appointment_id = with_booked[0]

    today = window.show_page("today")
    assert isinstance(today, TodayPage)
    until(lambda: today.model.row_of(appointment_id) is not None)
    today.select_appointment(appointment_id)
    check_in = today.open_check_in(appointment_id)
    until(lambda: check_in.card is not None)
    check_in.weight.setText("25.1")
    settle(300)
    save(check_in, "check-in", both)
    check_in.submit()
    until(lambda: today.current_row() is not None and today.current_row().status == "arrived")
    settle(800)
    today.table.scrollTo(today.table.currentIndex())
    save(window, "today-waiting", both)

    assert context.services is not None
    from purplecross_desktop.database.base import AppointmentId

    context.services.appointments.start_consult(AppointmentId(appointment_id))
    context.services.appointments.complete(AppointmentId(appointment_id))
    checkout = today.open_checkout(appointment_id)
    until(lambda: checkout.card is not None and checkout.picker.count() > 0)
    for typed in ("consult", "worm"):
        checkout.picker.setEditText(typed)
        checkout.add_selected_item()
    checkout.amount.setText("40")
    checkout.amount.setModified(True)
    checkout.tendered.setText("50")
    checkout._recompute()
    settle(300)
    save(checkout, "checkout", both)
    checkout.submit()
    until(lambda: checkout.invoice is not None)
    checkout.print_receipt()
    until(lambda: checkout.receipt_path is not None)
    settle(300)
    save(checkout, "checkout-done")
    checkout.accept()

    balances = window.show_page("balances")
    balances.grid.set_filter("okafor")
    until(lambda: balances.grid.row_count() == 1 and balances.grid.row_at(0) is not None)
    settle(500)
    save(window, "balances")
    payment = balances.take_payment(balances.grid.row_at(0).id)
    until(lambda: payment.account is not None)
    payment.method.setCurrentIndex(payment.method.findData("card"))
    settle(300)
    save(payment, "take-payment", both)
    payment.reject()

    palette = window.open_palette()
    palette.search.setText("955 31")
    settle(1200)
    save(palette, "palette-phone")
    palette.reject()

    window.lock()
    settle(300)
    save(window, "locked", both)
    window.close()
    shutdown(context)


if __name__ == "__main__":
    main()
