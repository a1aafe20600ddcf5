"""Rendering stories: the Stage that hosts a story, states for the matrix, images for export."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, Final

from PySide6.QtCore import (
    QAbstractAnimation,
    QCoreApplication,
    QEvent,
    QRect,
    Qt,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from gallery.story import Story
from widgets.theme import build_qss, current_colors
from widgets.tokens import FontSize, Spacing

BACKGROUNDS: Final = ("window", "surface", "surface_alt", "checker")
SCALES: Final = (1.0, 1.25, 1.5, 2.0)
STAGE_PADDING: Final = Spacing.XL
_CHECKER: Final = 8


_OFFSCREEN_NOISE: Final = ("This plugin does not support propagateSizeHints()",)


def quiet_offscreen_messages() -> None:
    """Drop the offscreen platform's harmless size-hint warning; print other warnings.

    For command-line tools only: it replaces the process's Qt message handler.
    """

    def handler(mode: QtMsgType, _context: Any, message: str) -> None:
        if message in _OFFSCREEN_NOISE or mode == QtMsgType.QtDebugMsg:
            return
        print(message, file=sys.stderr)

    qInstallMessageHandler(handler)


def scaled_style_sheet(scale: float) -> str:
    """The theme's style sheet at ``scale`` plus a base font size for stock widgets."""
    if scale == 1.0:
        return ""
    base = f"QWidget {{ font-size: {round(FontSize.BODY * scale)}px; }}\n"
    return base + build_qss(current_colors(), scale)


class Stage(QWidget):
    """Holds one story widget on a background taken from the tokens.

    Args:
        background: a token name from ``BACKGROUNDS`` ("checker" shows transparency).
        parent: the parent widget.
    """

    def __init__(self, background: str = "window", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._background = "window"
        self._content: QWidget | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(*(STAGE_PADDING,) * 4)
        self.set_background(background)

    def set_background(self, background: str) -> None:
        """Paint ``background`` behind the story.

        Raises:
            ValueError: not one of ``BACKGROUNDS``.
        """
        if background not in BACKGROUNDS:
            raise ValueError(f"background: must be one of {', '.join(BACKGROUNDS)}")
        self._background = background
        self.update()

    def content(self) -> QWidget | None:
        """The story widget shown."""
        return self._content

    def set_content(self, widget: QWidget | None, max_width: int | None = None) -> None:
        """Show ``widget`` (the previous one is deleted); the stage asks for no more than
        ``max_width`` (or the widget's maximum width) plus its padding."""
        if self._content is not None:
            self._layout.removeWidget(self._content)
            self._content.hide()
            self._content.deleteLater()
        self._content = widget
        if widget is not None:
            # Top-aligned: the story keeps its natural height instead of filling the canvas.
            self._layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignTop)
            widget.ensurePolished()  # style-sheet fonts and paddings now, so sizes are right
            # Never wider than the story's canvas: a 5,000-character label would ask for
            # 45,000 pixels; the widget elides or clips within its maximum width instead.
            limit = widget.maximumWidth() if max_width is None else max_width
            wanted = min(widget.minimumSizeHint().width(), limit)
            self.setMinimumWidth(wanted + 2 * STAGE_PADDING)

    def paintEvent(self, event: QPaintEvent) -> None:
        colors = current_colors()
        painter = QPainter(self)
        if self._background != "checker":
            painter.fillRect(self.rect(), QColor(getattr(colors, self._background)))
            return
        light, dark = QColor(colors.surface), QColor(colors.surface_alt)
        painter.fillRect(self.rect(), light)
        for y in range(0, self.height(), _CHECKER):
            for x in range((y // _CHECKER) % 2 * _CHECKER, self.width(), 2 * _CHECKER):
                painter.fillRect(QRect(x, y, _CHECKER, _CHECKER), dark)


def apply_state(widget: QWidget, state: str) -> bool:
    """Show ``widget`` in ``state`` without a mouse; False if the state does not apply.

    hover/pressed/focus use the widget's ``sim_state`` property (the style sheet and
    paint code honour it), disabled disables it, loading calls ``set_loading``.
    """
    if state == "normal":
        return True
    if state == "disabled":
        widget.setEnabled(False)
        return True
    if state == "loading":
        setter = getattr(widget, "set_loading", None)
        if setter is None:
            return False
        setter(True)
        return True
    setter = getattr(widget, "set_sim_state", None)
    if setter is None:
        return False
    setter(state)
    return True


def _settle(widget: QWidget, width: int) -> None:
    widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    widget.ensurePolished()
    height = widget.sizeHint().height()
    if widget.hasHeightForWidth():
        height = widget.heightForWidth(width)
    widget.resize(width, max(height, 1))
    # Layouts settle on show; the offscreen platform then warns about size hints.
    widget.show()
    QApplication.processEvents()
    # Recompute once the style sheet fonts are in effect (the first pass polishes them).
    if widget.hasHeightForWidth():
        widget.resize(width, widget.heightForWidth(width))
    else:
        widget.resize(width, widget.sizeHint().height())
    focused = QApplication.focusWidget()
    if focused is not None and (focused is widget or widget.isAncestorOf(focused)):
        focused.clearFocus()  # a render shows no accidental focus ring
    finish_animations(widget)


def finish_animations(widget: QWidget) -> int:
    """Jump every running animation under ``widget`` to its end, so a render shows the
    settled state and never one frame of a fade (a search box's clear button fades in over
    160 ms: two exports differed). Returns how many were finished."""
    finished = 0
    for animation in widget.findChildren(QAbstractAnimation):
        duration = animation.totalDuration()
        if animation.state() == QAbstractAnimation.State.Running and duration >= 0:
            animation.setCurrentTime(duration)
            finished += 1
    if finished:
        QApplication.processEvents()
    return finished


def dispose(widget: QWidget) -> None:
    """Delete ``widget`` now: without a running event loop ``deleteLater`` never happens,
    and every leaked widget would be re-polished on each theme change."""
    widget.close()
    widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def grab_widget(widget: QWidget, width: int) -> QImage:
    """An image of ``widget`` laid out at ``width`` pixels, never shown on screen."""
    _settle(widget, width)
    return widget.grab().toImage()


def render_story(
    story: Story,
    args: Mapping[str, Any] | None = None,
    *,
    scale: float = 1.0,
    background: str = "window",
) -> QImage:
    """An image of ``story`` with ``args`` (its defaults if None) in the active theme."""
    stage = Stage(background)
    try:
        stage.setStyleSheet(scaled_style_sheet(scale))
        args = story.default_args() if args is None else args
        canvas = round(story.canvas_width(args) * scale)
        stage.set_content(story.render(args), max_width=canvas)
        width = canvas + 2 * STAGE_PADDING
        return grab_widget(stage, width)
    finally:
        dispose(stage)
