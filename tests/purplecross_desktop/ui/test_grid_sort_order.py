"""One sort order: the same names sort the same way in memory, on SQLite and on PostgreSQL.

The order is ``widgets.text_order.fold_text`` (NFKD, accents dropped, case-folded, then
code points), stored as ``name_key`` beside the clinic's names and computed per row for
other text columns (issue 17).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Integer, String, insert, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from purplecross_desktop.database import make_engine, make_session_factory
from purplecross_desktop.database.base import ClientId
from purplecross_desktop.database.session import alembic_config, upgrade
from purplecross_desktop.database.text_order import sort_key_column
from purplecross_desktop.demo import generate_demo_data
from purplecross_desktop.domain.clients import Client, ClientData, ClientService
from purplecross_desktop.domain.events import EventBus
from purplecross_desktop.ui.grid_sql_source import SqlSource
from widgets.datagrid import Column, GridQuery, InMemorySource, SortKey
from widgets.text_order import fold_text

NAMES = [
    "Émile", "emile", "Emma", "éclair", "Zoë", "zoe", "Ångström", "angstrom", "Straße",
    "strasse", "O'Brien", "obrien", "Ørsted", "orsted", "Łukasz", "lukasz", "Çelik", "celik",
    "İpek", "ipek", "van Dyke", "Van dyke", "ǅemal", "MAX", "max", "Max", "1st", "_x", "a b",
    "ab", "Σίσυφος", "σίσυφοσ", "Ærø", "aero", "ﬁona", "fiona", "Nguyễn", "nguyen", "Zürich",
    "zurich", "Ébène", "ebene", "ß", "ss", "Żaneta", "zaneta",
]  # fmt: skip


class Base(DeclarativeBase):
    pass


class Person(Base):
    __tablename__ = "grid_test_people"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    name_key: Mapped[str] = sort_key_column("name")
    city: Mapped[str | None] = mapped_column(String(60))  # no stored key: folded per row


COLUMNS = [Column("name", "Name", kind="text"), Column("city", "City", kind="text")]


def rows() -> list[dict[str, Any]]:
    cities = list(reversed(NAMES))
    return [
        {"id": i + 1, "name": n, "city": None if i % 9 == 4 else cities[i]}
        for i, n in enumerate(NAMES)
    ]


@pytest.fixture
def people(database_url: str) -> Iterator[SqlSource]:
    engine = make_engine(database_url)
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(Person), rows())  # name_key from the column default
    yield SqlSource(
        select(Person),
        make_session_factory(engine),
        {"name": Person.name, "city": Person.city},
        id_column=Person.id,
        sort_columns={"name": Person.name_key},
    )
    engine.dispose()


@pytest.mark.parametrize(
    "sort",
    [
        (SortKey("name"),),
        (SortKey("name", True),),
        (SortKey("city"),),
        (SortKey("city", True),),
        (SortKey("city"), SortKey("name", True)),
    ],
)
def test_sql_sorts_exactly_like_memory(people: SqlSource, sort: tuple[SortKey, ...]) -> None:
    memory = InMemorySource(COLUMNS, rows(), id_key="id")
    query = GridQuery(sort=sort)
    expected = memory.run(query).ids(0, len(NAMES))
    assert people.run(query).ids(0, len(NAMES)) == expected
    paged = people.run(query)  # keyset seeks from page to page, forward and back
    forward = [i for s in range(0, len(NAMES), 5) for i in paged.ids(s, s + 5)]
    assert forward == expected
    back = people.run(query)
    pages = [back.ids(s, s + 5) for s in reversed(range(0, len(NAMES), 5))]
    assert [i for page in reversed(pages) for i in page] == expected


def test_the_order_is_fold_text_then_code_points(people: SqlSource) -> None:
    result = people.run(GridQuery(sort=(SortKey("name"),)))
    names = [r[0] for r in result.rows(0, len(NAMES))]
    assert [fold_text(n) for n in names] == sorted(fold_text(n) for n in NAMES)
    folded = [fold_text(n) for n in names]
    assert folded.index("emile") < folded.index("emma")  # "Émile" sorts with "emile"


def test_clinic_services_keep_the_key(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    clients = ClientService(factory, EventBus())
    ada = clients.create(ClientData(name="Ádá Lovelace"))
    with factory() as session:
        assert session.get(Client, ada.id).name_key == "ada lovelace"  # type: ignore[union-attr]
    clients.update(ClientId(ada.id), {"name": "Émile Zola"})
    with engine.begin() as conn:
        conn.execute(insert(Client), [{"name": "Straße"}])  # a Core insert: the default
        keys = dict(conn.execute(sa.select(Client.name, Client.name_key)).all())
    assert keys == {"Émile Zola": "emile zola", "Straße": "strasse"}
    engine.dispose()


@pytest.mark.slow
def test_demo_data_and_migrated_rows_have_keys(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    generate_demo_data(
        engine, clients=40, patients=50, appointments=60, now=dt.datetime(2031, 3, 5, tzinfo=dt.UTC)
    )
    with engine.connect() as conn:
        for table in ("clients", "patients", "staff"):
            pairs = conn.execute(sa.text(f"SELECT name, name_key FROM {table}")).all()
            assert pairs
            assert all(key == fold_text(name) for name, key in pairs), table
    engine.dispose()


def test_the_migration_fills_the_keys_of_existing_rows(database_url: str) -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(database_url))
    ours = next(r for r in script.walk_revisions() if r.path.endswith("_sort_keys.py"))
    upgrade(database_url, str(ours.down_revision))  # the schema before the keys
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO clients (name, preferred_contact, notes, active, created_at,"
                    " updated_at, country) VALUES (:n, 'email', '', true, :t, :t, '')"),
            [{"n": n, "t": dt.datetime(2030, 1, 1)} for n in ("Émile", "Straße", "ZOË")],
        )  # fmt: skip
    upgrade(database_url)
    with engine.connect() as conn:
        keys = dict(conn.execute(sa.text("SELECT name, name_key FROM clients")).all())
    assert keys == {"Émile": "emile", "Straße": "strasse", "ZOË": "zoe"}
    engine.dispose()
