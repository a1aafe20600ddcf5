"""Paged, ordered search results shared by every service's ``search``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from purplecross_desktop.database.ordering import ordered
from purplecross_desktop.domain.validation import Checker

T = TypeVar("T")

MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results.

    Attributes:
        items: the rows of this page, in order.
        total: how many rows match in all (for the pager).
    """

    items: list[T]
    total: int


def order_clauses(
    order: str | Sequence[str], columns: Mapping[str, Any], checker: Checker
) -> list[Any]:
    """``"name"`` / ``"-starts_at"`` / ``["species", "-name"]`` -> ORDER BY clauses.

    Empty values come last whichever way, on SQLite and PostgreSQL alike (as in the grid).
    """
    keys = [order] if isinstance(order, str) else list(order)
    clauses: list[Any] = []
    for key in keys:
        descending = key.startswith("-")
        column = columns.get(key.lstrip("-"))
        if column is None:
            checker.add("order", f"must be one of: {', '.join(sorted(columns))} (optionally -)")
            continue
        clauses.append(ordered(column, descending))
    return clauses


def paginate(
    session: Session,
    stmt: Any,
    order: str | Sequence[str],
    columns: Mapping[str, Any],
    limit: int,
    offset: int,
    *,
    tiebreak: Any,
) -> Page[Any]:
    """Validate paging arguments, count the matches and fetch one ordered page."""
    checker = Checker()
    clauses = order_clauses(order, columns, checker)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        checker.add("limit", f"must be between 1 and {MAX_LIMIT}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        checker.add("offset", "must not be negative")
    checker.raise_if_any()
    matches = stmt.order_by(None).subquery()
    # typed as Any: mypy 2.4 crashes inferring Session.scalar over SQLAlchemy 2.1's Select
    count: Any = sa.select(sa.func.count()).select_from(matches)
    total = session.execute(count).scalar_one()
    page = stmt.order_by(*clauses, tiebreak).limit(limit).offset(offset)
    items = list(session.scalars(page))
    return Page(items=items, total=int(total or 0))


def like_pattern(text: str) -> str:
    """A case-insensitive ``LIKE`` pattern matching ``text`` anywhere (wildcards escaped)."""
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
