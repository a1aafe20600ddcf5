"""A thread that calls an enqueue function at start and then once per interval slot."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class EverySlot:
    """Calls ``enqueue(interval)`` now and at the start of every ``interval``-second slot.

    Every app and worker runs one; the enqueued job's idempotency key carries the slot,
    so it is one job per slot cluster-wide. A failure is logged and tried next slot.

    Args:
        name: the thread's name (and what the log calls it).
        enqueue: enqueues the slot's job.
        interval: seconds per slot.
    """

    def __init__(self, name: str, enqueue: Callable[[float], Any], interval: float) -> None:
        self.name = name
        self.enqueue = enqueue
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            try:
                self.enqueue(self.interval)
            except Exception:
                log.exception("%s: could not enqueue; trying again next slot", self.name)
            wait = self.interval - (time.time() % self.interval) + 0.01
            if self._stop.wait(wait):
                return
