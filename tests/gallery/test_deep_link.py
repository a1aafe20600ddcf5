"""Deep links and the remembered story: ``--story Component/Story --args '{...}'``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from gallery import cli as gallery_cli
from gallery import render as gallery_render
from gallery.deep_link import resolve
from gallery.story import Component
from gallery.window import GalleryWindow
from tests.gallery.conftest import COMPONENTS
from widgets.button import Button
from widgets.theme import ThemeManager

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


def test_a_link_gives_the_story_with_its_args_over_the_defaults() -> None:
    component, story, args = resolve(COMPONENTS, "Button/Danger", '{"text": "Delete Rex"}')
    assert (component.name, story.name) == ("Button", "Danger")
    assert args == {**story.default_args(), "text": "Delete Rex"}


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("Button/Nope", None, "story: no story 'Button/Nope'; the stories are: Alert/Info"),
        ("Button/Primary", "[1]", "args: must be a JSON object"),
        ("Button/Primary", "{", "args: not valid JSON"),
        ("Button/Primary", '{"colour": 1}', "args: Button/Primary has no arg 'colour'"),
        ("Button/Primary", '{"variant": "ghost"}', "variant: must be one of"),
    ],
)
def test_a_bad_link_says_what_is_wrong(name: str, args: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        resolve(COMPONENTS, name, args)


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "gallery.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot: QtBot, qapp: QApplication, components: list[Component]) -> Iterator[object]:
    managers: list[ThemeManager] = []

    def make(settings: QSettings | None = None) -> GalleryWindow:
        manager = ThemeManager(qapp, "light")
        managers.append(manager)
        window = GalleryWindow(components, manager, settings)
        qtbot.addWidget(window)
        return window

    yield make
    for manager in managers:
        manager.deleteLater()


def test_open_story_shows_the_story_with_the_args(make_window: object) -> None:
    window = make_window()  # type: ignore[operator]
    window.open_story("Button/Danger", '{"text": "Delete Rex"}')
    shown = window.stage().content()
    assert isinstance(shown, Button)
    assert shown.text() == "Delete Rex"
    assert shown.get_variant() == "danger"


def test_the_last_story_and_its_args_are_reopened(make_window: object, settings: QSettings) -> None:
    first = make_window(settings)  # type: ignore[operator]
    first.open_story("Button/Danger")
    first.controls().set_value("text", "Delete Rex")
    first.close()
    again = make_window(settings)  # type: ignore[operator]
    component, story, args = again.current()
    assert (component.name, story.name) == ("Button", "Danger")
    assert args["text"] == "Delete Rex"
    settings.setValue("gallery/last_story", "Button/Renamed")  # gone since: start as new
    fresh = make_window(settings)  # type: ignore[operator]
    assert fresh.current()[1] is not None
    assert fresh.current()[0].name == "Alert"


def test_the_cli_refuses_a_bad_link_before_opening_a_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setattr(gallery_render, "quiet_offscreen_messages", lambda: None)
    result = CliRunner().invoke(
        gallery_cli.gallery, ["--story", "Button/Primary", "--args", '{"variant": "ghost"}']
    )
    assert result.exit_code != 0
    assert "variant: must be one of" in result.output
    result = CliRunner().invoke(gallery_cli.gallery, ["--args", "{}"])
    assert "--args needs exactly one --story" in result.output
