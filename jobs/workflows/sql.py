"""The statements a workflow step runs, built once.

Every step claims its run, saves it and records the step: building those statements
with SQLAlchemy's expression language on each call (columns compared, values coerced,
a cache key generated) cost more than running them. Built here once, with bind
parameters, each call only binds its values; the compiled form is cached by the engine.
"""

from __future__ import annotations

from typing import Any, Final

import sqlalchemy as sa

from purplecross_desktop.workflows.models import RUN, STEP

#: Take a run for a job: ready, waiting and due, or running under this job or a lease
#: that ran out. One statement: the database decides between racing jobs (a row lock on
#: PostgreSQL re-checks the condition; SQLite has one writer at a time).
CLAIM: Final = (
    sa.update(RUN)
    .where(
        RUN.c.id == sa.bindparam("w_run"),
        RUN.c.seq == sa.bindparam("w_seq"),
        sa.or_(
            RUN.c.status == "ready",
            sa.and_(RUN.c.status == "waiting", RUN.c.wake_at <= sa.bindparam("w_slack")),
            sa.and_(
                RUN.c.status == "running",
                sa.or_(
                    RUN.c.claimed_by == sa.bindparam("w_job"),
                    RUN.c.lease_until < sa.bindparam("w_now"),
                ),
            ),
        ),
    )
    .values(
        status="running",
        claimed_by=sa.bindparam("v_job"),
        lease_until=sa.bindparam("v_lease"),
        updated_at=sa.bindparam("v_now"),
    )
    .returning(*RUN.c)
)

#: The run is still this job's at this step (not cancelled or taken over meanwhile).
_STILL_MINE: Final = sa.and_(
    RUN.c.id == sa.bindparam("w_run"),
    RUN.c.seq == sa.bindparam("w_seq"),
    RUN.c.status == "running",
    RUN.c.claimed_by == sa.bindparam("w_job"),
)

_RELEASED: Final[dict[str, Any]] = {
    "context": sa.bindparam("v_context"),
    "claimed_by": None,
    "lease_until": None,
    "updated_at": sa.bindparam("v_now"),
    "attempt": 1,
}

#: Save a run that now waits (a wait step, or a wait-for-event's deadline).
SAVE_WAITING: Final = (
    sa.update(RUN)
    .where(_STILL_MINE)
    .values(
        **_RELEASED,
        status="waiting",
        wake_at=sa.bindparam("v_wake_at"),
        wait_event=sa.bindparam("v_wait_event"),
    )
)

#: Save a run moved on to its next instruction (``ready``) or finished (``succeeded``).
SAVE_MOVED: Final = (
    sa.update(RUN)
    .where(_STILL_MINE)
    .values(
        **_RELEASED,
        status=sa.bindparam("v_status"),
        pc=sa.bindparam("v_pc"),
        seq=sa.bindparam("v_seq"),
        wake_at=None,
        wait_event=None,
        finished_at=sa.bindparam("v_finished_at"),
    )
)

#: A step attempt's row, if one was written (a wait being resumed).
FIND_STEP: Final = sa.select(STEP.c.id).where(
    STEP.c.run_id == sa.bindparam("w_run"),
    STEP.c.seq == sa.bindparam("w_seq"),
    STEP.c.attempt == sa.bindparam("w_attempt"),
)

#: Finish a step attempt's row.
UPDATE_STEP: Final = (
    sa.update(STEP)
    .where(STEP.c.id == sa.bindparam("w_id"))
    .values(
        status=sa.bindparam("v_status"),
        output=sa.bindparam("v_output"),
        finished_at=sa.bindparam("v_finished_at"),
        error=sa.bindparam("v_error"),
    )
)

#: Write a step attempt's row.
INSERT_STEP: Final = sa.insert(STEP).values(
    run_id=sa.bindparam("v_run"),
    seq=sa.bindparam("v_seq"),
    attempt=sa.bindparam("v_attempt"),
    step_id=sa.bindparam("v_step_id"),
    action=sa.bindparam("v_action"),
    status=sa.bindparam("v_status"),
    input=sa.bindparam("v_input"),
    output=sa.bindparam("v_output"),
    started_at=sa.bindparam("v_started_at"),
    finished_at=sa.bindparam("v_finished_at"),
    error=sa.bindparam("v_error"),
)
