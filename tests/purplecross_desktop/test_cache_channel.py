"""The cache's invalidation channel through the clinic database (docs/caching.md, "Across
desks"): a desk that could not tell Redis still reaches every other desk's cache.

Real components throughout: a private redis-server frozen with SIGSTOP or killed, a TCP
path cut for one desk only, the other desk a real second process, and the clinic
database a real SQLite file and a real PostgreSQL database (``database_url``).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from cache import CacheService
from cache.channel import catch_up
from cache.replay import Invalidation, encode_invalidation
from purplecross_desktop.cache_channel import DatabaseChannel
from purplecross_desktop.database.session import make_engine, upgrade
from tests.cache.conftest import NO_PROBE, frozen, wait_until
from tests.cache.proxy import TcpProxy
from tests.support.redis_server import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[2]
INTERVAL = 0.2  # the desks' channel_interval here; the app's is 1 s

# The other desk: its own process, disk directory and cache service on the same Redis (or
# none) and the same clinic database. It saves patient 1 (the test's "database" is the
# value the test expects next) and invalidates, then goes home.
OTHER_DESK = textwrap.dedent(
    """
    import sys
    from cache import CacheService
    from purplecross_desktop.cache_channel import DatabaseChannel
    from purplecross_desktop.database.session import make_engine

    redis_url, disk_dir, database_url = sys.argv[1:]
    engine = make_engine(database_url)
    cache = CacheService(None if redis_url == "-" else redis_url, disk_dir, namespace="clinic",
                         shared_database=redis_url == "-", channel=DatabaseChannel(engine),
                         probe_backoff=(3600.0, 3600.0))
    cache.invalidate("patient", 1)
    print("tier after invalidating:", cache.tier, flush=True)
    cache.close()
    engine.dispose()
    """
)


def other_desk_saves(redis_url: str | None, disk_dir: Path, database_url: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", OTHER_DESK, redis_url or "-", str(disk_dir), database_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def desk(
    redis_url: str | None, disk_dir: Path, engine: sa.Engine, **kwargs: object
) -> CacheService:
    kwargs.setdefault("probe_backoff", NO_PROBE)
    kwargs.setdefault("channel_interval", INTERVAL)
    cache = CacheService(
        redis_url,
        disk_dir,
        namespace="clinic",
        channel=DatabaseChannel(engine),
        **kwargs,  # type: ignore[arg-type]
    )
    # The follower's first look (at start) calls Redis: under load it could land in a
    # test's freeze and fail the desk over, which the tests say it never noticed.
    assert cache.first_look_done.wait(10)
    return cache


def stale_for(cache: CacheService, key: str, old: object, limit: float = 5.0) -> float:
    """Seconds until ``cache`` stops answering ``old`` for ``key`` (fails after ``limit``)."""
    started = time.monotonic()
    wait_until(lambda: cache.get(key) != old, limit)
    return time.monotonic() - started


def test_a_desk_idle_through_an_outage_serves_nothing_stale_after_it(
    redis_server: RedisServer, engine: sa.Engine, database_url: str, tmp_path: Path
) -> None:
    """Desk A makes no cache call while Redis is frozen; desk B saves then and goes home,
    so B's replay log reaches Redis only at B's next start. A must not read the old
    record once Redis answers again."""
    a = desk(redis_server.url, tmp_path / "a", engine, channel_interval=None)
    try:
        assert a.set("patient:1", "v1")
        assert a.tier == "redis"
        with frozen(redis_server):
            said = other_desk_saves(redis_server.url, tmp_path / "b", database_url)
            assert said == "tier after invalidating: disk"
        assert a.tier == "redis"  # A noticed nothing: it made no call
        assert a.get("patient:1") == "v1"  # the stale entry is still in Redis ...
        assert a.follow_channel() == 1  # ... until A's next look at the channel
        assert a.get("patient:1") is None
        assert a.tier == "redis"
        assert a.follow_channel() == 0  # Redis's cursor moved on: nothing twice
    finally:
        a.close()


def test_the_follower_thread_bounds_how_long_an_idle_desk_can_be_stale(
    redis_server: RedisServer, engine: sa.Engine, database_url: str, tmp_path: Path
) -> None:
    """The same outage with A's follower thread running: within ``channel_interval`` of
    Redis answering, A reads no entry B invalidated."""
    a = desk(redis_server.url, tmp_path / "a", engine)
    try:
        assert a.set("patient:1", "v1")
        with frozen(redis_server):
            other_desk_saves(redis_server.url, tmp_path / "b", database_url)
        assert stale_for(a, "patient:1", "v1") < INTERVAL + 1.5
    finally:
        a.close()


def test_a_desk_cut_off_from_redis_only_still_reaches_the_others(
    redis_server: RedisServer, engine: sa.Engine, database_url: str, tmp_path: Path
) -> None:
    """B's own network path to Redis is down (the database still answers); A never lost
    Redis. B's save reaches A through the database, not at B's failback."""
    path_b = TcpProxy(redis_server.port)
    path_b.start()
    a = desk(redis_server.url, tmp_path / "a", engine)
    try:
        assert a.set("patient:1", "v1")
        path_b.cut()
        said = other_desk_saves(path_b.url, tmp_path / "b", database_url)
        assert said == "tier after invalidating: disk"
        assert stale_for(a, "patient:1", "v1") < INTERVAL + 1.5
        assert a.tier == "redis"
    finally:
        a.close()
        path_b.cut()


def test_a_redis_killed_and_restarted_with_its_data_serves_nothing_stale(
    engine: sa.Engine, database_url: str, tmp_path: Path
) -> None:
    """SIGKILL a persisting Redis; B saves while it is dead and goes home; Redis comes back
    from its dump with the old entry. A, idle all along, drops it from the channel."""
    server = RedisServer(persist=True)
    server.start()
    a = desk(server.url, tmp_path / "a", engine, channel_interval=None)
    try:
        assert a.set("patient:1", "v1")
        client = redis.Redis.from_url(server.url)
        client.save()  # the entry is in the dump Redis restarts from
        client.close()
        server.kill()
        other_desk_saves(server.url, tmp_path / "b", database_url)
        server.start()
        # Back from the dump, but the new server is noticed (its run_id) and this
        # namespace cleared before any read; the channel would drop it too.
        assert a.get("patient:1") is None
        a.follow_channel()
        assert a.get("patient:1") is None
    finally:
        a.close()
        server.cleanup()


def test_without_redis_desks_on_one_database_see_each_others_saves_within_the_interval(
    engine: sa.Engine, database_url: str, tmp_path: Path
) -> None:
    """No Redis at all: each desk has only its disk, and the database carries B's save to
    A in about ``channel_interval``, not ``fallback_max_ttl`` (30 s)."""
    a = desk(None, tmp_path / "a", engine, shared_database=True)
    try:
        assert a.get_or_set("patient:1", lambda: "v1", ttl=3600) == "v1"
        other_desk_saves(None, tmp_path / "b", database_url)
        assert stale_for(a, "patient:1", "v1") < INTERVAL + 1.5
    finally:
        a.close()


def test_a_load_that_read_the_database_before_the_save_is_not_stored(
    redis_server: RedisServer, engine: sa.Engine, database_url: str, tmp_path: Path
) -> None:
    """A loads patient 1 (old) while B, cut off from Redis, saves; A's follower applies
    B's invalidation before A's load finishes: the old value must not be stored."""
    path_b = TcpProxy(redis_server.port)
    path_b.start()
    a = desk(redis_server.url, tmp_path / "a", engine, channel_interval=None)
    try:
        path_b.cut()

        def slow_old_load() -> str:
            other_desk_saves(path_b.url, tmp_path / "b", database_url)
            a.follow_channel()  # what the follower thread does meanwhile
            return "v1"  # read from the database before B's save

        assert a.get_or_set("patient:1", slow_old_load) == "v1"
        assert a.get("patient:1") is None
    finally:
        a.close()
        path_b.cut()


# The channel's own edges -------------------------------------------------------------------
def publish(engine: sa.Engine, *keys: str) -> None:
    DatabaseChannel(engine).publish(
        Invalidation(tuple(f"pc:clinic:{k}" for k in keys), (), "pc:clinic:")
    )


def test_a_tier_without_a_cursor_or_behind_the_oldest_entry_is_cleared(engine: sa.Engine) -> None:
    channel = DatabaseChannel(engine)
    assert catch_up(channel, None, "pc:clinic:") is None  # nothing ever published
    for key in ("patient:1", "patient:2", "client:3"):
        publish(engine, key)
    oldest, latest = channel.bounds() or (0, 0)
    clear = (Invalidation((), ("pc:clinic:*",), "pc:clinic:"),)
    batch = catch_up(channel, None, "pc:clinic:")
    assert batch is not None
    assert batch.invalidations == clear
    assert batch.latest == latest
    batch = catch_up(channel, oldest, "pc:clinic:")
    assert batch is not None
    assert batch.invalidations == (
        Invalidation(("pc:clinic:patient:2", "pc:clinic:client:3"), (), "pc:clinic:"),
    )
    assert catch_up(channel, latest, "pc:clinic:") is None
    with engine.begin() as conn:  # pruned: entries the tier never saw are gone
        conn.execute(sa.text("DELETE FROM cache_invalidation WHERE id < :id"), {"id": latest})
    batch = catch_up(channel, oldest, "pc:clinic:")
    assert batch is not None
    assert batch.invalidations == clear


def test_an_unreadable_entry_clears_the_namespace(engine: sa.Engine) -> None:
    publish(engine, "patient:1")
    channel = DatabaseChannel(engine)
    oldest, _ = channel.bounds() or (0, 0)
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO cache_invalidation (payload, created_at) VALUES (:p, :t)"),
            {"p": "not json", "t": "2026-12-02 10:00:00"},
        )
    batch = catch_up(channel, oldest, "pc:clinic:")
    assert batch is not None
    assert batch.invalidations == (Invalidation((), ("pc:clinic:*",), "pc:clinic:"),)


def test_publishing_prunes_old_entries_but_never_the_newest(engine: sa.Engine) -> None:
    channel = DatabaseChannel(engine, prune_interval=0.0)
    channel.publish(Invalidation(("pc:clinic:a",), (), "pc:clinic:"))
    channel.retention = -dt.timedelta(seconds=1)  # every entry is "old" now
    channel.publish(Invalidation(("pc:clinic:b",), (), "pc:clinic:"))
    bounds = channel.bounds()
    assert bounds is not None
    assert bounds[0] == bounds[1]
    assert encode_invalidation(Invalidation(("pc:clinic:b",), (), "pc:clinic:")) in channel.entries(
        0, bounds[1]
    )


def test_a_database_that_cannot_be_reached_never_makes_the_cache_raise(
    redis_url: str, tmp_path: Path
) -> None:
    """Publishing and following fail (a PostgreSQL port nobody listens on): the cache
    logs it and carries on with its other safeguards."""
    dead = sa.create_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/clinic",
        connect_args={"connect_timeout": 1},
    )
    cache = CacheService(
        f"redis://127.0.0.1:{free_port()}/0",
        tmp_path,
        namespace="clinic",
        channel=DatabaseChannel(dead),
        channel_interval=None,
        probe_backoff=NO_PROBE,
    )
    try:
        cache.set("patient:1", "v1")  # fails over to disk
        assert cache.invalidate("patient", 1) == 1  # published nowhere, raised nothing
        assert cache.follow_channel() == 0
        assert cache.get("patient:1") is None
    finally:
        cache.close()
        dead.dispose()


def test_a_desk_whose_clock_is_days_behind_never_makes_a_prune_lose_entries(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries are written with each desk's own clock, so ``created_at`` is not in id
    order. A prune by age alone then deletes a desk-behind entry from the middle of the
    channel: a tier whose cursor is before it is not "behind the oldest entry", reads on
    past the hole and never applies that invalidation (nor clears)."""
    import purplecross_desktop.cache_channel as cache_channel

    publish(engine, "patient:1")  # desk A, clock right
    _, cursor = DatabaseChannel(engine).bounds() or (0, 0)  # a tier up to date
    right = cache_channel.utcnow()
    monkeypatch.setattr(cache_channel, "utcnow", lambda: right - dt.timedelta(days=3))
    publish(engine, "patient:2")  # desk B, its clock three days behind
    monkeypatch.setattr(cache_channel, "utcnow", lambda: right)
    publish(engine, "patient:3")  # desk A again: this publish prunes
    batch = catch_up(DatabaseChannel(engine), cursor, "pc:clinic:")
    assert batch is not None
    applied = {key for op in batch.invalidations for key in (*op.keys, *op.patterns)}
    assert "pc:clinic:patient:2" in applied or "pc:clinic:*" in applied, batch


def test_a_cursor_ahead_of_a_restored_database_clears_and_follows_it_again(
    tmp_path: Path,
) -> None:
    """The clinic database is restored from last night's backup: its channel's ids go
    back, while a tier's cursor (in Redis, or a workstation's disk) stays where it was.
    A cursor ahead of the newest entry belongs to another history: the tier clears its
    namespace and follows the restored channel from its newest entry, instead of
    skipping every new entry until the ids pass the old cursor."""
    import shutil

    db = tmp_path / "clinic.db"
    url = f"sqlite:///{db}"
    upgrade(url)
    engine = make_engine(url)
    publish(engine, "patient:9")
    engine.dispose()
    shutil.copy(db, tmp_path / "backup.db")  # last night's backup (the app was closed)
    engine = make_engine(url)
    for key in ("patient:7", "patient:8", "patient:6"):
        publish(engine, key)
    a = desk(None, tmp_path / "a", engine, shared_database=True, channel_interval=3600.0)
    a.follow_channel()  # (after the follower's first look) the disk's cursor is at 4
    a.close()
    engine.dispose()
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copy(tmp_path / "backup.db", db)  # the restore
    engine = make_engine(url)
    a = desk(None, tmp_path / "a", engine, shared_database=True, channel_interval=3600.0)
    b = desk(None, tmp_path / "b", engine, shared_database=True, channel_interval=3600.0)
    try:
        a.follow_channel()
        assert a.set("patient:1", "v1")
        assert a.set("patient:2", "kept")
        b.invalidate("patient", 1)  # the restored channel's second entry
        a.follow_channel()
        assert a.get("patient:1") is None
        assert a.follow_channel() == 0  # following again, not clearing at every look
        assert a.get("patient:2") == "kept"
    finally:
        a.close()
        b.close()
        engine.dispose()


def test_a_redis_cursor_ahead_of_the_channel_is_reset(
    redis_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    """The same on Redis's shared cursor (a database restored, Redis kept)."""
    publish(engine, "patient:9")
    _, latest = DatabaseChannel(engine).bounds() or (0, 0)
    a = desk(redis_url, tmp_path / "a", engine, channel_interval=3600.0)
    try:
        a.follow_channel()
        client = redis.Redis.from_url(redis_url)
        (cursor,) = list(client.keys("pc-chan:*"))
        client.set(cursor, latest + 1000)  # followed a longer history
        assert a.set("patient:1", "v1")
        assert a.follow_channel() == 1
        assert a.get("patient:1") is None
        assert int(client.get(cursor) or 0) == latest
        client.close()
    finally:
        a.close()


def test_a_prune_between_reading_the_bounds_and_the_entries_never_loses_entries(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A desk back after a long weekend follows from an old cursor while another desk's
    publish prunes: the entries it was about to read go between its two queries. It must
    clear, not read on from the first entry left."""
    import purplecross_desktop.cache_channel as cache_channel

    right = cache_channel.utcnow()
    monkeypatch.setattr(cache_channel, "utcnow", lambda: right - dt.timedelta(days=3))
    publish(engine, "patient:1")  # Friday
    _, cursor = DatabaseChannel(engine).bounds() or (0, 0)  # the desk saw it, then went home
    publish(engine, "patient:2")  # Friday, after it left
    monkeypatch.setattr(cache_channel, "utcnow", lambda: right)

    class Racing(DatabaseChannel):
        def entries(self, after: int, upto: int) -> Sequence[bytes]:
            publish(engine, "patient:3")  # Monday: another desk's publish prunes Friday
            return super().entries(after, upto)

    batch = catch_up(Racing(engine), cursor, "pc:clinic:")
    assert batch is not None
    applied = {key for op in batch.invalidations for key in (*op.keys, *op.patterns)}
    assert "pc:clinic:patient:2" in applied or "pc:clinic:*" in applied, batch


def test_stats_and_the_health_check_say_when_the_channel_fails(
    redis_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    from purplecross_desktop.health import cache_check
    from purplecross_desktop.settings import Settings

    settings = Settings(data_dir=tmp_path, redis_url=redis_url)
    good = desk(redis_url, tmp_path / "good", engine, channel_interval=None)
    dead = sa.create_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/clinic",
        connect_args={"connect_timeout": 1},
    )
    bad = desk(redis_url, tmp_path / "bad", dead, channel_interval=None)
    try:
        good.follow_channel()
        assert good.stats().channel == "following"
        assert cache_check(settings, good).status == "healthy"
        bad.follow_channel()
        assert bad.stats().channel.startswith("failing: read: OperationalError")
        check = cache_check(settings, bad)
        assert check.status == "degraded"
        assert "invalidation channel in the clinic database is failing" in check.summary
        assert bad.stats().as_dict()["channel"] == bad.stats().channel
        no_channel = CacheService(redis_url, tmp_path / "none", namespace="clinic")
        assert no_channel.stats().channel == "none"
        no_channel.close()
    finally:
        good.close()
        bad.close()
        dead.dispose()
