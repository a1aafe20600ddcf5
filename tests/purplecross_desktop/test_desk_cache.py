"""The front desk reads through the shared cache, and an edit made on another workstation
(another process, with its own cache service on the same Redis) is never shown stale."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cache import CacheService
from purplecross_desktop.desk_cache import CachedFrontDesk
from purplecross_desktop.domain.front_desk import FrontDeskQueries
from purplecross_desktop.domain.price_list import PriceItem, PriceItemData
from purplecross_desktop.services import build_services
from tests.purplecross_desktop.other_workstation import OtherWorkstation
from tests.purplecross_desktop.ui.desk_support import SeededDesk, seed_desk


@pytest.fixture
def desk(
    database_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[SeededDesk]:
    monkeypatch.setenv("PURPLECROSS_REDIS_URL", redis_url)
    seeded = seed_desk(database_url, monkeypatch)
    services = seeded.context.services
    assert services is not None
    services.price_list.create(PriceItemData("Consultation", "service", "40.00", "0.2"))
    yield seeded
    seeded.close()


@pytest.fixture
def other(desk: SeededDesk, tmp_path: Path) -> Iterator[OtherWorkstation]:
    env = {
        **os.environ,
        "PURPLECROSS_DATA_DIR": str(tmp_path / "other-desk"),  # its own disk cache
    }
    workstation = OtherWorkstation(env)
    yield workstation
    workstation.close()


def _price_rows(items: list[PriceItem]) -> list[tuple[Any, ...]]:
    return [(i.id, i.name, i.kind, i.unit_price, i.tax_rate) for i in items]


def test_no_edit_on_another_workstation_is_shown_stale(
    desk: SeededDesk, other: OtherWorkstation
) -> None:
    assert other.ready == "ready redis"
    services = desk.context.services
    cache = desk.context.cache
    assert services is not None
    assert cache is not None
    front = services.front_desk
    assert isinstance(front, CachedFrontDesk)
    assert front.shared()
    truth = FrontDeskQueries(desk.context.session_factory)  # straight from the database
    start, end = desk.midnight, desk.midnight + dt.timedelta(days=1)
    week_end = start + dt.timedelta(days=7)
    ada, rex = desk.client_id, desk.patient_ids[0]
    reads: dict[str, tuple[Callable[[FrontDeskQueries], Any], Callable[[Any], Any]]] = {
        "vets": (lambda q: q.vets(), list),
        "rooms": (lambda q: q.rooms(), list),
        "price list": (lambda q: q.price_items(), _price_rows),
        "balance": (lambda q: q.client_balance(ada), lambda v: v),
        "board": (lambda q: q.board(start, end), list),
        "probe": (lambda q: q.board_probe(start, end), lambda v: v),
        # a Calendar week: one vet's or one room's, each under its own key
        "week": (lambda q: q.board(start, week_end), list),
        "vet's week": (lambda q: q.board(start, week_end, vet_id=desk.vet_ids[0]), list),
        "room's week probe": (
            lambda q: q.board_probe(start, week_end, room_id=desk.room_ids[1]),
            lambda v: v,
        ),
    }
    edits: list[tuple[dict[str, Any], str]] = [
        ({"do": "check_in", "appointment_id": desk.appointments[0].id}, "board"),
        ({"do": "rename_room", "room_id": desk.room_ids[0], "name": "Surgery A"}, "rooms"),
        ({"do": "rename_vet", "staff_id": desk.vet_ids[1], "name": "Dr Alderson"}, "vets"),
        ({"do": "price", "item_id": 1, "unit_price": "45.00"}, "price list"),
        ({"do": "alert", "patient_id": rex, "alerts": ["Muzzle"]}, "board"),
        ({"do": "invoice", "client_id": ada, "amount": "10.00"}, "balance"),
        ({"do": "pay", "client_id": ada, "amount": "52.50"}, "balance"),
        (
            {
                "do": "book",
                "patient_id": desk.patient_ids[2],
                "vet_id": desk.vet_ids[1],
                "room_id": desk.room_ids[1],
                "starts_at": desk.at(15).isoformat(),
            },
            "probe",
        ),
    ]
    for command, changes in edits:
        before: dict[str, Any] = {}
        for name, (read, shape) in reads.items():
            shape(read(front))  # loads and stores it
            hits = cache.stats().tiers[0].hits
            before[name] = shape(read(front))
            assert cache.stats().tiers[0].hits == hits + 1, f"{name} was not served from Redis"
        other.do(**command)
        for name, (read, shape) in reads.items():
            assert shape(read(front)) == shape(read(truth)), f"{name} stale after {command}"
        assert shape_of(reads, changes, front) != before[changes], f"{command} changed nothing"


def shape_of(reads: dict[str, Any], name: str, queries: FrontDeskQueries) -> Any:
    read, shape = reads[name]
    return shape(read(queries))


def test_without_a_shared_redis_the_desk_reads_the_database(
    desk: SeededDesk, tmp_path: Path
) -> None:
    """A disk-only cache (no Redis, or Redis down) sees only this workstation's
    invalidations, so the desk's reads bypass it rather than risk another desk's edit."""
    disk_only = CacheService(None, tmp_path / "disk-cache", namespace="disk-only")
    try:
        services = build_services(desk.context.session_factory, cache=disk_only)
        front = services.front_desk
        assert isinstance(front, CachedFrontDesk)
        assert not front.shared()
        front.vets()
        front.price_items()
        front.board(desk.midnight, desk.midnight + dt.timedelta(days=1))
        disk = disk_only.stats().tiers[-1]
        assert (disk.name, disk.hits, disk.misses, disk.keys) == ("disk", 0, 0, 0)
    finally:
        disk_only.close()
