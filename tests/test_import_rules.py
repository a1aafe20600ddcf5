"""The import direction of DESIGN.md, enforced: the Qt-free core never pulls in PySide6,
the domain never calls jobs, and widgets/gallery never reach for jobs, the cache or the
database.

Two kinds of check: importing a Qt-free module in a fresh interpreter leaves PySide6 out
of ``sys.modules`` (what a worker process needs), and every import statement in a
package, at the top or inside a function (a lazy import runs later, but it runs), is
read from the source and held against the package's rule below. The per-package
``ruff.toml`` files ban the same modules, so editors flag a violation as it is typed;
a test checks that ruff and these rules agree on every banned module.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUFF = Path(sys.executable).with_name("ruff")

QT_FREE = [
    "jobs",
    "cellsafe",
    "cache",
    "purplecross_desktop.settings",
    "purplecross_desktop.secrets",
    "purplecross_desktop.database",
    "purplecross_desktop.database.models",
    "purplecross_desktop.domain",
    "purplecross_desktop.cli",
    "purplecross_desktop.services",
    "purplecross_desktop.workflows.document",
    "purplecross_desktop.workflows.store",
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


# The rules ------------------------------------------------------------------------------

FIRST_PARTY = (
    "purplecross_desktop",
    "widgets",
    "jobs",
    "cache",
    "gallery",
    "textorder",
    "cellsafe",
)
QT = ("PySide6", "shiboken6")
QT_GLUE = ("purplecross_desktop.ui", "purplecross_desktop.app", "purplecross_desktop.operations")
STORAGE = ("sqlalchemy", "alembic", "psycopg", "redis", "huey", "diskcache", "keyring")


@dataclass(frozen=True)
class Rule:
    """What the files of one package may import.

    Attributes:
        may_use: the only first-party modules (ours) it may import, with their submodules.
        banned: modules it must never import (third-party ones, and ours for ruff).
        ruff: whether the package's ruff.toml bans ``banned`` too (a directory of its own).
    """

    may_use: tuple[str, ...]
    banned: tuple[str, ...]
    ruff: bool = True


QT_FREE_CORE = ("purplecross_desktop.database", "purplecross_desktop.domain", "textorder")
RULES: dict[str, Rule] = {
    # The domain is Qt-free and never calls jobs, the cache or the UI (DESIGN.md): events
    # go through the bus and the composition root wires them.
    "purplecross_desktop/domain": Rule(
        # clinic_time: the clinic's clock and zone (standard library and database.base only).
        may_use=(*QT_FREE_CORE, "purplecross_desktop.clinic_time"),
        banned=(*QT, "jobs", "cache", "widgets", "gallery", *QT_GLUE, "huey", "redis"),
    ),
    # The database package; models.py gathers every table module, the job registry's too.
    "purplecross_desktop/database": Rule(
        may_use=(*QT_FREE_CORE, "jobs.models", "purplecross_desktop.workflows.models"),
        banned=(*QT, "cache", "widgets", "gallery", *QT_GLUE, "huey", "redis"),
    ),
    "jobs": Rule(
        may_use=(
            "jobs",
            "cache",
            "cellsafe",
            *QT_FREE_CORE,
            "purplecross_desktop.settings",
            "purplecross_desktop.secrets",
            "purplecross_desktop.services",
            "purplecross_desktop.workflows",
        ),
        banned=(*QT, "widgets", "gallery", *QT_GLUE),
    ),
    # The workflow documents, conditions and store: Qt-free like the domain, and free of
    # the job platform too (the engine that runs them on it is jobs.workflows).
    "purplecross_desktop/workflows": Rule(
        may_use=(*QT_FREE_CORE, "purplecross_desktop.workflows"),
        banned=(*QT, "jobs", "cache", "widgets", "gallery", *QT_GLUE, "huey", "redis"),
    ),
    "cache": Rule(
        may_use=("cache",),
        banned=(*QT, "jobs", "purplecross_desktop", "widgets", "gallery"),
    ),
    # The app's one text order, shared by every layer: the standard library only.
    "textorder": Rule(
        may_use=("textorder",),
        banned=(*QT, "jobs", "cache", "purplecross_desktop", "widgets", "gallery", *STORAGE),
        ruff=False,
    ),
    # Formula-injection neutralising, shared by the grid's exports and the report files.
    "cellsafe": Rule(
        may_use=("cellsafe",),
        banned=(*QT, "jobs", "cache", "purplecross_desktop", "widgets", "gallery", *STORAGE),
        ruff=False,
    ),
    "widgets": Rule(
        may_use=("widgets", "textorder", "cellsafe"),
        banned=("jobs", "cache", "purplecross_desktop", "gallery", *STORAGE),
    ),
    "gallery": Rule(
        may_use=("gallery", "widgets", "textorder"),
        banned=("jobs", "cache", "purplecross_desktop", *STORAGE),
    ),
}
#: The Qt-free modules beside the composition root (no directory of their own, so no
#: ruff.toml: this test is their only guard). The CLI is left out: `purplecross run`
#: imports the app, lazily.
QT_FREE_FILES = (
    "purplecross_desktop/settings.py",
    "purplecross_desktop/secrets.py",
    "purplecross_desktop/services.py",
    "purplecross_desktop/schema_check.py",
    "purplecross_desktop/preflight.py",
    "purplecross_desktop/demo*.py",
    "purplecross_desktop/records.py",
    "purplecross_desktop/*_wiring.py",
    "purplecross_desktop/*_command.py",
)
QT_FREE_FILE_RULE = Rule(
    may_use=FIRST_PARTY, banned=(*QT, "widgets", "gallery", *QT_GLUE), ruff=False
)


def imported_modules(source: str, package: str) -> Iterator[tuple[int, str, str | None]]:
    """(line, module, imported name) for every import in ``source``, wherever it is:
    ``import a.b``, ``from a import b`` (as ``a`` with name ``b``), relative imports
    resolved against ``package`` (the file's), and ``importlib.import_module("a.b")``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}".rstrip(".")
            for alias in node.names:
                yield node.lineno, base, alias.name
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value, None


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def violations(relative_path: str, source: str, rule: Rule) -> list[str]:
    """What in ``source`` (the file at ``relative_path``) breaks ``rule``."""
    module = relative_path.removesuffix(".py").replace("/", ".")
    package = module.removesuffix(".__init__") if module.endswith(".__init__") else module
    if not module.endswith(".__init__"):
        package = module.rsplit(".", 1)[0]
    found = []
    for line, name, member in imported_modules(source, package):
        full = f"{name}.{member}" if member and member != "*" else name
        where = f"{relative_path}:{line} imports {full}"
        if _under(name, rule.banned) or _under(full, rule.banned):
            found.append(f"{where} (banned here)")
        elif _under(name, FIRST_PARTY) and not (
            _under(name, rule.may_use) or _under(full, rule.may_use)
        ):
            found.append(f"{where} (not one of {', '.join(rule.may_use)})")
    return found


def _files() -> Iterator[tuple[Path, Rule]]:
    for package, rule in RULES.items():
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:  # generated, and only Alembic + SQLAlchemy
                yield path, rule
    for pattern in QT_FREE_FILES:
        for path in sorted(ROOT.glob(pattern)):
            yield path, QT_FREE_FILE_RULE


@pytest.mark.parametrize("package", [*RULES, "purplecross_desktop (Qt-free modules)"])
def test_packages_import_only_what_they_may(package: str) -> None:
    offenders = []
    for path, rule in _files():
        relative = path.relative_to(ROOT).as_posix()
        in_package = relative.startswith(package + "/")
        if in_package or (rule is QT_FREE_FILE_RULE and package.endswith("(Qt-free modules)")):
            offenders += violations(relative, path.read_text(encoding="utf-8"), rule)
    assert offenders == []


# The rules catch what they promise: the plants a review used to test them ---------------

PLANTS = {
    "Qt inside a domain function": (
        "purplecross_desktop/domain/planted.py",
        "def show() -> None:\n    from PySide6.QtWidgets import QMessageBox\n",
    ),
    "the domain calling jobs": (
        "purplecross_desktop/domain/planted.py",
        "import jobs\n",
    ),
    "the Qt glue, lazily, inside jobs": (
        "jobs/planted.py",
        "def run() -> None:\n    from purplecross_desktop.operations import BackgroundOperation\n",
    ),
    "widgets using diskcache": ("widgets/planted.py", "import diskcache\n"),
    "the database importing the UI": (
        "purplecross_desktop/database/planted.py",
        "from purplecross_desktop import ui\n",
    ),
    "the domain importing the jobs wiring": (
        "purplecross_desktop/domain/planted.py",
        "from purplecross_desktop.jobs_wiring import JobsRuntime\n",
    ),
    "a relative import of the Qt glue": (
        "purplecross_desktop/domain/planted.py",
        "from ..operations import OperationRunner\n",
    ),
    "importlib in the cache": (
        "cache/planted.py",
        "import importlib\nimportlib.import_module('jobs.registry')\n",
    ),
}


def _rule_for(relative_path: str) -> Rule:
    return next(rule for package, rule in RULES.items() if relative_path.startswith(package))


@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_a_planted_violation_is_caught(plant: str) -> None:
    path, source = PLANTS[plant]
    assert violations(path, source, _rule_for(path)) != []


#: The four a review planted (issue 15); ruff sees import statements, not importlib calls.
ISSUE_PLANTS = (
    "Qt inside a domain function",
    "the domain calling jobs",
    "the Qt glue, lazily, inside jobs",
    "widgets using diskcache",
)


@pytest.mark.parametrize("plant", ISSUE_PLANTS)
def test_ruff_flags_the_planted_violations_too(plant: str) -> None:
    """What editors show: ruff's banned-api (TID251) per package, from its ruff.toml."""
    path, source = PLANTS[plant]
    assert "TID251" in _ruff_codes(path, source)


@pytest.mark.parametrize("package", sorted(p for p, r in RULES.items() if r.ruff))
def test_each_package_ruff_config_bans_what_the_rule_bans(package: str) -> None:
    rule = RULES[package]
    ours_not_allowed = [
        root for root in FIRST_PARTY if not any(_under(m, (root,)) for m in rule.may_use)
    ]
    banned = sorted({*rule.banned, *ours_not_allowed})
    source = "".join(f"import {name}\n" for name in banned)
    flagged = _ruff_codes(f"{package}/planted.py", source, lines=True)
    missing = [name for line, name in enumerate(banned, 1) if ("TID251", line) not in flagged]
    assert missing == []


def _ruff_codes(path: str, source: str, lines: bool = False) -> set[object]:
    out = subprocess.run(
        [
            str(RUFF),
            "check",
            "--no-cache",
            "--output-format",
            "json",
            "--stdin-filename",
            path,
            "-",
        ],
        input=source,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    found = json.loads(out.stdout)
    if lines:
        return {(item["code"], item["location"]["row"]) for item in found}
    return {item["code"] for item in found}


# CLI and start-up ------------------------------------------------------------------------


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


def _loaded_by_importing_the_app() -> set[str]:
    """Every module a fresh interpreter holds after importing the composition root (what
    start-up waits for before the window can show)."""
    code = "import sys\nimport purplecross_desktop.app\nprint(' '.join(sys.modules))\n"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, env=env
    )
    return set(out.stdout.split())


def test_the_window_loads_without_the_jobs_stack() -> None:
    """The app starts its jobs on a thread after the window shows: importing the composition
    root must not load Huey or the jobs package (start-up budget)."""
    assert not _loaded_by_importing_the_app() & {"jobs", "huey"}


def test_the_window_loads_no_page_but_today_and_no_numpy() -> None:
    """The other pages are imported after the window shows (``app.later_page_modules``),
    numpy with an in-memory grid's first query: neither is on start-up's path."""
    loaded = _loaded_by_importing_the_app()
    pages = {m.rsplit(".", 1)[1] for m in loaded if m.startswith("purplecross_desktop.ui.pages.")}
    assert "today_page" in pages
    assert pages - {"base", "labels", "today_page"} == set()
    assert "numpy" not in loaded
