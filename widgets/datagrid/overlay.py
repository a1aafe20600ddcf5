"""The grid's state overlay: loading (with progress), empty (with a hint), error (with Retry)."""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from widgets.button import Button
from widgets.tokens import Spacing

OverlayState = Literal["hidden", "loading", "empty", "error"]


class StateOverlay(QWidget):
    """Covers the table's viewport to show a state; follows the viewport's size.

    Signals:
        sig_retry_clicked(): the user asked to run the failed query again.
        sig_clear_filters_clicked(): the user asked to clear the filters hiding every row.
    """

    sig_retry_clicked = Signal()
    sig_clear_filters_clicked = Signal()

    def __init__(self, target: QWidget) -> None:
        super().__init__(target)
        self.setObjectName("dataGridOverlay")
        self._target = target
        self._state: OverlayState = "hidden"

        self._title = QLabel(self)
        self._title.setObjectName("dataGridOverlayTitle")
        self._title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self._title.font()
        font.setBold(True)
        self._title.setFont(font)
        self._detail = QLabel(self)
        self._detail.setObjectName("dataGridOverlayDetail")
        self._detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._detail.setWordWrap(True)
        self._progress = QProgressBar(self)
        self._progress.setRange(0, 0)
        self._progress.setTextVisible(False)
        self._progress.setFixedSize(160, 6)
        self._progress.setAccessibleName("Loading")
        self._retry = Button("Retry", variant="primary", parent=self)
        self._retry.clicked.connect(self.sig_retry_clicked)
        self._clear = Button("Clear filters", variant="secondary", parent=self)
        self._clear.clicked.connect(self.sig_clear_filters_clicked)

        layout = QVBoxLayout(self)
        layout.setSpacing(Spacing.SM)
        layout.addStretch(1)
        layout.addWidget(self._title)
        layout.addWidget(self._detail)
        layout.addWidget(self._progress, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self._retry, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self._clear, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)
        target.installEventFilter(self)
        self.show_state("hidden")

    @property
    def state(self) -> OverlayState:
        """The state shown."""
        return self._state

    def title(self) -> str:
        """The headline shown (for tests and accessibility)."""
        return self._title.text()

    def detail(self) -> str:
        """The explanation shown under the headline."""
        return self._detail.text()

    def show_state(
        self, state: OverlayState, title: str = "", detail: str = "", can_clear: bool = False
    ) -> None:
        """Show ``state`` with ``title``/``detail``; ``can_clear`` offers "Clear filters"."""
        self._state = state
        self._title.setText(title)
        self._detail.setText(detail)
        self._detail.setVisible(bool(detail))
        self._progress.setVisible(state == "loading")
        self._retry.setVisible(state == "error")
        self._clear.setVisible(state == "empty" and can_clear)
        self.setAccessibleName(title)
        self.setGeometry(self._target.rect())
        self.setVisible(state != "hidden")
        if state != "hidden":
            self.raise_()

    def paintEvent(self, event: QPaintEvent) -> None:
        # The table's base colour of the active theme, translucent: under a loading
        # overlay the previous rows stay visible.
        color = self.palette().color(QPalette.ColorRole.Base)
        color.setAlpha(225)
        QPainter(self).fillRect(self.rect(), color)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._target and event.type() == QEvent.Type.Resize:
            self.setGeometry(self._target.rect())
        return False
