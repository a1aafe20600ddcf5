"""Domain events invalidate the cache; a cached service read sees the matching write."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cache import TTL, CacheService, cached
from purplecross_desktop.cache_wiring import (
    build_cache_service,
    namespace_for_database,
    wire_cache_invalidation,
)
from purplecross_desktop.database import make_engine, make_session_factory
from purplecross_desktop.database.base import ClientId, PatientId
from purplecross_desktop.database.models import metadata
from purplecross_desktop.domain.clients import ClientData, ClientService
from purplecross_desktop.domain.events import DomainEvent, EventBus
from purplecross_desktop.domain.patients import PatientData, PatientService
from purplecross_desktop.settings import Settings


@pytest.fixture(params=["redis", "disk"])
def cache(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CacheService]:
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    service = CacheService(url, tmp_path / "cache", namespace="wiring")
    yield service
    service.close()


def test_an_event_invalidates_its_entity_and_the_related_records(cache: CacheService) -> None:
    bus = EventBus()
    unsubscribe = wire_cache_invalidation(bus, cache)
    cache.set_many(
        {
            "appointment:5": 1,
            "patient:7": 2,
            "patient:7:appointments": 3,
            "client:3": 4,
            "staff:2": 5,
            "search:patient:rex": 6,
            "patient:8": 7,
            "client:list": 8,
        }
    )
    bus.publish(
        DomainEvent(
            "appointment.booked", "appointment", 5, {"patient_id": 7, "client_id": 3, "vet_id": 2}
        )
    )
    left = cache.get_many(["appointment:5", "patient:7", "patient:7:appointments", "client:3"])
    assert left == {}
    assert cache.get_many(["staff:2", "search:patient:rex", "patient:8", "client:list"]) == {
        "patient:8": 7
    }
    unsubscribe()
    cache.set("patient:8:x", 1)
    bus.publish(DomainEvent("patient.updated", "patient", 8, {}))
    assert cache.get("patient:8:x") == 1  # no longer wired


def test_events_of_every_kind_the_domain_publishes_invalidate_their_entity(
    cache: CacheService,
) -> None:
    bus = EventBus()
    wire_cache_invalidation(bus, cache)
    cache.set_many({"search:rooms": 1, "room:1": 2, "room:list": 3, "room:2": 4})
    bus.publish(DomainEvent("room.created", "room", 1, {"name": "Room 2"}))
    assert cache.get_many(["search:rooms", "room:1", "room:list", "room:2"]) == {"room:2": 4}
    cache.set_many({"vaccination:9": 1, "patient:4:vaccinations": 2, "patient:5": 3})
    bus.publish(DomainEvent("vaccination.recorded", "vaccination", 9, {"patient_id": 4}))
    assert cache.get_many(["vaccination:9", "patient:4:vaccinations", "patient:5"]) == {
        "patient:5": 3
    }
    cache.set_many({"reminder:3": 1, "appointment:8:reminders": 2})
    bus.publish(DomainEvent("reminder.updated", "reminder", 3, {"appointment_id": 8}))
    assert cache.get_many(["reminder:3", "appointment:8:reminders"]) == {}


def test_an_event_of_a_new_kind_still_invalidates_it_and_the_searches(cache: CacheService) -> None:
    bus = EventBus()
    wire_cache_invalidation(bus, cache)
    cache.set_many({"lab_result:5": 1, "search:x": 2, "patient:1": 3})
    bus.publish(DomainEvent("lab_result.created", "lab_result", 5, {"note": "x"}))
    assert cache.get_many(["lab_result:5", "search:x", "patient:1"]) == {"patient:1": 3}


class PatientReads:
    """A read model of the kind screens use, cached with ``@cached``."""

    def __init__(self, patients: PatientService, cache: CacheService | None) -> None:
        self.patients = patients
        self.cache = cache
        self.loads = 0

    @cached(ttl=TTL.SHORT, key="patient:{patient_id}")
    def summary(self, patient_id: int) -> dict[str, Any]:
        self.loads += 1
        patient = self.patients.get(PatientId(patient_id))
        return {"name": patient.name, "breed": patient.breed, "client_id": patient.client_id}

    @cached(ttl=TTL.SHORT, key="search:patient:{text}")
    def names(self, text: str) -> list[str]:
        self.loads += 1
        return [p.name for p in self.patients.search(text).items]


def test_a_cached_read_sees_the_matching_write_end_to_end(
    database_url: str, cache: CacheService
) -> None:
    engine = make_engine(database_url)
    metadata.create_all(engine)
    try:
        sessions = make_session_factory(engine)
        bus = EventBus()
        wire_cache_invalidation(bus, cache)
        clients = ClientService(sessions, bus)
        patients = PatientService(sessions, bus)
        owner = clients.create(ClientData(name="Ada Lovelace", email="ada@example.org"))
        rex = patients.create(PatientData(ClientId(owner.id), "Rex", "dog", breed="Collie"))
        reads = PatientReads(patients, cache)

        assert reads.summary(rex.id)["breed"] == "Collie"
        assert reads.summary(rex.id)["breed"] == "Collie"
        assert reads.names("re") == ["Rex"]
        assert reads.names("re") == ["Rex"]
        assert reads.loads == 2  # the second reads were hits

        patients.update(PatientId(rex.id), {"name": "Rexy", "breed": "Border Collie"})
        assert reads.summary(rex.id) == {
            "name": "Rexy",
            "breed": "Border Collie",
            "client_id": owner.id,
        }
        assert reads.names("re") == ["Rexy"]
        assert reads.loads == 4

        patients.create(PatientData(ClientId(owner.id), "Rena", "cat"))
        assert reads.names("re") == ["Rena", "Rexy"]  # a new patient changes searches
    finally:
        engine.dispose()


def test_without_a_cache_the_read_simply_runs(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    metadata.create_all(engine)
    try:
        patients = PatientService(make_session_factory(engine), EventBus())
        reads = PatientReads(patients, cache=None)
        assert reads.names("x") == []
        assert reads.names("x") == []
        assert reads.loads == 2
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("postgresql+psycopg://u:one@db.clinic/vet", "postgresql://other:two@DB.clinic/vet", True),
        ("postgresql://u@db.clinic/vet", "postgresql://u@db.clinic/vet2", False),
        ("postgresql://u@db.clinic:5432/vet", "postgresql://u@db.clinic:5433/vet", False),
        ("sqlite:///clinic.db", "sqlite:///./clinic.db", True),
        ("sqlite:///a/clinic.db", "sqlite:///b/clinic.db", False),
    ],
)
def test_namespace_follows_the_database_not_the_credentials(a: str, b: str, same: bool) -> None:
    assert (namespace_for_database(a) == namespace_for_database(b)) is same
    assert namespace_for_database(a).replace("-", "").isalnum()


def test_build_cache_service_uses_the_keyring_password_only_when_the_url_has_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PURPLECROSS_REDIS_PASSWORD", "from-keyring")
    settings = Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:1/0", cache_debug=True)
    with build_cache_service(settings) as cache:
        kwargs = cache._redis.client.connection_pool.connection_kwargs  # type: ignore[union-attr]
        assert kwargs["password"] == "from-keyring"
        assert cache.debug is True
        assert cache.namespace == namespace_for_database(settings.effective_database_url)
    settings = Settings(data_dir=tmp_path, redis_url="redis://:in-url@127.0.0.1:1/0")
    with build_cache_service(settings) as cache:
        kwargs = cache._redis.client.connection_pool.connection_kwargs  # type: ignore[union-attr]
        assert kwargs["password"] == "in-url"
    with build_cache_service(Settings(data_dir=tmp_path)) as cache:
        assert cache.tier == "disk"
        assert (tmp_path / "cache" / "values").is_dir()


@pytest.mark.parametrize(
    ("database_url", "shared"),
    [
        (None, False),  # the workstation's own SQLite file
        ("postgresql+psycopg://desk@clinic-server/clinic", True),
    ],
)
def test_without_redis_a_shared_database_caps_what_the_disk_keeps(
    tmp_path: Path, database_url: str | None, shared: bool
) -> None:
    """Issue 16, case 11: no shared tier tells this desk of other desks' changes."""
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    with build_cache_service(settings) as cache:
        assert cache.shared_database is shared
        cache.set("patient:1", "v1", ttl=TTL.LONG)
        row = cache._disk.cache.get(f"pc:{cache.namespace}:patient:1", expire_time=True)
        expires_in = row[1] - time.time()
        if shared:
            assert 0 < expires_in <= cache.fallback_max_ttl == 30
        else:
            assert expires_in > TTL.LONG - 60
