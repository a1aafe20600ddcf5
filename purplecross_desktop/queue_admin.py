"""The queue monitor's actions, checked against the staff member's role and audited.

Qt-free: the pane calls it on a worker thread. Every action asks the access service
first (``Permission.MONITOR_QUEUES``: only admins), acts through the job registry, and
then writes one audit row naming the staff member, the action, the queue and the jobs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, select

from jobs.models import FINISHED, Job, JobEvent, JobId, JobState
from jobs.registry import JobRegistry, RetryPlan
from purplecross_desktop.database.base import StaffId, utcnow
from purplecross_desktop.database.session import SessionFactory
from purplecross_desktop.domain import audit
from purplecross_desktop.domain.access import AccessService
from purplecross_desktop.domain.roles import Permission
from purplecross_desktop.domain.service import CurrentActor

JOB = cast(Table, Job.__table__)
EVENT = cast(Table, JobEvent.__table__)
#: The audit row's entity for an action on jobs or queues (job ids are text; the row
#: keeps them in ``changes``, its entity_id is 0).
AUDIT_ENTITY = "job_queue"
#: At most this many job ids are written into one audit row (the count is always whole).
AUDITED_IDS = 500


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What an action did: the jobs it acted on, and the ones it left (with why)."""

    action: str
    done: list[str]
    skipped: dict[str, str]

    def summary(self) -> str:
        """One line for the pane: "Retry: 3 jobs (1 not eligible)."."""
        noun = "job" if len(self.done) == 1 else "jobs"
        note = f" ({len(self.skipped)} not eligible)" if self.skipped else ""
        return f"{self.action.capitalize()}: {len(self.done)} {noun}{note}."


class QueueAdmin:
    """Retry, revoke, promote, duplicate, remove, clean, pause and resume, audited.

    Args:
        registry: the job registry.
        access: checks the acting staff member's role.
        session_factory: the clinic database (the audit log).
        current_actor: who acts (the signed-in staff member).
    """

    def __init__(
        self,
        registry: JobRegistry,
        access: AccessService,
        session_factory: SessionFactory,
        current_actor: CurrentActor,
    ) -> None:
        self.registry = registry
        self._access = access
        self._sessions = session_factory
        self._actor = current_actor

    # One job or a selection ---------------------------------------------------------
    def retry(self, job_ids: Sequence[str]) -> ActionResult:
        """Run dead, revoked or retrying jobs again from attempt 1."""
        self._require()
        done = self.registry.retry(job_ids)
        return self._audited("retry", job_ids, done, "not dead, revoked or retrying")

    def revoke(self, job_ids: Sequence[str]) -> ActionResult:
        """Cancel jobs that have not started."""
        self._require()
        done = self.registry.revoke(job_ids)
        return self._audited("revoke", job_ids, done, "already running or finished")

    def promote(self, job_ids: Sequence[str]) -> ActionResult:
        """Run scheduled or retry-waiting jobs now."""
        self._require()
        done = self.registry.promote(job_ids)
        return self._audited("promote", job_ids, done, "not scheduled or waiting to retry")

    def duplicate(self, job_ids: Sequence[str]) -> ActionResult:
        """Enqueue a copy of each job (same task, args, links, priority)."""
        self._require()
        copies = [self.registry.duplicate(j) for j in job_ids]
        result = ActionResult("duplicate", list(copies), {})
        self._audit("duplicate", None, {"jobs": list(job_ids)[:AUDITED_IDS], "copies": copies})
        return result

    def remove(self, job_ids: Sequence[str]) -> ActionResult:
        """Delete jobs from the registry: finished ones, and waiting ones (revoked first).

        A running job is left alone (revoke cannot stop it; remove it once it finished).
        """
        self._require()
        self.registry.revoke(job_ids)  # a job not started yet never runs after this
        finished = [s.value for s in FINISHED]
        removable = self.registry.platform.recorder.delete_jobs_in_states(job_ids, finished)
        return self._audited("remove", job_ids, [JobId(j) for j in removable], "running")

    # Per queue -------------------------------------------------------------------------
    def retry_failed(self, queue: str | None, dry_run: bool) -> RetryPlan:
        """Retry every dead job of ``queue`` that can be; a dry run only says which."""
        self._require()
        plan = self.registry.retry_failed(queue, dry_run=dry_run)
        if not dry_run:
            self._audit(
                "retry_failed",
                queue,
                {
                    "jobs": plan.eligible[:AUDITED_IDS],
                    "count": len(plan.eligible),
                    "not_eligible": len(plan.ineligible),
                },
            )
        return plan

    def promote_scheduled(self, queue: str) -> ActionResult:
        """Run every scheduled job of ``queue`` now."""
        self._require()
        with self.registry.engine.connect() as conn:
            ids = list(
                conn.execute(
                    select(JOB.c.id).where(
                        JOB.c.queue == queue, JOB.c.state == JobState.SCHEDULED.value
                    )
                ).scalars()
            )
        done = self.registry.promote(ids)
        self._audit("promote_scheduled", queue, {"jobs": done[:AUDITED_IDS], "count": len(done)})
        return ActionResult("promote", list(done), {})

    def clean(self, queue: str | None, state: str, older_than: dt.timedelta) -> int:
        """Delete ``queue``'s jobs in a finished ``state`` that finished before ``older_than``."""
        self._require()
        if older_than < dt.timedelta(0):
            raise ValueError("older_than: must not be negative")
        count = self.registry.clean(queue, state, older_than)
        self._audit(
            "clean",
            queue,
            {"state": state, "older_than_s": older_than.total_seconds(), "count": count},
        )
        return count

    def pause(self, queue: str) -> None:
        """Hold ``queue``: nothing of it runs until resumed."""
        self._require()
        self.registry.pause(queue)
        self._audit("pause", queue, {})

    def resume(self, queue: str) -> None:
        """Let a paused queue run again."""
        self._require()
        self.registry.resume(queue)
        self._audit("resume", queue, {})

    # Internals -----------------------------------------------------------------------
    def _require(self) -> None:
        self._access.require(Permission.MONITOR_QUEUES)

    def _audited(
        self, action: str, asked: Sequence[str], done: Sequence[str], why: str
    ) -> ActionResult:
        done_set = set(done)
        skipped = {j: why for j in asked if j not in done_set}
        self._audit(
            action,
            None,
            {"jobs": list(done)[:AUDITED_IDS], "count": len(done), "skipped": len(skipped)},
        )
        return ActionResult(action, list(done), skipped)

    def _audit(self, action: str, queue: str | None, changes: dict[str, Any]) -> None:
        actor: StaffId | None = self._actor()
        with self._sessions() as session, session.begin():
            audit.record(
                session,
                actor=actor,
                action=f"jobs.{action}",
                entity=AUDIT_ENTITY,
                entity_id=0,
                changes={"queue": queue, **changes},
                at=utcnow(),
            )
