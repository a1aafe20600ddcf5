"""The SQL grid source on SQLite and PostgreSQL: same rows, same order as the in-memory source."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Date, Engine, Float, Integer, Numeric, String, func, insert, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from purplecross_desktop.database import make_engine, make_session_factory
from purplecross_desktop.database.base import UTCDateTime
from purplecross_desktop.ui.grid_sql_source import SqlSource
from tests.support.postgres import create_database, drop_database, require_postgres
from tests.widgets.datagrid.conftest import wait_idle
from widgets.datagrid import (
    ChoiceFilter,
    Column,
    DataGrid,
    GridQuery,
    InMemorySource,
    RangeFilter,
    SortKey,
    TextFilter,
)

pytestmark = pytest.mark.qt_log_ignore(
    "propagateSizeHints", "does not support raise", "does not support grabbing"
)


class Base(DeclarativeBase):
    pass


class Pet(Base):
    __tablename__ = "grid_test_pets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), index=True)
    species: Mapped[str | None] = mapped_column(String(20))
    dob: Mapped[dt.date | None] = mapped_column(Date)
    fee: Mapped[Decimal] = mapped_column(Numeric(10, 2))


COLUMNS = [
    Column("name", "Name"),
    Column("species", "Species", filter_mode="choice"),
    Column("dob", "Born", filter_mode="range"),
    Column("fee", "Fee", kind="money", filter_mode="range"),
]
NAMES = ["bella", "Bella", "max", "Luna", "charlie", "Milo", "coco", "Rocky", "daisy", "Oscar"]


def pet_rows(count: int, seed: int = 3) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {
            "id": i + 1,
            "name": rng.choice(NAMES) + ("" if i % 3 else f" {i % 7}"),
            "species": None if i % 13 == 0 else rng.choice(["cat", "dog", "rabbit"]),
            "dob": None
            if i % 17 == 0
            else dt.date(2015, 1, 1) + dt.timedelta(days=rng.randint(0, 2000)),
            "fee": Decimal(rng.randint(100, 9999)) / 100,
        }
        for i in range(count)
    ]


def make_source(engine: Engine, rows: list[dict[str, Any]]) -> SqlSource:
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        for start in range(0, len(rows), 20000):
            conn.execute(insert(Pet), rows[start : start + 20000])
    return SqlSource(
        select(Pet),
        make_session_factory(engine),
        {"name": Pet.name, "species": Pet.species, "dob": Pet.dob, "fee": Pet.fee},
        id_column=Pet.id,
        # Case-insensitive order, like the in-memory grid (an index on lower(name) keeps it fast).
        sort_columns={"name": func.lower(Pet.name)},
    )


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def small(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SqlSource, list[dict[str, Any]]]]:
    """300 pets in one database per backend for the whole module (the tests only read)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('grid') / 'pets.db'}"
    else:
        require_postgres()
        url = create_database()
    rows = pet_rows(300)
    engine = make_engine(url)
    yield make_source(engine, rows), rows
    engine.dispose()
    if request.param == "postgresql":
        drop_database(url)


QUERIES = [
    GridQuery(),
    GridQuery(sort=(SortKey("name"),)),
    GridQuery(sort=(SortKey("species", True), SortKey("fee"))),
    GridQuery(sort=(SortKey("dob"),), search="bel", search_keys=("name", "species")),
    GridQuery(
        sort=(SortKey("dob", True),), filters=(("species", ChoiceFilter(frozenset({"cat"}))),)
    ),
    GridQuery(
        sort=(SortKey("fee", True),),
        filters=(
            ("fee", RangeFilter(Decimal("10"), Decimal("50"))),
            ("name", TextFilter("O")),
        ),
    ),
    GridQuery(filters=(("dob", RangeFilter(dt.date(2016, 1, 1), None)),)),
    GridQuery(search="100%_", search_keys=("name",)),  # LIKE wildcards are escaped
]


@pytest.mark.parametrize("query", QUERIES)
def test_sql_source_matches_the_in_memory_source(small: Any, query: GridQuery) -> None:
    source, rows = small
    expected = InMemorySource(COLUMNS, rows, id_key="id").run(query)
    result = source.run(query)
    assert result.count == expected.count
    assert result.ids(0, result.count) == expected.ids(0, expected.count)
    # pages from the start and from the end (reverse walk) agree too
    for start in (0, 20, max(result.count - 20, 0)):
        assert result.rows(start, start + 20) == expected.rows(start, start + 20)


@pytest.mark.parametrize("query", QUERIES[:6])
def test_page_by_page_forward_and_back_uses_keyset_seeks_correctly(
    small: Any, query: GridQuery
) -> None:
    source, rows = small
    expected = InMemorySource(COLUMNS, rows, id_key="id").run(query)
    result = source.run(query)
    size = 7  # small pages: many seeks across ties and nulls
    starts = list(range(0, result.count, size))
    for start in [*starts, *reversed(starts)]:
        assert result.ids(start, start + size) == expected.ids(start, start + size)
    assert result._after, "forward flips should have recorded keyset anchors"
    backwards = source.run(query)  # from the last page back: seeks from each page's first row
    for start in reversed(starts):
        assert backwards.ids(start, start + size) == expected.ids(start, start + size)
    jumping = source.run(query)  # jumps: a seek from the nearest row seen plus an OFFSET
    for start in random.Random(5).sample(starts, len(starts)):
        assert jumping.rows(start, start + size) == expected.rows(start, start + size)


def test_distinct_values_for_choice_filters(small: Any) -> None:
    source, _rows = small
    assert source.distinct_values("species", 10) == ["cat", "dog", "rabbit"]


def test_unknown_keys_are_refused(small: Any) -> None:
    source, _rows = small
    with pytest.raises(ValueError, match="unknown column key 'nope'"):
        source.run(GridQuery(sort=(SortKey("nope"),)))
    with pytest.raises(ValueError, match="'x' is not a column key"):
        SqlSource(select(Pet), lambda: None, {"name": Pet.name}, Pet.id, searchable=["x"])  # type: ignore[arg-type,return-value]


@pytest.mark.gui
def test_grid_on_the_sql_source_pages_sorts_and_passes_the_model_tester(
    small: Any, qtbot: Any, qtmodeltester: Any
) -> None:
    source, rows = small
    grid = DataGrid(COLUMNS, source=source, page_size=20, selection="multi")
    qtbot.addWidget(grid)
    wait_idle(qtbot, grid)
    qtmodeltester.check(grid.model())
    assert grid.row_count() == 300
    grid.sort_by("fee", descending=True)
    wait_idle(qtbot, grid)
    grid.set_page(15)
    wait_idle(qtbot, grid)
    fees = sorted((r["fee"] for r in rows), reverse=True)
    model = grid.model()
    assert [model.row_values(r)[3] for r in range(20)] == fees[280:300]
    grid.set_filter("bella")
    wait_idle(qtbot, grid)
    assert grid.row_count() == sum(1 for r in rows if "bella" in r["name"].lower())
    grid.set_page_size(None)  # continuous: blocks are fetched off the UI thread as needed
    wait_idle(qtbot, grid)
    assert model.rowCount() == grid.row_count()
    qtbot.waitUntil(lambda: model.row_values(model.rowCount() - 1) is not None)
    grid.select_all_matching()
    qtbot.waitUntil(grid.is_all_matching_selected)
    assert len(grid.selected_ids()) == grid.row_count()
    grid.shutdown()


@pytest.mark.slow
def test_one_hundred_thousand_rows(database_url: str) -> None:
    rows = pet_rows(100_000, seed=11)
    engine = make_engine(database_url)
    source = make_source(engine, rows)
    memory = InMemorySource(COLUMNS, rows, id_key="id")
    query = GridQuery(
        sort=(SortKey("fee", True), SortKey("name")), search="o", search_keys=("name",)
    )
    result, expected = source.run(query), memory.run(query)
    assert result.count == expected.count
    for start in (0, 40_000, result.count - 50):
        assert result.ids(start, start + 50) == expected.ids(start, start + 50)
        assert result.rows(start, start + 50) == expected.rows(start, start + 50)
    engine.dispose()


@pytest.mark.gui
def test_select_all_matching_on_sql_is_exactly_what_the_bar_says(small: Any, qtbot: Any) -> None:
    source, rows = small
    grid = DataGrid(COLUMNS, source=source, page_size=20, selection="multi", bulk_actions=["Go"])
    qtbot.addWidget(grid)
    grid.set_filter("bella")
    wait_idle(qtbot, grid)
    grid.select_all_matching()
    qtbot.waitUntil(grid.is_all_matching_selected)
    bella = sorted(r["id"] for r in rows if "bella" in r["name"].lower())
    assert sorted(grid.selected_ids()) == bella
    with qtbot.waitSignal(grid.sig_bulk_action) as action:
        grid.bulk_bar().action_button("Go").click()
    assert sorted(action.args[1]) == bella
    assert grid.bulk_bar().text() == f"All {len(bella)} matching rows selected"
    grid.select_all_matching()  # ids still on their way when the filter changes
    grid.set_filter("max")
    wait_idle(qtbot, grid)
    qtbot.wait(50)
    assert not grid.is_all_matching_selected()
    assert grid.selected_ids() == []
    grid.select_all_matching()
    qtbot.waitUntil(grid.is_all_matching_selected)
    grid.refresh()  # the rows may have changed underneath: "all matching" no longer holds
    wait_idle(qtbot, grid)
    assert not grid.is_all_matching_selected()
    assert grid.selected_ids() == []
    grid.shutdown()


@pytest.mark.gui
def test_continuous_mode_on_sql_keeps_the_first_visible_row(small: Any, qtbot: Any) -> None:
    source, _rows = small
    grid = DataGrid(COLUMNS, source=source, page_size=20)
    qtbot.addWidget(grid)
    grid.resize(800, 400)
    grid.show()
    wait_idle(qtbot, grid)
    grid.set_page(5)  # rows 80..99
    wait_idle(qtbot, grid)
    grid.set_page_size(None)
    wait_idle(qtbot, grid)
    qtbot.waitUntil(lambda: grid.first_visible_row() == 80)
    table = grid.table_view()
    table.scrollTo(grid.model().index(157, 0), table.ScrollHint.PositionAtTop)
    grid.set_page_size(50)
    wait_idle(qtbot, grid)
    assert grid.page() == 4  # rows 150..199
    qtbot.waitUntil(lambda: grid.first_visible_row() == 157)
    grid.shutdown()


class Reading(Base):
    __tablename__ = "grid_test_readings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))


def test_nan_sorts_with_the_empty_values_like_in_memory(database_url: str) -> None:
    nan = float("nan")
    values = [3.0, nan, 1.0, None, 2.0, nan, 0.5]
    amounts = [Decimal("2"), Decimal("NaN"), Decimal("-1"), None, Decimal("5"), None, Decimal("1")]
    rows = [
        {"id": i + 1, "value": v, "amount": a}
        for i, (v, a) in enumerate(zip(values, amounts, strict=True))
    ]
    engine = make_engine(database_url)
    Reading.metadata.create_all(engine, tables=[Reading.__table__])  # type: ignore[list-item]
    with engine.begin() as conn:
        conn.execute(insert(Reading), rows)
    source = SqlSource(
        select(Reading),
        make_session_factory(engine),
        {"value": Reading.value, "amount": Reading.amount},
        id_column=Reading.id,
    )
    columns = [Column("value", "Value", kind="number"), Column("amount", "Amount", kind="money")]
    memory = InMemorySource(columns, rows, id_key="id")
    for sort in ((SortKey("value"),), (SortKey("value", True),), (SortKey("amount", True),)):
        query = GridQuery(sort=sort)
        result, expected = source.run(query), memory.run(query)
        assert result.ids(0, result.count) == expected.ids(0, expected.count), sort
        for size in (2, 3):  # keyset seeks across NaN and NULL
            paged = source.run(query)
            got = [i for s in range(0, 7, size) for i in paged.ids(s, s + size)]
            assert got == expected.ids(0, 7), (sort, size)
    engine.dispose()


class Visit(Base):
    __tablename__ = "grid_test_visits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    who: Mapped[str] = mapped_column(String(40))
    starts: Mapped[dt.datetime] = mapped_column(UTCDateTime)


@pytest.mark.gui
def test_datetime_range_in_the_clinic_zone_on_an_empty_page(database_url: str, qtbot: Any) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    utc = dt.UTC
    starts = [
        dt.datetime(2024, 1, 29, 22, 59, tzinfo=utc),  # 23:59 on the 29th in Berlin: out
        dt.datetime(2024, 1, 29, 23, 0, tzinfo=utc),  # 00:00 on the 30th: in
        dt.datetime(2024, 1, 31, 22, 59, 59, tzinfo=utc),  # 23:59:59 on the 31st: in
        dt.datetime(2024, 1, 31, 23, 0, tzinfo=utc),  # 00:00 on 1 February: out
    ]
    engine = make_engine(database_url)
    Base.metadata.create_all(engine, tables=[Visit.__table__])  # type: ignore[list-item]
    with engine.begin() as conn:
        conn.execute(
            insert(Visit), [{"id": i + 1, "who": "x", "starts": s} for i, s in enumerate(starts)]
        )
    source = SqlSource(
        select(Visit),
        make_session_factory(engine),
        {"who": Visit.who, "starts": Visit.starts},
        id_column=Visit.id,
    )
    columns = [
        Column("who", "Who"),
        Column("starts", "Starts", kind="datetime", filter_mode="range"),
    ]
    grid = DataGrid(columns, source=source, timezone=berlin)
    qtbot.addWidget(grid)
    wait_idle(qtbot, grid)
    assert grid.model().data(grid.model().index(1, 1)) == "2024-01-30 00:00"
    grid.set_filter("nobody")  # an empty page: the editor has no value to learn a zone from
    wait_idle(qtbot, grid)
    editor = grid.open_column_filter("starts")
    editor.set_range("2024-01-30", "2024-01-31")
    editor.apply()
    wait_idle(qtbot, grid)
    assert grid.error() is None
    grid.set_filter("")
    wait_idle(qtbot, grid)
    assert grid.current_result().ids(0, 10) == [2, 3]
    again = grid.open_column_filter("starts")  # shown as typed; Apply unchanged keeps it
    before = grid.column_filter("starts")
    again.apply()
    wait_idle(qtbot, grid)
    assert grid.column_filter("starts") == before
    grid.shutdown()
    engine.dispose()


def test_sqlite_search_is_a_bare_like_and_a_sparse_page_scans_instead_of_walking_an_index(
    tmp_path: Any,
) -> None:
    """On SQLite the search is ``x LIKE '%text%'`` (ASCII case ignored, as ``lower()`` would:
    no lowered copy of every value), and a page of few matches is sorted from one table scan
    (``ORDER BY +key``) instead of a walk along the sort's index, which would visit the whole
    table at random; a page of many matches still walks the index."""
    from sqlalchemy import event

    engine = make_engine(f"sqlite:///{tmp_path / 'pets.db'}")
    rows = pet_rows(400, seed=4)
    source = make_source(engine, rows)
    statements: list[str] = []
    event.listen(
        engine, "before_cursor_execute", lambda *args: statements.append(args[2]), named=False
    )
    memory = InMemorySource(COLUMNS, rows, id_key="id")
    sparse = GridQuery(sort=(SortKey("fee", True),), search="LUNA 2", search_keys=("name",))
    dense = GridQuery(sort=(SortKey("fee", True),), search="o", search_keys=("name",))
    for query, scans in ((sparse, True), (dense, False)):
        statements.clear()
        result, expected = source.run(query), memory.run(query)
        assert 0 < result.count == expected.count
        assert result.rows(0, 20) == expected.rows(0, 20)
        assert result.ids(0, 20) == expected.ids(0, 20)
        text = " ".join(statements).lower()
        assert "lower(" not in text
        assert " like " in text
        assert ("(+ " in statements[-1]) is scans, statements[-1]
    engine.dispose()


@pytest.mark.gui
def test_a_live_page_whose_rows_moved_changes_in_place_and_the_cursor_follows_its_row(
    tmp_path: Any, qtbot: Any, qtmodeltester: Any
) -> None:
    """A refreshed page of as many rows is no reset (the view is not laid out again): the
    cursor stays on its row by id while the row is on the page, and leaves otherwise."""
    from sqlalchemy import delete

    engine = make_engine(f"sqlite:///{tmp_path / 'pets.db'}")
    source = make_source(engine, pet_rows(40, seed=5))
    grid = DataGrid(COLUMNS, source=source, page_size=10, id_key="id")
    qtbot.addWidget(grid)
    grid.sort_by("fee", descending=True)
    wait_idle(qtbot, grid)
    model, table = grid.model(), grid.table_view()
    table.setCurrentIndex(model.index(3, 0))
    chosen = model.row_id(3)
    assert grid.selected_ids() == [chosen]
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    with engine.begin() as conn:  # a new row on top: every row of the page moves down one
        conn.execute(insert(Pet), [{"id": 99, "name": "Top", "fee": Decimal("999.00")}])
    grid.refresh()
    wait_idle(qtbot, grid)
    assert model.row_id(0) == 99
    assert resets == []
    assert table.currentIndex().row() == 4
    assert model.row_id(4) == chosen
    assert grid.selected_ids() == [chosen]
    qtmodeltester.check(model)
    with engine.begin() as conn:  # the row leaves the page: so does the cursor
        conn.execute(delete(Pet).where(Pet.id == chosen))
    grid.refresh()
    wait_idle(qtbot, grid)
    assert chosen not in [model.row_id(r) for r in range(10)]
    assert resets == []
    assert not table.currentIndex().isValid()
    grid.shutdown()
    engine.dispose()
