"""The per-column filter editor shown from a header: text contains, a choice list, or a range."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from widgets.datagrid.state import (
    ChoiceFilter,
    Column,
    ColumnFilter,
    RangeFilter,
    TextFilter,
)


def parse_bound(
    text: str,
    kind: str,
    sample: Any,
    field: str,
    zone: dt.tzinfo | None = None,
    end_of_day: bool = False,
) -> Any:
    """``text`` as a value comparable with the column's values; ValueError naming ``field``.

    A date and time is read in ``zone`` (the zone the column shows; else the sample's own
    zone; else naive). A date alone on a datetime column means the start of that day, or
    with ``end_of_day`` (a "To" bound) its last instant, so the whole day is included.
    """
    text = text.strip()
    if not text:
        return None
    if kind in ("date", "datetime") or isinstance(sample, dt.date):
        want_datetime = kind == "datetime" or isinstance(sample, dt.datetime)
        if not want_datetime:
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                raise ValueError(f"{field}: enter a date as YYYY-MM-DD") from None
        return _parse_datetime(text, sample, field, zone, end_of_day)
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"{field}: enter a number, like 12.5") from None
    if isinstance(sample, float):
        return float(number)
    if isinstance(sample, int) and number == number.to_integral_value():
        return int(number)
    return number


def _parse_datetime(
    text: str, sample: Any, field: str, zone: dt.tzinfo | None, end_of_day: bool
) -> dt.datetime:
    try:
        if len(text) == 10:  # a date alone: the whole day
            day = dt.date.fromisoformat(text)
            value = dt.datetime.combine(day, dt.time.max if end_of_day else dt.time.min)
        else:
            value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{field}: enter a date as YYYY-MM-DD, or a date and time as YYYY-MM-DD HH:MM"
        ) from None
    if value.tzinfo is None:
        if zone is None and isinstance(sample, dt.datetime):
            zone = sample.tzinfo
        if zone is not None:
            value = value.replace(tzinfo=zone)
    return value


def bound_text(value: Any, column: Column, end_of_day: bool = False) -> str:
    """How a range bound is shown in the editor: what :func:`parse_bound` reads back to the
    same value (the column's zone; a whole day as its date; seconds only when there are)."""
    if value is None:
        return ""
    if not isinstance(value, dt.datetime):
        if isinstance(value, dt.date):
            return value.isoformat()
        return str(value) if column.kind in ("number", "money") else column.display(value)
    moment: dt.datetime = value
    if moment.tzinfo is not None and column.timezone is not None:
        moment = moment.astimezone(column.timezone)
    edge = dt.time.max if end_of_day else dt.time.min
    if moment.time() == edge:
        return moment.date().isoformat()
    if moment.second or moment.microsecond:  # (an unchanged field keeps the exact value)
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M")


class ColumnFilterEditor(QWidget):
    """Edits the filter of one column; "Apply" emits the filter, "Clear" emits None.

    Args:
        column: The column filtered.
        current: Its filter now, if any.
        choices: The values offered by a choice filter.
        sample: A value of the column, to parse range bounds into the same type.

    Signals:
        sig_applied(object): the new filter (a ColumnFilter) or None to clear it.
    """

    sig_applied = Signal(object)

    def __init__(
        self,
        column: Column,
        current: ColumnFilter | None = None,
        choices: list[Any] | None = None,
        sample: Any = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("dataGridFilterEditor")
        self._column = column
        self._sample = sample
        self._shown: dict[str, tuple[str, Any]] = {}
        self._error = QLabel(self)
        self._error.setObjectName("dataGridFilterError")
        self._error.setWordWrap(True)
        self._error.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Filter {column.title}", self))
        self._text: QLineEdit | None = None
        self._list: QListWidget | None = None
        self._low: QLineEdit | None = None
        self._high: QLineEdit | None = None
        if column.filter_mode == "choice":
            self._list = QListWidget(self)
            self._list.setAccessibleName(f"{column.title} values")
            chosen = current.values if isinstance(current, ChoiceFilter) else frozenset()
            for value in choices or []:
                item = QListWidgetItem(column.display(value), self._list)
                item.setData(Qt.ItemDataRole.UserRole, value)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                checked = value in chosen
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            layout.addWidget(self._list)
        elif column.filter_mode == "range":
            form = QFormLayout()
            self._low = QLineEdit(self)
            self._high = QLineEdit(self)
            for edit, name in ((self._low, "From"), (self._high, "To")):
                edit.setAccessibleName(f"{column.title} {name.lower()}")
                edit.returnPressed.connect(self.apply)
                form.addRow(name, edit)
            if isinstance(current, RangeFilter):
                self._low.setText(bound_text(current.low, column))
                self._high.setText(bound_text(current.high, column, end_of_day=True))
                # What Apply keeps when a field is left as shown: the bound itself, never
                # its re-parsed text (which a zone or a rounding could move).
                self._shown = {
                    "From": (self._low.text(), current.low),
                    "To": (self._high.text(), current.high),
                }
            layout.addLayout(form)
        else:
            self._text = QLineEdit(self)
            self._text.setPlaceholderText("Contains…")
            self._text.setAccessibleName(f"{column.title} contains")
            self._text.setClearButtonEnabled(True)
            if isinstance(current, TextFilter):
                self._text.setText(current.text)
            self._text.returnPressed.connect(self.apply)
            layout.addWidget(self._text)
        layout.addWidget(self._error)
        buttons = QHBoxLayout()
        clear = QPushButton("Clear", self)
        clear.clicked.connect(lambda: self.sig_applied.emit(None))
        apply = QPushButton("Apply", self)
        apply.setDefault(True)
        apply.clicked.connect(self.apply)
        buttons.addWidget(clear)
        buttons.addStretch(1)
        buttons.addWidget(apply)
        layout.addLayout(buttons)

    def error_text(self) -> str:
        """The validation message shown, empty when none."""
        return self._error.text() if self._error.isVisibleTo(self) else ""

    def set_text(self, text: str) -> None:
        """Type ``text`` into a text filter (tests, keyboard users)."""
        if self._text is not None:
            self._text.setText(text)

    def set_range(self, low: str, high: str) -> None:
        """Type the bounds of a range filter."""
        if self._low is not None and self._high is not None:
            self._low.setText(low)
            self._high.setText(high)

    def set_checked(self, values: set[Any]) -> None:
        """Tick exactly ``values`` in a choice filter."""
        if self._list is None:
            return
        for i in range(self._list.count()):
            item = self._list.item(i)
            on = item.data(Qt.ItemDataRole.UserRole) in values
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def apply(self) -> None:
        """Emit the edited filter, or show why it is invalid (and emit nothing)."""
        try:
            flt = self._build()
        except ValueError as exc:
            self._error.setText(str(exc))
            self._error.show()
            return
        self._error.hide()
        self.sig_applied.emit(flt)

    def _bound(self, text: str, field: str) -> Any:
        shown = self._shown.get(field)
        if shown is not None and shown[0] == text:
            return shown[1]
        column = self._column
        return parse_bound(
            text, column.kind, self._sample, field, column.timezone, end_of_day=field == "To"
        )

    def _build(self) -> ColumnFilter | None:
        if self._list is not None:
            values = frozenset(
                self._list.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(self._list.count())
                if self._list.item(i).checkState() == Qt.CheckState.Checked
            )
            return ChoiceFilter(values) if values else None
        if self._low is not None and self._high is not None:
            low = self._bound(self._low.text(), "From")
            high = self._bound(self._high.text(), "To")
            if low is None and high is None:
                return None
            if low is not None and high is not None and low > high:
                raise ValueError("To: must not be before From")
            return RangeFilter(low, high)
        text = self._text.text().strip() if self._text is not None else ""
        return TextFilter(text) if text else None
