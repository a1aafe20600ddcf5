"""Clients: the owners, with contact details and preferred channel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from PySide6.QtWidgets import QHBoxLayout, QWidget
from sqlalchemy import select

from purplecross_desktop.domain.clients import Client, ClientPhone, ContactChannel
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.grid_sql_source import SqlSource
from purplecross_desktop.ui.pages.grid_page import GridPage
from purplecross_desktop.ui.pages.labels import enum_label
from widgets.button import Button
from widgets.datagrid import ChoiceFilter, Column, GridRow, SavedView


def phone_digits_match(text: str) -> sa.ColumnElement[bool] | None:
    """The search matches a client when any of their numbers contains the digits typed
    (three or more): "900 12" finds 07700 900123."""
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) < 3:
        return None
    return sa.exists().where(
        ClientPhone.client_id == Client.id, ClientPhone.number.like(f"%{digits}%")
    )


class ClientsPage(GridPage):
    """The client list on the database source; Enter opens the client's record, Ctrl+N
    registers a new client, and the search finds any part of any phone number."""

    title = "Clients"
    grid_id = "clients"
    empty_text = "No clients yet"
    creates = "client"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        bar = QHBoxLayout()
        self.new_button = Button("New client", icon="plus")
        self.new_button.setToolTip("Register a new client (Ctrl+N)")
        self.new_button.clicked.connect(self.create_new)
        self.open_button = Button("Open record", variant="secondary")
        self.open_button.setToolTip("Open the selected client's record (Enter)")
        self.open_button.clicked.connect(self.open_current)
        bar.addWidget(self.new_button)
        bar.addWidget(self.open_button)
        bar.addStretch(1)
        self.body.insertLayout(0, bar)

    def columns(self) -> Sequence[Column]:
        return [
            Column("id", "No.", kind="number", width=80, visible=False),
            Column("name", "Name", kind="text", width=200),
            Column("phone", "Phone", kind="text", width=140),
            Column("email", "Email", kind="text", width=240),
            Column("city", "City", kind="text", width=140),
            Column("postal_code", "Postcode", kind="text", width=100),
            Column(
                "preferred_contact",
                "Contact by",
                filter_mode="choice",
                choices=tuple(ContactChannel),
                formatter=enum_label,
                width=100,
            ),
            Column("active", "Active", kind="bool", filter_mode="choice", width=70),
        ]

    def source(self) -> SqlSource:
        first_phone = (
            sa.select(ClientPhone.number)
            .where(ClientPhone.client_id == Client.id)
            .order_by(ClientPhone.position, ClientPhone.id)
            .limit(1)
            .correlate(Client)
            .scalar_subquery()
        )
        return SqlSource(
            select(Client),
            self.context.session_factory,
            {
                "id": Client.id,
                "name": Client.name,
                "phone": first_phone,
                "email": Client.email,
                "city": Client.city,
                "postal_code": Client.postal_code,
                "preferred_contact": Client.preferred_contact,
                "active": Client.active,
            },
            id_column=Client.id,
            sort_columns={"name": Client.name_key},
            searchable=["name", "email", "city", "postal_code"],
            extra_search=phone_digits_match,
        )

    def saved_views(self) -> Sequence[SavedView]:
        return (
            SavedView("All clients"),
            SavedView(
                "Reach by email",
                filters=(("preferred_contact", ChoiceFilter(frozenset({ContactChannel.EMAIL}))),),
            ),
            SavedView("Inactive", filters=(("active", ChoiceFilter(frozenset({False}))),)),
        )

    # Actions ------------------------------------------------------------------
    def create_new(self) -> Any:
        """The New client form; the new client's record opens once saved."""
        from purplecross_desktop.ui.dialogs.client_form import ClientFormDialog

        dialog = ClientFormDialog(self.context, parent=self)
        dialog.sig_saved.connect(self._created)
        dialog.sig_open_client.connect(self.open_record)
        dialog.open()
        return dialog

    def open_row(self, row: GridRow) -> None:
        self.open_record(row.id)

    def open_current(self) -> None:
        client_id = self.current_id()
        if client_id is not None:
            self.open_record(client_id)

    def open_record(self, client_id: int) -> Any:
        from purplecross_desktop.ui.records.client_record import open_client_record

        dialog = open_client_record(self.context, self, client_id)
        dialog.sig_changed.connect(self.grid.refresh)
        return dialog

    def _created(self, client: Any) -> None:
        self.grid.refresh()
        self.open_record(client.id)
