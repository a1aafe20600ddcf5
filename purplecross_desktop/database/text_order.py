"""Stored sort keys: the app's one text order (``textorder.fold_text``) in a column.

A ``name_key`` column beside a name holds ``fold_text(name)``, indexed, compared by code
point on every backend (``COLLATE "C"`` on PostgreSQL, SQLite's binary order), so the SQL
grid pages through names in exactly the order the in-memory grid sorts them. ORM writes
keep it current through :func:`keep_sort_key`; Core inserts that leave it out get it from
the column default; bulk loaders (the demo generator) write ``fold_text(name)`` themselves.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import MappedColumn, mapped_column

from textorder import fold_text as fold_text  # the one definition of the order

#: Text compared by code point: PostgreSQL's "C" collation (a server may default to a
#: linguistic one); SQLite compares text bytewise already.
SORT_KEY_TYPE = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def sort_key_column(source: str) -> MappedColumn[Any]:
    """An indexed, NOT NULL sort-key column computed from column ``source`` on insert (the
    server default '' only lets the migration add it to filled tables in place)."""

    def default(context: Any) -> str:
        return fold_text(context.get_current_parameters()[source] or "")

    return mapped_column(SORT_KEY_TYPE, default=default, server_default=sa.text("''"), index=True)
