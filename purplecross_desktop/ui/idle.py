"""Idle detection: no key press, click or mouse movement anywhere in the app for a while."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

_ACTIVITY = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }
)


class IdleWatcher(QObject):
    """Emits ``sig_idle`` once the app has seen no input for ``timeout_s`` seconds.

    An application-wide event filter only notes the time of the last input (no timer is
    restarted per mouse move); a slow timer compares it with the clock.

    Args:
        app: the application whose input counts.
        timeout_s: idle seconds before ``sig_idle`` (0 or less never fires), or a function
            read at each check (so a changed setting applies without a restart).
        check_ms: how often to compare (the lock comes at most this late).
        clock: monotonic seconds (tests pass their own).

    Signals:
        sig_idle(): nobody touched the app for ``timeout_s`` seconds (once per idle spell).
    """

    sig_idle = Signal()

    def __init__(
        self,
        app: QApplication,
        timeout_s: float | Callable[[], float],
        *,
        check_ms: int = 5000,
        clock: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._timeout = timeout_s if callable(timeout_s) else (lambda: timeout_s)
        self._last = clock()
        self._fired = False
        self._app = app
        app.installEventFilter(self)
        self._timer = QTimer(self)
        self._timer.setInterval(check_ms)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def touch(self) -> None:
        """Count now as activity (e.g. right after signing in)."""
        self._last = self._clock()
        self._fired = False

    def check(self) -> None:
        """Emit ``sig_idle`` if the idle time has passed since the last input."""
        timeout = self._timeout()
        if timeout <= 0 or self._fired:
            return
        if self._clock() - self._last >= timeout:
            self._fired = True
            self.sig_idle.emit()

    def stop(self) -> None:
        """Stop watching (the window is closing)."""
        self._timer.stop()
        self._app.removeEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY:
            self._last = self._clock()
            self._fired = False
        return False
