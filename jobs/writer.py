"""Group commit for job completions.

A worker hands each completion to this writer, which records whatever has piled up in
one transaction, and tries a failed batch again until it lands. The job is never at
risk meanwhile: until its completion is written it is ``active`` under a runner that
heart-beats, and if that process dies the job runs again (tasks are idempotent).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger(__name__)


class RowWriter:
    """Writes rows in batches on a background thread.

    Args:
        write: inserts a batch of rows in one transaction.
        retry_delay: seconds before a failed batch is tried again.
        linger: seconds the thread waits after the first row for more to join the batch
            (fewer, larger transactions, and no thread switch per row).
    """

    def __init__(
        self,
        write: Callable[[Sequence[dict[str, Any]]], None],
        retry_delay: float = 0.5,
        linger: float = 0.01,
    ) -> None:
        self._write = write
        self._linger = linger
        self._retry_delay = retry_delay
        self._rows: list[dict[str, Any]] = []
        self._busy = 0
        self._cond = threading.Condition()
        self._closed = False
        self._flushing = 0
        self._thread: threading.Thread | None = None

    def add(self, row: dict[str, Any]) -> None:
        """Queue ``row`` for insertion (starts the thread on first use)."""
        with self._cond:
            if self._closed:
                raise RuntimeError("the registry writer is closed")
            self._rows.append(row)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="jobs-registry-writer", daemon=True
                )
                self._thread.start()
            if len(self._rows) == 1:
                self._cond.notify_all()  # the thread sleeps only when there was nothing

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued row is written; False on timeout."""
        with self._cond:
            self._flushing += 1
            self._cond.notify_all()
            try:
                return self._cond.wait_for(lambda: not self._rows and not self._busy, timeout)
            finally:
                self._flushing -= 1

    def close(self) -> None:
        """Write what is queued and stop the thread."""
        self.flush()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._rows or self._closed)
                if not self._rows and self._closed:
                    return
                if not self._closed and not self._flushing:
                    self._cond.wait(self._linger)  # let a batch gather
                batch, self._rows = self._rows, []
                self._busy = len(batch)
            try:
                self._write(batch)
            except Exception:
                log.exception("writing %d registry rows failed; trying again", len(batch))
                with self._cond:
                    self._rows[:0] = batch
                    self._busy = 0
                    if self._closed:
                        return
                    self._cond.wait(self._retry_delay)
                continue
            with self._cond:
                self._busy = 0
                self._cond.notify_all()
