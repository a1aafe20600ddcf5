"""The newcomer's offer: an empty clinic database can be filled with demo data in one click."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from purplecross_desktop.ui.context import AppContext
from widgets.alert import Alert
from widgets.button import Button

#: What one click loads: enough to explore every screen, quick on any machine.
DEMO_CLIENTS, DEMO_PATIENTS, DEMO_APPOINTMENTS = 500, 750, 3000


class _ProgressBridge(QObject):
    """Carries progress from the worker thread to the UI thread (a queued signal)."""

    sig_progress = Signal(str, int, int)


class WelcomeBanner(QWidget):
    """Shown on Today while the database is empty; loads demo data off the UI thread.

    Signals:
        sig_demo_loaded(): the demo data is in the database.
    """

    sig_demo_loaded = Signal()

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setObjectName("welcomeBanner")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.alert = Alert(
            "This clinic has no clients, patients or appointments yet. Load demo data "
            f"({DEMO_CLIENTS} clients, {DEMO_PATIENTS} patients, "
            f"{DEMO_APPOINTMENTS:,} appointments) to explore every screen, "
            "or start adding your own.",
            kind="info",
            title="Welcome to Purple Cross",
        )
        layout.addWidget(self.alert)
        row = QHBoxLayout()
        self.load_button = Button("Load demo data", variant="primary", icon="plus")
        self.load_button.setAccessibleName("Load demo data")
        self.load_button.clicked.connect(self.load_demo)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Demo data progress")
        self.progress.setVisible(False)
        self.status = QLabel("")
        self.status.setAccessibleName("Demo data status")
        row.addWidget(self.load_button)
        row.addWidget(self.progress, 1)
        row.addWidget(self.status, 1)
        layout.addLayout(row)
        self._bridge = _ProgressBridge(self)
        self._bridge.sig_progress.connect(self._on_progress)

    def load_demo(self) -> None:
        """Generate the demo data in the background; the UI stays usable meanwhile."""
        from purplecross_desktop.demo import generate_demo_data

        engine = self.context.engine
        bridge = self._bridge
        self.load_button.set_loading(True)
        self.progress.setVisible(True)
        self.status.setText("Loading demo data…")

        def work() -> Any:
            return generate_demo_data(
                engine,
                clients=DEMO_CLIENTS,
                patients=DEMO_PATIENTS,
                appointments=DEMO_APPOINTMENTS,
                progress=lambda stage, done, total: bridge.sig_progress.emit(stage, done, total),
            )

        self.context.background(self, work).success(self._loaded).failure(self._failed).finally_(
            lambda: self.load_button.set_loading(False)
        ).run_in_background()

    def _on_progress(self, stage: str, done: int, total: int) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
        self.status.setText(f"{stage}: {done:,} of {total:,}")

    def _loaded(self, _summary: Any) -> None:
        self.status.setText("Demo data loaded.")
        self.progress.setVisible(False)
        self.sig_demo_loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        self.progress.setVisible(False)
        self.status.setText(f"Demo data was not loaded: {exc}")
