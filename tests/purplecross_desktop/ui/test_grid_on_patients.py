"""The grid's SQL source on the real clinic schema: patients joined with their owners."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import insert, select

from purplecross_desktop.database import make_engine, make_session_factory
from purplecross_desktop.database.models import metadata
from purplecross_desktop.domain.clients import Client
from purplecross_desktop.domain.patients import Patient, Species
from purplecross_desktop.ui.grid_sql_source import SqlSource
from widgets.datagrid import ChoiceFilter, Column, GridQuery, RangeFilter, SortKey

COLUMNS = [
    Column("name", "Patient"),
    Column("species", "Species", filter_mode="choice"),
    Column("owner", "Owner"),
    Column("dob", "Born", filter_mode="range"),
]


@pytest.fixture
def source(database_url: str) -> Iterator[SqlSource]:
    engine = make_engine(database_url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(Client),
            [{"id": 1, "name": "Jane Cooper"}, {"id": 2, "name": "Wade Warren"}],
        )
        conn.execute(
            insert(Patient),
            [
                {"client_id": 1, "name": "Bella", "species": Species.DOG,
                 "date_of_birth": dt.date(2020, 3, 14)},
                {"client_id": 2, "name": "Luna", "species": Species.CAT, "date_of_birth": None},
                {"client_id": 1, "name": "Milo", "species": Species.CAT,
                 "date_of_birth": dt.date(2019, 5, 30)},
                {"client_id": 2, "name": "Coco", "species": Species.RABBIT,
                 "date_of_birth": dt.date(2022, 2, 11)},
            ],
        )  # fmt: skip
    yield SqlSource(
        select(Patient).join(Client, Patient.client_id == Client.id),
        make_session_factory(engine),
        {
            "name": Patient.name,
            "species": Patient.species,
            "owner": Client.name,
            "dob": Patient.date_of_birth,
        },
        id_column=Patient.id,
    )
    engine.dispose()


def names(source: SqlSource, query: GridQuery) -> list[Any]:
    result = source.run(query)
    return [row[0] for row in result.rows(0, result.count)]


def test_sort_search_and_filters_on_the_clinic_schema(source: SqlSource) -> None:
    assert names(source, GridQuery(sort=(SortKey("owner"), SortKey("name", True)))) == [
        "Milo",
        "Bella",
        "Luna",
        "Coco",
    ]
    # the search looks at the enum column's stored value and the joined owner
    assert names(source, GridQuery(search="cat", search_keys=("name", "species"))) == [
        "Luna",
        "Milo",
    ]
    assert names(source, GridQuery(search="wade", search_keys=("owner",))) == ["Luna", "Coco"]
    species = GridQuery(filters=(("species", ChoiceFilter(frozenset({Species.RABBIT}))),))
    assert names(source, species) == ["Coco"]
    born = GridQuery(
        sort=(SortKey("dob"),), filters=(("dob", RangeFilter(dt.date(2019, 1, 1), None)),)
    )
    assert names(source, born) == ["Milo", "Bella", "Coco"]
    assert names(source, GridQuery(sort=(SortKey("dob", True),))) == [
        "Coco",
        "Bella",
        "Milo",
        "Luna",  # nulls last, also descending
    ]
    assert source.distinct_values("species", 10) == [Species.CAT, Species.DOG, Species.RABBIT]
