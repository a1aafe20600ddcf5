"""CommandPalette stories: the fixed commands, and results looked up for what was typed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtWidgets import QWidget

from gallery.story import Component, Story
from widgets.command_palette import CommandPalette, PaletteItem

# Fake screens, actions and records: the gallery never touches the database.
_COMMANDS = (
    PaletteItem("page:today", "Today", "screen", "Go to", "Ctrl+1"),
    PaletteItem("page:calendar", "Calendar", "screen", "Go to", "Ctrl+2"),
    PaletteItem("page:clients", "Clients", "screen", "Go to", "Ctrl+5"),
    PaletteItem("action:book", "Book an appointment", "for any patient", "Actions"),
    PaletteItem("action:new_client", "New client", "register an owner", "Actions", "Ctrl+N"),
)
_RESULTS = (
    PaletteItem("client:1", "Ada Lovelace", "07700900123 · ada@example.org", "Clients"),
    PaletteItem("patient:7", "Rex", "dog, owner Ada Lovelace", "Patients"),
)


def render(args: Mapping[str, Any]) -> QWidget:
    """A palette (as a widget on the canvas) with the story's text typed."""
    palette = CommandPalette(_COMMANDS, placeholder="Go to a screen, find a client or patient…")
    palette.setWindowFlags(palette.windowFlags() & ~palette.windowFlags().Window)
    text = str(args["text"])
    palette.search.setText(text)
    if args["results"]:
        palette.set_results(text, _RESULTS)
    palette.setFixedSize(560, 320)
    return palette


def _story(name: str, docs: str, text: str, results: bool) -> Story:
    return Story(
        name=name,
        render=render,
        args={"text": text, "results": results},
        docs=docs,
        width=580,
    )


COMPONENT = Component(
    name="CommandPalette",
    widget=CommandPalette,
    stories=(
        _story("Commands", "Opened with Ctrl+K: every screen and action, grouped.", "", False),
        _story("Filtered", "Typing filters the commands (accents and case ignored).", "cal", False),
        _story(
            "WithResults", "Records the app found for the text, above the commands.", "ada", True
        ),
    ),
    arg_docs={
        "text": "What is typed in the search box.",
        "results": "Also offer looked-up results (clients, patients) for the text.",
    },
)
