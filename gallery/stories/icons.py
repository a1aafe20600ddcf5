"""Icon stories: every drawn icon, in a colour token and at a size."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from PySide6.QtWidgets import QWidget

from gallery.story import Component, Story
from widgets.specimens import IconSheet
from widgets.tokens import Colors

_ICON_COLORS = tuple(
    f.name
    for f in fields(Colors)
    if f.name
    in ("text", "text_muted", "primary", "success_icon", "warning_icon", "error_icon", "info_icon")
)


def render(args: Mapping[str, Any]) -> QWidget:
    """The icon sheet from the args."""
    return IconSheet(int(args["size"]), str(args["color"]), int(args["columns"]))


def _story(name: str, docs: str, **overrides: Any) -> Story:
    return Story(
        name=name,
        render=render,
        args={"size": 24, "color": "text", "columns": 5, **overrides},
        choices={"color": _ICON_COLORS},
        ranges={"size": (8, 128), "columns": (1, 12)},
        docs=docs,
        width=480,
        code=lambda args: (
            "from widgets.icons import make_icon, paint_icon\n\n"
            f"icon = make_icon('save', {args['size']}, current_colors().{args['color']})\n"
            f"sheet = IconSheet(size={args['size']}, color={args['color']!r}, "
            f"columns={args['columns']})  # every icon\n"
        ),
    )


COMPONENT = Component(
    name="Icons",
    widget=IconSheet,
    stories=(
        _story("All", "Every icon at 24 px in the text colour."),
        _story("Small", "At 16 px, the size inside buttons and chips.", size=16),
        _story("Primary", "In the brand colour.", color="primary"),
        _story("Large", "At 48 px: drawn, so sharp at any size.", size=48, columns=4),
    ),
    arg_docs={
        "size": "Icon size in pixels (8-128).",
        "color": "The colour token the icons are drawn in.",
        "columns": "Icons per row.",
    },
)
