"""One writer of job rows (issue 9): only ``jobs.recorder`` (and its SQLite hot path) writes them.

Read by the source: every module of the app that names a registry table, by its model's
``__table__`` or by the recorder's constants, may read it but never passes it to
``insert``/``update``/``delete``; and no SQL text outside the recorder writes ``job``.
A second writer with its own encoder or its own idea of a state change is what
issue 9 found; this fails the moment one comes back.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("jobs", "purplecross_desktop", "benchmarks")
#: The recorder package (every part of it) and its SQLite hot path.
OWNERS = {"jobs/recorder", "jobs/fastpath.py"}
MODELS = {"Job", "JobBlob", "JobEvent", "JobWorker", "PausedQueue", "RateWindow"}
RECORDER_NAMES = {"JOB", "BLOB", "EVENT", "PAUSED", "WORKER", "RATE"}
WRITES = {"insert", "update", "delete"}
SQL_WRITE = re.compile(
    r"\b(?:insert\s+into|update|delete\s+from)\s+(?:job|job_blob|job_event|job_worker|"
    r"job_paused_queue|job_rate_window)\b",
    re.IGNORECASE,
)


def _table_names(tree: ast.Module) -> set[str]:
    """Names bound to a registry table in this module."""
    names: set[str] = set()
    for node in ast.walk(tree):
        # From the package or any of its parts (jobs.recorder.core, ...).
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("jobs.recorder"):
            names |= {a.asname or a.name for a in node.names if a.name in RECORDER_NAMES}
        if isinstance(node, ast.Assign) and "__table__" in ast.unparse(node.value):
            source = ast.unparse(node.value)
            if any(re.search(rf"\b{model}\.__table__", source) for model in MODELS):
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _writes(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    tables = _table_names(tree)
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    found: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        target = node.args[0] if node.args else None
        if name in WRITES and isinstance(target, ast.Name) and target.id in tables:
            found.append(f"{where}:{node.lineno}: {ast.unparse(node)[:80]}")
        if (
            isinstance(func, ast.Attribute)
            and func.attr in WRITES
            and isinstance(func.value, ast.Name)
            and func.value.id in tables
        ):
            found.append(f"{where}:{node.lineno}: {ast.unparse(node)[:80]}")
    for node in ast.walk(tree):
        is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if is_text and SQL_WRITE.search(node.value):
            found.append(f"{where}:{node.lineno}: SQL {node.value[:60]!r}")
    return found


def test_only_the_recorder_writes_job_rows() -> None:
    offenders: list[str] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if str(relative) in OWNERS or str(relative.parent) in OWNERS:
                continue
            offenders.extend(_writes(path))
    assert offenders == []


def test_the_check_finds_a_second_writer(tmp_path: Path) -> None:
    """The check itself can fail: each way of writing a job row is caught."""
    sample = tmp_path / "second_writer.py"
    sample.write_text(
        "from typing import cast\n"
        "from sqlalchemy import Table, update\n"
        "from jobs.models import Job\n"
        "from jobs.recorder import BLOB, EVENT\n"
        "from jobs.recorder.core import WORKER\n"
        "JOB = cast(Table, Job.__table__)\n"
        "a = update(JOB).values(state='dead')\n"
        "b = EVENT.insert()\n"
        "c = 'UPDATE job SET state = 1'\n"
        "d = BLOB.delete()\n"
        "e = 'DELETE FROM job_blob WHERE 1'\n"
        "f = update(WORKER).values(stopped_at=None)\n",
        encoding="utf-8",
    )
    found = _writes(sample)
    assert len(found) == 6, found
