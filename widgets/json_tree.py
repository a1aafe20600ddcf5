"""JsonTree: JSON data as a collapsible tree (key, value, type), large values summarised.

The model builds child rows lazily (a node's children are made when the view first asks
for them), cuts long strings and lists for display, and never copies the data: a 50 MB
argument opens as fast as a small one, and only what is expanded costs anything.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QHeaderView, QLabel, QTreeView, QVBoxLayout, QWidget

#: Strings longer than this are shown cut, with their length.
STRING_LIMIT = 200
#: Lists and objects show at most this many children, then one "… N more" row.
CHILD_LIMIT = 200

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


class _Node:
    __slots__ = ("children", "key", "parent", "row", "value")

    def __init__(self, key: str, value: Any, parent: _Node | None, row: int) -> None:
        self.key = key
        self.value = value
        self.parent = parent
        self.row = row
        self.children: list[_Node] | None = None  # built on first use

    def kids(self) -> list[_Node]:
        if self.children is None:
            value = self.value
            items: list[tuple[str, Any]]
            if isinstance(value, dict):
                items = [(str(k), v) for k, v in list(value.items())[:CHILD_LIMIT]]
                extra = len(value) - len(items)
            elif isinstance(value, list):
                items = [(f"[{i}]", v) for i, v in enumerate(value[:CHILD_LIMIT])]
                extra = len(value) - len(items)
            else:
                items, extra = [], 0
            self.children = [_Node(k, v, self, i) for i, (k, v) in enumerate(items)]
            if extra > 0:
                self.children.append(_More(extra, self, len(self.children)))
        return self.children


class _More(_Node):
    """The row standing for children not shown."""

    def __init__(self, count: int, parent: _Node, row: int) -> None:
        super().__init__("…", None, parent, row)
        self.value = f"{count:,} more not shown"
        self.children = []


def summary(value: Any) -> str:
    """How a value reads in the tree: strings cut at ``STRING_LIMIT``, containers counted."""
    if isinstance(value, dict):
        return f"{{{len(value):,} keys}}"
    if isinstance(value, list):
        return f"[{len(value):,} items]"
    if isinstance(value, str):
        if len(value) > STRING_LIMIT:
            return f'"{value[:STRING_LIMIT]}…" ({len(value):,} characters)'
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value)


def kind(value: Any) -> str:
    """The JSON type's name."""
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


class JsonTreeModel(QAbstractItemModel):
    """A read-only tree over JSON data: columns Key, Value and Type.

    Args:
        data: any JSON value (dict, list, str, number, bool, None).
        parent: the owning QObject.
    """

    HEADERS = ("Key", "Value", "Type")

    def __init__(self, data: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._root = _Node("", {}, None, 0)
        self.set_data(data)

    def set_data(self, data: Any) -> None:
        """Show ``data`` (a dict or list shows its members at the top level)."""
        self.beginResetModel()
        top = data if isinstance(data, dict | list) else {"value": data}
        self._root = _Node("", top, None, 0)
        self.endResetModel()

    def _node(self, index: _Index) -> _Node:
        if index.isValid():
            node: _Node = index.internalPointer()
            return node
        return self._root

    def index(self, row: int, column: int, parent: _Index = _ROOT) -> QModelIndex:
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        return self.createIndex(row, column, self._node(parent).kids()[row])

    def parent(self, child: _Index = _ROOT) -> QModelIndex:  # type: ignore[override]
        if not child.isValid():
            return QModelIndex()
        up = self._node(child).parent
        if up is None or up is self._root:
            return QModelIndex()
        return self.createIndex(up.row, 0, up)

    def rowCount(self, parent: _Index = _ROOT) -> int:
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._node(parent).kids())

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return len(self.HEADERS)

    def hasChildren(self, parent: _Index = _ROOT) -> bool:
        if parent.isValid() and parent.column() != 0:
            return False
        node = self._node(parent)
        if isinstance(node, _More):
            return False
        return isinstance(node.value, dict | list) and bool(node.value)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node = self._node(index)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if index.column() == 0:
                return node.key
            if isinstance(node, _More):
                return node.value if index.column() == 1 else ""
            if index.column() == 1:
                return summary(node.value)
            return kind(node.value)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.HEADERS)
        ):
            return self.HEADERS[section]
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class JsonTree(QWidget):
    """JSON data as a tree, under a line saying what the top level holds.

    Args:
        data: the JSON value to show.
        parent: the parent widget.

    Signals:
        None: a read-only view.
    """

    def __init__(self, data: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = QLabel()
        self.tree = QTreeView(self)
        self.tree.setAccessibleName("JSON data")
        self._model = JsonTreeModel(None, self)
        self.tree.setModel(self._model)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.tree.setColumnWidth(0, 180)
        self.tree.setColumnWidth(2, 70)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.tree, 1)
        self.set_data(data)

    def json_model(self) -> JsonTreeModel:
        """The tree's model."""
        return self._model

    def set_data(self, data: Any) -> None:
        """Show ``data`` instead."""
        self._model.set_data(data)
        self.caption.setText(f"{kind(data).capitalize()}: {summary(data)}")
        self.tree.expandToDepth(0)
