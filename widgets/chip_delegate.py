"""ChipDelegate: paints a column of an item view as status chips (see ``StatusChip``).

The model says the text (``DisplayRole``) and the tone (``TONE_ROLE``); a cell without a
tone is painted as plain text, so one column can mix chips and ordinary values (e.g. a
waiting time that becomes a warning chip past a threshold).
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from widgets.status_chip import TONES, chip_size, paint_chip
from widgets.theme import current_colors
from widgets.tokens import Spacing

#: The item data role that carries a cell's tone (a ``StatusChip`` tone name or None).
TONE_ROLE: Final = int(Qt.ItemDataRole.UserRole) + 41

Index = QModelIndex | QPersistentModelIndex


class ChipDelegate(QStyledItemDelegate):
    """Draws the cells of the columns it is set on as chips when they carry a tone.

    Args:
        parent: usually the view.

    Signals:
        None: painting only.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        tone = index.data(TONE_ROLE)
        if tone not in TONES:
            super().paint(painter, option, index)
            return
        # The selection and focus backgrounds first, then the chip on top.
        background = QStyleOptionViewItem(option)
        self.initStyleOption(background, index)
        background.text = ""
        widget = option.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, background, painter, widget)
        rect = option.rect.adjusted(Spacing.XS, 0, -Spacing.XS, 0)
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        paint_chip(painter, rect, text, str(tone), current_colors(), option.font)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        tone = index.data(TONE_ROLE)
        if tone not in TONES:
            return super().sizeHint(option, index)
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        size = chip_size(text, option.font)
        return QSize(size.width() + 2 * Spacing.XS, size.height() + Spacing.XS)
