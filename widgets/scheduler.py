"""SchedulerView: a day/week grid of columns (people, rooms or days) and timed blocks.

The view knows nothing about what the columns or blocks are: the screen gives columns
(key, title) and items (id, column key, start and end in minutes from midnight, title,
subtitle, tone) and listens to what the user asks for. Keyboard first: arrows move a
cursor over the slots, Enter books an empty slot or opens a block, Ctrl+arrows move the
block under the cursor, Delete asks to remove it; the mouse does the same by
double-click and drag.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from PySide6.QtCore import QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QScrollArea, QSizePolicy, QWidget

from widgets.status_chip import TONE_TOKENS, tone_colors
from widgets.theme import current_colors
from widgets.tokens import FOCUS_RING_WIDTH, FontSize, Radius, Spacing

GUTTER: Final = 56
HEADER: Final = 32
MIN_COLUMN: Final = 140


@dataclass(frozen=True, slots=True)
class SchedulerColumn:
    """A column: a person, a room or a day."""

    key: Any
    title: str


@dataclass(frozen=True, slots=True)
class SchedulerItem:
    """A block in a column from ``start`` to ``end`` minutes after midnight."""

    id: Any
    column: Any
    start: int
    end: int
    title: str
    subtitle: str = ""
    tone: str = "info"
    movable: bool = True


class SchedulerView(QWidget):
    """A time grid with a keyboard cursor.

    Args:
        first_minute / last_minute: the visible range of the day (e.g. 8:00-18:00).
        slot_minutes: the grid step (cursor moves, drag snaps, new bookings start).
        slot_height: pixels per slot.
        parent: the parent widget.

    Signals:
        sig_slot_activated(object, int): Enter or double-click on an empty slot: the
            column key and the slot's start minute.
        sig_item_activated(object): Enter or double-click on a block: its id.
        sig_item_move_requested(object, object, int): a block dragged or moved with
            Ctrl+arrows: its id, the new column key and the new start minute.
        sig_item_delete_requested(object): Delete on a block: its id.
        sig_cursor_changed(str): the cursor moved; a description of where it is.
    """

    sig_slot_activated = Signal(object, int)
    sig_item_activated = Signal(object)
    sig_item_move_requested = Signal(object, object, int)
    sig_item_delete_requested = Signal(object)
    sig_cursor_changed = Signal(str)

    def __init__(
        self,
        first_minute: int = 8 * 60,
        last_minute: int = 18 * 60,
        slot_minutes: int = 15,
        slot_height: int = 22,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        if not 0 <= first_minute < last_minute <= 24 * 60:
            raise ValueError("first_minute/last_minute: must satisfy 0 <= first < last <= 1440")
        if slot_minutes <= 0 or (last_minute - first_minute) % slot_minutes:
            raise ValueError("slot_minutes: must divide the visible range")
        self._first = first_minute
        self._last = last_minute
        self._step = slot_minutes
        self._slot_height = slot_height
        self._columns: list[SchedulerColumn] = []
        self._items: list[SchedulerItem] = []
        self._cursor = (0, 0)  # column index, slot index
        self._drag: tuple[SchedulerItem, QPoint] | None = None
        self._drop: tuple[int, int] | None = None
        self._elisions: dict[tuple[str, int, int], str] = {}
        self._followed: QScrollArea | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Schedule")
        self.setMouseTracking(False)

    # Public API ---------------------------------------------------------------
    def set_columns(self, columns: Sequence[SchedulerColumn]) -> None:
        self._columns = list(columns)
        column, slot = self._cursor
        self._cursor = (min(column, max(0, len(self._columns) - 1)), slot)
        self.updateGeometry()
        self.update()
        self._announce()

    def columns(self) -> list[SchedulerColumn]:
        return list(self._columns)

    def set_items(self, items: Sequence[SchedulerItem]) -> None:
        """Replace the blocks (the cursor stays where it is)."""
        self._items = list(items)
        self.update()
        self._announce()

    def items(self) -> list[SchedulerItem]:
        return list(self._items)

    def slot_count(self) -> int:
        return (self._last - self._first) // self._step

    def cursor_slot(self) -> tuple[Any, int]:
        """(column key, start minute) under the cursor."""
        column, slot = self._cursor
        key = self._columns[column].key if self._columns else None
        return key, self._first + slot * self._step

    def set_cursor(self, column_key: Any, minute: int) -> None:
        """Put the cursor on ``column_key`` at ``minute`` (snapped to the grid)."""
        for index, column in enumerate(self._columns):
            if column.key == column_key:
                slot = (minute - self._first) // self._step
                self._move_cursor(index, slot)
                return

    def item_at_cursor(self) -> SchedulerItem | None:
        key, minute = self.cursor_slot()
        return self._item_at(key, minute)

    def text_pairs(self) -> list[tuple[str, str]]:
        """The (text, background) token pairs this view paints text with (contrast checks)."""
        pairs = [("text", "surface"), ("text_muted", "surface")]
        for item in self._items:
            background, text = TONE_TOKENS.get(item.tone, TONE_TOKENS["neutral"])
            pairs.append((text, background))
        return sorted(set(pairs))

    def header_rect(self) -> QRect:
        """Where the column titles are painted: the top of the visible part of the view
        (it stays there while a scroll area scrolls the day beneath it)."""
        top = max(0, self.visibleRegion().boundingRect().top())
        return QRect(0, top, self.width(), HEADER)

    def slot_rect(self, column: int, slot: int) -> QRect:
        """Where a slot is painted (widget coordinates)."""
        width = self._column_width()
        return QRect(
            GUTTER + column * width,
            HEADER + slot * self._slot_height,
            width,
            self._slot_height,
        )

    # Qt overrides -------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return QSize(
            GUTTER + max(1, len(self._columns)) * MIN_COLUMN,
            HEADER + self.slot_count() * self._slot_height + 1,
        )

    def minimumSizeHint(self) -> QSize:
        return QSize(GUTTER + MIN_COLUMN, self.sizeHint().height())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        column, slot = self._cursor
        moves = {
            Qt.Key.Key_Up: (0, -1),
            Qt.Key.Key_Down: (0, 1),
            Qt.Key.Key_Left: (-1, 0),
            Qt.Key.Key_Right: (1, 0),
        }
        if key in moves:
            dx, dy = moves[Qt.Key(key)]
            if ctrl:
                self._nudge(dx, dy)
            else:
                self._move_cursor(column + dx, slot + dy)
            return
        if key == Qt.Key.Key_PageUp:
            self._move_cursor(column, slot - 4)
        elif key == Qt.Key.Key_PageDown:
            self._move_cursor(column, slot + 4)
        elif key == Qt.Key.Key_Home:
            self._move_cursor(column, 0)
        elif key == Qt.Key.Key_End:
            self._move_cursor(column, self.slot_count() - 1)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self._activate()
        elif key == Qt.Key.Key_Delete:
            item = self.item_at_cursor()
            if item is not None:
                self.sig_item_delete_requested.emit(item.id)
        else:
            super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.header_rect().contains(event.position().toPoint()):
            event.accept()  # the titles: nothing to do, and nothing beneath them is hit
            return None
        hit = self._hit(event.position().toPoint())
        if hit is None:
            return super().mousePressEvent(event)
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self._move_cursor(*hit)
        item = self.item_at_cursor()
        if item is not None and item.movable and event.button() == Qt.MouseButton.LeftButton:
            self._drag = (item, event.position().toPoint())
        return None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag is None:
            return
        hit = self._hit(event.position().toPoint())
        if hit is not None:
            item, origin = self._drag
            offset = (origin.y() - HEADER) // self._slot_height - (
                item.start - self._first
            ) // self._step
            self._drop = (hit[0], hit[1] - offset)
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        drag, drop = self._drag, self._drop
        self._drag = self._drop = None
        self.update()
        if drag is None or drop is None:
            return
        item = drag[0]
        column, slot = drop
        minute = self._first + slot * self._step
        key = self._columns[column].key
        if (key, minute) != (item.column, item.start):
            self.sig_item_move_requested.emit(item.id, key, minute)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        hit = self._hit(event.position().toPoint())
        if hit is not None:
            self._move_cursor(*hit)
            self._activate()

    def paintEvent(self, event: QPaintEvent) -> None:
        # Only what is exposed is painted (in a scroll area, about half the day): a week
        # of a busy vet is a hundred blocks, each a rounded rectangle and two shaped texts.
        exposed = event.rect()
        colors = current_colors()
        painter = QPainter(self)
        painter.fillRect(exposed, QColor(colors.surface))
        width = self._column_width()
        small = QFont(self.font())
        small.setPixelSize(FontSize.SMALL)
        painter.setFont(small)
        # Hours in the gutter, lines across.
        first_slot = max(0, (exposed.top() - HEADER) // self._slot_height)
        last_slot = min(self.slot_count(), (exposed.bottom() - HEADER) // self._slot_height + 1)
        for slot in range(first_slot, last_slot + 1):
            y = HEADER + slot * self._slot_height
            minute = self._first + slot * self._step
            strong = minute % 60 == 0
            painter.setPen(QColor(colors.border if strong else colors.surface_alt))
            painter.drawLine(GUTTER, y, self.width(), y)
            if strong and slot < self.slot_count():
                painter.setPen(QColor(colors.text_muted))
                painter.drawText(
                    QRect(0, y, GUTTER - Spacing.SM, self._slot_height),
                    int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                    f"{minute // 60:02d}:{minute % 60:02d}",
                )
        for index in range(len(self._columns)):
            x = GUTTER + index * width
            painter.setPen(QColor(colors.border))
            painter.drawLine(x, 0, x, self.height())
        painter.setFont(small)
        for item in self._items:
            rect = self._item_rect(item)
            if rect is not None and rect.intersects(exposed):
                self._paint_item(painter, rect, item, colors)
        if self._drag is not None and self._drop is not None:
            item = self._drag[0]
            slots = max(1, (item.end - item.start) // self._step)
            ghost = self.slot_rect(*self._drop)
            ghost.setHeight(slots * self._slot_height)
            pen = QPen(QColor(colors.focus_ring), FOCUS_RING_WIDTH, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(ghost.adjusted(2, 1, -2, -1), Radius.MD, Radius.MD)
        if self._columns:
            cursor = self.slot_rect(*self._cursor).adjusted(1, 1, -1, -1)
            pen = QPen(QColor(colors.focus_ring), FOCUS_RING_WIDTH)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            if self.hasFocus():
                painter.drawRect(cursor)
        self._paint_header(painter, width, colors)
        painter.end()

    def _paint_header(self, painter: QPainter, width: int, colors: Any) -> None:
        """The column titles, over whatever is scrolled beneath them: in a scroll area they
        stay at the top of what is visible, so the afternoon still says whose column it is."""
        header = self.header_rect()
        painter.fillRect(header, QColor(colors.surface))
        painter.setPen(QColor(colors.border))
        painter.drawLine(header.left(), header.bottom(), header.right(), header.bottom())
        bold = QFont(self.font())
        bold.setBold(True)
        painter.setFont(bold)
        for index, column in enumerate(self._columns):
            x = GUTTER + index * width
            painter.setPen(QColor(colors.border))
            painter.drawLine(x, header.top(), x, header.bottom())
            painter.setPen(QColor(colors.text))
            title = painter.fontMetrics().elidedText(
                column.title, Qt.TextElideMode.ElideRight, width - 2 * Spacing.SM
            )
            painter.drawText(
                QRect(x + Spacing.SM, header.top(), width - 2 * Spacing.SM, HEADER),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                title,
            )

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        area = self._scroll_area()
        if area is not None and area is not self._followed:
            # a scroll moves the painted pixels: the titles must be painted again on top
            self._followed = area
            area.verticalScrollBar().valueChanged.connect(self.update)

    def focusInEvent(self, event: Any) -> None:
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event: Any) -> None:
        super().focusOutEvent(event)
        self.update()

    # Internals ----------------------------------------------------------------
    def _column_width(self) -> int:
        count = max(1, len(self._columns))
        return max(MIN_COLUMN // 2, (self.width() - GUTTER) // count)

    def _column_index(self, key: Any) -> int | None:
        for index, column in enumerate(self._columns):
            if column.key == key:
                return index
        return None

    def _item_rect(self, item: SchedulerItem) -> QRect | None:
        column = self._column_index(item.column)
        if column is None or item.end <= self._first or item.start >= self._last:
            return None
        top = HEADER + (max(item.start, self._first) - self._first) * self._slot_height / self._step
        bottom = HEADER + (min(item.end, self._last) - self._first) * self._slot_height / self._step
        width = self._column_width()
        return QRect(
            GUTTER + column * width + 3, int(top) + 1, width - 6, max(6, int(bottom - top) - 2)
        )

    def _paint_item(self, painter: QPainter, rect: QRect, item: SchedulerItem, colors: Any) -> None:
        background, foreground = tone_colors(item.tone, colors)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QColor(colors.border_strong))
        painter.setBrush(background)
        painter.drawRoundedRect(QRectF(rect), Radius.MD, Radius.MD)
        painter.setPen(foreground)
        text_rect = rect.adjusted(Spacing.SM // 2 + 2, 1, -Spacing.XS, -1)
        metrics = painter.fontMetrics()
        line = metrics.height()
        title = self._elided(metrics, item.title, text_rect.width())
        painter.drawText(
            text_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop), title
        )
        if item.subtitle and text_rect.height() >= 2 * line:
            sub = self._elided(metrics, item.subtitle, text_rect.width())
            painter.drawText(
                text_rect.adjusted(0, line, 0, 0),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop),
                sub,
            )
        painter.restore()

    def _elided(self, metrics: QFontMetrics, text: str, width: int) -> str:
        """``text`` cut to ``width`` with an ellipsis; remembered, since shaping a text is
        the dearest part of painting a block and the same blocks repaint on every move."""
        key = (text, width, metrics.height())
        cut = self._elisions.get(key)
        if cut is None:
            if len(self._elisions) > 4096:
                self._elisions.clear()
            cut = metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)
            self._elisions[key] = cut
        return cut

    def _item_at(self, key: Any, minute: int) -> SchedulerItem | None:
        for item in self._items:
            if item.column == key and item.start <= minute < item.end:
                return item
        return None

    def _hit(self, point: QPoint) -> tuple[int, int] | None:
        if point.x() < GUTTER or point.y() < HEADER or not self._columns:
            return None
        if self.header_rect().contains(point):
            return None  # the titles, over the slots scrolled beneath them
        column = (point.x() - GUTTER) // self._column_width()
        slot = (point.y() - HEADER) // self._slot_height
        if column >= len(self._columns) or slot >= self.slot_count():
            return None
        return int(column), int(slot)

    def _move_cursor(self, column: int, slot: int) -> None:
        if not self._columns:
            return
        column = min(max(0, column), len(self._columns) - 1)
        slot = min(max(0, slot), self.slot_count() - 1)
        self._cursor = (column, slot)
        self._ensure_visible()
        self.update()
        self._announce()

    def _nudge(self, dx: int, dy: int) -> None:
        item = self.item_at_cursor()
        if item is None or not item.movable:
            return
        column = self._column_index(item.column)
        if column is None:
            return
        target = min(max(0, column + dx), len(self._columns) - 1)
        minute = item.start + dy * self._step
        if minute < self._first or minute + (item.end - item.start) > self._last:
            return
        if (target, minute) == (column, item.start):
            return
        self._cursor = (target, (minute - self._first) // self._step)
        self.sig_item_move_requested.emit(item.id, self._columns[target].key, minute)
        self.update()

    def _activate(self) -> None:
        item = self.item_at_cursor()
        if item is not None:
            self.sig_item_activated.emit(item.id)
            return
        key, minute = self.cursor_slot()
        if key is not None:
            self.sig_slot_activated.emit(key, minute)

    def _scroll_area(self) -> QScrollArea | None:
        parent = self.parentWidget()
        while parent is not None and not isinstance(parent, QScrollArea):
            parent = parent.parentWidget()
        return parent

    def _ensure_visible(self) -> None:
        parent = self._scroll_area()
        if parent is not None:
            rect = self.slot_rect(*self._cursor)
            parent.ensureVisible(rect.center().x(), rect.center().y(), 0, self._slot_height * 2)

    def _announce(self) -> None:
        if not self._columns:
            self.setAccessibleDescription("No columns")
            return
        key, minute = self.cursor_slot()
        column = self._columns[self._cursor[0]].title
        item = self._item_at(key, minute)
        when = f"{minute // 60:02d}:{minute % 60:02d}"
        text = f"{column}, {when}: " + (f"{item.title} {item.subtitle}".strip() if item else "free")
        self.setAccessibleDescription(text)
        self.sig_cursor_changed.emit(text)
