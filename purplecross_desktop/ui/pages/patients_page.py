"""Patients: every pet with its owner, searchable and sortable in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QWidget
from sqlalchemy import select

from purplecross_desktop.domain.clients import Client
from purplecross_desktop.domain.patients import Patient, Sex, Species
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.grid_sql_source import SqlSource
from purplecross_desktop.ui.pages.grid_page import GridPage
from purplecross_desktop.ui.pages.labels import enum_label
from widgets.button import Button
from widgets.datagrid import ChoiceFilter, Column, GridRow, SavedView, SortKey


class PatientsPage(GridPage):
    """The patient list on the database source; Enter opens the patient's record and
    Ctrl+N registers a new patient (the owner found by name or phone)."""

    title = "Patients"
    grid_id = "patients"
    empty_text = "No patients yet"
    creates = "patient"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        bar = QHBoxLayout()
        self.new_button = Button("New patient", icon="plus")
        self.new_button.setToolTip("Register a new patient (Ctrl+N)")
        self.new_button.clicked.connect(self.create_new)
        self.open_button = Button("Open record", variant="secondary")
        self.open_button.setToolTip("Open the selected patient's record (Enter)")
        self.open_button.clicked.connect(self.open_current)
        bar.addWidget(self.new_button)
        bar.addWidget(self.open_button)
        bar.addStretch(1)
        self.body.insertLayout(0, bar)

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

    # Actions ------------------------------------------------------------------
    def create_new(self) -> Any:
        """The New patient form; the new patient's record opens once saved."""
        from purplecross_desktop.ui.dialogs.patient_form import PatientFormDialog

        dialog = PatientFormDialog(self.context, parent=self)
        dialog.sig_saved.connect(self._created)
        dialog.open()
        return dialog

    def open_row(self, row: GridRow) -> None:
        self.open_record(row.id)

    def open_current(self) -> None:
        patient_id = self.current_id()
        if patient_id is not None:
            self.open_record(patient_id)

    def open_record(self, patient_id: int) -> Any:
        from purplecross_desktop.ui.records.patient_record import open_patient_record

        dialog = open_patient_record(self.context, self, patient_id)
        dialog.sig_changed.connect(self.grid.refresh)
        return dialog

    def _created(self, patient: Any) -> None:
        self.grid.refresh()
        self.open_record(patient.id)


_ACTIVE = ("active", ChoiceFilter(frozenset({True})))


def _species(species: Species) -> tuple[str, ChoiceFilter]:
    return ("species", ChoiceFilter(frozenset({species})))
