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
MAX_TTL: Final = 365 * 86400  # a year; longer-lived values use ttl=None


def check_key(key: str) -> None:
    """Raise ``TypeError``/``ValueError`` unless ``key`` is a non-empty ``str`` (a mistake
    in the calling code, found on the first call)."""
    if not isinstance(key, str):
        raise TypeError(f"cache key must be str, not {type(key).__name__} ({key!r})")
    if not key:
        raise ValueError("cache key '': must not be empty")


def unstorable_key(key: str) -> str | None:
    """Why ``key`` cannot be stored (too long, not valid Unicode), or None if it can.

    Such keys come from data (a long search text), not from a mistake in the code, so the
    cache treats them as "not cached" rather than as an error.
    """
    if len(key) > MAX_KEY_LENGTH:
        return f"{len(key)} characters, over {MAX_KEY_LENGTH}"
    if not key.isascii():
        try:
            key.encode("utf-8")
        except UnicodeEncodeError:
            return "not valid Unicode text"
    return None


def check_ttl(key: str, ttl: float | None) -> None:
    """Raise ``ValueError`` naming ``key`` unless ``ttl`` is None or 0 < seconds <= a year.

    One rule for both tiers: Redis refuses what does not fit its expiry (``inf`` even
    before sending), while the disk would keep it; the limit keeps them alike.
    """
    if ttl is None:
        return
    if (
        isinstance(ttl, bool)
        or not isinstance(ttl, int | float)
        or not 0 < ttl <= MAX_TTL  # also False for NaN
    ):
        raise ValueError(
            f"ttl for cache key {key!r}: must be seconds > 0 and at most {MAX_TTL} (a year), "
            f"or None, not {ttl!r}"
        )


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
