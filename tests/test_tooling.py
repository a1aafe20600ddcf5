"""The tool settings keep their promises as modules are added."""

from __future__ import annotations

import re
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


def _guide_section(title: str) -> str:
    text = (ROOT / "docs" / "developer.md").read_text(encoding="utf-8")
    start = text.index(f"### {title}")
    return text[start : text.index("\n## ", start)]


def test_the_guide_says_what_mypy_checks_and_what_it_does_not() -> None:
    """docs/developer.md names exactly the packages mypy is given, and says tests are not."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    section = _guide_section("What ruff and mypy check")
    checked = section[section.index("`mypy` checks") : section.index("It does **not** check")]
    named = set(re.findall(r"`(\w+)`", checked))
    assert set(config["packages"]) <= named
    assert "tests" not in config["packages"]
    not_checked = section[section.index("It does **not** check") :]
    for name in ("tests/", "benchmarks/", "scripts/"):
        assert f"`{name}`" in not_checked
        assert name.rstrip("/") not in config["packages"]


def test_ruff_formats_python_blocks_in_markdown_except_between_fmt_off_and_on(
    tmp_path: Path,
) -> None:
    """What the guide says about ruff and Markdown, with the pinned ruff and our config."""
    import subprocess
    import sys

    page = tmp_path / "page.md"
    fragment = "```py\n    Column('a', 'A'),\n```\n"
    page.write_text(f"# Page\n\n<!-- fmt: off -->\n{fragment}<!-- fmt: on -->\n", "utf-8")
    ruff = [sys.executable, "-m", "ruff", "format", "--config", str(ROOT / "pyproject.toml")]
    kept = subprocess.run([*ruff, "--check", str(page)], capture_output=True, check=False)
    assert kept.returncode == 0, kept.stdout
    page.write_text(f"# Page\n\n{fragment}", "utf-8")
    flagged = subprocess.run([*ruff, "--check", str(page)], capture_output=True, check=False)
    assert flagged.returncode == 1, flagged.stdout
