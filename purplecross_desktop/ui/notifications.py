"""The notifications centre: the signed-in staff member's inbox, its unread count, and a
tray message when something important arrives ("Report ready: open")."""

from __future__ import annotations

from typing import Any

import shiboken6
from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QListView, QVBoxLayout, QWidget

from purplecross_desktop.clinic_time import ClinicTime
from purplecross_desktop.domain.notifications import InboxItem
from purplecross_desktop.ui.context import AppContext
from widgets.button import Button
from widgets.tokens import Spacing

Index = QModelIndex | QPersistentModelIndex
#: The item itself, for views and tests.
ItemRole = Qt.ItemDataRole.UserRole + 1


class InboxModel(QAbstractListModel):
    """The inbox as a list: newest first, unread ones in bold; each item's time on the
    clinic's clock (``clinic``), not the workstation's."""

    def __init__(self, clinic: ClinicTime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._clinic = clinic
        self._items: list[InboxItem] = []

    def set_items(self, items: list[InboxItem]) -> None:
        self.beginResetModel()
        self._items = list(items)
        self.endResetModel()

    def items(self) -> list[InboxItem]:
        return list(self._items)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            when = f"{self._clinic.local(item.created_at):%d %b %H:%M}"
            return f"{'● ' if item.unread else ''}{item.title}  ·  {when}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return item.message
        if role == Qt.ItemDataRole.AccessibleTextRole:
            state = "unread" if item.unread else "read"
            return f"{item.title}, {state}: {item.message}"
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setBold(item.unread)
            return font
        if role == ItemRole:
            return item
        return None


class NotificationCentre(QFrame):
    """The signed-in member's notifications, refreshed off the UI thread every few seconds.

    Args:
        context: the app context (services, the staff session, the background runner).
        interval_ms: how often the inbox is read.

    Signals:
        sig_unread_changed(int): the number of unread notifications.
        sig_important(object): an important notification (``InboxItem``) arrived since the
            last look; the window shows a tray message.
        sig_open_link(str): the user opened a notification that has a link.
    """

    sig_unread_changed = Signal(int)
    sig_important = Signal(object)
    sig_open_link = Signal(str)

    def __init__(self, context: AppContext, interval_ms: int = 5000) -> None:
        super().__init__()
        self.context = context
        self.setObjectName("notificationCentre")
        self.setFixedWidth(320)
        self.unread = 0
        self._staff: int | None = None
        self._newest_seen: int | None = None  # None: nothing loaded yet for this member
        self.model = InboxModel(ClinicTime(context.settings.clinic_timezone), self)
        self.view = QListView()
        self.view.setObjectName("notificationList")
        self.view.setAccessibleName("Notifications")
        self.view.setModel(self.model)
        self.view.setWordWrap(True)
        self.view.setUniformItemSizes(True)
        self.view.activated.connect(self._open)
        self.view.doubleClicked.connect(self._open)
        self.view.selectionModel().currentChanged.connect(self._show_detail)
        self.title_label = QLabel("Notifications")
        self.title_label.setObjectName("notificationTitle")
        self.mark_all_button = Button("Mark all read", variant="secondary", button_size="small")
        self.mark_all_button.clicked.connect(self.mark_all_read)
        self.detail = QLabel("")
        self.detail.setObjectName("notificationDetail")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.empty_label = QLabel("Nothing new.")
        header = QHBoxLayout()
        header.addWidget(self.title_label, 1)
        header.addWidget(self.mark_all_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(Spacing.MD, Spacing.MD, Spacing.MD, Spacing.MD)
        layout.setSpacing(Spacing.SM)
        layout.addLayout(header)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.detail)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        context.staff_session.subscribe(self._on_session)
        self._on_session(context.staff_session.current)

    # Public API ----------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the signed-in member's inbox in the background and show it."""
        services = self.context.services
        staff = self._staff
        if services is None or staff is None:
            return
        inbox = services.notifications

        def load() -> tuple[int, list[InboxItem], int]:
            return staff, inbox.inbox(staff, limit=50), inbox.unread_count(staff)  # type: ignore[arg-type]

        self.context.background(self, load).success(self._loaded).run_in_background()

    def mark_all_read(self) -> None:
        """Mark every notification of the signed-in member read."""
        services = self.context.services
        staff = self._staff
        if services is None or staff is None:
            return
        inbox = services.notifications
        self.context.background(self, lambda: inbox.mark_read(staff)).success(  # type: ignore[arg-type]
            lambda _n: self.refresh()
        ).run_in_background()

    # Internals ------------------------------------------------------------------------
    def _on_session(self, signed: Any) -> None:
        if not shiboken6.isValid(self):
            return  # the window is gone; the session outlives it
        staff = None if signed is None else int(signed.staff_id)
        if staff != self._staff:
            self._staff = staff
            self._newest_seen = None
            self.model.set_items([])
            self._set_unread(0)
        self.refresh()

    def _loaded(self, result: tuple[int, list[InboxItem], int]) -> None:
        staff, items, unread = result
        if staff != self._staff:
            return  # someone else signed in meanwhile
        newest = max((i.id for i in items), default=0)
        if self._newest_seen is not None:
            fresh = [i for i in items if i.id > self._newest_seen and i.unread and i.important]
            for item in reversed(fresh):
                self.sig_important.emit(item)
        self._newest_seen = max(newest, self._newest_seen or 0)
        current = self.view.currentIndex().data(ItemRole)
        self.model.set_items(items)
        if current is not None:
            for row, item in enumerate(items):
                if item.id == current.id:
                    self.view.setCurrentIndex(self.model.index(row))
        self.empty_label.setVisible(not items)
        self._set_unread(unread)

    def _set_unread(self, unread: int) -> None:
        self.title_label.setText(f"Notifications ({unread} unread)" if unread else "Notifications")
        self.mark_all_button.setEnabled(unread > 0)
        if unread != self.unread:
            self.unread = unread
            self.sig_unread_changed.emit(unread)

    def _show_detail(self, index: QModelIndex) -> None:
        item = index.data(ItemRole)
        self.detail.setText("" if item is None else f"{item.title}\n{item.message}")

    def _open(self, index: QModelIndex) -> None:
        item: InboxItem | None = index.data(ItemRole)
        services = self.context.services
        if item is None or services is None or self._staff is None:
            return
        staff = self._staff
        if item.unread:
            inbox = services.notifications
            self.context.background(self, lambda: inbox.mark_read(staff, [item.id])).success(  # type: ignore[arg-type]
                lambda _n: self.refresh()
            ).run_in_background()
        if item.link:
            self.sig_open_link.emit(item.link)
