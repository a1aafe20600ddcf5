"""Design token stories: the palette of the active theme, the type scale, spacing, radii."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtWidgets import QWidget

from gallery.story import Component, Story
from widgets.specimens import SHEETS, TokenSheet


def render(args: Mapping[str, Any]) -> QWidget:
    """The token sheet the args name."""
    return TokenSheet(str(args["sheet"]))


def _story(name: str, docs: str, sheet: str) -> Story:
    return Story(
        name=name,
        render=render,
        args={"sheet": sheet},
        choices={"sheet": SHEETS},
        docs=docs,
        width=520,
        code=lambda args: (
            "from widgets.tokens import LIGHT, DARK, FontSize, Spacing, Radius\n"
            "from widgets.theme import current_colors\n\n"
            f"# the {args['sheet']} tokens; widgets never hold literals\n"
            "QColor(current_colors().primary)\n"
            f"sheet = TokenSheet({args['sheet']!r})  # this page\n"
        ),
    )


COMPONENT = Component(
    name="DesignTokens",
    widget=TokenSheet,
    stories=(
        _story(
            "Palette",
            "Every colour token of the active theme (switch the theme to see the other).",
            "palette",
        ),
        _story("TypeScale", "The font sizes, each as text at that size.", "type"),
        _story("Spacing", "The spacing steps of the 4 px grid.", "spacing"),
        _story("Radii", "The corner radii of cards, buttons and inputs.", "radii"),
    ),
    arg_docs={"sheet": "Which tokens to show: palette, type, spacing or radii."},
)
