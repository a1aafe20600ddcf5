"""Specimen sheets of the design system: every icon, and the tokens (palette, type scale,
spacing, radii) drawn with themselves, for the gallery and for anyone choosing a token."""

from __future__ import annotations

from dataclasses import fields
from typing import Final

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from widgets.icons import ICON_NAMES, paint_icon
from widgets.theme import current_colors
from widgets.tokens import Colors, FontSize, Radius, Spacing

SHEETS: Final = ("palette", "type", "spacing", "radii")


class _Swatch(QWidget):
    """One token drawn as itself: a colour, a spacing bar or a rounded corner."""

    def __init__(self, kind: str, value: str | int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._kind, self._value = kind, value
        self.setFixedSize(QSize(96, 28) if kind != "radius" else QSize(48, 48))

    def paintEvent(self, event: QPaintEvent) -> None:
        colors = current_colors()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QColor(colors.border))
        box = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        if self._kind == "color":
            painter.setBrush(QColor(str(self._value)))
            painter.drawRect(box)
        elif self._kind == "spacing":
            painter.setBrush(QColor(colors.primary))
            painter.drawRect(QRectF(0.5, 8.5, float(self._value), 11))
        else:
            painter.setBrush(QColor(colors.surface_alt))
            painter.drawRoundedRect(box, float(self._value), float(self._value))


def _constants(holder: type) -> list[tuple[str, int]]:
    return [(n, v) for n, v in vars(holder).items() if n.isupper() and isinstance(v, int)]


class TokenSheet(QWidget):
    """The design tokens of ``widgets.tokens``, each shown with its name and value.

    ``palette`` shows every colour token of the active theme (the ``Colors`` fields, so a
    new token appears by itself), ``type`` the font sizes as text at that size,
    ``spacing`` the 4 px spacing steps as bars, ``radii`` the corner radii.

    Args:
        sheet: one of ``SHEETS``.
        parent: the parent widget.

    Raises:
        ValueError: an unknown sheet.
    """

    def __init__(self, sheet: str = "palette", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if sheet not in SHEETS:
            raise ValueError(f"sheet: must be one of {', '.join(SHEETS)}, got {sheet!r}")
        self.sheet = sheet
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(Spacing.MD)
        grid.setVerticalSpacing(Spacing.SM)
        rows: list[tuple[str, str, QWidget]] = []
        if sheet == "palette":
            colors = current_colors()
            for f in fields(Colors):
                value = getattr(colors, f.name)
                rows.append((f.name, value, _Swatch("color", value)))
        elif sheet == "type":
            for name, size in _constants(FontSize):
                sample = QLabel("Bella · Labrador · 28 kg")
                font = QFont(sample.font())
                font.setPixelSize(size)
                sample.setFont(font)
                rows.append((f"FontSize.{name}", f"{size} px", sample))
        else:
            holder, kind = (Spacing, "spacing") if sheet == "spacing" else (Radius, "radius")
            for name, value in _constants(holder):
                rows.append((f"{holder.__name__}.{name}", f"{value} px", _Swatch(kind, value)))
        for row, (name, value, swatch) in enumerate(rows):
            grid.addWidget(swatch, row, 0, Qt.AlignmentFlag.AlignLeft)
            grid.addWidget(QLabel(name), row, 1)
            grid.addWidget(QLabel(value), row, 2)
        grid.setColumnStretch(3, 1)

    def token_count(self) -> int:
        """How many tokens the sheet shows."""
        layout = self.layout()
        return 0 if layout is None else layout.count() // 3


class _IconTile(QWidget):
    def __init__(self, name: str, size: int, color: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._name, self._color = name, color
        self.setFixedSize(size, size)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        paint_icon(painter, QRectF(self.rect()), self._name, QColor(self._color))


class IconSheet(QWidget):
    """Every icon of ``widgets.icons`` (``ICON_NAMES``) with its name.

    Icons are drawn, not shipped as bitmaps, so one shape serves every size and theme;
    the colour always comes from a token (``paint_icon(painter, rect, name, color)``,
    ``make_icon(name, size, color)`` for a QIcon).

    Args:
        size: the icon size in pixels.
        color: the token whose colour the icons are drawn in (a ``Colors`` field).
        columns: icons per row.
        parent: the parent widget.

    Raises:
        ValueError: an unknown colour token or a size or column count out of range.
    """

    def __init__(
        self,
        size: int = 24,
        color: str = "text",
        columns: int = 5,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        tokens = {f.name for f in fields(Colors)}
        if color not in tokens:
            raise ValueError(
                f"color: must be a colour token such as text or primary, not {color!r}"
            )
        if not 8 <= size <= 128:
            raise ValueError(f"size: must be between 8 and 128 pixels, not {size}")
        if not 1 <= columns <= 12:
            raise ValueError(f"columns: must be between 1 and 12, not {columns}")
        value = getattr(current_colors(), color)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(Spacing.LG)
        for index, name in enumerate(ICON_NAMES):
            cell = QWidget()
            cell_layout = QVBoxLayout(cell)
            cell_layout.setContentsMargins(0, 0, 0, 0)
            cell_layout.addWidget(_IconTile(name, size, value), 0, Qt.AlignmentFlag.AlignHCenter)
            label = QLabel(name)
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            cell_layout.addWidget(label)
            grid.addWidget(cell, index // columns, index % columns)
