"""The cache: Redis with a disk fallback that never breaks the app and never serves stale data.

Imports nothing of ours and no Qt. See docs/caching.md.
"""

from cache.decorators import cached
from cache.keys import ENTITIES, ENTITY_NAME, TTL
from cache.service import CacheService
from cache.stats import CacheStats, TierStats

__all__ = ["ENTITIES", "ENTITY_NAME", "TTL", "CacheService", "CacheStats", "TierStats", "cached"]
