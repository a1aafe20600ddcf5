"""The grid's QTableView: fixed row heights, paging keys, and row announcements."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from widgets.datagrid.header import GridHeader, is_menu_key

ROW_TO_TEXT = 24 / 14


class GridTable(QTableView):
    """A table view for the grid; never resizes rows to contents (22 s at 100k rows).

    Signals:
        sig_page_key_pressed(int): PageUp (-1) or PageDown (+1) while paging.
        sig_toggle_requested(int): Space on a row (toggle its selection checkbox).
        sig_select_page_requested(): Ctrl+A (select every row of the page).
        sig_header_menu_requested(int): the Menu key or Shift+F10 on a cell of this column.
    """

    sig_page_key_pressed = Signal(int)
    sig_toggle_requested = Signal(int)
    sig_select_page_requested = Signal()
    sig_header_menu_requested = Signal(int)

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
        # Tab moves on to the next control (the pager), Shift+Tab back to the header: arrows
        # move between cells. One fix here for every grid in the app.
        self.setTabKeyNavigation(False)
        self.setHorizontalHeader(GridHeader(self))
        vertical = self.verticalHeader()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self._fit_rows_to_font()
        vertical.hide()
        header = self.horizontalHeader()
        header.setSectionsMovable(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        header.setSortIndicatorShown(False)  # ▲/▼ with numbers come from the model's headers
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def _fit_rows_to_font(self) -> None:
        # Text plus padding in proportion (24 px at the 14 px default font height), so a
        # scaled-up font gets scaled-up padding too.
        self.verticalHeader().setDefaultSectionSize(
            round(self.fontMetrics().height() * ROW_TO_TEXT)
        )

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # Fixed row heights (ResizeToContents costs seconds at 100k rows) follow the font,
        # which a style sheet may change after construction (a larger base size, a scale).
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit_rows_to_font()

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
        if is_menu_key(event):
            current = self.currentIndex()
            column = (
                current.column() if current.isValid() else self.horizontalHeader().logicalIndexAt(0)
            )
            self.sig_header_menu_requested.emit(column)
            event.accept()
            return
        if self.checkable and key == Qt.Key.Key_A and mods & Qt.KeyboardModifier.ControlModifier:
            self.sig_select_page_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def focusNextPrevChild(self, next: bool) -> bool:
        # Tab: past the header (a child of the table, next in Qt's chain) to the next control;
        # Shift+Tab: the header, which comes before the rows.
        header = self.horizontalHeader()
        if next:
            return self.focus_outside(forward=True)
        if header.isVisible():
            header.setFocus(Qt.FocusReason.BacktabFocusReason)
            return True
        return self.focus_outside(forward=False)

    def focus_outside(self, forward: bool) -> bool:
        """Focus the next (or previous) Tab-focusable control outside the table, as Tab and
        Shift+Tab do; False when there is none."""
        widget: QWidget = self
        reason = Qt.FocusReason.TabFocusReason if forward else Qt.FocusReason.BacktabFocusReason
        for _ in range(10_000):  # the chain is a ring; never spin on a broken one
            following = widget.nextInFocusChain() if forward else widget.previousInFocusChain()
            if following is None or following is self:
                return False
            widget = following
            if (
                not self.isAncestorOf(widget)
                and widget.focusPolicy() & Qt.FocusPolicy.TabFocus
                and widget.isVisible()
                and widget.isEnabled()
            ):
                widget.setFocus(reason)
                return True
        return False

    def horizontalHeader(self) -> GridHeader:
        header = super().horizontalHeader()
        assert isinstance(header, GridHeader)
        return header

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
