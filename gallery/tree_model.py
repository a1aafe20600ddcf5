"""The component → story tree of the gallery, with a case-insensitive search filter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt

from gallery.story import Component, Story

#: Role returning the (component, story) pair of a story row, or (component, None).
ITEM_ROLE: Final = Qt.ItemDataRole.UserRole + 1

_Index = QModelIndex | QPersistentModelIndex
_ROOT: Final = QModelIndex()
_TOP: Final = 0  # internalId of component rows; story rows store component row + 1


class StoryTreeModel(QAbstractItemModel):
    """Components as top-level rows and their stories as children.

    Args:
        components: what the tree shows.
        parent: the QObject parent.

    ``set_filter(text)`` keeps components whose name matches (with all their stories)
    and, elsewhere, only the stories whose name matches; components without a match
    disappear.
    """

    def __init__(self, components: Sequence[Component], parent: Any = None) -> None:
        super().__init__(parent)
        self._components = list(components)
        self._filter = ""
        self._visible: list[tuple[Component, list[Story]]] = []
        self._rebuild()

    def set_components(self, components: Sequence[Component]) -> None:
        """Show ``components`` instead (after a story module was reloaded)."""
        self.beginResetModel()
        self._components = list(components)
        self._rebuild()
        self.endResetModel()

    # Filtering ------------------------------------------------------------------------
    def filter_text(self) -> str:
        """The current search text."""
        return self._filter

    def set_filter(self, text: str) -> None:
        """Show only components and stories matching ``text`` ("" shows everything)."""
        self.beginResetModel()
        self._filter = text.strip().casefold()
        self._rebuild()
        self.endResetModel()

    def _rebuild(self) -> None:
        needle = self._filter
        self._visible = []
        for component in self._components:
            if not needle or needle in component.name.casefold():
                self._visible.append((component, list(component.stories)))
                continue
            stories = [s for s in component.stories if needle in s.name.casefold()]
            if stories:
                self._visible.append((component, stories))

    # Lookups --------------------------------------------------------------------------
    def story_index(self, component_name: str, story_name: str) -> QModelIndex:
        """The index of a story, or an invalid index if it is filtered out or unknown."""
        for row, (component, stories) in enumerate(self._visible):
            if component.name != component_name:
                continue
            for child, story in enumerate(stories):
                if story.name == story_name:
                    return self.createIndex(child, 0, row + 1)
        return QModelIndex()

    def item(self, index: _Index) -> tuple[Component, Story | None] | None:
        """The component and story (None for a component row) at ``index``."""
        if not index.isValid():
            return None
        parent_id = index.internalId()
        if parent_id == _TOP:
            return self._visible[index.row()][0], None
        component, stories = self._visible[parent_id - 1]
        return component, stories[index.row()]

    # Qt model API ---------------------------------------------------------------------
    def index(self, row: int, column: int, parent: _Index = _ROOT) -> QModelIndex:
        if column != 0 or row < 0:
            return QModelIndex()
        if not parent.isValid():
            if row >= len(self._visible):
                return QModelIndex()
            return self.createIndex(row, 0, _TOP)
        if parent.internalId() != _TOP or parent.row() >= len(self._visible):
            return QModelIndex()
        if row >= len(self._visible[parent.row()][1]):
            return QModelIndex()
        return self.createIndex(row, 0, parent.row() + 1)

    def parent(self, index: _Index = _ROOT) -> QModelIndex:  # type: ignore[override]
        if not index.isValid() or index.internalId() == _TOP:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, _TOP)

    def rowCount(self, parent: _Index = _ROOT) -> int:
        if not parent.isValid():
            return len(self._visible)
        if parent.column() != 0 or parent.internalId() != _TOP:
            return 0
        return len(self._visible[parent.row()][1])

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 1

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        item = self.item(index)
        if item is None:
            return None
        component, story = item
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return component.name if story is None else story.name
        if role == Qt.ItemDataRole.ToolTipRole:
            if story is None:
                return f"{len(component.stories)} stories"
            return story.docs or None
        if role == ITEM_ROLE:
            return item
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
