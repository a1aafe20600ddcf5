"""The workflow engine (queue ``workflows``): matches events to workflows and runs each step
as a job, saving the run after every step.

- **Matching** is a durable event handler (``workflows``, see :mod:`jobs.event_dispatch`):
  it runs in the dispatcher, never in the transaction that made the change, and sees every
  event at least once from a stored watermark. Triggers are compiled once per workflow
  version. A run's ``dedupe_key`` (``event:<id>``, ``schedule:<minute>``,
  ``date:<record>:<id>:<day>``) is unique per workflow, so an event seen twice starts
  one run. The same handler wakes runs whose ``wait_for_event`` step matches.
- **A step** is the job ``workflows.step(run, seq)``. It claims the run (only the job
  of the run's current ``seq``, and only one at a time), does one instruction, then in
  one transaction records the step's result, moves the run on (``pc``, ``seq + 1``) and
  writes the next step's job row (its message is sent after the commit). A worker killed
  anywhere in between leaves the run at the step that did not finish: the platform runs
  the job again, and the step's side effect carries the idempotency key
  ``workflow-run:<run>:step:<seq>``, so it happens once.
- **Waits** are the same job scheduled at the wake time (a run waiting 14 days is a row and
  a scheduled message). The tick (``workflows.tick``, every minute from every app and
  worker, one job per minute cluster-wide) fires schedules and date triggers, wakes runs
  whose time has come, re-sends steps whose job was lost, and fails runs past their max
  runtime.
- **Guards**: a run started by an event that a workflow's own action caused carries that
  chain's depth; past the workflow's ``max_depth`` it is recorded as skipped. Over the
  workflow's ``concurrency`` a new run waits as ``queued``. A step that fails is retried
  (its action's policy) and then fails the run, which notifies the workflow's owner.
The package, along its seams (one class, :class:`WorkflowEngine`, made of its parts):

- :mod:`jobs.workflows.engine`: the engine, its state and entry points (handler, tick);
- :mod:`jobs.workflows.triggers`: compiled triggers, starting runs (by event, by hand),
  the concurrency and hourly guards, queued runs;
- :mod:`jobs.workflows.steps`: a step's claim and its one instruction;
- :mod:`jobs.workflows.saves`: saving a step, failed attempts, finishing a run;
- :mod:`jobs.workflows.waits`: waits for a time and for an event;
- :mod:`jobs.workflows.dry_run`: dry runs;
- :mod:`jobs.workflows.core`: the names, values and pieces the parts share;
- :mod:`jobs.workflows.sql`: a step's statements (claim, saves, step row), built once;
- :mod:`jobs.workflows.tick` (the tick) and :mod:`jobs.workflows.actions` (the actions).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from typing import TYPE_CHECKING

from jobs.event_dispatch import DurableHandler, EventHandlers
from jobs.periodic import EverySlot
from jobs.platform import JobPlatform, TaskSpec
from jobs.policy import SINGLE_ATTEMPT
from jobs.queues import WORKFLOWS
from jobs.workflows.core import HANDLER, PERMANENT, STEP_TASK, WAITS, Outcome, StepFailedError
from jobs.workflows.dry_run import Preview
from jobs.workflows.engine import WorkflowEngine
from jobs.workflows.tick import TICK_TASK
from purplecross_desktop.database.base import utcnow

if TYPE_CHECKING:
    from purplecross_desktop.services import Services

__all__ = [
    "HANDLER",
    "PERMANENT",
    "STEP_TASK",
    "TICK_TASK",
    "WAITS",
    "Outcome",
    "Preview",
    "StepFailedError",
    "WorkflowEngine",
    "register",
    "tick_trigger",
]


def tick_trigger(engine: WorkflowEngine, interval: float = 60.0) -> EverySlot:
    """The thread that enqueues the workflow tick now and every ``interval`` seconds."""
    return EverySlot("workflows-tick", engine.enqueue_tick, interval)


def register(
    platform: JobPlatform,
    services: Services,
    handlers: EventHandlers,
    *,
    clock: Callable[[], dt.datetime] = utcnow,
    zone: zoneinfo.ZoneInfo | None = None,
) -> WorkflowEngine:
    """Add ``workflows.step``/``workflows.tick`` and the ``workflows`` durable handler."""
    engine = WorkflowEngine(platform, services, clock=clock, zone=zone)
    # The engine retries steps itself (per action, with the run's state); the job only
    # has to run once, and again after a worker died (the platform's re-queue).
    platform.register(
        TaskSpec(STEP_TASK, engine.step, WORKFLOWS, policy=SINGLE_ATTEMPT, context=True)
    )
    platform.register(
        TaskSpec(TICK_TASK, engine.tick, WORKFLOWS, policy=SINGLE_ATTEMPT, context=True)
    )
    handlers.add(DurableHandler(HANDLER, ("*",), engine.on_event, from_start=False))
    platform.services["workflows"] = engine
    return engine
