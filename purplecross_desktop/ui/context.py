"""What the composition root hands to the screens: settings, database, services, runner."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from purplecross_desktop.operations import BackgroundOperation, OperationRunner
from purplecross_desktop.settings import Settings
from purplecross_desktop.staff_session import StaffSession

if TYPE_CHECKING:
    from purplecross_desktop.services import Services


@dataclass
class AppContext:
    """Everything a screen may use, built once by :mod:`purplecross_desktop.app`.

    Attributes:
        settings: the effective settings.
        runner: delivers background work to the UI thread.
        session_factory: the clinic database's session factory.
        services: the domain services (None only in tests of the bare shell).
        staff_session: who is signed in at this workstation; the services act as them.
        extras: optional subsystems (cache, jobs) by name; absent ones are missing keys.
    """

    settings: Settings
    runner: OperationRunner
    session_factory: Any = None
    services: Services | None = None
    staff_session: StaffSession = field(default_factory=StaffSession)
    extras: dict[str, Any] = field(default_factory=dict)

    def wait_for_jobs(self, timeout: float = 30.0) -> None:
        """Block until the job runtime has started (call from background work only).

        The app starts its jobs on a thread once the window shows; work that enqueues
        in the first moments waits here instead of finding no platform bound.
        """
        starter = self.extras.get("jobs_starter")
        if starter is not None:
            starter.join(timeout)

    def background(self, parent: Any, work: Any) -> BackgroundOperation[Any]:
        """Shorthand for ``BackgroundOperation(parent, work, self.runner)``."""
        return BackgroundOperation(parent, work, self.runner)
