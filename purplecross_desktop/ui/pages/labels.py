"""Human labels for stored enum values ("in_consult" → "In consult")."""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

from purplecross_desktop.durations import milliseconds

__all__ = ["enum_label", "milliseconds", "money"]

# Times are not formatted here: a time is shown on the clinic's clock, never the
# workstation's, through ``ClinicTime`` (``format_datetime``, ``format_seconds``).


def enum_label(value: Any) -> str:
    """The display text of an enum member or its stored value."""
    raw = value.value if isinstance(value, enum.Enum) else str(value)
    return str(raw).replace("_", " ").capitalize()


def money(value: Any, symbol: str = "£") -> str:
    """An amount as the desk reads it: ``£1,234.50`` (``-£3.00`` when negative)."""
    amount = Decimal(str(value or 0))
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount):,.2f}"
