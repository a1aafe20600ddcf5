"""FormField stories: a text input, required, with a hint, with an error, a choice, disabled."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtWidgets import QComboBox, QLineEdit, QPlainTextEdit, QWidget

from gallery.story import Component, Story
from widgets.form_field import FormField

EDITORS = ("line", "combo", "text")

_BASE: dict[str, Any] = {
    "label": "Email",
    "value": "ada@example.org",
    "editor": "line",
    "hint": "",
    "error": "",
    "required": False,
    "disabled": False,
}


def render(args: Mapping[str, Any]) -> QWidget:
    """A FormField around the chosen editor, with the story's value, hint and error."""
    editor: QWidget
    if args["editor"] == "combo":
        combo = QComboBox()
        combo.addItems(["Email", "SMS", "No reminders"])
        combo.setCurrentText(str(args["value"]))
        editor = combo
    elif args["editor"] == "text":
        text = QPlainTextEdit(str(args["value"]))
        text.setFixedHeight(72)
        editor = text
    else:
        editor = QLineEdit(str(args["value"]))
    field = FormField(
        str(args["label"]), editor, hint=str(args["hint"]), required=bool(args["required"])
    )
    field.set_error(str(args["error"]))
    field.setEnabled(not args["disabled"])
    return field


def code(args: Mapping[str, Any]) -> str:
    """The snippet: a QLineEdit in a FormField, showing a service's rule on failure."""
    extra = "".join(f", {key}={args[key]!r}" for key in ("hint", "required") if args.get(key))
    lines = [
        "from PySide6.QtWidgets import QLineEdit",
        "from widgets.form_field import FormField",
        "",
        f"field = FormField({args['label']!r}, QLineEdit(){extra})",
    ]
    if args.get("error"):
        lines.append(f"field.set_error({args['error']!r})  # e.g. from ValidationError.errors")
    return "\n".join(lines) + "\n"


def _story(name: str, docs: str, **overrides: Any) -> Story:
    return Story(
        name=name,
        render=render,
        args={**_BASE, **overrides},
        choices={"editor": EDITORS},
        docs=docs,
        code=code,
        width=360,
    )


COMPONENT = Component(
    name="FormField",
    widget=FormField,
    stories=(
        _story("Text", "A labelled input; the label is its accessible name."),
        _story(
            "Required",
            "A required field says so in the label and to screen readers.",
            label="Name",
            value="Ada Lovelace",
            required=True,
        ),
        _story(
            "WithHint",
            "A muted line says what is expected.",
            label="Phone",
            value="",
            hint="Any format: 07700 900123, +44 20 7946 0000",
        ),
        _story(
            "WithError",
            "The rule the input broke, under it, in the error colour.",
            value="ada@example",
            error="must be a valid email address",
        ),
        _story(
            "Choice",
            "Any input fits: here a combo box.",
            label="Preferred contact",
            value="SMS",
            editor="combo",
        ),
        _story(
            "LongText",
            "A multi-line input with an error.",
            label="Notes",
            value="Nervous at the vet; muzzle for nail clipping.",
            editor="text",
            error="must be at most 10000 characters",
        ),
        _story("Disabled", "Read-only while something loads.", disabled=True),
    ),
    matrix_rows=(
        ("Fine", dict(_BASE)),
        ("Error", {**_BASE, "error": "must be a valid email address"}),
    ),
    matrix_states=("normal", "disabled"),
    arg_docs={
        "label": "The field's label (also its accessible name).",
        "value": "The value in the editor.",
        "editor": "The editor: a line edit, a combo box or multi-line text.",
        "hint": "Help under the field; empty for none.",
        "error": "An inline error naming the rule broken; empty for none.",
        "required": "Marks the label as required.",
        "disabled": "Greyed out and read-only.",
    },
)
