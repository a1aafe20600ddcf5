"""FormDialog: the base of the clinic's create/edit dialogs, saving off the UI thread."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from purplecross_desktop.domain.errors import DomainError, ValidationError
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.forms import clear_errors, show_errors
from widgets.alert import Alert
from widgets.button import Button
from widgets.form_field import FormField
from widgets.tokens import Spacing


class FormDialog(QDialog):
    """A modal form: fields in a grid, an error summary, Save and Cancel.

    Subclasses add fields with :meth:`add_field` and implement :meth:`save_work`, which
    reads the fields (on the UI thread) and returns the service call to run off it. A
    ``ValidationError`` puts each rule under its field and focuses the first; other
    refusals (a conflict, a missing permission) show above the buttons. Enter saves,
    Escape cancels.

    Args:
        context: the app context (services, background runner).
        title: the window title and accessible name.
        save_text: the Save button's label.
        columns: how many fields sit side by side.
        parent: the parent widget.

    Signals:
        sig_saved(object): what the service returned; the dialog then closes (accepted).
    """

    sig_saved = Signal(object)

    def __init__(
        self,
        context: AppContext,
        title: str,
        *,
        save_text: str = "Save",
        columns: int = 2,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setModal(True)
        self.fields: dict[str, FormField] = {}
        self._columns = columns
        self._next = 0
        self._shown_once = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(Spacing.XL, Spacing.LG, Spacing.XL, Spacing.LG)
        outer.setSpacing(Spacing.MD)
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(Spacing.LG)
        self.grid.setVerticalSpacing(Spacing.MD)
        outer.addLayout(self.grid)
        self.message = Alert("", kind="error")
        self.message.setVisible(False)
        outer.addWidget(self.message)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = Button("Cancel", variant="secondary")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.save_button = Button(save_text)
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        outer.addLayout(buttons)

    # Building -----------------------------------------------------------------
    def add_field(
        self,
        key: str,
        label: str,
        editor: QWidget,
        *,
        hint: str = "",
        required: bool = False,
        span: int = 1,
    ) -> FormField:
        """Add a field at the next free cell (``span`` columns wide); ``key`` is the
        service's name for it, so its ``ValidationError`` rules land here."""
        field = FormField(label, editor, hint=hint, required=required)
        self.fields[key] = field
        self._place(field, span)
        return field

    def add_section(self, title: str) -> QLabel:
        """A heading across the whole width, starting a new row."""
        heading = QLabel(title)
        heading.setObjectName("formSection")
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        if self._next % self._columns:
            self._next += self._columns - self._next % self._columns
        self._place(heading, self._columns)
        return heading

    def add_widget(self, widget: QWidget, span: int | None = None) -> None:
        """Any widget at the next free cell."""
        self._place(widget, span or self._columns)

    def focus_order(self) -> list[QWidget]:
        """The tab order: every field's input in the order added, then Cancel and Save
        (subclasses with extra controls override this)."""
        return [f.editor() for f in self.fields.values()] + [self.cancel_button, self.save_button]

    def showEvent(self, event: QShowEvent) -> None:
        # Tab follows the form's reading order, not the order the widgets were created in
        # (the buttons exist before a subclass adds its fields); the first field starts.
        order = self.focus_order()
        for before, after in itertools.pairwise(order):
            QWidget.setTabOrder(before, after)
        super().showEvent(event)
        if order and not self._shown_once:
            self._shown_once = True
            order[0].setFocus(Qt.FocusReason.TabFocusReason)

    # Saving -------------------------------------------------------------------
    def save_work(self) -> Callable[[], Any]:
        """Read the fields and return the call that saves them (run off the UI thread).

        Raise ``ValidationError`` here for rules that need no database (two passwords
        that differ); the dialog shows them like the service's own.
        """
        raise NotImplementedError

    def save(self) -> None:
        """Validate and save in the background; closes on success."""
        if self.save_button.is_loading():
            return
        clear_errors(self.fields)
        self.message.setVisible(False)
        try:
            work = self.save_work()
        except ValidationError as exc:
            self._failed(exc)
            return
        self.save_button.set_loading(True)
        self.context.background(self, work).success(self._saved).failure(self._failed).finally_(
            lambda: self.save_button.set_loading(False)
        ).run_in_background()

    def accept(self) -> None:
        # Enter in a field presses the default button; never close without saving.
        self.save()

    def _saved(self, result: Any) -> None:
        self.sig_saved.emit(result)
        super().accept()

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, ValidationError):
            leftover = show_errors(self.fields, exc)
            if leftover:
                self._say("Not saved: " + "; ".join(leftover) + ".")
            return
        if isinstance(exc, DomainError):
            self._say(f"Not saved: {exc}.")
        else:
            self._say(
                f"Not saved: the database did not answer ({type(exc).__name__}: {exc}). "
                "Your entries are kept; try again."
            )

    def _say(self, text: str) -> None:
        self.message.set_message(text)
        self.message.setVisible(True)

    def _place(self, widget: QWidget, span: int) -> None:
        span = max(1, min(span, self._columns))
        if self._next % self._columns + span > self._columns:
            self._next += self._columns - self._next % self._columns
        row, column = divmod(self._next, self._columns)
        self.grid.addWidget(widget, row, column, 1, span, Qt.AlignmentFlag.AlignTop)
        self._next += span
