"""The steps as a tree (trigger, steps, branches' then/else, loops' bodies) for the outline view."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt

from purplecross_desktop.ui.workflow_builder.document_model import BLOCKS, BuilderDocument

Index = QModelIndex | QPersistentModelIndex
STEP_ID_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(eq=False)
class Node:
    """One row: a step, the trigger, or a block (``then``/``else``/``steps``) of a step."""

    label: str
    step_id: str | None
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)

    def row(self) -> int:
        return 0 if self.parent is None else self.parent.children.index(self)


def describe(step: dict[str, Any]) -> str:
    """A step's outline label: its name, or its action and id."""
    name = step.get("name")
    return f"{name} ({step['action']})" if name else f"{step.get('id')}: {step.get('action')}"


class OutlineModel(QAbstractItemModel):
    """A read-only tree over a :class:`BuilderDocument`, rebuilt when the document changes."""

    def __init__(self, document: BuilderDocument) -> None:
        super().__init__()
        self.document = document
        self._root = Node("", None)
        self._build()
        document.sig_document_changed.connect(self._rebuild)

    def _rebuild(self) -> None:
        self.beginResetModel()
        self._build()
        self.endResetModel()

    def _build(self) -> None:
        data = self.document.data
        root = Node("", None)
        trigger = data.get("trigger") or {}
        what = trigger.get("event") or trigger.get("cron") or trigger.get("field") or ""
        root.children.append(Node(f"Trigger: {trigger.get('type', '?')} {what}".strip(), "", root))

        def add(parent: Node, steps: list[dict[str, Any]]) -> None:
            for step in steps:
                node = Node(describe(step), str(step.get("id")), parent)
                parent.children.append(node)
                for key in BLOCKS:
                    if key in step:
                        block = Node(key, None, node)
                        node.children.append(block)
                        add(block, step.get(key) or [])

        add(root, data.get("steps") or [])
        self._root = root

    # Qt overrides ------------------------------------------------------------------
    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if column != 0 or row < 0:
            return QModelIndex()
        owner = self._node(parent)
        if row >= len(owner.children):
            return QModelIndex()
        return self.createIndex(row, 0, owner.children[row])

    def parent(self, child: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not child.isValid():
            return QModelIndex()
        node: Node = child.internalPointer()
        owner = node.parent
        if owner is None or owner is self._root:
            return QModelIndex()
        return self.createIndex(owner.row(), 0, owner)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._node(parent).children)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 1

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node: Node = index.internalPointer()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return node.label
        if role == STEP_ID_ROLE:
            return node.step_id
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    # Lookups -------------------------------------------------------------------------
    def _node(self, index: Index) -> Node:
        return index.internalPointer() if index.isValid() else self._root

    def index_of(self, step_id: str) -> QModelIndex:
        """The index of a step's row (invalid when there is none)."""

        def search(node: Node) -> Node | None:
            for child in node.children:
                if child.step_id == step_id:
                    return child
                found = search(child)
                if found is not None:
                    return found
            return None

        found = search(self._root)
        return QModelIndex() if found is None else self.createIndex(found.row(), 0, found)
