"""Who, besides a staff member, a write is made on behalf of: a workflow run.

A workflow's actions run as the system (no staff member); the engine sets
:data:`ACTING` around each action, and the audit row and the event rows of the write
record it: the audit log says which workflow and version made the change, and the
event carries the run and its depth, so a workflow started by an event its own action
caused can be stopped after a few rounds.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Provenance:
    """A write made by a workflow run.

    Attributes:
        label: how the audit log names it, e.g. ``workflow 3 "No-show follow-up" v2, run 17``.
        run_id: the run.
        depth: the depth the run's events carry (the run's own depth plus one).
    """

    label: str
    run_id: int
    depth: int


#: Set by the workflow engine around each action; None for everything else.
ACTING: ContextVar[Provenance | None] = ContextVar("ACTING", default=None)
