"""Visual regression: each story in each theme matches its committed baseline PNG.

A pixel differs when its colour moves more than a just-noticeable CIELAB distance, and a
story fails when more than a handful of pixels differ, so a token change fails (tested
below) and every failure leaves the render, the baseline and a diff image in
``build/gallery-diffs/``. After an intended visual change: ``python -m gallery.baselines
[Component | Component/Story ...]`` (or ``purplecross gallery --update-baselines
[--story NAME]``), look at the PNGs, commit them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication

from gallery.baselines import (
    BASELINE_DIR,
    FAILURE_DIR,
    MAX_DIFF_PIXELS,
    compare_images,
    save_failure,
    select_stories,
    update_baselines,
)
from gallery.export import story_filename
from gallery.render import render_story
from gallery.story import Component, Story
from tests.gallery.conftest import ALL_STORIES, COMPONENTS, story_of
from widgets import tokens
from widgets.theme import apply_theme
from widgets.tokens import THEME_NAMES

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


def check_against_baseline(
    component: Component, story: Story, theme: str, failures: Path = FAILURE_DIR
) -> list[str]:
    """Problems of the story's render against its baseline (what it saw kept in
    ``failures``)."""
    name = story_filename(component, story, theme)
    baseline = BASELINE_DIR / name
    assert baseline.exists(), f"no baseline {name}: run `python -m gallery.baselines`"
    actual, expected = render_story(story), QImage(str(baseline))
    diff = compare_images(actual, expected)
    if diff.matches():
        return []
    kept = ", ".join(str(p) for p in save_failure(name, actual, expected, diff, failures))
    if not diff.same_size:
        return [f"{name}: size {actual.size().toTuple()} differs from the baseline; kept {kept}"]
    return [
        f"{name}: {diff.differing} pixels differ (max ΔE {diff.max_delta:.1f}, allowed "
        f"{MAX_DIFF_PIXELS}); kept {kept}"
    ]


@pytest.mark.parametrize("theme", THEME_NAMES)
@pytest.mark.parametrize(("component", "story"), ALL_STORIES)
def test_story_matches_its_baseline(
    qapp: QApplication, theme: str, component: Component, story: Story
) -> None:
    apply_theme(qapp, theme)
    assert check_against_baseline(component, story, theme) == []


def test_no_stale_baselines() -> None:
    expected = {
        story_filename(c, s, theme)
        for c, s in (p.values for p in ALL_STORIES)  # type: ignore[misc]
        for theme in THEME_NAMES
    }
    assert {p.name for p in BASELINE_DIR.glob("*.png")} == expected


@pytest.mark.parametrize(("component", "story"), ALL_STORIES)
def test_a_story_renders_the_same_twice(component: Component, story: Story) -> None:
    """Animations are finished before the grab (a clear button's fade made two exports of
    one story differ)."""
    first, second = render_story(story), render_story(story)
    assert bytes(first.constBits()) == bytes(second.constBits())


# Token changes ------------------------------------------------------------------------
@pytest.fixture
def changed_tokens(qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield
    monkeypatch.undo()
    apply_theme(qapp, "light")


@pytest.mark.parametrize(
    ("token", "value", "component", "story"),
    [
        ("primary", "#7c3aed", "Button", "Primary"),  # the brand colour, one step lighter
        ("border", "#d4d4d8", "Card", "Basic"),  # the border token, a shade darker
    ],
)
@pytest.mark.usefixtures("changed_tokens")
def test_a_token_change_fails_with_a_diff_image(
    qapp: QApplication,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    token: str,
    value: str,
    component: str,
    story: str,
) -> None:
    assert getattr(tokens.LIGHT, token) != value
    monkeypatch.setattr(tokens, "LIGHT", dataclasses.replace(tokens.LIGHT, **{token: value}))
    apply_theme(qapp, "light")
    problems = check_against_baseline(*story_of(component, story), "light", tmp_path)
    assert len(problems) == 1, problems
    stem = story_filename(*story_of(component, story), "light").removesuffix(".png")
    diff = QImage(str(tmp_path / f"{stem}.diff.png"))
    assert not diff.isNull()
    magenta = sum(
        diff.pixelColor(x, y) == QColor("#ff00ff")
        for x in range(diff.width())
        for y in range(diff.height())
    )
    assert magenta > MAX_DIFF_PIXELS


# The comparison ------------------------------------------------------------------------
def _image(width: int, height: int, color: str) -> QImage:
    image = QImage(width, height, QImage.Format.Format_RGBA8888)
    image.fill(QColor(color))
    return image


def test_compare_images_tolerates_invisible_noise_and_catches_changes() -> None:
    base = _image(100, 100, "#808080")
    assert compare_images(base, base.copy()).differing == 0
    noisy = base.copy()
    noisy.setPixelColor(5, 5, QColor("#818181"))  # ΔE < 1: nobody sees it
    assert compare_images(noisy, base).differing == 0
    brand = _image(100, 100, "#6d28d9")
    assert not compare_images(_image(100, 100, "#7c3aed"), brand).matches()
    lost_icon = base.copy()
    for x in range(16):
        for y in range(16):
            lost_icon.setPixelColor(x, y, QColor("#404040"))
    diff = compare_images(lost_icon, base)
    assert diff.differing == 256
    assert not diff.matches()
    assert not compare_images(_image(10, 10, "#000000"), base).same_size


def test_only_the_named_stories_are_regenerated(qapp: QApplication, tmp_path: Path) -> None:
    update_baselines(qapp, COMPONENTS, tmp_path, names=["Button/Primary", "Alert"])
    alert = next(c for c in COMPONENTS if c.name == "Alert")
    written = {p.name for p in tmp_path.glob("*.png")}
    assert "button-primary-light.png" in written
    assert "button-secondary-light.png" not in written
    assert len(written) == 2 * (1 + len(alert.stories))
    stale = tmp_path / "gone-story-light.png"
    stale.write_bytes(b"")
    update_baselines(qapp, COMPONENTS, tmp_path, names=["Button/Primary"])
    assert stale.exists()  # a partial run removes nothing


def test_an_unknown_story_name_is_refused_with_the_list() -> None:
    with pytest.raises(ValueError, match=r"no story 'Button/Nope'; the stories are: .*Button/"):
        select_stories(COMPONENTS, ["Button/Nope"])
    assert FAILURE_DIR.name == "gallery-diffs"
