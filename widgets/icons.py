"""Vector icons drawn with QPainter in a colour the caller takes from the tokens.

Drawing (instead of shipping bitmaps) keeps icons sharp at every gallery scale and
lets one shape serve both themes: the colour is always an argument.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

IconName = Literal[
    "info", "success", "warning", "error", "close", "plus", "arrow_right", "check", "save", "trash"
]
ICON_NAMES: Final[tuple[str, ...]] = get_args(IconName)


def _pen(color: QColor, width: float) -> QPen:
    pen = QPen(color, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def _check_name(name: str) -> None:
    if name not in ICON_NAMES:
        raise ValueError(f"icon: must be one of {', '.join(ICON_NAMES)}, got {name!r}")


def paint_icon(painter: QPainter, rect: QRectF, name: str, color: QColor | str) -> None:
    """Draw icon ``name`` centred in ``rect`` with ``color``.

    The glyphs of filled icons are cut out (transparent), so the icon is rendered on
    its own pixmap first and then drawn: the widget background shows through.

    Raises:
        ValueError: ``name`` is not one of ``ICON_NAMES``.
    """
    _check_name(name)
    side = int(min(rect.width(), rect.height()))
    if side <= 0:
        return
    dpr = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
    pixmap = icon_pixmap(name, side, color, dpr)
    target = QRectF(0, 0, side, side)
    target.moveCenter(rect.center())
    painter.drawPixmap(target.topLeft(), pixmap)


def _draw_icon(painter: QPainter, rect: QRectF, name: str, color: QColor | str) -> None:
    col = QColor(color)
    side = min(rect.width(), rect.height())
    box = QRectF(0, 0, side, side)
    box.moveCenter(rect.center())
    stroke = max(1.5, side / 10)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    x, y, s = box.x(), box.y(), side

    def pt(fx: float, fy: float) -> QPointF:
        return QPointF(x + fx * s, y + fy * s)

    if name in ("info", "success", "error"):
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(col)
        painter.drawEllipse(box.adjusted(s * 0.04, s * 0.04, -s * 0.04, -s * 0.04))
        # The glyph is cut out of the disc, so it shows the background in any theme.
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Clear)
        painter.setPen(_pen(col, stroke * 1.1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if name == "info":
            painter.drawLine(pt(0.5, 0.46), pt(0.5, 0.72))
            painter.drawPoint(pt(0.5, 0.3))
        elif name == "success":
            painter.drawPolyline(QPolygonF([pt(0.3, 0.52), pt(0.44, 0.66), pt(0.71, 0.37)]))
        else:
            painter.drawLine(pt(0.35, 0.35), pt(0.65, 0.65))
            painter.drawLine(pt(0.65, 0.35), pt(0.35, 0.65))
    elif name == "warning":
        path = QPainterPath()
        path.addPolygon(QPolygonF([pt(0.5, 0.06), pt(0.96, 0.9), pt(0.04, 0.9), pt(0.5, 0.06)]))
        painter.setPen(_pen(col, stroke * 0.6))
        painter.setBrush(col)
        painter.drawPath(path)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Clear)
        painter.setPen(_pen(col, stroke * 1.1))
        painter.drawLine(pt(0.5, 0.36), pt(0.5, 0.6))
        painter.drawPoint(pt(0.5, 0.76))
    elif name in ("close", "trash"):
        painter.setPen(_pen(col, stroke))
        if name == "close":
            painter.drawLine(pt(0.22, 0.22), pt(0.78, 0.78))
            painter.drawLine(pt(0.78, 0.22), pt(0.22, 0.78))
        else:
            painter.drawLine(pt(0.18, 0.26), pt(0.82, 0.26))
            painter.drawLine(pt(0.4, 0.14), pt(0.6, 0.14))
            painter.drawPolyline(
                QPolygonF([pt(0.26, 0.26), pt(0.32, 0.88), pt(0.68, 0.88), pt(0.74, 0.26)])
            )
    elif name == "plus":
        painter.setPen(_pen(col, stroke))
        painter.drawLine(pt(0.5, 0.18), pt(0.5, 0.82))
        painter.drawLine(pt(0.18, 0.5), pt(0.82, 0.5))
    elif name == "arrow_right":
        painter.setPen(_pen(col, stroke))
        painter.drawLine(pt(0.16, 0.5), pt(0.82, 0.5))
        painter.drawPolyline(QPolygonF([pt(0.56, 0.24), pt(0.82, 0.5), pt(0.56, 0.76)]))
    elif name == "check":
        painter.setPen(_pen(col, stroke))
        painter.drawPolyline(QPolygonF([pt(0.18, 0.52), pt(0.4, 0.74), pt(0.82, 0.3)]))
    elif name == "save":
        painter.setPen(_pen(col, stroke * 0.8))
        painter.drawRoundedRect(QRectF(pt(0.16, 0.16), pt(0.84, 0.84)), s * 0.08, s * 0.08)
        painter.drawRect(QRectF(pt(0.32, 0.16), pt(0.64, 0.38)))
        painter.drawRect(QRectF(pt(0.3, 0.56), pt(0.7, 0.84)))
    painter.restore()


def paint_spinner(painter: QPainter, rect: QRectF, angle: float, color: QColor | str) -> None:
    """Draw a busy spinner (a three-quarter arc) rotated by ``angle`` degrees."""
    side = min(rect.width(), rect.height())
    box = QRectF(0, 0, side, side)
    box.moveCenter(rect.center())
    stroke = max(2.0, side / 8)
    inner = box.adjusted(stroke / 2, stroke / 2, -stroke / 2, -stroke / 2)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    track = QColor(color)
    track.setAlphaF(0.3)
    painter.setPen(_pen(track, stroke))
    painter.drawEllipse(inner)
    painter.setPen(_pen(QColor(color), stroke))
    # Qt angles are in 1/16 degree, counter-clockwise; spin clockwise.
    painter.drawArc(inner, int(-angle * 16) + 90 * 16, -270 * 16 // 3)
    painter.restore()


def icon_pixmap(
    name: str, size: int, color: QColor | str, device_pixel_ratio: float = 1.0
) -> QPixmap:
    """A transparent pixmap of icon ``name``, ``size`` logical pixels square."""
    _check_name(name)
    pixels = max(1, round(size * device_pixel_ratio))
    pixmap = QPixmap(pixels, pixels)
    pixmap.setDevicePixelRatio(device_pixel_ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    _draw_icon(painter, QRectF(0, 0, size, size), name, color)
    painter.end()
    return pixmap


def make_icon(name: str, size: int, color: QColor | str) -> QIcon:
    """A QIcon of ``name`` (for stock widgets such as toolbar buttons)."""
    return QIcon(icon_pixmap(name, size, color, 2.0))
