"""Key rules and the entity key conventions that ``CacheService.invalidate`` relies on.

``<entity>:<id>`` and ``<entity>:<id>:...`` hold one record and what derives from it,
``<entity>:list`` and ``<entity>:list:...`` lists and pages, ``search:...`` searches
(which any write may change). See docs/caching.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import IntEnum
from typing import Final

from cache.replay import Invalidation
from cache.tiers import escape_glob


class TTL(IntEnum):
    """Time-to-live presets in seconds; ``MEDIUM`` is the default."""

    SHORT = 60
    MEDIUM = 300
    LONG = 3600
    DAY = 86400
    WEEK = 604800


# The entities the domain publishes events about (and "search"); any other name of the
# same shape works too (ENTITY_NAME), so a new kind of record needs no change here.
ENTITIES: Final = (
    "patient",
    "client",
    "appointment",
    "invoice",
    "prescription",
    "vaccination",
    "reminder",
    "room",
    "staff",
    "report",
    "search",
)
ENTITY_NAME: Final = re.compile(r"[a-z][a-z0-9_]{0,63}")
MAX_KEY_LENGTH: Final = 1024


def check_key(key: str) -> None:
    """Raise ``TypeError``/``ValueError`` naming ``key`` unless it is usable text."""
    if not isinstance(key, str):
        raise TypeError(f"cache key must be str, not {type(key).__name__} ({key!r})")
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"cache key {key[:60]!r}: must be 1 to {MAX_KEY_LENGTH} characters")
    if not key.isascii():
        try:
            key.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"cache key {key!r}: must be valid Unicode text") from None


def check_ttl(key: str, ttl: float | None) -> None:
    """Raise ``ValueError`` naming ``key`` unless ``ttl`` is None or seconds > 0."""
    if ttl is None:
        return
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not ttl > 0:
        raise ValueError(f"ttl for cache key {key!r}: must be seconds > 0 or None, not {ttl!r}")


def entity_invalidation(prefix: str, targets: Iterable[tuple[str, object]]) -> Invalidation:
    """What ``invalidate`` deletes for ``(entity, id)`` pairs (id None: the whole entity).

    Raises:
        ValueError: an entity name is not of the :data:`ENTITY_NAME` shape (nothing is
            deleted).
    """
    keys: list[str] = []
    patterns = [f"{prefix}search:*"]
    for entity, entity_id in targets:
        if not isinstance(entity, str) or not ENTITY_NAME.fullmatch(entity):
            raise ValueError(
                f"entity {entity!r}: must be lowercase letters, digits and '_' (1-64, a "
                f"letter first), like {', '.join(ENTITIES[:3])}"
            )
        if entity == "search":
            continue
        if entity_id is None:
            patterns.append(f"{prefix}{entity}:*")
            continue
        ident = escape_glob(str(entity_id))
        keys += [f"{prefix}{entity}:{entity_id}", f"{prefix}{entity}:list"]
        patterns += [f"{prefix}{entity}:{ident}:*", f"{prefix}{entity}:list:*"]
    return Invalidation(tuple(dict.fromkeys(keys)), tuple(dict.fromkeys(patterns)), prefix)
