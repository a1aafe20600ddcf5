"""Workflows and their versions, runs and analytics: the service the builder, the pages and the
command line share (every write checked, audited and allowed to admins and practice managers).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from purplecross_desktop.database.base import StaffId
from purplecross_desktop.domain.errors import NotFound, ValidationError
from purplecross_desktop.domain.roles import Permission
from purplecross_desktop.domain.service import ServiceBase, check_actor
from purplecross_desktop.workflows.document import Document
from purplecross_desktop.workflows.models import (
    ACTIVE,
    RUN,
    STEP,
    Workflow,
    WorkflowId,
    WorkflowRun,
    WorkflowStep,
    WorkflowVersion,
)

RUNNING_CHOICES = ("finish", "cancel")
#: The records a manual workflow can be started from: a run started from one is offered the
#: record's id as the input named ``<kind>_id``.
RECORD_KINDS = ("client", "patient")


@dataclass(frozen=True, slots=True)
class WorkflowInfo:
    """A workflow as lists show it."""

    id: int
    name: str
    enabled: bool
    archived: bool
    version: int
    trigger: str
    description: str
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One attempt of one step, as the run's timeline shows it."""

    seq: int
    attempt: int
    step_id: str
    action: str
    status: str
    input: dict[str, Any]
    output: dict[str, Any]
    started_at: dt.datetime
    finished_at: dt.datetime | None
    error: str | None

    @property
    def duration(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class RunInfo:
    """One run as the runs list shows it."""

    id: int
    workflow_id: int
    workflow: str
    version: int
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    wake_at: dt.datetime | None
    trigger_event_id: int | None
    error: str | None
    seq: int
    #: Who started it by hand ("" for the system: the command line, a test) and from
    #: which record ("client 12"); both None for runs not started by hand.
    started_by: str | None = None
    started_from: str | None = None

    @property
    def duration(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class ManualWorkflow:
    """An enabled workflow with a manual trigger, as a record's "Run workflow" offers it.

    Attributes:
        inputs: the trigger's declared inputs, name → kind (``integer``, ``text``, ...),
            in document order.
    """

    id: int
    name: str
    description: str
    inputs: dict[str, str]


@dataclass(frozen=True, slots=True)
class Starter:
    """Who starts a run by hand: a staff member allowed to, or the system (``staff_id``
    None: the command line, jobs)."""

    staff_id: StaffId | None
    name: str


@dataclass(frozen=True, slots=True)
class Analytics:
    """Per workflow: how often it ran, how well, how long, and the time it saved."""

    workflow_id: int
    name: str
    runs: int
    succeeded: int
    failed: int
    active: int
    median_seconds: float | None
    time_saved_minutes: int
    last_run: dt.datetime | None

    @property
    def success_rate(self) -> float | None:
        ended = self.succeeded + self.failed
        return None if ended == 0 else self.succeeded / ended


class WorkflowService(ServiceBase):
    """Import, version, enable and disable workflows; read their runs and analytics."""

    # Writes ---------------------------------------------------------------------------
    def save(
        self, document: Document, *, actor: StaffId | None = None
    ) -> tuple[WorkflowInfo, bool]:
        """Store ``document`` under its name: a new workflow, or a new version of it when
        its steps, trigger or settings changed (running instances keep their version).

        ``settings.enabled`` of the document decides whether the workflow starts runs.
        Returns the workflow and whether a new version was made.
        """
        body = _body(document)
        with self._write(actor, permission=Permission.MANAGE_WORKFLOWS) as uow:
            workflow = uow.session.scalar(sa.select(Workflow).where(Workflow.name == document.name))
            created = False
            if workflow is None:
                workflow = Workflow(
                    name=document.name,
                    enabled=document.enabled,
                    archived=False,
                    current_version=1,
                    trigger_type=str(document.trigger["type"]),
                    created_at=uow.now,
                    updated_at=uow.now,
                    checked_until=uow.now,
                )
                uow.session.add(workflow)
                uow.session.flush()
                number, created = 1, True
                uow.audit("created", "workflow", workflow.id, {"name": [None, workflow.name]})
            else:
                current = self._version(uow.session, workflow.id, workflow.current_version)
                number = workflow.current_version
                if current.document != body:
                    number = workflow.current_version + 1
                    created = True
                if workflow.enabled != document.enabled:
                    uow.audit(
                        "enabled" if document.enabled else "disabled",
                        "workflow",
                        workflow.id,
                        {"enabled": [workflow.enabled, document.enabled]},
                    )
                    workflow.enabled = document.enabled
                workflow.archived = False
            if created:
                uow.session.add(
                    WorkflowVersion(
                        workflow_id=workflow.id,
                        number=number,
                        document=body,
                        created_at=uow.now,
                        created_by=uow.actor,
                    )
                )
                if number > 1:
                    uow.audit(
                        "new_version",
                        "workflow",
                        workflow.id,
                        {"version": [workflow.current_version, number]},
                    )
                workflow.current_version = number
                workflow.trigger_type = str(document.trigger["type"])
            workflow.updated_at = uow.now
            uow.session.flush()
            return _info(workflow, body), created

    def set_enabled(
        self,
        workflow_id: WorkflowId | int,
        enabled: bool,
        *,
        running: str = "finish",
        actor: StaffId | None = None,
    ) -> int:
        """Enable or disable; on disable, running instances ``finish`` or are ``cancel``led.

        Returns how many runs were cancelled.

        Raises:
            ValidationError: ``running`` is not finish or cancel; enabling an archived one.
        """
        if running not in RUNNING_CHOICES:
            raise ValidationError.single("running", "must be finish or cancel")
        with self._write(actor, permission=Permission.MANAGE_WORKFLOWS) as uow:
            workflow = self._get(uow.session, workflow_id)
            if enabled and workflow.archived:
                raise ValidationError.single("enabled", "an archived workflow cannot be enabled")
            if enabled:
                # The stored document was checked when saved; check again so a document
                # written around the service (or by an older release) is never activated.
                Document.from_data(self._version(uow.session, workflow.id, None).document)
            cancelled = 0
            if not enabled and running == "cancel":
                cancelled = self._cancel_active(uow.session, workflow.id, uow.now)
            if workflow.enabled != enabled:
                uow.audit(
                    "enabled" if enabled else "disabled",
                    "workflow",
                    workflow.id,
                    {"enabled": [workflow.enabled, enabled], "cancelled_runs": [None, cancelled]},
                )
                workflow.enabled = enabled
                workflow.updated_at = uow.now
                if enabled:
                    workflow.checked_until = uow.now  # schedules start from now, not the past
            return cancelled

    def archive(self, workflow_id: WorkflowId | int, *, actor: StaffId | None = None) -> int:
        """Disable, cancel its runs and hide it from the default list; returns runs cancelled."""
        with self._write(actor, permission=Permission.MANAGE_WORKFLOWS) as uow:
            workflow = self._get(uow.session, workflow_id)
            cancelled = self._cancel_active(uow.session, workflow.id, uow.now)
            uow.audit("archived", "workflow", workflow.id, {"archived": [workflow.archived, True]})
            workflow.enabled = False
            workflow.archived = True
            workflow.updated_at = uow.now
            return cancelled

    def cancel_run(self, run_id: int, *, actor: StaffId | None = None) -> bool:
        """Cancel a run that has not finished; False when it had already finished."""
        with self._write(actor, permission=Permission.MANAGE_WORKFLOWS) as uow:
            run = uow.session.get(WorkflowRun, run_id)
            if run is None:
                raise NotFound("workflow run", run_id)
            if run.status not in ACTIVE:
                return False
            run.status, run.finished_at, run.updated_at = "cancelled", uow.now, uow.now
            run.error = "cancelled by staff"
            run.wait_event = None
            uow.audit("cancelled", "workflow_run", run.id, {"status": ["active", "cancelled"]})
            return True

    def retry_run(self, run_id: int, *, actor: StaffId | None = None) -> int:
        """Make a failed run ready again at the step that failed; returns that step's number.

        Steps before it are not repeated; its max runtime starts again from now.

        Raises:
            NotFound: no such run.
            ValidationError: the run has not failed.
        """
        with self._write(actor, permission=Permission.MANAGE_WORKFLOWS) as uow:
            run = uow.session.get(WorkflowRun, run_id)
            if run is None:
                raise NotFound("workflow run", run_id)
            if run.status != "failed":
                raise ValidationError.single(
                    "run", f"only a failed run can be retried; run {run_id} is {run.status}"
                )
            version = uow.session.get(WorkflowVersion, run.version_id)
            assert version is not None
            runtime = Document.from_data(version.document).max_runtime
            tried = uow.session.scalar(
                sa.select(sa.func.max(WorkflowStep.attempt)).where(
                    WorkflowStep.run_id == run_id, WorkflowStep.seq == run.seq
                )
            )
            run.status, run.attempt = "ready", int(tried or 0) + 1
            run.error, run.finished_at = None, None
            run.claimed_by, run.lease_until, run.wake_at = None, None, None
            run.deadline = max(run.deadline, uow.now + dt.timedelta(seconds=runtime))
            run.updated_at = uow.now
            uow.audit("retried", "workflow_run", run.id, {"status": ["failed", "ready"]})
            return run.seq

    @staticmethod
    def _cancel_active(session: Any, workflow_id: int, now: dt.datetime) -> int:
        result = session.execute(
            sa.update(RUN)
            .where(RUN.c.workflow_id == workflow_id, RUN.c.status.in_(ACTIVE))
            .values(
                status="cancelled",
                finished_at=now,
                updated_at=now,
                wait_event=None,
                error="cancelled when the workflow was disabled",
            )
        )
        return int(result.rowcount or 0)

    def starter(self, actor: StaffId | None = None) -> Starter:
        """Who may start a run by hand now: ``actor`` (None: the current actor, i.e. the
        staff member signed in at this workstation, or the system), checked like every
        other write of workflows (admins and practice managers).

        Raises:
            PermissionDenied: the role may not manage workflows, the account is inactive,
                or nobody is signed in at this workstation.
        """
        if actor is None:
            actor = self._current_actor()
        if actor is None:
            return Starter(None, "")
        from purplecross_desktop.domain.staff import Staff

        with self._read() as session:
            check_actor(session, actor, Permission.MANAGE_WORKFLOWS)
            staff = session.get(Staff, actor)
            assert staff is not None  # check_actor refuses a missing one
            return Starter(actor, staff.name)

    # Reads ----------------------------------------------------------------------------
    def manual_workflows(self, record: str | None = None) -> list[ManualWorkflow]:
        """The enabled workflows with a manual trigger, by name; with ``record``
        (``client`` or ``patient``) only those that take that record's id as an input
        (``client_id``/``patient_id``): what a record's "Run workflow…" offers.

        Raises:
            ValidationError: ``record`` is not client or patient.
        """
        if record is not None and record not in RECORD_KINDS:
            raise ValidationError.single("record", f"must be one of {', '.join(RECORD_KINDS)}")
        with self._read() as session:
            rows = session.execute(
                _with_current_document()
                .where(
                    Workflow.enabled.is_(True),
                    Workflow.archived.is_(False),
                    Workflow.trigger_type == "manual",
                )
                .order_by(sa.func.lower(Workflow.name))
            ).all()
        found = []
        for workflow, body in rows:
            inputs = {
                str(k): str(v) for k, v in ((body.get("trigger") or {}).get("inputs") or {}).items()
            }
            if record is not None and f"{record}_id" not in inputs:
                continue
            found.append(
                ManualWorkflow(
                    workflow.id, workflow.name, str(body.get("description") or ""), inputs
                )
            )
        return found

    def all(self, *, archived: bool = False) -> list[WorkflowInfo]:
        """Every workflow (archived ones only when asked), by name."""
        with self._read() as session:
            rows = session.execute(
                _with_current_document()
                .where(Workflow.archived.is_(archived) if not archived else sa.true())
                .order_by(sa.func.lower(Workflow.name))
            ).all()
        return [_info(w, doc) for w, doc in rows]

    def find(self, ref: str | int) -> WorkflowInfo:
        """A workflow by id or by exact name.

        Raises:
            NotFound: no such workflow.
        """
        with self._read() as session:
            workflow = self._lookup(session, ref)
            body = self._version(session, workflow.id, workflow.current_version).document
        return _info(workflow, body)

    def document(self, ref: str | int, version: int | None = None) -> Document:
        """The document of a workflow's version (current by default), ``enabled`` as it is now."""
        with self._read() as session:
            workflow = self._lookup(session, ref)
            row = self._version(session, workflow.id, version or workflow.current_version)
        data = dict(row.document)
        settings = dict(data.get("settings") or {})
        settings["enabled"] = workflow.enabled
        data["settings"] = settings
        return Document.from_data(data)

    def version_document(self, version_id: int) -> tuple[int, int, Document]:
        """``(workflow id, version number, document)`` of a stored version id."""
        with self._read() as session:
            row = session.get(WorkflowVersion, version_id)
            if row is None:
                raise NotFound("workflow version", version_id)
            return row.workflow_id, row.number, Document.from_data(row.document)

    def versions(self, ref: str | int) -> list[tuple[int, dt.datetime]]:
        """``(number, created_at)`` of every version, oldest first."""
        with self._read() as session:
            workflow = self._lookup(session, ref)
            return [
                (n, at)
                for n, at in session.execute(
                    sa.select(WorkflowVersion.number, WorkflowVersion.created_at)
                    .where(WorkflowVersion.workflow_id == workflow.id)
                    .order_by(WorkflowVersion.number)
                )
            ]

    def runs(
        self,
        workflow_id: int | None = None,
        *,
        status: Sequence[str] | None = None,
        limit: int = 200,
    ) -> list[RunInfo]:
        """Runs newest first, of one workflow or all, optionally of some statuses."""
        stmt = (
            sa.select(WorkflowRun, Workflow.name)
            .join(Workflow, Workflow.id == WorkflowRun.workflow_id)
            .order_by(WorkflowRun.id.desc())
            .limit(limit)
        )
        if workflow_id is not None:
            stmt = stmt.where(WorkflowRun.workflow_id == workflow_id)
        if status:
            stmt = stmt.where(WorkflowRun.status.in_(list(status)))
        with self._read() as session:
            return [_run_info(run, name) for run, name in session.execute(stmt)]

    def run(self, run_id: int) -> tuple[RunInfo, list[StepRecord]]:
        """One run and its steps (every attempt) in order."""
        with self._read() as session:
            row = session.execute(
                sa.select(WorkflowRun, Workflow.name)
                .join(Workflow, Workflow.id == WorkflowRun.workflow_id)
                .where(WorkflowRun.id == run_id)
            ).first()
            if row is None:
                raise NotFound("workflow run", run_id)
            steps = session.scalars(
                sa.select(WorkflowStep)
                .where(WorkflowStep.run_id == run_id)
                .order_by(WorkflowStep.seq, WorkflowStep.attempt)
            ).all()
        return _run_info(row[0], row[1]), [_step(s) for s in steps]

    def analytics(self, since: dt.datetime | None = None) -> list[Analytics]:
        """Per workflow (busiest first): runs, outcomes, median duration, time saved."""
        stmt = sa.select(
            RUN.c.workflow_id, RUN.c.status, RUN.c.started_at, RUN.c.finished_at
        ).where(RUN.c.status != "skipped")
        if since is not None:
            stmt = stmt.where(RUN.c.started_at >= since)
        with self._read() as session:
            rows = session.execute(stmt).all()
            names = dict(session.execute(sa.select(Workflow.id, Workflow.name)).all())
            saved = {
                w.id: int(((doc or {}).get("settings") or {}).get("time_saved_minutes", 0))
                for w, doc in session.execute(_with_current_document())
            }
        grouped: dict[int, list[Any]] = {}
        for row in rows:
            grouped.setdefault(row.workflow_id, []).append(row)
        out: list[Analytics] = []
        for workflow_id, name in names.items():
            mine = grouped.get(workflow_id, [])
            ok = [r for r in mine if r.status == "succeeded"]
            durations = [
                (r.finished_at - r.started_at).total_seconds() for r in ok if r.finished_at
            ]
            out.append(
                Analytics(
                    workflow_id=workflow_id,
                    name=name,
                    runs=len(mine),
                    succeeded=len(ok),
                    failed=sum(r.status == "failed" for r in mine),
                    active=sum(r.status in ACTIVE for r in mine),
                    median_seconds=statistics.median(durations) if durations else None,
                    time_saved_minutes=saved.get(workflow_id, 0) * len(ok),
                    last_run=max((r.started_at for r in mine), default=None),
                )
            )
        out.sort(key=lambda a: (-a.runs, a.name))
        return out

    def runs_per_day(
        self, workflow_id: int | None = None, days: int = 30, zone: dt.tzinfo = dt.UTC
    ) -> list[tuple[str, int, int]]:
        """``(day, succeeded, failed)`` for the last ``days`` days, oldest first; days are
        calendar days in ``zone`` (the app passes the clinic's)."""
        now = self._clock()
        since = now - dt.timedelta(days=days + 1)  # the oldest day's start in any zone
        stmt = sa.select(RUN.c.started_at, RUN.c.status).where(RUN.c.started_at >= since)
        if workflow_id is not None:
            stmt = stmt.where(RUN.c.workflow_id == workflow_id)
        counts: dict[str, list[int]] = {}
        today = now.astimezone(zone).date()
        for offset in range(days, -1, -1):
            counts[(today - dt.timedelta(days=offset)).isoformat()] = [0, 0]
        with self._read() as session:
            for started, status in session.execute(stmt):
                day = started.astimezone(zone).date().isoformat()
                if day in counts:
                    counts[day][0 if status == "succeeded" else 1] += status in (
                        "succeeded",
                        "failed",
                    )
        return [(day, ok, bad) for day, (ok, bad) in counts.items()]

    def step_outputs(self, run_id: int) -> dict[str, Any]:
        """The outputs of the run's finished steps by step id (the latest attempt)."""
        with self._read() as session:
            rows = session.execute(
                sa.select(STEP.c.step_id, STEP.c.output)
                .where(STEP.c.run_id == run_id, STEP.c.status == "done")
                .order_by(STEP.c.seq)
            ).all()
        return dict(rows)

    # Helpers --------------------------------------------------------------------------
    @staticmethod
    def _get(session: Any, workflow_id: int) -> Workflow:
        workflow = session.get(Workflow, workflow_id) if isinstance(workflow_id, int) else None
        if workflow is None:
            raise NotFound("workflow", workflow_id)
        return workflow  # type: ignore[no-any-return]

    @classmethod
    def _lookup(cls, session: Any, ref: str | int) -> Workflow:
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            return cls._get(session, int(ref))
        workflow = session.scalar(sa.select(Workflow).where(Workflow.name == ref))
        if workflow is None:
            raise NotFound("workflow", ref)
        return workflow  # type: ignore[no-any-return]

    @staticmethod
    def _version(session: Any, workflow_id: int, number: int | None) -> WorkflowVersion:
        stmt = sa.select(WorkflowVersion).where(WorkflowVersion.workflow_id == workflow_id)
        if number is None:
            stmt = stmt.order_by(WorkflowVersion.number.desc()).limit(1)
        else:
            stmt = stmt.where(WorkflowVersion.number == number)
        row = session.scalar(stmt)
        if row is None:
            raise NotFound("workflow version", f"{workflow_id} v{number}")
        return row  # type: ignore[no-any-return]


def _with_current_document() -> sa.Select[tuple[Workflow, Any]]:
    """Each workflow with the document of its current version."""
    return sa.select(Workflow, WorkflowVersion.document).join(
        WorkflowVersion,
        sa.and_(
            WorkflowVersion.workflow_id == Workflow.id,
            WorkflowVersion.number == Workflow.current_version,
        ),
    )


def _body(document: Document) -> dict[str, Any]:
    """The versioned part of a document: everything but whether it is enabled."""
    data = dict(document.data)
    settings = {k: v for k, v in (data.get("settings") or {}).items() if k != "enabled"}
    if settings:
        data["settings"] = settings
    else:
        data.pop("settings", None)
    return data


def _info(workflow: Workflow, body: Mapping[str, Any]) -> WorkflowInfo:
    trigger = body.get("trigger") or {}
    kind = str(trigger.get("type"))
    if kind == "event":
        summary = f"on {trigger.get('event')}"
    elif kind == "schedule":
        summary = f"cron {trigger.get('cron')}"
    elif kind == "date":
        summary = f"{_offset(trigger.get('offset') or {})} {trigger.get('field')}"
    else:
        summary = "started by hand"
    return WorkflowInfo(
        workflow.id,
        workflow.name,
        workflow.enabled,
        workflow.archived,
        workflow.current_version,
        summary,
        str(body.get("description") or ""),
        workflow.updated_at,
    )


def _offset(offset: Mapping[str, Any]) -> str:
    days = float(offset.get("days", 0))
    if days < 0:
        return f"{-days:g} days before"
    if days > 0:
        return f"{days:g} days after"
    return "on"


def _run_info(run: WorkflowRun, name: str) -> RunInfo:
    return RunInfo(
        run.id,
        run.workflow_id,
        name,
        run.version,
        run.status,
        run.started_at,
        run.finished_at,
        run.wake_at,
        run.trigger_event_id,
        run.error,
        run.seq,
        *_started(run.context),
    )


def _started(context: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    """(who, from which record) of a run started by hand, from its context."""
    started = (context or {}).get("started")
    if not isinstance(started, Mapping):
        return None, None
    record = started.get("record")
    where = None
    if isinstance(record, Mapping):
        where = f"{record['entity']} {record['id']}"
        if record.get("name"):
            where += f" ({record['name']})"
    return str(started.get("by_name") or ""), where


def _step(row: WorkflowStep) -> StepRecord:
    return StepRecord(
        row.seq,
        row.attempt,
        row.step_id,
        row.action,
        row.status,
        dict(row.input or {}),
        dict(row.output or {}),
        row.started_at,
        row.finished_at,
        row.error,
    )
