"""StateOverlay stories: a DataGrid's loading, empty and error states over a stand-in table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtWidgets import QFrame, QVBoxLayout, QWidget

from gallery.story import Component, Story
from widgets.datagrid.overlay import StateOverlay

OVERLAY_STATES = ("loading", "empty", "error")


def render_overlay(args: Mapping[str, Any]) -> QWidget:
    """A stand-in table with the overlay over it."""
    host = QWidget()
    layout = QVBoxLayout(host)
    layout.setContentsMargins(0, 0, 0, 0)
    table = QFrame()
    table.setFrameShape(QFrame.Shape.StyledPanel)
    table.setFixedHeight(200)
    layout.addWidget(table)
    overlay = StateOverlay(table)
    overlay.show_state(
        args["state"], str(args["title"]), str(args["detail"]), bool(args["can_clear"])
    )
    return host


def _overlay(name: str, docs: str, **overrides: Any) -> Story:
    return Story(
        name=name,
        render=render_overlay,
        args={"state": "empty", "title": "", "detail": "", "can_clear": False, **overrides},
        choices={"state": OVERLAY_STATES},
        docs=docs,
        width=520,
        code=lambda a: (
            "overlay = StateOverlay(table)\n"
            f"overlay.show_state({a['state']!r}, {a['title']!r}, {a['detail']!r}, "
            f"can_clear={a['can_clear']})\n"
        ),
    )


COMPONENT = Component(
    name="StateOverlay",
    widget=StateOverlay,
    stories=(
        _overlay("Empty", "Nothing to show yet.", title="No patients yet."),
        _overlay(
            "NoMatches",
            "Filters hide every row: offer to clear them.",
            title="No rows match",
            detail="Nothing matches “zebra”.",
            can_clear=True,
        ),
        _overlay(
            "Error",
            "The source failed: say why and offer Retry.",
            state="error",
            title="Could not load the rows",
            detail="could not connect to the clinic database",
        ),
    ),
    arg_docs={
        "state": "What the grid is doing: loading, empty or error.",
        "title": "The bold line.",
        "detail": "The line under it (hidden when empty).",
        "can_clear": "With empty: offer Clear filters (the filters hide every row).",
    },
)
