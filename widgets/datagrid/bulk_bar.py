"""The bar shown while rows are selected: the count, "Select all N matching", and bulk actions."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from widgets.tokens import Spacing


class BulkActionBar(QWidget):
    """Shows the selection and offers actions on it.

    Args:
        actions: The names of the bulk actions (button texts), e.g. ``["Send reminder"]``.

    Signals:
        sig_action_clicked(str): an action button was clicked.
        sig_select_all_clicked(): "Select all N matching" was clicked.
        sig_clear_clicked(): "Clear selection" was clicked.
    """

    sig_action_clicked = Signal(str)
    sig_select_all_clicked = Signal()
    sig_clear_clicked = Signal()

    def __init__(self, actions: Sequence[str] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dataGridBulkBar")
        self._label = QLabel(self)
        self._select_all = QPushButton(self)
        self._select_all.setFlat(True)
        self._select_all.clicked.connect(self.sig_select_all_clicked)
        clear = QPushButton("Clear selection", self)
        clear.setFlat(True)
        clear.clicked.connect(self.sig_clear_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(Spacing.SM)
        layout.addWidget(self._label)
        layout.addWidget(self._select_all)
        layout.addWidget(clear)
        layout.addStretch(1)
        self._buttons: dict[str, QPushButton] = {}
        for name in actions:
            button = QPushButton(name, self)
            button.clicked.connect(lambda _=False, n=name: self.sig_action_clicked.emit(n))
            layout.addWidget(button)
            self._buttons[name] = button
        self.hide()

    def text(self) -> str:
        """The selection summary shown."""
        return self._label.text()

    def action_button(self, name: str) -> QPushButton:
        """The button of action ``name``."""
        return self._buttons[name]

    def select_all_button(self) -> QPushButton:
        """The "Select all N matching" button."""
        return self._select_all

    def update_state(self, selected: int, matching: int, all_matching: bool) -> None:
        """Show ``selected`` of ``matching`` rows; hidden when nothing is selected."""
        self.setVisible(selected > 0)
        if all_matching:
            self._label.setText(f"All {selected:,} matching rows selected")
        else:
            self._label.setText(f"{selected:,} selected")
        self._select_all.setText(f"Select all {matching:,} matching")
        self._select_all.setVisible(not all_matching and selected < matching)
