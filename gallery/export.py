"""Static export (``build-storybook``): every story in both themes to PNG, plus index.html."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtWidgets import QApplication

from gallery.docs import docs_html
from gallery.matrix import StateMatrix
from gallery.render import STAGE_PADDING, Stage, dispose, grab_widget, render_story
from gallery.story import Component, Story
from widgets.theme import apply_theme, current_theme
from widgets.tokens import THEME_NAMES, ThemeName, colors_for


def slug(name: str) -> str:
    """``WithTitleAndSubtitle`` → ``with-title-and-subtitle`` (file names, anchors)."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name.strip())
    return re.sub(r"[^a-z0-9]+", "-", spaced.lower()).strip("-")


def story_filename(component: Component, story: Story, theme: str) -> str:
    """The PNG name of a story render, e.g. ``button-full-width-dark.png``."""
    return f"{slug(component.name)}-{slug(story.name)}-{theme}.png"


def matrix_filename(component: Component, theme: str) -> str:
    """The PNG name of a component's state matrix."""
    return f"{slug(component.name)}-state-matrix-{theme}.png"


def check_file_names(components: Sequence[Component], themes: Sequence[str] = THEME_NAMES) -> None:
    """Refuse two stories whose renders would share a file name (``Primary`` and
    ``primary`` both give ``button-primary-light.png``): one would overwrite the other.

    Raises:
        ValueError: naming both stories and the file.
    """
    seen: dict[str, str] = {}
    for component in components:
        for story in component.stories:
            for theme in themes:
                name = story_filename(component, story, theme)
                here = f"{component.name}/{story.name}"
                if name in seen and seen[name] != here:
                    raise ValueError(
                        f"stories {seen[name]} and {here} would both be written to {name}; "
                        "rename one"
                    )
                seen[name] = here


@dataclass
class ExportResult:
    """What an export wrote.

    Attributes:
        images: every PNG written (stories and state matrices).
        index: the index.html linking them.
        story_images: how many of ``images`` are story renders.
        seconds: wall time of the export.
    """

    images: list[Path] = field(default_factory=list)
    index: Path = Path()
    story_images: int = 0
    seconds: float = 0.0


def render_matrix(component: Component) -> Stage:
    """A Stage holding the state matrix of ``component`` (caller grabs and deletes it)."""
    stage = Stage()
    matrix = StateMatrix(component)
    stage.set_content(matrix)
    return stage


def export_gallery(
    app: QApplication,
    components: Sequence[Component],
    out_dir: Path,
    themes: Sequence[ThemeName] = THEME_NAMES,
) -> ExportResult:
    """Render every story of ``components`` in each of ``themes`` into ``out_dir``.

    Writes ``<component>-<story>-<theme>.png``, one state matrix per component and
    theme, and ``index.html``. The app's theme is restored afterwards.

    Raises:
        ValueError: ``out_dir`` exists and is not a directory.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"export: {out_dir} exists and is not a directory")
    check_file_names(components, themes)
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = current_theme()
    result = ExportResult()
    try:
        for theme in themes:
            apply_theme(app, theme)
            for component in components:
                for story in component.stories:
                    path = out_dir / story_filename(component, story, theme)
                    render_story(story).save(str(path))
                    result.images.append(path)
                    result.story_images += 1
                if component.matrix_rows:
                    stage = render_matrix(component)
                    width = stage.minimumSizeHint().width() + 2 * STAGE_PADDING
                    path = out_dir / matrix_filename(component, theme)
                    grab_widget(stage, width).save(str(path))
                    dispose(stage)
                    result.images.append(path)
    finally:
        apply_theme(app, previous)
    # Renders of stories renamed or removed since the last export would linger as if current.
    theme_suffixes = tuple(f"-{theme}.png" for theme in THEME_NAMES)
    for stale in set(out_dir.glob("*.png")) - set(result.images):
        if stale.name.endswith(theme_suffixes):
            stale.unlink()
    result.index = out_dir / "index.html"
    result.index.write_text(index_html(components, themes), encoding="utf-8")
    result.seconds = time.perf_counter() - started
    return result


def index_html(components: Sequence[Component], themes: Sequence[str]) -> str:
    """The export's index page: a table of contents, then each component's docs and stories."""
    light, dark = colors_for("light"), colors_for("dark")
    esc = html.escape
    toc = "".join(
        f'<li><a href="#{slug(c.name)}">{esc(c.name)}</a> ({len(c.stories)} stories)<ul>'
        + "".join(
            f'<li><a href="#{slug(c.name)}-{slug(s.name)}">{esc(s.name)}</a></li>'
            for s in c.stories
        )
        + "</ul></li>"
        for c in components
    )
    sections = []
    for component in components:
        stories = []
        for story in component.stories:
            images = "".join(
                f'<figure><a href="{story_filename(component, story, theme)}">'
                f'<img src="{story_filename(component, story, theme)}" '
                f'alt="{esc(component.name)} {esc(story.name)}, {theme} theme"></a>'
                f"<figcaption>{theme}</figcaption></figure>"
                for theme in themes
            )
            snippet = component.snippet(story, story.default_args())
            stories.append(
                f'<section id="{slug(component.name)}-{slug(story.name)}">'
                f"<h3>{esc(story.name)}</h3><p>{esc(story.docs)}</p>"
                f'<div class="shots">{images}</div><pre>{esc(snippet)}</pre></section>'
            )
        matrices = ""
        if component.matrix_rows:
            matrices = "<h3>State matrix</h3>" + "".join(
                f'<figure><img src="{matrix_filename(component, theme)}" '
                f'alt="{esc(component.name)} states, {theme} theme">'
                f"<figcaption>{theme}</figcaption></figure>"
                for theme in themes
            )
        sections.append(
            f'<article id="{slug(component.name)}">'
            f"{docs_html(component, None)}{matrices}{''.join(stories)}</article>"
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Purple Cross component gallery</title>
<style>
body {{ font-family: sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem;
       background: {light.window}; color: {light.text}; }}
a {{ color: {light.link}; }}
article {{ border-top: 1px solid {light.border}; margin-top: 2rem; }}
pre {{ background: {light.surface}; border: 1px solid {light.border}; padding: .75rem;
      overflow-x: auto; }}
table {{ border-collapse: collapse; }}
.shots {{ display: flex; gap: 1rem; flex-wrap: wrap; }}
figure {{ margin: 0; }}
figcaption {{ color: {light.text_muted}; font-size: .85rem; }}
img {{ border: 1px solid {light.border}; max-width: 100%; }}
@media (prefers-color-scheme: dark) {{
  body {{ background: {dark.window}; color: {dark.text}; }}
  a {{ color: {dark.link}; }}
  article {{ border-top-color: {dark.border}; }}
  pre {{ background: {dark.surface}; border-color: {dark.border}; }}
  figcaption {{ color: {dark.text_muted}; }}
  img, table, th, td {{ border-color: {dark.border}; }}
}}
</style></head><body>
<h1>Purple Cross component gallery</h1>
<p>Every story rendered in the {" and ".join(esc(t) for t in themes)} themes.</p>
<ul>{toc}</ul>
{"".join(sections)}
</body></html>
"""
