"""The workflow tick (``workflows.tick``, every minute, one job per minute cluster-wide).

Fires schedules (cron, clinic time zone) and date triggers ("14 days before a
vaccination is due"), wakes runs whose wait is over (also after a clock jump or a lost
scheduled message), re-sends a step whose job was lost between a save and its enqueue,
and fails runs past their max runtime. Every query reads an index, so thousands of
waiting runs cost a tick about nothing (docs/benchmarks.md).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from jobs.models import JobId
from jobs.platform import JobContext
from jobs.queues import WORKFLOWS
from purplecross_desktop.domain.appointments import Appointment
from purplecross_desktop.domain.billing import Invoice
from purplecross_desktop.domain.medical import Vaccination
from purplecross_desktop.workflows.cron import Cron
from purplecross_desktop.workflows.document import Document, duration_seconds
from purplecross_desktop.workflows.models import RUN, WORKFLOW

if TYPE_CHECKING:
    from jobs.workflows import WorkflowEngine

TICK_TASK = "workflows.tick"


def human(duration: Any) -> str:
    """``{days: 3}`` as "3 days"."""
    if not isinstance(duration, Mapping):
        return "90 days" if duration is None else str(duration)
    return ", ".join(f"{v:g} {k}" for k, v in duration.items())


def runtime_error(document: Document) -> str:
    """Why a run past its max runtime failed."""
    return f"ran longer than its max runtime of {human(document.settings.get('max_runtime'))}"


class WorkflowTick:
    """The tick of one engine.

    Args:
        workflows: the engine whose runs and triggers it looks after.
    """

    def __init__(self, workflows: WorkflowEngine) -> None:
        self.workflows = workflows
        self.db = workflows.engine

    def tick(self, slot: str = "", job: JobContext | None = None) -> str:
        """The task: schedules and date triggers, due waits, lost steps, overdue runs."""
        now = self.workflows.clock()
        started = self._fire_time_triggers(now)
        woken = self._wake_due(now)
        swept = self._sweep(now)
        expired = self._expire(now)
        return f"tick {slot}: started {started}, woke {woken}, swept {swept}, expired {expired}"

    def _fire_time_triggers(self, now: dt.datetime) -> int:
        started = 0
        for matcher in self.workflows.matchers():
            if matcher.kind not in ("schedule", "date"):
                continue
            with self.db.connect() as conn:
                since = (
                    conn.execute(
                        sa.select(WORKFLOW.c.checked_until).where(
                            WORKFLOW.c.id == matcher.workflow_id
                        )
                    ).scalar()
                    or now
                )
            triggers: list[tuple[str, dict[str, Any]]] = []
            if matcher.kind == "schedule":
                cron = Cron.parse(str(matcher.document.trigger["cron"]))
                for moment in cron.fire_times(since, now, self.workflows.zone):
                    triggers.append(
                        (f"schedule:{moment.isoformat()}", {"fired_at": moment.isoformat()})
                    )
            else:
                triggers = self._date_triggers(matcher.document, since, now)
            for key, trigger in triggers:
                if matcher.when is not None and not matcher.when({"trigger": trigger}):
                    continue
                if self.workflows.start(matcher, trigger, dedupe_key=key):
                    started += 1
            with self.db.begin() as conn:
                conn.execute(
                    sa.update(WORKFLOW)
                    .where(WORKFLOW.c.id == matcher.workflow_id)
                    .values(checked_until=now)
                )
        return started

    def _date_triggers(
        self, document: Document, since: dt.datetime, now: dt.datetime
    ) -> list[tuple[str, dict[str, Any]]]:
        """Records whose date (plus the offset) fell on a day from ``since`` to now whose
        ``at`` time has passed: each as (dedupe key, trigger)."""
        trigger = document.trigger
        offset = dt.timedelta(seconds=duration_seconds(trigger.get("offset") or {"days": 0}))
        hour, minute = (int(p) for p in str(trigger.get("at", "09:00")).split(":"))
        first = since.astimezone(self.workflows.zone).date()
        today = now.astimezone(self.workflows.zone).date()
        first = max(first, today - dt.timedelta(days=31))
        days = []
        day = first
        while day <= today:
            at = dt.datetime.combine(day, dt.time(hour, minute), self.workflows.zone)
            if at <= now:
                days.append(day - dt.timedelta(days=offset.days))
            day += dt.timedelta(days=1)
        if not days:
            return []
        record = str(trigger["field"]).split(".")[0]
        out: list[tuple[str, dict[str, Any]]] = []
        with self.workflows._sessions() as session:
            if record == "vaccination":
                for v in session.scalars(
                    sa.select(Vaccination).where(Vaccination.next_due_on.in_(days))
                ):
                    out.append(
                        (
                            f"date:vaccination:{v.id}:{v.next_due_on}",
                            {
                                "record": record,
                                "id": v.id,
                                "vaccination_id": v.id,
                                "patient_id": v.patient_id,
                                "vaccine": v.vaccine,
                                "date": str(v.next_due_on),
                            },
                        )
                    )
            elif record == "invoice":
                for i in session.scalars(sa.select(Invoice).where(Invoice.due_on.in_(days))):
                    out.append(
                        (
                            f"date:invoice:{i.id}:{i.due_on}",
                            {
                                "record": record,
                                "id": i.id,
                                "invoice_id": i.id,
                                "client_id": i.client_id,
                                "patient_id": i.patient_id,
                                "number": i.number,
                                "balance": str(i.balance),
                                "status": i.status.value,
                                "date": str(i.due_on),
                            },
                        )
                    )
            else:
                low = dt.datetime.combine(min(days), dt.time(), self.workflows.zone)
                high = dt.datetime.combine(
                    max(days) + dt.timedelta(days=1), dt.time(), self.workflows.zone
                )
                wanted = set(days)
                for a in session.scalars(
                    sa.select(Appointment).where(
                        Appointment.starts_at >= low, Appointment.starts_at < high
                    )
                ):
                    local_day = a.starts_at.astimezone(self.workflows.zone).date()
                    if local_day in wanted:
                        out.append(
                            (
                                f"date:appointment:{a.id}:{local_day}",
                                {
                                    "record": record,
                                    "id": a.id,
                                    "appointment_id": a.id,
                                    "patient_id": a.patient_id,
                                    "client_id": a.client_id,
                                    "status": a.status.value,
                                    "type": a.type.value,
                                    "starts_at": a.starts_at.isoformat(),
                                    "date": str(local_day),
                                },
                            )
                        )
        return [(key, self.workflows._people(ctx)) for key, ctx in out]

    def _wake_due(self, now: dt.datetime) -> int:
        with self.db.connect() as conn:
            rows = conn.execute(
                sa.select(RUN.c.id, RUN.c.seq, RUN.c.attempt).where(
                    RUN.c.status == "waiting", RUN.c.wake_at <= now
                )
            ).all()
        for run_id, seq, attempt in rows:
            self.workflows._enqueue(run_id, seq, f"wf:{run_id}:{seq}:{attempt}:due")
        return len(rows)

    def _sweep(self, now: dt.datetime) -> int:
        """Runs whose next step has no live job (a crash between save and enqueue)."""
        stale = now - dt.timedelta(seconds=self.workflows.sweep_after)
        with self.db.connect() as conn:
            rows = conn.execute(
                sa.select(RUN.c.id, RUN.c.seq).where(
                    sa.or_(
                        sa.and_(RUN.c.status == "ready", RUN.c.updated_at < stale),
                        sa.and_(RUN.c.status == "running", RUN.c.lease_until < now),
                    )
                )
            ).all()
        minute = int(time.time() // 60)
        for run_id, seq in rows:
            self.workflows._enqueue(run_id, seq, f"wf:{run_id}:{seq}:sweep:{minute}")
        return len(rows)

    def _expire(self, now: dt.datetime) -> int:
        with self.db.connect() as conn:
            rows = conn.execute(
                sa.select(RUN).where(
                    RUN.c.status.in_(("queued", "waiting", "ready")), RUN.c.deadline < now
                )
            ).all()
        expired = 0
        for row in rows:
            run = dict(row._mapping)
            document = self.workflows.document(run["version_id"])
            with self.db.begin() as conn:
                moved = conn.execute(
                    sa.update(RUN)
                    .where(
                        RUN.c.id == run["id"],
                        RUN.c.status == run["status"],
                        RUN.c.updated_at == run["updated_at"],
                    )
                    .values(
                        status="failed",
                        finished_at=now,
                        updated_at=now,
                        wait_event=None,
                        error=runtime_error(document),
                    )
                ).rowcount
            if moved:
                expired += 1
                self.workflows._tell_owner(run, runtime_error(document))
                self.workflows._promote_queued(int(run["workflow_id"]))
        return expired

    def enqueue(self, interval: float) -> JobId:
        """The tick of the current slot (one per slot cluster-wide)."""
        slot = int(time.time() // interval)
        return self.workflows.platform.enqueue(
            WORKFLOWS, TICK_TASK, str(slot), idempotency_key=f"workflows.tick:{interval:g}:{slot}"
        )
