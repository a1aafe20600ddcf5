"""The grid's pager: "1-20 of 12,345", first/previous/next/last, jump to page, page size."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QToolButton,
    QWidget,
)

from widgets.datagrid.state import PAGE_SIZES
from widgets.tokens import Spacing


def range_text(first: int, last: int, total: int) -> str:
    """Like "1-20 of 12,345" with an en dash (1-based, inclusive); "0 of 0" when empty."""
    if total == 0:
        return "0 of 0"
    return f"{first:,}\u2013{last:,} of {total:,}"


class PagerBar(QWidget):
    """Page navigation for a grid; it shows what it is told and reports what the user asks.

    Signals:
        sig_page_requested(int): the user asked for this 1-based page.
        sig_page_size_requested(object): the user picked a page size (int, or None = continuous).
    """

    sig_page_requested = Signal(int)
    sig_page_size_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dataGridPager")
        self._page = 1
        self._count = 1
        self._range = QLabel(self)
        self._range.setObjectName("dataGridRange")
        self._first = self._button("«", "First page", lambda: self.sig_page_requested.emit(1))
        self._previous = self._button(
            "\u2039", "Previous page", lambda: self.sig_page_requested.emit(self._page - 1)
        )
        self._spin = QSpinBox(self)
        self._spin.setAccessibleName("Page number")
        self._spin.lineEdit().setAccessibleName("Page number")
        self._spin.setKeyboardTracking(False)
        self._spin.setMinimum(1)
        self._spin.valueChanged.connect(self._on_spin)
        self._of = QLabel(self)
        self._next = self._button(
            "\u203a", "Next page", lambda: self.sig_page_requested.emit(self._page + 1)
        )
        self._last = self._button(
            "»", "Last page", lambda: self.sig_page_requested.emit(self._count)
        )
        self._size = QComboBox(self)
        self._size.setAccessibleName("Rows per page")
        for size in PAGE_SIZES:
            # 0 stands for continuous: a combo cannot find None among its item data.
            self._size.addItem("Continuous" if size is None else f"{size} per page", size or 0)
        self._size.activated.connect(
            lambda i: self.sig_page_size_requested.emit(self._size.itemData(i) or None)
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(Spacing.SM)
        layout.addWidget(self._range)
        layout.addStretch(1)
        layout.addWidget(self._size)
        for widget in (self._first, self._previous, self._spin, self._of, self._next, self._last):
            layout.addWidget(widget)

    def _button(self, text: str, name: str, slot: object) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(name)
        button.setAccessibleName(name)
        button.clicked.connect(slot)
        return button

    def _on_spin(self, value: int) -> None:
        if value != self._page:
            self.sig_page_requested.emit(value)

    def set_sizes_visible(self, visible: bool) -> None:
        """Offer the page-size choice (hidden when the grid does not paginate)."""
        self._size.setVisible(visible)

    def range_label(self) -> str:
        """The "1-20 of 12,345" text shown."""
        return self._range.text()

    def update_state(
        self, page: int, page_count: int, first: int, last: int, total: int, page_size: int | None
    ) -> None:
        """Show ``page`` of ``page_count`` and rows ``first..last`` of ``total``."""
        self._page, self._count = page, page_count
        paged = page_size is not None
        self._range.setText(range_text(first, last, total) if paged else f"{total:,} rows")
        for widget in (self._first, self._previous, self._spin, self._of, self._next, self._last):
            widget.setVisible(paged)
        self._spin.blockSignals(True)
        self._spin.setMaximum(max(page_count, 1))
        self._spin.setValue(page)
        self._spin.blockSignals(False)
        self._of.setText(f"of {page_count:,}")
        self._first.setEnabled(page > 1)
        self._previous.setEnabled(page > 1)
        self._next.setEnabled(page < page_count)
        self._last.setEnabled(page < page_count)
        index = self._size.findData(page_size or 0)
        if index < 0:
            self._size.addItem(f"{page_size} per page", page_size or 0)
            index = self._size.count() - 1
        self._size.setCurrentIndex(index)
