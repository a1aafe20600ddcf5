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


def parse_bound(text: str, kind: str, sample: Any, field: str) -> Any:
    """``text`` as a value comparable with the column's values; ValueError naming ``field``."""
    text = text.strip()
    if not text:
        return None
    if kind in ("date", "datetime") or isinstance(sample, dt.date):
        want_datetime = kind == "datetime" or isinstance(sample, dt.datetime)
        try:
            if want_datetime:
                value = dt.datetime.fromisoformat(text)
                if isinstance(sample, dt.datetime) and sample.tzinfo and not value.tzinfo:
                    value = value.replace(tzinfo=sample.tzinfo)
                return value
            return dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{field}: enter a date as YYYY-MM-DD") from None
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"{field}: enter a number, like 12.5") from None
    if isinstance(sample, float):
        return float(number)
    if isinstance(sample, int) and number == number.to_integral_value():
        return int(number)
    return number


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
                self._low.setText("" if current.low is None else column.display(current.low))
                self._high.setText("" if current.high is None else column.display(current.high))
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

    def _build(self) -> ColumnFilter | None:
        if self._list is not None:
            values = frozenset(
                self._list.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(self._list.count())
                if self._list.item(i).checkState() == Qt.CheckState.Checked
            )
            return ChoiceFilter(values) if values else None
        if self._low is not None and self._high is not None:
            kind = self._column.kind
            low = parse_bound(self._low.text(), kind, self._sample, "From")
            high = parse_bound(self._high.text(), kind, self._sample, "To")
            if low is None and high is None:
                return None
            if low is not None and high is not None and low > high:
                raise ValueError("To: must not be before From")
            return RangeFilter(low, high)
        text = self._text.text().strip() if self._text is not None else ""
        return TextFilter(text) if text else None
