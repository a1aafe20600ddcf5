"""Visual regression: each story in each theme matches its committed baseline PNG.

After an intended visual change: ``python -m gallery.baselines`` (or ``purplecross
gallery --update-baselines``), look at the PNGs, commit them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication

from gallery.baselines import BASELINE_DIR, compare_images
from gallery.export import story_filename
from gallery.render import render_story
from gallery.story import Component, Story
from tests.gallery.conftest import ALL_STORIES
from widgets.theme import apply_theme
from widgets.tokens import THEME_NAMES

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


@pytest.mark.parametrize("theme", THEME_NAMES)
@pytest.mark.parametrize(("component", "story"), ALL_STORIES)
def test_story_matches_its_baseline(
    qapp: QApplication, tmp_path: Path, theme: str, component: Component, story: Story
) -> None:
    name = story_filename(component, story, theme)
    baseline = BASELINE_DIR / name
    assert baseline.exists(), f"no baseline {name}: run `python -m gallery.baselines`"
    apply_theme(qapp, theme)
    actual = render_story(story)
    diff = compare_images(actual, QImage(str(baseline)))
    if not diff.matches():
        actual.save(str(tmp_path / name))
    assert diff.same_size, f"{name}: size {actual.size().toTuple()} differs from the baseline"
    assert diff.matches(), (
        f"{name}: {diff.fraction:.2%} of pixels differ (max delta {diff.max_delta}); "
        f"actual saved to {tmp_path / name}"
    )


def test_no_stale_baselines() -> None:
    expected = {
        story_filename(c, s, theme)
        for c, s in (p.values for p in ALL_STORIES)  # type: ignore[misc]
        for theme in THEME_NAMES
    }
    assert {p.name for p in BASELINE_DIR.glob("*.png")} == expected


def _image(width: int, height: int, color: str) -> QImage:
    image = QImage(width, height, QImage.Format.Format_RGBA8888)
    image.fill(QColor(color))
    return image


def test_compare_images_tolerates_noise_and_catches_changes() -> None:
    base = _image(100, 100, "#808080")
    assert compare_images(base, base.copy()).differing == 0
    noisy = base.copy()
    noisy.setPixelColor(5, 5, QColor("#848484"))  # below the channel tolerance
    assert compare_images(noisy, base).differing == 0
    changed = base.copy()
    for x in range(100):
        changed.setPixelColor(x, 0, QColor("#ff0000"))
    diff = compare_images(changed, base)
    assert diff.differing == 100
    assert not diff.matches()
    assert not compare_images(_image(10, 10, "#000000"), base).same_size
