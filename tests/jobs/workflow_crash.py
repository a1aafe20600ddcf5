"""A ``--register`` hook for worker processes: SIGKILL this worker at one step boundary.

``PC_TEST_CRASH_AT=<run>:<point>:<seq>`` names the boundary (``before_action``,
``after_action`` or ``after_save`` of step ``seq`` of run ``run``): the process dies
there as a power cut would, with no chance to clean up.
"""

from __future__ import annotations

import os
import signal

from jobs.platform import JobPlatform

CRASH_ENV = "PC_TEST_CRASH_AT"


def register(platform: JobPlatform) -> None:
    plan = os.environ.get(CRASH_ENV)
    if not plan:
        return
    run_text, point, seq_text = plan.split(":")
    target = (point, int(run_text), int(seq_text))

    def boundary(at: str, run_id: int, seq: int) -> None:
        if (at, run_id, seq) == target:
            os.kill(os.getpid(), signal.SIGKILL)

    platform.services["workflows"].boundary = boundary
