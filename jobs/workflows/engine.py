"""The workflow engine: one class made of the parts of this package, with its entry points
(the durable event handler and the tick).
"""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jobs.models import JobId
from jobs.platform import JobContext, JobPlatform
from jobs.workflows.actions import ActionRunner
from jobs.workflows.dry_run import DryRuns
from jobs.workflows.steps import Steps
from jobs.workflows.tick import WorkflowTick
from purplecross_desktop.database.base import utcnow
from purplecross_desktop.domain.event_log import StoredEvent
from purplecross_desktop.workflows.document import Document
from purplecross_desktop.workflows.matching import TriggerIndex

if TYPE_CHECKING:
    from purplecross_desktop.services import Services


class WorkflowEngine(Steps, DryRuns):
    """Starts runs from events, schedules, dates and people, and runs their steps.

    Args:
        platform: the job platform (the ``workflows`` queue; email and notifications).
        services: the domain services (actions write through them; ``workflows`` store).
        clock: now (aware UTC); tests move it.
        zone: the clinic's time zone (schedules, date triggers, ``at`` times).
        lease: seconds a step holds its run before another job may take it over.
        sweep_after: seconds after which a run whose next step has no job gets one again.
    """

    def __init__(
        self,
        platform: JobPlatform,
        services: Services,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        zone: zoneinfo.ZoneInfo | None = None,
        lease: float = 120.0,
        sweep_after: float = 60.0,
    ) -> None:
        self.platform = platform
        self.services = services
        self.store = services.workflows
        self.engine = platform.engine
        self.clock = clock
        self.zone = zone or zoneinfo.ZoneInfo("UTC")
        self.lease = lease
        self.sweep_after = sweep_after
        self.actions = ActionRunner(platform, services, clock)
        self._sessions = services.clients._sessions
        self._versions: dict[int, tuple[int, int, str, Document]] = {}
        self._index = TriggerIndex()
        self._revision: Any = None
        self._lock = threading.Lock()
        self.ticker = WorkflowTick(self)
        #: Test hook: called at ``before_action``, ``after_action`` and ``after_save``.
        self.boundary: Callable[[str, int, int], None] | None = None

    def on_event(self, event: StoredEvent) -> list[str]:
        """The durable handler: wake runs waiting for this event, start matching workflows."""
        jobs = self._wake_waiting(event)
        index = self.index()
        if not index.candidates(event.name):
            return jobs  # no workflow listens: no lookups at all
        trigger = self.event_context(event)
        for matcher in index.match(event.name, trigger):
            job = self.start(
                matcher,
                trigger,
                dedupe_key=f"event:{event.id}",
                depth=event.workflow_depth or 0,
                event_id=event.id,
            )
            if job:
                jobs.append(job)
        return jobs

    # The tick (jobs.workflows.tick) --------------------------------------------------------
    def tick(self, slot: str = "", job: JobContext | None = None) -> str:
        """The task: schedules and date triggers, due waits, lost steps, overdue runs."""
        return self.ticker.tick(slot, job)

    def enqueue_tick(self, interval: float) -> JobId:
        """The tick of the current slot (one per slot cluster-wide)."""
        return self.ticker.enqueue(interval)
