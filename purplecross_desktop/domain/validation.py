"""Field checks that collect every problem before a service writes anything."""

from __future__ import annotations

import datetime as dt
import enum
import re
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from purplecross_desktop.domain.errors import ValidationError

E = TypeVar("E", bound=enum.Enum)

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
PHONE_ALLOWED_RE = re.compile(r"^\+?[0-9 ()./-]+$")


def normalize_phone(value: str) -> str:
    """Digits only, keeping a leading ``+``: ``"+44 (0)20 7946-0000"`` -> ``"+440207946000"``."""
    value = value.strip()
    digits = re.sub(r"\D", "", value)
    return ("+" + digits) if value.startswith("+") else digits


class Checker:
    """Collects ``field -> [rule, ...]``; ``raise_if_any()`` raises one ``ValidationError``."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, rule: str) -> None:
        """Record that ``field`` broke ``rule``."""
        self.errors.setdefault(field, []).append(rule)

    def ok(self, field: str) -> bool:
        """Whether ``field`` has no problem so far."""
        return field not in self.errors

    def raise_if_any(self) -> None:
        """Raise the collected problems, if there are any."""
        if self.errors:
            raise ValidationError(self.errors)

    # --- text -------------------------------------------------------------------------

    def text(
        self, field: str, value: object, *, required: bool = True, max_length: int = 200
    ) -> str | None:
        """A stripped string (None when optional and blank)."""
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(field, "must not be empty")
            return None
        if not isinstance(value, str):
            self.add(field, "must be text")
            return None
        value = value.strip()
        if len(value) > max_length:
            self.add(field, f"must be at most {max_length} characters")
        return value

    def email(self, field: str, value: object, *, required: bool = False) -> str | None:
        """A plausible e-mail address, lower-cased domain."""
        text = self.text(field, value, required=required, max_length=254)
        if text is None:
            return None
        if not EMAIL_RE.match(text):
            self.add(field, "must be a valid email address")
            return None
        local, _, domain = text.rpartition("@")
        return f"{local}@{domain.lower()}"

    def phone(self, field: str, value: object, *, required: bool = False) -> str | None:
        """A phone number of 6 to 15 digits, optionally with ``+``, spaces, dots, dashes, ()."""
        text = self.text(field, value, required=required, max_length=32)
        if text is None:
            return None
        digits = re.sub(r"\D", "", text)
        if not PHONE_ALLOWED_RE.match(text) or not 6 <= len(digits) <= 15:
            self.add(field, "must be a valid phone number (6 to 15 digits)")
            return None
        return normalize_phone(text)

    # --- choices and numbers ------------------------------------------------------------

    def choice(self, field: str, value: object, enum_type: type[E]) -> E | None:
        """A member of ``enum_type`` (given as member or value)."""
        if isinstance(value, enum_type):
            return value
        try:
            return enum_type(value)
        except (ValueError, TypeError):
            allowed = ", ".join(str(m.value) for m in enum_type)
            self.add(field, f"must be one of: {allowed}")
            return None

    def decimal(
        self,
        field: str,
        value: object,
        *,
        required: bool = True,
        minimum: Decimal | None = None,
        exclusive_minimum: bool = False,
        maximum: Decimal | None = None,
        places: int = 2,
    ) -> Decimal | None:
        """A decimal number within bounds, with at most ``places`` decimals."""
        if value is None or value == "":
            if required:
                self.add(field, "must not be empty")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            self.add(field, "must be a number")
            return None
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            self.add(field, "must be a number")
            return None
        if not number.is_finite():
            self.add(field, "must be a number")
            return None
        if minimum is not None:
            if exclusive_minimum and number <= minimum:
                self.add(field, "must be positive" if minimum == 0 else f"must be > {minimum}")
                return None
            if number < minimum:
                self.add(field, "must not be negative" if minimum == 0 else f"must be ≥ {minimum}")
                return None
        if maximum is not None and number > maximum:
            self.add(field, f"must be at most {maximum}")
            return None
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            self.add(field, f"must have at most {places} decimal places")
            return None
        return number

    def integer(
        self, field: str, value: object, *, minimum: int | None = None, required: bool = True
    ) -> int | None:
        """A whole number, at least ``minimum``."""
        if value is None:
            if required:
                self.add(field, "must not be empty")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(field, "must be a whole number")
            return None
        if minimum is not None and value < minimum:
            self.add(field, "must not be negative" if minimum == 0 else f"must be ≥ {minimum}")
            return None
        return value

    def flag(self, field: str, value: object) -> bool | None:
        """A boolean."""
        if not isinstance(value, bool):
            self.add(field, "must be true or false")
            return None
        return value

    # --- dates and times -----------------------------------------------------------------

    def date(self, field: str, value: object, *, required: bool = True) -> dt.date | None:
        """A calendar date (a datetime is refused: it would carry a time zone question)."""
        if value is None:
            if required:
                self.add(field, "must not be empty")
            return None
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            self.add(field, "must be a date")
            return None
        return value

    def moment(self, field: str, value: object, *, required: bool = True) -> dt.datetime | None:
        """An aware datetime, converted to UTC."""
        if value is None:
            if required:
                self.add(field, "must not be empty")
            return None
        if not isinstance(value, dt.datetime):
            self.add(field, "must be a date and time")
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            self.add(field, "must carry a time zone")
            return None
        return value.astimezone(dt.UTC)

    def string_list(
        self, field: str, value: object, *, max_items: int = 20, max_length: int = 60
    ) -> list[str] | None:
        """A list of short non-empty strings (duplicates and blanks dropped)."""
        if value is None:
            return []
        if isinstance(value, str) or not isinstance(value, list | tuple):
            self.add(field, "must be a list of text")
            return None
        result: list[str] = []
        for item in value:
            if not isinstance(item, str):
                self.add(field, "must be a list of text")
                return None
            item = item.strip()
            if not item:
                continue
            if len(item) > max_length:
                self.add(field, f"each entry must be at most {max_length} characters")
                return None
            if item not in result:
                result.append(item)
        if len(result) > max_items:
            self.add(field, f"must have at most {max_items} entries")
            return None
        return result


def unknown_fields(changes: dict[str, Any], allowed: frozenset[str]) -> None:
    """Raise when ``changes`` names a field the entity does not have (or may not edit)."""
    bad = sorted(set(changes) - allowed)
    if bad:
        raise ValidationError({name: ["is not a field that can be changed"] for name in bad})
