"""Form helpers: a service's ``ValidationError`` shown under the fields it names."""

from __future__ import annotations

import re
from collections.abc import Mapping

from PySide6.QtCore import Qt

from purplecross_desktop.domain.errors import ValidationError
from widgets.form_field import FormField

_INDEXED = re.compile(r"^(?P<field>[a-z_]+)\[(?P<index>\d+)\]\.(?P<part>[a-z_]+)$")


def show_errors(
    fields: Mapping[str, FormField], exc: ValidationError, *, focus: bool = True
) -> list[str]:
    """Put each rule of ``exc`` under the field it names; return the rules no field shows.

    ``fields`` maps the service's field names ("email", "phones") to their FormField; an
    indexed name ("phones[1].number") goes to ``"phones[1]"`` if present, else to
    ``"phones"``, prefixed with which entry it is. With ``focus`` the first field in error
    gets the keyboard focus, so the receptionist types the fix straight away.
    """
    clear_errors(fields)
    shown: dict[str, list[str]] = {}
    leftover: list[str] = []
    for name, rules in exc.errors.items():
        key, prefix = name, ""
        match = _INDEXED.match(name)
        if match and name not in fields:
            exact = f"{match['field']}[{match['index']}]"
            if exact in fields:
                key = exact
            else:
                key = match["field"]
                prefix = f"entry {int(match['index']) + 1}: "
        if key in fields:
            shown.setdefault(key, []).extend(prefix + rule for rule in rules)
        else:
            leftover.extend(f"{name}: {rule}" for rule in rules)
    first: FormField | None = None
    for key, field in fields.items():
        if key in shown:
            field.set_error("; ".join(shown[key]))
            first = first or field
    if focus and first is not None:
        first.editor().setFocus(Qt.FocusReason.OtherFocusReason)
    return leftover


def clear_errors(fields: Mapping[str, FormField]) -> None:
    """Remove every inline error."""
    for field in fields.values():
        field.clear_error()
