"""The measure overlay: every widget of a story outlined, with its size in pixels."""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QEvent, QObject, QRect, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from widgets.theme import current_colors
from widgets.tokens import FontSize

#: Widgets narrower than this get an outline but no size label (it would cover them).
LABEL_MIN: Final = 40


class MeasureOverlay(QWidget):
    """Drawn over ``host``: an outline of each visible widget inside it and its size.

    Transparent to the mouse, so the story stays usable while it is shown.

    Args:
        host: the widget whose descendants are measured (the gallery's stage).
    """

    def __init__(self, host: QWidget) -> None:
        super().__init__(host)
        self._host = host
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground, True)
        host.installEventFilter(self)
        self.hide()

    def _measured(self) -> list[QWidget]:
        return [
            w
            for w in self._host.findChildren(QWidget)
            if w is not self and w.isVisible() and not self.isAncestorOf(w)
        ]

    def _leaves(self) -> list[QWidget]:
        direct = Qt.FindChildOption.FindDirectChildrenOnly
        return [
            w
            for w in self._measured()
            if not any(c.isVisible() for c in w.findChildren(QWidget, options=direct))
        ]

    def outlines(self) -> list[tuple[QRect, str]]:
        """(rectangle in overlay coordinates, "WxH") of every measured widget."""
        out = []
        for widget in self._measured():
            top_left = widget.mapTo(self._host, widget.rect().topLeft())
            rect = QRect(top_left, widget.size())
            out.append((rect, f"{widget.width()}x{widget.height()}"))
        return out

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._host and event.type() in (
            QEvent.Type.Resize,
            QEvent.Type.LayoutRequest,
            QEvent.Type.ChildAdded,
        ):
            self.setGeometry(self._host.rect())
            self.raise_()
            self.update()
        return False

    def paintEvent(self, event: QPaintEvent) -> None:
        colors = current_colors()
        painter = QPainter(self)
        pen = QPen(QColor(colors.focus_ring))
        pen.setWidth(1)
        painter.setPen(pen)
        font = painter.font()
        font.setPixelSize(FontSize.SMALL)
        painter.setFont(font)
        content = self._host.findChildren(
            QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly
        )
        roots = {id(w) for w in content}
        labelled = {id(w) for w in self._leaves()} | roots
        for widget, (rect, size) in zip(self._measured(), self.outlines(), strict=True):
            painter.drawRect(rect.adjusted(0, 0, -1, -1))
            if id(widget) in labelled and rect.width() >= LABEL_MIN:
                # Leaves get their size at the top right, the story's root at the bottom
                # right, so nested outlines do not stack their labels in one corner.
                label = painter.fontMetrics().boundingRect(size).adjusted(-3, -1, 3, 1)
                if id(widget) in roots:
                    label.moveBottomRight(rect.bottomRight())
                else:
                    label.moveTopRight(rect.topRight())
                painter.fillRect(label, QColor(colors.focus_ring))
                painter.setPen(QColor(colors.on_primary))
                painter.drawText(label, Qt.AlignmentFlag.AlignCenter, size)
                painter.setPen(pen)
