"""Invalidations made while Redis was unreachable, kept on disk until Redis has them too.

The log lives in its own diskcache directory (bytes only, 0700) next to the disk tier,
so it survives a restart of the app and is shared by every process of the
workstation: whichever process first sees Redis again replays all of it.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from cache.diskfiles import BoundedCache, BytesOnlyDisk, make_private_dir


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
    """

    def __init__(self, directory: Path) -> None:
        self.directory = make_private_dir(directory)
        self._cache = BoundedCache(str(self.directory), timeout=1.0, disk=BytesOnlyDisk)
        self._seq = itertools.count()

    def append(self, invalidation: Invalidation) -> None:
        entry = f"{time.time_ns():020d}:{os.getpid()}:{next(self._seq):08d}"
        payload = orjson.dumps(
            {
                "keys": list(invalidation.keys),
                "patterns": list(invalidation.patterns),
                "prefix": invalidation.prefix,
            }
        )
        self._cache.set(entry, payload, retry=True)

    def pending(self) -> list[tuple[str, Invalidation]]:
        """Every entry, oldest first (order does not matter for deletes, but it reads well)."""
        out: list[tuple[str, Invalidation]] = []
        for entry in self._cache.iterkeys():
            payload = self._cache.get(entry, retry=True)
            if not isinstance(payload, bytes):
                continue  # replayed and removed by another process meanwhile
            data = orjson.loads(payload)
            out.append(
                (
                    entry,
                    Invalidation(tuple(data["keys"]), tuple(data["patterns"]), data["prefix"]),
                )
            )
        return out

    def remove(self, entries: Sequence[str]) -> None:
        with self._cache.transact(retry=True):
            for entry in entries:
                self._cache.delete(entry, retry=True)

    def __len__(self) -> int:
        return len(self._cache)

    def close(self) -> None:
        self._cache.close()
