"""BulkActionBar stories: what a DataGrid with multi-selection shows over ticked rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from PySide6.QtWidgets import QWidget

from gallery.play import Step
from gallery.story import Component, Story
from widgets.datagrid.bulk_bar import BulkActionBar


def render_bulk_bar(args: Mapping[str, Any]) -> QWidget:
    """The bar for ``selected`` of ``matching`` rows."""
    bar = BulkActionBar(list(args["actions"]))
    bar.update_state(int(args["selected"]), int(args["matching"]), bool(args["all_matching"]))
    return bar


def _bulk(name: str, docs: str, **overrides: Any) -> Story:
    return Story(
        name=name,
        render=render_bulk_bar,
        args={
            "selected": 3,
            "matching": 240,
            "all_matching": False,
            "actions": ["Send reminder", "Export"],
            **overrides,
        },
        ranges={"selected": (0, 10_000_000), "matching": (0, 10_000_000)},
        docs=docs,
        width=640,
    )


COMPONENT = Component(
    name="BulkActionBar",
    widget=BulkActionBar,
    stories=(
        replace(
            _bulk("SomeSelected", "Three rows ticked: act on them, or select all 240 that match."),
            play=(
                Step("click", "Select all 240 matching"),
                Step("expect", "BulkActionBar", "sig_select_all_clicked"),
                Step("click", "Send reminder"),
                Step("expect", "BulkActionBar", "sig_action_clicked"),
            ),
        ),
        _bulk("PageSelected", "A whole page ticked.", selected=20),
        _bulk("AllMatching", "Every matching row, across pages.", selected=240, all_matching=True),
    ),
    arg_docs={
        "selected": "How many rows are selected (0 hides the bar).",
        "matching": "How many rows match the filters.",
        "all_matching": "Whether the selection is every matching row, not only ticked ones.",
        "actions": "The bulk actions offered, as button labels.",
    },
)
