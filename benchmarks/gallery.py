"""Gallery export speed: the full static export against bare grabs of the same widgets.

Budget (issue 3, "done when"): 27 stories x 2 themes export headless "in seconds"; we
hold it to ≤ 5 s on the 2-core machine and report the overhead over a bare
``QWidget.grab().save()`` of the same widgets in the same run.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

BUDGET_SECONDS = 5.0
ROUNDS = 3


def main() -> int:
    """Print the export time, the bare-grab baseline and their ratio; 1 if over budget."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    from gallery.export import export_gallery
    from gallery.render import quiet_offscreen_messages
    from gallery.stories import load_components
    from widgets.theme import apply_theme
    from widgets.tokens import THEME_NAMES

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    quiet_offscreen_messages()
    components = load_components()
    stories = [s for c in components for s in c.stories]

    def bare(out: Path) -> None:
        for theme in THEME_NAMES:
            apply_theme(app, theme)
            for i, story in enumerate(stories):
                widget = story.render(story.default_args())
                widget.resize(story.width, widget.sizeHint().height())
                widget.grab().toImage().save(str(out / f"{i}-{theme}.png"))
                widget.deleteLater()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)

    export_times, bare_times = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(ROUNDS):
            started = time.perf_counter()
            result = export_gallery(app, components, Path(tmp) / f"export{round_}")
            export_times.append(time.perf_counter() - started)
            folder = Path(tmp) / f"bare{round_}"
            folder.mkdir()
            started = time.perf_counter()
            bare(folder)
            bare_times.append(time.perf_counter() - started)
    export_s, bare_s = statistics.median(export_times), statistics.median(bare_times)
    print(f"stories: {len(stories)} x {len(THEME_NAMES)} themes = {result.story_images} PNGs")
    print(f"  + {len(result.images) - result.story_images} state matrices and index.html")
    print(f"full export (median of {ROUNDS}): {export_s:6.2f} s   budget ≤ {BUDGET_SECONDS:.0f} s")
    print(f"bare grab+save of the same widgets: {bare_s:6.2f} s   (baseline)")
    print(f"ratio export / bare: {export_s / bare_s:5.2f}x")
    return 0 if export_s <= BUDGET_SECONDS else 1
