"""A step (the job ``workflows.step(run, seq)``): claim the run, do one instruction, save."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from jobs.platform import JobContext
from jobs.workflows import sql
from jobs.workflows.core import PERMANENT, WAITS, Outcome, StepFailedError, _follow_jumps, _pure
from jobs.workflows.saves import Saves
from jobs.workflows.tick import runtime_error
from jobs.workflows.waits import Waits
from purplecross_desktop.domain.provenance import ACTING, Provenance
from purplecross_desktop.workflows import catalogue
from purplecross_desktop.workflows.conditions import evaluate
from purplecross_desktop.workflows.document import Document, Instruction
from purplecross_desktop.workflows.templating import render

if TYPE_CHECKING:
    pass


class Steps(Saves, Waits):
    """Runs one step of a run, once."""

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
            next_jobs: list[dict[str, Any]] = []
            if now <= run["deadline"] and pc < len(program) and _pure(program[pc]):
                key = f"workflow-run:{run_id}:step:{seq}"
                try:
                    outcome = self._execute(
                        run, document, program[pc], pc, context, key, resumed, now
                    )
                except StepFailedError:
                    pass  # the slower path below records the failure
                else:
                    status = self._save_rows(
                        conn, run, program[pc], outcome, context, now, job_id, next_jobs
                    )
                    if status is not None:
                        fused = outcome, status
        if fused is not None:
            return self._after_save(run, program[pc], fused[0], fused[1], next_jobs)
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
            status = self._save_rows(
                conn, run, instruction, outcome, context, now, job_id, next_jobs
            )
        if status is None:
            return f"skipped: run {run_id} was changed meanwhile (cancelled or taken over)"
        result = self._after_save(run, instruction, outcome, status, next_jobs)
        self._boundary("after_save", run_id, seq)
        return result

    def _claim(
        self, conn: sa.Connection, run_id: int, seq: int, job_id: str, now: dt.datetime
    ) -> tuple[dict[str, Any], bool] | None:
        """Take the run for this job; returns (run, whether it was waiting) or None."""
        row = conn.execute(
            sql.CLAIM,
            {
                "w_run": run_id,
                "w_seq": seq,
                "w_slack": now + dt.timedelta(seconds=2),  # a job may wake a little early
                "w_job": job_id,
                "w_now": now,
                "v_job": job_id,
                "v_lease": now + dt.timedelta(seconds=self.lease),
                "v_now": now,
            },
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
