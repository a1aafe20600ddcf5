"""Visual-regression baselines: render, compare and (deliberately) regenerate story PNGs.

Regenerate after an intended visual change with ``purplecross gallery
--update-baselines`` or ``python -m gallery.baselines``, look at the changed PNGs,
and commit them with the change.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from gallery.export import story_filename
from gallery.render import render_story
from gallery.story import Component
from widgets.theme import apply_theme, current_theme
from widgets.tokens import THEME_NAMES

BASELINE_DIR: Final = Path(__file__).resolve().parents[1] / "tests" / "gallery" / "baselines"
#: A pixel differs when one channel moves by more than this (antialiasing noise stays under).
CHANNEL_TOLERANCE: Final = 24
#: A render matches when at most this fraction of its pixels differ.
MAX_DIFF_FRACTION: Final = 0.005


@dataclass(frozen=True)
class ImageDiff:
    """How two images differ.

    Attributes:
        same_size: both have the same width and height.
        differing: pixels with a channel difference above the tolerance.
        total: pixels compared.
        max_delta: the largest channel difference seen.
    """

    same_size: bool
    differing: int
    total: int
    max_delta: int

    @property
    def fraction(self) -> float:
        """Share of differing pixels (1.0 when the sizes differ)."""
        return self.differing / self.total if self.same_size and self.total else 1.0

    def matches(self, max_fraction: float = MAX_DIFF_FRACTION) -> bool:
        """Whether the images are the same within the tolerance."""
        return self.same_size and self.fraction <= max_fraction


def compare_images(
    actual: QImage, expected: QImage, channel_tolerance: int = CHANNEL_TOLERANCE
) -> ImageDiff:
    """Per-pixel comparison of two images (converted to RGBA8888 first)."""
    if actual.size() != expected.size():
        return ImageDiff(False, 0, 0, 255)
    a = actual.convertToFormat(QImage.Format.Format_RGBA8888)
    b = expected.convertToFormat(QImage.Format.Format_RGBA8888)
    total = a.width() * a.height()
    bytes_a, bytes_b = bytes(a.constBits()), bytes(b.constBits())
    if bytes_a == bytes_b:
        return ImageDiff(True, 0, total, 0)
    differing = 0
    max_delta = 0
    # Only reached when something changed, so a plain loop is fast enough.
    for offset in range(0, len(bytes_a), 4):
        delta = max(abs(bytes_a[offset + k] - bytes_b[offset + k]) for k in range(4))
        if delta > channel_tolerance:
            differing += 1
        max_delta = max(max_delta, delta)
    return ImageDiff(True, differing, total, max_delta)


def update_baselines(
    app: QApplication, components: Sequence[Component], directory: Path = BASELINE_DIR
) -> list[Path]:
    """Re-render every story in both themes into ``directory``; drop stale PNGs."""
    directory.mkdir(parents=True, exist_ok=True)
    previous = current_theme()
    written: list[Path] = []
    try:
        for theme in THEME_NAMES:
            apply_theme(app, theme)
            for component in components:
                for story in component.stories:
                    path = directory / story_filename(component, story, theme)
                    render_story(story).save(str(path))
                    written.append(path)
    finally:
        apply_theme(app, previous)
    for stale in set(directory.glob("*.png")) - set(written):
        stale.unlink()
    return written


def main() -> None:
    """``python -m gallery.baselines``: regenerate the committed baselines headless."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from gallery.stories import load_components

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    written = update_baselines(app, load_components())
    print(f"wrote {len(written)} baselines to {BASELINE_DIR}")


if __name__ == "__main__":
    main()
