"""Value types of the data grid: columns, sort keys, filters, queries, saved views (Qt-free)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

ColumnKind = Literal["auto", "text", "number", "money", "date", "datetime", "bool"]
ColumnFilterMode = Literal["text", "choice", "range"]

#: Page sizes offered by the pager; ``None`` means continuous (virtual) scrolling.
PAGE_SIZES: tuple[int | None, ...] = (10, 20, 30, 40, 50, None)


@dataclass(frozen=True)
class Column:
    """One column of a grid.

    Args:
        key: The row key (dict rows) or the column identity (tuple rows, in column order).
        title: The header text.
        kind: How values sort, filter and display; ``auto`` looks at the values.
        width: Initial width in pixels, or None for the view's default.
        visible: Whether the column shows initially (the user may change it).
        sortable: Whether a header click sorts by this column.
        filterable: Whether the column has a per-column filter and joins the global search.
        filter_mode: The per-column filter editor: text contains, a choice list, or a range.
        choices: The values of a choice filter; None collects them from the data.
        formatter: Turns a non-null value into its display text; None uses the kind's default.
        timezone: Where aware datetimes are shown and range bounds typed (the clinic's zone,
            passed in by the app); None uses the workstation's zone.
    """

    key: str
    title: str
    kind: ColumnKind = "auto"
    width: int | None = None
    visible: bool = True
    sortable: bool = True
    filterable: bool = True
    filter_mode: ColumnFilterMode = "text"
    choices: tuple[Any, ...] | None = None
    formatter: Callable[[Any], str] | None = field(default=None, compare=False)
    timezone: dt.tzinfo | None = None

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("Column.key: must be a non-empty string")
        if self.width is not None and self.width <= 0:
            raise ValueError(f"Column.width of {self.key!r}: must be a positive number of pixels")

    def display(self, value: Any) -> str:
        """The text a cell shows for ``value`` (empty for None)."""
        if value is None:
            return ""
        if self.formatter is not None:
            return self.formatter(value)
        if self.timezone is not None and isinstance(value, dt.datetime) and value.tzinfo:
            value = value.astimezone(self.timezone)
        return default_display(value, self.kind)


def default_display(value: Any, kind: ColumnKind = "auto") -> str:
    """The default display text of ``value`` for a column of ``kind``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if kind == "money" or (kind == "auto" and isinstance(value, Decimal)):
        return f"{value:,.2f}"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass(frozen=True)
class SortKey:
    """Sort by ``key``, ascending unless ``descending``; nulls always come last."""

    key: str
    descending: bool = False


@dataclass(frozen=True)
class TextFilter:
    """Rows whose display text of the column contains ``text`` (case-insensitive)."""

    text: str


@dataclass(frozen=True)
class ChoiceFilter:
    """Rows whose value of the column is one of ``values``."""

    values: frozenset[Any]


@dataclass(frozen=True)
class RangeFilter:
    """Rows whose value lies in ``[low, high]`` (either end open when None); nulls never match."""

    low: Any = None
    high: Any = None

    def __post_init__(self) -> None:
        if self.low is not None and self.high is not None:
            try:
                bad = self.low > self.high
            except TypeError as exc:
                raise ValueError("RangeFilter: low and high must be comparable values") from exc
            if bad:
                raise ValueError("RangeFilter: low must not be greater than high")


ColumnFilter = TextFilter | ChoiceFilter | RangeFilter


@dataclass(frozen=True)
class GridQuery:
    """What a source must produce: filtered by ``search`` and ``filters``, ordered by ``sort``.

    ``search_keys`` are the columns the global search looks at (the visible ones).
    """

    sort: tuple[SortKey, ...] = ()
    search: str = ""
    search_keys: tuple[str, ...] = ()
    filters: tuple[tuple[str, ColumnFilter], ...] = ()

    def filter_for(self, key: str) -> ColumnFilter | None:
        """The filter set on column ``key``, if any."""
        for k, f in self.filters:
            if k == key:
                return f
        return None

    def with_filter(self, key: str, flt: ColumnFilter | None) -> GridQuery:
        """A copy with column ``key`` filtered by ``flt`` (None removes it)."""
        rest = tuple((k, f) for k, f in self.filters if k != key)
        return replace(self, filters=rest if flt is None else (*rest, (key, flt)))

    @property
    def is_filtered(self) -> bool:
        """True when the search or any column filter may hide rows."""
        return bool(self.search.strip()) or bool(self.filters)


@dataclass(frozen=True)
class SavedView:
    """A named preset of columns, sort, search and filters (e.g. "Today's arrivals").

    ``columns`` lists the visible columns in display order; None leaves the columns alone.
    """

    name: str
    columns: tuple[str, ...] | None = None
    sort: tuple[SortKey, ...] = ()
    search: str = ""
    filters: tuple[tuple[str, ColumnFilter], ...] = ()

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("SavedView.name: must not be blank")


def filter_to_json(flt: ColumnFilter) -> dict[str, Any]:
    """A JSON-safe form of ``flt`` (dates as ISO strings with a type tag)."""
    if isinstance(flt, TextFilter):
        return {"type": "text", "text": flt.text}
    if isinstance(flt, ChoiceFilter):
        return {"type": "choice", "values": [_to_json(v) for v in flt.values]}
    return {"type": "range", "low": _to_json(flt.low), "high": _to_json(flt.high)}


def filter_from_json(data: Mapping[str, Any]) -> ColumnFilter:
    """The filter stored by :func:`filter_to_json`; ValueError on anything else."""
    kind = data.get("type")
    if kind == "text":
        return TextFilter(str(data["text"]))
    if kind == "choice":
        return ChoiceFilter(frozenset(_from_json(v) for v in data["values"]))
    if kind == "range":
        return RangeFilter(_from_json(data.get("low")), _from_json(data.get("high")))
    raise ValueError(f"filter type: unknown {kind!r}")


def _to_json(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    return value


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if "datetime" in value:
            return dt.datetime.fromisoformat(value["datetime"])
        if "date" in value:
            return dt.date.fromisoformat(value["date"])
        if "decimal" in value:
            return Decimal(value["decimal"])
        raise ValueError(f"filter value: unknown form {value!r}")
    return value


def view_to_json(view: SavedView) -> dict[str, Any]:
    """A JSON-safe form of ``view``."""
    return {
        "name": view.name,
        "columns": list(view.columns) if view.columns is not None else None,
        "sort": [[k.key, k.descending] for k in view.sort],
        "search": view.search,
        "filters": [[k, filter_to_json(f)] for k, f in view.filters],
    }


def view_from_json(data: Any) -> SavedView:
    """The view stored by :func:`view_to_json`; ValueError naming the part that is malformed."""
    if not isinstance(data, Mapping):
        raise ValueError(f"view: {data!r} is not an object")
    name = data.get("name")
    if not isinstance(name, str):
        raise ValueError("view name: must be text")
    columns = data.get("columns")
    if columns is not None and not _is_list_of(columns, str):
        raise ValueError(f"view {name!r} columns: must be a list of column keys")
    sort = data.get("sort", [])
    if not isinstance(sort, list) or not all(
        isinstance(k, list) and len(k) == 2 and isinstance(k[0], str) and isinstance(k[1], bool)
        for k in sort
    ):
        raise ValueError(f"view {name!r} sort: must be a list of [column key, descending]")
    search = data.get("search", "")
    if not isinstance(search, str):
        raise ValueError(f"view {name!r} search: must be text")
    filters = data.get("filters", [])
    if not isinstance(filters, list) or not all(
        isinstance(f, list) and len(f) == 2 and isinstance(f[0], str) and isinstance(f[1], Mapping)
        for f in filters
    ):
        raise ValueError(f"view {name!r} filters: must be a list of [column key, filter]")
    try:
        parsed = tuple((k, filter_from_json(f)) for k, f in filters)
    except (KeyError, TypeError) as exc:  # e.g. an unhashable choice value
        raise ValueError(f"view {name!r} filters: {exc!r}") from None
    return SavedView(
        name=name,
        columns=tuple(columns) if columns is not None else None,
        sort=tuple(SortKey(k, d) for k, d in sort),
        search=search,
        filters=parsed,
    )


def _is_list_of(value: Any, kind: type) -> bool:
    return isinstance(value, list) and all(isinstance(v, kind) for v in value)


def check_columns(columns: Sequence[Column]) -> None:
    """Raise ValueError naming the problem when ``columns`` is empty or has duplicate keys."""
    if not columns:
        raise ValueError("columns: a grid needs at least one column")
    seen: set[str] = set()
    for col in columns:
        if col.key in seen:
            raise ValueError(f"columns: key {col.key!r} appears twice; keys must be unique")
        seen.add(col.key)


@dataclass(frozen=True)
class GridRow:
    """A row of a grid as handed to the app: its id and its values by column key."""

    id: Any
    values: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.values[key]
