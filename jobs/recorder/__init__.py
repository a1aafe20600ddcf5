"""The one writer of the job registry: enqueue rows, claims, outcomes, admin actions, recovery.

Every state change is one short transaction: a conditional ``UPDATE`` on the job row
(the condition — id, dispatch token, state — is what makes two workers, a late or
replayed message, or a stale token harmless) plus ``job_event`` rows for the timeline,
written only when the change happened. Times that are judged across machines
(heartbeats, starts, leases, due times) come from the database's clock: ``now()`` on
PostgreSQL; on SQLite the database is a local file, so its clock is this machine's.

Nothing else in ``jobs/`` writes ``job`` rows; the registry's admin actions, the runner's
recovery and the platform's dispatch all come here. Job data is stored as given: it was
checked to be plain JSON at enqueue (``jobs.config.check_job_data``), so SQLAlchemy's
JSON encoder, orjson on the SQLite hot path and the broker's signed JSON all agree.

One class, :class:`Recorder`, in parts along its seams:

- :mod:`jobs.recorder.core`: the tables, the database clock, transactions, timeline events;
- :mod:`jobs.recorder.rows`: job rows and blobs at enqueue, the outbox hand-off;
- :mod:`jobs.recorder.outcomes`: claims, outcomes (completed, retrying, dead), progress;
- :mod:`jobs.recorder.admin`: revoke, re-dispatch, pause/resume, deleting finished jobs;
- :mod:`jobs.recorder.recovery`: lost broker datasets, the overdue sweep, outbox claims;
- :mod:`jobs.recorder.workers`: worker rows, orphaned jobs, shared rate limits.
"""

from __future__ import annotations

from jobs.recorder.admin import AdminActions
from jobs.recorder.core import (
    BLOB,
    EMAIL_LOG,
    EVENT,
    JOB,
    PAUSED,
    RATE,
    WORKER,
    Claim,
    Started,
    error_class_name,
    new_seq,
    new_token,
    summarize,
)
from jobs.recorder.outcomes import Outcomes
from jobs.recorder.recovery import Recovery
from jobs.recorder.rows import RowWrites
from jobs.recorder.workers import Workers

__all__ = [
    "BLOB",
    "EMAIL_LOG",
    "EVENT",
    "JOB",
    "PAUSED",
    "RATE",
    "WORKER",
    "Claim",
    "Recorder",
    "Started",
    "error_class_name",
    "new_seq",
    "new_token",
    "summarize",
]


class Recorder(RowWrites, Outcomes, AdminActions, Recovery, Workers):
    """The registry's writer, shared by enqueuers, workers and admin actions.

    Args:
        engine: the app database (SQLite or PostgreSQL) holding the ``job`` tables.
    """
