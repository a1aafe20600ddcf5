"""Builds the CacheService from Settings and wires domain events to cache invalidation (Qt-free)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from cache import ENTITIES, ENTITY_NAME, CacheService
from purplecross_desktop.cache_channel import DatabaseChannel
from purplecross_desktop.domain.events import DomainEvent, EventBus
from purplecross_desktop.secrets import redis_password_for
from purplecross_desktop.settings import Settings

log = logging.getLogger(__name__)

# Payload keys naming a related record, and the cache entity they belong to.
RELATED_IDS: dict[str, str] = {f"{entity}_id": entity for entity in ENTITIES if entity != "search"}
RELATED_IDS["vet_id"] = "staff"


def namespace_for_database(database_url: str) -> str:
    """A cache namespace that is the same for every workstation of one clinic database
    and different for any other database (credentials and driver do not count)."""
    url = sa.engine.make_url(database_url)
    backend = url.get_backend_name()
    database = url.database or ""
    if backend == "sqlite" and database and database != ":memory:":
        database = str(Path(database).expanduser().resolve())
    identity = f"{backend}|{(url.host or '').lower()}|{url.port or ''}|{database}"
    return f"{backend}-{hashlib.sha256(identity.encode()).hexdigest()[:16]}"


def database_is_shared(database_url: str) -> bool:
    """Whether other workstations may write to this database: any server database. A
    SQLite file is one workstation's (SQLite over a network share is not supported)."""
    return sa.engine.make_url(database_url).get_backend_name() != "sqlite"


def build_cache_service(settings: Settings, engine: sa.Engine | None = None) -> CacheService:
    """The cache of this process: Redis from ``redis_url`` (password from the keyring when
    the URL has none) with the disk tier in ``cache_path``, or the disk tier alone (whose
    entries then live at most ``fallback_max_ttl`` on a shared database).

    With the clinic database's ``engine`` (the app passes it), invalidations that Redis
    could not take go through the database's invalidation channel too, and this cache
    follows it: see ``purplecross_desktop.cache_channel``. Without Redis on a SQLite file
    there is no other desk to tell, so no channel.
    """
    shared = database_is_shared(settings.effective_database_url)
    channel = None
    if engine is not None and (settings.redis_url is not None or shared):
        channel = DatabaseChannel(engine)
    return CacheService(
        settings.redis_url,
        settings.cache_path,
        namespace=namespace_for_database(settings.effective_database_url),
        shared_database=shared,
        password=redis_password_for(settings.redis_url),
        debug=settings.cache_debug,
        channel=channel,
    )


def wire_cache_invalidation(bus: EventBus, cache: CacheService) -> Callable[[], None]:
    """Invalidate what every committed change touches; returns the unsubscriber.

    An event invalidates its own entity (any kind the domain publishes) and every
    related record named in its payload (``patient_id``, ``client_id``, ``vet_id``, ...),
    so an appointment booking drops the patient's and the client's cached views too.
    Searches go with any write.
    """

    def on_event(event: DomainEvent) -> None:
        targets: set[tuple[str, object]] = set()
        if ENTITY_NAME.fullmatch(event.entity):
            targets.add((event.entity, event.entity_id))
        for key, entity in RELATED_IDS.items():
            value = event.data.get(key)
            if value is not None:
                targets.add((entity, value))
        if not targets:
            targets.add(("search", None))
        cache.invalidate_many(sorted(targets, key=str))
        if cache.debug:
            log.info("cache: %s invalidated %s", event.name, sorted(targets, key=str))

    return bus.subscribe("*", on_event)
