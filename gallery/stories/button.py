"""Button stories: the four variants, three sizes, loading, disabled, full width, icon."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from PySide6.QtWidgets import QWidget

from gallery.play import Step
from gallery.story import STATES, Component, Story
from widgets.button import ICON_POSITIONS, SIZES, VARIANTS, Button
from widgets.icons import ICON_NAMES

_BASE: dict[str, Any] = {
    "text": "Save",
    "variant": "primary",
    "button_size": "medium",
    "icon": "",
    "icon_position": "left",
    "loading": False,
    "disabled": False,
    "full_width": False,
}
_CHOICES = {
    "variant": VARIANTS,
    "button_size": SIZES,
    "icon": ("", *ICON_NAMES),
    "icon_position": ICON_POSITIONS,
}


def render(args: Mapping[str, Any]) -> QWidget:
    """A Button from the story args (``disabled`` maps to ``setEnabled``)."""
    kwargs = {key: value for key, value in args.items() if key != "disabled"}
    button = Button(**kwargs)
    button.setEnabled(not args.get("disabled", False))
    return button


def code(args: Mapping[str, Any]) -> str:
    """The snippet: constructor kwargs that differ from the defaults, then setEnabled."""
    defaults = {"variant": "primary", "button_size": "medium", "icon": "", "icon_position": "left"}
    parts = [repr(args.get("text", ""))]
    for key in ("variant", "button_size", "icon", "icon_position"):
        if args.get(key, defaults[key]) != defaults[key]:
            parts.append(f"{key}={args[key]!r}")
    parts += [f"{key}=True" for key in ("loading", "full_width") if args.get(key)]
    lines = ["from widgets.button import Button", "", f"button = Button({', '.join(parts)})"]
    if args.get("disabled"):
        lines.append("button.setEnabled(False)")
    lines.append("button.clicked.connect(on_save)")
    return "\n".join(lines) + "\n"


def _story(name: str, docs: str, **overrides: Any) -> Story:
    return Story(
        name=name,
        render=render,
        args={**_BASE, **overrides},
        choices=_CHOICES,
        docs=docs,
        code=code,
        width=300 if not overrides.get("full_width") else 420,
    )


COMPONENT = Component(
    name="Button",
    widget=Button,
    stories=(
        replace(
            _story("Primary", "The main action of a screen; one per view.", text="Save patient"),
            play=(Step("click", "Save patient"), Step("expect", "Save patient", "clicked")),
        ),
        _story(
            "Secondary",
            "Alternative actions next to a primary one.",
            text="Cancel",
            variant="secondary",
        ),
        _story(
            "Danger",
            "Destructive actions; pair with a confirmation.",
            text="Delete record",
            variant="danger",
        ),
        _story("Success", "Completing or approving something.", text="Check in", variant="success"),
        _story("Small", "Dense toolbars and table rows.", text="Edit", button_size="small"),
        _story("Medium", "The default size.", text="Book appointment"),
        _story(
            "Large",
            "Prominent calls to action; a comfortable touch target.",
            text="Start consultation",
            button_size="large",
        ),
        _story(
            "Loading",
            "A spinner replaces the label; width stays, clicks are ignored.",
            text="Saving invoice",
            loading=True,
        ),
        _story(
            "Disabled",
            "Not available right now; skipped by mouse, announced as such.",
            text="Send reminder",
            disabled=True,
        ),
        _story(
            "FullWidth",
            "Stretches to its container, e.g. at the end of a form.",
            text="Continue to payment",
            full_width=True,
        ),
        _story(
            "WithIcon", "An icon left (or right) of the label.", text="Add patient", icon="plus"
        ),
    ),
    matrix_rows=tuple(
        (variant.title(), {**_BASE, "text": variant.title(), "variant": variant})
        for variant in VARIANTS
    ),
    matrix_states=STATES,
    arg_docs={
        "text": "The label.",
        "variant": "The role: primary (one per view), secondary, danger, success or ghost.",
        "button_size": "small, medium or large (large is a comfortable touch target).",
        "icon": "A drawn icon beside the label; empty for none.",
        "icon_position": "Whether the icon sits before or after the label.",
        "loading": "Shows a spinner and ignores clicks while work runs.",
        "disabled": "Greyed out; ignores clicks and focus.",
        "full_width": "Stretch to the width of its container.",
    },
)
