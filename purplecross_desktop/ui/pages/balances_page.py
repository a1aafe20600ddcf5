"""Balances: every client with unpaid invoices, most owed first; Enter takes a payment."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget
from sqlalchemy import func, select

from purplecross_desktop.domain.billing import Invoice, InvoiceStatus
from purplecross_desktop.domain.clients import Client, ClientPhone
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.grid_sql_source import SqlSource
from purplecross_desktop.ui.pages.grid_page import GridPage
from widgets.datagrid import Column, GridRow, SavedView, SortKey


class BalancesPage(GridPage):
    """The outstanding-balance list: who owes what, since when; Enter opens Take payment.

    One row per client with an open invoice that has a balance (summed in SQL, so the
    list pages and sorts at any size). After a payment the list reloads.

    Signals:
        sig_payment_taken(int): a payment was taken from the client with this id.
    """

    title = "Balances"
    grid_id = "balances"
    empty_text = "Nobody owes anything"

    sig_payment_taken = Signal(int)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.grid.sort_by("balance", descending=True)

    def columns(self) -> Sequence[Column]:
        return [
            Column("id", "Id", kind="number", visible=False),
            Column("client", "Client", kind="text", width=220),
            Column("phone", "Phone", kind="text", width=150),
            Column("email", "Email", kind="text", width=220),
            Column("invoices", "Open invoices", kind="number", width=110),
            Column("balance", "Owed", kind="money", filter_mode="range", width=110),
            Column("oldest_due", "Oldest due", kind="date", filter_mode="range", width=110),
        ]

    def source(self) -> SqlSource:
        owed = (
            select(
                Invoice.client_id.label("client_id"),
                func.count(Invoice.id).label("invoices"),
                func.sum(Invoice.balance).label("balance"),
                func.min(Invoice.due_on).label("oldest_due"),
            )
            .where(Invoice.status == InvoiceStatus.OPEN, Invoice.balance > 0)
            .group_by(Invoice.client_id)
            .subquery("owed")
        )
        phone = (
            select(ClientPhone.number)
            .where(ClientPhone.client_id == Client.id)
            .order_by(ClientPhone.position, ClientPhone.id)
            .limit(1)
            .correlate(Client)
            .scalar_subquery()
        )
        stmt = select(Client).join(owed, owed.c.client_id == Client.id)
        return SqlSource(
            stmt,
            self.context.session_factory,
            {
                "id": Client.id,
                "client": Client.name,
                "phone": phone,
                "email": Client.email,
                "invoices": owed.c.invoices,
                "balance": owed.c.balance,
                "oldest_due": owed.c.oldest_due,
            },
            id_column=Client.id,
            sort_columns={"client": Client.name_key},
            searchable=["client", "phone", "email"],
        )

    def saved_views(self) -> Sequence[SavedView]:
        return (
            SavedView("Most owed", sort=(SortKey("balance", descending=True),)),
            SavedView("Longest overdue", sort=(SortKey("oldest_due"),)),
        )

    def open_row(self, row: GridRow) -> None:
        self.take_payment(int(row.id))

    def take_payment(self, client_id: int) -> Any:
        """The Take payment dialog for ``client_id``; the list reloads after a payment."""
        from purplecross_desktop.ui.dialogs.take_payment import open_take_payment_dialog

        dialog = open_take_payment_dialog(self.context, self, client_id)
        dialog.sig_paid.connect(self._paid)
        return dialog

    def _paid(self, client_id: int) -> None:
        self.grid.refresh()
        self.sig_payment_taken.emit(client_id)
