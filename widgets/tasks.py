"""Runs work off the UI thread on Python threads and calls back on the UI thread.

The one background-work mechanism of the code base: the DataGrid runs its queries and
row fetches on a private :class:`TaskRunner`, and the app's screens reach the same
class through ``purplecross_desktop.operations`` (its fluent ``BackgroundOperation``).
"""

from __future__ import annotations

import concurrent.futures
import itertools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot


class _Relay(QObject):
    """Carries a finished task across threads; it outlives its runner if it must."""

    sig_finished = Signal(int, object, object)


class TaskRunner(QObject):
    """Runs callables off the UI thread and calls back on the thread it lives in (the UI).

    Args:
        threads: Worker threads; 1 keeps a source's caches single-threaded.
        parent: The owning QObject.
    """

    def __init__(self, threads: int = 1, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._threads = threads
        self._relay = _Relay()
        self._relay.sig_finished.connect(self._deliver)
        self._ids = itertools.count(1)
        self._callbacks: dict[
            int, tuple[Callable[[Any], None], Callable[[BaseException], None]]
        ] = {}
        self._start()

    def _start(self) -> None:
        # Python threads, not QThreadPool: a QRunnable.create(fn) object that Python still
        # references when the pool deletes it leaves a stale PySide wrapper behind, which
        # a later Qt object at the same address inherits (measured on 6.11: 138 combo-box
        # models/views came back as QRunnable after 6,000 such runs).
        self._pool = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="datagrid")
        self._closed = False
        self._pending: set[Future[None]] = set()
        #: False once the runner is shut down or destroyed: long work should stop early.
        self.alive = [True]
        # A grid deleted without close() (e.g. replaced in a layout) still stops its work.
        self.destroyed.connect(partial(_abandon, self._pool, self.alive))

    def submit(
        self,
        work: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
    ) -> int:
        """Run ``work()`` on a worker; ``on_done(result)`` or ``on_error(exc)`` on the UI thread.

        A runner that was shut down (its grid closed) starts again: a closed dialog may be
        shown again."""
        self.ensure_running()
        task_id = next(self._ids)
        self._callbacks[task_id] = (on_done, on_error)
        relay = self._relay

        def run() -> None:
            try:
                result = work()
            except BaseException as exc:
                relay.sig_finished.emit(task_id, None, exc)
            else:
                relay.sig_finished.emit(task_id, result, None)

        future = self._pool.submit(run)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return task_id

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the submitted work has run; False on timeout (tests and shutdown
        only: a screen never waits). Callbacks still arrive later, on the UI thread."""
        _done, not_done = concurrent.futures.wait(self._pending.copy(), timeout)
        return not not_done

    def ensure_running(self) -> None:
        """Start again after ``shutdown`` (read ``alive`` after calling this)."""
        if self._closed:
            self._start()

    def shutdown(self) -> None:
        """Drop queued work and wait for running work; later results are ignored."""
        self._closed = True
        self.alive[0] = False
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._callbacks.clear()

    @Slot(int, object, object)
    def _deliver(self, task_id: int, result: Any, error: BaseException | None) -> None:
        callbacks = self._callbacks.pop(task_id, None)
        if callbacks is None or self._closed:
            return
        on_done, on_error = callbacks
        if error is None:
            on_done(result)
        else:
            on_error(error)


def _abandon(pool: ThreadPoolExecutor, alive: list[bool], *_args: object) -> None:
    """Stop queued work of a destroyed runner without waiting for the running task."""
    alive[0] = False
    pool.shutdown(wait=False, cancel_futures=True)
