"""Checkout on SQLite and PostgreSQL: complete a consult, two lines, a part payment, receipt."""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from purplecross_desktop.database.base import AppointmentId
from purplecross_desktop.domain.billing import InvoiceStatus
from purplecross_desktop.domain.price_list import PriceItemData
from purplecross_desktop.ui.dialogs.checkout import CheckoutDialog
from purplecross_desktop.ui.pages.today_page import TodayPage
from tests.purplecross_desktop.ui.desk_support import SeededDesk, seed_desk
from widgets.theme import apply_theme

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


@pytest.fixture
def desk(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SeededDesk]:
    seeded = seed_desk(database_url, monkeypatch)
    monkeypatch.setattr(TodayPage, "clock", staticmethod(lambda: seeded.at(8)))
    monkeypatch.setattr(CheckoutDialog, "open_receipts", False)
    services = seeded.context.services
    assert services is not None
    services.price_list.create(PriceItemData("Consultation", "service", "40.00", "0.2"))
    services.price_list.create(PriceItemData("Wormer tablets", "product", "5.00", "0.2"))
    yield seeded
    seeded.close()


def test_complete_offers_checkout_two_lines_part_payment_and_a_receipt(
    qtbot: QtBot, desk: SeededDesk
) -> None:
    services = desk.context.services
    assert services is not None
    rex = AppointmentId(desk.appointments[0].id)
    services.appointments.check_in(rex)
    services.appointments.start_consult(rex)
    page = TodayPage(desk.context)
    qtbot.addWidget(page)
    page.resize(1280, 700)
    page.show()
    with qtbot.waitSignal(page.sig_board_loaded, timeout=10000):
        page.activate()
    assert page.current_row().id == rex  # type: ignore[union-attr]
    assert page.action_buttons["complete"].get_variant() == "primary"
    qtbot.keyClick(page.table, Qt.Key.Key_Return)  # in consult -> complete -> checkout
    found: list[CheckoutDialog] = []

    def shown() -> bool:
        found[:] = [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, CheckoutDialog) and w.isVisible()
        ]
        return bool(found)

    qtbot.waitUntil(shown, timeout=10000)
    dialog = found[0]
    qtbot.waitUntil(lambda: dialog.card is not None and dialog.picker.count() == 2, timeout=10000)
    assert dialog.balance_note.isVisible()  # Ada owes £42.50 from before
    qtbot.keyClicks(dialog.picker, "Consult")
    qtbot.keyClick(dialog.add_button, Qt.Key.Key_Space)
    qtbot.keyClicks(dialog.picker, "Wormer")
    qtbot.keyClick(dialog.add_button, Qt.Key.Key_Space)
    assert dialog.lines.rowCount() == 2
    dialog.lines.item(1, 1).setText("2")  # type: ignore[union-attr]
    dialog.discount.setValue(10)
    # 40 + 10 = 50, -10 % = 45 net, +20 % tax = 54.00
    assert dialog.total() == Decimal("54.00")
    assert dialog.amount.text() == "54.00"
    dialog.amount.clear()
    qtbot.keyClicks(dialog.amount, "30")
    qtbot.keyClicks(dialog.tendered, "50")
    assert dialog.change.text().startswith("£20.00")
    assert "£24.00 left to pay" in dialog.change.text()
    with qtbot.waitSignal(dialog.sig_checked_out, timeout=10000) as done:
        qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)
    invoice = services.invoices.get(done.args[0])
    assert (invoice.total, invoice.paid, invoice.balance) == (
        Decimal("54.00"),
        Decimal("30.00"),
        Decimal("24.00"),
    )
    assert invoice.status is InvoiceStatus.OPEN
    assert invoice.appointment_id == rex
    assert invoice.payments[0].change_due == Decimal("20.00")
    assert "Give £20.00 change" in dialog.done_note.get_message()
    qtbot.keyClick(dialog.print_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: dialog.receipt_path is not None, timeout=20000)
    assert dialog.receipt_path is not None
    text = PdfReader(io.BytesIO(dialog.receipt_path.read_bytes())).pages[0].extract_text()
    assert "£54.00" in text
    assert "£24.00" in text


def test_enter_in_the_item_box_adds_the_line_and_never_takes_the_payment(
    qtbot: QtBot, desk: SeededDesk
) -> None:
    services = desk.context.services
    assert services is not None
    rex = AppointmentId(desk.appointments[0].id)
    for step in (services.appointments.check_in, services.appointments.start_consult):
        step(rex)
    services.appointments.complete(rex)
    dialog = CheckoutDialog(desk.context, rex)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.card is not None and dialog.picker.count() == 2, timeout=10000)
    dialog.picker.setFocus()
    qtbot.keyClicks(dialog.picker, "wor")
    qtbot.keyClick(dialog.picker, Qt.Key.Key_Return)
    qtbot.keyClicks(dialog.picker, "consul")
    qtbot.keyClick(dialog.picker, Qt.Key.Key_Enter)
    assert [dialog.lines.item(r, 0).text() for r in range(2)] == [  # type: ignore[union-attr]
        "Wormer tablets",
        "Consultation",
    ]
    assert dialog.picker.count() == 2  # nothing typed became a price list entry
    assert dialog.invoice is None
    assert dialog.isVisible()
    qtbot.keyClicks(dialog.picker, "nothing like it")
    qtbot.keyClick(dialog.picker, Qt.Key.Key_Return)
    assert "no price list item matches" in dialog.field_errors["lines"].text()
    assert dialog.lines.rowCount() == 2


def test_after_saving_the_dialog_fits_800_by_600_with_every_row_readable(
    qtbot: QtBot, qapp: QApplication, desk: SeededDesk, tmp_path: Path
) -> None:
    """The busiest checkout (an earlier balance, two lines, cash with change, the saved
    note and the receipt buttons) fits an 800x600 screen, nothing squeezed below its text,
    in the app's own style (its style sheet sets the paddings, so sizes differ without it)."""
    apply_theme(qapp, "light")
    services = desk.context.services
    assert services is not None
    rex = AppointmentId(desk.appointments[0].id)
    for step in (
        services.appointments.check_in,
        services.appointments.start_consult,
        services.appointments.complete,
    ):
        step(rex)
    dialog = CheckoutDialog(desk.context, rex)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.card is not None and dialog.picker.count() == 2, timeout=10000)
    assert dialog.balance_note.isVisible()
    for name in ("Consult", "Wormer"):
        qtbot.keyClicks(dialog.picker, name)
        qtbot.keyClick(dialog.add_button, Qt.Key.Key_Space)
    dialog.discount.setValue(10)
    dialog.amount.clear()
    qtbot.keyClicks(dialog.amount, "30")
    qtbot.keyClicks(dialog.tendered, "50")
    with qtbot.waitSignal(dialog.sig_checked_out, timeout=10000):
        qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)
    assert dialog.done_note.isVisible()
    assert dialog.print_button.isVisible()
    assert not dialog.picker.isVisible()  # no more lines on a saved invoice
    QApplication.processEvents()
    dialog.resize(800, 600)
    QApplication.processEvents()
    dialog.grab().save(str(tmp_path / "checkout-saved-800x600.png"))  # to look at
    needed = dialog.minimumSizeHint().expandedTo(dialog.minimumSize())
    assert needed.width() <= 800
    assert needed.height() <= 600 - 24, needed  # and room for a compact title bar
    assert (dialog.width(), dialog.height()) == (800, 600)
    rows = (dialog.discount, dialog.method, dialog.amount, dialog.tendered, dialog.totals)
    for widget in (*rows, dialog.lines, dialog.done_note, dialog.print_button, dialog.close_button):
        assert widget.isVisible(), widget.accessibleName()
        wrapped = widget.heightForWidth(widget.width())  # the alerts' text wraps
        wanted = wrapped if wrapped > 0 else widget.sizeHint().height()
        if widget is dialog.lines:  # a table: its header and every line, no scrolling
            wanted = (
                dialog.lines.horizontalHeader().height()
                + sum(dialog.lines.rowHeight(r) for r in range(dialog.lines.rowCount()))
                + 2 * dialog.lines.frameWidth()
            )
        assert widget.height() >= wanted, widget.accessibleName()
        bottom = widget.mapTo(dialog, widget.rect().bottomLeft()).y()
        assert bottom <= dialog.height(), widget.accessibleName()
    qtbot.keyClick(dialog.print_button, Qt.Key.Key_Space)  # the note grows by the path
    qtbot.waitUntil(lambda: dialog.receipt_path is not None, timeout=20000)
    QApplication.processEvents()
    assert dialog.minimumSizeHint().height() <= 600 - 24, dialog.minimumSizeHint()
    assert dialog.height() <= 600
