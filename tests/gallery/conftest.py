"""Gallery fixtures: every story as a test parameter, the themed application."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from gallery.stories import load_components
from gallery.story import Component, Story
from widgets.theme import apply_theme

COMPONENTS = load_components()
#: (component, story) for every story: adding a story adds a case to each test using it.
ALL_STORIES = [
    pytest.param(component, story, id=f"{component.name}/{story.name}")
    for component in COMPONENTS
    for story in component.stories
]


@pytest.fixture(autouse=True)
def themed_app(qapp: QApplication) -> QApplication:
    """The QApplication in the light theme (tests switch to dark explicitly)."""
    apply_theme(qapp, "light")
    return qapp


@pytest.fixture
def components() -> list[Component]:
    """Every component the gallery shows."""
    return list(COMPONENTS)


def story_of(component_name: str, story_name: str) -> tuple[Component, Story]:
    """Look up a story by names."""
    component = next(c for c in COMPONENTS if c.name == component_name)
    return component, component.story(story_name)
