"""The grid's QTableView: fixed row heights, paging keys, and row announcements."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget


class GridTable(QTableView):
    """A table view for the grid; never resizes rows to contents (22 s at 100k rows).

    Signals:
        sig_page_key_pressed(int): PageUp (-1) or PageDown (+1) while paging.
        sig_toggle_requested(int): Space on a row (toggle its selection checkbox).
        sig_select_page_requested(): Ctrl+A (select every row of the page).
    """

    sig_page_key_pressed = Signal(int)
    sig_toggle_requested = Signal(int)
    sig_select_page_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dataGridTable")
        self.paging = True
        self.checkable = False
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setSortingEnabled(False)  # the grid sorts; the view only reports header clicks
        vertical = self.verticalHeader()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 10)
        vertical.hide()
        header = self.horizontalHeader()
        header.setSectionsMovable(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        header.setSortIndicatorShown(False)  # ▲/▼ with numbers come from the model's headers
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        mods = event.modifiers()
        if self.paging and key in (Qt.Key.Key_PageUp, Qt.Key.Key_PageDown) and not mods:
            self.sig_page_key_pressed.emit(-1 if key == Qt.Key.Key_PageUp else 1)
            event.accept()
            return
        if self.checkable and key == Qt.Key.Key_Space and self.currentIndex().isValid():
            self.sig_toggle_requested.emit(self.currentIndex().row())
            event.accept()
            return
        if self.checkable and key == Qt.Key.Key_A and mods & Qt.KeyboardModifier.ControlModifier:
            self.sig_select_page_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def currentChanged(
        self,
        current: QModelIndex | QPersistentModelIndex,
        previous: QModelIndex | QPersistentModelIndex,
    ) -> None:
        super().currentChanged(current, previous)
        model = self.model()
        if model is None or not current.isValid():
            return
        title = model.headerData(current.column(), Qt.Orientation.Horizontal)
        row = model.headerData(current.row(), Qt.Orientation.Vertical)
        text = model.data(current, Qt.ItemDataRole.AccessibleTextRole)
        # Screen readers read the description of the focused view on change.
        self.setAccessibleDescription(f"Row {row}, {title}: {text}")
