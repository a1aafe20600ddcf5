"""Static export and the ``purplecross gallery`` command."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from gallery import cli as gallery_cli
from gallery import render as gallery_render
from gallery.export import export_gallery, slug, story_filename
from gallery.story import Component
from widgets.theme import apply_theme, current_theme

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


def test_slug() -> None:
    assert slug("WithTitleAndSubtitle") == "with-title-and-subtitle"
    assert slug("State matrix") == "state-matrix"


def test_export_writes_every_story_in_both_themes_and_an_index(
    qapp: QApplication, tmp_path: Path, components: list[Component]
) -> None:
    apply_theme(qapp, "dark")
    result = export_gallery(qapp, components, tmp_path / "out")
    stories = [(c, s) for c in components for s in c.stories]
    assert result.story_images == 2 * len(stories) >= 54
    assert current_theme() == "dark"  # restored
    index = result.index.read_text(encoding="utf-8")
    for component, story in stories:
        for theme in ("light", "dark"):
            name = story_filename(component, story, theme)
            image = QImage(str(tmp_path / "out" / name))
            assert not image.isNull(), name
            assert f'src="{name}"' in index
        assert story.docs.replace("'", "&#x27;") in index
    assert (tmp_path / "out" / "button-state-matrix-light.png").exists()
    light = QImage(str(tmp_path / "out" / "button-primary-light.png")).pixelColor(2, 2)
    dark = QImage(str(tmp_path / "out" / "button-primary-dark.png")).pixelColor(2, 2)
    assert light.lightness() > dark.lightness()


def test_export_into_a_file_is_refused(
    qapp: QApplication, tmp_path: Path, components: list[Component]
) -> None:
    target = tmp_path / "file.txt"
    target.write_text("keep")
    with pytest.raises(ValueError, match=r"export: .* is not a directory"):
        export_gallery(qapp, components, target)
    assert target.read_text() == "keep"


@pytest.fixture
def only_buttons(monkeypatch: pytest.MonkeyPatch, components: list[Component]) -> int:
    """The command sees the Button stories only (the full export is tested above); returns
    how many images they make (each story in both themes), so a new Button story is no
    reason to edit this file."""
    import gallery.stories

    buttons = [c for c in components if c.name == "Button"]
    monkeypatch.setattr(gallery.stories, "load_components", lambda: buttons)
    # The command's message filter would replace pytest-qt's capture for the session.
    monkeypatch.setattr(gallery_render, "quiet_offscreen_messages", lambda: None)
    images = 2 * sum(len(c.stories) for c in buttons)
    assert images >= 2
    return images


def test_cli_export_and_help(qapp: QApplication, tmp_path: Path, only_buttons: int) -> None:
    runner = CliRunner()
    result = runner.invoke(gallery_cli.gallery, ["--export", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    assert f"wrote {only_buttons} story images" in result.output
    assert (tmp_path / "site" / "index.html").exists()
    help_text = runner.invoke(gallery_cli.gallery, ["--help"]).output
    assert "--export DIR" in help_text
    assert "--update-baselines" in help_text


def test_cli_without_display_explains_the_headless_option(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(gallery_cli.sys, "platform", "linux")
    result = CliRunner().invoke(gallery_cli.gallery, [])
    assert result.exit_code != 0
    assert "use --export DIR" in result.output


def test_cli_update_baselines_writes_to_the_baseline_dir(
    qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, only_buttons: int
) -> None:
    import gallery.baselines as baselines

    monkeypatch.setattr(baselines, "BASELINE_DIR", tmp_path / "b")
    original = baselines.update_baselines
    monkeypatch.setattr(
        baselines,
        "update_baselines",
        lambda app, comps, directory=tmp_path / "b", names=(): original(
            app, comps, directory, names
        ),
    )
    result = CliRunner().invoke(gallery_cli.gallery, ["--update-baselines"])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "b").glob("*.png"))) == only_buttons
    for png in (tmp_path / "b").glob("*.png"):
        png.unlink()
    only = ["--update-baselines", "--story", "Button/Primary", "--story", "Button/Secondary"]
    result = CliRunner().invoke(gallery_cli.gallery, only)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "b").glob("*.png")) == [
        "button-primary-dark.png",
        "button-primary-light.png",
        "button-secondary-dark.png",
        "button-secondary-light.png",
    ]
    result = CliRunner().invoke(gallery_cli.gallery, ["--update-baselines", "--story", "Nope"])
    assert result.exit_code != 0
    assert "no story 'Nope'" in result.output


def test_purplecross_lists_the_gallery_command() -> None:
    from purplecross_desktop import cli_extensions

    assert ("gallery.cli", "gallery") in cli_extensions.EXTENSIONS


# Defects of the review (issue 20) -----------------------------------------------------
def _buttons(components: list[Component]) -> list[Component]:
    return [c for c in components if c.name == "Button"]


def test_a_second_export_removes_the_pngs_of_stories_that_are_gone(
    qapp: QApplication, tmp_path: Path, components: list[Component]
) -> None:
    out = tmp_path / "site"
    out.mkdir()
    gone = out / "button-renamed-story-light.png"
    gone.write_bytes(b"old")
    keep = out / "notes.txt"
    keep.write_text("not ours")
    export_gallery(qapp, _buttons(components), out)
    assert not gone.exists()
    assert keep.exists()


def test_two_stories_with_one_file_name_are_refused_before_anything_is_written(
    qapp: QApplication, tmp_path: Path, components: list[Component]
) -> None:
    button = _buttons(components)[0]
    twin = dataclasses.replace(button.stories[0], name="primary")  # slug of "Primary" too
    clash = dataclasses.replace(button, stories=(*button.stories, twin))
    with pytest.raises(ValueError, match=r"Button/Primary and Button/primary.*button-primary"):
        export_gallery(qapp, [clash], tmp_path / "site")
    assert not (tmp_path / "site").exists()


def test_the_index_links_every_story_and_its_dark_css_has_dark_borders(
    qapp: QApplication, tmp_path: Path, components: list[Component]
) -> None:
    result = export_gallery(qapp, _buttons(components), tmp_path / "site", themes=("light",))
    index = result.index.read_text(encoding="utf-8")
    for story in _buttons(components)[0].stories:
        assert f'<a href="#button-{slug(story.name)}">{story.name}</a>' in index
    dark = index.split("@media (prefers-color-scheme: dark)", 1)[1]
    from widgets.tokens import DARK, LIGHT

    assert f"border-color: {DARK.border}" in dark
    assert "article" in dark
    assert "img" in dark
    assert LIGHT.border not in dark
