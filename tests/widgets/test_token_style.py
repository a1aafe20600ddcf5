"""TokenStyle and the input rules: check boxes and focus rings stand out in both themes."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from widgets.theme import apply_theme
from widgets.tokens import THEME_NAMES, colors_for, contrast_ratio

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


def _colours(widget: QWidget) -> set[str]:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    return {
        QColor(image.pixel(x, y)).name()
        for x in range(image.width())
        for y in range(image.height())
    }


def _best_contrast(colours: set[str], background: str) -> float:
    return max(contrast_ratio(colour, background) for colour in colours)


@pytest.mark.parametrize("theme", THEME_NAMES)
def test_an_unchecked_box_is_outlined_and_a_checked_one_filled(
    qapp: QApplication, qtbot: QtBot, theme: str
) -> None:
    apply_theme(qapp, theme)
    c = colors_for(theme)  # type: ignore[arg-type]
    empty, ticked = QCheckBox(), QCheckBox()
    ticked.setChecked(True)
    for box in (empty, ticked):
        qtbot.addWidget(box)
        box.resize(24, 24)
    # WCAG 1.4.11: a control's boundary needs 3:1 against what surrounds it
    assert _best_contrast(_colours(empty), c.window) >= 3
    assert c.primary in _colours(ticked)
    assert c.on_primary in _colours(ticked)  # the tick


@pytest.mark.parametrize("theme", THEME_NAMES)
@pytest.mark.parametrize("kind", [QLineEdit, QComboBox])
def test_focus_draws_the_focus_ring(
    qapp: QApplication, qtbot: QtBot, theme: str, kind: type[QWidget]
) -> None:
    apply_theme(qapp, theme)
    c = colors_for(theme)  # type: ignore[arg-type]
    host = QWidget()
    qtbot.addWidget(host)
    widget = kind(host)
    widget.resize(160, 32)
    host.show()
    qtbot.waitExposed(host)
    assert c.focus_ring not in _colours(widget)
    widget.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(widget.hasFocus)
    assert c.focus_ring in _colours(widget)
