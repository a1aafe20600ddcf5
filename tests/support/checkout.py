"""A copy of the repository as a fresh clone would have it, for tests that edit and run it.

Only the files git knows (committed, staged, or new and not ignored) are copied: no venv,
no caches, no build output, no local databases. Code run from the copy with the copy as
its working directory, through ``python -m`` or with ``PYTHONPATH`` set, imports the
copy, not this checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: The virtual environment running the tests: the copy's commands use it (no install).
VENV = Path(sys.executable).parent.parent


def copy_checkout(destination: Path) -> Path:
    """Copy the repository's files into ``destination`` and return it."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if not source.is_file():
            continue  # deleted in the working tree
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    return destination


def run_in(
    checkout: Path, args: Sequence[str | Path], env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` in ``checkout`` importing its code (the test's venv first on PATH)."""
    environment = {
        **os.environ,
        "PYTHONPATH": str(checkout),
        "PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        **(env or {}),
    }
    return subprocess.run(
        [str(a) for a in args],
        cwd=checkout,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
