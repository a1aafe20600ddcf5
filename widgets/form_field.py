"""FormField: a labelled input with its rule shown inline underneath when the input breaks it."""

from __future__ import annotations

from PySide6.QtCore import Property, Qt, Signal
from PySide6.QtGui import QAccessible, QAccessibleEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from widgets.accessibility import set_accessible_role
from widgets.tokens import Spacing


class FormField(QWidget):
    """A label above an input, an optional hint, and an inline error below it.

    The label is the input's buddy and its accessible name, so a screen reader says
    "Email, edit text" and Alt plus the label's mnemonic focuses the input. While an
    error is shown, the input has the ``invalid`` property (the theme draws its border in
    the error colour) and its accessible description carries the message.

    Args:
        label: what the input is ("Email"); ``&`` marks a mnemonic ("&Email").
        editor: the input widget (QLineEdit, QComboBox, QPlainTextEdit, ...).
        hint: a muted line under the input saying what is expected, or "".
        required: adds " *" to the label and "required" to the accessible description.
        parent: the parent widget.

    Signals:
        sig_error_changed(str): the error shown changed ("" when cleared).
    """

    sig_error_changed = Signal(str)

    def __init__(
        self,
        label: str,
        editor: QWidget,
        *,
        hint: str = "",
        required: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._editor = editor
        self._name = label.replace("&", "")
        self._required = required
        self._error = ""
        self._hint = hint
        self.setObjectName("form_field")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(Spacing.XS)
        self._label = QLabel(f"{label} *" if required else label)
        self._label.setObjectName("form_field_label")
        self._label.setBuddy(editor)
        self._hint_label = QLabel(hint)
        self._hint_label.setObjectName("form_field_hint")
        self._hint_label.setWordWrap(True)
        self._hint_label.setVisible(bool(hint))
        self._error_label = QLabel("")
        self._error_label.setObjectName("form_field_error")
        self._error_label.setWordWrap(True)
        self._error_label.setTextFormat(Qt.TextFormat.PlainText)
        self._error_label.setVisible(False)
        self._error_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        set_accessible_role(self._error_label, QAccessible.Role.AlertMessage)
        layout.addWidget(self._label)
        layout.addWidget(editor)
        layout.addWidget(self._hint_label)
        layout.addWidget(self._error_label)
        editor.setAccessibleName(self._name)
        self._describe()

    # Public API ---------------------------------------------------------------
    def editor(self) -> QWidget:
        """The input widget."""
        return self._editor

    def label_text(self) -> str:
        """The label without mnemonic or required marker ("Email")."""
        return self._name

    def error(self) -> str:
        """The error shown, or "" when the input is fine."""
        return self._error

    def set_error(self, message: str | None) -> None:
        """Show ``message`` under the input (None or "" clears it)."""
        text = (message or "").strip()
        if text == self._error:
            return
        self._error = text
        self._error_label.setText(text)
        self._error_label.setVisible(bool(text))
        # the rule broken says more than the hint; one line under the input, not two
        self._hint_label.setVisible(bool(self._hint) and not text)
        self._editor.setProperty("invalid", bool(text))
        # re-polish: the theme's [invalid="true"] rule reads the property at polish time
        style = self._editor.style()
        style.unpolish(self._editor)
        style.polish(self._editor)
        self._describe()
        if text:
            alert = QAccessibleEvent(self._error_label, QAccessible.Event.Alert)
            QAccessible.updateAccessibility(alert)
        self.sig_error_changed.emit(text)

    def clear_error(self) -> None:
        """Remove the error (the input is fine again)."""
        self.set_error(None)

    def set_hint(self, hint: str) -> None:
        """Replace the hint line ("" hides it)."""
        self._hint = hint
        self._hint_label.setText(hint)
        self._hint_label.setVisible(bool(hint) and not self._error)
        self._describe()

    # Internals ----------------------------------------------------------------
    def _describe(self) -> None:
        parts = []
        if self._required:
            parts.append("required")
        if self._error:
            parts.append(self._error)
        elif self._hint:
            parts.append(self._hint)
        self._editor.setAccessibleDescription(". ".join(parts))

    def _get_error(self) -> str:
        return self._error

    error_text = Property(str, _get_error, set_error)
