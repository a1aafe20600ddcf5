"""The app's QStyle: Fusion, with check boxes and their focus drawn from the tokens.

Fusion draws a check box's outline a shade darker than the window, which vanishes on the
dark theme's near-black, and its focus frame in the selection colour. Style sheets cannot
restyle the indicator without losing the tick, so this proxy draws the indicators (check
boxes and the check column of item views), the frame of combo and spin boxes, and the
focus frame of buttons in the token colours instead, in both themes.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QAbstractButton,
    QProxyStyle,
    QStyle,
    QStyleOption,
    QStyleOptionComplex,
    QWidget,
)

from widgets.theme import current_colors
from widgets.tokens import FOCUS_RING_WIDTH, Radius

_FRAMED = (QStyle.ComplexControl.CC_ComboBox, QStyle.ComplexControl.CC_SpinBox)
_INDICATORS = (
    QStyle.PrimitiveElement.PE_IndicatorCheckBox,
    QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck,
)


class TokenStyle(QProxyStyle):
    """Fusion with token-coloured check boxes and focus frames (set by ``apply_theme``)."""

    def __init__(self) -> None:
        super().__init__("Fusion")

    def drawPrimitive(
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        if element in _INDICATORS:
            self._draw_indicator(option, painter)
            return
        if element == QStyle.PrimitiveElement.PE_FrameFocusRect and isinstance(
            widget, QAbstractButton
        ):
            self._draw_focus(option, painter)
            return
        super().drawPrimitive(element, option, painter, widget)

    def drawComplexControl(
        self,
        control: QStyle.ComplexControl,
        option: QStyleOptionComplex,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        super().drawComplexControl(control, option, painter, widget)
        if control in _FRAMED and getattr(option, "frame", True):
            self._draw_frame(option, painter)

    def _draw_frame(self, option: QStyleOption, painter: QPainter) -> None:
        """Over Fusion's frame (a shade of the window colour, lost on the dark theme): the
        token outline, or the focus ring while focused."""
        c = current_colors()
        focused = bool(option.state & QStyle.StateFlag.State_HasFocus)
        enabled = bool(option.state & QStyle.StateFlag.State_Enabled)
        width = FOCUS_RING_WIDTH if focused else 1
        colour = c.focus_ring if focused else c.border_strong if enabled else c.border
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(colour), width))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        inset = width / 2
        rect = QRectF(option.rect).adjusted(inset, inset, -inset, -inset)
        painter.drawRoundedRect(rect, Radius.SM - 1, Radius.SM - 1)
        painter.restore()

    def _draw_indicator(self, option: QStyleOption, painter: QPainter) -> None:
        c = current_colors()
        state = option.state
        enabled = bool(state & QStyle.StateFlag.State_Enabled)
        on = bool(state & QStyle.StateFlag.State_On)
        partial = bool(state & QStyle.StateFlag.State_NoChange)
        side = min(option.rect.width(), option.rect.height(), 18) - 2
        box = QRectF(0, 0, side, side)
        box.moveCenter(QRectF(option.rect).center())
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        filled = (on or partial) and enabled
        fill = QColor(c.primary if filled else c.surface if enabled else c.disabled)
        outline = QColor(c.primary if filled else c.border_strong)
        if state & QStyle.StateFlag.State_HasFocus and not filled:
            outline = QColor(c.focus_ring)
        painter.setPen(QPen(outline, 1.5))
        painter.setBrush(fill)
        radius = Radius.SM - 1
        painter.drawRoundedRect(box.adjusted(0.75, 0.75, -0.75, -0.75), radius, radius)
        mark = QColor(c.on_primary if enabled else c.on_disabled)
        pen = QPen(mark, max(1.6, side / 8))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        x, y, s = box.x(), box.y(), box.width()
        if on:
            tick = QPainterPath(QPointF(x + s * 0.24, y + s * 0.52))
            tick.lineTo(QPointF(x + s * 0.43, y + s * 0.70))
            tick.lineTo(QPointF(x + s * 0.77, y + s * 0.32))
            painter.drawPath(tick)
        elif partial:
            painter.drawLine(QPointF(x + s * 0.28, y + s / 2), QPointF(x + s * 0.72, y + s / 2))
        painter.restore()

    def _draw_focus(self, option: QStyleOption, painter: QPainter) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor(current_colors().focus_ring), FOCUS_RING_WIDTH)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        inset = FOCUS_RING_WIDTH / 2
        rect = QRectF(option.rect).adjusted(inset, inset, -inset, -inset)
        painter.drawRoundedRect(rect, Radius.SM, Radius.SM)
        painter.restore()
