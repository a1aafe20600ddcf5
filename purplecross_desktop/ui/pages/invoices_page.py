"""Invoices: totals, payments and balances (computed by the billing service, never typed)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select

from purplecross_desktop.domain.billing import Invoice, InvoiceStatus
from purplecross_desktop.domain.clients import Client
from purplecross_desktop.ui.grid_sql_source import SqlSource
from purplecross_desktop.ui.pages.grid_page import GridPage
from purplecross_desktop.ui.pages.labels import enum_label
from widgets.datagrid import ChoiceFilter, Column, RangeFilter, SavedView, SortKey


class InvoicesPage(GridPage):
    """The invoice list with outstanding balances."""

    title = "Invoices"
    grid_id = "invoices"
    empty_text = "No invoices yet"

    def columns(self) -> Sequence[Column]:
        return [
            Column("id", "Id", kind="number", visible=False),
            Column("number", "Invoice", kind="text", width=120),
            Column("client", "Client", kind="text", width=200),
            Column("issued_on", "Issued", kind="date", filter_mode="range", width=110),
            Column("due_on", "Due", kind="date", filter_mode="range", width=110),
            Column(
                "status",
                "Status",
                filter_mode="choice",
                choices=tuple(InvoiceStatus),
                formatter=enum_label,
                width=90,
            ),
            Column("total", "Total", kind="money", filter_mode="range", width=100),
            Column("paid", "Paid", kind="money", filter_mode="range", width=100),
            Column("balance", "Balance", kind="money", filter_mode="range", width=100),
        ]

    def source(self) -> SqlSource:
        stmt = select(Invoice).join(Client, Invoice.client_id == Client.id)
        return SqlSource(
            stmt,
            self.context.session_factory,
            {
                "id": Invoice.id,
                "number": Invoice.number,
                "client": Client.name,
                "issued_on": Invoice.issued_on,
                "due_on": Invoice.due_on,
                "status": Invoice.status,
                "total": Invoice.total,
                "paid": Invoice.paid,
                "balance": Invoice.balance,
            },
            id_column=Invoice.id,
            sort_columns={"client": Client.name_key},
            searchable=["number", "client"],
        )

    def saved_views(self) -> Sequence[SavedView]:
        return (
            SavedView("All invoices", sort=(SortKey("issued_on", descending=True),)),
            SavedView(
                "Outstanding",
                sort=(SortKey("due_on"),),
                filters=(
                    ("status", ChoiceFilter(frozenset({InvoiceStatus.OPEN}))),
                    ("balance", RangeFilter(Decimal("0.01"), None)),
                ),
            ),
        )
