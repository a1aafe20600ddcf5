"""What the composition root hands to the screens: settings, database, services, subsystems."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from purplecross_desktop.operations import BackgroundOperation, OperationRunner
from purplecross_desktop.settings import Settings

if TYPE_CHECKING:  # annotations only: the screens must not pull these stacks in at import
    from sqlalchemy import Engine

    from cache import CacheService
    from purplecross_desktop.database.session import SessionFactory
    from purplecross_desktop.jobs_wiring import JobsRuntime
    from purplecross_desktop.services import Services
    from widgets.theme import ThemeManager

#: A health check returns rows of (label, value); it runs on a worker thread.
HealthCheck = Callable[[], list[tuple[str, str]]]


class JobsUnavailableError(RuntimeError):
    """The job runner is not running in this app (not started, or it failed to start)."""


@dataclass
class AppContext:
    """Everything a screen may use, built once by :mod:`purplecross_desktop.app`.

    A subsystem that is not running in this process (tests of the bare shell, a jobs
    start that failed) is None; nothing is looked up by name.

    Attributes:
        settings: the effective settings.
        runner: delivers background work to the UI thread.
        session_factory: the clinic database's session factory.
        engine: the clinic database's engine (demo data, the job registry).
        services: the domain services (None only in tests of the bare shell).
        cache: the cache service (Redis with the disk tier, or the disk tier alone).
        cache_unsubscribe: detaches the cache's invalidation from the event bus.
        health_checks: checks of the subsystems, shown on the Health page; subsystems that
            start after the window (the job runner) append theirs.
        themes: the theme manager (None in tests that build a window without the app).
        jobs: the job runtime once it has started; :meth:`job_runtime` waits for it.
        jobs_starter: the thread starting the job runtime after the window shows.
    """

    settings: Settings
    runner: OperationRunner
    session_factory: SessionFactory
    engine: Engine
    services: Services | None = None
    cache: CacheService | None = None
    cache_unsubscribe: Callable[[], None] | None = None
    health_checks: list[HealthCheck] = field(default_factory=list)
    themes: ThemeManager | None = None
    jobs: JobsRuntime | None = None
    jobs_starter: threading.Thread | None = None

    def wait_for_jobs(self, timeout: float = 30.0) -> None:
        """Block until the job runtime has started (call from background work only).

        The app starts its jobs on a thread once the window shows; work that enqueues
        in the first moments waits here instead of finding no runtime yet.
        """
        starter = self.jobs_starter
        if starter is not None:
            starter.join(timeout)

    def job_runtime(self, timeout: float = 30.0) -> JobsRuntime:
        """The running job runtime, after waiting for its start (background work only).

        Raises:
            JobsUnavailableError: the runner is not running in this app.
        """
        self.wait_for_jobs(timeout)
        if self.jobs is None:
            raise JobsUnavailableError("the job runner is not running in this app (see Health)")
        return self.jobs

    def background(self, parent: Any, work: Any) -> BackgroundOperation[Any]:
        """Shorthand for ``BackgroundOperation(parent, work, self.runner)``."""
        return BackgroundOperation(parent, work, self.runner)
