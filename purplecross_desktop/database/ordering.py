"""One rule for empty values in every ORDER BY: NULLs come last, ascending or descending.

SQLite sorts NULL first ascending and PostgreSQL last, so a plain ``ORDER BY`` gives the
two backends different pages. The domain's ``search`` and the SQL grid both order through
:func:`ordered`, which says NULLS LAST explicitly (SQLite 3.30+ understands it) wherever a
value can be NULL, and leaves NOT NULL columns alone so their indexes still serve the sort.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.sql.elements import ColumnElement


def can_be_null(expr: ColumnElement[Any]) -> bool:
    """False only when ``expr`` can never be NULL: a NOT NULL column, or a function of one
    (``lower(name)``); anything else counts as nullable."""
    nullable = getattr(expr, "nullable", None)
    if nullable is not None:
        return nullable is not False
    arguments = list(getattr(expr, "clauses", ()))
    return not (len(arguments) == 1 and getattr(arguments[0], "nullable", None) is False)


def ordered(
    expr: ColumnElement[Any], descending: bool, *, nulls_first: bool = False
) -> ColumnElement[Any]:
    """``expr`` ascending or descending with NULLs last (``nulls_first`` flips only where
    NULLs go, for a reversed keyset page)."""
    clause = expr.desc() if descending else expr.asc()
    if not can_be_null(expr):
        return clause
    return clause.nulls_first() if nulls_first else clause.nulls_last()
