"""Clients: the owners, with contact details and preferred channel."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from purplecross_desktop.domain.clients import Client, ContactChannel
from purplecross_desktop.ui.grid_sql_source import SqlSource
from purplecross_desktop.ui.pages.grid_page import GridPage
from purplecross_desktop.ui.pages.labels import enum_label
from widgets.datagrid import ChoiceFilter, Column, SavedView


class ClientsPage(GridPage):
    """The client list on the database source."""

    title = "Clients"
    grid_id = "clients"
    empty_text = "No clients yet"

    def columns(self) -> Sequence[Column]:
        return [
            Column("id", "No.", kind="number", width=80, visible=False),
            Column("name", "Name", kind="text", width=200),
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
        return SqlSource(
            select(Client),
            self.context.session_factory,
            {
                "id": Client.id,
                "name": Client.name,
                "email": Client.email,
                "city": Client.city,
                "postal_code": Client.postal_code,
                "preferred_contact": Client.preferred_contact,
                "active": Client.active,
            },
            id_column=Client.id,
            sort_columns={"name": Client.name_key},
            searchable=["name", "email", "city", "postal_code"],
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
