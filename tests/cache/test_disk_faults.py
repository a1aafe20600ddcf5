"""Faults of the disk tier: a corrupt entry and a locked database are misses, not errors."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from pathlib import Path

import diskcache
import pytest

from cache import CacheService, codec


def test_a_corrupt_decimal_is_a_miss_not_an_exception(tmp_path: Path) -> None:
    cache = CacheService(None, tmp_path, namespace="t")
    try:
        assert cache.set("fee", {"fee": Decimal("1.50")})
        good = codec.encode({"fee": Decimal("1.50")})
        bad = good.replace(b'"1.50"', b'"not-a-number"')
        with pytest.raises(ValueError, match="not a cache value"):
            codec.decode(bad)
        tier = cache._disk  # the raw tier, to plant what another process could have written
        full = cache._key("fee")
        tier.set(full, bad, None)
        assert cache.get("fee", "default") == "default"
        assert cache.get_or_set("fee", lambda: {"fee": Decimal("2")}) == {"fee": Decimal("2")}
    finally:
        cache.close()


def test_a_disk_locked_by_another_process_costs_a_bounded_wait(tmp_path: Path) -> None:
    cache = CacheService(None, tmp_path, namespace="t")
    cache.set("k", "v")
    other = diskcache.Cache(str(cache._disk.directory))
    holding = threading.Event()
    release = threading.Event()

    def hold_the_write_lock() -> None:
        with other.transact(retry=False):
            other.set("__held__", b"x", retry=False)
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    try:
        assert holding.wait(5)
        started = time.monotonic()
        assert cache.set("k2", "v2") is False  # refused, not hung and not raised
        assert time.monotonic() - started < 5
    finally:
        release.set()
        holder.join(10)
        other.close()
        cache.close()
