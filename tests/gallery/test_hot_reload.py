"""Reloading a story's module and its widget without restarting (Storybook's hot reload)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from gallery.stories import load_components
from gallery.window import GalleryWindow
from widgets.alert import Alert
from widgets.theme import ThemeManager

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]

WIDGET = '''
from PySide6.QtWidgets import QLabel


class Greeting(QLabel):
    """Says hello."""

    def __init__(self, name: str = "Rex") -> None:
        super().__init__(f"{{GREETING}}, {{name}}")


GREETING = "{greeting}"
'''

STORIES = """
from gallery.story import Component, Story
from hotpkg.greeting import Greeting


def render(args):
    return Greeting(args["name"])


COMPONENT = Component(
    name="Greeting",
    widget=Greeting,
    stories=(Story("Plain", render, args={{"name": "Rex"}}, docs="{docs}"),),
    arg_docs={{"name": "Who is greeted."}},
)
"""


@pytest.fixture
def package(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "hotpkg"
    (root / "stories").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "stories" / "__init__.py").write_text("")
    (root / "greeting.py").write_text(WIDGET.format(greeting="Hello"))
    (root / "stories" / "greeting.py").write_text(STORIES.format(docs="First."))
    sys.path.insert(0, str(tmp_path))
    yield root
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m == "hotpkg" or m.startswith("hotpkg.")]:
        del sys.modules[name]


def test_a_story_and_its_widget_reload_keeping_the_story_and_args(
    qtbot: QtBot, qapp: QApplication, package: Path
) -> None:
    components = load_components("hotpkg.stories")
    manager = ThemeManager(qapp, "light")
    window = GalleryWindow(components, manager)
    qtbot.addWidget(window)
    window.controls().set_value("name", "Bella")
    shown = window.stage().content()
    assert isinstance(shown, QLabel)
    assert shown.text() == "Hello, Bella"

    (package / "greeting.py").write_text(WIDGET.format(greeting="Good morning"))
    (package / "stories" / "greeting.py").write_text(STORIES.format(docs="Second."))
    assert window.reload_story() == "reloaded hotpkg.stories.greeting"
    shown = window.stage().content()
    assert isinstance(shown, QLabel)
    assert shown.text() == "Good morning, Bella"  # the widget's new code, the same args
    assert "Second." in window.docs_text()
    component, story, args = window.current()
    assert (component.name, story.name, args["name"]) == ("Greeting", "Plain", "Bella")

    (package / "stories" / "greeting.py").write_text("def broken(:\n")
    message = window.reload_story()
    assert message.startswith("could not reload hotpkg.stories.greeting: SyntaxError")
    assert isinstance(window.stage().content(), Alert)
    manager.deleteLater()
