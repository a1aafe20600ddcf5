"""Composition root: builds the services, wires domain events, and opens the main window."""

from __future__ import annotations

from purplecross_desktop.settings import Settings


def run_app(settings: Settings) -> int:
    """Start the Qt application on ``settings`` and return its exit code."""
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    app = QApplication.instance() or QApplication([])
    window = QMainWindow()
    window.setWindowTitle(f"Purple Cross — {settings.clinic_name}")
    window.setCentralWidget(QLabel("Purple Cross Desktop"))
    window.resize(1200, 800)
    window.show()
    return int(app.exec())
