"""A DataGrid source over a SQLAlchemy select: sort, filter and paging run in SQL, off-thread.

``SqlSource(select(Patient), session_factory, {"name": Patient.name, ...})`` gives a grid
whose header clicks become ``ORDER BY``, whose search becomes ``LIKE`` and whose pages
become ``LIMIT/OFFSET`` (or a keyset seek when flipping to the next page). The grid calls
``run`` and the result's ``rows``/``ids`` on its worker thread only.
"""

from __future__ import annotations

import functools
import threading
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Enum,
    Float,
    Numeric,
    Select,
    String,
    and_,
    cast,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from purplecross_desktop.database.ordering import can_be_null, ordered
from widgets.datagrid.sources import Cancelled, QueryCancelledError
from widgets.datagrid.state import (
    ChoiceFilter,
    ColumnFilter,
    GridQuery,
    RangeFilter,
    SortKey,
    TextFilter,
)
from widgets.text_order import fold_text

SessionFactory = Callable[[], Session]

#: A column expression, or a mapped attribute such as ``Patient.name``.
SqlExpr = ColumnElement[Any] | QueryableAttribute[Any]


def _as_expr(value: SqlExpr) -> ColumnElement[Any]:
    return value.expression if isinstance(value, QueryableAttribute) else value


class SqlSource:
    """A :class:`widgets.datagrid.GridSource` on a database.

    Args:
        select_stmt: The rows to show, e.g. ``select(Patient).where(Patient.active)``;
            joins and where clauses are kept, the selected columns are replaced.
        session_factory: Opens a session per query (``sessionmaker``).
        columns: Grid column key -> SQL expression, in the grid's column order.
        id_column: The expression of each row's id (unique; the final tiebreaker of every sort).
        sort_columns: Key -> expression to sort by instead (e.g. ``func.lower(name)`` backed
            by an index on it, for case-insensitive order).
        searchable: Keys the global search may look at (default: every column).
        extra_search: Turns the search text into one more condition the search may match
            (e.g. "any of the client's phone numbers contains these digits"), or None.
        search_also: Expressions the global search matches too without loading them
            (a job's args: searched in SQL, never fetched into the grid).
    """

    def __init__(
        self,
        select_stmt: Select[Any],
        session_factory: SessionFactory,
        columns: Mapping[str, SqlExpr],
        id_column: SqlExpr,
        sort_columns: Mapping[str, SqlExpr] | None = None,
        searchable: Sequence[str] | None = None,
        extra_search: Callable[[str], ColumnElement[bool] | None] | None = None,
        search_also: Sequence[SqlExpr] = (),
    ) -> None:
        if not columns:
            raise ValueError("columns: map at least one grid column key to a SQL expression")
        self._stmt = select_stmt
        self._factory = session_factory
        self._columns = {key: _as_expr(expr) for key, expr in columns.items()}
        self._id = _as_expr(id_column)
        self._sort = {key: _as_expr(expr) for key, expr in (sort_columns or {}).items()}
        self._searchable = set(searchable) if searchable is not None else set(self._columns)
        self._extra_search = extra_search
        self._search_also = [_as_expr(expr) for expr in search_also]
        self._dialect = ""  # learnt from the first query's connection
        for key in (*self._sort, *self._searchable):
            if key not in self._columns:
                raise ValueError(f"sort_columns/searchable: {key!r} is not a column key")

    @property
    def keys(self) -> tuple[str, ...]:
        """The column keys, in the order rows are returned."""
        return tuple(self._columns)

    def run(self, query: GridQuery, cancelled: Cancelled = lambda: False) -> SqlResult:
        for key in (*(s.key for s in query.sort), *(k for k, _ in query.filters)):
            if key not in self._columns:
                raise ValueError(f"query: unknown column key {key!r}")
        if not self._dialect:
            with self._factory() as probe:
                self._dialect = probe.get_bind().dialect.name
        conditions = self._conditions(query)
        filtered = self._stmt
        for condition in conditions:
            filtered = filtered.where(condition)
        counter = select(func.count()).select_from(
            filtered.with_only_columns(self._id).order_by(None).subquery()
        )
        with self.session() as session:
            count = int(session.execute(counter).scalar_one())
        if cancelled():
            raise QueryCancelledError
        return SqlResult(self, filtered, query.sort, count, searched=bool(query.search.strip()))

    def distinct_values(self, key: str, limit: int) -> list[Any]:
        expr = self._columns[key]
        stmt = (
            self._stmt.with_only_columns(expr)
            .where(expr.is_not(None))
            .distinct()
            .order_by(expr)
            .limit(limit)
        )
        with self.session() as session:
            return list(session.execute(stmt).scalars())

    def _conditions(self, query: GridQuery) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        needle = query.search.strip()
        if needle:
            keys = [k for k in (query.search_keys or self._columns) if k in self._searchable]
            plain = self._dialect == "sqlite"
            texts = [_contains(self._columns[k], needle, plain) for k in keys]
            extra = self._extra_search(needle) if self._extra_search is not None else None
            if extra is not None:
                texts.append(extra)
            texts += [_contains(expr, needle, plain) for expr in self._search_also]
            conditions.append(or_(*texts) if texts else false())
        for key, flt in query.filters:
            conditions.append(_filter(self._columns[key], flt, self._dialect == "sqlite"))
        return conditions

    def sort_exprs(self, sort: Sequence[SortKey]) -> list[ColumnElement[Any]]:
        """The SQL expression each sort key orders by."""
        return [self._sort_expr(k.key) for k in sort]

    def _sort_expr(self, key: str) -> ColumnElement[Any]:
        mapped = self._sort.get(key)
        if mapped is not None:
            return mapped
        expr = self._columns[key]
        if isinstance(expr.type, String) and not isinstance(expr.type, Enum):
            return self._folded(expr)
        if self._dialect == "postgresql" and isinstance(expr.type, Float | Numeric):
            # PostgreSQL sorts NaN above every number; NaN is an empty value here, as in
            # memory (SQLite stores NaN as NULL already).
            return func.nullif(expr, literal("NaN", expr.type))
        return expr

    def order_by(
        self, sort: Sequence[SortKey], reverse: bool = False, scan: bool = False
    ) -> list[ColumnElement[Any]]:
        """The ORDER BY of ``sort`` (nulls last, id as the tiebreaker); ``reverse`` flips it.
        ``scan`` (SQLite): sort keys no index can serve (``+expr``), so that the database
        reads the table once and sorts what matched instead of walking an index in order."""
        clauses: list[ColumnElement[Any]] = []
        for key, expr in zip(sort, self.sort_exprs(sort), strict=True):
            if scan:
                expr = UnaryExpression(expr, operator=custom_op("+"), type_=expr.type)
            clauses.append(ordered(expr, key.descending != reverse, nulls_first=reverse))
        clauses.append(self._id.desc() if reverse else self._id.asc())
        return clauses

    def select_page(
        self, filtered: Select[Any], sort: Sequence[SortKey], reverse: bool, scan: bool = False
    ) -> Select[Any]:
        """``filtered`` selecting the grid's columns, the id and the sort values, in order
        (``scan``: see :meth:`order_by`)."""
        return filtered.with_only_columns(
            *self._columns.values(), self._id, *self.sort_exprs(sort)
        ).order_by(*self.order_by(sort, reverse, scan))

    @property
    def dialect(self) -> str:
        """The database's dialect name ("sqlite", "postgresql"), once a query ran."""
        return self._dialect

    def seek(
        self, sort: Sequence[SortKey], anchor: tuple[Any, ...], reverse: bool
    ) -> ColumnElement[bool]:
        """Rows after (or, with ``reverse``, before) the row whose sort values and id are
        ``anchor``: a keyset seek, so a page flip costs the same on page 2 and page 50,000."""
        exprs = [*self.sort_exprs(sort), self._id]
        ways = [k.descending for k in sort] + [False]
        *values, _ = anchor
        terms: list[ColumnElement[bool]] = []
        equal: list[ColumnElement[bool]] = []
        for expr, descending, value in zip(exprs, ways, [*values, anchor[-1]], strict=True):
            terms.append(and_(*equal, _beyond(expr, value, descending, reverse)))
            equal.append(expr.is_(None) if value is None else expr == value)
        seek = or_(*terms)
        # A redundant range on the leading key lets the database walk its index from the anchor.
        lead, lead_value, lead_desc = exprs[0], anchor[0], ways[0]
        if lead_value is not None and not can_be_null(lead):
            forward = lead_desc == reverse
            seek = and_(lead >= lead_value if forward else lead <= lead_value, seek)
        return seek

    def _folded(self, expr: ColumnElement[Any]) -> ColumnElement[Any]:
        """``expr``'s text in the grid's one order (``fold_text``), for a text column without
        a stored sort key: computed per row, so give big tables a ``name_key`` column."""
        if self._dialect == "sqlite":
            return func.purplecross_fold(expr)  # the same Python function, on each connection
        if self._dialect == "postgresql":
            # fold_text in SQL: NFKD, drop the combining marks, lower-case (plus the two
            # case folds lower() does not do), compared by code point.
            stripped = func.regexp_replace(
                func.normalize(expr, literal_column("NFKD")), _combining_class(), "", "g"
            )
            folded = func.replace(
                func.replace(func.lower(stripped), "\u00df", "ss"), "\u03c2", "\u03c3"
            )
            return folded.collate("C")
        return func.lower(expr)

    def session(self) -> Session:
        """A new session from the factory (on SQLite, with the ``purplecross_fold`` function
        the text order uses)."""
        session = self._factory()
        if self._dialect == "sqlite":
            raw = session.connection().connection.driver_connection
            if raw is not None:
                raw.create_function("purplecross_fold", 1, _fold_sql_value, deterministic=True)
        return session


def _fold_sql_value(value: Any) -> str | None:
    return None if value is None else fold_text(value if isinstance(value, str) else str(value))


@functools.cache
def _combining_class() -> str:
    """A regular-expression class of every character ``unicodedata.combining`` marks (what
    ``fold_text`` drops), as ranges: about 300 of them."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x110000):
        if unicodedata.combining(chr(code)):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "[" + "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in ranges) + "]"


def _beyond(
    expr: ColumnElement[Any], value: Any, descending: bool, reverse: bool
) -> ColumnElement[bool]:
    """``expr`` comes strictly after ``value`` in the (nulls-last) order, or before if reverse."""
    nullable = can_be_null(expr)
    if not reverse:
        if value is None:
            return false()  # nothing sorts after a null but other nulls (ties)
        past = expr < value if descending else expr > value
        return or_(past, expr.is_(None)) if nullable else past
    if value is None:
        return expr.is_not(None)
    before: ColumnElement[bool] = expr > value if descending else expr < value
    return before


def _contains(expr: ColumnElement[Any], text: str, plain_like: bool = False) -> ColumnElement[bool]:
    """``expr`` contains ``text``, ignoring case. ``plain_like`` (SQLite): a bare ``LIKE``,
    which ignores ASCII case there, exactly as ``lower()`` does (SQLite's ``lower`` folds
    ASCII only), without a lowered copy of every value: a search through 100k jobs'
    arguments scans about twice as fast."""
    as_text = expr if isinstance(expr.type, String) else cast(expr, String)
    if plain_like:
        return as_text.contains(text, autoescape=True)
    return as_text.icontains(text, autoescape=True)


def _filter(
    expr: ColumnElement[Any], flt: ColumnFilter, plain_like: bool = False
) -> ColumnElement[bool]:
    if isinstance(flt, TextFilter):
        text = flt.text.strip()
        return _contains(expr, text, plain_like) if text else and_(True)
    if isinstance(flt, ChoiceFilter):
        return expr.in_(list(flt.values)) if flt.values else false()
    assert isinstance(flt, RangeFilter)
    parts = [expr.is_not(None)]
    if flt.low is not None:
        parts.append(expr >= flt.low)
    if flt.high is not None:
        parts.append(expr <= flt.high)
    return and_(*parts)


def cast_int(value: int | None) -> int:
    """``value``, known not to be None here."""
    assert value is not None
    return value


#: A searched page is read by a table scan (not along the sort's index) when fewer than
#: this many times the rows it walks past match: see ``SqlResult._fetch``.
SPARSE_WALK = 5


class SqlResult:
    """The rows a SQL query selected: counted now, fetched a page at a time on demand.

    A page is read from the nearest row already seen (a keyset seek from that row, plus a
    small OFFSET when it is not adjacent) or from the nearer end of the result (the
    query runs in reverse order for the second half), so the next, previous, first and
    last pages cost about the same anywhere in a large table.
    """

    def __init__(
        self,
        source: SqlSource,
        filtered: Select[Any],
        sort: Sequence[SortKey],
        count: int,
        searched: bool = False,
    ) -> None:
        self._source = source
        self._searched = searched
        self._filtered = filtered
        self._sort = tuple(sort)
        self._count = count
        self._last: tuple[int, int, list[tuple[Any, ...]], list[Any]] | None = None
        self._width = len(source.keys)
        # Sort values + id of the row just before position p (_after) / at position p
        # (_before), learnt from pages already read: the keyset anchors of page flips.
        self._after: dict[int, tuple[Any, ...]] = {}
        self._before: dict[int, tuple[Any, ...]] = {}
        # The grid's worker (page flips) and an export's thread may read one result at the
        # same time; the anchor caches above are not safe to share without this.
        self._lock = threading.Lock()

    @property
    def count(self) -> int:
        return self._count

    @property
    def is_local(self) -> bool:
        return False

    def rows(self, start: int, stop: int) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._fetch(start, stop)[0]

    def ids(self, start: int, stop: int) -> list[Any]:
        if stop - start > 5000:  # "select all matching": ids only, in one query
            stmt = self._filtered.with_only_columns(self._source._id).order_by(
                *self._source.order_by(self._sort)
            )
            with self._source.session() as session:
                return list(session.execute(stmt.offset(start).limit(stop - start)).scalars())
        with self._lock:
            return self._fetch(start, stop)[1]

    def _fetch(self, start: int, stop: int) -> tuple[list[tuple[Any, ...]], list[Any]]:
        start, stop = max(0, start), min(stop, self._count)
        if stop <= start:
            return [], []
        last = self._last
        if last is not None and last[0] == start and last[1] == stop:
            return last[2], last[3]
        source, width = self._source, self._width
        # Walk as few rows as possible: from the nearest row already seen (a keyset seek,
        # then a small OFFSET), or from the nearer end of the result.
        ahead = max((p for p in self._after if p <= start), default=None)
        behind = min((p for p in self._before if p >= stop), default=None)
        costs = {"start": start, "end": self._count - stop}
        if ahead is not None:
            costs["ahead"] = start - ahead
        if behind is not None:
            costs["behind"] = behind - stop
        way = min(costs, key=lambda k: (costs[k], k not in ("ahead", "behind")))
        reverse = way in ("end", "behind")
        # A search no index serves: walking the sort's index in order to the page reads
        # about (rows to skip + page) x total / matches rows at random, reading the whole
        # table once and sorting the matches costs about five times fewer per row (SQLite;
        # 100k jobs, 14 matches: 230 ms -> 60 ms of CPU).
        scan = (
            self._searched
            and source.dialect == "sqlite"
            and (costs[way] + stop - start) * SPARSE_WALK > self._count
        )
        stmt = source.select_page(self._filtered, self._sort, reverse, scan)
        if way == "ahead":
            stmt = stmt.where(source.seek(self._sort, self._after[cast_int(ahead)], False))
        elif way == "behind":
            stmt = stmt.where(source.seek(self._sort, self._before[cast_int(behind)], True))
        if costs[way]:
            stmt = stmt.offset(costs[way])
        stmt = stmt.limit(stop - start)
        with source.session() as session:
            fetched = [tuple(r) for r in session.execute(stmt)]
        if reverse:
            fetched.reverse()
        rows = [r[:width] for r in fetched]
        ids = [r[width] for r in fetched]
        if fetched:
            if len(self._after) > 10_000:
                self._after.clear()
                self._before.clear()
            self._after[start + len(fetched)] = (*fetched[-1][width + 1 :], fetched[-1][width])
            self._before[start] = (*fetched[0][width + 1 :], fetched[0][width])
        self._last = (start, stop, rows, ids)
        return rows, ids
