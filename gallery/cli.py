"""``purplecross gallery``: open the component gallery, export it, or refresh baselines.

Qt is imported inside the command, so registering it keeps ``purplecross --help`` fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click


def _has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM") or sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


@click.command("gallery")
@click.option(
    "--export",
    "export_dir",
    type=click.Path(file_okay=False, dir_okay=True, writable=True, path_type=Path),
    help="Render every story (light and dark) to PNG in DIR with an index.html; no window.",
    metavar="DIR",
)
@click.option(
    "--update-baselines",
    is_flag=True,
    help="Regenerate the visual-regression baselines in tests/gallery/baselines "
    "(all of them, or only the stories named by --story).",
)
@click.option(
    "--story",
    "stories",
    multiple=True,
    metavar="NAME",
    help="Open the window on Component/Story; with --update-baselines: only this "
    "Component or Component/Story (repeatable).",
)
@click.option(
    "--args",
    "args_json",
    metavar="JSON",
    help='With --story: the story\'s args as a JSON object, e.g. \'{"text": "Save"}\'.',
)
@click.option(
    "--theme",
    type=click.Choice(["light", "dark", "system"]),
    default="system",
    show_default=True,
    help="Theme of the gallery window.",
)
def gallery(
    export_dir: Path | None,
    update_baselines: bool,
    stories: tuple[str, ...],
    args_json: str | None,
    theme: str,
) -> None:
    """Open the component gallery: every widget's stories, controls, signals and docs.

    The window reopens the last story with its args; ``--story Button/Primary --args
    '{...}'`` opens that one instead (a deep link).
    """
    headless = export_dir is not None or update_baselines
    if args_json is not None and len(stories) != 1:
        raise click.ClickException("--args needs exactly one --story Component/Story")
    if not headless and len(stories) > 1:
        raise click.ClickException("open one --story at a time")
    if headless:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    elif not _has_display():
        raise click.ClickException(
            "no display to open the gallery on (DISPLAY/WAYLAND_DISPLAY unset); "
            "use --export DIR for a headless export"
        )
    from PySide6.QtWidgets import QApplication

    from gallery.stories import load_components

    if headless:
        from gallery.render import quiet_offscreen_messages

        quiet_offscreen_messages()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    components = load_components()
    if update_baselines:
        from gallery.baselines import BASELINE_DIR
        from gallery.baselines import update_baselines as regenerate

        try:
            written = regenerate(app, components, names=stories)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"wrote {len(written)} baselines to {BASELINE_DIR}")
    if export_dir is not None:
        from gallery.export import export_gallery

        try:
            result = export_gallery(app, components, export_dir)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(
            f"wrote {result.story_images} story images ({len(result.images)} PNGs in all) "
            f"and {result.index} in {result.seconds:.1f} s"
        )
    if headless:
        return
    from PySide6.QtCore import QSettings

    from gallery.deep_link import resolve
    from gallery.window import GalleryWindow
    from widgets.theme import ThemeManager

    if stories:
        try:
            resolve(components, stories[0], args_json)  # a clear error before any window
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    manager = ThemeManager(app, theme)
    window = GalleryWindow(components, manager, QSettings("PurpleCross", "gallery"))
    if stories:
        window.open_story(stories[0], args_json)
    window.show()
    sys.exit(app.exec())
