"""Column types shared by the clinic tables: enums stored as checked strings, money."""

from __future__ import annotations

import enum
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

MONEY = sa.Numeric(12, 2)
CENTS = Decimal("0.01")


def enum_type(enum_cls: type[enum.Enum], name: str, length: int = 20) -> sa.Enum:
    """A portable enum: VARCHAR plus a named CHECK constraint, storing the member values."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        validate_strings=True,
        values_callable=lambda members: [str(m.value) for m in members],
    )


def to_cents(value: Decimal) -> Decimal:
    """Round half up to whole cents (how invoices round each line)."""
    return value.quantize(CENTS, rounding=ROUND_HALF_UP)
