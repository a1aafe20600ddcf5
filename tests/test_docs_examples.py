"""The ```python blocks of docs/*.md run: they are examples users copy.

The blocks of one file run in order in one namespace (a later block may use an earlier
one's names). What a block needs but does not show (an application, sample rows, a
callback) comes from an HTML comment just before it, invisible on the rendered page:

    <!-- setup
    rows = [{"id": 1, "name": "Bella"}]
    -->

A block that cannot run here (it needs a clinic database with its services, or shows a
fragment of a class) is marked ``<!-- not run: the reason -->``; keep those rare.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCK = re.compile(
    r"(?:<!--\s*(?P<marker>setup|not run:)(?P<comment>.*?)-->\s*\n)?```python\n(?P<code>.*?)```",
    re.DOTALL,
)


def blocks(path: Path) -> list[tuple[int, str, str, str]]:
    """(line, marker, comment, code) of every python block of ``path``."""
    text = path.read_text(encoding="utf-8")
    return [
        (
            text.count("\n", 0, m.start("code")) + 1,
            m.group("marker") or "",
            (m.group("comment") or "").strip("\n"),
            m.group("code"),
        )
        for m in BLOCK.finditer(text)
    ]


DOC_FILES = sorted(p for p in DOCS.glob("*.md") if blocks(p))


def test_every_doc_with_examples_is_collected() -> None:
    assert {p.name for p in DOC_FILES} >= {"datagrid.md", "widgets.md", "caching.md"}


def test_opting_out_stays_rare() -> None:
    found = [(p.name, line) for p in DOC_FILES for line, marker, _c, _code in blocks(p)]
    skipped = [
        (p.name, line)
        for p in DOC_FILES
        for line, marker, _c, _code in blocks(p)
        if marker == "not run:"
    ]
    assert len(skipped) * 2 <= len(found), skipped


@pytest.mark.gui
@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: p.name)
def test_the_examples_of_a_doc_run(path: Path, qapp: Any, tmp_path: Path) -> None:
    namespace: dict[str, Any] = {"__name__": f"docs_{path.stem}", "app": qapp, "tmp": tmp_path}
    for line, marker, comment, code in blocks(path):
        if marker == "not run:":
            assert comment.strip(), f"{path.name}:{line}: say why the example cannot run"
            continue
        if marker == "setup":
            exec(compile(comment, f"{path.name}:{line} (setup)", "exec"), namespace)
        # Line numbers in a traceback point into the markdown file.
        source = "\n" * (line - 1) + code
        exec(compile(source, str(path), "exec"), namespace)
