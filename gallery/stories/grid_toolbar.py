"""GridToolbar stories: the DataGrid's search, filters, saved views and export on their own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtWidgets import QWidget

from gallery.story import Component, Story
from widgets.datagrid.toolbar import GridToolbar


def render_toolbar(args: Mapping[str, Any]) -> QWidget:
    """The toolbar with a search text, saved views and maybe an export running."""
    toolbar = GridToolbar(enable_filtering=bool(args["enable_filtering"]))
    toolbar.set_search_text(str(args["search"]))
    toolbar.set_filtered(bool(args["search"]))
    toolbar.set_views(list(args["views"]))
    if args["export_done"] >= 0:
        toolbar.set_export_progress(int(args["export_done"]), 100)
    return toolbar


def _toolbar(name: str, docs: str, **overrides: Any) -> Story:
    return Story(
        name=name,
        render=render_toolbar,
        args={
            "search": "",
            "enable_filtering": True,
            "views": [],
            "export_done": -1,
            **overrides,
        },
        ranges={"export_done": (-1, 100)},
        docs=docs,
        width=760,
    )


COMPONENT = Component(
    name="GridToolbar",
    widget=GridToolbar,
    stories=(
        _toolbar("Default", "Search, clear filters, saved views and export."),
        _toolbar("Searching", "A search is on: Clear filters is enabled.", search="bella"),
        _toolbar("SavedViews", "Views saved by the user.", views=["Dogs only", "Owing money"]),
        _toolbar("Exporting", "An export runs: progress and Cancel.", export_done=40),
    ),
    arg_docs={
        "search": "The search text shown (the grid filters every searchable column by it).",
        "enable_filtering": "Whether the grid has a search box and column filters.",
        "views": "Names of the saved views offered.",
        "export_done": "Percent of an export done; -1 when none runs.",
    },
)
