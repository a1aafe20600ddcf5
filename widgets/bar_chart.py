"""BarChart: a small stacked bar chart over time buckets (jobs done and failed per minute).

Painted by hand from the theme's tokens, so it costs one ``paintEvent`` per update and
no chart library. Each bar stacks its series bottom-up; the accessible description
says the totals, since a screen reader cannot see bars.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from widgets.theme import current_colors
from widgets.tokens import Spacing


class _Bars(QWidget):
    """The painted bars."""

    def __init__(self, chart: BarChart) -> None:
        super().__init__(chart)
        self._chart = chart
        self.setMinimumHeight(32)

    def sizeHint(self) -> QSize:
        return QSize(240, 40)

    def paintEvent(self, event: QPaintEvent) -> None:
        self._chart.paint_bars(self)


class BarChart(QWidget):
    """Stacked bars, one per bucket, scaled to the tallest bar, under a one-line legend.

    Args:
        series: the name of each stacked series, bottom first ("done", "failed").
        tones: the colour token of each series (``success``, ``danger``, ``primary``...).
        parent: the parent widget.

    Signals:
        None: a chart only shows numbers.
    """

    def __init__(
        self,
        series: Sequence[str],
        tones: Sequence[str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        if len(series) != len(tones) or not series:
            raise ValueError("series/tones: give one tone per series, at least one series")
        self._series = tuple(series)
        self._tones = tuple(tones)
        self._values: list[tuple[int, ...]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.legend = QLabel()
        self.legend.setObjectName("chartLegend")
        self.bars = _Bars(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(Spacing.XS)
        layout.addWidget(self.legend)
        layout.addWidget(self.bars, 1)
        self._describe()

    def set_values(self, values: Sequence[Sequence[int]]) -> None:
        """One tuple per bucket, one number per series; repaints only when they changed.

        Raises:
            ValueError: a bucket has the wrong number of values, or a negative one.
        """
        rows = [tuple(int(v) for v in bucket) for bucket in values]
        for index, bucket in enumerate(rows):
            if len(bucket) != len(self._series) or min(bucket, default=0) < 0:
                raise ValueError(f"values[{index}]: give {len(self._series)} non-negative numbers")
        if rows == self._values:
            return
        self._values = rows
        self._describe()
        self.bars.update()

    def values(self) -> list[tuple[int, ...]]:
        """The buckets shown, oldest first."""
        return list(self._values)

    def totals(self) -> tuple[int, ...]:
        """Each series summed over every bucket."""
        return tuple(sum(b[i] for b in self._values) for i in range(len(self._series)))

    def _describe(self) -> None:
        parts = [f"{total} {name}" for name, total in zip(self._series, self.totals(), strict=True)]
        self.legend.setText(" · ".join(parts))
        self.setAccessibleDescription(f"{', '.join(parts)} over {len(self._values)} intervals")

    def paint_bars(self, target: QWidget) -> None:
        """Paint the bars on ``target`` (the chart's bar area)."""
        colors = current_colors()
        painter = QPainter(target)
        rect = QRectF(target.rect()).adjusted(0, Spacing.XS, 0, 0)
        painter.setPen(QColor(colors.border))
        painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        if not self._values:
            painter.end()
            return
        tallest = max((sum(b) for b in self._values), default=0) or 1
        width = rect.width() / len(self._values)
        gap = 1.0 if width > 3 else 0.0
        painter.setPen(Qt.PenStyle.NoPen)
        fills = [QColor(getattr(colors, tone)) for tone in self._tones]
        for index, bucket in enumerate(self._values):
            x = rect.left() + index * width
            bottom = rect.bottom()
            for value, fill in zip(bucket, fills, strict=True):
                if not value:
                    continue
                height = max(1.0, rect.height() * value / tallest)
                painter.fillRect(QRectF(x, bottom - height, width - gap, height), fill)
                bottom -= height
        painter.end()
