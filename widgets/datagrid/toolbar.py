"""The grid's top bar: search, clear filters, saved views, export (with progress and cancel)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QMenu,
    QProgressBar,
    QPushButton,
    QToolButton,
    QWidget,
)

from widgets.tokens import Spacing

SEARCH_DEBOUNCE_MS = 200
DELETE_VIEW = "Delete a saved view…"
EXPORT_FORMATS = (("csv", "CSV (*.csv)"), ("xlsx", "Excel (*.xlsx)"), ("pdf", "PDF (*.pdf)"))


class GridToolbar(QWidget):
    """Search box and grid-wide actions; it reports what the user asks for.

    Signals:
        sig_search_changed(str): the search text, after typing pauses (or at once on Enter).
        sig_search_submitted(): Enter or Down in the search box: go to the rows.
        sig_clear_filters_clicked(): "Clear filters" was clicked.
        sig_view_chosen(str): a saved view was picked.
        sig_save_view_requested(str): "Save view…" was confirmed with this name.
        sig_delete_view_requested(str): "Delete a saved view…" was confirmed for this view.
        sig_export_requested(str): export to this path (its suffix names the format).
        sig_export_cancelled(): the running export's Cancel was clicked.
    """

    sig_search_changed = Signal(str)
    sig_search_submitted = Signal()
    sig_clear_filters_clicked = Signal()
    sig_view_chosen = Signal(str)
    sig_save_view_requested = Signal(str)
    sig_delete_view_requested = Signal(str)
    sig_export_requested = Signal(str)
    sig_export_cancelled = Signal()

    def __init__(self, enable_filtering: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dataGridToolbar")
        self._search = QLineEdit(self)
        self._search.setObjectName("dataGridSearch")
        self._search.setPlaceholderText("Search…")
        self._search.setAccessibleName("Search rows")
        self._search.setClearButtonEnabled(True)
        self._search.setVisible(enable_filtering)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(lambda: self.sig_search_changed.emit(self._search.text()))
        self._search.textEdited.connect(lambda _t: self._debounce.start())
        # Enter or Down in the search box: search now (no waiting for the pause) and go
        # to the rows, so "type, Enter, Enter" opens what was searched for.
        self._search.returnPressed.connect(self._submit_search)
        self._search.installEventFilter(self)
        self._clear = QPushButton("Clear filters", self)
        self._clear.setVisible(enable_filtering)
        self._clear.clicked.connect(self.sig_clear_filters_clicked)
        self._views = QComboBox(self)
        self._views.setAccessibleName("Saved views")
        self._views.activated.connect(self._on_view_activated)
        self._view_names: list[str] = []
        self._save_view = QPushButton("Save view…", self)
        self._save_view.clicked.connect(self._ask_view_name)
        self._export = QToolButton(self)
        self._export.setText("Export")
        self._export.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self._export)
        for suffix, label in EXPORT_FORMATS:
            action = menu.addAction(label.split(" ")[0])
            action.triggered.connect(partial(self._ask_path, suffix, label))
        self._export.setMenu(menu)
        self._progress = QProgressBar(self)
        self._progress.setAccessibleName("Export progress")
        self._progress.setMaximumWidth(160)
        self._progress.hide()
        self._cancel = QPushButton("Cancel", self)
        self._cancel.clicked.connect(self.sig_export_cancelled)
        self._cancel.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(Spacing.SM)
        layout.addWidget(self._search, 1)
        layout.addWidget(self._clear)
        layout.addStretch(0)
        layout.addWidget(self._views)
        layout.addWidget(self._save_view)
        layout.addWidget(self._progress)
        layout.addWidget(self._cancel)
        layout.addWidget(self._export)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self._search
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Down
            and event.modifiers() == Qt.KeyboardModifier.NoModifier
        ):
            self._submit_search()
            return True
        return super().eventFilter(watched, event)

    def search_box(self) -> QLineEdit:
        """The search field."""
        return self._search

    def _submit_search(self) -> None:
        if self._debounce.isActive():
            self._debounce.stop()
            self.sig_search_changed.emit(self._search.text())
        self.sig_search_submitted.emit()

    def set_search_text(self, text: str) -> None:
        """Show ``text`` in the search box without emitting a change."""
        self._debounce.stop()
        if self._search.text() != text:
            self._search.setText(text)

    def set_filtered(self, filtered: bool) -> None:
        """Enable "Clear filters" when something is filtered."""
        self._clear.setEnabled(filtered)

    def set_views(self, names: Sequence[str]) -> None:
        """Offer these saved views (and, after them, deleting one)."""
        self._view_names = list(names)
        self._views.clear()
        self._views.addItem("Views…" if names else "No saved views")
        for name in names:
            self._views.addItem(name)
        if names:
            self._views.insertSeparator(self._views.count())
            self._views.addItem(DELETE_VIEW)
        self._views.setEnabled(bool(names))

    def set_export_progress(self, done: int, total: int) -> None:
        """Show an export's progress; ``total`` < 0 hides the bar."""
        running = total >= 0
        self._progress.setVisible(running)
        self._cancel.setVisible(running)
        self._export.setEnabled(not running)
        if running:
            self._progress.setRange(0, max(total, 1))
            self._progress.setValue(done)

    def export_progress(self) -> tuple[int, int] | None:
        """(done, total) of the running export, None when none runs."""
        if not self._progress.isVisibleTo(self):
            return None
        return self._progress.value(), self._progress.maximum()

    def _on_view_activated(self, index: int) -> None:
        text = self._views.itemText(index)
        self._views.setCurrentIndex(0)
        if text == DELETE_VIEW and index == self._views.count() - 1:
            name, ok = QInputDialog.getItem(
                self, "Delete a saved view", "View to delete:", self._view_names, 0, False
            )
            if ok and name:
                self.sig_delete_view_requested.emit(name)
        elif 0 < index <= len(self._view_names):
            self.sig_view_chosen.emit(text)

    def _ask_view_name(self) -> None:
        name, ok = QInputDialog.getText(self, "Save view", "Name of the view:")
        if ok and name.strip():
            self.sig_save_view_requested.emit(name.strip())

    def _ask_path(self, suffix: str, label: str, _checked: bool = False) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export rows", f"export.{suffix}", label)
        if path:
            if not path.lower().endswith(f".{suffix}"):
                path += f".{suffix}"
            self.sig_export_requested.emit(path)
