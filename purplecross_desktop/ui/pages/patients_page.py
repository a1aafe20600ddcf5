"""Patients: every pet with its owner, searchable and sortable in SQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from purplecross_desktop.domain.clients import Client
from purplecross_desktop.domain.patients import Patient, Sex, Species
from purplecross_desktop.ui.grid_sql_source import SqlSource
from purplecross_desktop.ui.pages.grid_page import GridPage
from purplecross_desktop.ui.pages.labels import enum_label
from widgets.datagrid import ChoiceFilter, Column, SavedView, SortKey


class PatientsPage(GridPage):
    """The patient list on the database source."""

    title = "Patients"
    grid_id = "patients"
    empty_text = "No patients yet"

    def columns(self) -> Sequence[Column]:
        return [
            Column("id", "No.", kind="number", width=80, visible=False),
            Column("name", "Name", kind="text", width=160),
            Column(
                "species",
                "Species",
                filter_mode="choice",
                choices=tuple(Species),
                formatter=enum_label,
                width=110,
            ),
            Column("breed", "Breed", kind="text", width=170),
            Column("sex", "Sex", filter_mode="choice", choices=tuple(Sex), formatter=enum_label),
            Column("date_of_birth", "Born", kind="date", filter_mode="range", width=110),
            Column("microchip", "Microchip", kind="text", width=150),
            Column("owner", "Owner", kind="text", width=180),
            Column("active", "Active", kind="bool", filter_mode="choice", width=70),
        ]

    def source(self) -> SqlSource:
        stmt = select(Patient).join(Client, Patient.client_id == Client.id)
        return SqlSource(
            stmt,
            self.context.session_factory,
            {
                "id": Patient.id,
                "name": Patient.name,
                "species": Patient.species,
                "breed": Patient.breed,
                "sex": Patient.sex,
                "date_of_birth": Patient.date_of_birth,
                "microchip": Patient.microchip,
                "owner": Client.name,
                "active": Patient.active,
            },
            id_column=Patient.id,
            sort_columns={"name": Patient.name_key, "owner": Client.name_key},
            searchable=["name", "breed", "microchip", "owner"],
        )

    def saved_views(self) -> Sequence[SavedView]:
        return (
            SavedView("All patients"),
            SavedView("Active dogs", filters=(_species(Species.DOG), _ACTIVE)),
            SavedView("Active cats", filters=(_species(Species.CAT), _ACTIVE)),
            SavedView("Youngest first", sort=(SortKey("date_of_birth", descending=True),)),
        )


_ACTIVE = ("active", ChoiceFilter(frozenset({True})))


def _species(species: Species) -> tuple[str, ChoiceFilter]:
    return ("species", ChoiceFilter(frozenset({species})))
