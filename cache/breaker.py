"""A circuit breaker that opens on the first connection failure and probes in the background.

While open, callers read one attribute and skip the remote tier entirely, so a dead
server costs nothing per call. A daemon thread probes with exponential backoff and
jitter; when the probe answers, a recovery hook runs (the cache replays the
invalidations it could not deliver) and only if that succeeds does the breaker close.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from typing import Literal

log = logging.getLogger(__name__)

BreakerState = Literal["closed", "open"]


class CircuitBreaker:
    """Closed: use the remote tier. Open: don't touch it until a probe succeeds.

    Args:
        probe: returns True when the remote answers (may raise: that is a failed probe).
        recover: runs after a successful probe, before closing; returns False (or
            raises) to stay open and retry later.
        on_open: runs once per transition to open, under the breaker's lock.
        initial_backoff: seconds before the first probe after opening.
        max_backoff: the cap of the doubling delay between probes.
        name: used in logs and as the probe thread's name.
    """

    def __init__(
        self,
        probe: Callable[[], bool],
        recover: Callable[[], bool],
        on_open: Callable[[], None] | None = None,
        initial_backoff: float = 0.05,
        max_backoff: float = 5.0,
        name: str = "cache",
    ) -> None:
        self._probe = probe
        self._recover = recover
        self._on_open = on_open
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.name = name
        self.closed = True  # read without a lock on the hot path
        self.failovers = 0
        self.last_error: str | None = None
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def state(self) -> BreakerState:
        return "closed" if self.closed else "open"

    @property
    def lock(self) -> threading.RLock:
        """Held while the breaker changes state; hold it to keep the state stable."""
        return self._lock

    def record_failure(self, error: BaseException | str) -> None:
        """A connection-level failure: open (once) and start probing."""
        with self._lock:
            self.last_error = (
                error if isinstance(error, str) else f"{type(error).__name__}: {error}"
            )
            if not self.closed:
                return
            if self._on_open is not None:
                try:
                    self._on_open()
                except Exception:
                    log.exception("%s: on_open hook failed", self.name)
            self.closed = False
            self.failovers += 1
            log.warning("%s: remote tier unreachable (%s), using the fallback", self.name, error)
            self._start_probe()

    def open(self, reason: str) -> None:
        """Start open (e.g. work is pending from an earlier run) without counting a failover."""
        with self._lock:
            self.last_error = reason
            if not self.closed:
                return
            if self._on_open is not None:
                self._on_open()
            self.closed = False
            self._start_probe()

    def try_close(self) -> bool:
        """Probe now and close if the remote answers and recovery succeeds.

        Recovery runs under :attr:`lock`, so whatever the caller serializes with that
        lock (the cache's invalidations) is either recovered or sees the breaker closed.
        """
        if self.closed:
            return True
        try:
            if not self._probe():
                return False
            with self._lock:
                if self.closed:
                    return True
                if not self._recover():
                    return False
                self.closed = True
                self.last_error = None
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            return False
        log.warning("%s: remote tier is back", self.name)
        return True

    def wake(self) -> None:
        """Make the probe thread try now instead of at its next backoff step."""
        self._wake.set()

    def stop(self) -> None:
        """Stop the probe thread (the breaker keeps its state)."""
        self._stop.set()
        self._wake.set()
        with self._lock:  # a probe being started (under the lock) is started, or never will be
            thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    # Probe thread ------------------------------------------------------------------
    def _start_probe(self) -> None:
        if self._stop.is_set():
            return
        if self._thread is not None and self._thread.is_alive():
            self._wake.set()
            return
        thread = threading.Thread(
            target=self._run_probe, name=f"{self.name}-breaker-probe", daemon=True
        )
        thread.start()
        self._thread = thread  # only a started thread is ever seen (stop() joins it)

    def _run_probe(self) -> None:
        delay = self.initial_backoff
        while not self._stop.is_set():
            self._wake.wait(delay * random.uniform(0.8, 1.2))
            self._wake.clear()
            if self._stop.is_set():
                return
            if self.try_close():
                with self._lock:
                    if self.closed:
                        self._thread = None
                        return
                delay = self.initial_backoff
                continue
            delay = min(delay * 2, self.max_backoff)
