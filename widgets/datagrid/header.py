"""The grid's column header: it takes keyboard focus, so every header action has a key.

A plain ``QHeaderView`` takes no focus: sorting, filtering, hiding, moving and resizing a
column were mouse-only. This header keeps a *current section* while it has focus:

- Left/Right, Home/End: choose a column;
- Enter or Space: what a click does (sort; Shift adds a sort key; on the checkbox column,
  select the page);
- Menu key or Shift+F10: the header menu (sort, filter, clear filter, hide, columns);
- Ctrl+Left/Right: move the column; Ctrl+Plus/Ctrl+Minus: widen or narrow it;
- Down or Escape: back to the table.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import QHeaderView, QWidget

RESIZE_STEP = 16
MIN_WIDTH = 24
_NO_MODS = Qt.KeyboardModifier.NoModifier
_SHIFT = Qt.KeyboardModifier.ShiftModifier
_CTRL = Qt.KeyboardModifier.ControlModifier
_KEYPAD = Qt.KeyboardModifier.KeypadModifier


def is_menu_key(event: QKeyEvent) -> bool:
    """The Menu key, or Shift+F10 (its stand-in on keyboards without one)."""
    mods = event.modifiers() & ~_KEYPAD
    if event.key() == Qt.Key.Key_Menu and mods == _NO_MODS:
        return True
    return event.key() == Qt.Key.Key_F10 and mods == _SHIFT


class GridHeader(QHeaderView):
    """A horizontal header with a keyboard-current section (see the module docstring).

    Args:
        fixed_sections: Leading sections that never move (the checkbox column).

    Signals:
        sig_section_activated(int, bool): Enter/Space on a section; True when Shift was held.
        sig_menu_requested(int): the Menu key or Shift+F10 on a section.
        sig_leave_requested(): Down or Escape: focus should return to the table.
    """

    sig_section_activated = Signal(int, bool)
    sig_menu_requested = Signal(int)
    sig_leave_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setObjectName("dataGridHeader")
        self.setAccessibleName("Column headers")
        # Tab reaches it (and setFocus); a mouse click sorts without taking focus from rows.
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.setSectionsClickable(True)
        self.fixed_sections = 0
        self._current = -1

    # ---- the current section -------------------------------------------------------------

    def current_section(self) -> int:
        """The logical section the keys act on: the one chosen, or the nearest visible one."""
        count = self.count()
        if 0 <= self._current < count and not self.isSectionHidden(self._current):
            return self._current
        visible = self._visible_by_position()
        if not visible:
            return -1
        if 0 <= self._current < count:  # hidden meanwhile: its right neighbour, else the last
            position = self.visualIndex(self._current)
            after = [s for s in visible if self.visualIndex(s) > position]
            return after[0] if after else visible[-1]
        data = [s for s in visible if self.visualIndex(s) >= self.fixed_sections]
        return (data or visible)[0]

    def set_current_section(self, section: int) -> None:
        """Make logical ``section`` current (and show it)."""
        if 0 <= section < self.count():
            self._current = section
            self._announce()
            self.viewport().update()

    # ---- Qt --------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        mods = event.modifiers() & ~_KEYPAD
        current = self.current_section()
        if current < 0:
            super().keyPressEvent(event)
            return
        if is_menu_key(event):
            self.sig_menu_requested.emit(current)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and mods == _CTRL:
            self._move(current, -1 if key == Qt.Key.Key_Left else 1)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and mods == _NO_MODS:
            self._step(-1 if key == Qt.Key.Key_Left else 1)
        elif key in (Qt.Key.Key_Home, Qt.Key.Key_End) and mods == _NO_MODS:
            visible = self._visible_by_position()
            self.set_current_section(visible[0 if key == Qt.Key.Key_Home else -1])
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal, Qt.Key.Key_Minus) and mods & _CTRL:
            step = -RESIZE_STEP if key == Qt.Key.Key_Minus else RESIZE_STEP
            self.resizeSection(current, max(MIN_WIDTH, self.sectionSize(current) + step))
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space) and mods in (
            _NO_MODS,
            _SHIFT,
        ):
            self.sig_section_activated.emit(current, mods == _SHIFT)
        elif key in (Qt.Key.Key_Down, Qt.Key.Key_Escape) and mods == _NO_MODS:
            self.sig_leave_requested.emit()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def focusNextPrevChild(self, next: bool) -> bool:
        # The header sits before the rows: Tab goes down into the table, Shift+Tab leaves it
        # (the table finds the control before the grid).
        table = self.parentWidget()
        focus_outside = getattr(table, "focus_outside", None)
        if table is None or focus_outside is None:
            return super().focusNextPrevChild(next)
        if next:
            table.setFocus(Qt.FocusReason.TabFocusReason)
            return True
        return bool(focus_outside(forward=False))

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self._announce()
        self.viewport().update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.viewport().update()

    def paintSection(self, painter: QPainter, rect: QRect, logicalIndex: int) -> None:  # noqa: N803
        painter.save()
        super().paintSection(painter, rect, logicalIndex)
        painter.restore()
        if self.hasFocus() and logicalIndex == self.current_section():
            # The style's focus frame is too faint on a header: a ring in the theme's accent.
            painter.save()
            pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), 2)
            painter.setPen(pen)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.drawRoundedRect(QRectF(rect).adjusted(2, 2, -2, -2), 3, 3)
            painter.restore()

    # ---- internals ---------------------------------------------------------------------------

    def _visible_by_position(self) -> list[int]:
        sections = (self.logicalIndex(v) for v in range(self.count()))
        return [s for s in sections if not self.isSectionHidden(s)]

    def _step(self, step: int) -> None:
        visible = self._visible_by_position()
        position = visible.index(self.current_section()) + step
        if 0 <= position < len(visible):
            self.set_current_section(visible[position])

    def _move(self, section: int, step: int) -> None:
        visible = self._visible_by_position()
        position = visible.index(section) + step
        if not 0 <= position < len(visible):
            return
        target = self.visualIndex(visible[position])
        if min(target, self.visualIndex(section)) < self.fixed_sections:
            return  # the checkbox column stays first
        self.moveSection(self.visualIndex(section), target)
        self.set_current_section(section)

    def _announce(self) -> None:
        model = self.model()
        current = self.current_section()
        if model is None or current < 0:
            return
        text = model.headerData(current, self.orientation(), Qt.ItemDataRole.AccessibleTextRole)
        self.setAccessibleDescription(f"Column {text}" if text else "")
