"""Background work for the UI: run a function on a thread pool, get the result on the UI thread.

The UI thread never waits on the database, Redis, SMTP or a report. Screens describe the
work and what to do with its outcome; this module does the threading::

    BackgroundOperation(self, lambda: patients.search(text)) \\
        .success(self.show_results) \\
        .failure(self.show_error) \\
        .run_in_background()

Callbacks are dropped when the ``parent`` object has been destroyed meanwhile (a closed
dialog never gets a late callback). Failures without a failure callback go to
``OperationRunner.sig_unhandled_error``, which the main window shows in its status bar.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from functools import partial
from typing import Any, Generic, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Signal

from widgets.tasks import TaskRunner

log = logging.getLogger(__name__)

T = TypeVar("T")


class OperationRunner(QObject):
    """Delivers the outcome of background work on the thread this object lives in (the UI).

    The threads and the hand-over to the UI thread are :class:`widgets.tasks.TaskRunner`'s,
    the same mechanism the DataGrid uses; this class adds the in-flight count, dropped
    callbacks for destroyed parents and the report of unhandled failures.

    Args:
        threads: worker threads (the screens' work mostly waits on the database or Redis).
        parent: the owning QObject.

    Signals:
        sig_busy_changed(int): the number of operations in flight changed.
        sig_unhandled_error(str): an operation failed and nobody handled it.
    """

    sig_busy_changed = Signal(int)
    sig_unhandled_error = Signal(str)

    def __init__(self, threads: int = 4, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks = TaskRunner(threads, parent=self)
        self._in_flight: set[BackgroundOperation[Any]] = set()

    # Public API ---------------------------------------------------------------
    def in_flight(self) -> int:
        """How many operations have started and not yet delivered their outcome."""
        return len(self._in_flight)

    def wait_for_done(self, msecs: int = 30000) -> bool:
        """Block until the started work has run (tests and shutdown only, never a screen)."""
        return self._tasks.wait(msecs / 1000)

    # Internals ----------------------------------------------------------------
    def _start(self, operation: BackgroundOperation[Any]) -> None:
        self._in_flight.add(operation)
        self.sig_busy_changed.emit(len(self._in_flight))
        self._tasks.submit(
            operation._work,
            partial(self._deliver, operation, True),
            partial(self._deliver, operation, False),
        )

    def _deliver(self, operation: BackgroundOperation[Any], ok: bool, value: object) -> None:
        self._in_flight.discard(operation)
        self.sig_busy_changed.emit(len(self._in_flight))
        operation._deliver(ok, value)


class BackgroundOperation(Generic[T]):
    """One piece of work for the thread pool, with callbacks run on the UI thread.

    Args:
        parent: the QObject that owns the outcome; if it is destroyed before the work
            finishes, the callbacks are not called.
        work: a function without Qt calls that returns the result.
        runner: the runner that delivers outcomes (the app's one runner).
    """

    def __init__(
        self, parent: QObject | None, work: Callable[[], T], runner: OperationRunner
    ) -> None:
        self._parent = parent
        self._work = work
        self._runner = runner
        self._on_success: Callable[[T], None] | None = None
        self._on_failure: Callable[[BaseException], None] | None = None
        self._on_finally: Callable[[], None] | None = None

    def success(self, callback: Callable[[T], None]) -> BackgroundOperation[T]:
        self._on_success = callback
        return self

    def failure(self, callback: Callable[[BaseException], None]) -> BackgroundOperation[T]:
        self._on_failure = callback
        return self

    def finally_(self, callback: Callable[[], None]) -> BackgroundOperation[T]:
        """Run after success or failure (e.g. to hide a spinner)."""
        self._on_finally = callback
        return self

    def run_in_background(self) -> None:
        self._runner._start(self)

    def _deliver(self, ok: bool, value: object) -> None:
        if self._parent is not None and not shiboken6.isValid(self._parent):
            return
        try:
            if ok:
                if self._on_success is not None:
                    self._on_success(value)  # type: ignore[arg-type]
            elif self._on_failure is not None:
                self._on_failure(value)  # type: ignore[arg-type]
            else:
                text = (
                    "".join(traceback.format_exception(value))
                    if isinstance(value, BaseException)
                    else repr(value)
                )
                log.error("background operation failed:\n%s", text)
                self._runner.sig_unhandled_error.emit(f"{type(value).__name__}: {value}")
        finally:
            if self._on_finally is not None:
                self._on_finally()
