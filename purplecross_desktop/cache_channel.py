"""The cache's invalidation channel on the clinic database (``cache.channel``'s protocol).

A desk that cannot tell Redis of an invalidation (Redis down, a network fault of its
own, or no Redis on a clinic server) writes it here too; every desk follows this table
and applies what is new to the tier it reads. Entries are kept for a day (a desk closed
longer than that clears its namespace instead: see ``cache.channel.catch_up``); an entry
is pruned only with every entry before it, whatever the clocks of the desks that wrote them.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence

import sqlalchemy as sa

from cache.replay import Invalidation, encode_invalidation
from purplecross_desktop.database.base import utcnow
from purplecross_desktop.database.cache_invalidation import CacheInvalidationRow

log = logging.getLogger(__name__)

RETENTION = dt.timedelta(days=1)
# Writers on PostgreSQL take this transaction-level advisory lock, so ids are given out
# and committed in one order: a follower that sees id n has seen every id before it.
ADVISORY_LOCK = 0x70632D63616368  # "pc-cach"
# A publish on the write path waits at most this long for the database (PostgreSQL).
STATEMENT_TIMEOUT_MS = 2000

_TABLE: sa.Table = CacheInvalidationRow.__table__  # type: ignore[assignment]


class DatabaseChannel:
    """The channel on ``engine``'s database (SQLite file or PostgreSQL).

    Args:
        engine: the clinic database (the app's engine).
        retention: how long entries are kept; older ones are pruned by publishers.
        prune_interval: seconds between two prunes by this process.
    """

    def __init__(
        self,
        engine: sa.Engine,
        retention: dt.timedelta = RETENTION,
        prune_interval: float = 600.0,
    ) -> None:
        self.engine = engine
        self.retention = retention
        self.prune_interval = prune_interval
        self._postgres = engine.dialect.name == "postgresql"
        self._next_prune = 0.0

    def publish(self, invalidation: Invalidation) -> None:
        payload = encode_invalidation(invalidation).decode()
        with self.engine.begin() as conn:
            if self._postgres:
                conn.execute(sa.text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_LOCK)))
            # SQLite: the insert takes the database's one write lock until commit, which
            # serializes writers the same way.
            conn.execute(sa.insert(_TABLE).values(payload=payload, created_at=utcnow()))
            if time.monotonic() >= self._next_prune:
                self._prune(conn)

    def _prune(self, conn: sa.Connection) -> None:
        """Drop entries older than the retention, never the newest (its id is what a
        follower compares its cursor with), and only a run of the oldest ids: each desk
        writes ``created_at`` with its own clock, so ages are not in id order, and a hole
        in the middle would let a follower whose cursor is before it read on past it
        (only a cursor before the oldest id kept is known to have missed entries)."""
        self._next_prune = time.monotonic() + self.prune_interval
        newest = sa.select(sa.func.max(_TABLE.c.id)).scalar_subquery()
        first_young = (
            sa.select(sa.func.min(_TABLE.c.id))
            .where(_TABLE.c.created_at >= utcnow() - self.retention)
            .scalar_subquery()
        )
        conn.execute(sa.delete(_TABLE).where(_TABLE.c.id < sa.func.coalesce(first_young, newest)))

    def bounds(self) -> tuple[int, int] | None:
        with self.engine.connect() as conn:
            oldest, newest = conn.execute(
                sa.select(sa.func.min(_TABLE.c.id), sa.func.max(_TABLE.c.id))
            ).one()
        return None if newest is None else (int(oldest), int(newest))

    def entries(self, after: int, upto: int) -> Sequence[bytes]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(_TABLE.c.payload)
                .where(_TABLE.c.id > after, _TABLE.c.id <= upto)
                .order_by(_TABLE.c.id)
            ).scalars()
            return [payload.encode() for payload in rows]
