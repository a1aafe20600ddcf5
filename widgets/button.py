"""Button: the kit's push button with variants, sizes, loading, icon and a focus ring."""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import (
    Property,
    QEvent,
    QPoint,
    QRectF,
    QSize,
    Qt,
    QTimer,
)
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QHideEvent,
    QIcon,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyleOptionButton,
    QStylePainter,
    QWidget,
)

from widgets.icons import ICON_NAMES, icon_pixmap, paint_spinner
from widgets.theme import FOCUS_MARGIN, current_colors
from widgets.tokens import FOCUS_RING_WIDTH, Radius, Spacing

VARIANTS: Final = ("primary", "secondary", "danger", "success")
SIZES: Final = ("small", "medium", "large")
ICON_POSITIONS: Final = ("left", "right")
SIM_STATES: Final = ("", "hover", "pressed", "focus")

_SPINNER_STEP_DEG: Final = 30
_SPINNER_INTERVAL_MS: Final = 80


def _check_choice(field: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{field}: must be one of {', '.join(allowed)}, got {value!r}")


class Button(QPushButton):
    """A push button styled from the tokens.

    Args:
        text: the label; also the accessible name unless ``accessible_name`` is given.
        variant: "primary", "secondary", "danger" or "success".
        button_size: "small", "medium" or "large".
        icon: an icon name from ``widgets.icons.ICON_NAMES`` or "" for none.
        icon_position: "left" or "right" of the text.
        loading: shows a spinner instead of the label; the button keeps its width,
            stays focusable and ignores clicks and keys.
        full_width: stretch to the width of the parent layout.
        accessible_name: the name screen readers announce (needed for icon-only buttons).
        parent: the parent widget.

    Properties (Qt):
        variant (str), button_size (str), loading (bool), full_width (bool),
        icon_name (str), icon_position (str), sim_state (str: "", "hover",
        "pressed" or "focus"; shows a state without the mouse, for the gallery's
        state matrix).

    Signals:
        clicked(bool), pressed(), released(), toggled(bool): as QPushButton. None of
        them fires while the button is loading or disabled.
    """

    def __init__(
        self,
        text: str = "",
        *,
        variant: str = "primary",
        button_size: str = "medium",
        icon: str = "",
        icon_position: str = "left",
        loading: bool = False,
        full_width: bool = False,
        accessible_name: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(text, parent)
        self._variant = "primary"
        self._button_size = "medium"
        self._icon_name = ""
        self._icon_position = "left"
        self._loading = False
        self._full_width = False
        self._sim_state = ""
        self._spinner_angle = 0
        self._spinner = QTimer(self)
        self._spinner.setInterval(_SPINNER_INTERVAL_MS)
        self._spinner.timeout.connect(self._advance_spinner)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAutoDefault(False)
        self.set_variant(variant)
        self.set_button_size(button_size)
        self.set_icon_position(icon_position)
        self.set_icon_name(icon)
        self.set_full_width(full_width)
        self.set_loading(loading)
        if accessible_name:
            # Without one, assistive technology reads the label (and follows setText).
            self.setAccessibleName(accessible_name)

    # Properties -----------------------------------------------------------------------
    def get_variant(self) -> str:
        """The colour variant."""
        return self._variant

    def set_variant(self, variant: str) -> None:
        """Change the variant (primary, secondary, danger, success)."""
        _check_choice("variant", variant, VARIANTS)
        self._variant = variant
        self._restyle()

    def get_button_size(self) -> str:
        """The size: small, medium or large."""
        return self._button_size

    def set_button_size(self, button_size: str) -> None:
        """Change the size (small, medium, large)."""
        _check_choice("button_size", button_size, SIZES)
        self._button_size = button_size
        self._restyle()

    def get_icon_name(self) -> str:
        """The icon's name, or "" for none."""
        return self._icon_name

    def set_icon_name(self, name: str) -> None:
        """Show icon ``name`` next to the text ("" removes it)."""
        if name:
            _check_choice("icon", name, ICON_NAMES)
        self._icon_name = name
        self._refresh_icon()

    def get_icon_position(self) -> str:
        """Where the icon sits: left or right of the text."""
        return self._icon_position

    def set_icon_position(self, position: str) -> None:
        """Put the icon left or right of the text."""
        _check_choice("icon_position", position, ICON_POSITIONS)
        self._icon_position = position
        self.setLayoutDirection(
            Qt.LayoutDirection.RightToLeft
            if position == "right"
            else Qt.LayoutDirection.LeftToRight
        )
        self.update()

    def is_loading(self) -> bool:
        """Whether the spinner shows and clicks are ignored."""
        return self._loading

    def set_loading(self, loading: bool) -> None:
        """Show a spinner in place of the label; clicks and keys do nothing meanwhile."""
        self._loading = bool(loading)
        self.setProperty("aria_busy", self._loading)
        self.setAccessibleDescription("Loading…" if self._loading else "")
        if self._loading:
            self.setDown(False)
            self._spinner_angle = 0
            if self.isVisible():
                self._spinner.start()
        else:
            self._spinner.stop()
        self.setCursor(
            Qt.CursorShape.BusyCursor if self._loading else Qt.CursorShape.PointingHandCursor
        )
        self.update()

    def is_full_width(self) -> bool:
        """Whether the button stretches to its layout's width."""
        return self._full_width

    def set_full_width(self, full_width: bool) -> None:
        """Stretch horizontally (True) or keep the label's width (False)."""
        self._full_width = bool(full_width)
        horizontal = QSizePolicy.Policy.Expanding if full_width else QSizePolicy.Policy.Fixed
        self.setSizePolicy(horizontal, QSizePolicy.Policy.Fixed)
        self.updateGeometry()

    def get_sim_state(self) -> str:
        """The simulated state shown for the gallery ("" when none)."""
        return self._sim_state

    def set_sim_state(self, state: str) -> None:
        """Show hover, pressed or focus without a mouse or focus ("" to stop)."""
        _check_choice("sim_state", state, SIM_STATES)
        self._sim_state = state
        self._restyle()

    variant = Property(str, get_variant, set_variant)
    button_size = Property(str, get_button_size, set_button_size)
    icon_name = Property(str, get_icon_name, set_icon_name)
    icon_position = Property(str, get_icon_position, set_icon_position)
    loading = Property(bool, is_loading, set_loading)
    full_width = Property(bool, is_full_width, set_full_width)
    sim_state = Property(str, get_sim_state, set_sim_state)

    def setText(self, text: str) -> None:
        """Change the label (the icon's gap follows: none for icon-only buttons)."""
        super().setText(text)
        self._refresh_icon()

    # Qt overrides ---------------------------------------------------------------------
    def hitButton(self, pos: QPoint) -> bool:
        # A loading button is visible and focusable but not clickable.
        return not self._loading and super().hitButton(pos)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self._loading and event.key() in (
            Qt.Key.Key_Space,
            Qt.Key.Key_Return,
            Qt.Key.Key_Enter,
            Qt.Key.Key_Select,
        ):
            event.accept()
            return
        if (
            event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and not event.modifiers()
            and not self.autoDefault()
            and not self.isDefault()
        ):
            # Outside dialogs QPushButton ignores Enter; keyboard users expect it to click.
            self.click()
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if self._loading and event.key() == Qt.Key.Key_Space:
            event.accept()
            return
        super().keyReleaseEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._loading:
            self._spinner.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self._spinner.stop()
        super().hideEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.StyleChange, QEvent.Type.EnabledChange):
            self._refresh_icon()
        super().changeEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QStylePainter(self)
        option = QStyleOptionButton()
        self.initStyleOption(option)
        if self._loading:
            # Draw the frame without label or icon: the size stays, the spinner replaces them.
            option.text = ""
            option.icon = QIcon()
        if self._sim_state == "pressed":
            option.state |= QStyle.StateFlag.State_Sunken
        painter.drawControl(QStyle.ControlElement.CE_PushButton, option)
        if self._loading:
            side = option.fontMetrics.height()
            rect = QRectF(0, 0, side, side)
            rect.moveCenter(QRectF(self.rect()).center())
            paint_spinner(painter, rect, self._spinner_angle, self._foreground())
        if self.hasFocus() or self._sim_state == "focus":
            self._paint_focus_ring(painter)

    # Internals ------------------------------------------------------------------------
    def _foreground(self) -> QColor:
        colors = current_colors()
        if not self.isEnabled():
            return QColor(colors.on_disabled)
        return QColor(getattr(colors, f"on_{self._variant}"))

    def _paint_focus_ring(self, painter: QPainter) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pen = QPen(QColor(current_colors().focus_ring), FOCUS_RING_WIDTH)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        half = FOCUS_RING_WIDTH / 2
        ring = QRectF(self.rect()).adjusted(half, half, -half, -half)
        radius = {"small": Radius.SM, "medium": Radius.MD, "large": Radius.LG}[self._button_size]
        painter.drawRoundedRect(ring, radius + FOCUS_MARGIN - 1, radius + FOCUS_MARGIN - 1)
        painter.restore()

    def _refresh_icon(self) -> None:
        if not self._icon_name:
            self.setIcon(QIcon())
            return
        side = self.fontMetrics().height()
        # Fusion leaves almost no gap between icon and label: pad the pixmap on the
        # label's side (no padding for icon-only buttons, which stay centred).
        gap = Spacing.SM if self.text() else 0
        dpr = 2.0
        glyph = icon_pixmap(self._icon_name, side, self._foreground(), dpr)
        canvas = QPixmap(round((side + gap) * dpr), round(side * dpr))
        canvas.setDevicePixelRatio(dpr)
        canvas.fill(Qt.GlobalColor.transparent)
        painter = QPainter(canvas)
        painter.drawPixmap(gap if self._icon_position == "right" else 0, 0, glyph)
        painter.end()
        self.setIcon(QIcon(canvas))
        self.setIconSize(QSize(side + gap, side))

    def _restyle(self) -> None:
        # QSS attribute selectors are evaluated at polish time only.
        style = self.style()
        style.unpolish(self)
        style.polish(self)
        self._refresh_icon()
        self.updateGeometry()
        self.update()

    def _advance_spinner(self) -> None:
        self._spinner_angle = (self._spinner_angle + _SPINNER_STEP_DEG) % 360
        self.update()
