"""The main window: navigation on the left, the current page, a status bar, and the sign-in
screen that covers it all until a staff member signs in (and again when it locks)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from purplecross_desktop.domain.roles import Permission
from purplecross_desktop.settings import mask_url
from purplecross_desktop.staff_session import SignedIn
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.idle import IdleWatcher
from purplecross_desktop.ui.notifications import NotificationCentre
from purplecross_desktop.ui.pages.base import Page
from purplecross_desktop.ui.sign_in import SignInScreen
from purplecross_desktop.ui.style import chrome_qss
from widgets.button import Button
from widgets.datagrid import DataGrid
from widgets.tokens import Spacing, colors_for

#: How often the status bar re-reads the overall health.
HEALTH_INTERVAL_MS = 5 * 60 * 1000


@dataclass(frozen=True)
class PageSpec:
    """One entry of the navigation: a key, its label, how to build the page, and the
    permission a role needs to see it (None: every signed-in role)."""

    key: str
    title: str
    factory: Callable[[AppContext], Page]
    permission: Permission | None = None


class MainWindow(QMainWindow):
    """The workstation window.

    Pages are created on first visit, so start-up costs one page, not ten. Until a staff
    member signs in (and while the screen is locked) the sign-in screen covers the pages;
    the navigation then lists only the pages the signed-in role may use.

    Signals:
        sig_page_changed(str): the key of the page now shown.
        sig_user_changed(object): the signed-in staff member (``SignedIn``) or None.
    """

    sig_page_changed = Signal(str)
    sig_user_changed = Signal(object)

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
        self.navigation.setFrameShape(QListWidget.Shape.NoFrame)
        self.navigation.setUniformItemSizes(True)
        self.stack = QStackedWidget()
        self.stack.setObjectName("pageStack")

        sidebar = QFrame()
        sidebar.setObjectName("sidebar")
        sidebar.setFixedWidth(200)
        side = QVBoxLayout(sidebar)
        side.setContentsMargins(0, 0, 0, 0)
        side.setSpacing(0)
        side.addWidget(self.navigation, 1)
        side.addWidget(self._build_user_panel())

        self.shell = QWidget()
        layout = QHBoxLayout(self.shell)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(sidebar)
        layout.addWidget(self.stack, 1)
        self.notification_centre = NotificationCentre(context)
        self.notification_centre.hide()
        self.notification_centre.sig_unread_changed.connect(self._on_unread_changed)
        self.notification_centre.sig_important.connect(self._on_important)
        self.notification_centre.sig_open_link.connect(self.open_link)
        layout.addWidget(self.notification_centre)
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(self.windowIcon(), self)
            self.tray.setToolTip("Purple Cross")
            self.tray.messageClicked.connect(self._on_tray_clicked)
            self.tray.show()
        self._tray_link: str | None = None
        self.sign_in_screen = SignInScreen(context)
        self.sign_in_screen.sig_signed_in.connect(self._on_signed_in)
        self.sign_in_screen.sig_switch_user.connect(self.switch_user)
        self.root = QStackedWidget()
        self.root.addWidget(self.shell)
        self.root.addWidget(self.sign_in_screen)
        self.setCentralWidget(self.root)

        for spec in pages:
            item = QListWidgetItem(spec.title)
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            item.setSizeHint(QSize(180, 36))
            item.setToolTip(spec.title)
            self.navigation.addItem(item)
        for number in range(1, 10):
            shortcut = QShortcut(QKeySequence(f"Ctrl+{number}"), self)
            shortcut.activated.connect(lambda n=number: self._go_to_nth(n))
        self.navigation.currentRowChanged.connect(self._on_row_changed)
        self._lock_shortcut = QShortcut(QKeySequence("Ctrl+L"), self)
        self._lock_shortcut.activated.connect(self.lock)
        # The desk's keys, the same on every page: each asks the page shown (Page API).
        self.shortcuts: dict[str, QShortcut] = {}
        for keys, slot in (
            ("Ctrl+K", self.open_palette),
            ("Ctrl+F", self.focus_search),
            ("Ctrl+N", self.create_new),
            ("F5", self.refresh_page),
            ("F1", self.show_shortcuts),
            ("Ctrl+/", self.show_shortcuts),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(slot)
            self.shortcuts[keys] = shortcut
        self._hidden_dialogs: list[QDialog] = []
        self._last_signed: SignedIn | None = None

        self._build_status_bar()
        context.staff_session.subscribe(self._on_session_changed)
        app = QApplication.instance()
        assert isinstance(app, QApplication), "the window needs a QApplication"
        self.idle = IdleWatcher(
            app, lambda: self.context.settings.idle_lock_minutes * 60.0, parent=self
        )
        self.idle.sig_idle.connect(self.lock)
        self._number_shortcuts()
        if pages:
            self.navigation.setCurrentRow(0)
        signed = context.staff_session.current
        if signed is not None and not context.staff_session.locked:
            self._on_session_changed(signed)  # signed in already (a second window, tests)
        else:
            self.root.setCurrentWidget(self.sign_in_screen)
            self.sign_in_screen.start()

    # Public API ---------------------------------------------------------------
    def show_page(self, key: str) -> Page:
        """Show the page ``key`` (building it on first visit) and return it.

        Raises:
            KeyError: no such page, or the signed-in role may not use it.
        """
        for row, spec in enumerate(self._specs):
            if spec.key == key:
                if not self.allows(spec):
                    raise KeyError(f"{key}: not available to the signed-in role")
                self.navigation.setCurrentRow(row)
                return self._pages[key]
        raise KeyError(key)

    def allows(self, spec: PageSpec) -> bool:
        """Whether the signed-in staff member may use ``spec``'s page (anyone may while
        nobody is signed in: the sign-in screen covers the pages then)."""
        signed = self.context.staff_session.current
        return spec.permission is None or signed is None or signed.can(spec.permission)

    def page_specs(self) -> list[PageSpec]:
        """The pages the signed-in role may use, in navigation order."""
        return [spec for spec in self._specs if self.allows(spec)]

    def signed_in(self) -> SignedIn | None:
        """The staff member signed in at this workstation."""
        return self.context.staff_session.current

    def is_covered(self) -> bool:
        """Whether the sign-in screen covers the pages (nobody signed in, or locked)."""
        return self.root.currentWidget() is self.sign_in_screen

    def lock(self) -> None:
        """Cover the window until the signed-in staff member types their password again;
        open dialogs are hidden meanwhile and come back on unlock."""
        session = self.context.staff_session
        signed = session.current
        if signed is None or self.is_covered():
            return
        session.lock()
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QDialog) and widget.isVisible():
                widget.hide()
                self._hidden_dialogs.append(widget)
        self.root.setCurrentWidget(self.sign_in_screen)
        self.activateWindow()  # a hidden dialog was the active window
        self.sign_in_screen.show_locked(signed)

    def switch_user(self) -> None:
        """Sign the current staff member out and ask who is next (the app stays open);
        dialogs they left open are closed unsaved."""
        for dialog in self._hidden_dialogs:
            dialog.reject()
        self._hidden_dialogs.clear()
        self.context.staff_session.sign_out()
        self.root.setCurrentWidget(self.sign_in_screen)
        self.sign_in_screen.show_sign_in()

    def open_palette(self) -> Any:
        """The command palette (Ctrl+K): screens, clients, patients and actions."""
        if self.is_covered():
            return None
        from purplecross_desktop.ui.palette import PaletteController

        return PaletteController(self).open()

    def focus_search(self) -> None:
        """Ctrl+F: the page's search box, or the palette on pages without one."""
        page = self.current_page()
        if self.is_covered() or page is None:
            return
        box = page.search_box()
        if box is None:
            self.open_palette()
            return
        box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        if isinstance(box, QLineEdit):
            box.selectAll()

    def create_new(self) -> None:
        """Ctrl+N: what the page shown creates (a client on Clients, ...)."""
        page = self.current_page()
        if not self.is_covered() and page is not None:
            page.create_new()

    def refresh_page(self) -> None:
        """F5: reload the page shown."""
        page = self.current_page()
        if not self.is_covered() and page is not None:
            page.refresh()

    def show_shortcuts(self) -> Any:
        """The keyboard shortcuts help (F1)."""
        if self.is_covered():
            return None
        from purplecross_desktop.ui.dialogs.shortcuts import ShortcutsDialog

        dialog = ShortcutsDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

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

    def toggle_notifications(self) -> None:
        """Show or hide the notifications centre beside the page."""
        self.notification_centre.setVisible(not self.notification_centre.isVisible())
        if self.notification_centre.isVisible():
            self.notification_centre.refresh()

    def open_link(self, link: str) -> None:
        """Open what a notification points at: a file, or the queue monitor (``job:ID``
        opens that job's detail, ``queue:`` the failure triage), or a workflow run on the
        Workflows page (``workflow-run:ID``)."""
        kind, _, target = link.partition(":")
        if kind == "workflow-run":
            spec = next((s for s in self._specs if s.key == "workflows"), None)
            if spec is not None and self.allows(spec) and target.isdigit():
                page = self.show_page("workflows")
                if hasattr(page, "open_run"):
                    page.open_run(int(target))
            else:
                self.show_message(f"Workflows are for admins and practice managers ({link})")
            return
        if kind in ("job", "queue"):
            spec = next((s for s in self._specs if s.key == "queues"), None)
            if spec is not None and self.allows(spec):
                page = self.show_page("queues")
                if kind == "job" and target and hasattr(page, "open_job"):
                    page.open_job(target)
                elif kind == "queue" and not target and hasattr(page, "show_failures"):
                    page.show_failures()
            else:
                self.show_message(f"The queue monitor is for admins ({link})")
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(link))

    # Internals ----------------------------------------------------------------
    def _build_user_panel(self) -> QWidget:
        panel = QFrame()
        panel.setObjectName("userPanel")
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(Spacing.MD, Spacing.SM, Spacing.MD, Spacing.MD)
        layout.setSpacing(Spacing.XS)
        self.user_label = QLabel("")
        self.user_label.setObjectName("userName")
        self.user_label.setAccessibleName("Signed in as")
        self.user_label.setWordWrap(True)
        self.role_label = QLabel("")
        self.role_label.setObjectName("userRole")
        self.role_label.setAccessibleName("Role")
        buttons = QHBoxLayout()
        buttons.setSpacing(Spacing.XS)
        self.lock_button = Button("Lock", variant="secondary", button_size="small")
        self.lock_button.setToolTip("Lock the screen (Ctrl+L)")
        self.lock_button.setAccessibleDescription("Lock the screen; your password unlocks it")
        self.lock_button.clicked.connect(self.lock)
        self.switch_button = Button("Switch user", variant="secondary", button_size="small")
        self.switch_button.setAccessibleDescription("Sign out and let someone else sign in")
        self.switch_button.clicked.connect(self.switch_user)
        buttons.addWidget(self.lock_button)
        buttons.addWidget(self.switch_button)
        self.notifications_button = Button(
            "Notifications", variant="secondary", button_size="small"
        )
        self.notifications_button.setObjectName("notificationsButton")
        self.notifications_button.setToolTip("Show or hide your notifications (Ctrl+Shift+N)")
        self.notifications_button.clicked.connect(self.toggle_notifications)
        self._notifications_shortcut = QShortcut(QKeySequence("Ctrl+Shift+N"), self)
        self._notifications_shortcut.activated.connect(self.toggle_notifications)
        layout.addWidget(self.user_label)
        layout.addWidget(self.role_label)
        layout.addWidget(self.notifications_button)
        layout.addLayout(buttons)
        return panel

    def _on_unread_changed(self, unread: int) -> None:
        text = f"Notifications ({unread})" if unread else "Notifications"
        self.notifications_button.setText(text)
        self.notifications_button.setAccessibleName(
            f"Notifications, {unread} unread" if unread else "Notifications"
        )

    def _on_important(self, item: object) -> None:
        title = str(getattr(item, "title", ""))
        message = str(getattr(item, "message", ""))
        link = getattr(item, "link", None)
        self._tray_link = link
        hint = ": open" if link else ""
        if self.tray is not None:
            self.tray.showMessage(
                f"{title}{hint}", message, QSystemTrayIcon.MessageIcon.Information
            )
        self.show_message(f"{title}{hint} — {message}", 10000)

    def _on_tray_clicked(self) -> None:
        if self._tray_link:
            self.open_link(self._tray_link)

    def _on_signed_in(self, staff: object) -> None:
        self.context.staff_session.sign_in(staff)  # type: ignore[arg-type]

    def _on_session_changed(self, signed: SignedIn | None) -> None:
        previous, self._last_signed = self._last_signed, signed
        self.user_label.setText(signed.name if signed else "")
        self.role_label.setText(signed.role.label if signed else "")
        for row, spec in enumerate(self._specs):
            self.navigation.setRowHidden(row, not self.allows(spec))
        self._number_shortcuts()
        current = self.navigation.currentRow()
        if current >= 0 and not self.allows(self._specs[current]):
            self.navigation.setCurrentRow(0)
        if signed is not None:
            # unlocked by the same person: their dialogs come back; anyone else: closed
            same = previous is not None and previous.staff_id == signed.staff_id
            for dialog in self._hidden_dialogs:
                if same:
                    dialog.show()
                else:
                    dialog.reject()
            self._hidden_dialogs.clear()
            self.idle.touch()
            self.root.setCurrentWidget(self.shell)
            page = self.current_page()
            if page is not None and not same:
                page.activate()
            if page is not None:
                page.setFocus()
        self.sig_user_changed.emit(signed)

    def _number_shortcuts(self) -> None:
        for number, spec in enumerate(self.page_specs(), start=1):
            row = self._specs.index(spec)
            tip = f"{spec.title} (Ctrl+{number})" if number <= 9 else spec.title
            item = self.navigation.item(row)
            item.setToolTip(tip)

    def _go_to_nth(self, number: int) -> None:
        specs = self.page_specs()
        if self.is_covered() or number > len(specs):
            return
        self.navigation.setCurrentRow(self._specs.index(specs[number - 1]))

    def _on_row_changed(self, row: int) -> None:
        if row < 0:
            return
        spec = self._specs[row]
        if not self.allows(spec):
            return
        page = self._pages.get(spec.key)
        if page is None:
            page = spec.factory(self.context)
            self._pages[spec.key] = page
            status = getattr(page, "sig_status_changed", None)
            if status is not None:
                status.connect(self.show_health)
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
        self.health_button = QPushButton("Health: checking…")
        self.health_button.setObjectName("healthStatus")
        self.health_button.setFlat(True)
        self.health_button.setAccessibleName("Overall health; opens the Health page")
        self.health_button.clicked.connect(lambda: self.show_page("health"))
        bar.addPermanentWidget(self.health_button)
        # The overall health, read now and then while the window is open (never on the
        # UI thread): soon after it shows, then every few minutes.
        self.health_timer = QTimer(self)
        self.health_timer.setInterval(HEALTH_INTERVAL_MS)
        self.health_timer.timeout.connect(self.check_health)
        QTimer.singleShot(2000, self, self._start_health)
        bar.addPermanentWidget(self.busy_label)
        bar.addPermanentWidget(self.queue_label)
        bar.addPermanentWidget(self.database_label)
        self.context.runner.sig_busy_changed.connect(self._on_busy_changed)
        self.context.runner.sig_unhandled_error.connect(
            lambda text: self.show_message(f"Something went wrong: {text}", 10000)
        )

    def _start_health(self) -> None:
        if self.isVisible():
            self.check_health()
            self.health_timer.start()

    def show_health(self, status: str) -> None:
        """Show the overall health ("healthy", "degraded" or "down") in the status bar."""
        self.health_button.setText(f"Health: {status}")

    def check_health(self) -> None:
        """Read the overall health off the UI thread and show it in the status bar."""
        from purplecross_desktop.ui.pages.health_page import overall_health

        self.context.background(self, lambda: overall_health(self.context)).success(
            lambda report: self.show_health(report.status)
        ).failure(lambda exc: self.show_health("unknown")).run_in_background()

    def _on_busy_changed(self, count: int) -> None:
        self.busy_label.setText(f"Working… ({count})" if count else "")

    def closeEvent(self, event: QCloseEvent) -> None:
        # Qt sends no close event to child widgets: stop every grid's worker and save its
        # layout here, before the composition root disposes of the database.
        self.idle.stop()
        self.notification_centre.timer.stop()
        if self.tray is not None:
            self.tray.hide()
        for page in self._pages.values():
            for grid in page.findChildren(DataGrid):
                grid.shutdown()
        super().closeEvent(event)
