"""Where grid rows come from: the source protocol and the in-memory source (Qt-free).

A source turns a :class:`GridQuery` into a :class:`GridResult` (the filtered, sorted rows) on a
worker thread; the grid then reads only the rows it shows. The in-memory source keeps one list
per column and answers with an array of source row numbers, so a sort is a ``sorted()`` of row
numbers keyed by a cached per-column key list, and a filter is one C-speed scan of a cached,
casefolded text per row.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from itertools import compress, repeat
from typing import Any, Protocol, runtime_checkable

from widgets.datagrid.state import (
    ChoiceFilter,
    Column,
    ColumnFilter,
    GridQuery,
    RangeFilter,
    SortKey,
    TextFilter,
    check_columns,
)
from widgets.text_order import fold_text as fold_text  # re-exported: the grid's text order

Cancelled = Callable[[], bool]


class QueryCancelledError(Exception):
    """Raised inside a source when the query it runs has been superseded."""


@runtime_checkable
class GridResult(Protocol):
    """The rows a query selected, in order. ``rows``/``ids`` take view row ranges.

    ``is_local`` results are cheap to read and may be read on the UI thread; others
    (database results) are read on a worker thread only.
    """

    @property
    def count(self) -> int: ...

    @property
    def is_local(self) -> bool: ...

    def rows(self, start: int, stop: int) -> list[tuple[Any, ...]]:
        """Values of view rows ``start:stop``, each a tuple in the grid's column order."""
        ...

    def ids(self, start: int, stop: int) -> list[Any]:
        """Row ids of view rows ``start:stop``."""
        ...


@runtime_checkable
class GridSource(Protocol):
    """Something a grid can query: in memory or a database."""

    def run(self, query: GridQuery, cancelled: Cancelled) -> GridResult:
        """Filter and sort per ``query``; runs on a worker thread. Raise QueryCancelledError early
        when ``cancelled()`` turns true."""
        ...

    def distinct_values(self, key: str, limit: int) -> list[Any]:
        """Up to ``limit`` distinct non-null values of column ``key``, sorted (choice filters)."""
        ...


_NUMBER_TYPES = (int, float, Decimal)


def _detect_kind(values: list[Any]) -> str:
    """``text``, ``number``, ``same`` (one comparable type) or ``mixed``, at C speed."""
    types = set(map(type, values))
    types.discard(type(None))
    if not types or types == {str}:
        return "text"
    if types <= {int, float, Decimal, bool}:
        return "number"
    if len(types) == 1:
        return "same"
    return "mixed"


def number_key(value: Any) -> int | float | Decimal | None:
    """The number ``value`` stands for in a number column, None when it is empty, NaN or not
    a number at all: text such as "1,000.50" counts as the number it shows, so the
    declared kind, not the Python type, decides the order, and NaN sorts with the empties."""
    if isinstance(value, int):  # bool too: False < True
        return value
    if isinstance(value, float):
        return None if value != value else value
    if isinstance(value, Decimal):
        return None if value.is_nan() else value
    if isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(",", ""))
        except ArithmeticError:
            return None
        return None if number.is_nan() else number
    return None


def _number_keys(values: list[Any]) -> list[Any]:
    types = set(map(type, values))
    if types <= {int, type(None)}:
        return values  # nothing to convert: the values are their own keys (not copied)
    return list(map(number_key, values))


def _text_keys(values: list[Any], has_nulls: bool) -> list[Any]:
    if not has_nulls and set(map(type, values)) <= {str}:
        if all(map(str.isascii, values)):
            return list(map(str.lower, values))  # the common case, at C speed
        return list(map(fold_text, values))
    return [None if v is None else fold_text(v if isinstance(v, str) else str(v)) for v in values]


class InMemorySource:
    """Rows held in memory as one list per column.

    Args:
        columns: The grid's columns; values are stored in this order.
        rows: Dicts keyed by ``Column.key`` (missing keys are None) or tuples in column order.
        id_key: The dict key (or column key) holding each row's id; None uses the row number.
    """

    def __init__(
        self,
        columns: Sequence[Column],
        rows: Sequence[Mapping[str, Any]] | Sequence[Sequence[Any]] = (),
        id_key: str | None = None,
    ) -> None:
        check_columns(columns)
        self._columns = tuple(columns)
        self._index = {c.key: i for i, c in enumerate(self._columns)}
        width = len(self._columns)
        data: list[list[Any]]
        ids: list[Any] | None = None
        if not rows:
            data = [[] for _ in self._columns]
        elif isinstance(rows[0], Mapping):
            dict_rows: Sequence[Mapping[str, Any]] = rows  # type: ignore[assignment]
            data = [[r.get(c.key) for r in dict_rows] for c in self._columns]
            if id_key is not None:
                try:
                    ids = [r[id_key] for r in dict_rows]
                except KeyError:
                    raise ValueError(f"id_key: a row has no {id_key!r} key") from None
        else:
            for number, row in enumerate(rows):
                if len(row) != width:
                    raise ValueError(
                        f"rows[{number}]: has {len(row)} values, the grid has {width} columns"
                    )
            data = [list(col) for col in zip(*rows, strict=True)]
            if id_key is not None:
                if id_key not in self._index:
                    raise ValueError(f"id_key: {id_key!r} is not a column key of tuple rows")
                ids = data[self._index[id_key]]
        self._data = data
        self._ids = ids
        self._count = len(data[0]) if data else 0
        self._sort_keys: dict[str, tuple[list[Any], bool]] = {}
        self._texts: dict[str, list[str]] = {}
        self._haystacks: dict[tuple[str, ...], list[str]] = {}
        self._last_filter: tuple[tuple[Any, ...], Sequence[int]] | None = None

    @classmethod
    def from_columns(
        cls, columns: Sequence[Column], data: Mapping[str, Sequence[Any]], ids: Sequence[Any] = ()
    ) -> InMemorySource:
        """A source on ready-made column arrays (no per-row conversion): the fastest load."""
        source = cls(columns)
        lengths = {len(data.get(c.key, ())) for c in columns}
        if len(lengths) != 1:
            raise ValueError("data: every column array must have the same length")
        source._data = [list(data.get(c.key, ())) for c in columns]
        source._count = lengths.pop()
        if ids:
            if len(ids) != source._count:
                raise ValueError("ids: must have one id per row")
            source._ids = list(ids)
        return source

    # ---- reading -------------------------------------------------------------------------

    @property
    def count(self) -> int:
        """The number of rows before filtering."""
        return self._count

    def column_values(self, key: str) -> list[Any]:
        """The stored values of column ``key`` (do not modify)."""
        return self._data[self._index[key]]

    def row_values(self, row: int) -> tuple[Any, ...]:
        """The values of source row ``row`` in column order."""
        return tuple(col[row] for col in self._data)

    def row_id(self, row: int) -> Any:
        """The id of source row ``row``."""
        return row if self._ids is None else self._ids[row]

    def distinct_values(self, key: str, limit: int) -> list[Any]:
        values = {v for v in self.column_values(key) if v is not None}
        try:
            ordered = sorted(values)
        except TypeError:
            ordered = sorted(values, key=str)
        return ordered[:limit]

    # ---- querying ------------------------------------------------------------------------

    def prepare(self, search_keys: Sequence[str], cancelled: Cancelled = lambda: False) -> None:
        """Build the sort keys and the search text now (on a worker, after the first page
        shows), so the first header click and the first search are as fast as later ones.
        Stops early, between columns, once ``cancelled()`` is true."""
        for column in self._columns:
            if cancelled():
                return
            if column.sortable:
                self._sort_key_list(column.key)
        if not cancelled():
            self._haystack(tuple(search_keys))

    def run(self, query: GridQuery, cancelled: Cancelled = lambda: False) -> InMemoryResult:
        for key in (*(s.key for s in query.sort), *(k for k, _ in query.filters)):
            if key not in self._index:
                raise ValueError(f"query: unknown column key {key!r}")
        order: Sequence[int] = self._filtered(query, cancelled)
        for sort_key in reversed(query.sort):
            if cancelled():
                raise QueryCancelledError
            order = self._sorted(order, sort_key)
        return InMemoryResult(self, order)

    def _filtered(self, query: GridQuery, cancelled: Cancelled) -> Sequence[int]:
        needle = query.search.strip().casefold()
        signature = (needle, query.search_keys if needle else (), query.filters)
        if self._last_filter is not None and self._last_filter[0] == signature:
            return self._last_filter[1]
        rows: Iterable[int] = range(self._count)
        narrowed = False
        if needle:
            hay = self._haystack(query.search_keys)
            rows = compress(rows, map(operator.contains, hay, repeat(needle)))
            narrowed = True
        for key, flt in query.filters:
            if cancelled():
                raise QueryCancelledError
            rows = self._apply_filter(list(rows) if narrowed else rows, key, flt)
            narrowed = True
        result: Sequence[int] = list(rows) if narrowed else range(self._count)
        self._last_filter = (signature, result)
        return result

    def _apply_filter(self, rows: Iterable[int], key: str, flt: ColumnFilter) -> Iterable[int]:
        rows = list(rows)
        if isinstance(flt, TextFilter):
            needle = flt.text.strip().casefold()
            if not needle:
                return rows
            texts = self._column_texts(key)
            return compress(
                rows, map(operator.contains, map(texts.__getitem__, rows), repeat(needle))
            )
        values = self.column_values(key)
        if isinstance(flt, ChoiceFilter):
            wanted = flt.values
            return compress(rows, map(wanted.__contains__, map(values.__getitem__, rows)))
        if self._is_number_column(key):
            values = self._sort_key_list(key)[0]  # numbers held as text compare as numbers
        return [r for r in rows if _in_range(values[r], flt)]

    def _is_number_column(self, key: str) -> bool:
        column = self._columns[self._index[key]]
        if column.kind in ("number", "money"):
            return True
        return column.kind == "auto" and _detect_kind(self.column_values(key)) == "number"

    def _sorted(self, order: Sequence[int], sort_key: SortKey) -> list[int]:
        keys, has_nulls = self._sort_key_list(sort_key.key)
        try:
            return _sort_rows(order, keys, has_nulls, sort_key.descending)
        except TypeError:  # e.g. aware and naive datetimes: order by the display text
            keys = self._display_keys(sort_key.key)
            self._sort_keys[sort_key.key] = (keys, has_nulls)
            return _sort_rows(order, keys, has_nulls, sort_key.descending)

    # ---- caches (built on the worker thread, reused until the rows change) ---------------

    def _sort_key_list(self, key: str) -> tuple[list[Any], bool]:
        cached = self._sort_keys.get(key)
        if cached is not None:
            return cached
        column = self._columns[self._index[key]]
        values = self.column_values(key)
        kind = _detect_kind(values)
        has_nulls = None in values
        keys: list[Any]
        if column.kind in ("number", "money") or (column.kind == "auto" and kind == "number"):
            keys = _number_keys(values)  # the declared kind wins; NaN is empty
            has_nulls = None in keys
        elif column.kind == "text" or kind == "text":
            keys = _text_keys(values, has_nulls)
        elif kind == "mixed":
            keys = self._display_keys(key)
        else:
            keys = values  # dates: the values are their own keys (not copied)
        self._sort_keys[key] = (keys, has_nulls)
        return keys, has_nulls

    def _display_keys(self, key: str) -> list[Any]:
        """Sort keys of a column whose values do not compare: what the user reads."""
        display = self._columns[self._index[key]].display
        return [None if v is None else fold_text(display(v)) for v in self.column_values(key)]

    def _column_texts(self, key: str, keep: bool = True) -> list[str]:
        texts = self._texts.get(key)
        if texts is None:
            texts = _display_texts(self._columns[self._index[key]], self.column_values(key))
            if keep:  # per-column text filters reuse them; the search text does not
                self._texts[key] = texts
        return texts

    def _haystack(self, keys: tuple[str, ...]) -> list[str]:
        keys = keys or tuple(c.key for c in self._columns if c.filterable)
        hay = self._haystacks.get(keys)
        if hay is None:
            parts = [self._column_texts(k, keep=False) for k in keys if k in self._index]
            hay = (
                ["\x1f".join(t) for t in zip(*parts, strict=True)] if parts else [""] * self._count
            )
            self._haystacks[keys] = hay
        return hay


def _display_texts(column: Column, values: list[Any]) -> list[str]:
    """The casefolded display text of every value; plain text and integers at C speed."""
    if column.formatter is None and column.kind in ("auto", "text", "number"):
        types = set(map(type, values))
        if types <= {str}:
            return list(map(str.casefold, values))
        if types <= {int}:
            return list(map(str, values))
    display = column.display
    return [display(v).casefold() for v in values]


def _sort_rows(
    order: Sequence[int], keys: list[Any], has_nulls: bool, descending: bool
) -> list[int]:
    """``order`` stably sorted by ``keys[row]``, rows with a None key last."""
    if not has_nulls:
        return sorted(order, key=keys.__getitem__, reverse=descending)
    present = compress(order, map(operator.is_not, map(keys.__getitem__, order), repeat(None)))
    missing = compress(order, map(operator.is_, map(keys.__getitem__, order), repeat(None)))
    ordered = sorted(present, key=keys.__getitem__, reverse=descending)
    ordered.extend(missing)
    return ordered


def _in_range(value: Any, flt: RangeFilter) -> bool:
    if value is None:
        return False
    try:
        if flt.low is not None and value < flt.low:
            return False
        return not (flt.high is not None and value > flt.high)
    except TypeError:
        return False


class InMemoryResult:
    """An in-memory query result: the source row numbers in view order."""

    def __init__(self, source: InMemorySource, order: Sequence[int]) -> None:
        self._source = source
        self.order = order

    @property
    def count(self) -> int:
        return len(self.order)

    @property
    def is_local(self) -> bool:
        return True

    def rows(self, start: int, stop: int) -> list[tuple[Any, ...]]:
        row_values = self._source.row_values
        return [row_values(r) for r in self.order[start:stop]]

    def ids(self, start: int, stop: int) -> list[Any]:
        row_id = self._source.row_id
        return [row_id(r) for r in self.order[start:stop]]
