"""Triggers and starting runs: the enabled workflows' compiled triggers, what ``trigger.*``
holds for an event, recording a run (once per dedupe key, within the workflow's guards)
and enqueueing its first step, runs started by hand, retries, and queued runs.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from jobs.workflows.core import EngineCore
from purplecross_desktop.database.base import StaffId
from purplecross_desktop.domain.appointments import Appointment
from purplecross_desktop.domain.audit import AuditEntry
from purplecross_desktop.domain.audit import json_value as audit_json
from purplecross_desktop.domain.clients import Client
from purplecross_desktop.domain.errors import NotFound, ValidationError
from purplecross_desktop.domain.event_log import EventLog, StoredEvent
from purplecross_desktop.domain.patients import Patient
from purplecross_desktop.workflows.document import Document
from purplecross_desktop.workflows.matching import Matcher, TriggerIndex
from purplecross_desktop.workflows.models import ACTIVE, RUN, VERSION, WORKFLOW

if TYPE_CHECKING:
    pass

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


class Triggers(EngineCore):
    """Matches events to workflows and starts runs."""

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
