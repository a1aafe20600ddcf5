"""The outstanding-balance list on SQLite and PostgreSQL, by keyboard: who owes most first,
Enter opens Take payment, a part payment in cash with change, the list follows."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from purplecross_desktop.app import build_window
from purplecross_desktop.database.base import ClientId
from purplecross_desktop.domain.billing import InvoiceData, InvoiceStatus, LineData
from purplecross_desktop.ui.dialogs.take_payment import TakePaymentDialog
from purplecross_desktop.ui.pages.balances_page import BalancesPage
from tests.purplecross_desktop.ui.desk_support import SeededDesk, seed_desk
from tests.purplecross_desktop.ui.keyboard import activate, focused, press, type_text

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


@pytest.fixture
def desk(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SeededDesk]:
    seeded = seed_desk(database_url, monkeypatch)  # Ada owes 42.50 already
    services = seeded.context.services
    assert services is not None
    ada = ClientId(seeded.client_id)
    services.invoices.create(InvoiceData(client_id=ada, lines=[LineData("Wormer", 1, "20.00")]))
    bob = services.clients.search("Bob").items[0]
    services.invoices.create(
        InvoiceData(client_id=ClientId(bob.id), lines=[LineData("Surgery", 1, "100.00")])
    )
    yield seeded
    seeded.close()


def _rows(page: BalancesPage) -> list[tuple[str, str, str]]:
    model = page.grid.model()
    client, count, owed = (model.column_of(k) for k in ("client", "invoices", "balance"))
    return [
        (
            str(model.index(r, client).data()),
            str(model.index(r, count).data()),
            str(model.index(r, owed).data()),
        )
        for r in range(model.rowCount())
    ]


def _loaded(page: BalancesPage, count: int) -> bool:
    return not page.grid.is_loading() and page.grid.row_count() == count


def _dialog() -> TakePaymentDialog | None:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, TakePaymentDialog) and widget.isVisible():
            return widget
    return None


def test_most_owed_first_then_a_part_payment_by_keyboard(qtbot: QtBot, desk: SeededDesk) -> None:
    window = build_window(desk.context)
    qtbot.addWidget(window)
    window.resize(1280, 760)
    activate(qtbot, window)
    page = window.show_page("balances")
    assert isinstance(page, BalancesPage)
    qtbot.waitUntil(lambda: _loaded(page, 2), timeout=10000)
    rows = _rows(page)
    assert [r[0] for r in rows] == ["Bob Stone", "Ada Lovelace"]
    assert rows[1][1] == "2"
    assert "62.50" in rows[1][2]
    table = page.grid.table_view()
    table.setFocus()
    qtbot.waitUntil(lambda: focused() is table)
    press(qtbot, Qt.Key.Key_Down)  # the first row
    press(qtbot, Qt.Key.Key_Down)  # Ada
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: _dialog() is not None, timeout=10000)
    dialog = _dialog()
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.account is not None, timeout=10000)
    assert "Ada Lovelace owes £62.50 on 2 open invoices" in dialog.summary.text()
    assert dialog.invoices.rowCount() == 2
    assert dialog.amount.text() == "62.50"
    assert focused() is dialog.amount
    type_text(qtbot, "50")  # replaces the selected full amount: a part payment
    qtbot.keyClicks(dialog.tendered, "60")
    assert dialog.change.text() == "£10.00  ·  £12.50 still owed after this"
    with qtbot.waitSignal(dialog.sig_paid, timeout=10000):
        qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)
    message = dialog.done_note.get_message()
    assert "Took £50.00" in message
    assert "Give £10.00 change" in message
    assert "£12.50 is still owed" in message
    services = desk.context.services
    assert services is not None
    ada = services.invoices.search(client_id=ClientId(desk.client_id), order="id").items
    assert [(i.status, i.balance) for i in ada] == [
        (InvoiceStatus.PAID, Decimal("0.00")),  # the oldest (due first) is settled
        (InvoiceStatus.OPEN, Decimal("12.50")),
    ]
    qtbot.waitUntil(lambda: any("12.50" in r[2] for r in _rows(page)), timeout=10000)
    qtbot.keyClick(dialog.close_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not dialog.isVisible())


def test_a_settled_account_leaves_the_list_and_bad_amounts_are_refused(
    qtbot: QtBot, desk: SeededDesk
) -> None:
    page = BalancesPage(desk.context)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: _loaded(page, 2), timeout=10000)
    bob_id = page.grid.row_at(0).id  # type: ignore[union-attr]
    dialog = page.take_payment(bob_id)
    qtbot.waitUntil(lambda: dialog.account is not None, timeout=10000)
    dialog.amount.setText("100.01")
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.field_errors["amount"].isVisible(), timeout=10000)
    assert dialog.field_errors["amount"].text() == "must not exceed the balance of 100.00"
    dialog.amount.setText("lots")
    dialog.submit()
    assert dialog.field_errors["amount"].text() == "must be a number"
    dialog.method.setCurrentIndex(1)  # card
    dialog.amount.setText("100")
    with qtbot.waitSignal(page.sig_payment_taken, timeout=10000):
        dialog.submit()
    assert "The account is settled" in dialog.done_note.get_message()
    qtbot.waitUntil(lambda: _loaded(page, 1), timeout=10000)
    assert _rows(page)[0][0] == "Ada Lovelace"
    dialog.reject()
