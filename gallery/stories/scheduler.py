"""SchedulerView stories: a clinic morning by vet, a week, an empty day."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from PySide6.QtWidgets import QWidget

from gallery.story import Component, Story
from widgets.scheduler import SchedulerColumn, SchedulerItem, SchedulerView

# Fake clinic data: the gallery never touches the database.
_VETS: Final = ("Dr Rivera", "Dr Okafor", "Dr Lindqvist")
_BOOKINGS: Final = (
    (0, 8 * 60, 20, "08:00 Bella (Cooper)", "Vaccination", "success"),
    (0, 8 * 60 + 30, 30, "08:30 Max (Patel)", "Check up · Arrived", "warning"),
    (1, 8 * 60 + 15, 45, "08:15 Luna (Nguyen) ⚠ bites", "Dental · In consult", "accent"),
    (2, 9 * 60, 20, "09:00 Oscar (Smith)", "Consultation", "neutral"),
    (1, 9 * 60 + 15, 15, "09:15 Daisy (Brown)", "Follow up · Confirmed", "info"),
)


def render(args: Mapping[str, Any]) -> QWidget:
    view = SchedulerView(8 * 60, int(args["last_hour"]) * 60, slot_minutes=15, slot_height=24)
    columns = [SchedulerColumn(i, name) for i, name in enumerate(_VETS[: int(args["columns"])])]
    view.set_columns(columns)
    if args["with_bookings"]:
        view.set_items(
            [
                SchedulerItem(n, col, start, start + length, title, sub, tone)
                for n, (col, start, length, title, sub, tone) in enumerate(_BOOKINGS)
                if col < len(columns)
            ]
        )
    return view


def _story(name: str, docs: str, **args: Any) -> Story:
    defaults: dict[str, Any] = {"columns": 3, "last_hour": 10, "with_bookings": True}
    return Story(
        name=name,
        render=render,
        args={**defaults, **args},
        ranges={"columns": (1, 3), "last_hour": (9, 18)},
        docs=docs,
        width=560,
    )


COMPONENT = Component(
    name="Scheduler",
    widget=SchedulerView,
    stories=(
        _story("DayByVet", "A morning: one column per vet, blocks coloured by status."),
        _story("OneColumn", "One vet's day.", columns=1),
        _story(
            "Empty", "No bookings yet: every slot can be booked with Enter.", with_bookings=False
        ),
    ),
    matrix_states=("normal",),
    arg_docs={
        "columns": "How many vets get a column (1-3).",
        "last_hour": "The hour the day ends (it starts at 8:00).",
        "with_bookings": "Show fake bookings in the grid.",
    },
)
