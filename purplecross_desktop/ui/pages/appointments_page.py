"""Appointments: every booking with patient, owner, vet, room and status."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from typing import Any

from PySide6.QtWidgets import QWidget
from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

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


def appointment_columns() -> list[Column]:
    """The columns of an appointment list (shared by the Appointments and Today pages)."""
    return [
        Column("id", "No.", kind="number", width=80, visible=False),
        # Shown (and range bounds typed) in the zone the grid is given: the clinic's.
        Column("starts_at", "Starts", kind="datetime", filter_mode="range", width=150),
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


def day_bounds(day: dt.date, zone: dt.tzinfo | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The first and last instant of ``day`` in ``zone`` (default: the workstation's), aware."""
    if zone is not None:
        return (
            dt.datetime.combine(day, dt.time.min, tzinfo=zone),
            dt.datetime.combine(day, dt.time.max, tzinfo=zone),
        )
    start = dt.datetime.combine(day, dt.time.min).astimezone()
    end = dt.datetime.combine(day, dt.time.max).astimezone()
    return start, end


class AppointmentsPage(GridPage):
    """Every appointment, newest first by default, with day and status presets."""

    title = "Appointments"
    grid_id = "appointments"
    empty_text = "No appointments yet"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        if not self.grid.query().sort:
            # Newest first unless the user's remembered layout says otherwise: the front
            # desk looks for recent and coming bookings, not the clinic's first ones.
            self.grid.sort_by("starts_at", descending=True)

    def columns(self) -> Sequence[Column]:
        return appointment_columns()

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
        zone = zoneinfo.ZoneInfo(self.context.settings.clinic_timezone)  # as the grid shows
        today = dt.datetime.now(zone).date()
        start, end = day_bounds(today, zone)
        week_end = day_bounds(today + dt.timedelta(days=7), zone)[1]
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
