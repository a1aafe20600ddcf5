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
  one transaction records the step's result and moves the run on (``pc``, ``seq + 1``)
  before it enqueues the next step. A worker killed anywhere in between leaves the run at
  the step that did not finish: the platform runs the job again, and the step's side
  effect carries the idempotency key ``workflow-run:<run>:step:<seq>``, so it happens once.
- **Waits** are the same job scheduled at the wake time (a run waiting 14 days is a row and
  a scheduled message). The tick (``workflows.tick``, every minute from every app and
  worker, one job per minute cluster-wide) fires schedules and date triggers, wakes runs
  whose time has come, re-sends steps whose job was lost, and fails runs past their max
  runtime.
- **Guards**: a run started by an event that a workflow's own action caused carries that
  chain's depth; past the workflow's ``max_depth`` it is recorded as skipped. Over the
  workflow's ``concurrency`` a new run waits as ``queued``. A step that fails is retried
  (its action's policy) and then fails the run, which notifies the workflow's owner.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import threading
import uuid
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from jobs.event_dispatch import DurableHandler, EventHandlers
from jobs.models import JobId
from jobs.periodic import EverySlot
from jobs.platform import JobContext, JobPlatform, TaskSpec
from jobs.policy import SINGLE_ATTEMPT, PermanentError, RetryPolicy
from jobs.queues import WORKFLOWS
from jobs.workflow_actions import ActionRunner
from jobs.workflow_tick import TICK_TASK, WorkflowTick, human, runtime_error
from purplecross_desktop.database.base import StaffId, utcnow
from purplecross_desktop.domain.appointments import Appointment
from purplecross_desktop.domain.audit import AuditEntry
from purplecross_desktop.domain.audit import json_value as audit_json
from purplecross_desktop.domain.clients import Client
from purplecross_desktop.domain.errors import DomainError, NotFound, ValidationError
from purplecross_desktop.domain.event_log import EventLog, StoredEvent
from purplecross_desktop.domain.patients import Patient
from purplecross_desktop.domain.provenance import ACTING, Provenance
from purplecross_desktop.workflows import catalogue
from purplecross_desktop.workflows.conditions import evaluate
from purplecross_desktop.workflows.document import Document, Instruction, duration_seconds
from purplecross_desktop.workflows.matching import Matcher, TriggerIndex
from purplecross_desktop.workflows.models import ACTIVE, RUN, STEP, VERSION, WORKFLOW
from purplecross_desktop.workflows.templating import TemplateError, render

if TYPE_CHECKING:
    from purplecross_desktop.services import Services

log = logging.getLogger(__name__)
AUDIT = cast(sa.Table, AuditEntry.__table__)


def _serialize_starts(conn: sa.Connection, workflow_id: int) -> None:
    """Make this transaction the only one counting and starting ``workflow_id``'s runs.

    The concurrency and hourly limits are a count followed by an insert: two events
    handled at once would both count the same runs and both start. On SQLite the write
    lock is taken before the count (``BEGIN IMMEDIATE``: it waits for the other writer and
    then sees its run); on PostgreSQL the workflow's row is locked until commit.
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.execute(sa.select(WORKFLOW.c.id).where(WORKFLOW.c.id == workflow_id).with_for_update())


def _audit_start(
    conn: sa.Connection,
    run_id: int,
    matcher: Matcher,
    trigger: Mapping[str, Any],
    started: Mapping[str, Any],
    now: dt.datetime,
) -> None:
    """The audit row of a run started by hand, under the staff member who started it."""
    record = started.get("record")
    changes: dict[str, Any] = {
        "workflow": [None, f"{matcher.name} v{matcher.version}"],
        "inputs": [None, {k: audit_json(v) for k, v in (trigger.get("inputs") or {}).items()}],
    }
    if record:
        changes["record"] = [None, f"{record['entity']} {record['id']}"]
    conn.execute(
        sa.insert(AUDIT).values(
            occurred_at=now,
            staff_id=started.get("by"),
            action="started",
            entity="workflow_run",
            entity_id=run_id,
            changes=changes,
        )
    )


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


@dataclass(frozen=True, slots=True)
class Preview:
    """One step of a dry run: what it would do and what the run would know after it."""

    step_id: str
    action: str
    input: dict[str, Any]
    output: dict[str, Any]
    description: str


class StepFailedError(Exception):
    """A step's action failed; carries whether retrying can help."""

    def __init__(self, message: str, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class WorkflowEngine:
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

    # Matching -------------------------------------------------------------------------
    def index(self) -> TriggerIndex:
        """The enabled workflows' compiled triggers (built again when a workflow changed)."""
        with self.engine.connect() as conn:
            revision = tuple(
                conn.execute(
                    sa.select(sa.func.count(), sa.func.max(WORKFLOW.c.updated_at)).select_from(
                        WORKFLOW
                    )
                ).one()
            )
            if revision == self._revision:
                return self._index
            rows = conn.execute(
                sa.select(WORKFLOW.c.id, VERSION.c.id, VERSION.c.number)
                .join(
                    VERSION,
                    sa.and_(
                        VERSION.c.workflow_id == WORKFLOW.c.id,
                        VERSION.c.number == WORKFLOW.c.current_version,
                    ),
                )
                .where(WORKFLOW.c.enabled.is_(True), WORKFLOW.c.archived.is_(False))
            ).all()
        index = TriggerIndex(
            Matcher.build(workflow_id, version_id, number, self.document(version_id))
            for workflow_id, version_id, number in rows
        )
        with self._lock:
            self._index, self._revision = index, revision
        return index

    def matchers(self) -> list[Matcher]:
        """Every enabled workflow's compiled trigger."""
        return self.index().matchers

    def document(self, version_id: int) -> Document:
        """The document of a stored version (cached: versions never change)."""
        cached = self._versions.get(version_id)
        if cached is None:
            workflow_id, number, document = self.store.version_document(version_id)
            cached = (workflow_id, number, document.name, document)
            self._versions[version_id] = cached
        return cached[3]

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

    def event_context(self, event: StoredEvent) -> dict[str, Any]:
        """What ``trigger.*`` holds for an event: its data, ids, and the people involved."""
        context: dict[str, Any] = {
            **event.data,
            "event": event.name,
            "event_id": event.id,
            "entity": event.entity,
            "id": event.entity_id,
            "occurred_at": event.occurred_at.isoformat(),
            "data": dict(event.data),
        }
        if event.entity == "client":
            context.setdefault("client_id", event.entity_id)
        if event.entity == "patient":
            context.setdefault("patient_id", event.entity_id)
        if event.entity == "appointment":
            with self._sessions() as session:
                appointment = session.get(Appointment, event.entity_id)
                if appointment is not None:
                    context["type"] = appointment.type.value
        return self._people(context)

    def _people(self, context: dict[str, Any]) -> dict[str, Any]:
        with self._sessions() as session:
            patient = None
            if context.get("patient_id"):
                patient = session.get(Patient, int(context["patient_id"]))
                if patient is not None:
                    context.setdefault("client_id", patient.client_id)
                    context["patient_name"] = patient.name
            if context.get("client_id"):
                client = session.get(Client, int(context["client_id"]))
                if client is not None:
                    context["client_name"] = client.name
                    context["client_email"] = client.email or ""
        return context

    # Starting runs ----------------------------------------------------------------------
    def start(
        self,
        matcher: Matcher,
        trigger: Mapping[str, Any],
        *,
        dedupe_key: str | None,
        depth: int = 0,
        event_id: int | None = None,
        started: Mapping[str, Any] | None = None,
    ) -> str | None:
        """Record a run (once per dedupe key) and enqueue its first step; returns the job id.

        ``started`` (a run started by hand: ``by``, ``by_name``, ``record``) is kept in the
        run's context, and audited in the run's transaction under the staff member ``by``.
        """
        document = matcher.document
        now = self.clock()
        status, error = "ready", None
        if depth > document.max_depth:
            status = "skipped"
            error = (
                f"not started: the event was caused by a workflow chain {depth} deep, over "
                f"this workflow's max_depth of {document.max_depth}"
            )
        context = {
            "trigger": dict(trigger),
            "steps": {},
            "loops": {},
            "workflow": {
                "id": matcher.workflow_id,
                "name": matcher.name,
                "version": matcher.version,
            },
        }
        if started is not None:
            context["started"] = dict(started)
        try:
            with self.engine.begin() as conn:
                _serialize_starts(conn, matcher.workflow_id)
                limit = document.max_runs_per_hour
                if status == "ready" and limit is not None:
                    recent = conn.execute(
                        sa.select(sa.func.count())
                        .select_from(RUN)
                        .where(
                            RUN.c.workflow_id == matcher.workflow_id,
                            RUN.c.status != "skipped",
                            RUN.c.started_at > now - dt.timedelta(hours=1),
                        )
                    ).scalar_one()
                    if recent >= limit:
                        status = "skipped"
                        error = f"not started: over this workflow's max_runs_per_hour of {limit}"
                if status == "ready":
                    active = conn.execute(
                        sa.select(sa.func.count())
                        .select_from(RUN)
                        .where(RUN.c.workflow_id == matcher.workflow_id, RUN.c.status.in_(ACTIVE))
                    ).scalar_one()
                    if active >= document.concurrency:
                        status = "queued"
                run_id = conn.execute(
                    sa.insert(RUN)
                    .values(
                        workflow_id=matcher.workflow_id,
                        version_id=matcher.version_id,
                        version=matcher.version,
                        status=status,
                        pc=0,
                        seq=0,
                        attempt=1,
                        context=context,
                        depth=depth,
                        trigger_event_id=event_id,
                        dedupe_key=dedupe_key,
                        started_at=now,
                        updated_at=now,
                        finished_at=now if status == "skipped" else None,
                        deadline=now + dt.timedelta(seconds=document.max_runtime),
                        error=error,
                    )
                    .returning(RUN.c.id)
                ).scalar_one()
                if started is not None:
                    _audit_start(conn, int(run_id), matcher, trigger, started, now)
        except sa_exc.IntegrityError:
            return None  # this event, slot or record date already started a run
        if status == "skipped":
            log.warning("workflow %s: %s", matcher.name, error)
            return None
        if status == "queued":
            return None
        return self._enqueue(int(run_id), 0, f"wf:{run_id}:0")

    def start_manual(
        self,
        ref: str | int,
        inputs: Mapping[str, Any],
        *,
        event_id: int | None = None,
        actor: StaffId | None = None,
        record: tuple[str, int] | None = None,
    ) -> int:
        """Start a run by hand (the CLI, a record's page); returns the run id.

        With ``event_id`` the run's trigger is that past event (any trigger type).
        ``actor`` (None: the current actor, the staff member signed in at a workstation)
        must be allowed to manage workflows (admins and practice managers; the system
        may); ``record`` (``("client", 12)``) is the record it was started from. Both are
        kept in the run (``context.started``) and in the audit log.

        Raises:
            PermissionDenied: the actor may not run workflows (nothing is started).
            ValidationError: an input missing or of the wrong kind; a disabled workflow;
                a record kind other than client or patient.
            NotFound: no such workflow, event or record.
        """
        starter = self.store.starter(actor)
        origin = self._record(record) if record is not None else None
        info = self.store.find(ref)
        if not info.enabled:
            raise ValidationError.single("workflow", f"{info.name!r} is disabled; enable it first")
        matcher = next((m for m in self.matchers() if m.workflow_id == info.id), None)
        if matcher is None:
            raise NotFound("workflow", ref)
        trigger = self.trigger_for(matcher.document, inputs, event_id)
        key = f"manual:{uuid.uuid4().hex}"
        started = {"by": starter.staff_id, "by_name": starter.name, "record": origin}
        self.start(matcher, trigger, dedupe_key=key, event_id=event_id, started=started)
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(RUN.c.id).where(RUN.c.workflow_id == info.id, RUN.c.dedupe_key == key)
                ).scalar_one()
            )

    def _record(self, record: tuple[str, int]) -> dict[str, Any]:
        """``{"entity", "id", "name"}`` of the record a run is started from (checked)."""
        entity, record_id = record
        if entity not in ("client", "patient"):
            raise ValidationError.single("record", "must be a client or a patient")
        with self._sessions() as session:
            row: Client | Patient | None = None
            if isinstance(record_id, int) and not isinstance(record_id, bool):
                if entity == "client":
                    row = session.get(Client, record_id)
                else:
                    row = session.get(Patient, record_id)
            if row is None:
                raise NotFound(entity, record_id)
            return {"entity": entity, "id": record_id, "name": row.name}

    def retry(self, run_id: int) -> str:
        """Run a failed run again from the step that failed; returns the step's job id.

        Raises:
            NotFound, ValidationError: see :meth:`WorkflowService.retry_run`.
        """
        seq = self.store.retry_run(run_id)
        return self._enqueue(run_id, seq, f"wf:{run_id}:{seq}:retry:{uuid.uuid4().hex[:8]}")

    def trigger_for(
        self, document: Document, inputs: Mapping[str, Any], event_id: int | None
    ) -> dict[str, Any]:
        """The ``trigger`` of a hand-started or test run: a past event, or checked inputs."""
        if event_id is not None:
            event = EventLog(self.engine).get(event_id)
            if event is None:
                raise NotFound("event", event_id)
            return self.event_context(event)
        declared = (
            document.trigger.get("inputs", {}) if document.trigger["type"] == "manual" else {}
        )
        problems: dict[str, list[str]] = {}
        values: dict[str, Any] = {}
        for name, kind in declared.items():
            if name not in inputs:
                problems.setdefault(f"inputs.{name}", []).append(f"is required ({kind})")
                continue
            value = inputs[name]
            ok = {
                "integer": isinstance(value, int) and not isinstance(value, bool),
                "number": isinstance(value, int | float) and not isinstance(value, bool),
                "boolean": isinstance(value, bool),
                "text": isinstance(value, str),
                "moment": isinstance(value, str),
            }[kind]
            if not ok:
                problems.setdefault(f"inputs.{name}", []).append(f"must be {kind}")
            values[name] = value
        for name in sorted(set(inputs) - set(declared)):
            if declared:
                problems.setdefault(f"inputs.{name}", []).append("is not an input of this workflow")
            else:
                values[name] = inputs[name]
        if problems:
            raise ValidationError(problems)
        return self._people({**values, "inputs": dict(inputs)})

    # Steps ------------------------------------------------------------------------------
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

    def step(self, run_id: int, seq: int, job: JobContext | None = None) -> str:
        """The task: do the run's instruction ``seq`` once, save, and enqueue the next.

        A step without side effects (a branch, a loop, a wait, a stop) is claimed, done
        and saved in one transaction; an action is claimed first (committed, so that no
        other job can take the run while it acts) and saved after it.
        """
        job_id = str(job.job_id) if job is not None else f"inline:{uuid.uuid4().hex}"
        now = self.clock()
        with self.engine.begin() as conn:
            claimed = self._claim(conn, run_id, seq, job_id, now)
            if claimed is None:
                return f"skipped: run {run_id} is not due at step {seq} (done, held or finished)"
            run, resumed = claimed
            document = self.document(run["version_id"])
            program = document.program
            context = self._context(run)
            pc = _follow_jumps(program, run["pc"])
            fused: tuple[Outcome, str] | None = None
            if now <= run["deadline"] and pc < len(program) and _pure(program[pc]):
                key = f"workflow-run:{run_id}:step:{seq}"
                try:
                    outcome = self._execute(
                        run, document, program[pc], pc, context, key, resumed, now
                    )
                except StepFailedError:
                    pass  # the slower path below records the failure
                else:
                    status = self._save_rows(conn, run, program[pc], outcome, context, now, job_id)
                    if status is not None:
                        fused = outcome, status
        if fused is not None:
            return self._after_save(run, program[pc], fused[0], fused[1])
        if now > run["deadline"]:
            return self._finish(run, "failed", runtime_error(document), job_id)
        if pc >= len(program):
            return self._finish(run, "succeeded", None, job_id, pc=pc)
        instruction = program[pc]
        key = f"workflow-run:{run_id}:step:{seq}"
        self._boundary("before_action", run_id, seq)
        try:
            outcome = self._execute(run, document, instruction, pc, context, key, resumed, now)
        except StepFailedError as exc:
            return self._failed_attempt(run, document, instruction, context, now, job_id, exc)
        self._boundary("after_action", run_id, seq)
        with self.engine.begin() as conn:
            status = self._save_rows(conn, run, instruction, outcome, context, now, job_id)
        if status is None:
            return f"skipped: run {run_id} was changed meanwhile (cancelled or taken over)"
        result = self._after_save(run, instruction, outcome, status)
        self._boundary("after_save", run_id, seq)
        return result

    @staticmethod
    def _context(run: Mapping[str, Any]) -> dict[str, Any]:
        context: dict[str, Any] = copy.deepcopy(run["context"])
        context["run"] = {
            "id": run["id"],
            "depth": run["depth"],
            "started_at": run["started_at"].isoformat(),
        }
        return context

    def _boundary(self, point: str, run_id: int, seq: int) -> None:
        if self.boundary is not None:
            self.boundary(point, run_id, seq)

    def _claim(
        self, conn: sa.Connection, run_id: int, seq: int, job_id: str, now: dt.datetime
    ) -> tuple[dict[str, Any], bool] | None:
        """Take the run for this job; returns (run, whether it was waiting) or None."""
        slack = now + dt.timedelta(seconds=2)  # the scheduler may wake a job a little early
        due = sa.or_(
            RUN.c.status == "ready",
            sa.and_(RUN.c.status == "waiting", RUN.c.wake_at <= slack),
            sa.and_(
                RUN.c.status == "running",
                sa.or_(RUN.c.claimed_by == job_id, RUN.c.lease_until < now),
            ),
        )
        # One statement: the database decides between racing jobs (a row lock on
        # PostgreSQL re-checks the condition; SQLite has one writer at a time).
        row = conn.execute(
            sa.update(RUN)
            .where(RUN.c.id == run_id, RUN.c.seq == seq, due)
            .values(
                status="running",
                claimed_by=job_id,
                lease_until=now + dt.timedelta(seconds=self.lease),
                updated_at=now,
            )
            .returning(*RUN.c)
        ).first()
        if row is None:
            return None
        run = dict(row._mapping)
        # A run that waited (a wait, a retry's delay) keeps its wake time until saved.
        return run, run["wake_at"] is not None

    def _execute(
        self,
        run: Mapping[str, Any],
        document: Document,
        instruction: Instruction,
        pc: int,
        context: dict[str, Any],
        key: str,
        resumed: bool,
        now: dt.datetime,
    ) -> Outcome:
        step = instruction.step
        assert step is not None
        action = str(step["action"])
        try:
            if instruction.kind == "branch":
                result = evaluate(step["if"], context)
                target = instruction.target if instruction.target is not None else pc + 1
                return Outcome({}, {"result": result}, pc + 1 if result else target)
            if instruction.kind == "loop":
                return self._loop(step, instruction, pc, context)
            inputs = render(step.get("with") or {}, context)
            if action == "stop":
                return Outcome(inputs, {"reason": inputs.get("reason", "")}, None)
            if action in WAITS:
                return self._wait(run, step, inputs, pc, context, resumed, now)
            spec = catalogue.ACTIONS[action]
            label = (
                f"workflow {run['workflow_id']} {document.name!r} v{run['version']}, "
                f"run {run['id']}"
            )
            token = ACTING.set(Provenance(label, int(run["id"]), int(run["depth"]) + 1))
            try:
                output = self.actions.run(action, inputs, key) if spec.side_effect else {}
            finally:
                ACTING.reset(token)
            return Outcome(inputs, output, pc + 1)
        except PERMANENT as exc:
            raise StepFailedError(f"{type(exc).__name__}: {exc}", permanent=True) from exc
        except Exception as exc:
            raise StepFailedError(f"{type(exc).__name__}: {exc}", permanent=False) from exc

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

    def _wait(
        self,
        run: Mapping[str, Any],
        step: Mapping[str, Any],
        inputs: dict[str, Any],
        pc: int,
        context: dict[str, Any],
        resumed: bool,
        now: dt.datetime,
    ) -> Outcome:
        if resumed:
            # The wake job (or the tick) after the time: the wait is over.
            if step["action"] == "wait":
                return Outcome(inputs, {"resumed_at": now.isoformat()}, pc + 1)
            # At the deadline the condition is checked once more against the events
            # recorded since the wait began: one the dispatcher has not handed over yet
            # (it was down, or behind) still counts.
            found = self._recheck(inputs, context)
            context.pop("wait_since", None)
            return Outcome(inputs, found or {"matched": False, "event_id": None}, pc + 1)
        if step["action"] == "wait_for_event":
            context["wait_since"] = now.isoformat()
            wake = now + dt.timedelta(seconds=duration_seconds(inputs["timeout"]))
            return Outcome(inputs, {}, pc, wake_at=wake, wait_event=str(inputs["event"]))
        return Outcome(inputs, {}, pc, wake_at=self.wake_time(inputs, now))

    def _recheck(self, inputs: Mapping[str, Any], context: dict[str, Any]) -> dict[str, Any] | None:
        """A matching event recorded since the wait began, as the step's output, or None."""
        since_text = context.get("wait_since")
        if not since_text:
            return None
        since = dt.datetime.fromisoformat(str(since_text))
        match = inputs.get("match")
        recent = EventLog(self.engine).search(since=since, name=str(inputs["event"]), limit=200)
        for event in reversed(recent):  # oldest first
            view = {**self.event_context(event), "name": event.name}
            if match is None or evaluate(match, {**context, "event": view}):
                return {"matched": True, "event_id": event.id}
        return None

    def wake_time(self, inputs: Mapping[str, Any], now: dt.datetime) -> dt.datetime:
        """When a ``wait`` with these inputs ends."""
        if inputs.get("until"):
            until = dt.datetime.fromisoformat(str(inputs["until"]))
            return until if until.tzinfo else until.replace(tzinfo=self.zone)
        moment = now
        if inputs.get("duration"):
            moment += dt.timedelta(seconds=duration_seconds(inputs["duration"]))
        if inputs.get("at"):
            hour, minute = (int(p) for p in str(inputs["at"]).split(":"))
            local = moment.astimezone(self.zone)
            candidate = dt.datetime.combine(local.date(), dt.time(hour, minute), self.zone)
            if candidate < local:
                candidate = dt.datetime.combine(
                    local.date() + dt.timedelta(days=1), dt.time(hour, minute), self.zone
                )
            moment = candidate.astimezone(dt.UTC)
        return moment

    def _save_rows(
        self,
        conn: sa.Connection,
        run: Mapping[str, Any],
        instruction: Instruction,
        outcome: Outcome,
        context: dict[str, Any],
        now: dt.datetime,
        job_id: str,
    ) -> str | None:
        """Record the step and move the run on, in ``conn``'s transaction; returns the run's
        new status, or None when the run was changed meanwhile (cancelled, taken over)."""
        step = instruction.step
        assert step is not None
        run_id, seq = int(run["id"]), int(run["seq"])
        waiting = outcome.wake_at is not None
        if not waiting:
            context.setdefault("steps", {})[step["id"]] = outcome.output
        context.pop("run", None)
        values: dict[str, Any] = {
            "context": context,
            "claimed_by": None,
            "lease_until": None,
            "updated_at": now,
            "attempt": 1,
        }
        program = self.document(run["version_id"]).program
        if waiting:
            values |= {
                "status": "waiting",
                "wake_at": outcome.wake_at,
                "wait_event": outcome.wait_event,
            }
        else:
            done = outcome.next_pc is None or _follow_jumps(program, outcome.next_pc) >= len(
                program
            )
            values |= {
                "status": "succeeded" if done else "ready",
                "pc": run["pc"] if outcome.next_pc is None else outcome.next_pc,
                "seq": seq + 1,
                "wake_at": None,
                "wait_event": None,
                "finished_at": now if done else None,
            }
        moved = conn.execute(
            sa.update(RUN)
            .where(
                RUN.c.id == run_id,
                RUN.c.seq == seq,
                RUN.c.status == "running",
                RUN.c.claimed_by == job_id,
            )
            .values(**values)
        ).rowcount
        if moved != 1:
            return None
        self._record_step(
            conn,
            run_id,
            seq,
            int(run["attempt"]),
            step,
            "waiting" if waiting else "done",
            outcome.input,
            outcome.output,
            now,
            None,
            look_first=run["wake_at"] is not None,
        )
        return str(values["status"])

    def _after_save(
        self, run: Mapping[str, Any], instruction: Instruction, outcome: Outcome, status: str
    ) -> str:
        """After the commit: enqueue what comes next (the wake, the next step, a queued run)."""
        step = instruction.step
        assert step is not None
        run_id, seq = int(run["id"]), int(run["seq"])
        if status == "waiting":
            assert outcome.wake_at is not None
            job = self._enqueue(run_id, seq, f"wf:{run_id}:{seq}:wake", outcome.wake_at)
            return f"step {step['id']}: waiting until {outcome.wake_at:%Y-%m-%d %H:%M} (job {job})"
        if status == "succeeded":
            self._promote_queued(int(run["workflow_id"]))
            return f"step {step['id']}: done; run {run_id} succeeded"
        self._enqueue(run_id, seq + 1, f"wf:{run_id}:{seq + 1}")
        return f"step {step['id']}: done"

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
                sa.select(STEP.c.id).where(
                    STEP.c.run_id == run_id, STEP.c.seq == seq, STEP.c.attempt == attempt
                )
            ).first()
            if look_first
            else None
        )
        finished = None if status == "waiting" else now
        if existing is not None:
            conn.execute(
                sa.update(STEP)
                .where(STEP.c.id == existing.id)
                .values(status=status, output=dict(output), finished_at=finished, error=error)
            )
            return
        conn.execute(
            sa.insert(STEP).values(
                run_id=run_id,
                seq=seq,
                attempt=attempt,
                step_id=str(step["id"]),
                action=str(step["action"]),
                status=status,
                input=dict(inputs),
                output=dict(output),
                started_at=now,
                finished_at=finished,
                error=error,
            )
        )

    def _failed_attempt(
        self,
        run: Mapping[str, Any],
        document: Document,
        instruction: Instruction,
        context: dict[str, Any],
        now: dt.datetime,
        job_id: str,
        exc: StepFailedError,
    ) -> str:
        step = instruction.step
        assert step is not None
        attempt = int(run["attempt"])
        spec = catalogue.ACTIONS.get(str(step["action"]))
        allowed = int(step.get("retries") or (spec.retries if spec else 1))
        run_id, seq = int(run["id"]), int(run["seq"])
        inputs = _safe_render(step.get("with") or {}, context)
        if exc.permanent or attempt >= allowed:
            reason = (
                f"step {step['id']!r} ({step['action']}) failed"
                f"{'' if exc.permanent else f' after {attempt} attempts'}: {exc}"
            )
            with self.engine.begin() as conn:
                self._record_step(
                    conn, run_id, seq, attempt, step, "failed", inputs, {}, now, str(exc)
                )
            return self._finish(run, "failed", reason, job_id)
        delay = RetryPolicy(base_delay=5.0, max_delay=600.0, jitter=0).nominal_delay(attempt)
        wake = now + dt.timedelta(seconds=delay)
        with self.engine.begin() as conn:
            moved = conn.execute(
                sa.update(RUN)
                .where(
                    RUN.c.id == run_id,
                    RUN.c.seq == seq,
                    RUN.c.claimed_by == job_id,
                    RUN.c.status == "running",
                )
                .values(
                    status="ready" if delay <= 0 else "waiting",
                    attempt=attempt + 1,
                    wake_at=wake,
                    claimed_by=None,
                    lease_until=None,
                    updated_at=now,
                    error=f"attempt {attempt} of step {step['id']!r} failed: {exc}",
                )
            ).rowcount
            if moved == 1:
                self._record_step(
                    conn, run_id, seq, attempt, step, "failed", inputs, {}, now, str(exc)
                )
        if moved == 1:
            self._enqueue(run_id, seq, f"wf:{run_id}:{seq}:retry{attempt + 1}", wake)
        return f"step {step['id']}: attempt {attempt} failed, again at {wake:%H:%M:%S}: {exc}"

    def _finish(
        self,
        run: Mapping[str, Any],
        status: str,
        error: str | None,
        job_id: str,
        pc: int | None = None,
    ) -> str:
        now = self.clock()
        values: dict[str, Any] = {
            "status": status,
            "finished_at": now,
            "updated_at": now,
            "claimed_by": None,
            "lease_until": None,
            "wait_event": None,
            "error": error,
        }
        if pc is not None:
            values["pc"] = pc
        with self.engine.begin() as conn:
            moved = conn.execute(
                sa.update(RUN)
                .where(RUN.c.id == run["id"], RUN.c.claimed_by == job_id, RUN.c.status == "running")
                .values(**values)
            ).rowcount
        if moved == 1:
            if status == "failed":
                self._tell_owner(run, error or "")
            self._promote_queued(int(run["workflow_id"]))
        return f"run {run['id']} {status}" + (f": {error}" if error else "")

    def _tell_owner(self, run: Mapping[str, Any], error: str) -> None:
        """A failed run goes to the workflow's owner's inbox (once per run)."""
        document = self.document(run["version_id"])
        owner = str(document.settings.get("owner") or "role:admin")
        service = self.platform.services.get("notifications")
        if service is None:
            log.error("workflow run %s failed and nobody can be told: %s", run["id"], error)
            return
        try:
            service.queue(
                "system_alert",
                [owner],
                f"Workflow failed: {document.name}"[:200],
                f"Run {run['id']} (version {run['version']}) failed. {error}"[:1000],
                ["in_app"],
                important=True,
                idempotency_key=f"workflow-failed:{run['id']}",
            )
        except Exception:
            log.exception("could not notify %s that workflow run %s failed", owner, run["id"])

    def _promote_queued(self, workflow_id: int) -> None:
        """Start the oldest queued run when the workflow is under its concurrency again."""
        with self.engine.begin() as conn:
            _serialize_starts(conn, workflow_id)
            queued = conn.execute(
                sa.select(RUN.c.id, RUN.c.version_id)
                .where(RUN.c.workflow_id == workflow_id, RUN.c.status == "queued")
                .order_by(RUN.c.id)
                .limit(1)
            ).first()
            if queued is None:
                return
            active = conn.execute(
                sa.select(sa.func.count())
                .select_from(RUN)
                .where(
                    RUN.c.workflow_id == workflow_id,
                    RUN.c.status.in_(("ready", "running", "waiting")),
                )
            ).scalar_one()
            if active >= self.document(queued.version_id).concurrency:
                return
            moved = conn.execute(
                sa.update(RUN)
                .where(RUN.c.id == queued.id, RUN.c.status == "queued")
                .values(status="ready", updated_at=self.clock())
            ).rowcount
        if moved:
            self._enqueue(int(queued.id), 0, f"wf:{queued.id}:0")

    # Waiting for events -----------------------------------------------------------------
    def _wake_waiting(self, event: StoredEvent) -> list[str]:
        prefix = event.name.split(".", 1)[0] + ".*"
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(RUN).where(
                    RUN.c.status == "waiting", RUN.c.wait_event.in_((event.name, prefix, "*"))
                )
            ).all()
        jobs: list[str] = []
        if not rows:
            return jobs
        event_view = {**self.event_context(event), "name": event.name}
        for row in rows:
            run = dict(row._mapping)
            document = self.document(run["version_id"])
            program = document.program
            pc = _follow_jumps(program, run["pc"])
            step = program[pc].step if pc < len(program) else None
            if step is None or step["action"] != "wait_for_event":
                continue
            match = (step.get("with") or {}).get("match")
            context = copy.deepcopy(run["context"])
            if match is not None and not evaluate(match, {**context, "event": event_view}):
                continue
            output = {"matched": True, "event_id": event.id}
            context.setdefault("steps", {})[step["id"]] = output
            now = self.clock()
            with self.engine.begin() as conn:
                moved = conn.execute(
                    sa.update(RUN)
                    .where(
                        RUN.c.id == run["id"],
                        RUN.c.seq == run["seq"],
                        RUN.c.status == "waiting",
                        RUN.c.updated_at == run["updated_at"],
                    )
                    .values(
                        status="ready",
                        pc=pc + 1,
                        seq=run["seq"] + 1,
                        attempt=1,
                        context=context,
                        wake_at=None,
                        wait_event=None,
                        updated_at=now,
                    )
                ).rowcount
                if moved != 1:
                    continue
                self._record_step(
                    conn,
                    run["id"],
                    run["seq"],
                    run["attempt"],
                    step,
                    "done",
                    render(step.get("with") or {}, context),
                    output,
                    now,
                    None,
                )
            jobs.append(
                self._enqueue(run["id"], run["seq"] + 1, f"wf:{run['id']}:{run['seq'] + 1}")
            )
        return jobs

    # The tick (jobs.workflow_tick) --------------------------------------------------------
    def tick(self, slot: str = "", job: JobContext | None = None) -> str:
        """The task: schedules and date triggers, due waits, lost steps, overdue runs."""
        return self.ticker.tick(slot, job)

    def enqueue_tick(self, interval: float) -> JobId:
        """The tick of the current slot (one per slot cluster-wide)."""
        return self.ticker.enqueue(interval)

    # Dry runs ---------------------------------------------------------------------------
    def dry_run(
        self, document: Document, trigger: Mapping[str, Any], *, events_arrive: bool = False
    ) -> list[Preview]:
        """What a run would do, step by step, without doing anything.

        Waits are taken as over at once; a ``wait_for_event`` counts as matched when
        ``events_arrive`` (else as timed out). Emails are rendered, conditions evaluated.
        """
        context: dict[str, Any] = {"trigger": dict(trigger), "steps": {}, "loops": {}}
        program = document.program
        out: list[Preview] = []
        pc = 0
        now = self.clock()
        for _ in range(1000):
            pc = _follow_jumps(program, pc)
            if pc >= len(program):
                break
            instruction = program[pc]
            step = instruction.step
            assert step is not None
            action = str(step["action"])
            if instruction.kind == "branch":
                result = evaluate(step["if"], context)
                context["steps"][step["id"]] = {"result": result}
                out.append(
                    Preview(
                        step["id"],
                        action,
                        {},
                        {"result": result},
                        f"condition is {'true' if result else 'false'}",
                    )
                )
                pc = pc + 1 if result else (instruction.target or pc + 1)
                continue
            if instruction.kind == "loop":
                outcome = self._loop(step, instruction, pc, context)
                out.append(
                    Preview(
                        step["id"],
                        action,
                        outcome.input,
                        outcome.output,
                        f"item {outcome.input.get('index', 'done')}",
                    )
                )
                context["steps"][step["id"]] = outcome.output
                pc = outcome.next_pc if outcome.next_pc is not None else len(program)
                continue
            inputs = render(step.get("with") or {}, context)
            if action == "stop":
                out.append(
                    Preview(
                        step["id"],
                        action,
                        inputs,
                        {"reason": inputs.get("reason", "")},
                        f"stop: {inputs.get('reason', '')}",
                    )
                )
                break
            if action == "wait":
                wake = self.wake_time(inputs, now)
                output: dict[str, Any] = {"resumed_at": wake.isoformat()}
                text = f"wait until {wake.astimezone(self.zone):%Y-%m-%d %H:%M}"
                now = wake
            elif action == "wait_for_event":
                output = {"matched": events_arrive, "event_id": None}
                text = (
                    f"wait for {inputs.get('event')} (up to {human(inputs.get('timeout'))}): "
                    + ("assumed to arrive" if events_arrive else "assumed not to arrive")
                )
            else:
                try:
                    text, output = self.actions.preview(action, inputs)
                except (DomainError, ValueError, KeyError) as exc:
                    text, output = f"would fail: {exc}", {}
            context["steps"][step["id"]] = output
            out.append(Preview(step["id"], action, inputs, output, text))
            pc += 1
        return out


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
