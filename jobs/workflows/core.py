"""The engine's shared parts: task and handler names, what one instruction did, the
engine's state, and the pieces every part uses (stored versions, enqueueing a step,
the step rows, loops).
"""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from jobs.models import JobId
from jobs.platform import JobPlatform
from jobs.policy import PermanentError
from jobs.queues import WORKFLOWS
from jobs.workflows import sql
from jobs.workflows.actions import ActionRunner
from purplecross_desktop.database.base import utcnow
from purplecross_desktop.database.session import SessionFactory
from purplecross_desktop.domain.errors import DomainError
from purplecross_desktop.workflows.document import Document, Instruction
from purplecross_desktop.workflows.matching import TriggerIndex
from purplecross_desktop.workflows.store import WorkflowService
from purplecross_desktop.workflows.templating import TemplateError, render

if TYPE_CHECKING:
    from purplecross_desktop.services import Services


STEP_TASK = "workflows.step"

HANDLER = "workflows"
WAITS = ("wait", "wait_for_event")
#: Errors a retry cannot fix: the run fails at once, naming the step.
PERMANENT = (DomainError, PermanentError, ValueError, TypeError, KeyError, TemplateError)


@dataclass
class Outcome:
    """What one instruction did."""

    input: dict[str, Any] = field(default_factory=dict)
    output: dict[str, Any] = field(default_factory=dict)
    next_pc: int | None = None  # None: the run ends (stop)
    wake_at: dt.datetime | None = None  # set: the run waits (pc stays)
    wait_event: str | None = None


class StepFailedError(Exception):
    """A step's action failed; carries whether retrying can help."""

    def __init__(self, message: str, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class EngineCore:
    """The state every part of :class:`jobs.workflows.WorkflowEngine` shares (set in its
    ``__init__``), and the pieces they all use."""

    platform: JobPlatform
    services: Services
    store: WorkflowService
    engine: sa.Engine
    clock: Callable[[], dt.datetime]
    zone: zoneinfo.ZoneInfo
    lease: float
    sweep_after: float
    actions: ActionRunner
    _sessions: SessionFactory
    _versions: dict[int, tuple[int, int, str, Document]]
    _index: TriggerIndex
    _revision: Any
    _lock: threading.Lock
    boundary: Callable[[str, int, int], None] | None

    def document(self, version_id: int) -> Document:
        """The document of a stored version (cached: versions never change)."""
        cached = self._versions.get(version_id)
        if cached is None:
            workflow_id, number, document = self.store.version_document(version_id)
            cached = (workflow_id, number, document.name, document)
            self._versions[version_id] = cached
        return cached[3]

    def _enqueue(self, run_id: int, seq: int, key: str, eta: dt.datetime | None = None) -> JobId:
        real_eta = None
        if eta is not None:
            # The engine's clock may be shifted (tests): schedule by the time left.
            real_eta = utcnow() + (eta - self.clock())
            if real_eta <= utcnow():
                real_eta = None
        return self.platform.enqueue(
            WORKFLOWS, STEP_TASK, run_id, seq, idempotency_key=key, eta=real_eta
        )

    @staticmethod
    def _context(run: Mapping[str, Any]) -> dict[str, Any]:
        # The step's own: ``run`` was just read (claimed), its context decoded from the
        # row for this step alone, and nothing reads ``run["context"]`` after this; a deep
        # copy of every earlier step's output cost more than the step's own work.
        context: dict[str, Any] = dict(run["context"])
        context["run"] = {
            "id": run["id"],
            "depth": run["depth"],
            "started_at": run["started_at"].isoformat(),
        }
        return context

    def _boundary(self, point: str, run_id: int, seq: int) -> None:
        if self.boundary is not None:
            self.boundary(point, run_id, seq)

    @staticmethod
    def _record_step(
        conn: sa.Connection,
        run_id: int,
        seq: int,
        attempt: int,
        step: Mapping[str, Any],
        status: str,
        inputs: Mapping[str, Any],
        output: Mapping[str, Any],
        now: dt.datetime,
        error: str | None,
        look_first: bool = True,
    ) -> None:
        """Insert (or, for a wait being resumed, update) one step attempt's row.

        ``look_first`` False skips the lookup when the caller knows there is no row yet.
        """
        existing = (
            conn.execute(
                sql.FIND_STEP, {"w_run": run_id, "w_seq": seq, "w_attempt": attempt}
            ).first()
            if look_first
            else None
        )
        finished = None if status == "waiting" else now
        if existing is not None:
            conn.execute(
                sql.UPDATE_STEP,
                {
                    "w_id": existing.id,
                    "v_status": status,
                    "v_output": dict(output),
                    "v_finished_at": finished,
                    "v_error": error,
                },
            )
            return
        conn.execute(
            sql.INSERT_STEP,
            {
                "v_run": run_id,
                "v_seq": seq,
                "v_attempt": attempt,
                "v_step_id": str(step["id"]),
                "v_action": str(step["action"]),
                "v_status": status,
                "v_input": dict(inputs),
                "v_output": dict(output),
                "v_started_at": now,
                "v_finished_at": finished,
                "v_error": error,
            },
        )

    def _loop(
        self, step: Mapping[str, Any], instruction: Instruction, pc: int, context: dict[str, Any]
    ) -> Outcome:
        loops = context.setdefault("loops", {})
        state = loops.get(step["id"])
        if state is None:
            items = render((step.get("with") or {}).get("items"), context)
            if not isinstance(items, list):
                raise ValueError(f"with.items: must be a list, got {type(items).__name__}")
            state = {"items": items, "index": 0}
        else:
            state["index"] += 1
        loops[step["id"]] = state
        end = instruction.target if instruction.target is not None else pc + 1
        if state["index"] < len(state["items"]):
            context["item"] = state["items"][state["index"]]
            return Outcome({"index": state["index"]}, {"count": len(state["items"])}, pc + 1)
        loops.pop(step["id"], None)
        context.pop("item", None)
        return Outcome({}, {"count": len(state["items"])}, end)


def _pure(instruction: Instruction) -> bool:
    """Whether an instruction touches nothing but the run (no action with a side effect)."""
    if instruction.kind in ("branch", "loop"):
        return True
    step = instruction.step
    return step is not None and str(step["action"]) in ("stop", *WAITS)


def _follow_jumps(program: Sequence[Instruction], pc: int) -> int:
    while pc < len(program) and program[pc].kind == "jump":
        target = program[pc].target
        pc = len(program) if target is None else target
    return pc


def _safe_render(value: Any, context: Mapping[str, Any]) -> Any:
    try:
        return render(value, context)
    except TemplateError:
        return value
