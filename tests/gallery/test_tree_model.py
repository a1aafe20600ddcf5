"""The story tree model: Qt's model tester, filtering, lookups."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, Qt

from gallery.story import Component
from gallery.tree_model import ITEM_ROLE, StoryTreeModel

pytestmark = pytest.mark.gui


def test_model_passes_qtmodeltester(qtmodeltester: object, components: list[Component]) -> None:
    model = StoryTreeModel(components)
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    model.set_filter("warn")
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    model.set_filter("zzz-no-match")
    qtmodeltester.check(model)  # type: ignore[attr-defined]


def _names(model: StoryTreeModel) -> dict[str, list[str]]:
    result = {}
    for row in range(model.rowCount()):
        parent = model.index(row, 0)
        result[parent.data()] = [
            model.index(child, 0, parent).data() for child in range(model.rowCount(parent))
        ]
    return result


def test_filter_matches_components_and_stories_case_insensitively(
    components: list[Component],
) -> None:
    model = StoryTreeModel(components)
    assert set(_names(model)) == {c.name for c in components}
    model.set_filter("BUTTON")
    assert _names(model) == {
        "Alert": ["WithCloseButton"],  # a story name match
        "Button": [s.name for s in _component(components, "Button").stories],  # all stories
    }
    model.set_filter("success")
    assert _names(model) == {
        "Alert": ["Success", "SuccessfulAppointment"],
        "Button": ["Success"],
        "StatusChip": ["Success"],
    }
    model.set_filter("")
    assert len(_names(model)) == len(components)


def test_story_index_and_item_role(components: list[Component]) -> None:
    model = StoryTreeModel(components)
    index = model.story_index("Card", "NoPadding")
    component, story = index.data(ITEM_ROLE)
    assert component.name == "Card"
    assert story.name == "NoPadding"
    assert index.data(Qt.ItemDataRole.ToolTipRole) == story.docs
    assert model.data(index.parent(), ITEM_ROLE)[1] is None
    model.set_filter("alert")
    assert not model.story_index("Card", "NoPadding").isValid()
    assert model.item(QModelIndex()) is None


def _component(components: list[Component], name: str) -> Component:
    return next(c for c in components if c.name == name)
