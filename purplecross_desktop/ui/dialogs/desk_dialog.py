"""The frame of the front desk's dialogs: a heading, a body, inline field errors, buttons.

Work runs off the UI thread (``context.background``); while it runs the primary button
shows a spinner and nothing can be submitted twice. A refused change shows the service's
message under the field it names (``weight_kg: must be positive`` under the weight), and
anything else in an error alert at the top.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from purplecross_desktop.domain.errors import DomainError, ValidationError
from purplecross_desktop.ui.context import AppContext
from widgets.alert import Alert
from widgets.button import Button
from widgets.tokens import Spacing


class DeskDialog(QDialog):
    """A dialog with a heading, an error alert, a body and a button row.

    Args:
        context: the app context (background work).
        title: the window title and heading.
        primary_text: the text of the primary button ("Check in").
        primary_variant: its variant ("primary" or "danger").
        close_text: the text of the button that closes without doing anything.
        parent: the parent widget.
    """

    def __init__(
        self,
        context: AppContext,
        title: str,
        primary_text: str,
        *,
        primary_variant: str = "primary",
        close_text: str = "Close",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setMinimumWidth(460)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(Spacing.XL, Spacing.XL, Spacing.XL, Spacing.LG)
        outer.setSpacing(Spacing.MD)
        self.heading = QLabel(title)
        self.heading.setObjectName("dialogHeading")
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.heading.setFont(font)
        self.heading.setWordWrap(True)
        outer.addWidget(self.heading)
        self.error = Alert("", kind="error", title="Not saved")
        self.error.setVisible(False)
        outer.addWidget(self.error)
        self.body = QVBoxLayout()
        self.body.setSpacing(Spacing.MD)
        outer.addLayout(self.body, 1)
        buttons = QHBoxLayout()
        #: the bottom row; a dialog may insert its own buttons at the left (index 0)
        self.button_row = buttons
        buttons.addStretch(1)
        self.close_button = Button(close_text, variant="secondary")
        self.close_button.clicked.connect(self.reject)
        self.primary = Button(primary_text, variant=primary_variant)
        self.primary.setDefault(True)
        self.primary.clicked.connect(self.submit)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.primary)
        outer.addLayout(buttons)
        self.field_errors: dict[str, QLabel] = {}
        self._busy = False

    # Public API ---------------------------------------------------------------
    def field_error_label(self, field: str) -> QLabel:
        """A hidden label for the errors of ``field``; place it under the field."""
        label = QLabel("")
        label.setObjectName("fieldError")
        label.setWordWrap(True)
        label.setAccessibleName(f"{field} error")
        label.setVisible(False)
        label.setStyleSheet("")  # coloured by the theme's error text (see show_errors)
        self.field_errors[field] = label
        return label

    def run(
        self,
        work: Callable[[], Any],
        on_success: Callable[[Any], None],
    ) -> None:
        """Run ``work`` off the UI thread with the primary button busy; errors show inline."""
        if self._busy:
            return
        self._busy = True
        self.clear_errors()
        self.primary.set_loading(True)
        self.context.background(self, work).success(on_success).failure(self.show_errors).finally_(
            self._idle
        ).run_in_background()

    def clear_errors(self) -> None:
        self.error.setVisible(False)
        for label in self.field_errors.values():
            label.setVisible(False)
            label.setText("")

    def show_errors(self, exc: BaseException) -> None:
        """Each ``field: rule`` under its field when the dialog has one, the rest on top."""
        from widgets.theme import current_colors

        colour = current_colors().error_text
        leftovers: list[str] = []
        errors: Mapping[str, list[str]] = exc.errors if isinstance(exc, ValidationError) else {}
        for field, rules in errors.items():
            label = self.field_errors.get(field)
            if label is None:
                leftovers.extend(f"{field}: {rule}" for rule in rules)
                continue
            label.setText("; ".join(rules))
            label.setStyleSheet(f"color: {colour};")
            label.setVisible(True)
        if not isinstance(exc, ValidationError):
            text = str(exc) if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
            leftovers.append(text)
        if leftovers:
            self.error.set_message("Nothing was changed. " + " ".join(leftovers))
            self.error.setVisible(True)

    def submit(self) -> None:
        """The primary action; subclasses override."""

    # Internals ----------------------------------------------------------------
    def _idle(self) -> None:
        self._busy = False
        self.primary.set_loading(False)

    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key.Key_Escape and self._busy:
            return  # the change is being saved: closing now would hide its outcome
        super().keyPressEvent(event)
