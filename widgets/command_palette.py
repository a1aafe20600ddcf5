"""CommandPalette: type a few letters, pick a screen, a record or an action with Enter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from widgets.text_order import fold_text
from widgets.tokens import Spacing

#: How long typing must pause before the owner is asked for results (milliseconds).
QUERY_DELAY_MS = 150
ROW_HEIGHT = 30
HEADING_HEIGHT = 26


@dataclass(frozen=True, slots=True)
class PaletteItem:
    """One thing the palette offers.

    Attributes:
        key: what the owner uses to act on it ("page:today", "client:12").
        title: the main text ("Today", "Ada Lovelace").
        detail: a muted second part ("07700 900123 · ada@example.org").
        group: the heading it is listed under ("Go to", "Actions", "Clients").
        shortcut: the key that does the same without the palette ("Ctrl+N").
    """

    key: str
    title: str
    detail: str = ""
    group: str = ""
    shortcut: str = ""

    def label(self) -> str:
        parts = [self.title]
        if self.detail:
            parts.append(f"— {self.detail}")
        text = "  ".join(parts)
        return f"{text}    {self.shortcut}" if self.shortcut else text


def matches(item: PaletteItem, query: str) -> bool:
    """Every word of ``query`` appears in the item's title, detail or group (accents and
    case ignored)."""
    haystack = fold_text(f"{item.title} {item.detail} {item.group}")
    return all(word in haystack for word in fold_text(query).split())


class CommandPalette(QDialog):
    """A search box over a list: fixed commands filtered as you type, plus results the
    owner looks up (off the UI thread) and hands back with :meth:`set_results`.

    Up and Down move through the list while the typing stays in the box; Enter picks the
    highlighted item and closes; Escape closes without picking.

    Args:
        commands: the fixed items (screens, actions), always filtered locally.
        placeholder: the search box's placeholder text.
        parent: the parent widget.

    Signals:
        sig_query_changed(str): the typing paused on this text; answer with set_results.
        sig_item_chosen(object): the PaletteItem picked.
    """

    sig_query_changed = Signal(str)
    sig_item_chosen = Signal(object)

    def __init__(
        self,
        commands: Sequence[PaletteItem] = (),
        *,
        placeholder: str = "Type to search…",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("commandPalette")
        self.setWindowTitle("Command palette")
        self.setAccessibleName("Command palette")
        self.setMinimumWidth(560)
        self._commands = tuple(commands)
        self._results: tuple[PaletteItem, ...] = ()
        self._results_for = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(Spacing.MD, Spacing.MD, Spacing.MD, Spacing.MD)
        layout.setSpacing(Spacing.SM)
        self.search = QLineEdit()
        self.search.setPlaceholderText(placeholder)
        self.search.setAccessibleName("Search screens, records and actions")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setAccessibleName("Matches")
        self.list.setUniformItemSizes(True)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the typing stays in the box
        self.status = QLabel("")
        self.status.setObjectName("paletteStatus")
        self.status.setAccessibleName("Palette status")
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.status)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(QUERY_DELAY_MS)
        self._timer.timeout.connect(lambda: self.sig_query_changed.emit(self.search.text()))
        self.search.textChanged.connect(self._on_text_changed)
        self.search.installEventFilter(self)
        self.list.itemActivated.connect(self._choose_item)
        self.list.itemClicked.connect(self._choose_item)
        self.resize(620, 420)
        self._rebuild()

    # Public API ---------------------------------------------------------------
    def set_results(self, query: str, items: Sequence[PaletteItem]) -> None:
        """Show ``items`` found for ``query`` (ignored if the text has changed since)."""
        if query != self.search.text():
            return
        self._results, self._results_for = tuple(items), query
        self._rebuild()

    def set_status(self, text: str) -> None:
        """A line under the list ("Searching…", "The database did not answer")."""
        self.status.setText(text)

    def visible_items(self) -> list[PaletteItem]:
        """The items listed now, in order (headings left out)."""
        found = []
        for row in range(self.list.count()):
            data = self.list.item(row).data(Qt.ItemDataRole.UserRole)
            if isinstance(data, PaletteItem):
                found.append(data)
        return found

    def current_item(self) -> PaletteItem | None:
        item = self.list.currentItem()
        data = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return data if isinstance(data, PaletteItem) else None

    def choose_current(self) -> None:
        """Pick the highlighted item (Enter)."""
        item = self.current_item()
        if item is not None:
            self.accept()
            self.sig_item_chosen.emit(item)

    # Internals ----------------------------------------------------------------
    def _on_text_changed(self, text: str) -> None:
        if text.strip():
            self._timer.start()
        else:
            self._results, self._results_for = (), ""
        self._rebuild()

    def _rebuild(self) -> None:
        query = self.search.text().strip()
        commands = [c for c in self._commands if matches(c, query)] if query else self._commands
        results = self._results if self._results_for == self.search.text() else ()
        self.list.clear()
        group = None
        first: QListWidgetItem | None = None
        for entry in (*results, *commands):
            if entry.group and entry.group != group:
                group = entry.group
                heading = QListWidgetItem(group.upper())
                heading.setFlags(Qt.ItemFlag.NoItemFlags)
                font = heading.font()
                font.setBold(True)
                font.setPointSizeF(font.pointSizeF() * 0.85)
                heading.setFont(font)
                heading.setSizeHint(QSize(0, HEADING_HEIGHT))
                self.list.addItem(heading)
            row = QListWidgetItem(entry.label())
            row.setData(Qt.ItemDataRole.UserRole, entry)
            row.setToolTip(entry.detail or entry.title)
            row.setSizeHint(QSize(0, ROW_HEIGHT))
            self.list.addItem(row)
            first = first or row
        if first is not None:
            self.list.setCurrentItem(first)
        elif query:
            self.set_status("Nothing matches yet.")
        if first is not None:
            self.set_status("")

    def _move(self, step: int) -> None:
        row = self.list.currentRow()
        count = self.list.count()
        for _ in range(count):
            row = (row + step) % count if count else -1
            item = self.list.item(row)
            if item is not None and item.flags() & Qt.ItemFlag.ItemIsSelectable:
                self.list.setCurrentRow(row)
                return

    def _choose_item(self, item: QListWidgetItem) -> None:
        if isinstance(item.data(Qt.ItemDataRole.UserRole), PaletteItem):
            self.list.setCurrentItem(item)
            self.choose_current()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                self._move(1 if key == Qt.Key.Key_Down else -1)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.choose_current()
                return True
        return super().eventFilter(watched, event)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.search.setFocus(Qt.FocusReason.PopupFocusReason)
        self.search.selectAll()
