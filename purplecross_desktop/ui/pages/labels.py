"""Human labels for stored enum values ("in_consult" → "In consult")."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from purplecross_desktop.durations import milliseconds

__all__ = ["enum_label", "local_seconds", "local_time", "milliseconds", "money"]


def enum_label(value: Any) -> str:
    """The display text of an enum member or its stored value."""
    raw = value.value if isinstance(value, enum.Enum) else str(value)
    return str(raw).replace("_", " ").capitalize()


def local_time(value: Any) -> str:
    """An aware datetime as local date and time, minutes precision."""
    if isinstance(value, dt.datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M")
    return str(value)


def local_seconds(value: Any) -> str:
    """An aware datetime as local date and time to the second (timelines, logs)."""
    if isinstance(value, dt.datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def money(value: Any, symbol: str = "£") -> str:
    """An amount as the desk reads it: ``£1,234.50`` (``-£3.00`` when negative)."""
    amount = Decimal(str(value or 0))
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount):,.2f}"
