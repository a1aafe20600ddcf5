"""The grid's Qt model: a window (one page, or every row when scrolling) over a query result.

View rows map to result rows by an offset; the result maps them to source rows (one index
array in memory, ``ORDER BY ... OFFSET`` in SQL). Rows are read in blocks, only when the
view asks for them; a database block is fetched off the UI thread and shown when it arrives.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont

from widgets.datagrid.sources import GridResult
from widgets.datagrid.state import Column, SortKey

BLOCK = 128
MAX_BLOCKS = 64

#: The raw (unformatted) cell value.
RAW_VALUE_ROLE = int(Qt.ItemDataRole.UserRole) + 1
#: The id of the cell's row.
ROW_ID_ROLE = int(Qt.ItemDataRole.UserRole) + 2

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_CHECK = int(Qt.ItemDataRole.CheckStateRole)
_ROW_ID = ROW_ID_ROLE
_ROLES = frozenset({_DISPLAY, _ACCESSIBLE, _ALIGN, _CHECK, RAW_VALUE_ROLE, ROW_ID_ROLE})
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
_CHECKED = Qt.CheckState.Checked
_UNCHECKED = Qt.CheckState.Unchecked
_NO_FLAGS = Qt.ItemFlag.NoItemFlags
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
_CHECK_FLAGS = _FLAGS | Qt.ItemFlag.ItemIsUserCheckable
_Block = tuple[list[tuple[Any, ...]], list[Any]]


class GridModel(QAbstractTableModel):
    """Shows view rows ``offset .. offset + length`` of a :class:`GridResult`.

    With ``checkable`` the first column holds a checkbox bound to ``is_selected``/the
    ``sig_check_toggled`` signal; data columns follow in ``columns`` order.

    Signals:
        sig_rows_needed(int, int): rows ``start:stop`` of a non-local result are wanted.
        sig_check_toggled(int, bool): the checkbox of view row ``row`` was set by the user.
    """

    sig_rows_needed = Signal(int, int)
    sig_check_toggled = Signal(int, bool)

    def __init__(
        self,
        columns: Sequence[Column],
        checkable: bool = False,
        is_selected: Callable[[Any], bool] = lambda _id: False,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self._columns = tuple(columns)
        self._checkable = checkable
        self._is_selected = is_selected
        self._result: GridResult | None = None
        self._offset = 0
        self._length = 0
        self._blocks: OrderedDict[int, _Block] = OrderedDict()
        self._requested: set[int] = set()
        self._sort: dict[str, tuple[int, bool]] = {}
        self._filtered: set[str] = set()
        self._aligns: list[int | None] = [None] * len(self._columns)

    # ---- state ---------------------------------------------------------------------------

    @property
    def columns(self) -> tuple[Column, ...]:
        """The data columns in logical order."""
        return self._columns

    @property
    def result(self) -> GridResult | None:
        """The result shown, or None before the first query."""
        return self._result

    @property
    def offset(self) -> int:
        """The result row shown in view row 0."""
        return self._offset

    @property
    def checkable(self) -> bool:
        """Whether logical column 0 is the selection checkbox."""
        return self._checkable

    def column_of(self, key: str) -> int:
        """The model column of data column ``key``."""
        for i, col in enumerate(self._columns):
            if col.key == key:
                return i + self._checkable
        raise KeyError(key)

    def column_at(self, section: int) -> Column | None:
        """The data column at model column ``section``; None for the checkbox column."""
        index = section - self._checkable
        return self._columns[index] if 0 <= index < len(self._columns) else None

    def show(
        self,
        result: GridResult | None,
        offset: int,
        length: int,
        rows: Sequence[tuple[Any, ...]] = (),
        ids: Sequence[Any] = (),
    ) -> str:
        """Show ``length`` rows of ``result`` from ``offset``; ``rows``/``ids`` are those
        rows when the caller already has them (database pages). Returns how: "kept",
        "replaced" or "reset".

        When they are exactly the rows shown already (a live refresh that found nothing
        new), the model takes the new result without telling the view anything ("kept"):
        it repaints nothing and keeps its selection and scroll. When as many rows replace
        the ones shown (a search cleared, a live page whose jobs moved on), they change in
        place with one ``dataChanged`` ("replaced"): no reset, so the view does not lay
        itself out again. Any other change is one reset.
        """
        if (
            rows
            and result is not None
            and self._result is not None
            and offset == self._offset
            and length == self._length == len(rows) == len(ids)
        ):
            same = self._shows(offset, rows, ids)
            self._result = result
            self._blocks.clear()
            self._requested.clear()
            self._store(offset, list(rows), list(ids))
            if same:
                return "kept"
            self.dataChanged.emit(self.index(0, 0), self.index(length - 1, self.columnCount() - 1))
            return "replaced"
        self.beginResetModel()
        if result is not self._result:
            self._blocks.clear()
            self._requested.clear()
        self._result = result
        self._offset = max(0, offset)
        self._length = max(0, length) if result is not None else 0
        if rows:
            self._store(self._offset, list(rows), list(ids))
        self.endResetModel()
        return "reset"

    def put_rows(
        self, result: GridResult, start: int, rows: list[tuple[Any, ...]], ids: list[Any]
    ) -> None:
        """Rows ``start..`` of ``result`` fetched off the UI thread; ignored if stale."""
        if result is not self._result:
            return
        self._requested.discard(start // BLOCK)
        self._store(start, rows, ids)
        first = max(start - self._offset, 0)
        last = min(start + len(rows) - self._offset, self._length) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, self.columnCount() - 1))

    def set_sort_markers(self, sort: Sequence[SortKey]) -> None:
        """Show ▲/▼ (numbered when several) in the headers of the sorted columns."""
        self._sort = {k.key: (i + 1, k.descending) for i, k in enumerate(sort)}
        if self.columnCount():
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, self.columnCount() - 1)

    def set_filter_markers(self, keys: Sequence[str]) -> None:
        """Show the headers of the columns with a filter in bold (and say so in tooltips)."""
        self._filtered = set(keys)
        if self.columnCount():
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, self.columnCount() - 1)

    def refresh_checks(self) -> None:
        """Repaint the checkbox column after the selection changed."""
        if self._checkable and self._length:
            self.dataChanged.emit(
                self.index(0, 0), self.index(self._length - 1, 0), [Qt.ItemDataRole.CheckStateRole]
            )

    def row_values(self, row: int) -> tuple[Any, ...] | None:
        """The values of view row ``row``, None while not fetched yet."""
        block = self._block_for(self._offset + row)
        return None if block is None else block[0][(self._offset + row) % BLOCK]

    def row_id(self, row: int) -> Any:
        """The id of view row ``row``, None while not fetched yet."""
        block = self._block_for(self._offset + row)
        return None if block is None else block[1][(self._offset + row) % BLOCK]

    # ---- Qt model interface ----------------------------------------------------------------

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else self._length

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._columns) + self._checkable

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        # Called hundreds of times per repaint: plain ints, no enum arithmetic, early outs.
        if role not in _ROLES:
            return None
        row = index.row()
        if row < 0 or row >= self._length:
            return None
        position = index.column() - self._checkable
        if position < 0:
            if role == _CHECK:
                row_id = self.row_id(row)
                selected = row_id is not None and self._is_selected(row_id)
                return _CHECKED if selected else _UNCHECKED
            return "Select row" if role == _ACCESSIBLE else None
        if role == _ROW_ID:
            return self.row_id(row)
        if role == _CHECK:
            return None
        values = self.row_values(row)
        if role in (_DISPLAY, _ACCESSIBLE):
            if values is None:
                return "…" if role == _DISPLAY else "Loading"
            return self._columns[position].display(values[position])
        if role == _ALIGN:
            return self._alignment(position, None if values is None else values[position])
        return None if values is None else values[position]  # RAW_VALUE_ROLE

    def _alignment(self, position: int, value: Any) -> int:
        known = self._aligns[position]
        if known is not None:
            return known
        kind = self._columns[position].kind
        if kind in ("number", "money"):
            align = _RIGHT
        elif kind != "auto":
            align = _LEFT
        elif value is None:
            return _LEFT  # decide on the first real value
        else:
            number = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
            align = _RIGHT if number else _LEFT
        self._aligns[position] = align
        return align

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if (
            not index.isValid()
            or role != Qt.ItemDataRole.CheckStateRole
            or self.column_at(index.column()) is not None
            or index.row() >= self._length
        ):
            return False
        checked = Qt.CheckState(value) == Qt.CheckState.Checked
        self.sig_check_toggled.emit(index.row(), checked)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        return True

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return _NO_FLAGS
        return _CHECK_FLAGS if index.column() < self._checkable else _FLAGS

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Vertical:
            if role == Qt.ItemDataRole.DisplayRole and 0 <= section < self._length:
                return str(self._offset + section + 1)
            return None
        column = self.column_at(section)
        if role == Qt.ItemDataRole.DisplayRole:
            if column is None:
                return "" if 0 <= section < self.columnCount() else None
            marker = self._sort.get(column.key)
            if marker is None:
                return column.title
            number, descending = marker
            arrow = "▼" if descending else "▲"
            return f"{column.title} {arrow}{number if len(self._sort) > 1 else ''}"
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            if column is None:
                return "Select rows" if 0 <= section < self.columnCount() else None
            parts = [column.title]
            marker = self._sort.get(column.key)
            if marker is not None:
                parts.append(f"sorted {'descending' if marker[1] else 'ascending'}")
            if column.key in self._filtered:
                parts.append("filtered")
            return ", ".join(parts)
        if role == Qt.ItemDataRole.FontRole and column is not None and column.key in self._filtered:
            font = QFont()
            font.setBold(True)
            return font
        return None

    # ---- blocks ------------------------------------------------------------------------------

    def _store(self, start: int, rows: list[tuple[Any, ...]], ids: list[Any]) -> None:
        # Split into aligned blocks so lookups stay simple; partial edge blocks are merged.
        position = 0
        while position < len(rows):
            absolute = start + position
            number = absolute // BLOCK
            block_start = number * BLOCK
            take = min(BLOCK - (absolute - block_start), len(rows) - position)
            existing = self._blocks.get(number)
            if existing is None:
                existing = ([()] * BLOCK, [None] * BLOCK)
            block_rows, block_ids = list(existing[0]), list(existing[1])
            offset = absolute - block_start
            block_rows[offset : offset + take] = rows[position : position + take]
            block_ids[offset : offset + take] = ids[position : position + take]
            self._blocks[number] = (block_rows, block_ids)
            self._blocks.move_to_end(number)
            position += take
        while len(self._blocks) > MAX_BLOCKS:
            self._blocks.popitem(last=False)

    def _shows(self, start: int, rows: Sequence[tuple[Any, ...]], ids: Sequence[Any]) -> bool:
        """Whether rows ``start..`` are loaded and are exactly ``rows`` with ``ids``."""
        for position, (row, row_id) in enumerate(zip(rows, ids, strict=True)):
            absolute = start + position
            block = self._blocks.get(absolute // BLOCK)
            if block is None:
                return False
            at = absolute % BLOCK
            if block[0][at] != row or block[1][at] != row_id:
                return False
        return True

    def _block_for(self, absolute: int) -> _Block | None:
        number = absolute // BLOCK
        block = self._blocks.get(number)
        if block is not None and block[0][absolute % BLOCK] != ():
            return block
        result = self._result
        if result is None:
            return None
        start = number * BLOCK
        stop = min(start + BLOCK, result.count)
        if result.is_local:
            self._store(start, result.rows(start, stop), result.ids(start, stop))
            return self._blocks[number]
        if number not in self._requested:
            self._requested.add(number)
            self.sig_rows_needed.emit(start, stop)
        return None
