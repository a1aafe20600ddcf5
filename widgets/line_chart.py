"""LineChart: a small dated-values chart (a weight history), painted with the theme's tokens."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from widgets.tokens import FontSize, Spacing


@dataclass(frozen=True, slots=True)
class ChartPoint:
    """One dated value."""

    day: dt.date
    value: float


class LineChart(QWidget):
    """Dated values as a line with dots, a value axis and the first and last dates.

    The time axis is to scale (a gap of a year looks like one); a single value is a dot;
    no values shows ``empty_text``. The accessible description reads the values out, so
    the chart says as much to a screen reader as to the eye.

    Args:
        unit: the values' unit, shown on the axis and in the description ("kg").
        empty_text: what to show with no values.
        parent: the parent widget.
    """

    def __init__(
        self, unit: str = "", empty_text: str = "No values yet", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._unit = unit
        self._empty_text = empty_text
        self._points: tuple[ChartPoint, ...] = ()
        self.setMinimumHeight(160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Chart")
        self._describe()

    # Public API ---------------------------------------------------------------
    def set_points(self, points: Sequence[ChartPoint]) -> None:
        """Show ``points`` (sorted by day here)."""
        self._points = tuple(sorted(points, key=lambda p: p.day))
        self._describe()
        self.update()

    def points(self) -> tuple[ChartPoint, ...]:
        return self._points

    def sizeHint(self) -> QSize:
        return QSize(480, 200)

    def text_pairs(self) -> list[tuple[str, str]]:
        """(text token, background token) of the text it paints: axis labels and the
        empty message in ``text_muted`` on the window (for the contrast check)."""
        return [("text_muted", "window")]

    # Painting -----------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        from widgets.theme import current_colors

        colors = current_colors()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(self.font())
        font.setPixelSize(FontSize.SMALL)
        painter.setFont(font)
        muted = QColor(colors.text_muted)
        if not self._points:
            painter.setPen(muted)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._empty_text)
            return
        metrics = painter.fontMetrics()
        low, high = self._range()
        labels = [self._format(v) for v in (low, (low + high) / 2, high)]
        left = max(metrics.horizontalAdvance(t) for t in labels) + Spacing.SM * 2
        plot = QRectF(
            left,
            Spacing.MD,
            max(10.0, self.width() - left - Spacing.LG),
            max(10.0, self.height() - Spacing.MD - metrics.height() - Spacing.MD),
        )
        grid = QPen(QColor(colors.border))
        grid.setWidth(1)
        for index, value in enumerate((low, (low + high) / 2, high)):
            y = plot.bottom() - (value - low) / (high - low) * plot.height()
            painter.setPen(grid)
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(muted)
            painter.drawText(
                QRectF(0, y - metrics.height() / 2, left - Spacing.SM, metrics.height()),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                labels[index],
            )
        first, last = self._points[0].day, self._points[-1].day
        span = max(1, (last - first).days)
        positions = [
            QPointF(
                plot.left() + (p.day - first).days / span * plot.width()
                if len(self._points) > 1
                else plot.center().x(),
                plot.bottom() - (p.value - low) / (high - low) * plot.height(),
            )
            for p in self._points
        ]
        line = QPen(QColor(colors.primary))
        line.setWidth(2)
        painter.setPen(line)
        if len(positions) > 1:
            path = QPainterPath(positions[0])
            for point in positions[1:]:
                path.lineTo(point)
            painter.drawPath(path)
        painter.setBrush(QColor(colors.primary))
        for point in positions:
            painter.drawEllipse(point, 3.5, 3.5)
        painter.setPen(muted)
        bottom = QRectF(plot.left(), plot.bottom() + Spacing.XS, plot.width(), metrics.height())
        painter.drawText(bottom, int(Qt.AlignmentFlag.AlignLeft), first.isoformat())
        if last != first:
            painter.drawText(bottom, int(Qt.AlignmentFlag.AlignRight), last.isoformat())

    # Internals ----------------------------------------------------------------
    def _range(self) -> tuple[float, float]:
        values = [p.value for p in self._points]
        low, high = min(values), max(values)
        pad = (high - low) * 0.15 or max(abs(high) * 0.1, 1.0)
        return max(0.0, low - pad) if low >= 0 else low - pad, high + pad

    def _format(self, value: float) -> str:
        text = f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"
        return f"{text} {self._unit}".strip()

    def _describe(self) -> None:
        if not self._points:
            self.setAccessibleDescription(self._empty_text)
            return
        recent = self._points[-5:]
        parts = [f"{p.day.isoformat()}: {self._format(p.value)}" for p in recent]
        prefix = f"{len(self._points)} values; latest " if len(self._points) > 5 else ""
        self.setAccessibleDescription(prefix + "; ".join(parts))
