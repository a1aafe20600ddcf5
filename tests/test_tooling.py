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
