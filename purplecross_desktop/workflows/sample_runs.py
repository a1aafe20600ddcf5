"""Sample run history for demos and screenshots: runs with step results, written directly.

The rows look like the engine's (statuses, timings, inputs and outputs, errors) so the
runs list, a run's timeline and the analytics have something to show on a fresh database;
they are never written by the engine itself.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import sqlalchemy as sa

from purplecross_desktop.database.base import utcnow
from purplecross_desktop.workflows.models import RUN, STEP, VERSION, WORKFLOW
from purplecross_desktop.workflows.templating import render

SAMPLE_CONTEXT: dict[str, Any] = {
    "trigger": {
        "id": 12,
        "client_id": 12,
        "patient_id": 31,
        "client_name": "Ann Owner",
        "patient_name": "Rex",
        "client_email": "ann@example.org",
        "vaccine": "Rabies",
        "date": "2026-12-16",
        "number": "INV-0042",
        "balance": "84.00",
        "starts_at": "2026-11-30T10:30:00+00:00",
    },
    "steps": {"welcome": {"to": "ann@example.org"}},
}


def add_sample_runs(engine: sa.Engine, per_workflow: int = 12, seed: int = 14) -> int:
    """Add ``per_workflow`` runs over the last 30 days to every workflow; returns how many."""
    rng = random.Random(seed)
    now = utcnow()
    added = 0
    with engine.begin() as conn:
        workflows = conn.execute(
            sa.select(WORKFLOW.c.id, VERSION.c.id, VERSION.c.number, VERSION.c.document).join(
                VERSION,
                sa.and_(
                    VERSION.c.workflow_id == WORKFLOW.c.id,
                    VERSION.c.number == WORKFLOW.c.current_version,
                ),
            )
        ).all()
        for workflow_id, version_id, number, document in workflows:
            steps = [s for s in document.get("steps", []) if s.get("action") != "branch"][:3]
            for n in range(per_workflow):
                started = now - dt.timedelta(days=rng.uniform(0, 29), hours=rng.uniform(0, 8))
                roll = rng.random()
                status = "failed" if roll < 0.12 else ("waiting" if n == 0 else "succeeded")
                took = dt.timedelta(seconds=rng.uniform(0.4, 3.0))
                run_id = conn.execute(
                    sa.insert(RUN)
                    .values(
                        workflow_id=workflow_id,
                        version_id=version_id,
                        version=number,
                        status=status,
                        pc=len(steps),
                        seq=len(steps),
                        attempt=1,
                        context=SAMPLE_CONTEXT,
                        depth=0,
                        dedupe_key=f"sample:{workflow_id}:{n}",
                        started_at=started,
                        updated_at=started + took,
                        finished_at=None if status == "waiting" else started + took,
                        deadline=started + dt.timedelta(days=30),
                        wake_at=now + dt.timedelta(days=3) if status == "waiting" else None,
                        error=(
                            "step 'email_owner' (send_email) failed after 3 attempts: "
                            "SMTP 451 try again later"
                            if status == "failed"
                            else None
                        ),
                    )
                    .returning(RUN.c.id)
                ).scalar_one()
                at = started
                for seq, step in enumerate(steps):
                    failed = status == "failed" and seq == len(steps) - 1
                    output: dict[str, Any] = {} if failed else _output(step)
                    conn.execute(
                        sa.insert(STEP).values(
                            run_id=run_id,
                            seq=seq,
                            attempt=1,
                            step_id=step["id"],
                            action=step["action"],
                            status="failed" if failed else "done",
                            input=render(step.get("with") or {}, SAMPLE_CONTEXT),
                            output=output,
                            started_at=at,
                            finished_at=at + took / max(1, len(steps)),
                            error="SMTP 451 try again later" if failed else None,
                        )
                    )
                    at += took / max(1, len(steps))
                added += 1
    return added


def _output(step: dict[str, Any]) -> dict[str, Any]:
    action = step.get("action")
    if action == "send_email":
        return {"job_id": "5f1c0e", "to": "owner@example.org"}
    if action in ("wait", "wait_for_event"):
        return {"resumed_at": utcnow().isoformat(), "matched": False}
    if action in ("staff_task", "send_notification"):
        return {"job_ids": ["9a2b"]}
    return {}
