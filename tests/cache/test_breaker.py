"""The circuit breaker's probe thread against a stop() racing its start."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from cache import breaker as breaker_module
from cache.breaker import CircuitBreaker


def test_stop_racing_the_probe_thread_start_never_joins_an_unstarted_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A desk closing (stop) while Redis just failed (the probe thread starting) closes
    cleanly; it used to raise "cannot join thread before it is started"."""
    entered, release = threading.Event(), threading.Event()

    class SlowStart(threading.Thread):
        def start(self) -> None:
            entered.set()
            release.wait(5)
            super().start()

    fake = SimpleNamespace(
        Thread=SlowStart,
        RLock=threading.RLock,
        Event=threading.Event,
        current_thread=threading.current_thread,
    )
    monkeypatch.setattr(breaker_module, "threading", fake)
    breaker = CircuitBreaker(probe=lambda: False, recover=lambda: True, initial_backoff=0.01)
    opener = threading.Thread(target=breaker.record_failure, args=("refused",))
    opener.start()
    assert entered.wait(5)
    errors: list[BaseException] = []

    def stop() -> None:
        try:
            breaker.stop()
        except BaseException as exc:
            errors.append(exc)

    stopper = threading.Thread(target=stop)
    stopper.start()
    time.sleep(0.2)  # stop() now waits for the probe to be started (or, before, failed)
    release.set()
    opener.join(5)
    stopper.join(10)
    assert not stopper.is_alive()
    assert errors == []
    assert breaker.state == "open"  # stopping keeps the state
