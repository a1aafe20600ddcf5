"""Alert: an info, success, warning or error message with icon, list and optional close."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Final, TypeVar

from PySide6.QtCore import Property, QEvent, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAccessible,
    QColor,
    QEnterEvent,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from widgets.accessibility import set_accessible_role
from widgets.icons import paint_icon
from widgets.theme import current_colors
from widgets.tokens import FOCUS_RING_WIDTH, Radius, Spacing

KINDS: Final = ("info", "success", "warning", "error")
_KIND_LABELS: Final = {
    "info": "Information",
    "success": "Success",
    "warning": "Warning",
    "error": "Error",
}
_ICON_EM: Final = 1.3
_SIM_STATES: Final = ("", "hover", "pressed", "focus")


_W = TypeVar("_W", bound=QWidget)


def _named(widget: _W, name: str) -> _W:
    """``widget`` with its object name set (the style sheet selects on it)."""
    widget.setObjectName(name)
    return widget


class AlertIcon(QWidget):
    """The kind's icon, painted in the kind's icon token of the active theme."""

    def __init__(self, kind: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._kind = kind
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        # From the font, so the icon follows the style sheet's (scaled) font size.
        side = round(self.fontMetrics().height() * _ICON_EM)
        return QSize(side, side)

    def set_kind(self, kind: str) -> None:
        """Paint the icon of ``kind``."""
        self._kind = kind
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        color = getattr(current_colors(), f"{self._kind}_icon")
        paint_icon(painter, QRectF(self.rect()), self._kind, color)


class AlertCloseButton(QAbstractButton):
    """The small close (cross) button of a closable alert; keyboard focusable, named "Dismiss"."""

    def __init__(self, kind: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._kind = kind
        self._sim_state = ""
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Dismiss")
        self.setToolTip("Dismiss")

    def set_kind(self, kind: str) -> None:
        """Use the text colour of ``kind`` for the cross."""
        self._kind = kind
        self.update()

    def set_sim_state(self, state: str) -> None:
        """Show hover, pressed or focus without a pointer ("" to stop); for the gallery."""
        self._sim_state = state
        self.update()

    def sizeHint(self) -> QSize:
        side = round(self.fontMetrics().height() * _ICON_EM) + 2 * FOCUS_RING_WIDTH
        return QSize(side, side)

    def paintEvent(self, event: QPaintEvent) -> None:
        colors = current_colors()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        outer = QRectF(self.rect())
        enabled = self.isEnabled()
        hovered = self.underMouse() or self._sim_state == "hover"
        pressed = self.isDown() or self._sim_state == "pressed"
        if enabled and (hovered or pressed):
            painter.setPen(Qt.PenStyle.NoPen)
            fill = QColor(getattr(colors, f"{self._kind}_border"))
            if not pressed:
                fill.setAlphaF(0.5)
            painter.setBrush(fill)
            painter.drawRoundedRect(outer, Radius.SM, Radius.SM)
        if enabled and (self.hasFocus() or self._sim_state == "focus"):
            painter.setPen(QColor(colors.focus_ring))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            half = FOCUS_RING_WIDTH / 2
            painter.drawRoundedRect(outer.adjusted(half, half, -half, -half), Radius.SM, Radius.SM)
        inset = outer.width() * 0.28
        paint_icon(
            painter,
            outer.adjusted(inset, inset, -inset, -inset),
            "close",
            getattr(colors, f"{self._kind}_text") if enabled else colors.on_disabled,
        )


class Alert(QFrame):
    """A message of one kind with its icon and the matching accessible role.

    Args:
        message: plain text; long messages wrap.
        kind: "info", "success", "warning" or "error".
        title: bold first line ("" for none).
        items: a bulleted list under the message (rich content, escaped).
        closable: shows a "Dismiss" button; Escape also dismisses while focused.
        timeout_ms: dismisses itself this long after it is shown (0 = stays); the
            countdown pauses while the mouse is over it (toasts).
        parent: the parent widget.

    Properties (Qt):
        kind (str), title (str), message (str), closable (bool), timeout_ms (int),
        sim_state (str: "", "hover", "pressed" or "focus" shown on the Dismiss
        button without a pointer, for the gallery's state matrix).

    Signals:
        sig_closed(): the alert was dismissed (button, Escape or timeout); emitted once.
    """

    sig_closed = Signal()

    def __init__(
        self,
        message: str = "",
        *,
        kind: str = "info",
        title: str = "",
        items: Sequence[str] = (),
        closable: bool = False,
        timeout_ms: int = 0,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        set_accessible_role(self, QAccessible.Role.AlertMessage)
        self._kind = "info"
        self._closed = False
        self._sim_state = ""
        self._items: list[str] = []
        self._timeout_ms = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.dismiss)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

        self._icon = AlertIcon(kind)
        self._title = _named(QLabel(), "alert_title")
        self._message = _named(QLabel(), "alert_message")
        self._list = _named(QLabel(), "alert_list")
        for label in (self._title, self._message):
            label.setTextFormat(Qt.TextFormat.PlainText)
        for label in (self._title, self._message, self._list):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._list.setTextFormat(Qt.TextFormat.RichText)
        self._close = AlertCloseButton(kind)
        self._close.clicked.connect(self.dismiss)

        text = QVBoxLayout()
        text.setSpacing(Spacing.XS)
        text.addWidget(self._title)
        text.addWidget(self._message)
        text.addWidget(self._list)
        row = QHBoxLayout(self)
        row.setContentsMargins(Spacing.MD, Spacing.MD, Spacing.MD, Spacing.MD)
        row.setSpacing(Spacing.MD)
        row.addWidget(self._icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(text, 1)
        row.addWidget(self._close, 0, Qt.AlignmentFlag.AlignTop)

        self.set_kind(kind)
        self.set_title(title)
        self.set_message(message)
        self.set_items(items)
        self.set_closable(closable)
        self.set_timeout_ms(timeout_ms)

    # Properties -----------------------------------------------------------------------
    def get_kind(self) -> str:
        """info, success, warning or error."""
        return self._kind

    def set_kind(self, kind: str) -> None:
        """Change the kind (colours, icon, accessible name)."""
        if kind not in KINDS:
            raise ValueError(f"kind: must be one of {', '.join(KINDS)}, got {kind!r}")
        self._kind = kind
        self._icon.set_kind(kind)
        self._close.set_kind(kind)
        style = self.style()
        style.unpolish(self)
        style.polish(self)
        self._update_accessible_text()
        self.update()

    def get_title(self) -> str:
        """The bold first line."""
        return self._title.text()

    def set_title(self, title: str) -> None:
        """Change the title ("" hides it)."""
        self._title.setText(title)
        self._title.setVisible(bool(title))
        self._update_accessible_text()

    def get_message(self) -> str:
        """The message text."""
        return self._message.text()

    def set_message(self, message: str) -> None:
        """Change the message (plain text, wraps)."""
        self._message.setText(message)
        self._message.setVisible(bool(message))
        self._update_accessible_text()

    def items(self) -> list[str]:
        """The bulleted list under the message."""
        return list(self._items)

    def set_items(self, items: Sequence[str]) -> None:
        """Show ``items`` as a bulleted list (each escaped: plain text only)."""
        self._items = [str(item) for item in items]
        # Bullets as table rows: QLabel's rich text indents <ul> by a fixed 40 px.
        rows = "".join(
            f"<tr><td>\u2022&nbsp;</td><td>{html.escape(item)}</td></tr>" for item in self._items
        )
        self._list.setText(f'<table cellspacing="0" cellpadding="1">{rows}</table>' if rows else "")
        self._list.setVisible(bool(self._items))
        self._update_accessible_text()

    def is_closable(self) -> bool:
        """Whether the Dismiss button shows."""
        return not self._close.isHidden()

    def set_closable(self, closable: bool) -> None:
        """Show or hide the Dismiss button."""
        self._close.setVisible(bool(closable))

    def get_timeout_ms(self) -> int:
        """Auto-dismiss delay in milliseconds (0 = none)."""
        return self._timeout_ms

    def set_timeout_ms(self, timeout_ms: int) -> None:
        """Dismiss automatically ``timeout_ms`` after being shown (0 turns it off)."""
        if timeout_ms < 0:
            raise ValueError(f"timeout_ms: must be 0 or more, got {timeout_ms!r}")
        self._timeout_ms = int(timeout_ms)
        self._timer.stop()
        if self._timeout_ms and self.isVisible() and not self._closed:
            self._timer.start(self._timeout_ms)

    kind = Property(str, get_kind, set_kind)
    title = Property(str, get_title, set_title)
    message = Property(str, get_message, set_message)
    closable = Property(bool, is_closable, set_closable)
    timeout_ms = Property(int, get_timeout_ms, set_timeout_ms)

    def get_sim_state(self) -> str:
        """The state simulated on the Dismiss button ("" when none)."""
        return self._sim_state

    def set_sim_state(self, state: str) -> None:
        """Show the Dismiss button hovered, pressed or focused; for the state matrix."""
        if state not in _SIM_STATES:
            raise ValueError(f"sim_state: must be one of {', '.join(_SIM_STATES)}, got {state!r}")
        self._sim_state = state
        self._close.set_sim_state(state)

    sim_state = Property(str, get_sim_state, set_sim_state)

    # Behaviour ------------------------------------------------------------------------
    def is_closed(self) -> bool:
        """Whether the alert has been dismissed."""
        return self._closed

    def dismiss(self) -> None:
        """Hide the alert and emit ``sig_closed``; later calls do nothing."""
        if self._closed:
            return
        self._closed = True
        self._timer.stop()
        self.hide()
        self.sig_closed.emit()

    # Qt overrides ---------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._timeout_ms and not self._closed:
            self._timer.start(self._timeout_ms)

    def enterEvent(self, event: QEnterEvent) -> None:
        # A toast the user is reading stays until the pointer leaves.
        self._timer.stop()
        super().enterEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        if self._timeout_ms and not self._closed and self.isVisible():
            self._timer.start(self._timeout_ms)
        super().leaveEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.is_closable():
            self.dismiss()
            event.accept()
            return
        super().keyPressEvent(event)

    # Internals ------------------------------------------------------------------------
    def _update_accessible_text(self) -> None:
        label = _KIND_LABELS[self._kind]
        headline = self._title.text() or self._message.text()
        self.setAccessibleName(f"{label}: {headline}" if headline else label)
        details = [self._message.text()] if self._title.text() else []
        details += self._items
        self.setAccessibleDescription(" ".join(part for part in details if part))
