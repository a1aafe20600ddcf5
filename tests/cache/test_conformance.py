"""One behaviour, three tiers: Redis, the disk tier, and the service failed over to disk."""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from cache import TTL, CacheService, cached, codec
from cache.tiers import Tier
from tests.cache.conftest import make_service, wait_until

UNUSUAL_KEYS = [
    "patiënt:Zoë Ñúñez",
    "key with spaces",
    "a:b:c::d:",
    "glob*chars?[x]\\",
    "🐕:🐈",
    "tab\tnew\nline",
    "x" * 1024,
]

VALUES: list[Any] = [
    None,
    0,
    -(2**63),
    1.5,
    "",
    "text ✓",
    [],
    {},
    [1, "two", None, [3]],
    {"nested": {"list": [1, 2], "flag": True}},
    dt.datetime(2026, 3, 4, 5, 6, 7, 890, tzinfo=dt.UTC),
    dt.date(2026, 2, 28),
    dt.time(13, 45),
    Decimal("12.30"),
    {"invoice": {"total": Decimal("99.95"), "due": dt.date(2026, 1, 31)}},
]


def current_tier(cache: CacheService) -> Tier:
    """The raw tier the service uses now, to plant what another process could have written."""
    tier = cache._redis if cache.tier == "redis" else cache._disk
    assert tier is not None
    return tier


@dataclass
class Pet:
    name: str
    born: dt.date


class TestCacheConformance:
    """Run against every tier through the ``backend`` fixture."""

    @pytest.mark.parametrize("value", VALUES, ids=repr)
    def test_values_round_trip_with_their_types(self, cache: CacheService, value: Any) -> None:
        assert cache.set("v", value) is True
        got = cache.get("v", default="<miss>")
        assert got == value
        assert type(got) is type(value)

    def test_miss_returns_the_default(self, cache: CacheService) -> None:
        assert cache.get("absent") is None
        assert cache.get("absent", default=7) == 7

    def test_a_cached_none_is_a_hit(self, cache: CacheService) -> None:
        cache.set("none", None)
        assert cache.get("none", default="<miss>") is None

    @pytest.mark.parametrize("key", UNUSUAL_KEYS, ids=lambda k: repr(k)[:20])
    def test_unusual_keys_work(self, cache: CacheService, key: str) -> None:
        cache.set(key, {"k": key})
        assert cache.get(key) == {"k": key}
        assert cache.get_many([key, "other"]) == {key: {"k": key}}
        assert cache.delete(key) is True
        assert cache.get(key) is None

    def test_glob_characters_in_a_key_are_literal_when_invalidating(
        self, cache: CacheService
    ) -> None:
        cache.set("patient:4*", 1)
        cache.set("patient:42", 2)
        cache.invalidate("patient", "4*")
        assert cache.get("patient:4*") is None
        assert cache.get("patient:42") == 2

    def test_ttl_expires(self, cache: CacheService) -> None:
        cache.set("short", 1, ttl=0.15)
        cache.set("long", 2, ttl=TTL.LONG)
        assert cache.get("short") == 1
        time.sleep(0.3)
        assert cache.get("short") is None
        assert cache.get("long") == 2

    def test_delete(self, cache: CacheService) -> None:
        cache.set("a", 1)
        assert cache.delete("a") is True
        assert cache.delete("a") is False
        assert cache.get("a") is None

    def test_delete_pattern_walks_every_batch(self, cache: CacheService) -> None:
        cache.set_many({f"patient:{i}": i for i in range(1200)})
        cache.set_many({"client:1": 1, "patientx": 2})
        assert cache.delete_pattern("patient:*") == 1200
        assert cache.get_many(["patient:0", "patient:1199", "client:1", "patientx"]) == {
            "client:1": 1,
            "patientx": 2,
        }

    def test_delete_pattern_supports_redis_glob_syntax(self, cache: CacheService) -> None:
        cache.set_many({"k:a1": 1, "k:b1": 2, "k:c1": 3, "k:a22": 4, "k:*": 5})
        assert cache.delete_pattern("k:[ab]?") == 2
        assert cache.delete_pattern("k:\\*") == 1
        assert sorted(cache.get_many(["k:a1", "k:b1", "k:c1", "k:a22", "k:*"])) == [
            "k:a22",
            "k:c1",
        ]

    def test_invalidate_drops_the_record_its_lists_and_searches(self, cache: CacheService) -> None:
        keep = {"patient:421": 1, "client:42": 2, "patient:4": 3, "appointment:list": 4}
        drop = {
            "patient:42": 5,
            "patient:42:visits": 6,
            "patient:list": 7,
            "patient:list:page:1": 8,
            "search:rex": 9,
            "search:patient:rex": 10,
        }
        cache.set_many({**keep, **drop})
        cache.invalidate("patient", 42)
        assert cache.get_many([*keep, *drop]) == keep

    def test_invalidate_without_id_drops_the_whole_entity(self, cache: CacheService) -> None:
        cache.set_many({"invoice:1": 1, "invoice:list": 2, "client:1": 3, "search:x": 4})
        cache.invalidate("invoice")
        assert cache.get_many(["invoice:1", "invoice:list", "client:1", "search:x"]) == {
            "client:1": 3
        }

    @pytest.mark.parametrize("entity", ["vaccination", "reminder", "room", "lab_result"])
    def test_invalidate_takes_every_entity_the_domain_publishes(
        self, cache: CacheService, entity: str
    ) -> None:
        cache.set_many({f"{entity}:9": 1, f"{entity}:9:x": 2, f"{entity}:list": 3, "search:a": 4})
        cache.set(f"{entity}:10", 5)
        cache.invalidate(entity, 9)
        assert cache.get_many([f"{entity}:9", f"{entity}:9:x", f"{entity}:list", "search:a"]) == {}
        assert cache.get(f"{entity}:10") == 5

    @pytest.mark.parametrize("entity", ["", "Patient", "patient:1", "pat*", "a b", 7])
    def test_invalidate_refuses_names_that_are_not_entities(
        self, cache: CacheService, entity: Any
    ) -> None:
        cache.set("search:a", 1)
        with pytest.raises(ValueError, match=r"entity .*: must be lowercase letters, digits"):
            cache.invalidate(entity, 1)
        assert cache.get("search:a") == 1  # nothing was deleted

    @pytest.mark.parametrize("number", [math.inf, -math.inf, math.nan])
    def test_infinity_and_nan_come_back_as_themselves(
        self, cache: CacheService, number: float
    ) -> None:
        cache.set("f", number)
        cache.set("nested", {"w": [1.5, number, None], "d": dt.date(2026, 1, 2)})
        got = cache.get("f")
        assert isinstance(got, float)
        assert got == number or (math.isnan(got) and math.isnan(number))
        nested = cache.get("nested")
        assert nested["w"][0] == 1.5
        assert nested["w"][2] is None
        assert repr(nested["w"][1]) == repr(number)
        assert nested["d"] == dt.date(2026, 1, 2)

    def test_a_question_mark_matches_one_character_whatever_its_bytes(
        self, cache: CacheService
    ) -> None:
        cache.set_many({"k:é": 1, "k:e": 2, "k:🐕": 3, "k:ab": 4, "k:[é]": 5})
        assert cache.delete_pattern("k:?") == 3
        assert cache.get_many(["k:é", "k:e", "k:🐕", "k:ab"]) == {"k:ab": 4}
        cache.set_many({"c:é": 1, "c:ü": 2})
        assert cache.delete_pattern("c:[é]") == 1
        assert cache.delete_pattern("c:[^é]") == 1

    def test_a_class_may_hold_an_escaped_bracket(self, cache: CacheService) -> None:
        cache.set_many({"k:]": 1, "k:x": 2, "k:y": 3, "k:\\": 4})
        assert cache.delete_pattern("k:[\\]x]") == 2
        assert cache.get_many(["k:]", "k:x", "k:y"]) == {"k:y": 3}

    def test_get_many_and_set_many(self, cache: CacheService) -> None:
        assert cache.set_many({"m:1": 1, "m:2": [2]}, ttl=TTL.SHORT) is True
        assert cache.get_many(["m:1", "m:2", "m:3"]) == {"m:1": 1, "m:2": [2]}
        assert cache.get_many([]) == {}

    def test_clear_removes_only_this_namespace(
        self, backend: tuple[str, CacheService], tmp_path: Path
    ) -> None:
        _, cache = backend
        other = make_service(None, tmp_path / "cache", namespace="other")
        try:
            cache.set("shared:key", "mine")
            other.set("shared:key", "theirs")
            assert cache.clear() >= 1
            assert cache.get("shared:key") is None
            assert other.get("shared:key") == "theirs"
        finally:
            other.close()

    def test_get_or_set_runs_the_loader_once_under_eight_threads(self, cache: CacheService) -> None:
        calls = 0
        barrier = threading.Barrier(8)
        results: list[Any] = []

        def loader() -> dict[str, int]:
            nonlocal calls
            calls += 1
            time.sleep(0.1)
            return {"answer": 42}

        def worker() -> None:
            barrier.wait()
            results.append(cache.get_or_set("hot", loader))

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert calls == 1
        assert results == [{"answer": 42}] * 8
        results[0]["answer"] = 0  # every caller got its own copy
        assert results[1] == {"answer": 42}
        assert cache.get("hot") == {"answer": 42}

    def test_get_or_set_returns_what_a_hit_would(self, cache: CacheService) -> None:
        pet = Pet("Rex", dt.date(2020, 5, 1))
        first = cache.get_or_set("pet:1", lambda: pet)
        second = cache.get_or_set("pet:1", lambda: pytest.fail("loader ran on a hit"))
        assert first == second == {"name": "Rex", "born": dt.date(2020, 5, 1)}

    def test_a_failing_loader_caches_nothing(self, cache: CacheService) -> None:
        def boom() -> int:
            raise RuntimeError("database is down")

        with pytest.raises(RuntimeError, match="database is down"):
            cache.get_or_set("k", boom)
        assert cache.get_or_set("k", lambda: 5) == 5

    def test_non_serializable_value_names_the_key_and_stores_nothing(
        self, cache: CacheService
    ) -> None:
        cache.set("ok", 1)
        with pytest.raises(TypeError, match=r"cache value for key 'bad:key' is not serializable"):
            cache.set("bad:key", {"lock": threading.Lock()})
        with pytest.raises(TypeError, match="'b'"):
            cache.set_many({"a": 1, "b": object()})
        assert cache.get_many(["a", "b", "bad:key", "ok"]) == {"ok": 1}

    def test_too_big_to_cache_is_not_cached_and_not_an_error(
        self, cache: CacheService, caplog: pytest.LogCaptureFixture
    ) -> None:
        cache.max_value_bytes = 1000
        with caplog.at_level("DEBUG", logger="cache.service"):
            assert cache.set("big", "x" * 2000) is False
            assert cache.get_or_set("big", lambda: ("x" * 2000,)) == ["x" * 2000]
            assert cache.set_many({"big": "x" * 2000, "small": 1}) is False
        assert cache.get("big") is None
        assert cache.get("small") == 1
        assert "not caching 'big': 2003 bytes encoded, over max_value_bytes 1000" in caplog.text

    def test_cached_returns_what_it_cannot_cache(self, cache: CacheService) -> None:
        class Reads:
            def __init__(self, cache: CacheService) -> None:
                self.cache = cache
                self.loads = 0

            @cached(key="search:patient:{text}")
            def search(self, text: str) -> tuple[str, ...]:
                self.loads += 1
                return (text, "x" * (2000 if text == "grown" else 10))

        reads = Reads(cache)
        cache.max_value_bytes = 1500
        long_text = "rex " * 300  # a search text longer than a key may be
        assert reads.search(long_text) == [long_text, "x" * 10]  # the shape of a hit
        assert reads.search(long_text) == [long_text, "x" * 10]
        assert reads.search("grown") == ["grown", "x" * 2000]
        assert reads.search("grown") == ["grown", "x" * 2000]
        assert reads.loads == 4  # neither was cached
        assert reads.search("rex") == ["rex", "x" * 10]
        assert reads.search("rex") == ["rex", "x" * 10]
        assert reads.loads == 5

    @pytest.mark.parametrize("key", ["y" * 1025, "bad\ud800"], ids=["too long", "surrogate"])
    def test_a_key_that_cannot_be_stored_is_a_miss_not_an_error(
        self, cache: CacheService, key: str
    ) -> None:
        assert cache.set(key, 1) is False
        assert cache.set_many({key: 1, "ok": 2}) is False
        assert cache.get(key, "default") == "default"
        assert cache.get_many([key, "ok"]) == {"ok": 2}
        assert cache.delete(key) is False
        assert cache.get_or_set(key, lambda: {"n": 1}) == {"n": 1}

    @pytest.mark.parametrize(
        ("key", "error", "message"),
        [
            (42, TypeError, "cache key must be str, not int"),
            ("", ValueError, "cache key '': must not be empty"),
        ],
    )
    def test_bad_keys_are_refused(
        self, cache: CacheService, key: Any, error: type[Exception], message: str
    ) -> None:
        with pytest.raises(error, match=message):
            cache.set(key, 1)
        with pytest.raises(error, match=message):
            cache.get(key)
        with pytest.raises(error, match=message):
            cache.get_or_set(key, lambda: pytest.fail("the loader ran"))

    @pytest.mark.parametrize("ttl", [0, -1, "60", True, math.inf, math.nan, 1e300, 366 * 86400])
    def test_bad_ttl_is_refused_the_same_on_every_tier(self, cache: CacheService, ttl: Any) -> None:
        message = r"ttl for cache key 'k': must be seconds > 0 and at most 31536000 \(a year\)"
        with pytest.raises(ValueError, match=message):
            cache.set("k", 1, ttl=ttl)
        with pytest.raises(ValueError, match=message):
            cache.get_or_set("k", lambda: pytest.fail("the loader ran"), ttl=ttl)
        assert cache.get("k") is None

    def test_a_ttl_of_a_year_is_kept(self, cache: CacheService) -> None:
        assert cache.set("k", 1, ttl=365 * 86400) is True
        assert cache.set("n", 2, ttl=None) is True
        assert cache.get_many(["k", "n"]) == {"k": 1, "n": 2}

    def test_get_or_set_never_raises_on_a_corrupt_value_it_waited_for(
        self, cache: CacheService
    ) -> None:
        """Another process holds the loader lock, then leaves a corrupt value behind."""
        tier = current_tier(cache)
        lock = cache._lock_prefix + "k"
        assert tier.try_lock(lock, "other-process", 10)

        def other_process() -> None:
            time.sleep(0.2)
            tier.set(cache._key("k"), b'J{"broken', None)
            tier.unlock(lock, "other-process")

        thread = threading.Thread(target=other_process)
        thread.start()
        try:
            assert cache.get_or_set("k", lambda: "fresh") == "fresh"
        finally:
            thread.join()
        assert cache.get("k") == "fresh"

    def test_a_value_larger_than_the_limit_is_never_decoded(self, cache: CacheService) -> None:
        """Whoever can write to Redis (or the disk) cannot make us decode a huge value."""
        tier = current_tier(cache)
        planted = b"J" + orjson.dumps([[0] * 100] * 12000)  # ~2.5 MB of JSON
        tier.set(cache._key("planted"), planted, None)
        assert cache.get("planted", "default") == "default"
        assert cache.get_or_set("planted", lambda: "loaded") == "loaded"
        assert tier.get(cache._key("planted")) == codec.encode("loaded")

    def test_stats_count_this_processes_calls_per_tier(
        self, backend: tuple[str, CacheService]
    ) -> None:
        name, cache = backend
        tier = "redis" if name == "redis" else "disk"
        cache.set("s:1", 1)
        cache.get("s:1")
        cache.get("s:1")
        cache.get("s:2")
        cache.delete("s:1")
        stats = cache.stats()
        assert stats.tier == tier
        mine = stats.tier_stats(tier)
        assert (mine.hits, mine.misses, mine.sets, mine.deletes) == (2, 1, 1, 1)
        assert mine.hit_rate == pytest.approx(2 / 3)
        assert mine.keys == 0
        assert mine.memory_bytes is not None
        assert mine.memory_bytes > 0
        assert stats.as_dict()["tiers"][tier]["hit_rate"] == pytest.approx(0.6667)
        assert stats.failovers == (1 if name == "failover" else 0)
        assert stats.breaker == {"redis": "closed", "disk": "none", "failover": "open"}[name]


def test_two_namespaces_on_one_redis_never_share_entries(redis_url: str, tmp_path: Path) -> None:
    a = make_service(redis_url, tmp_path / "a", namespace="clinic-a")
    b = make_service(redis_url, tmp_path / "b", namespace="clinic-b")
    try:
        a.set("patient:1", "a's")
        assert b.get("patient:1") is None
        b.set("patient:1", "b's")
        a.invalidate("patient", 1)
        assert b.get("patient:1") == "b's"
    finally:
        a.close()
        b.close()


def test_namespace_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="namespace 'a b'"):
        CacheService(None, tmp_path, namespace="a b")


def test_debug_mode_logs_hit_and_miss_per_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = make_service(None, tmp_path, debug=True)
    try:
        with caplog.at_level("INFO", logger="cache.service"):
            cache.get("patient:7")
            cache.set("patient:7", 1)
            cache.get("patient:7")
        assert [r.getMessage() for r in caplog.records] == [
            "cache MISS patient:7 (disk)",
            "cache HIT patient:7 (disk)",
        ]
    finally:
        cache.close()


def test_disk_dir_is_private(tmp_path: Path) -> None:
    cache = make_service(None, tmp_path / "c")
    try:
        for sub in ("values", "replay"):
            assert (tmp_path / "c" / sub).stat().st_mode & 0o777 == 0o700
    finally:
        cache.close()


class TestExistsAndIncrement:
    """``exists`` and ``increment`` (issue 16, "Also"), on every tier."""

    def test_exists(self, cache: CacheService) -> None:
        assert cache.exists("patient:1") is False
        cache.set("patient:1", None)  # a cached None is there
        assert cache.exists("patient:1") is True
        cache.delete("patient:1")
        assert cache.exists("patient:1") is False
        cache.set("short", 1, ttl=0.1)
        wait_until(lambda: not cache.exists("short"), 5)
        assert cache.exists("x" * 1025) is False  # too long to be cached: never there

    def test_increment_counts_from_zero_and_reads_back_as_an_int(self, cache: CacheService) -> None:
        assert cache.increment("login-fails:ada") == 1
        assert cache.increment("login-fails:ada") == 2
        assert cache.increment("login-fails:ada", 5) == 7
        assert cache.increment("login-fails:ada", -10) == -3
        assert cache.get("login-fails:ada") == -3
        assert type(cache.get("login-fails:ada")) is int
        cache.set("visits", 40)  # a value set as an int counts on from there
        assert cache.increment("visits") == 41

    def test_a_counter_expires_ttl_after_it_was_made_however_often_incremented(
        self, cache: CacheService
    ) -> None:
        assert cache.increment("rate:desk1", ttl=0.4) == 1
        made = time.monotonic()
        while time.monotonic() - made < 0.25:
            assert cache.increment("rate:desk1", ttl=0.4) is not None
        wait_until(lambda: cache.get("rate:desk1") is None, 5)
        assert time.monotonic() - made < 1.5  # increments did not push the expiry back
        assert cache.increment("rate:desk1", ttl=0.4) == 1  # a new window

    def test_increment_of_something_else_is_none_and_changes_nothing(
        self, cache: CacheService
    ) -> None:
        cache.set("patient:1", {"name": "Rex"})
        assert cache.increment("patient:1") is None
        assert cache.get("patient:1") == {"name": "Rex"}
        cache.set("flag", True)
        assert cache.increment("flag") is None
        assert cache.increment("x" * 1025) is None  # too long to be cached: no counter

    def test_increment_refuses_a_bad_amount_or_ttl(self, cache: CacheService) -> None:
        with pytest.raises(TypeError, match=r"'n'.*amount must be an int"):
            cache.increment("n", 1.5)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="amount"):
            cache.increment("n", True)
        with pytest.raises(ValueError, match="ttl for cache key 'n'"):
            cache.increment("n", ttl=0)
        assert cache.exists("n") is False

    def test_increments_from_many_threads_are_all_counted(self, cache: CacheService) -> None:
        # The first connections to a server new to the namespace each clear it (a cold cache
        # once per Redis start, RedisTier.watch_restarts): meet the server before counting.
        assert cache.get("hits") is None
        cache.increment("hits")

        def count() -> None:
            for _ in range(50):
                cache.increment("hits")

        threads = [threading.Thread(target=count) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert cache.get("hits") == 201
