"""Play functions: each story's scripted interaction runs here as a test, and in the window."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from gallery.play import Step, run_play
from gallery.render import Stage, dispose
from gallery.story import Component, Story
from tests.gallery.conftest import COMPONENTS, story_of

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]

WITH_PLAY = [
    pytest.param(c, s, id=f"{c.name}/{s.name}") for c in COMPONENTS for s in c.stories if s.play
]


@pytest.fixture
def stages() -> Iterator[list[Stage]]:
    made: list[Stage] = []
    yield made
    for stage in made:
        # The story first, on its own: a watched widget deleted only as its stage's child
        # leaves its class's QMetaObject unusable in PySide6 6.11 (later Docs tabs fail).
        stage.set_content(None)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        dispose(stage)


def _shown(qtbot: QtBot, story: Story, stages: list[Stage]) -> Stage:
    stage = Stage()
    stages.append(stage)
    stage.set_content(story.render(story.default_args()))
    stage.show()
    qtbot.waitExposed(stage)
    return stage


def test_some_stories_have_play_steps() -> None:
    assert len(WITH_PLAY) >= 4


@pytest.mark.parametrize(("component", "story"), WITH_PLAY)
def test_every_play_function_passes(
    qtbot: QtBot, stages: list[Stage], component: Component, story: Story
) -> None:
    stage = _shown(qtbot, story, stages)
    content = stage.content()
    assert content is not None
    assert run_play(content, story.play) == []


def test_a_play_step_that_is_not_met_fails_with_what_was_seen(
    qtbot: QtBot, stages: list[Stage]
) -> None:
    _component, story = story_of("Button", "Primary")
    stage = _shown(qtbot, story, stages)
    content = stage.content()
    assert content is not None
    failures = run_play(
        content,
        [Step("click", "Save patient"), Step("expect", "Save patient", "sig_closed")],
    )
    assert len(failures) == 1
    assert failures[0].startswith("step 2 (expect 'Save patient' 'sig_closed'): not emitted")
    assert "clicked" in failures[0]
    assert run_play(content, [Step("click", "Nothing here")]) == [
        "step 1 (click 'Nothing here'): no widget 'Nothing here'"
    ]


def test_a_step_is_checked_when_declared() -> None:
    with pytest.raises(ValueError, match="step action: must be one of click, type, key"):
        Step("drag", "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="step type: needs a value"):
        Step("type", "Search")


def test_play_in_the_window_runs_on_the_canvas_and_logs_the_signals(
    qtbot: QtBot, qapp: QApplication, components: list[Component]
) -> None:
    from gallery.window import GalleryWindow
    from widgets.theme import ThemeManager

    manager = ThemeManager(qapp, "light")
    window = GalleryWindow(components, manager)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.show_story("Button", "Primary")
    assert window.play() == []
    assert "passed" in window.statusBar().currentMessage()
    assert any(sig == "clicked(bool)" for _s, sig, _a in window.signal_log().entries())
    manager.deleteLater()
