"""The canvas: the trigger and the steps as nodes, branches as edges, on a QGraphicsView.

Drawn from the document on every change (a workflow has tens of steps, not thousands), so
the canvas never disagrees with the file. Keyboard: Up/Down select the previous/next
step, Ctrl+Up/Ctrl+Down move it, Delete removes it, +/- zoom and Ctrl+0 resets the zoom.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QKeyEvent, QPainter, QPen, QWheelEvent
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QWidget,
)

from purplecross_desktop.ui.workflow_builder.document_model import BuilderDocument
from widgets.theme import current_colors

NODE_W, NODE_H, GAP_X, GAP_Y = 230.0, 54.0, 40.0, 34.0
KIND_TONES = {
    "branch": "info_border",
    "for_each": "info_border",
    "wait": "warning_border",
    "wait_for_event": "warning_border",
    "stop": "border_strong",
}


class StepNode(QGraphicsRectItem):
    """One node: a rounded box with the step's name and action."""

    def __init__(self, step_id: str, title: str, subtitle: str, tone: str, error: bool) -> None:
        super().__init__(0, 0, NODE_W, NODE_H)
        self.step_id = step_id
        colors = current_colors()
        self.setBrush(QBrush(QColor(colors.surface)))
        border = colors.error_border if error else getattr(colors, tone)
        self.setPen(QPen(QColor(border), 2.0))
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(f"{title}\n{subtitle}")
        heading = QGraphicsSimpleTextItem(_clip(title, 30), self)
        font = QFont()
        font.setBold(True)
        heading.setFont(font)
        heading.setBrush(QBrush(QColor(colors.text)))
        heading.setPos(10, 8)
        detail = QGraphicsSimpleTextItem(_clip(subtitle, 34), self)
        detail.setBrush(QBrush(QColor(colors.error_text if error else colors.text_muted)))
        detail.setPos(10, 30)

    def paint(self, painter: QPainter, option: Any, widget: QWidget | None = None) -> None:
        colors = current_colors()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(self.pen())
        if self.isSelected():
            pen = QPen(QColor(colors.focus_ring), 3.0)
        painter.setPen(pen)
        painter.setBrush(self.brush())
        painter.drawRoundedRect(self.rect(), 8, 8)


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


class WorkflowCanvas(QGraphicsView):
    """The document drawn as a graph.

    Signals:
        sig_step_selected(str): a node was selected ("" for the trigger).
    """

    sig_step_selected = Signal(str)

    def __init__(self, document: BuilderDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Workflow canvas")
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.nodes: dict[str, StepNode] = {}
        self._order: list[str] = []
        self._selected = ""
        self._zoom = 1.0
        self.scene().selectionChanged.connect(self._selection_changed)
        document.sig_document_changed.connect(self.redraw)
        self.redraw()

    # Drawing ---------------------------------------------------------------------------
    def redraw(self) -> None:
        scene = self.scene()
        scene.blockSignals(True)
        scene.clear()
        self.nodes = {}
        self._order = []
        colors = current_colors()
        self.setBackgroundBrush(QBrush(QColor(colors.window)))
        data = self.document.data
        problems = {p.where.removeprefix("step ").strip("'") for p in self.document.problems()}
        trigger = data.get("trigger") or {}
        what = trigger.get("event") or trigger.get("cron") or trigger.get("field") or "by hand"
        head = self._node(
            "", "Trigger", f"{trigger.get('type', '?')}: {what}", "primary", "trigger" in problems
        )
        head.setPos(0, 0)
        self._edges_pen = QPen(QColor(colors.border_strong), 1.6)
        self._place(data.get("steps") or [], 0.0, NODE_H + GAP_Y, [head], problems)
        scene.setSceneRect(scene.itemsBoundingRect().adjusted(-40, -40, 40, 40))
        scene.blockSignals(False)
        if self._selected in self.nodes:
            self.nodes[self._selected].setSelected(True)

    def _node(self, step_id: str, title: str, subtitle: str, tone: str, error: bool) -> StepNode:
        node = StepNode(step_id, title, subtitle, tone, error)
        self.scene().addItem(node)
        self.nodes[step_id] = node
        self._order.append(step_id)
        return node

    def _place(
        self,
        steps: list[dict[str, Any]],
        x: float,
        y: float,
        previous: list[StepNode],
        problems: set[str],
    ) -> tuple[float, list[StepNode]]:
        """Lay ``steps`` out downwards from (x, y); returns the width used and the tails."""
        width = NODE_W
        for step in steps:
            action = str(step.get("action"))
            tone = KIND_TONES.get(action, "primary")
            title = str(step.get("name") or step.get("id"))
            node = self._node(
                str(step.get("id")), title, action, tone, str(step.get("id")) in problems
            )
            node.setPos(x, y)
            for before in previous:
                self._edge(before, node)
            y += NODE_H + GAP_Y
            blocks = [k for k in ("then", "else", "steps") if k in step]
            if not blocks:
                previous = [node]
                continue
            tails: list[StepNode] = [] if action == "branch" else [node]
            column_x = x
            deepest = y
            for key in blocks:
                label = QGraphicsSimpleTextItem(key)
                label.setBrush(QBrush(QColor(current_colors().text_muted)))
                label.setPos(column_x + 4, y - GAP_Y + 4)
                self.scene().addItem(label)
                used, block_tails = self._place(
                    step.get(key) or [], column_x, y + 6, [node], problems
                )
                tails += block_tails or [node]
                column_x += used + GAP_X
                deepest = max(deepest, self._bottom(block_tails) + GAP_Y)
            if action == "branch" and "else" not in step:
                tails.append(node)  # a false condition goes straight on
            width = max(width, column_x - GAP_X - x)
            y = deepest
            previous = tails
        return width, previous

    @staticmethod
    def _bottom(nodes: list[StepNode]) -> float:
        return max((n.pos().y() + NODE_H for n in nodes), default=0.0)

    def _edge(self, start: StepNode, end: StepNode) -> None:
        a = start.pos() + QPointF(NODE_W / 2, NODE_H)
        b = end.pos() + QPointF(NODE_W / 2, 0)
        line = self.scene().addLine(a.x(), a.y(), b.x(), b.y(), self._edges_pen)
        line.setZValue(-1)

    # Selection and keys ----------------------------------------------------------------
    def select(self, step_id: str) -> None:
        """Select (and show) a node."""
        node = self.nodes.get(step_id)
        if node is None:
            return
        self.scene().clearSelection()
        node.setSelected(True)
        self.ensureVisible(node)

    def selected(self) -> str:
        return self._selected

    def _selection_changed(self) -> None:
        items = [i for i in self.scene().selectedItems() if isinstance(i, StepNode)]
        if items:
            self._selected = items[0].step_id
            self.sig_step_selected.emit(self._selected)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            delta = -1 if key == Qt.Key.Key_Up else 1
            if ctrl and self._selected:
                self.document.move_step(self._selected, delta)
            else:
                order = self._order
                at = order.index(self._selected) if self._selected in order else 0
                self.select(order[max(0, min(len(order) - 1, at + delta))])
            return
        if key == Qt.Key.Key_Delete and self._selected:
            self.document.remove_step(self._selected)
            self._selected = ""
            return
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom(1.2)
            return
        if key == Qt.Key.Key_Minus:
            self.zoom(1 / 1.2)
            return
        if key == Qt.Key.Key_0 and ctrl:
            self.zoom(1 / self._zoom)
            return
        super().keyPressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom(1.15 if event.angleDelta().y() > 0 else 1 / 1.15)
            return
        super().wheelEvent(event)

    def zoom(self, factor: float) -> None:
        """Zoom by ``factor`` (kept between 25 % and 300 %)."""
        target = max(0.25, min(3.0, self._zoom * factor))
        self.scale(target / self._zoom, target / self._zoom)
        self._zoom = target

    def zoom_level(self) -> float:
        return self._zoom

    def node_rect(self, step_id: str) -> QRectF:
        return self.nodes[step_id].sceneBoundingRect()
