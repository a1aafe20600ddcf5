"""Where grid rows come from: the source protocol and the in-memory source (Qt-free).

A source turns a :class:`GridQuery` into a :class:`GridResult` (the filtered, sorted rows) on a
worker thread; the grid then reads only the rows it shows. The in-memory source keeps one list
per column for display and, per column, numpy arrays for the work (``column_arrays``): dense
sort ranks with the stable sorted order, and the casefolded display text. A sort is then a
cached order (masked when rows are filtered) or a stable ``argsort`` of ranks, a search one
string scan per column, both outside the interpreter lock, so the window keeps painting.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from widgets.datagrid.cancelling import CHUNK
from widgets.datagrid.cancelling import Cancelled as Cancelled
from widgets.datagrid.cancelling import QueryCancelledError as QueryCancelledError
from widgets.datagrid.state import (
    ChoiceFilter,
    Column,
    ColumnFilter,
    GridQuery,
    RangeFilter,
    TextFilter,
    check_columns,
)
from widgets.text_order import fold_text as fold_text  # re-exported: the grid's text order

if TYPE_CHECKING:
    import numpy as np

    from widgets.datagrid.column_arrays import ColumnOrder, ColumnText

# numpy and the column arrays are imported by the first query of an in-memory source, not
# with this module: a window whose grids all read a database never loads numpy.


def _never() -> bool:
    return False


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


def _value_types(values: Sequence[Any], cancelled: Cancelled = _never) -> set[type]:
    """The types of ``values`` (None's too), a slice at a time."""
    types: set[type] = set()
    for start in range(0, len(values), CHUNK):
        if cancelled():
            raise QueryCancelledError
        types.update(map(type, values[start : start + CHUNK]))
    return types


def _detect_kind(types: set[type]) -> str:
    """``text``, ``number``, ``same`` (one comparable type) or ``mixed``."""
    types = types - {type(None)}
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


def _fold_part(part: Sequence[Any]) -> list[Any]:
    """Text sort keys of a slice of values (None stays None)."""
    if all(type(v) is str for v in part) and all(map(str.isascii, part)):
        return list(map(str.lower, part))  # the common case, at C speed
    return [None if v is None else fold_text(v if isinstance(v, str) else str(v)) for v in part]


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
        self._reset_caches()

    def _reset_caches(self) -> None:
        self._orders: dict[str, ColumnOrder] = {}
        self._texts: dict[str, ColumnText] = {}
        self._all_rows: np.ndarray | None = None
        self._last_filter: tuple[tuple[Any, ...], np.ndarray | None, np.ndarray] | None = None

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
        source._reset_caches()
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
        values: set[Any] = set()
        column = self.column_values(key)
        for start in range(0, len(column), CHUNK):  # a slice per step: the UI keeps painting
            values.update(column[start : start + CHUNK])
        values.discard(None)
        try:  # the smallest ``limit`` without one long sort of every distinct value
            return heapq.nsmallest(limit, values)
        except TypeError:
            return heapq.nsmallest(limit, values, key=str)

    # ---- querying ------------------------------------------------------------------------

    def prepare(self, search_keys: Sequence[str], cancelled: Cancelled = _never) -> bool:
        """Build the sort orders and the search text now (on a worker, after the first page
        shows), so the first header click and the first search are as fast as later ones.

        Returns False when it stopped early because ``cancelled()`` turned true (a query is
        waiting: the grid calls it again after that query); what it built is kept."""
        try:
            for column in self._columns:
                if cancelled():
                    return False
                if column.sortable:
                    self._column_order(column.key, cancelled)
            for key in self._search_columns(tuple(search_keys)):
                self._column_texts(key, cancelled)
        except QueryCancelledError:
            return False
        return True

    def run(self, query: GridQuery, cancelled: Cancelled = _never) -> InMemoryResult:
        for key in (*(s.key for s in query.sort), *(k for k, _ in query.filters)):
            if key not in self._index:
                raise ValueError(f"query: unknown column key {key!r}")
        selected, order = self._filtered(query, cancelled)
        for step, sort_key in enumerate(reversed(query.sort)):
            sorter = self._column_order(sort_key.key, cancelled)
            if cancelled():
                raise QueryCancelledError
            if step == 0:  # rows still in row order: the column's cached order, masked
                order = (
                    sorter.full_order(sort_key.descending)
                    if selected is None
                    else sorter.sort_subset(selected, sort_key.descending)
                )
            else:
                order = sorter.sort(order, sort_key.descending)
        return InMemoryResult(self, order)

    def _filtered(
        self, query: GridQuery, cancelled: Cancelled
    ) -> tuple[np.ndarray | None, np.ndarray]:
        """The mask of matching rows (None: all match) and their row numbers in row order."""
        needle = query.search.strip().casefold()
        signature = (needle, query.search_keys if needle else (), query.filters)
        if self._last_filter is not None and self._last_filter[0] == signature:
            return self._last_filter[1], self._last_filter[2]
        import numpy as np

        selected: np.ndarray | None = None
        if needle:
            selected = np.zeros(self._count, dtype=bool)
            for key in self._search_columns(query.search_keys):
                selected |= self._column_texts(key, cancelled).contains(needle)
        for key, flt in query.filters:
            if cancelled():
                raise QueryCancelledError
            mask = self._filter_mask(key, flt, cancelled)
            if mask is not None:
                selected = mask if selected is None else selected & mask
        if selected is None:
            order = self._row_numbers()
        else:
            order = np.flatnonzero(selected).astype(np.int32)
        self._last_filter = (signature, selected, order)
        return selected, order

    def _search_columns(self, keys: tuple[str, ...]) -> list[str]:
        keys = keys or tuple(c.key for c in self._columns if c.filterable)
        return [k for k in keys if k in self._index]

    def _row_numbers(self) -> np.ndarray:
        if self._all_rows is None:
            import numpy as np

            self._all_rows = np.arange(self._count, dtype=np.int32)
        return self._all_rows

    def _filter_mask(self, key: str, flt: ColumnFilter, cancelled: Cancelled) -> np.ndarray | None:
        from widgets.datagrid import column_arrays as arrays

        if isinstance(flt, TextFilter):
            needle = flt.text.strip().casefold()
            if not needle:
                return None
            return self._column_texts(key, cancelled).contains(needle)
        values = self.column_values(key)
        if isinstance(flt, ChoiceFilter):
            wanted = flt.values
            return arrays.chunked_bools(
                values, lambda part: list(map(wanted.__contains__, part)), cancelled
            )
        if self._is_number_column(key):  # numbers held as text compare as numbers
            return arrays.chunked_bools(
                values, lambda part: [_in_range(number_key(v), flt) for v in part], cancelled
            )
        return arrays.chunked_bools(
            values, lambda part: [_in_range(v, flt) for v in part], cancelled
        )

    def _is_number_column(self, key: str) -> bool:
        column = self._columns[self._index[key]]
        if column.kind in ("number", "money"):
            return True
        return column.kind == "auto" and _detect_kind(_value_types(self.column_values(key))) == (
            "number"
        )

    # ---- caches (built on the worker thread, reused until the rows change) ---------------

    def _column_order(self, key: str, cancelled: Cancelled) -> ColumnOrder:
        from widgets.datagrid import column_arrays as arrays

        cached = self._orders.get(key)
        if cached is not None:
            return cached
        column = self._columns[self._index[key]]
        values = self.column_values(key)
        types = _value_types(values, cancelled)
        kind = _detect_kind(types)
        keys: Sequence[Any]
        text = False
        if column.kind in ("number", "money") or (column.kind == "auto" and kind == "number"):
            if types <= {int, type(None)}:
                keys = values  # the values are their own keys (not copied)
            else:  # the declared kind wins; NaN is empty
                keys = arrays.chunked_list(
                    values, lambda part: list(map(number_key, part)), cancelled
                )
        elif column.kind == "text" or kind == "text":
            keys, text = arrays.chunked_list(values, _fold_part, cancelled), True
        elif kind == "mixed":
            keys, text = self._display_keys(key, cancelled), True
        else:
            keys = values  # dates: the values are their own keys
        order = arrays.column_order(
            keys, text, cancelled, lambda: self._display_keys(key, cancelled)
        )
        self._orders[key] = order
        return order

    def _display_keys(self, key: str, cancelled: Cancelled) -> list[Any]:
        """Sort keys of a column whose values do not compare: what the user reads."""
        from widgets.datagrid import column_arrays as arrays

        display = self._columns[self._index[key]].display

        def convert(part: Sequence[Any]) -> list[Any]:
            return [None if v is None else fold_text(display(v)) for v in part]

        return arrays.chunked_list(self.column_values(key), convert, cancelled)

    def _column_texts(self, key: str, cancelled: Cancelled) -> ColumnText:
        """The casefolded display text of every value of column ``key`` (search, filters)."""
        from widgets.datagrid import column_arrays as arrays

        texts = self._texts.get(key)
        if texts is None:
            column = self._columns[self._index[key]]
            texts = arrays.column_text(
                self.column_values(key), lambda part: _display_texts(column, part), cancelled
            )
            self._texts[key] = texts
        return texts


def _display_texts(column: Column, values: Sequence[Any]) -> list[str]:
    """The casefolded display text of every value; plain text and integers at C speed."""
    if column.formatter is None and column.kind in ("auto", "text", "number"):
        types = set(map(type, values))
        if types <= {str}:
            return list(map(str.casefold, values))
        if types <= {int}:
            return list(map(str, values))
    display = column.display
    return [display(v).casefold() for v in values]


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
    """An in-memory query result: the source row numbers in view order (a numpy array)."""

    def __init__(self, source: InMemorySource, order: np.ndarray) -> None:
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
        return [row_values(r) for r in self.order[start:stop].tolist()]

    def ids(self, start: int, stop: int) -> list[Any]:
        row_id = self._source.row_id
        return [row_id(r) for r in self.order[start:stop].tolist()]
