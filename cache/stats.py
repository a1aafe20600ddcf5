"""Application-level cache counters per tier and the snapshot ``CacheService.stats()`` returns.

These count this process's cache calls only; Redis's own keyspace hits also count the
job queue's traffic and every other client, so they say nothing about the cache.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Any

COUNTERS = ("hits", "misses", "sets", "deletes", "errors")


class Counters:
    """Thread-safe counters ``tier -> name -> int``."""

    def __init__(self, tiers: tuple[str, ...]) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, dict[str, int]] = {t: dict.fromkeys(COUNTERS, 0) for t in tiers}

    def add(self, tier: str, name: str, amount: int = 1) -> None:
        with self._lock:
            self._values[tier][name] += amount

    def snapshot(self, tier: str) -> dict[str, int]:
        with self._lock:
            return dict(self._values[tier])

    def reset(self) -> None:
        with self._lock:
            for values in self._values.values():
                for name in values:
                    values[name] = 0


@dataclass(frozen=True, slots=True)
class TierStats:
    """Counters of one tier, plus what it holds (``None`` when the tier can't be asked).

    Attributes:
        keys: entries of this cache's namespace in the tier.
        memory_bytes: Redis: the server's used memory (Redis has no per-prefix figure);
            disk: the size of the cache files.
    """

    name: str
    hits: int
    misses: int
    sets: int
    deletes: int
    errors: int
    keys: int | None
    memory_bytes: int | None

    @property
    def hit_rate(self) -> float:
        looked_up = self.hits + self.misses
        return self.hits / looked_up if looked_up else 0.0

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["hit_rate"] = round(self.hit_rate, 4)
        return out


@dataclass(frozen=True, slots=True)
class CacheStats:
    """What ``CacheService.stats()`` reports; the Health page and ``purplecross cache stats``.

    Attributes:
        tier: where calls go now: ``"redis"`` or ``"disk"``.
        breaker: ``"closed"`` (Redis in use), ``"open"`` (on disk, probing Redis) or
            ``"none"`` (no Redis configured).
        failovers: times this process moved from Redis to disk.
        replay_pending: invalidations waiting for Redis to come back.
        last_error: the last Redis failure, if any.
        notices: what the admin should know about this run, e.g. an unreadable disk
            cache that was moved aside at start.
        channel: the clinic database's invalidation channel: ``"none"`` (not used),
            ``"following"``, or ``"failing: <error>"`` (other desks' changes that Redis
            did not get reach this desk only through the other safeguards meanwhile).
    """

    namespace: str
    tier: str
    breaker: str
    failovers: int
    replay_pending: int
    last_error: str | None
    tiers: tuple[TierStats, ...]
    notices: tuple[str, ...] = ()
    channel: str = "none"

    @property
    def hits(self) -> int:
        return sum(t.hits for t in self.tiers)

    @property
    def misses(self) -> int:
        return sum(t.misses for t in self.tiers)

    @property
    def hit_rate(self) -> float:
        looked_up = self.hits + self.misses
        return self.hits / looked_up if looked_up else 0.0

    def tier_stats(self, name: str) -> TierStats:
        for tier in self.tiers:
            if tier.name == name:
                return tier
        raise KeyError(name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "tier": self.tier,
            "breaker": self.breaker,
            "failovers": self.failovers,
            "replay_pending": self.replay_pending,
            "last_error": self.last_error,
            "hits": self.hits,
            "misses": self.misses,
            "hit_rate": round(self.hit_rate, 4),
            "tiers": {t.name: t.as_dict() for t in self.tiers},
            "notices": list(self.notices),
            "channel": self.channel,
        }
