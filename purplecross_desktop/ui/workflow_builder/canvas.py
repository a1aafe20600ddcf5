"""The canvas: the trigger and the steps as nodes, branches as edges, on a QGraphicsView.

Drawn from the document on every change (a workflow has tens of steps, not thousands), so
the canvas never disagrees with the file. Keyboard: Up/Down select the previous/next
step, Ctrl+Up/Ctrl+Down move it, Delete removes it, +/- zoom and Ctrl+0 resets the zoom.

Each node has ports, small circles on its edge: ``next`` (bottom centre; on the right edge
of a branch or loop, for what follows the whole block), a branch's ``then`` and ``else``
and a loop's ``steps`` (bottom left and right). Dragging from a port draws a dashed line;
dropping it on another node asks to connect them (the builder checks and applies it
through the document, so it is undoable); the node under the line turns green when the
drop would be accepted and red when not. Escape cancels the drag.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsLineItem,
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
PORT_R = 6.0
PORT_HINTS = {
    "next": "runs next",
    "then": "runs first when the condition is true",
    "else": "runs first when the condition is false",
    "steps": "runs first for each item",
}


def port_offset(port: str, block: bool) -> QPointF:
    """Where a port sits on its node (``block``: a branch or loop, whose ``next`` port is on
    the right edge, its bottom taken by its blocks)."""
    if port in ("then", "steps"):
        return QPointF(NODE_W * 0.25, NODE_H)
    if port == "else":
        return QPointF(NODE_W * 0.75, NODE_H)
    return QPointF(NODE_W, NODE_H / 2) if block else QPointF(NODE_W / 2, NODE_H)


class PortItem(QGraphicsEllipseItem):
    """A node's port: drag from it onto another node to connect them."""

    def __init__(self, node: StepNode, port: str, block: bool, tone: str) -> None:
        super().__init__(-PORT_R, -PORT_R, 2 * PORT_R, 2 * PORT_R, node)
        self.step_id = node.step_id
        self.port = port
        colors = current_colors()
        self.setPos(port_offset(port, block))
        self.setPen(QPen(QColor(getattr(colors, tone)), 2.0))
        self.setBrush(QBrush(QColor(colors.surface)))
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        what = {"next": "after the whole block" if block else "next"}.get(port, port)
        hint = "runs after the whole block" if port == "next" and block else PORT_HINTS[port]
        self.setToolTip(f"{what}: drag onto a step and it {hint} (keyboard: Connect to…)")

    def hoverEnterEvent(self, event: Any) -> None:
        self.setBrush(QBrush(QColor(current_colors().focus_ring)))
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event: Any) -> None:
        self.setBrush(QBrush(QColor(current_colors().surface)))
        super().hoverLeaveEvent(event)


class StepNode(QGraphicsRectItem):
    """One node: a rounded box with the step's name and action."""

    def __init__(self, step_id: str, title: str, subtitle: str, tone: str, error: bool) -> None:
        super().__init__(0, 0, NODE_W, NODE_H)
        self.step_id = step_id
        #: While a connection is dragged over this node: "ok", "refused" or "".
        self.drop_state = ""
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
        if self.drop_state == "ok":
            pen = QPen(QColor(colors.success_border), 3.0)
        elif self.drop_state == "refused":
            pen = QPen(QColor(colors.error_border), 3.0, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(self.brush())
        painter.drawRoundedRect(self.rect(), 8, 8)


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


class WorkflowCanvas(QGraphicsView):
    """The document drawn as a graph.

    Signals:
        sig_step_selected(str): a node was selected ("" for the trigger).
        sig_connection_requested(str, str, str): a port's line was dropped on a node:
            the source step ("" for the trigger), its port, the target step.
    """

    sig_step_selected = Signal(str)
    sig_connection_requested = Signal(str, str, str)

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
        self._drag: PortItem | None = None
        self._band: QGraphicsLineItem | None = None
        self._hover: StepNode | None = None
        self._cursor = self.viewport().cursor()
        self.scene().selectionChanged.connect(self._selection_changed)
        document.sig_document_changed.connect(self.redraw)
        self.redraw()

    # Drawing ---------------------------------------------------------------------------
    def redraw(self) -> None:
        self._end_drag()
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
        self._place(data.get("steps") or [], 0.0, NODE_H + GAP_Y, problems)
        for source, port, target in self.document.edges():
            self._edge(self.nodes[source], port, self.nodes[target])
        scene.setSceneRect(scene.itemsBoundingRect().adjusted(-40, -40, 40, 40))
        scene.blockSignals(False)
        if self._selected in self.nodes:
            self.nodes[self._selected].setSelected(True)

    def _node(self, step_id: str, title: str, subtitle: str, tone: str, error: bool) -> StepNode:
        node = StepNode(step_id, title, subtitle, tone, error)
        ports = self.document.ports(step_id)
        for port in ports:
            PortItem(node, port, len(ports) > 1, tone)
        self.scene().addItem(node)
        self.nodes[step_id] = node
        self._order.append(step_id)
        return node

    def _place(
        self, steps: list[dict[str, Any]], x: float, y: float, problems: set[str]
    ) -> tuple[float, float]:
        """Lay ``steps`` out downwards from (x, y); returns the width used and the bottom."""
        width = NODE_W
        for step in steps:
            action = str(step.get("action"))
            tone = KIND_TONES.get(action, "primary")
            title = str(step.get("name") or step.get("id"))
            node = self._node(
                str(step.get("id")), title, action, tone, str(step.get("id")) in problems
            )
            node.setPos(x, y)
            y += NODE_H + GAP_Y
            blocks = [k for k in ("then", "else", "steps") if k in step]
            if not blocks:
                continue
            column_x = x
            deepest = y
            for key in blocks:
                label = QGraphicsSimpleTextItem(key)
                label.setBrush(QBrush(QColor(current_colors().text_muted)))
                label.setPos(column_x + 4, y - GAP_Y + 4)
                self.scene().addItem(label)
                used, bottom = self._place(step.get(key) or [], column_x, y + 6, problems)
                column_x += used + GAP_X
                deepest = max(deepest, bottom + GAP_Y if step.get(key) else y)
            width = max(width, column_x - GAP_X - x)
            y = deepest
        return width, y - GAP_Y

    def _edge(self, start: StepNode, port: str, end: StepNode) -> None:
        a = start.pos() + port_offset(port, len(self.document.ports(start.step_id)) > 1)
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

    # Connecting by dragging ---------------------------------------------------------
    def port_point(self, step_id: str, port: str = "next") -> QPoint:
        """Where a node's port is, in viewport coordinates (for tests and tools)."""
        node = self.nodes[step_id]
        item = next(i for i in node.childItems() if isinstance(i, PortItem) and i.port == port)
        return self.mapFromScene(item.scenePos())

    def node_point(self, step_id: str) -> QPoint:
        """A node's centre, in viewport coordinates."""
        return self.mapFromScene(self.nodes[step_id].sceneBoundingRect().center())

    def dragging(self) -> bool:
        """Whether a connection is being dragged."""
        return self._drag is not None

    def _node_at(self, point: QPoint) -> StepNode | None:
        for item in self.items(point):
            while item is not None and not isinstance(item, StepNode):
                item = item.parentItem()
            if isinstance(item, StepNode):
                return item
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        item = self.itemAt(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton and isinstance(item, PortItem):
            self._drag = item
            start = item.scenePos()
            self._band = QGraphicsLineItem(start.x(), start.y(), start.x(), start.y())
            pen = QPen(QColor(current_colors().focus_ring), 2.0, Qt.PenStyle.DashLine)
            self._band.setPen(pen)
            self._band.setZValue(10)
            self.scene().addItem(self._band)
            self._cursor = self.viewport().cursor()
            self.viewport().setCursor(Qt.CursorShape.CrossCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag is None or self._band is None:
            super().mouseMoveEvent(event)
            return
        point = event.position().toPoint()
        line = self._band.line()
        line.setP2(self.mapToScene(point))
        self._band.setLine(line)
        node = self._node_at(point)
        if node is self._hover:
            return
        self._set_hover(node)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag is None:
            super().mouseReleaseEvent(event)
            return
        source, port = self._drag.step_id, self._drag.port
        node = self._node_at(event.position().toPoint())
        self._end_drag()
        event.accept()
        if node is not None and node.step_id != source:
            self.sig_connection_requested.emit(source, port, node.step_id)

    def _set_hover(self, node: StepNode | None) -> None:
        if self._hover is not None:
            self._hover.drop_state = ""
            self._hover.update()
        self._hover = node
        if node is not None and self._drag is not None and node.step_id != self._drag.step_id:
            problem = self.document.connection_problem(
                self._drag.step_id, self._drag.port, node.step_id
            )
            node.drop_state = "refused" if problem else "ok"
            node.update()

    def _end_drag(self) -> None:
        if self._drag is None:
            return
        self._set_hover(None)
        if self._band is not None:
            self.scene().removeItem(self._band)
        self._drag = self._band = None
        self.viewport().setCursor(self._cursor)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Escape and self._drag is not None:
            self._end_drag()
            return
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
