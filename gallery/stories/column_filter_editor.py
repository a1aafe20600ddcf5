"""ColumnFilterEditor stories: a DataGrid column's filter in each mode (text, choice, range)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from PySide6.QtWidgets import QWidget

from gallery.play import Step
from gallery.story import Component, Story
from widgets.datagrid import Column
from widgets.datagrid.filter_editor import ColumnFilterEditor
from widgets.datagrid.state import ChoiceFilter, RangeFilter, TextFilter

FILTER_MODES = ("text", "choice", "range")
SPECIES = ["Dog", "Cat", "Rabbit", "Parrot"]


def render_filter(args: Mapping[str, Any]) -> QWidget:
    """The editor of one column's filter, in the mode the args name."""
    mode = args["mode"]
    if mode == "choice":
        column = Column("species", "Species", filter_mode="choice")
        current: Any = ChoiceFilter(frozenset(args["checked"])) if args["checked"] else None
        return ColumnFilterEditor(column, current, choices=SPECIES)
    if mode == "range":
        column = Column("weight", "Weight (kg)", kind="number", filter_mode="range")
        low, high = args["low"], args["high"]
        current = RangeFilter(low, high) if low is not None or high is not None else None
        return ColumnFilterEditor(column, current, sample=1.0)
    column = Column("name", "Patient")
    current = TextFilter(str(args["text"])) if args["text"] else None
    return ColumnFilterEditor(column, current)


def _filter(name: str, docs: str, **overrides: Any) -> Story:
    return Story(
        name=name,
        render=render_filter,
        args={"mode": "text", "text": "", "checked": [], "low": 0.0, "high": 0.0, **overrides},
        choices={"mode": FILTER_MODES},
        ranges={"low": (0, 1000), "high": (0, 1000)},
        docs=docs,
        width=320,
    )


COMPONENT = Component(
    name="ColumnFilterEditor",
    widget=ColumnFilterEditor,
    stories=(
        replace(
            _filter("Text", "Contains: the default for text columns.", text="bel"),
            play=(
                Step("type", "Patient contains", "la"),
                Step("key", "Patient contains", "Return"),
                Step("expect", "ColumnFilterEditor", "sig_applied"),
                Step("click", "Clear"),
                Step("expect", "ColumnFilterEditor", "sig_applied"),
            ),
        ),
        _filter("Choice", "Tick the values to keep.", mode="choice", checked=["Dog", "Cat"]),
        _filter(
            "Range",
            "From and to, typed like the column's values.",
            mode="range",
            low=5.0,
            high=30.0,
        ),
    ),
    arg_docs={
        "mode": "The column's filter mode: text contains, a choice list, or a range.",
        "text": "The current text filter (text mode).",
        "checked": "The values ticked (choice mode).",
        "low": "The lower bound (range mode).",
        "high": "The upper bound (range mode).",
    },
)
