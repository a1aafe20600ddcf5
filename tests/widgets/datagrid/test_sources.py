"""The in-memory source against a plain-Python reference, on random data (hypothesis)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.widgets.datagrid.reference import reference_view
from widgets.datagrid.sources import InMemorySource, fold_text
from widgets.datagrid.state import (
    ChoiceFilter,
    Column,
    GridQuery,
    RangeFilter,
    SortKey,
    TextFilter,
)

COLUMNS = [
    Column("name", "Name"),
    Column("species", "Species"),
    Column("age", "Age", kind="number"),
    Column("dob", "Born"),
    Column("fee", "Fee", kind="money"),
]

# Few distinct values, so ties, case variants and nulls are common.
names = st.one_of(
    st.none(),
    st.sampled_from(["bella", "Bella", "BELLA", "Émile", "emile", "Zoë", "zoe", "Ångström", "max"]),
    st.text(alphabet="aAbBéÉß ", max_size=4),
)
species = st.one_of(st.none(), st.sampled_from(["Cat", "cat", "Dog", "Parrot"]))
ages = st.one_of(st.none(), st.integers(-3, 3))
dobs = st.one_of(st.none(), st.dates(dt.date(2020, 1, 1), dt.date(2020, 1, 5)))
fees = st.one_of(st.none(), st.decimals("0", "3", places=1, allow_nan=False))
rows_strategy = st.lists(st.tuples(names, species, ages, dobs, fees), max_size=40)

sort_strategy = st.lists(
    st.builds(SortKey, st.sampled_from([c.key for c in COLUMNS]), st.booleans()),
    max_size=3,
    unique_by=lambda k: k.key,
).map(tuple)

filters_strategy = st.lists(
    st.one_of(
        st.tuples(st.just("name"), st.builds(TextFilter, st.sampled_from(["b", "E", "ö", "la"]))),
        st.tuples(
            st.just("species"),
            st.builds(ChoiceFilter, st.frozensets(st.sampled_from(["Cat", "cat", "Dog"]))),
        ),
        st.tuples(st.just("age"), st.builds(RangeFilter, st.just(-1), st.integers(-1, 3))),
        st.tuples(
            st.just("dob"),
            st.builds(RangeFilter, st.just(dt.date(2020, 1, 2)), st.none()),
        ),
    ),
    max_size=2,
    unique_by=lambda f: f[0],
).map(tuple)


@settings(max_examples=150, deadline=None)
@given(
    rows=rows_strategy,
    sort=sort_strategy,
    search=st.sampled_from(["", "bel", "EMI", "cat", "2020-01-0", "1.5", " "]),
    search_keys=st.sampled_from([(), ("name", "species"), ("dob",)]),
    filters=filters_strategy,
)
def test_run_matches_the_reference(
    rows: list[tuple[Any, ...]],
    sort: tuple[SortKey, ...],
    search: str,
    search_keys: tuple[str, ...],
    filters: Any,
) -> None:
    source = InMemorySource(COLUMNS, rows)
    query = GridQuery(sort=sort, search=search, search_keys=search_keys, filters=filters)
    result = source.run(query)
    expected = reference_view(COLUMNS, rows, query)
    assert list(result.order) == expected
    assert result.rows(0, result.count) == [rows[i] for i in expected]
    # a second run (warm caches, same filter) gives the same answer
    assert list(source.run(query).order) == expected


def test_dict_rows_ids_and_missing_keys() -> None:
    rows = [{"id": 7, "name": "Bella"}, {"id": 9, "name": "alfie", "species": "Dog"}]
    source = InMemorySource(COLUMNS, rows, id_key="id")
    result = source.run(GridQuery(sort=(SortKey("name"),)))
    assert result.ids(0, 2) == [9, 7]
    assert result.rows(0, 1) == [("alfie", "Dog", None, None, None)]


def test_nulls_sort_last_in_both_directions() -> None:
    rows = [(None,), ("b",), ("A",), (None,), ("c",)]
    source = InMemorySource([Column("name", "Name")], rows)
    up = source.run(GridQuery(sort=(SortKey("name"),)))
    down = source.run(GridQuery(sort=(SortKey("name", descending=True),)))
    assert [r[0] for r in up.rows(0, 5)] == ["A", "b", "c", None, None]
    assert [r[0] for r in down.rows(0, 5)] == ["c", "b", "A", None, None]


def test_mixed_types_sort_by_display_text() -> None:
    rows = [(10,), ("9",), (dt.date(2020, 1, 1),), (Decimal("1.5"),)]
    source = InMemorySource([Column("x", "X")], rows)
    result = source.run(GridQuery(sort=(SortKey("x"),)))
    assert [r[0] for r in result.rows(0, 4)] == [Decimal("1.5"), 10, dt.date(2020, 1, 1), "9"]


def test_fold_text_ignores_case_and_accents() -> None:
    assert fold_text("Émile") == fold_text("emile") == "emile"
    assert fold_text("Straße") == "strasse"


@pytest.mark.parametrize(
    ("rows", "kwargs", "message"),
    [
        ([("a", "b")], {}, r"rows\[0\]: has 2 values, the grid has 5 columns"),
        ([{"name": "a"}], {"id_key": "id"}, "id_key: a row has no 'id' key"),
    ],
)
def test_bad_rows_are_refused_with_a_clear_message(
    rows: list[Any], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        InMemorySource(COLUMNS, rows, **kwargs)


def test_unknown_sort_key_is_refused() -> None:
    source = InMemorySource(COLUMNS, [])
    with pytest.raises(ValueError, match="unknown column key 'nope'"):
        source.run(GridQuery(sort=(SortKey("nope"),)))


def test_duplicate_column_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="key 'a' appears twice"):
        InMemorySource([Column("a", "A"), Column("a", "B")], [])


def test_distinct_values_are_sorted_and_limited() -> None:
    source = InMemorySource(COLUMNS, [("x", s, None, None, None) for s in "dcbadc"])
    assert source.distinct_values("species", 3) == ["a", "b", "c"]


# ---- numbers sort by their declared kind; NaN is empty (issue 17) -----------------------------

NAN = float("nan")


def sorted_values(column: Column, values: list[Any], descending: bool = False) -> list[Any]:
    source = InMemorySource([column], [(v,) for v in values])
    result = source.run(GridQuery(sort=(SortKey(column.key, descending),)))
    return [r[0] for r in result.rows(0, result.count)]


def same(a: list[Any], b: list[Any]) -> bool:
    """Equal lists where NaN equals NaN."""
    return len(a) == len(b) and all(x is y or x == y for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("kind", ["auto", "number"])
def test_nan_sorts_with_the_empty_values(kind: Any) -> None:
    column = Column("x", "X", kind=kind)
    values = [3.0, NAN, 1.0, None, 2.0, NAN, 0.5]
    assert same(sorted_values(column, values), [0.5, 1.0, 2.0, 3.0, NAN, None, NAN])
    assert same(sorted_values(column, values, True), [3.0, 2.0, 1.0, 0.5, NAN, None, NAN])
    decimals = [Decimal("2"), Decimal("NaN"), Decimal("-1"), None]
    up = sorted_values(column, decimals)
    assert up[:2] == [Decimal("-1"), Decimal("2")]
    assert up[2].is_nan()
    assert up[3] is None


@pytest.mark.parametrize("kind", ["number", "money"])
def test_declared_number_kind_wins_over_text_values(kind: Any) -> None:
    column = Column("x", "X", kind=kind)
    values = ["10", "9", "1,000.5", "-1.5", "abc", None, 7, Decimal("8.25"), "1e2"]
    assert sorted_values(column, values) == [
        "-1.5",
        7,
        Decimal("8.25"),
        "9",
        "10",
        "1e2",
        "1,000.5",
        "abc",
        None,
    ]
    assert sorted_values(column, values, True) == [
        "1,000.5",
        "1e2",
        "10",
        "9",
        Decimal("8.25"),
        7,
        "-1.5",
        "abc",
        None,
    ]


def test_range_filter_on_numbers_held_as_text() -> None:
    column = Column("x", "X", kind="number")
    source = InMemorySource([column], [("10",), ("9",), ("100",), (NAN,), (None,), ("x",)])
    result = source.run(GridQuery(filters=(("x", RangeFilter(9, 50)),)))
    assert [r[0] for r in result.rows(0, result.count)] == ["10", "9"]
