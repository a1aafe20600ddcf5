"""The Reports page's table: a staff member's report requests, newest first, with their state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QWidget

from purplecross_desktop.clinic_time import ClinicTime

if TYPE_CHECKING:  # the jobs stack loads after the window shows (start-up budget)
    from jobs.reports import ReportInfo

Index = QModelIndex | QPersistentModelIndex
#: The role that returns a row's :class:`ReportInfo`.
InfoRole = Qt.ItemDataRole.UserRole + 1

STATE_TEXT = {
    "queued": "Waiting",
    "running": "Running",
    "completed": "Ready",
    "failed": "Failed",
    "cancelled": "Cancelled",
    "expired": "Expired",
}
COLUMNS = ("Requested", "Report", "Period", "Format", "State", "Progress", "Rows", "Details")
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def period_text(info: ReportInfo) -> str:
    start, end = info.period_start, info.period_end
    if start == end:
        return f"{start:%d %b %Y}"
    return f"{start:%d %b %Y} - {end:%d %b %Y}"


def state_text(info: ReportInfo) -> str:
    if info.cancel_requested and not info.finished:
        return "Cancelling"
    return STATE_TEXT.get(info.state, info.state)


class ReportRequestsModel(QAbstractTableModel):
    """Report requests as rows; :meth:`set_items` keeps rows whose ids stay (no reset) so a
    refresh every second keeps the selection and scroll position.

    Args:
        clinic: the clinic's clock: "Requested" shows its time, not the workstation's.
        parent: the parent widget.
    """

    def __init__(self, clinic: ClinicTime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._clinic = clinic
        self._items: list[ReportInfo] = []

    def items(self) -> list[ReportInfo]:
        return list(self._items)

    def set_items(self, items: list[ReportInfo]) -> None:
        """Show ``items``; the same ids in the same order only repaint the changed cells."""
        new = list(items)
        if [i.id for i in new] == [i.id for i in self._items]:
            changed = [
                row for row, (a, b) in enumerate(zip(self._items, new, strict=True)) if a != b
            ]
            self._items = new
            for row in changed:
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
            return
        self.beginResetModel()
        self._items = new
        self.endResetModel()

    def row_of(self, request_id: int) -> int:
        """The row showing ``request_id``, or -1."""
        return next((r for r, i in enumerate(self._items) if i.id == request_id), -1)

    # Qt overrides ---------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(COLUMNS)
        ):
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        info = self._items[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._text(info, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return info.path or info.message or None
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (5, 6):
            return _RIGHT
        if role == InfoRole:
            return info
        return None

    def _text(self, info: ReportInfo, column: int) -> str:
        if column == 0:
            return f"{self._clinic.local(info.created_at):%d %b %H:%M}"
        if column == 1:
            return info.title
        if column == 2:
            return period_text(info)
        if column == 3:
            return info.format.upper()
        if column == 4:
            return state_text(info)
        if column == 5:
            return "" if info.state in ("failed", "cancelled") else f"{info.progress} %"
        if column == 6:
            return f"{info.rows:,}"
        return info.message
