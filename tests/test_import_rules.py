"""The import direction of DESIGN.md, enforced: the Qt-free core never pulls in PySide6,
and widgets/gallery never reach for jobs, the cache or the database."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

QT_FREE = [
    "jobs",
    "cache",
    "purplecross_desktop.settings",
    "purplecross_desktop.secrets",
    "purplecross_desktop.database",
    "purplecross_desktop.database.models",
    "purplecross_desktop.domain",
    "purplecross_desktop.cli",
    "purplecross_desktop.services",
    "purplecross_desktop.demo",
    "purplecross_desktop.jobs_wiring",
    "purplecross_desktop.cache_wiring",
    "purplecross_desktop.jobs_command",
    "purplecross_desktop.cache_command",
    "jobs.runner",
    "jobs.email",
    "jobs.registry",
    "cache.service",
]


@pytest.mark.parametrize("module", QT_FREE)
def test_qt_free_modules_do_not_import_pyside6(module: str) -> None:
    code = (
        "import importlib, sys\n"
        f"importlib.import_module({module!r})\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6')))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "", f"{module} imports Qt: {out.stdout.strip()}"


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module)
    return roots


FORBIDDEN = {
    "widgets": ("jobs", "cache", "purplecross_desktop", "gallery", "sqlalchemy", "redis", "huey"),
    "gallery": ("jobs", "cache", "purplecross_desktop", "sqlalchemy", "redis", "huey"),
    "cache": ("jobs", "purplecross_desktop", "widgets", "gallery", "PySide6"),
    "jobs": ("widgets", "gallery", "PySide6", "purplecross_desktop.ui", "purplecross_desktop.app"),
}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_packages_import_only_what_they_may(package: str) -> None:
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in _imported_roots(path):
            for bad in FORBIDDEN[package]:
                if name == bad or name.startswith(bad + "."):
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_registering_every_cli_command_imports_no_qt() -> None:
    """`purplecross worker` goes through the same registration: it must not load Qt."""
    code = (
        "import sys\n"
        "from purplecross_desktop import cli, cli_extensions\n"
        "cli_extensions.register(cli.cli)\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('PySide6'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_the_window_loads_without_the_jobs_stack() -> None:
    """The app starts its jobs on a thread after the window shows: importing the composition
    root (every page module) must not load Huey or the jobs package (start-up budget)."""
    code = (
        "import sys\n"
        "import purplecross_desktop.app\n"
        "print(','.join(sorted(m for m in sys.modules if m in ('jobs', 'huey'))))\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == ""
