"""JsonTree: the model passes qtmodeltester, summarises large values, builds rows lazily."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from widgets.json_tree import CHILD_LIMIT, JsonTree, JsonTreeModel, summary

pytestmark = pytest.mark.gui


def test_model_passes_qtmodeltester(qtmodeltester: object) -> None:
    model = JsonTreeModel({"a": [1, {"b": None, "c": True}], "d": "text", "e": {}})
    qtmodeltester.check(model)  # type: ignore[attr-defined]


def test_rows_keys_values_and_types(qtbot: QtBot) -> None:
    tree = JsonTree({"to": "ada@example.org", "n": 3, "nested": {"x": [1, 2]}})
    qtbot.addWidget(tree)
    model = tree.json_model()
    rows = [tuple(model.index(r, c).data() for c in range(3)) for r in range(model.rowCount())]
    assert rows == [
        ("to", '"ada@example.org"', "string"),
        ("n", "3", "number"),
        ("nested", "{1 keys}", "object"),
    ]
    nested = model.index(2, 0)
    assert model.rowCount(nested) == 1
    assert model.index(0, 1, nested).data() == "[2 items]"


def test_large_values_are_summarised() -> None:
    model = JsonTreeModel({"pdf": "A" * 50_000, "lines": list(range(1000))})
    assert model.index(0, 1).data().endswith("(50,000 characters)")
    lines = model.index(1, 0)
    assert model.rowCount(lines) == CHILD_LIMIT + 1
    assert model.index(CHILD_LIMIT, 1, lines).data() == "800 more not shown"
    assert summary(None) == "null"


def test_a_scalar_is_shown_as_one_row() -> None:
    model = JsonTreeModel("just text")
    assert model.index(0, 0).data() == "value"
