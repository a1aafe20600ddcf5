"""Property: whatever the order of reads, writes and Redis outages, no read is stale.

A small "database" (a version per key) is the truth. Every write bumps the versions
of the keys it affects and invalidates them through the cache, as the domain does.
Redis goes away and comes back at random, *with its data* (a network partition,
through :class:`~tests.cache.proxy.TcpProxy`: a SIGKILL without persistence would
lose the very entries a stale read needs, and costs a restart per step). The rule:
a read never returns a version older than the last write's.

The real SIGKILL + restart with persisted data is covered in ``test_failover.py``.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.cache.conftest import NO_PROBE, make_service
from tests.cache.proxy import TcpProxy

KEYS = ("patient:1", "patient:1:visits", "patient:2", "patient:list", "client:1", "search:rex")
# What each entity write makes stale, per the key conventions of docs/caching.md.
WRITES = {
    ("patient", 1): {"patient:1", "patient:1:visits", "patient:list", "search:rex"},
    ("patient", 2): {"patient:2", "patient:list", "search:rex"},
    ("client", 1): {"client:1", "search:rex"},
}


def test_no_read_is_older_than_the_last_invalidation(proxy: TcpProxy, tmp_path: Path) -> None:
    examples = itertools.count()

    class NoStaleReads(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.cache = make_service(
                proxy.url,
                tmp_path / f"example{next(examples)}",
                probe_backoff=NO_PROBE,  # failback happens in the `failback` rule
                # A timeout on a busy CI machine would be an outage of its own; this
                # test is about the outages its rules make.
                socket_timeout=10,
            )
            # Another workstation: same Redis (never cut off), its own disk.
            self.elsewhere = make_service(
                f"redis://127.0.0.1:{proxy.target_port}/0",
                tmp_path / f"example{next(examples)}",
                namespace=self.cache.namespace,
                probe_backoff=NO_PROBE,
                socket_timeout=10,
            )
            self.db: dict[str, int] = dict.fromkeys(KEYS, 0)
            self.network_up = True

        def teardown(self) -> None:
            self.cache.close()
            self.elsewhere.close()
            proxy.restore()

        def _bump(self, keys: set[str]) -> None:
            for key in keys:
                self.db[key] += 1

        # Reads -----------------------------------------------------------------------
        @rule(key=st.sampled_from(KEYS))
        def read_through(self, key: str) -> None:
            value = self.cache.get_or_set(key, lambda: self.db[key])
            assert value == self.db[key], f"{key}: read {value}, database has {self.db[key]}"

        @rule(key=st.sampled_from(KEYS))
        def read(self, key: str) -> None:
            value = self.cache.get(key)
            assert value in (None, self.db[key]), f"{key}: read {value}, db has {self.db[key]}"

        @rule(keys=st.lists(st.sampled_from(KEYS), max_size=4))
        def read_many(self, keys: list[str]) -> None:
            for key, value in self.cache.get_many(keys).items():
                assert value == self.db[key]

        @rule(key=st.sampled_from(KEYS))
        def read_racing_a_write(self, key: str) -> None:
            # The loader reads the database, then a write lands before it returns: the
            # caller gets what it loaded, but the cache must not keep it.
            def loader() -> int:
                loaded = self.db[key]
                self._bump({key})
                self.cache.delete(key)
                return loaded

            self.cache.get_or_set(key, loader)

        # Writes ----------------------------------------------------------------------
        @rule(key=st.sampled_from(KEYS))
        def store_current(self, key: str) -> None:
            self.cache.set(key, self.db[key])

        @rule(write=st.sampled_from(sorted(WRITES)))
        def write_entity(self, write: tuple[str, int]) -> None:
            self._bump(WRITES[write])
            self.cache.invalidate(*write)

        @precondition(lambda self: self.network_up)
        @rule(write=st.sampled_from(sorted(WRITES)))
        def write_elsewhere(self, write: tuple[str, int]) -> None:
            # Only while we are on Redis: a write on another machine during our outage
            # can't reach our disk (fallback_max_ttl bounds that, by design). The tier is
            # checked here, not in the precondition: it changes with the breaker's probe,
            # and a precondition that reads outside state makes hypothesis's draws flaky.
            if self.cache.tier != "redis":
                return
            self._bump(WRITES[write])
            self.elsewhere.invalidate(*write)
            assert self.elsewhere.check_redis(), "the other workstation lost Redis"

        @precondition(lambda self: self.network_up)
        @rule(write=st.sampled_from(sorted(WRITES)))
        def read_racing_a_write_elsewhere(self, write: tuple[str, int]) -> None:
            if self.cache.tier != "redis":
                return
            key = sorted(WRITES[write])[0]

            def loader() -> int:
                loaded = self.db[key]
                self.write_elsewhere(write)  # another machine saves before we store
                return loaded

            self.cache.get_or_set(key, loader)

        @rule(key=st.sampled_from(KEYS))
        def write_key(self, key: str) -> None:
            self._bump({key})
            self.cache.delete(key)

        @rule()
        def write_every_patient(self) -> None:
            self._bump({k for k in KEYS if k.startswith("patient:")})
            self.cache.delete_pattern("patient:*")

        # Redis comes and goes --------------------------------------------------------
        @rule()
        def cut_network(self) -> None:
            proxy.cut()
            self.network_up = False

        @rule(fail_back_now=st.booleans())
        def restore_network(self, fail_back_now: bool) -> None:
            proxy.restore()
            self.network_up = True
            if fail_back_now:
                self.cache.check_redis()

        @rule(
            before=st.lists(st.sampled_from(KEYS), max_size=2),
            writes=st.lists(st.sampled_from(sorted(WRITES)), max_size=2),
            after=st.lists(st.sampled_from(KEYS), max_size=2),
            fail_back_now=st.booleans(),
        )
        def outage(
            self,
            before: list[str],
            writes: list[tuple[str, int]],
            after: list[str],
            fail_back_now: bool,
        ) -> None:
            # The interesting sequence in one step: Redis unreachable while data changes.
            self.cut_network()
            for key in before:
                self.read_through(key)
            for write in writes:
                self.write_entity(write)
            for key in after:
                self.read_through(key)
            self.restore_network(fail_back_now)

        @rule()
        def failback(self) -> None:
            self.cache.check_redis()

        @invariant()
        def tier_is_known(self) -> None:
            assert self.cache.tier in ("redis", "disk")

    run_state_machine_as_test(
        NoStaleReads,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
