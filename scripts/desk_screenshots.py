"""Render the front desk's screens on demo data, light and dark, into docs/screenshots/.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/desk_screenshots.py [out_dir]

Builds a throwaway embedded clinic (demo data pinned to a weekday at 11:30), plays a
morning at the desk (arrivals, a consult, a cancellation) and grabs each screen.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: A Tuesday; the demo diary is pinned to it so screenshots are the same on every run.
DAY = dt.date(2031, 3, 4)
NOW = dt.datetime.combine(DAY, dt.time(11, 30), tzinfo=dt.UTC)


def _seed(data_dir: Path) -> str:
    from purplecross_desktop.database.session import upgrade
    from purplecross_desktop.demo import generate_demo_data

    url = f"sqlite:///{data_dir / 'clinic.db'}"
    upgrade(url)
    generate_demo_data(url, clients=400, patients=600, appointments=2500, seed=3, now=NOW)
    return url


def _morning(context: Any) -> None:
    """Arrivals and a consult, as a desk would have recorded them by 11:30."""
    from purplecross_desktop.clinic_time import ClinicTime
    from purplecross_desktop.domain.appointments import AppointmentService, AppointmentStatus

    services = context.services
    clock = {"now": NOW - dt.timedelta(minutes=40)}
    desk = AppointmentService(context.session_factory, services.events, clock=lambda: clock["now"])
    start, end = ClinicTime(context.settings.clinic_timezone).day_bounds(DAY)
    rows = services.front_desk.board(start, end)
    waiting = [
        r
        for r in rows
        if r.status in (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)
        and NOW - dt.timedelta(minutes=45) <= r.starts_at <= NOW + dt.timedelta(minutes=30)
    ]
    for number, row in enumerate(waiting[:4]):
        clock["now"] = NOW - dt.timedelta(minutes=35 - 8 * number)
        desk.check_in(row.id)
    if waiting:
        clock["now"] = NOW - dt.timedelta(minutes=5)
        desk.start_consult(waiting[0].id)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="pc-shots-"))
    os.environ["PURPLECROSS_DATA_DIR"] = str(data_dir)
    os.environ["PURPLECROSS_CONFIG_FILE"] = str(data_dir / "settings.toml")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _seed(data_dir)
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from purplecross_desktop.app import build_context, build_window, shutdown
    from purplecross_desktop.settings import load_settings
    from purplecross_desktop.ui.pages.calendar_page import CalendarPage
    from purplecross_desktop.ui.pages.today_page import TodayPage
    from widgets.theme import apply_theme

    TodayPage.clock = staticmethod(lambda: NOW)  # type: ignore[method-assign]
    CalendarPage.clock = staticmethod(lambda: NOW)  # type: ignore[method-assign]
    app = QApplication(sys.argv[:1])
    context = build_context(load_settings(), start_jobs=False)
    # The demo's front-desk login: every change is made as the signed-in staff member.
    desk_staff = context.services.staff.authenticate("desk", "purplecross")
    assert desk_staff is not None, "the demo data has no 'desk' login"
    context.staff_session.sign_in(desk_staff)
    _morning(context)
    window = build_window(context)
    window.resize(1440, 860)
    window.show()

    def settle(ms: int = 1500) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    for theme in ("light", "dark"):
        apply_theme(app, theme)
        window.apply_chrome(theme)
        page = window.show_page("today")
        settle()
        assert isinstance(page, TodayPage)
        arrived = [r for r in page.model.rows() if r.status == "arrived"]
        if arrived:
            page.select_appointment(arrived[0].id)
        settle(300)
        window.grab().save(str(out / f"desk-today-{theme}.png"))
        print("wrote", out / f"desk-today-{theme}.png")
        calendar = window.show_page("calendar")
        settle()
        assert isinstance(calendar, CalendarPage)
        calendar.view.set_cursor(calendar.view.columns()[0].key, 11 * 60 + 30)
        settle(300)
        window.grab().save(str(out / f"desk-calendar-day-{theme}.png"))
        calendar.span.setCurrentIndex(1)
        settle()
        window.grab().save(str(out / f"desk-calendar-week-{theme}.png"))
        calendar.span.setCurrentIndex(0)
        print("wrote calendar", theme)
    # Checkout of a consult that just finished: two lines, a discount, part paid in cash.
    from purplecross_desktop.ui.dialogs.checkout import CheckoutDialog

    CheckoutDialog.open_receipts = False
    today = window.show_page("today")
    assert isinstance(today, TodayPage)
    settle()
    consult = next(r for r in today.model.rows() if r.status == "in_consult")
    context.services.appointments.complete(consult.id)
    for theme in ("light", "dark"):
        apply_theme(app, theme)
        window.apply_chrome(theme)
        dialog = today.open_checkout(consult.id)
        settle()
        for name in ("Consultation", "Worming tablets"):
            item = next(i for i in dialog.items if i.name == name)
            dialog.add_item(item)
        dialog.discount.setValue(10)
        dialog.amount.setText("40.00")
        dialog.amount.setModified(True)
        dialog.tendered.setText("50")
        dialog._recompute()
        settle(300)
        dialog.grab().save(str(out / f"desk-checkout-{theme}.png"))
        dialog.reject()
        print("wrote checkout", theme)
    # The outstanding-balance list and Take payment for whoever owes most: part paid in cash.
    from purplecross_desktop.ui.pages.balances_page import BalancesPage

    for theme in ("light", "dark"):
        apply_theme(app, theme)
        window.apply_chrome(theme)
        balances = window.show_page("balances")
        assert isinstance(balances, BalancesPage)
        settle()
        window.grab().save(str(out / f"desk-balances-{theme}.png"))
        owing = balances.grid.row_at(0)
        if owing is not None:
            payment = balances.take_payment(owing.id)
            settle()
            payment.amount.setText("20.00")
            payment.tendered.setText("50")
            payment._recompute()
            settle(300)
            payment.grab().save(str(out / f"desk-take-payment-{theme}.png"))
            payment.reject()
        print("wrote balances", theme)
    window.close()
    shutdown(context)


if __name__ == "__main__":
    main()
