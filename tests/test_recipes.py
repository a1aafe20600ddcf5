"""The recipes of docs/developer.md work as written, on a fresh copy of the repository.

Each ``### Recipe: ...`` section is followed literally: its ``py`` blocks are code to put
where the line before them says, and its ``sh`` blocks are commands to run, in order.
The paragraph before a ``py`` block ends with one of

    ... in `path/to/file.py`, after the line `some line`:
    ... in the same file, ..., after the line `some line`:
    ... new file `path/to/file.py`:
    ... at the end of `path/to/file.py`:

(``after the line`` means the one line whose text, without indentation, is exactly that;
there must be one). Commands run from the copy's root with this test run's venv: ``make``
is given ``VENV`` and an empty ``STAMP`` (nothing is installed) and ``.venv/bin/`` points
at that venv. Every file a recipe names must exist once it is followed. (``python``
blocks are different: tests/test_docs_examples.py runs those as examples.)
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.checkout import ROOT, VENV, copy_checkout, run_in

GUIDE = ROOT / "docs" / "developer.md"
SECTION = re.compile(r"^### Recipe: (?P<title>.+?)\n(?P<body>.*?)(?=^##)", re.DOTALL | re.M)
BLOCK = re.compile(r"```(?P<lang>py|sh)\n(?P<code>.*?)```", re.DOTALL)
PATH = r"`(?P<path>[\w.-]+/[\w./-]+)`"
WHERE = (
    ("after", re.compile(f"(?:{PATH}|the same file).*? after the line `(?P<anchor>[^`]+)`:$")),
    ("new", re.compile(r"[Nn]ew file " + PATH + r":$")),
    ("end", re.compile(r"at the end of " + PATH + r":$")),
)
#: ``ruff format`` reformats python blocks in Markdown; a fragment that must keep its
#: indentation (a line ending in a comma) sits between these comments.
FMT_OFF = re.compile(r"<!-- fmt: (?:off|on) -->")
NAMED_FILE = re.compile(r"`((?:[\w-]+/)+[\w.-]+\.(?:py|md|toml|mako))`")


@dataclass
class Step:
    kind: str  # after, new, end, run
    code: str
    path: str = ""
    anchor: str = ""


@dataclass
class Recipe:
    title: str
    steps: list[Step] = field(default_factory=list)
    named_files: set[str] = field(default_factory=set)


def recipes(text: str) -> list[Recipe]:
    found = []
    for section in SECTION.finditer(text + "\n##"):
        recipe = Recipe(section["title"].strip())
        body = section["body"]
        recipe.named_files = set(NAMED_FILE.findall(body))
        for block in BLOCK.finditer(body):
            if block["lang"] == "sh":
                recipe.steps.append(Step("run", block["code"]))
                continue
            before = FMT_OFF.sub("", body[: block.start()]).rstrip().rsplit("\n\n", 1)[-1]
            lead = " ".join(before.split())
            for kind, pattern in WHERE:
                match = pattern.search(lead)
                if match:
                    path = match["path"] or recipe.steps[-1].path  # "in the same file"
                    anchor = match.groupdict().get("anchor") or ""
                    recipe.steps.append(Step(kind, block["code"], path, anchor))
                    break
            else:
                raise AssertionError(f"{recipe.title}: no place given for the block after {lead!r}")
        found.append(recipe)
    return found


RECIPES = recipes(GUIDE.read_text(encoding="utf-8"))


def test_the_guide_has_the_recipes_the_issue_asked_for() -> None:
    titles = " | ".join(r.title for r in RECIPES)
    for wanted in ("field", "job family", "page", "story"):
        assert wanted in titles, titles
    for recipe in RECIPES:
        kinds = {step.kind for step in recipe.steps}
        assert "run" in kinds, f"{recipe.title}: nothing to run proves it works"
        assert kinds - {"run"}, f"{recipe.title}: no code to write"


def apply(checkout: Path, step: Step) -> None:
    target = checkout / step.path
    if step.kind == "new":
        assert not target.exists(), f"{step.path} exists already"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(step.code, encoding="utf-8")
        return
    text = target.read_text(encoding="utf-8")
    if step.kind == "end":
        target.write_text(text.rstrip("\n") + "\n" + step.code, encoding="utf-8")
        return
    lines = text.splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if line.strip() == step.anchor.strip()]
    assert len(hits) == 1, f"{step.path}: the line {step.anchor!r} is there {len(hits)} times"
    lines.insert(hits[0] + 1, step.code)
    target.write_text("".join(lines), encoding="utf-8")


def run(checkout: Path, commands: str) -> None:
    for line in commands.splitlines():
        command = line.strip()
        if not command or command.startswith("#"):
            continue
        command = command.replace(".venv/bin/", f"{VENV}/bin/")
        if command.startswith("make "):
            command = f"make --no-print-directory VENV={VENV} STAMP= {command[5:]}"
        result = run_in(checkout, ["bash", "-c", command])
        assert result.returncode == 0, f"$ {command}\n{result.stdout}\n{result.stderr}"


@pytest.mark.slow
@pytest.mark.parametrize("recipe", RECIPES, ids=lambda r: r.title)
def test_a_recipe_works_as_written_on_a_fresh_copy(recipe: Recipe, tmp_path: Path) -> None:
    checkout = copy_checkout(tmp_path / "clone")
    if (ROOT / ".mypy_cache").is_dir():
        # Only a head start: mypy re-checks every file whose contents differ.
        shutil.copytree(ROOT / ".mypy_cache", checkout / ".mypy_cache")
    for step in recipe.steps:
        if step.kind == "run":
            run(checkout, step.code)
        else:
            apply(checkout, step)
    missing = sorted(name for name in recipe.named_files if not (checkout / name).exists())
    assert missing == [], f"{recipe.title} names files that do not exist: {missing}"
