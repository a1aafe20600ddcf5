"""The in-memory source's per-column arrays: sort ranks, sorted orders, search text (Qt-free).

What a sort or a scan touches is a numpy array, so the long steps run in numpy code that
releases the interpreter lock (``argsort``, ``np.strings.find``, gathers and masks) and
the window keeps repainting while a worker sorts 1M rows. What has to run in Python
(folding text, display text, parsing numbers) runs over slices of :data:`CHUNK` values:
no single C-level call lasts long, so the interpreter can hand the lock to the UI thread
between them (every 5 ms). ``sorted()`` or ``list(map(...))`` over a million values is
one C call that keeps the lock for its whole length; nothing here makes one.

A column's order is kept as dense ranks (``int32``, equal values share a rank, nulls get
:data:`NULL_RANK`) plus the stable ascending permutation of all rows, so a sort of the
whole table by one column is a cached array, and a sort of a filtered subset one masked
gather. The ranks come from an exact projection of the sort keys onto a numpy dtype
(text as unicode strings, integers, floats, scaled decimals, dates as day numbers,
datetimes as microseconds); values without one are ranked in Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.dtypes import StringDType

from widgets.datagrid.cancelling import CHUNK as CHUNK
from widgets.datagrid.cancelling import Cancelled as Cancelled
from widgets.datagrid.cancelling import QueryCancelledError as QueryCancelledError

#: The rank of a null (None, NaN, unparsable number): after every value in both directions.
NULL_RANK = np.iinfo(np.int32).max
#: Text keys at most this long are sorted as fixed-width unicode (faster); longer ones as
#: variable-width strings, so one long note does not cost 4 bytes x its length x every row.
FIXED_WIDTH_LIMIT = 32

_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)
_INT64 = (-(2**63), 2**63 - 1)
_FLOAT_EXACT = 2**53
_DECIMAL_PLACES = 9


def _check(cancelled: Cancelled) -> None:
    if cancelled():
        raise QueryCancelledError


def chunked_list(
    values: Sequence[Any], convert: Callable[[Sequence[Any]], list[Any]], cancelled: Cancelled
) -> list[Any]:
    """``convert`` applied slice by slice (each slice one short C call), concatenated."""
    out: list[Any] = []
    for start in range(0, len(values), CHUNK):
        _check(cancelled)
        out.extend(convert(values[start : start + CHUNK]))
    return out


def chunked_bools(
    values: Sequence[Any], test: Callable[[Sequence[Any]], list[bool]], cancelled: Cancelled
) -> np.ndarray:
    """A boolean array of ``test`` applied slice by slice."""
    out = np.zeros(len(values), dtype=bool)
    for start in range(0, len(values), CHUNK):
        _check(cancelled)
        out[start : start + CHUNK] = test(values[start : start + CHUNK])
    return out


def text_array(
    values: Sequence[Any], convert: Callable[[Sequence[Any]], list[str]], cancelled: Cancelled
) -> np.ndarray:
    """Variable-width strings (16 bytes a value, longer ones spill to a heap), slice by slice."""
    out = np.empty(len(values), dtype=StringDType())
    for start in range(0, len(values), CHUNK):
        _check(cancelled)
        _store(out, start, convert(values[start : start + CHUNK]))
    return out


def _store(out: np.ndarray, start: int, texts: list[Any]) -> None:
    """``out[start:...] = texts``; a lone surrogate (text decoded with surrogateescape, say)
    cannot be stored as UTF-8 and is kept as U+FFFD instead of failing the whole grid."""
    try:
        out[start : start + len(texts)] = texts
    except UnicodeEncodeError:
        out[start : start + len(texts)] = [_replace_surrogates(t) for t in texts]


def _replace_surrogates(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


class ColumnText:
    """The casefolded display text of a column, for search and text filters.

    A column with few distinct values (species, status, a fee) keeps each distinct text
    once and a code per row (4 bytes): a search scans the distinct texts and gathers.
    Other columns keep a text per row.
    """

    def __init__(self, texts: np.ndarray, codes: np.ndarray | None = None) -> None:
        self.texts = texts
        self.codes = codes

    def contains(self, needle: str) -> np.ndarray:
        """Which rows' text contains ``needle``."""
        found = contains(self.texts, needle)
        return found if self.codes is None else np.asarray(found[self.codes])


#: Values whose equality means the same display text (a value is its own key); others are
#: told apart by their str() too (-0.0 and 0.0, Decimal 1.0 and 1.00, one instant in two zones).
_PLAIN = frozenset({str, int, bool, dt.date, type(None)})
#: Factorising stops once a column has more distinct values than this share of its rows.
DISTINCT_SHARE = 4


def column_text(
    values: Sequence[Any], convert: Callable[[Sequence[Any]], list[str]], cancelled: Cancelled
) -> ColumnText:
    """The :class:`ColumnText` of ``values``; ``convert`` gives display texts of a slice."""
    count = len(values)
    codes = np.empty(count, dtype=np.int32)
    index: dict[Any, int] = {}
    distinct: list[Any] = []
    types: set[type] = set()
    for start in range(0, count, CHUNK):
        _check(cancelled)
        types.update(map(type, values[start : start + CHUNK]))
    # One plain type (and None): equal values show the same text. Mixed (1 and True):
    # they would not, so the type and str() join the key.
    plain = types <= _PLAIN and len(types - {type(None)}) <= 1
    for start in range(0, count, CHUNK):
        _check(cancelled)
        part = values[start : start + CHUNK]
        out = []
        for value in part:
            key = value if plain else (type(value), value, str(value))
            code = index.get(key)
            if code is None:
                code = index[key] = len(distinct)
                distinct.append(value)
            out.append(code)
        codes[start : start + len(part)] = out
        seen = start + len(part)
        if seen >= 4 * CHUNK and len(distinct) * DISTINCT_SHARE > seen:
            return ColumnText(text_array(values, convert, cancelled))  # mostly distinct
    return ColumnText(text_array(distinct, convert, cancelled), codes)


def contains(texts: np.ndarray, needle: str) -> np.ndarray:
    """Which ``texts`` contain ``needle`` (one ufunc, outside the interpreter lock)."""
    return np.asarray(np.strings.find(texts, needle) >= 0)


class ColumnOrder:
    """Dense ranks of one column and its stable sorted orders (both directions, cached).

    Args:
        ranks: ``int32`` per row; equal sort keys share a rank, nulls have NULL_RANK.
        ascending: every row number, stably ordered by rank (nulls last).
    """

    def __init__(self, ranks: np.ndarray, ascending: np.ndarray) -> None:
        self.ranks = ranks
        self._orders = {False: ascending}

    def full_order(self, descending: bool) -> np.ndarray:
        """Every row, stably ordered by this column (nulls last either way)."""
        order = self._orders.get(descending)
        if order is None:
            order = _index_array(np.argsort(self.keys(self.ranks, True), kind="stable"))
            self._orders[descending] = order
        return order

    @staticmethod
    def keys(ranks: np.ndarray, descending: bool) -> np.ndarray:
        """Ranks as ascending sort keys: negated for a descending sort, nulls still last."""
        if not descending:
            return ranks
        return np.where(ranks == NULL_RANK, NULL_RANK, -ranks)

    def sort(self, order: np.ndarray, descending: bool) -> np.ndarray:
        """``order`` (row numbers) stably sorted by this column."""
        keys = self.keys(self.ranks[order], descending)
        return order[np.argsort(keys, kind="stable")]

    def sort_subset(self, selected: np.ndarray, descending: bool) -> np.ndarray:
        """The rows where ``selected`` (a mask over all rows) is true, in this column's
        order, ties in row order: the cached full order, masked."""
        full = self.full_order(descending)
        return np.asarray(full[selected[full]])


def _index_array(order: np.ndarray) -> np.ndarray:
    """Row numbers in 4 bytes each when they fit (they do below 2**31 rows)."""
    return order.astype(np.int32) if len(order) < 2**31 else order


def column_order(
    keys: Sequence[Any],
    text: bool,
    cancelled: Cancelled,
    fallback: Callable[[], Sequence[Any]],
) -> ColumnOrder:
    """The order of a column from its sort ``keys`` (None is null).

    Args:
        keys: one sort key per row: folded text when ``text``, else numbers, dates, ...
        text: the keys are strings (and None).
        cancelled: checked between slices.
        fallback: display-text keys, for values that do not compare with each other.
    """
    nulls = chunked_bools(keys, lambda part: [k is None for k in part], cancelled)
    present = np.flatnonzero(~nulls)
    try:
        projected = (
            _text_projection(keys, present, cancelled)
            if text
            else _value_projection(keys, present, cancelled)
        )
        if projected is None:
            projected = _python_ranks(keys, present, cancelled)
    except TypeError:  # e.g. aware and naive datetimes: order by what the user reads
        return column_order(fallback(), True, cancelled, fallback)
    _check(cancelled)
    within = np.argsort(projected, kind="stable")
    ordered = projected[within]
    ranks = np.full(len(keys), NULL_RANK, dtype=np.int32)
    if len(ordered):
        steps = np.empty(len(ordered), dtype=np.int32)
        steps[0] = 0
        np.not_equal(ordered[1:], ordered[:-1], out=steps[1:], casting="unsafe")
        ranks[present[within]] = np.cumsum(steps, dtype=np.int32)
    ascending = np.concatenate((present[within], np.flatnonzero(nulls)))
    return ColumnOrder(ranks, _index_array(ascending))


def _text_projection(keys: Sequence[Any], present: np.ndarray, cancelled: Cancelled) -> np.ndarray:
    width = 0
    for start in range(0, len(keys), CHUNK):
        _check(cancelled)
        width = max(width, max(map(_length, keys[start : start + CHUNK]), default=0))
    dtype: Any = f"U{max(width, 1)}" if width <= FIXED_WIDTH_LIMIT else StringDType()
    out = np.empty(len(present), dtype=dtype)
    rows = present.tolist() if len(present) < len(keys) else None
    for start in range(0, len(present), CHUNK):
        _check(cancelled)
        if rows is None:
            _store(out, start, list(keys[start : start + CHUNK]))
        else:
            _store(out, start, [keys[r] for r in rows[start : start + CHUNK]])
    return out


def _length(key: str | None) -> int:
    return 0 if key is None else len(key)


def _present_keys(keys: Sequence[Any], present: np.ndarray, cancelled: Cancelled) -> list[Any]:
    if len(present) == len(keys):
        return keys if isinstance(keys, list) else list(keys)
    rows = present.tolist()
    return chunked_list(rows, lambda part: [keys[r] for r in part], cancelled)


def _value_projection(
    keys: Sequence[Any], present: np.ndarray, cancelled: Cancelled
) -> np.ndarray | None:
    """An exact numeric image of the keys (same order, same ties), or None when the types
    have none (they are ranked in Python then)."""
    values = _present_keys(keys, present, cancelled)
    types: set[type] = set()
    for start in range(0, len(values), CHUNK):
        _check(cancelled)
        types.update(map(type, values[start : start + CHUNK]))
    if not types:
        return np.empty(0, dtype=np.int64)
    if types <= {int, bool}:
        if _fits(values, _INT64, cancelled):
            return _numbers(values, np.int64, int, cancelled)
        return None
    if types <= {int, bool, float}:
        bounds = (-_FLOAT_EXACT, _FLOAT_EXACT)
        if _fits([v for v in values if not isinstance(v, float)], bounds, cancelled):
            return _numbers(values, np.float64, float, cancelled)
        return None
    if types <= {int, bool, Decimal}:
        return _decimal_projection(values, cancelled)
    if types == {dt.date}:
        return _numbers(values, np.int64, dt.date.toordinal, cancelled)
    if types == {dt.datetime}:
        return _datetime_projection(values, cancelled)
    return None


def _fits(values: Sequence[Any], bounds: tuple[int, int], cancelled: Cancelled) -> bool:
    low, high = bounds
    for start in range(0, len(values), CHUNK):
        _check(cancelled)
        part = values[start : start + CHUNK]
        if part and (min(part) < low or max(part) > high):
            return False
    return True


def _numbers(
    values: Sequence[Any], dtype: Any, convert: Callable[[Any], Any], cancelled: Cancelled
) -> np.ndarray:
    out = np.empty(len(values), dtype=dtype)
    for start in range(0, len(values), CHUNK):
        _check(cancelled)
        out[start : start + CHUNK] = list(map(convert, values[start : start + CHUNK]))
    return out


def _decimal_projection(values: Sequence[Any], cancelled: Cancelled) -> np.ndarray | None:
    """Decimals (and integers) with at most 9 places, scaled to exact int64s."""

    def scaled(value: Any) -> int:
        number = Decimal(value)
        if not number.is_finite() or number.as_tuple().exponent < -_DECIMAL_PLACES:  # type: ignore[operator]
            raise OverflowError
        return int(number.scaleb(_DECIMAL_PLACES))

    try:
        projected = chunked_list(values, lambda part: list(map(scaled, part)), cancelled)
    except OverflowError:
        return None
    if not _fits(projected, _INT64, cancelled):
        return None
    return _numbers(projected, np.int64, int, cancelled)


def _datetime_projection(values: Sequence[Any], cancelled: Cancelled) -> np.ndarray:
    """Microseconds since 1970 (UTC for aware values); TypeError when naive and aware mix
    (they do not compare: the caller orders them by their display text)."""
    aware = {v.tzinfo is not None and v.utcoffset() is not None for v in values[:1]}
    epoch = _EPOCH_UTC if aware == {True} else _EPOCH

    def micros(value: dt.datetime) -> int:
        return (value - epoch) // _MICROSECOND

    return _numbers(values, np.int64, micros, cancelled)  # TypeError when they mix


def _python_ranks(keys: Sequence[Any], present: np.ndarray, cancelled: Cancelled) -> np.ndarray:
    """Ranks of keys that numpy cannot hold, from their distinct values sorted in Python
    (rare types: times, custom values); TypeError when they do not compare."""
    values = _present_keys(keys, present, cancelled)
    distinct: set[Any] = set()
    for start in range(0, len(values), CHUNK):
        _check(cancelled)
        distinct.update(values[start : start + CHUNK])
    rank = {value: number for number, value in enumerate(sorted(distinct))}
    return _numbers(values, np.int64, rank.__getitem__, cancelled)
