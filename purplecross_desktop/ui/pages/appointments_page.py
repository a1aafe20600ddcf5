"""Appointments: every booking with patient, owner, vet, room and status."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from PySide6.QtWidgets import QWidget
from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

from purplecross_desktop.clinic_time import ClinicTime
from purplecross_desktop.domain.appointments import (
    Appointment,
    AppointmentStatus,
    AppointmentType,
)
from purplecross_desktop.domain.clients import Client
from purplecross_desktop.domain.patients import Patient
from purplecross_desktop.domain.rooms import Room
from purplecross_desktop.domain.staff import Staff
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.grid_sql_source import SqlExpr, SqlSource
from purplecross_desktop.ui.pages.grid_page import GridPage
from purplecross_desktop.ui.pages.labels import enum_label
from widgets.datagrid import ChoiceFilter, Column, RangeFilter, SavedView, SortKey

Vet = aliased(Staff, name="vet")


def appointment_columns(clinic_time: ClinicTime) -> list[Column]:
    """The columns of an appointment list; times on the clinic's clock."""
    return [
        Column("id", "No.", kind="number", width=80, visible=False),
        Column(
            "starts_at",
            "Starts",
            kind="datetime",
            filter_mode="range",
            width=150,
            formatter=clinic_time.format_datetime,
        ),
        Column("patient", "Patient", kind="text", width=140),
        Column("client", "Owner", kind="text", width=170),
        Column("vet", "Vet", kind="text", width=160),
        Column("room", "Room", kind="text", width=110),
        Column(
            "type",
            "Type",
            filter_mode="choice",
            choices=tuple(AppointmentType),
            formatter=enum_label,
            width=120,
        ),
        Column(
            "status",
            "Status",
            filter_mode="choice",
            choices=tuple(AppointmentStatus),
            formatter=enum_label,
            width=110,
        ),
        Column("reason", "Reason", kind="text", width=220),
    ]


def appointment_select() -> tuple[Select[Any], dict[str, SqlExpr]]:
    """The joined select behind an appointment list and its column expressions."""
    stmt = (
        select(Appointment)
        .join(Patient, Appointment.patient_id == Patient.id)
        .join(Client, Appointment.client_id == Client.id)
        .join(Vet, Appointment.vet_id == Vet.id)
        .join(Room, Appointment.room_id == Room.id)
    )
    columns: dict[str, SqlExpr] = {
        "id": Appointment.id,
        "starts_at": Appointment.starts_at,
        "patient": Patient.name,
        "client": Client.name,
        "vet": Vet.name,
        "room": Room.name,
        "type": Appointment.type,
        "status": Appointment.status,
        "reason": Appointment.reason,
    }
    return stmt, columns


class AppointmentsPage(GridPage):
    """Every appointment; opens on today (clinic time), the coming ones in time order."""

    title = "Appointments"
    grid_id = "appointments"
    empty_text = "No appointments yet"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)  # sets ``clinic_time`` before the columns
        if not self.grid.query().sort:
            # Opens on today, not at either end of the diary: from the start of the
            # clinic's day on, in time order (the remembered layout wins when there is one;
            # clearing the filter shows the whole diary).
            self.grid.sort_by("starts_at")
            start = self.clinic_time.day_bounds(self.clinic_time.today())[0]
            self.grid.set_column_filter("starts_at", RangeFilter(start, None))

    def columns(self) -> Sequence[Column]:
        return appointment_columns(self.clinic_time)

    def source(self) -> SqlSource:
        stmt, columns = appointment_select()
        return SqlSource(
            stmt,
            self.context.session_factory,
            columns,
            id_column=Appointment.id,
            sort_columns={
                "patient": Patient.name_key,
                "client": Client.name_key,
                "vet": Vet.name_key,
            },
            searchable=["patient", "client", "vet", "room", "reason"],
        )

    def saved_views(self) -> Sequence[SavedView]:
        # Whole clinic days, as a range typed as dates reads them: from the first instant
        # of the clinic's today to the last of the day (inclusive bounds, so not the next
        # midnight), whatever the workstation's zone.
        today = self.clinic_time.today()
        last = dt.timedelta(microseconds=1)
        start, end = self.clinic_time.day_bounds(today)
        end -= last
        week_end = self.clinic_time.day_bounds(today + dt.timedelta(days=7))[1] - last
        return (
            SavedView(
                "Upcoming week",
                sort=(SortKey("starts_at"),),
                filters=(("starts_at", RangeFilter(start, week_end)),),
            ),
            SavedView(
                "Today's arrivals",
                sort=(SortKey("starts_at"),),
                filters=(
                    ("starts_at", RangeFilter(start, end)),
                    ("status", ChoiceFilter(frozenset({AppointmentStatus.ARRIVED}))),
                ),
            ),
            SavedView(
                "No-shows",
                sort=(SortKey("starts_at", descending=True),),
                filters=(("status", ChoiceFilter(frozenset({AppointmentStatus.NO_SHOW}))),),
            ),
            SavedView("Newest first", sort=(SortKey("starts_at", descending=True),)),
        )
