"""Theme: QSS + palette from tokens, system mode follows the OS, the manager announces changes."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from widgets.theme import (
    ThemeManager,
    apply_theme,
    build_qss,
    current_colors,
    current_theme,
    resolve_mode,
)
from widgets.tokens import DARK, LIGHT

# The offscreen platform warns when a top-level window gets size constraints.
pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


@pytest.fixture
def app(qapp: QApplication) -> QApplication:
    yield qapp
    apply_theme(qapp, "light")


@pytest.mark.parametrize(("mode", "colors"), [("light", LIGHT), ("dark", DARK)])
def test_apply_theme_sets_palette_sheet_and_current_colors(
    app: QApplication, mode: str, colors: object
) -> None:
    assert apply_theme(app, mode) == mode
    assert current_theme() == mode
    assert current_colors() is colors
    assert app.palette().color(QPalette.ColorRole.Window).name() == colors.window  # type: ignore[attr-defined]
    assert colors.primary in app.styleSheet()  # type: ignore[attr-defined]


def test_system_follows_the_os_colour_scheme() -> None:
    assert resolve_mode("system", Qt.ColorScheme.Dark) == "dark"
    assert resolve_mode("system", Qt.ColorScheme.Light) == "light"
    # The offscreen platform reports no scheme: light is the fallback.
    assert resolve_mode("system", Qt.ColorScheme.Unknown) == "light"
    assert resolve_mode("dark", Qt.ColorScheme.Light) == "dark"


def test_manager_follows_the_os_only_in_system_mode(app: QApplication, qtbot: QtBot) -> None:
    # Offscreen Qt cannot change the OS scheme, so the test emits what the OS would.
    hints = app.styleHints()
    manager = ThemeManager(app, "system")
    assert manager.theme == "light"
    with qtbot.waitSignal(manager.sig_theme_changed) as blocker:
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert blocker.args == ["dark"]
    assert current_theme() == "dark"
    manager.set_mode("light")
    assert manager.mode == "light"
    with qtbot.assertNotEmitted(manager.sig_theme_changed):
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert current_theme() == "light"
    manager.deleteLater()


def test_bad_mode_is_named_and_changes_nothing(app: QApplication) -> None:
    apply_theme(app, "dark")
    sheet = app.styleSheet()
    with pytest.raises(ValueError, match="theme: must be one of light, dark, system"):
        apply_theme(app, "purple")
    assert app.styleSheet() == sheet
    assert current_theme() == "dark"


def test_scale_grows_pixel_sizes_and_is_validated() -> None:
    assert "font-size: 28px" in build_qss(LIGHT, 2.0)
    assert "font-size: 14px" in build_qss(LIGHT, 1.0)
    with pytest.raises(ValueError, match="scale: must be between"):
        build_qss(LIGHT, 10)


def test_no_colour_literals_outside_tokens() -> None:
    """Widgets take colours from the tokens only (the theme builder formats them in)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "widgets"
    literal = re.compile(r"#[0-9a-fA-F]{6}\b|QColor\(\s*\d|Qt\.GlobalColor\.(?!transparent)")
    offenders = [
        f"{path.relative_to(root)}:{n}"
        for path in root.rglob("*.py")
        if path.name != "tokens.py" and "datagrid" not in path.parts
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if literal.search(line)
    ]
    assert offenders == []
