"""The controls panel: one editor per story arg, generated from the arg's type."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gallery.story import Args, Control, Story
from widgets.tokens import Spacing

_NONE_LABEL = "(none)"


#: How long typing must pause before a text arg re-renders the story.
TYPING_PAUSE_MS = 250


class ControlsPanel(QWidget):
    """Editors for the args of one story; every valid edit re-emits all args.

    Enum args get a combo box, bools a checkbox, numbers a spin box, text a line edit,
    lists and dicts a JSON editor that shows what is wrong and keeps the last valid
    value until the text parses. Each row has a reset button; "Reset all" restores
    the story's defaults.

    Signals:
        sig_args_changed(dict): the complete, valid args after an edit or a reset.
    """

    sig_args_changed = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._story: Story | None = None
        self._controls: dict[str, Control] = {}
        self._editors: dict[str, QWidget] = {}
        self._errors: dict[str, QLabel] = {}
        self._values: Args = {}
        self._updating = False
        # Typed text is committed once typing pauses: a search text re-rendered a grid of
        # a million rows on every keystroke.
        self._pending: dict[str, str] = {}
        self._typing = QTimer(self)
        self._typing.setSingleShot(True)
        self._typing.setInterval(TYPING_PAUSE_MS)
        self._typing.timeout.connect(self._commit_typed)

        self._form = QFormLayout()
        self._form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._empty = QLabel("Pick a story to edit its args.")
        self._empty.setWordWrap(True)
        self._reset_all = QPushButton("Reset all")
        self._reset_all.setAccessibleName("Reset all controls")
        self._reset_all.clicked.connect(self.reset_all)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(Spacing.SM, Spacing.SM, Spacing.SM, Spacing.SM)
        layout.addWidget(self._empty)
        layout.addLayout(self._form)
        layout.addWidget(self._reset_all, 0, Qt.AlignmentFlag.AlignRight)
        layout.addStretch(1)
        self._reset_all.setVisible(False)

    # Public API -----------------------------------------------------------------------
    def story(self) -> Story | None:
        """The story whose args are edited."""
        return self._story

    def values(self) -> Args:
        """The current args (a copy)."""
        return json.loads(json.dumps(self._values))  # type: ignore[no-any-return]

    def editor(self, name: str) -> QWidget:
        """The editor widget of arg ``name`` (tests and keyboard users reach it here)."""
        return self._editors[name]

    def error(self, name: str) -> str:
        """The validation message shown under arg ``name`` ("" when valid)."""
        label = self._errors.get(name)
        return label.text() if label is not None and not label.isHidden() else ""

    def set_story(self, story: Story | None, values: Args | None = None) -> None:
        """Build the editors for ``story``, showing ``values`` (default: its args)."""
        self._typing.stop()
        self._pending.clear()
        while self._form.rowCount():
            self._form.removeRow(0)
        self._editors.clear()
        self._errors.clear()
        self._story = story
        self._controls = {c.name: c for c in story.controls()} if story else {}
        self._values = (
            dict(values) if values is not None else (story.default_args() if story else {})
        )
        self._empty.setVisible(story is None or not self._controls)
        self._reset_all.setVisible(bool(self._controls))
        for control in self._controls.values():
            self._add_row(control)

    def set_value(self, name: str, value: Any) -> None:
        """Set arg ``name`` as if typed in its editor (validated, then emitted).

        Raises:
            ValueError: the value breaks the arg's rule (nothing changes).
        """
        parsed = self._controls[name].parse(value)
        self._pending.pop(name, None)
        self._show_value(name, parsed)
        self._commit(name, parsed)

    def reset(self, name: str) -> None:
        """Restore arg ``name`` to the story's default."""
        self.set_value(name, self._controls[name].default)

    def reset_all(self) -> None:
        """Restore every arg to the story's defaults and emit once."""
        if self._story is None:
            return
        self._values = self._story.default_args()
        for name, value in self._values.items():
            self._show_value(name, value)
        self.sig_args_changed.emit(self.values())

    # Rows -----------------------------------------------------------------------------
    def _add_row(self, control: Control) -> None:
        editor = self._make_editor(control)
        editor.setAccessibleName(control.name)
        editor.setToolTip(f"{control.name} ({control.kind})")
        self._editors[control.name] = editor
        reset = QToolButton()
        reset.setText("↺")
        reset.setAccessibleName(f"Reset {control.name}")
        reset.setToolTip(f"Reset {control.name} to {control.default!r}")
        reset.clicked.connect(lambda _=False, name=control.name: self.reset(name))
        row = QHBoxLayout()
        row.setSpacing(Spacing.XS)
        row.addWidget(editor, 1)
        row.addWidget(reset, 0, Qt.AlignmentFlag.AlignTop)
        field = QVBoxLayout()
        field.setSpacing(2)
        field.addLayout(row)
        if control.kind == "json":
            error = QLabel()
            error.setWordWrap(True)
            error.setObjectName("control_error")
            error.setVisible(False)
            self._errors[control.name] = error
            field.addWidget(error)
        self._form.addRow(control.name, field)
        self._show_value(control.name, self._values.get(control.name, control.default))

    def _make_editor(self, control: Control) -> QWidget:
        name = control.name
        if control.kind == "enum":
            combo = QComboBox()
            for choice in control.choices:
                combo.addItem(choice or _NONE_LABEL, choice)
            combo.currentIndexChanged.connect(
                lambda i, n=name, c=combo: self._edited(n, c.itemData(i))
            )
            return combo
        if control.kind == "bool":
            box = QCheckBox()
            box.toggled.connect(lambda on, n=name: self._edited(n, bool(on)))
            return box
        if control.kind == "int":
            spin = QSpinBox()
            # Typing 654321 must not render 6, 65, 654, ...: commit on Enter, focus out
            # or the arrows (a big dataset per keystroke took seconds and a gigabyte).
            spin.setKeyboardTracking(False)
            spin.setRange(int(control.minimum), int(control.maximum))
            spin.valueChanged.connect(lambda v, n=name: self._edited(n, int(v)))
            return spin
        if control.kind == "float":
            dspin = QDoubleSpinBox()
            dspin.setKeyboardTracking(False)
            dspin.setRange(control.minimum, control.maximum)
            dspin.valueChanged.connect(lambda v, n=name: self._edited(n, float(v)))
            return dspin
        if control.kind == "text":
            line = QLineEdit()
            line.textChanged.connect(lambda t, n=name: self._typed(n, t))
            line.editingFinished.connect(self._commit_typed)  # Enter or focus out: now
            return line
        text = QPlainTextEdit()
        text.setTabChangesFocus(True)
        text.setFixedHeight(text.fontMetrics().lineSpacing() * 5 + 12)
        text.textChanged.connect(lambda n=name, t=text: self._edited(n, t.toPlainText()))
        return text

    def _show_value(self, name: str, value: Any) -> None:
        editor = self._editors.get(name)
        if editor is None:
            return
        self._updating = True
        try:
            if isinstance(editor, QComboBox):
                editor.setCurrentIndex(max(0, editor.findData(value)))
            elif isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, QSpinBox | QDoubleSpinBox):
                editor.setValue(value)
            elif isinstance(editor, QLineEdit):
                editor.setText(value)
            elif isinstance(editor, QPlainTextEdit):
                editor.setPlainText(json.dumps(value, indent=2, ensure_ascii=False))
                self._set_error(name, "")
        finally:
            self._updating = False

    def _typed(self, name: str, text: str) -> None:
        if self._updating:
            return
        self._pending[name] = text
        self._typing.start()

    def _commit_typed(self) -> None:
        self._typing.stop()
        pending, self._pending = self._pending, {}
        for name, text in pending.items():
            self._edited(name, text)

    def _edited(self, name: str, raw: Any) -> None:
        if self._updating:
            return
        try:
            value = self._controls[name].parse(raw)
        except ValueError as exc:
            self._set_error(name, str(exc))
            return
        self._set_error(name, "")
        self._commit(name, value)

    def _commit(self, name: str, value: Any) -> None:
        self._values[name] = value
        self.sig_args_changed.emit(self.values())

    def _set_error(self, name: str, message: str) -> None:
        label = self._errors.get(name)
        if label is not None:
            label.setText(message)
            label.setVisible(bool(message))
