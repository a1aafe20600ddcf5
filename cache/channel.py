"""A second road for invalidations that Redis did not get: the clinic database.

Redis carries every invalidation to every desk while all of them reach it. When one
cannot (Redis down, a network fault of that desk's own, or no Redis at all on a shared
database), its invalidations also go into a channel every desk shares anyway: a table of
the clinic database. Each desk follows the channel (every ``channel_interval``) and
applies what is new to the tier it reads, so a change made on a desk that could not tell
Redis still reaches every other desk's cache, whether those desks noticed an outage or
not.

Each tier remembers how far through the channel it is (a cursor stored *in* the tier:
Redis's is shared by every desk, so one desk applying an entry is enough; a disk tier's
is the workstation's). A tier whose cursor is missing or older than the oldest entry kept
may have missed entries: its namespace is cleared instead.

The channel itself is a protocol: ``cache/`` imports nothing of ours and no database;
``purplecross_desktop.cache_channel`` implements it on the clinic database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from cache.replay import Invalidation, decode_invalidation


class InvalidationChannel(Protocol):
    """Invalidations shared through the clinic database, in commit order.

    Entry ids grow in commit order: a reader that sees entry ``n`` has seen every entry
    before it (an implementation on a server database serializes its writers for that).
    Every method may raise; the cache logs it and carries on (a failed publish leaves the
    other safeguards: the replay log, the failback clear, ``fallback_max_ttl``).
    """

    def publish(self, invalidation: Invalidation) -> None:
        """Record ``invalidation`` for every desk (committed when this returns)."""
        ...

    def bounds(self) -> tuple[int, int] | None:
        """The ids of the oldest and newest entries kept, or None when there are none."""
        ...

    def entries(self, after: int, upto: int) -> Sequence[bytes]:
        """The payloads of entries ``after < id <= upto``, oldest first."""
        ...


@dataclass(frozen=True, slots=True)
class ChannelBatch:
    """What a tier must apply to catch up with the channel."""

    latest: int
    invalidations: tuple[Invalidation, ...]
    #: The tier's cursor was ahead of the channel (the database was restored from a
    #: backup, or replaced): set it to ``latest`` even though that is backwards.
    reset: bool = False


def catch_up(channel: InvalidationChannel, cursor: int | None, prefix: str) -> ChannelBatch | None:
    """What a tier at ``cursor`` must apply (None: nothing, it is up to date).

    Entries are merged per namespace into one invalidation each (one pass over Redis per
    namespace). A tier that has no cursor, or one older than the oldest entry kept, may
    have missed entries that are gone: it gets a clear of ``prefix`` instead. So does an
    entry that can't be read (what it named is unknown), and a cursor ahead of the newest
    entry: ids never go back, so the channel's history is not the one the cursor followed
    (a database restored from a backup); the batch then resets the cursor.
    """
    bounds = channel.bounds()
    if bounds is None:
        return None
    oldest, latest = bounds
    clear_all = Invalidation((), (prefix + "*",), prefix)
    if cursor is not None and cursor > latest:
        return ChannelBatch(latest, (clear_all,), reset=True)
    if cursor is not None and cursor == latest:
        return None
    if cursor is None or cursor < oldest - 1:
        return ChannelBatch(latest, (clear_all,))
    payloads = channel.entries(cursor, latest)
    # A prune may have run between the two reads: entries after the cursor gone, the
    # read above short of them. Only the bounds now tell (ids kept are a run).
    after = channel.bounds()
    if after is None or after[0] > cursor + 1:
        return ChannelBatch(latest, (clear_all,))
    merged: dict[str, tuple[dict[str, None], dict[str, None]]] = {}
    for payload in payloads:
        op = decode_invalidation(payload)
        if op is None:
            return ChannelBatch(latest, (clear_all,))
        keys, patterns = merged.setdefault(op.prefix, ({}, {}))
        keys.update(dict.fromkeys(op.keys))
        patterns.update(dict.fromkeys(op.patterns))
    ops = tuple(Invalidation(tuple(k), tuple(p), pre) for pre, (k, p) in merged.items())
    return ChannelBatch(latest, ops)
