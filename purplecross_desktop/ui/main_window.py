"""The main window: navigation on the left, the current page, and a status bar."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QWidget,
)

from purplecross_desktop.settings import mask_url
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.pages.base import Page
from purplecross_desktop.ui.style import chrome_qss
from widgets.datagrid import DataGrid
from widgets.tokens import colors_for


@dataclass(frozen=True)
class PageSpec:
    """One entry of the navigation: a key, its label and how to build the page."""

    key: str
    title: str
    factory: Callable[[AppContext], Page]
    admin_only: bool = False


class MainWindow(QMainWindow):
    """The workstation window.

    Pages are created on first visit, so start-up costs one page, not nine.

    Signals:
        sig_page_changed(str): the key of the page now shown.
    """

    sig_page_changed = Signal(str)

    def __init__(self, context: AppContext, pages: list[PageSpec]) -> None:
        super().__init__()
        self.context = context
        self._specs = pages
        self._pages: dict[str, Page] = {}
        self.setWindowTitle(f"Purple Cross — {context.settings.clinic_name}")
        self.setObjectName("mainWindow")
        self.resize(1280, 800)
        self.setMinimumSize(QSize(900, 600))

        self.navigation = QListWidget()
        self.navigation.setObjectName("navigation")
        self.navigation.setAccessibleName("Navigation")
        self.navigation.setFixedWidth(200)
        self.navigation.setFrameShape(QListWidget.Shape.NoFrame)
        self.navigation.setUniformItemSizes(True)
        self.stack = QStackedWidget()
        self.stack.setObjectName("pageStack")

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.navigation)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        for number, spec in enumerate(pages, start=1):
            item = QListWidgetItem(spec.title)
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            item.setSizeHint(QSize(180, 36))
            tip = f"{spec.title} (Ctrl+{number})" if number <= 9 else spec.title
            item.setToolTip(tip)
            self.navigation.addItem(item)
            if number <= 9:
                shortcut = QShortcut(QKeySequence(f"Ctrl+{number}"), self)
                shortcut.activated.connect(
                    lambda row=number - 1: self.navigation.setCurrentRow(row)
                )
        self.navigation.currentRowChanged.connect(self._on_row_changed)

        self._build_status_bar()
        if pages:
            self.navigation.setCurrentRow(0)

    # Public API ---------------------------------------------------------------
    def show_page(self, key: str) -> Page:
        """Show the page ``key`` (building it on first visit) and return it."""
        for row, spec in enumerate(self._specs):
            if spec.key == key:
                self.navigation.setCurrentRow(row)
                return self._pages[key]
        raise KeyError(key)

    def current_page(self) -> Page | None:
        widget = self.stack.currentWidget()
        return widget if isinstance(widget, Page) else None

    def built_pages(self) -> list[str]:
        """Keys of the pages built so far (for tests of lazy construction)."""
        return list(self._pages)

    def apply_chrome(self, theme: str) -> None:
        """Restyle the window's own chrome for ``theme`` ("light" or "dark")."""
        self.setStyleSheet(chrome_qss(colors_for("dark" if theme == "dark" else "light")))

    def show_message(self, text: str, msecs: int = 6000) -> None:
        """A transient message in the status bar."""
        self.statusBar().showMessage(text, msecs)

    # Internals ----------------------------------------------------------------
    def _on_row_changed(self, row: int) -> None:
        if row < 0:
            return
        spec = self._specs[row]
        page = self._pages.get(spec.key)
        if page is None:
            page = spec.factory(self.context)
            self._pages[spec.key] = page
            self.stack.addWidget(page)
        self.stack.setCurrentWidget(page)
        page.activate()
        self.sig_page_changed.emit(spec.key)

    def _build_status_bar(self) -> None:
        settings = self.context.settings
        bar = self.statusBar()
        bar.setObjectName("statusBar")
        if settings.is_embedded_database:
            db_text = f"Database: this computer ({settings.data_dir})"
        else:
            db_text = f"Database: {mask_url(settings.effective_database_url)}"
        self.database_label = QLabel(db_text)
        self.database_label.setAccessibleName("Database status")
        queue_text = "Jobs: Redis" if settings.redis_url else "Jobs: this computer"
        queue_text += " (runner in the app)" if settings.embedded_worker else " (separate workers)"
        self.queue_label = QLabel(queue_text)
        self.queue_label.setAccessibleName("Job queue status")
        self.busy_label = QLabel("")
        self.busy_label.setAccessibleName("Background work")
        bar.addPermanentWidget(self.busy_label)
        bar.addPermanentWidget(self.queue_label)
        bar.addPermanentWidget(self.database_label)
        self.context.runner.sig_busy_changed.connect(self._on_busy_changed)
        self.context.runner.sig_unhandled_error.connect(
            lambda text: self.show_message(f"Something went wrong: {text}", 10000)
        )

    def _on_busy_changed(self, count: int) -> None:
        self.busy_label.setText(f"Working… ({count})" if count else "")

    def closeEvent(self, event: QCloseEvent) -> None:
        # Qt sends no close event to child widgets: stop every grid's worker and save its
        # layout here, before the composition root disposes of the database.
        for page in self._pages.values():
            for grid in page.findChildren(DataGrid):
                grid.shutdown()
        super().closeEvent(event)
