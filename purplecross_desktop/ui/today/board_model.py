"""The Today board's table model: one row per appointment, chips for status, waiting,
alerts and balance; updated in place so a refresh keeps the cursor and the scroll."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from purplecross_desktop.clinic_time import ClinicTime
from purplecross_desktop.domain.appointments import AppointmentStatus
from purplecross_desktop.domain.front_desk import BoardRow
from purplecross_desktop.ui.pages.labels import enum_label, money
from widgets.chip_delegate import TONE_ROLE

#: The id of the appointment on a row (``int``), for the page's actions.
ID_ROLE: Final = int(Qt.ItemDataRole.UserRole) + 1

STATUS_TONE: Final = {
    AppointmentStatus.SCHEDULED: "neutral",
    AppointmentStatus.CONFIRMED: "info",
    AppointmentStatus.ARRIVED: "warning",
    AppointmentStatus.IN_CONSULT: "accent",
    AppointmentStatus.COMPLETED: "success",
    AppointmentStatus.NO_SHOW: "error",
    AppointmentStatus.CANCELLED: "muted",
}

GROUPINGS: Final = ("time", "vet", "room")

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class BoardColumn:
    key: str
    title: str
    chip: bool = False


COLUMNS: Final = (
    BoardColumn("group", "Vet"),
    BoardColumn("time", "Time"),
    BoardColumn("status", "Status", chip=True),
    BoardColumn("patient", "Patient"),
    BoardColumn("alerts", "Alerts", chip=True),
    BoardColumn("client", "Owner"),
    BoardColumn("balance", "Owes", chip=True),
    BoardColumn("arrived", "Arrived"),
    BoardColumn("waiting", "Waiting", chip=True),
    BoardColumn("vet", "Vet"),
    BoardColumn("room", "Room"),
    BoardColumn("type", "Type"),
)
COLUMN: Final = {c.key: i for i, c in enumerate(COLUMNS)}


class TodayBoardModel(QAbstractTableModel):
    """The day's appointments in time order (or grouped by vet or room).

    Args:
        clinic_time: shows times in the clinic's zone and tells "now" for waiting times.
        wait_alert_minutes: a waiting time at or past this shows as a warning chip.
        currency: the money symbol.
    """

    def __init__(
        self,
        clinic_time: ClinicTime,
        wait_alert_minutes: int = 15,
        currency: str = "£",
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self._time = clinic_time
        self._wait_alert = wait_alert_minutes
        self._currency = currency
        self._rows: list[BoardRow] = []
        self._grouping = "time"
        self._now = clinic_time.now()

    # Public API ---------------------------------------------------------------
    def set_rows(self, rows: Sequence[BoardRow]) -> None:
        """Show ``rows``: changed cells are updated in place when the row set is the same
        (the view keeps its cursor and scroll); otherwise the model is reset."""
        ordered = self._ordered(rows)
        self._now = self._time.now()
        if [r.id for r in ordered] == [r.id for r in self._rows]:
            self._rows = ordered
            if ordered:
                last = self.index(len(ordered) - 1, len(COLUMNS) - 1)
                self.dataChanged.emit(self.index(0, 0), last)
            return
        self.beginResetModel()
        self._rows = ordered
        self.endResetModel()

    def rows(self) -> list[BoardRow]:
        return list(self._rows)

    def row_of(self, appointment_id: int) -> int | None:
        """The model row showing ``appointment_id``, if any."""
        for number, row in enumerate(self._rows):
            if row.id == appointment_id:
                return number
        return None

    def board_row(self, row: int) -> BoardRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def set_grouping(self, grouping: str) -> None:
        """``"time"`` (one list), ``"vet"`` or ``"room"`` (grouped, each group in time order)."""
        if grouping not in GROUPINGS:
            raise ValueError(f"grouping: must be one of {', '.join(GROUPINGS)}")
        self._grouping = grouping
        self.beginResetModel()
        self._rows = self._ordered(self._rows)
        self.endResetModel()
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, 0)

    def grouping(self) -> str:
        return self._grouping

    def tick(self) -> None:
        """Recompute waiting times (called every minute)."""
        self._now = self._time.now()
        if self._rows:
            column = COLUMN["waiting"]
            self.dataChanged.emit(self.index(0, column), self.index(len(self._rows) - 1, column))

    def waiting_minutes(self, row: BoardRow) -> int | None:
        """Minutes since arrival for a patient still in the waiting room, else None."""
        if row.status is not AppointmentStatus.ARRIVED or row.arrived_at is None:
            return None
        return max(0, int((self._now - row.arrived_at).total_seconds() // 60))

    # Qt overrides -------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        if not 0 <= section < len(COLUMNS):
            return None
        if section == COLUMN["group"]:
            return "Room" if self._grouping == "room" else "Vet"
        return COLUMNS[section].title

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        key = COLUMNS[index.column()].key
        if role == ID_ROLE:
            return row.id
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, key, index.row())
        if role == TONE_ROLE:
            return self._tone(row, key)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            text = self._display(row, key, index.row())
            return f"{self.headerData(index.column(), Qt.Orientation.Horizontal)}: {text or 'none'}"
        if role == Qt.ItemDataRole.ToolTipRole and key == "alerts" and row.alerts:
            return "\n".join(row.alerts)
        if role == Qt.ItemDataRole.TextAlignmentRole and key in ("time", "arrived"):
            return int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
        return None

    # Internals ----------------------------------------------------------------
    def _ordered(self, rows: Sequence[BoardRow]) -> list[BoardRow]:
        by_time: Callable[[BoardRow], Any] = lambda r: (r.starts_at, r.id)  # noqa: E731
        if self._grouping == "vet":
            return sorted(rows, key=lambda r: (r.vet.casefold(), r.vet_id, *by_time(r)))
        if self._grouping == "room":
            return sorted(rows, key=lambda r: (r.room.casefold(), r.room_id, *by_time(r)))
        return sorted(rows, key=by_time)

    def _group_name(self, row: BoardRow) -> str:
        return row.room if self._grouping == "room" else row.vet

    def _display(self, row: BoardRow, key: str, number: int) -> str:
        if key == "group":
            if self._grouping == "time":
                return ""
            previous = self._rows[number - 1] if number else None
            same = previous is not None and self._group_name(previous) == self._group_name(row)
            return "" if same else self._group_name(row)
        if key == "time":
            starts, ends = (
                self._time.format_time(row.starts_at),
                self._time.format_time(row.ends_at),
            )
            return f"{starts}\u2013{ends}"
        if key == "patient":
            return f"{row.patient} ({enum_label(row.species).lower()})"
        if key == "client":
            return row.client
        if key == "vet":
            return row.vet
        if key == "room":
            return row.room
        if key == "type":
            return enum_label(row.type)
        if key == "status":
            return enum_label(row.status)
        if key == "arrived":
            return self._time.format_time(row.arrived_at)
        if key == "waiting":
            minutes = self.waiting_minutes(row)
            return "" if minutes is None else f"{minutes} min"
        if key == "alerts":
            return " · ".join(row.alerts)
        if key == "balance":
            return money(row.balance, self._currency) if row.balance > 0 else ""
        return ""

    def _tone(self, row: BoardRow, key: str) -> str | None:
        if key == "status":
            return STATUS_TONE[row.status]
        if key == "waiting":
            minutes = self.waiting_minutes(row)
            if minutes is None:
                return None
            return "error" if minutes >= self._wait_alert else "neutral"
        if key == "alerts":
            return "error" if row.alerts else None
        if key == "balance":
            return "warning" if row.balance > 0 else None
        return None
