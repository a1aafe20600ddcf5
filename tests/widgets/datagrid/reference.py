"""A plain-Python reference of what a grid shows: filter, then a stable multi-key sort."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from widgets.datagrid.sources import fold_text
from widgets.datagrid.state import ChoiceFilter, Column, GridQuery, RangeFilter, TextFilter


def _sort_value(column: Column, value: Any) -> Any:
    return fold_text(value) if isinstance(value, str) else value


def _matches(columns: Sequence[Column], row: tuple[Any, ...], query: GridQuery) -> bool:
    by_key = {c.key: (i, c) for i, c in enumerate(columns)}
    needle = query.search.strip().casefold()
    if needle:
        keys = query.search_keys or tuple(c.key for c in columns if c.filterable)
        texts = [by_key[k][1].display(row[by_key[k][0]]).casefold() for k in keys]
        if not any(needle in t for t in texts):
            return False
    for key, flt in query.filters:
        i, col = by_key[key]
        value = row[i]
        if isinstance(flt, TextFilter):
            if flt.text.strip().casefold() not in col.display(value).casefold():
                return False
        elif isinstance(flt, ChoiceFilter):
            if value not in flt.values:
                return False
        elif isinstance(flt, RangeFilter):
            if value is None:
                return False
            if flt.low is not None and value < flt.low:
                return False
            if flt.high is not None and value > flt.high:
                return False
    return True


def reference_view(
    columns: Sequence[Column], rows: Sequence[tuple[Any, ...]], query: GridQuery
) -> list[int]:
    """Source row numbers in the order the grid must show them."""
    by_key = {c.key: i for i, c in enumerate(columns)}
    kept = [n for n, row in enumerate(rows) if _matches(columns, row, query)]

    def compare(a: int, b: int) -> int:
        for sort_key in query.sort:
            i = by_key[sort_key.key]
            col = columns[i]
            va, vb = _sort_value(col, rows[a][i]), _sort_value(col, rows[b][i])
            if va is None and vb is None:
                continue
            if va is None:
                return 1
            if vb is None:
                return -1
            if va == vb:
                continue
            less = va < vb
            result = -1 if less else 1
            return -result if sort_key.descending else result
        return (a > b) - (a < b)

    return sorted(kept, key=functools.cmp_to_key(compare))
