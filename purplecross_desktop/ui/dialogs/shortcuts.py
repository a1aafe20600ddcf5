"""The keyboard shortcuts help (F1): every key the desk uses, in one table."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from widgets.button import Button
from widgets.tokens import Spacing

#: (where, keys, what they do), in the order a receptionist meets them.
SHORTCUTS: tuple[tuple[str, str, str], ...] = (
    ("Everywhere", "Ctrl+K", "Command palette: go to a screen, client or patient; book, check in"),
    ("Everywhere", "Ctrl+F", "Search the list on this screen (the palette where there is none)"),
    ("Everywhere", "Ctrl+N", "New client / patient / staff member on that screen"),
    ("Everywhere", "F5", "Refresh this screen"),
    ("Everywhere", "Ctrl+1 … Ctrl+9", "Go to the screen at that place in the navigation"),
    ("Everywhere", "Ctrl+L", "Lock the screen"),
    ("Everywhere", "F1", "This list"),
    ("Lists", "Enter", "Open the selected row's record"),
    ("Lists", "Tab / Shift+Tab", "Move between search, table and buttons (never trapped)"),
    ("Lists", "Page Up / Page Down", "Previous / next page"),
    ("Today", "Enter", "Next step of the appointment: check in, start, complete"),
    ("Today", "Alt+C, Alt+S, Alt+M", "Check in, start consult, complete"),
    ("Records", "Ctrl+E", "Edit the client or patient"),
    ("Records", "Ctrl+B", "Book an appointment"),
    ("Records", "Ctrl+O", "Open the patient's owner"),
    ("Records", "Ctrl+R", "Run a workflow for the client or patient (admins, practice managers)"),
    ("Dialogs", "Enter", "Save (or the highlighted button)"),
    ("Dialogs", "Escape", "Close without saving"),
    ("Dialogs", "Alt+underlined letter", "Jump to that field"),
)


class ShortcutsDialog(QDialog):
    """A read-only table of :data:`SHORTCUTS`; Escape or Enter closes it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.setAccessibleName("Keyboard shortcuts")
        self.resize(720, 600)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(Spacing.XL, Spacing.LG, Spacing.XL, Spacing.LG)
        layout.setSpacing(Spacing.MD)
        heading = QLabel("Keyboard shortcuts")
        heading.setObjectName("dialogHeading")
        font = heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        heading.setFont(font)
        layout.addWidget(heading)
        self.table = QTableWidget(len(SHORTCUTS), 3)
        self.table.setAccessibleName("Shortcuts")
        self.table.setHorizontalHeaderLabels(["Where", "Keys", "What"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(28)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft)
        for row, (where, keys, what) in enumerate(SHORTCUTS):
            for column, text in enumerate((where, keys, what)):
                item = QTableWidgetItem(text)
                if column == 1:
                    bold = item.font()
                    bold.setBold(True)
                    item.setFont(bold)
                self.table.setItem(row, column, item)
        self.table.setColumnWidth(0, 110)
        self.table.setColumnWidth(1, 190)
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.close_button = Button("Close")
        self.close_button.setDefault(True)
        self.close_button.clicked.connect(self.accept)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
