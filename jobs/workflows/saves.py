"""Saving a step: the step's row and the run moved on in one transaction, then what comes
next enqueued; a failed attempt retried or the run failed; a finished run's owner told.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from jobs.policy import RetryPolicy
from jobs.queues import WORKFLOWS
from jobs.workflows import sql
from jobs.workflows.core import (
    STEP_TASK,
    Outcome,
    StepFailedError,
    _follow_jumps,
    _safe_render,
)
from jobs.workflows.triggers import Triggers
from purplecross_desktop.workflows import catalogue
from purplecross_desktop.workflows.document import Document, Instruction
from purplecross_desktop.workflows.models import RUN

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


class Saves(Triggers):
    """Records what a step did and moves its run on."""

    def _save_rows(
        self,
        conn: sa.Connection,
        run: Mapping[str, Any],
        instruction: Instruction,
        outcome: Outcome,
        context: dict[str, Any],
        now: dt.datetime,
        job_id: str,
        next_jobs: list[dict[str, Any]],
    ) -> str | None:
        """Record the step and move the run on, in ``conn``'s transaction; returns the run's
        new status, or None when the run was changed meanwhile (cancelled, taken over).

        A run moved on to its next step gets that step's job row in the same transaction
        (appended to ``next_jobs``, to send after the commit): one commit for the save and
        the next job, and no run left ready without a job."""
        step = instruction.step
        assert step is not None
        run_id, seq = int(run["id"]), int(run["seq"])
        waiting = outcome.wake_at is not None
        if not waiting:
            context.setdefault("steps", {})[step["id"]] = outcome.output
        context.pop("run", None)
        program = self.document(run["version_id"]).program
        mine = {"w_run": run_id, "w_seq": seq, "w_job": job_id, "v_context": context, "v_now": now}
        if waiting:
            status = "waiting"
            moved = conn.execute(
                sql.SAVE_WAITING,
                mine | {"v_wake_at": outcome.wake_at, "v_wait_event": outcome.wait_event},
            ).rowcount
        else:
            done = outcome.next_pc is None or _follow_jumps(program, outcome.next_pc) >= len(
                program
            )
            status = "succeeded" if done else "ready"
            moved = conn.execute(
                sql.SAVE_MOVED,
                mine
                | {
                    "v_status": status,
                    "v_pc": run["pc"] if outcome.next_pc is None else outcome.next_pc,
                    "v_seq": seq + 1,
                    "v_finished_at": now if done else None,
                },
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
        if status == "ready":
            prepared = self.platform.enqueue_in(
                conn,
                WORKFLOWS,
                STEP_TASK,
                run_id,
                seq + 1,
                idempotency_key=f"wf:{run_id}:{seq + 1}",
            )
            if prepared is not None:
                next_jobs.append(prepared)
        return status

    def _after_save(
        self,
        run: Mapping[str, Any],
        instruction: Instruction,
        outcome: Outcome,
        status: str,
        next_jobs: Sequence[dict[str, Any]],
    ) -> str:
        """After the commit: enqueue what comes next (the wake, the next step, a queued run);
        ``next_jobs`` are the next step's job rows the save wrote (their messages go now)."""
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
        for prepared in next_jobs:
            self.platform.send_prepared(prepared)
        return f"step {step['id']}: done"

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
