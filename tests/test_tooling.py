"""The tool settings keep their promises as modules are added."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _strict_modules() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    modules: set[str] = set()
    for override in config["tool"]["mypy"]["overrides"]:
        if override.get("strict"):
            listed = override["module"]
            modules.update([listed] if isinstance(listed, str) else listed)
    return modules


def test_every_wiring_and_command_module_is_type_checked_strictly() -> None:
    """mypy's module patterns cannot say ``*_wiring``: a new one must be listed by name."""
    package = ROOT / "purplecross_desktop"
    wanted = {
        f"purplecross_desktop.{path.stem}"
        for pattern in ("*_wiring.py", "*_command.py")
        for path in package.glob(pattern)
    }
    wanted |= {f"purplecross_desktop.{name}" for name in ("cli", "preflight", "schema_check")}
    assert len(wanted) >= 7
    assert sorted(wanted - _strict_modules()) == []


def test_the_development_tools_are_pinned_and_installed_at_their_pins() -> None:
    """`make` installs with constraints-dev.txt, and this environment matches it, so a new
    ruff or mypy release cannot change what a clean clone's CI reports."""
    from importlib.metadata import version

    root = Path(__file__).resolve().parents[1]
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    assert "-c constraints-dev.txt" in makefile
    pins = [
        line.split("==")
        for line in (root / "constraints-dev.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert {name for name, _ in pins} >= {"ruff", "mypy", "pytest"}
    for name, pinned in pins:
        assert version(name) == pinned, f"{name} {version(name)} is installed, {pinned} pinned"
