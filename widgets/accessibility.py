"""Accessible roles for our widgets: a widget names its role, one Qt factory reports it.

Qt Widgets has no ``setAccessibleRole``; the supported hook is an accessibility
factory. Ours answers only for widgets that set the ``pc_accessible_role`` property
and leaves every other widget to Qt.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QObject
from PySide6.QtGui import QAccessible, QAccessibleInterface
from PySide6.QtWidgets import QAccessibleWidget, QWidget

ROLE_PROPERTY: Final = "pc_accessible_role"

_installed = False


def _factory(_key: str, obj: QObject) -> QAccessibleInterface | None:
    if isinstance(obj, QWidget):
        role = obj.property(ROLE_PROPERTY)
        if isinstance(role, QAccessible.Role):
            return QAccessibleWidget(obj, role)
    return None


def set_accessible_role(widget: QWidget, role: QAccessible.Role) -> None:
    """Make assistive technology announce ``widget`` with ``role`` (e.g. AlertMessage)."""
    global _installed
    if not _installed:
        # Installed once per process: Qt keeps factories for the application's lifetime.
        QAccessible.installFactory(_factory)
        _installed = True
    widget.setProperty(ROLE_PROPERTY, role)


def accessible_role(widget: QWidget) -> QAccessible.Role | None:
    """The role assistive technology sees for ``widget`` (None if it has no interface)."""
    interface = QAccessible.queryAccessibleInterface(widget)
    return interface.role() if interface is not None else None
