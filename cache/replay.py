"""Invalidations made while Redis was unreachable, kept on disk until Redis has them too.

The log lives in its own diskcache directory (bytes only, 0700) next to the disk tier,
so it survives a restart of the app and is shared by every process of the
workstation: whichever process first sees Redis again replays all of it.

Recording an invalidation can fail (a full disk, a log locked by another process): the
log then marks itself *incomplete* with an empty ``incomplete`` marker file (an empty
file needs no data block, so it can be made on a full disk), so this process and any
later one know that Redis must be cleared of the whole namespace, not just of the
entries the log holds. Every wait is bounded by the log's timeout.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from cache.diskfiles import DISK_ERRORS, BoundedCache, BytesOnlyDisk, make_private_dir

log = logging.getLogger(__name__)

MARKER = "incomplete"


@dataclass(frozen=True, slots=True)
class Invalidation:
    """Keys to delete and glob patterns (under ``prefix``) to delete, as one operation."""

    keys: tuple[str, ...]
    patterns: tuple[str, ...]
    prefix: str


class ReplayLog:
    """A persistent queue of :class:`Invalidation` entries.

    Args:
        directory: where the log lives (created 0700).
        timeout: seconds any call waits for another process holding the log.
    """

    def __init__(self, directory: Path, timeout: float = 0.25) -> None:
        self.directory = make_private_dir(directory)
        self._cache = BoundedCache(str(self.directory), timeout=timeout, disk=BytesOnlyDisk)
        self._seq = itertools.count()
        self._marker = self.directory / MARKER
        self._lost = False  # this process failed to record an invalidation

    # Writing -----------------------------------------------------------------------
    def append(self, invalidation: Invalidation) -> bool:
        """Record ``invalidation``; False (and the log marked incomplete) if it could not be."""
        entry = f"{time.time_ns():020d}:{os.getpid()}:{next(self._seq):08d}"
        payload = encode_invalidation(invalidation)
        try:
            self._cache.set(entry, payload, retry=False)
        except DISK_ERRORS as exc:
            self.mark_incomplete(f"{type(exc).__name__}: {exc}")
            return False
        return True

    def mark_incomplete(self, reason: str) -> None:
        """Remember that an invalidation was not recorded (here, and on disk for the
        other processes and the next start)."""
        self._lost = True
        try:
            self._marker.touch()
        except OSError as exc:  # this process still knows, and clears at its failback
            log.warning("cache: could not write %s: %r", self._marker, exc)
        log.warning(
            "cache: could not record an invalidation for Redis (%s); the whole namespace "
            "will be cleared in Redis before it is used again",
            reason,
        )

    def mark_complete(self) -> None:
        """After Redis was cleared: the log again holds everything Redis is missing."""
        try:
            self._marker.unlink(missing_ok=True)
        except OSError as exc:  # stay incomplete, which only costs another clear
            log.warning("cache: could not remove %s: %r", self._marker, exc)
            return
        self._lost = False

    # Reading -----------------------------------------------------------------------
    @property
    def complete(self) -> bool:
        """False when some invalidation was not recorded, here or in another process."""
        return not self._lost and not self._marker.exists()

    def pending(self) -> list[tuple[str, Invalidation | None]]:
        """Every entry, oldest first; ``None`` for an entry that cannot be read (the caller
        removes it after clearing the namespace, since what it held is unknown)."""
        out: list[tuple[str, Invalidation | None]] = []
        for entry in self._cache.iterkeys():
            try:
                payload = self._cache.get(entry, retry=False)
            except ValueError:  # not plain bytes (BytesOnlyDisk refuses it)
                out.append((entry, None))
                continue
            if payload is None:
                continue  # replayed and removed by another process meanwhile
            out.append((entry, decode_invalidation(payload)))
        return out

    def remove(self, entries: Sequence[str]) -> None:
        with self._cache.transact(retry=False):
            for entry in entries:
                self._cache.delete(entry, retry=False)

    def __len__(self) -> int:
        try:
            return len(self._cache)
        except DISK_ERRORS:
            return 0

    def dirty(self) -> bool:
        """Whether Redis may be missing invalidations this workstation made."""
        return not self.complete or len(self) > 0

    def close(self) -> None:
        self._cache.close()


def encode_invalidation(invalidation: Invalidation) -> bytes:
    """The stored form of an invalidation (the replay log's and the channel's)."""
    return orjson.dumps(
        {
            "keys": list(invalidation.keys),
            "patterns": list(invalidation.patterns),
            "prefix": invalidation.prefix,
        }
    )


def decode_invalidation(payload: object) -> Invalidation | None:
    """The entry, or None if it is not one of ours (written by a bug, a bad disk, a hand)."""
    try:
        data = orjson.loads(payload)  # type: ignore[arg-type]
        keys = tuple(data["keys"])
        patterns = tuple(data["patterns"])
        prefix = data["prefix"]
    except (ValueError, TypeError, KeyError):
        return None
    if not (
        isinstance(prefix, str)
        and prefix
        and all(isinstance(k, str) for k in keys)
        and all(isinstance(p, str) for p in patterns)
    ):
        return None
    return Invalidation(keys, patterns, prefix)
