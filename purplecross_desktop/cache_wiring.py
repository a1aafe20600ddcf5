"""Builds the CacheService from Settings and wires domain events to cache invalidation (Qt-free)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from cache import ENTITIES, CacheService
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


def build_cache_service(settings: Settings) -> CacheService:
    """The cache of this process: Redis from ``redis_url`` (password from the keyring when
    the URL has none) with the disk tier in ``cache_path``, or the disk tier alone."""
    return CacheService(
        settings.redis_url,
        settings.cache_path,
        namespace=namespace_for_database(settings.effective_database_url),
        password=redis_password_for(settings.redis_url),
        debug=settings.cache_debug,
    )


def wire_cache_invalidation(bus: EventBus, cache: CacheService) -> Callable[[], None]:
    """Invalidate what every committed change touches; returns the unsubscriber.

    An event invalidates its own entity (when the cache knows that kind) and every
    related record named in its payload (``patient_id``, ``client_id``, ``vet_id``, ...),
    so an appointment booking drops the patient's and the client's cached views too.
    Searches go with any write.
    """

    def on_event(event: DomainEvent) -> None:
        targets: set[tuple[str, object]] = set()
        if event.entity in ENTITIES:
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
