"""StatusChip stories: every tone, a long label, and chips inside a table (ChipDelegate)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from PySide6.QtWidgets import QWidget

from gallery.story import Component, Story
from widgets.status_chip import TONES, StatusChip

# Fake clinic states: the gallery never touches the database.
_ROW: Final = (
    ("Scheduled", "neutral"),
    ("Confirmed", "info"),
    ("Arrived", "warning"),
    ("In consult", "accent"),
    ("Completed", "success"),
    ("No-show", "error"),
    ("Cancelled", "muted"),
)


def render(args: Mapping[str, Any]) -> QWidget:
    """One chip from the args."""
    return StatusChip(str(args["text"]), args["tone"])


def _story(name: str, docs: str, text: str, tone: str) -> Story:
    return Story(
        name=name,
        render=render,
        args={"text": text, "tone": tone},
        choices={"tone": TONES},
        docs=docs,
        width=240,
    )


COMPONENT = Component(
    name="StatusChip",
    widget=StatusChip,
    stories=(
        _story(
            "Neutral", "A state that needs nothing (a booked appointment).", "Scheduled", "neutral"
        ),
        _story("Info", "A state that is fine and worth noticing.", "Confirmed", "info"),
        _story("Warning", "Someone is waiting: look at it.", "Arrived", "warning"),
        _story("Accent", "In progress.", "In consult", "accent"),
        _story("Success", "Done.", "Completed", "success"),
        _story("Error", "Something went wrong or needs care now.", "No-show", "error"),
        _story("Muted", "No longer relevant.", "Cancelled", "muted"),
        _story(
            "Alert",
            "A patient alert on the Today board.",
            "Bites · Allergic to penicillin",
            "error",
        ),
        _story("Money", "An unpaid balance beside an appointment.", "£42.50", "warning"),
    ),
    matrix_rows=tuple((text, {"text": text, "tone": tone}) for text, tone in _ROW),
    matrix_states=("normal",),
    arg_docs={
        "text": "The chip's label.",
        "tone": "Its tone: neutral, info, warning, accent, success, error or muted.",
    },
)
