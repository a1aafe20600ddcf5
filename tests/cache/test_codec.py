"""The codec stores data, never code, and gives back the types it promises."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections import namedtuple
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cache import codec


class Species(enum.Enum):
    DOG = "dog"


@dataclass
class Visit:
    at: dt.datetime
    fee: Decimal
    notes: list[str]


class RowLike:
    """Quacks like a SQLAlchemy ``Row``: a snapshot through ``_asdict()``."""

    def _asdict(self) -> dict[str, Any]:
        return {"id": 7, "name": "Rex", "born": dt.date(2019, 1, 2)}


class Record(Mapping[str, Any]):
    def __init__(self, **values: Any) -> None:
        self._values = values

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def round_trip(value: Any) -> Any:
    return codec.decode(codec.encode(value))


def test_plain_json_takes_the_fast_path() -> None:
    data = codec.encode({"a": [1, 2.5, "x", None, True]})
    assert data.startswith(codec.PLAIN)
    assert codec.decode(data) == {"a": [1, 2.5, "x", None, True]}


def test_dates_decimals_and_times_come_back_as_themselves() -> None:
    value = {
        "at": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        "naive": dt.datetime(2026, 1, 2, 3, 4, 5),
        "day": dt.date(2026, 1, 2),
        "time": dt.time(9, 30, 15),
        "amount": Decimal("-0.10"),
        "nested": [{"due": dt.date(2026, 2, 1)}],
    }
    data = codec.encode(value)
    assert data.startswith(codec.SHAPED)
    assert codec.decode(data) == value


def test_values_of_one_kind_share_one_shape_and_its_plan() -> None:
    """Reading parses a shape once: the second record of the same kind reuses its plan."""
    codec._plans.clear()
    first = {"born": dt.date(2019, 1, 2), "fee": Decimal("1.50"), "name": "Rex"}
    second = {"born": dt.date(2020, 3, 4), "fee": Decimal("9.99"), "name": "Tess"}
    assert codec.decode(codec.encode(first)) == first
    assert codec.decode(codec.encode(second)) == second
    assert len(codec._plans) == 1


def test_the_shape_table_stays_bounded_whatever_the_tier_holds() -> None:
    """Anyone who can write to Redis can plant values of endless shapes."""
    codec._plans.clear()
    for n in range(codec.MAX_SHAPES * 3):
        planted = b'S[[[],[["k%d","d"]]]]\n{"k%d":"2026-01-01"}' % (n, n)
        assert codec.decode(planted) == {f"k{n}": dt.date(2026, 1, 1)}
    assert len(codec._plans) <= codec.MAX_SHAPES


def test_values_written_by_the_earlier_tagged_format_are_still_read() -> None:
    old = b'T[{"at":"2026-01-01T09:30:00+00:00","n":1},[[[],[["at","dt"]]]],null]'
    assert codec.decode(old) == {"at": dt.datetime(2026, 1, 1, 9, 30, tzinfo=dt.UTC), "n": 1}
    assert codec.decode(b'T["2026-01-02",[],"d"]') == dt.date(2026, 1, 2)


def test_dataclasses_rows_and_mappings_are_stored_as_dicts() -> None:
    visit = Visit(dt.datetime(2026, 1, 1, 8, tzinfo=dt.UTC), Decimal("30.00"), ["ok"])
    assert round_trip(visit) == {"at": visit.at, "fee": Decimal("30.00"), "notes": ["ok"]}
    assert round_trip([RowLike()]) == [{"id": 7, "name": "Rex", "born": dt.date(2019, 1, 2)}]
    assert round_trip(Record(a=1, b=Decimal("2"))) == {"a": 1, "b": Decimal("2")}
    point = namedtuple("Point", "x y")(1, 2)
    assert round_trip(point) == {"x": 1, "y": 2}  # a named row, like Row._asdict()


def test_uuids_enums_tuples_and_sets_become_plain_json() -> None:
    ident = uuid.UUID(int=5)
    assert round_trip({"id": ident, "kind": Species.DOG}) == {"id": str(ident), "kind": "dog"}
    assert round_trip((1, 2)) == [1, 2]
    assert round_trip({3}) == [3]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (object(), "not JSON serializable: object"),
        ({"f": lambda: 1}, "not JSON serializable: function"),
        ({1: "non-str key"}, "Dict key must be str"),
        (2**70, "Integer exceeds 64-bit range"),
    ],
)
def test_what_is_not_data_is_a_type_error(value: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        codec.encode(value)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"P\x80\x04K\x01.",
        b"Jnot json",
        b"T{",
        b"S[]",  # no value line
        b'S"zz"\n"x"',  # an unknown tag
        b'S[[["a"],[["b","d"]]]]\n{"a":1}',  # a path that is not there
        b'S[[[],[["b","d"]]]]\n{"b":"not a date"}',
        b'S[[[],[["b","dec"]]]]\n{"b":"x"}',
        b"S{\n1",
    ],
)
def test_foreign_bytes_are_refused(data: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - both orjson's and ours are ValueErrors
        codec.decode(data)


def test_a_users_dict_that_only_looks_tagged_survives_in_plain_data() -> None:
    value = {"__pc__": "dt", "v": "2026-01-01"}
    assert round_trip(value) == value


json_data = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.dates()
    | st.datetimes(timezones=st.just(dt.UTC))
    | st.decimals(allow_nan=False, allow_infinity=False),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_data)
def test_every_supported_value_round_trips(value: Any) -> None:
    assert round_trip(value) == value
