"""``purplecross worker`` on a machine whose clock is off by ``PC_TEST_CLOCK_SKEW`` seconds.

A real clock cannot be set per process on demand, so this skews every clock the job
code reads from Python (``utcnow`` wherever it was imported, and ``time.time``) before
the worker starts. The database's clock is untouched, as on a real clinic server.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import pkgutil
import sys
import time

SKEW = float(os.environ["PC_TEST_CLOCK_SKEW"])
_real_time = time.time


def _skewed_utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=SKEW)


def main() -> None:
    time.time = lambda: _real_time() + SKEW
    import purplecross_desktop.database.base as base

    base.utcnow = _skewed_utcnow
    import jobs.recorder

    # Every part of the recorder package, so that a part that starts reading the clock is
    # skewed too.
    parts = [f"jobs.recorder.{m.name}" for m in pkgutil.iter_modules(jobs.recorder.__path__)]
    for name in (
        "jobs.recorder",
        *parts,
        "jobs.runner",
        "jobs.platform",
        "jobs.execution",
        "jobs.registry",
        "jobs.email",
        "jobs.models",
    ):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, "utcnow"):
            module.utcnow = _skewed_utcnow  # type: ignore[attr-defined]
    from purplecross_desktop.cli import main as cli

    sys.argv = ["purplecross", *sys.argv[1:]]
    cli()


if __name__ == "__main__":
    main()
