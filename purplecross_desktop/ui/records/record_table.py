"""A read-only history table for the record dialogs: Tab leaves it, Enter opens a row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

ROW_HEIGHT = 30


def caption_label(text: str) -> QLabel:
    """A small muted caption above a value ("Phones" over the numbers)."""
    from widgets.theme import current_colors

    label = QLabel(text)
    label.setObjectName("fieldCaption")
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 0.9)
    font.setBold(True)
    label.setFont(font)
    label.setStyleSheet(f"color: {current_colors().text_muted};")
    return label


class RecordTable(QStackedWidget):
    """A table of rows, or a quiet sentence when there are none.

    Args:
        name: the accessible name ("Pets").
        headers: the column titles.
        empty_text: what to say when there are no rows ("No invoices yet").
        numeric: indexes of columns to right-align (amounts).

    Signals:
        sig_row_activated(int): Enter or a double-click on a row (its index).
    """

    sig_row_activated = Signal(int)

    def __init__(
        self,
        name: str,
        headers: Sequence[str],
        empty_text: str,
        *,
        numeric: Sequence[int] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.table = _Table(self)
        self.table.setAccessibleName(name)
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(list(headers))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table, arrows move in it
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft)
        self.table.sig_enter.connect(self._activate_current)
        self.table.doubleClicked.connect(lambda index: self.sig_row_activated.emit(index.row()))
        self.empty = QLabel(empty_text)
        self.empty.setObjectName("emptyState")
        self.empty.setAccessibleName(f"{name}: {empty_text}")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.addWidget(self.table)
        self.addWidget(self.empty)
        self._numeric = set(numeric)
        self.setCurrentWidget(self.empty)

    def set_rows(self, rows: Sequence[Sequence[Any]]) -> None:
        """Replace the rows (each a sequence of display values)."""
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                item = QTableWidgetItem("" if value is None else str(value))
                if c in self._numeric:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(r, c, item)
        self.setCurrentWidget(self.table if rows else self.empty)
        if rows:
            self.table.setCurrentCell(0, 0)

    def set_widths(self, widths: Sequence[int]) -> None:
        for column, width in enumerate(widths):
            self.table.setColumnWidth(column, width)

    def row_count(self) -> int:
        return self.table.rowCount()

    def text(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text() if item is not None else ""

    def focus_widget(self) -> QWidget:
        """What takes the focus for this tab (the table, or the sentence when empty)."""
        return self.table if self.table.rowCount() else self.empty

    def _activate_current(self) -> None:
        row = self.table.currentRow()
        if row >= 0:
            self.sig_row_activated.emit(row)


class _Table(QTableWidget):
    sig_enter = Signal()

    def keyPressEvent(self, event: Any) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.sig_enter.emit()
            event.accept()
            return
        super().keyPressEvent(event)
