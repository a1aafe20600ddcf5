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
        sig_client_added(int): the first client was added from the banner.
    """

    sig_demo_loaded = Signal()
    sig_client_added = Signal(int)

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
        self.add_client_button = Button("Add the first client", variant="secondary", icon="plus")
        self.add_client_button.setAccessibleName("Add the first client")
        self.add_client_button.setToolTip("Register an owner; add their pets from their record")
        self.add_client_button.clicked.connect(self.add_client)
        row.addWidget(self.load_button)
        row.addWidget(self.add_client_button)
        row.addWidget(self.progress, 1)
        row.addWidget(self.status, 1)
        layout.addLayout(row)
        self._bridge = _ProgressBridge(self)
        self._bridge.sig_progress.connect(self._on_progress)

    def add_client(self) -> Any:
        """The New client form; once saved the banner goes and the client's record opens
        (where "Add pet" registers their animals)."""
        from purplecross_desktop.ui.dialogs.client_form import ClientFormDialog

        dialog = ClientFormDialog(self.context, parent=self)
        dialog.sig_saved.connect(self._client_added)
        dialog.open()
        return dialog

    def _client_added(self, client: Any) -> None:
        from purplecross_desktop.ui.records.client_record import open_client_record

        self.setVisible(False)
        self.sig_client_added.emit(client.id)
        open_client_record(self.context, self.window(), client.id)

    def load_demo(self) -> None:
        """Generate the demo data in the background; the UI stays usable meanwhile."""
        from purplecross_desktop.demo import generate_demo_data

        engine = self.context.engine
        bridge = self._bridge
        self.load_button.set_loading(True)
        self.add_client_button.setEnabled(False)
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
            self._load_finished
        ).run_in_background()

    def _load_finished(self) -> None:
        self.load_button.set_loading(False)
        self.add_client_button.setEnabled(True)

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
