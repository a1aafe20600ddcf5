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

import numpy as np
import numpy.typing as npt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from gallery.export import check_file_names, story_filename
from gallery.render import render_story
from gallery.story import Component, Story
from widgets.theme import apply_theme, current_theme
from widgets.tokens import THEME_NAMES

BASELINE_DIR: Final = Path(__file__).resolve().parents[1] / "tests" / "gallery" / "baselines"
#: Where a failed comparison leaves the actual render, the baseline and a diff image.
FAILURE_DIR: Final = Path(__file__).resolve().parents[1] / "build" / "gallery-diffs"
#: A pixel differs when its colour moves more than this CIELAB distance (ΔE*76; about 2.3
#: is a just-noticeable difference). A token change moves far more: the brand colour
#: #6d28d9 → #7c3aed is ΔE 6.2. Renders on one machine are otherwise identical.
DELTA_E_TOLERANCE: Final = 2.0
#: A pixel also differs when its opacity moves more than this (of 255).
ALPHA_TOLERANCE: Final = 8
#: A render matches when at most this many pixels differ (a lost 16 px icon is 256).
MAX_DIFF_PIXELS: Final = 16


@dataclass(frozen=True, eq=False)
class ImageDiff:
    """How two images differ.

    Attributes:
        same_size: both have the same width and height.
        differing: pixels whose colour moved more than the tolerance.
        total: pixels compared.
        max_delta: the largest colour distance seen (CIELAB ΔE*76).
        mask: which pixels differ (rows by columns), None when the sizes differ.
    """

    same_size: bool
    differing: int
    total: int
    max_delta: float
    mask: npt.NDArray[np.bool_] | None = None

    @property
    def fraction(self) -> float:
        """Share of differing pixels (1.0 when the sizes differ)."""
        return self.differing / self.total if self.same_size and self.total else 1.0

    def matches(self, max_pixels: int = MAX_DIFF_PIXELS) -> bool:
        """Whether the images are the same within the tolerance."""
        return self.same_size and self.differing <= max_pixels


def _pixels(image: QImage) -> npt.NDArray[np.uint8]:
    """``image`` as a rows by columns by RGBA array (a copy)."""
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    width, height = rgba.width(), rgba.height()
    raw = np.frombuffer(bytes(rgba.constBits()), dtype=np.uint8)
    return raw.reshape(height, rgba.bytesPerLine())[:, : width * 4].reshape(height, width, 4)


def _lab(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    """sRGB (0-255) to CIELAB under D65."""
    c = rgb.astype(np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _RGB_TO_XYZ.T / _WHITE
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack(
        (116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])),
        axis=-1,
    )


_RGB_TO_XYZ: Final = np.array(
    [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
)
_WHITE: Final = np.array([0.95047, 1.0, 1.08883])


def compare_images(
    actual: QImage, expected: QImage, tolerance: float = DELTA_E_TOLERANCE
) -> ImageDiff:
    """Per-pixel perceptual comparison: CIELAB distance of the colours, and opacity."""
    if actual.size() != expected.size():
        return ImageDiff(False, 0, 0, 100.0)
    a, b = _pixels(actual), _pixels(expected)
    total = a.shape[0] * a.shape[1]
    if np.array_equal(a, b):
        return ImageDiff(True, 0, total, 0.0, np.zeros(a.shape[:2], dtype=bool))
    delta = np.linalg.norm(_lab(a[..., :3]) - _lab(b[..., :3]), axis=-1)
    alpha = np.abs(a[..., 3].astype(np.int16) - b[..., 3].astype(np.int16))
    mask = (delta > tolerance) | (alpha > ALPHA_TOLERANCE)
    return ImageDiff(True, int(mask.sum()), total, float(delta.max()), mask)


def diff_image(expected: QImage, diff: ImageDiff) -> QImage:
    """The baseline faded to grey with every differing pixel in magenta."""
    base = _pixels(expected)
    grey = (base[..., :3].mean(axis=-1) * 0.35 + 160).astype(np.uint8)
    out = np.empty_like(base)
    out[..., 0] = out[..., 1] = out[..., 2] = grey
    out[..., 3] = 255
    if diff.mask is not None:
        out[diff.mask] = (255, 0, 255, 255)
    height, width = out.shape[:2]
    image = QImage(out.tobytes(), width, height, width * 4, QImage.Format.Format_RGBA8888)
    return image.copy()  # own the pixels: the bytes above are temporary


def save_failure(
    name: str, actual: QImage, expected: QImage, diff: ImageDiff, directory: Path = FAILURE_DIR
) -> list[Path]:
    """Keep what a failed comparison saw: ``<name>`` (the render), ``<stem>.expected.png``
    and, when the sizes agree, ``<stem>.diff.png``; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = Path(name).stem
    paths = [directory / name, directory / f"{stem}.expected.png"]
    actual.save(str(paths[0]))
    expected.save(str(paths[1]))
    if diff.same_size:
        paths.append(directory / f"{stem}.diff.png")
        diff_image(expected, diff).save(str(paths[2]))
    return paths


def select_stories(
    components: Sequence[Component], names: Sequence[str] = ()
) -> list[tuple[Component, Story]]:
    """The stories ``names`` ask for: ``Component`` (all its stories) or
    ``Component/Story``; every story when ``names`` is empty.

    Raises:
        ValueError: a name matches no component or story (the message lists them).
    """
    everything = [(c, s) for c in components for s in c.stories]
    if not names:
        return everything
    chosen: dict[tuple[str, str], tuple[Component, Story]] = {}
    for name in names:
        component_name, _, story_name = name.partition("/")
        found = [
            (c, s)
            for c, s in everything
            if c.name == component_name and (not story_name or s.name == story_name)
        ]
        if not found:
            known = ", ".join(f"{c.name}/{s.name}" for c, s in everything)
            raise ValueError(f"no story {name!r}; the stories are: {known}")
        for c, s in found:
            chosen[(c.name, s.name)] = (c, s)
    return list(chosen.values())


def update_baselines(
    app: QApplication,
    components: Sequence[Component],
    directory: Path = BASELINE_DIR,
    names: Sequence[str] = (),
) -> list[Path]:
    """Re-render stories in both themes into ``directory``: those ``names`` ask for (see
    :func:`select_stories`), or every story and then drop the PNGs of stories that are gone.

    Raises:
        ValueError: a name matches no story (nothing is written).
    """
    check_file_names(components)
    stories = select_stories(components, names)
    directory.mkdir(parents=True, exist_ok=True)
    previous = current_theme()
    written: list[Path] = []
    try:
        for theme in THEME_NAMES:
            apply_theme(app, theme)
            for component, story in stories:
                path = directory / story_filename(component, story, theme)
                render_story(story).save(str(path))
                written.append(path)
    finally:
        apply_theme(app, previous)
    if not names:
        for stale in set(directory.glob("*.png")) - set(written):
            stale.unlink()
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m gallery.baselines [Component | Component/Story ...]``: regenerate the
    committed baselines headless, all of them or only the named stories."""
    names = list(sys.argv[1:] if argv is None else argv)
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from gallery.stories import load_components

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    try:
        written = update_baselines(app, load_components(), names=names)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(written)} baselines to {BASELINE_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
