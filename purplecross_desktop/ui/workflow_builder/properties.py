"""The properties panel: the selected step's (or the trigger's) fields, with pickers and errors.

Each input is a line: text stays text, and numbers, true/false, lists and objects are
typed as JSON (``{"days": 3}``). The ``{{ }}`` button beside it offers the trigger's
fields and the outputs of the steps before this one. The rules a field breaks are shown
under it as the document is checked after every edit.

An http_request step's ``endpoint_id`` is picked from the registered webhook endpoints
(URL and description; a disabled one is marked, and a chosen endpoint that is gone or
disabled shows its rule under the field). When the endpoints cannot be listed (only
admins may read them) the field takes the endpoint's number, with the reason beside it.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from purplecross_desktop.ui.workflow_builder.document_model import BuilderDocument
from purplecross_desktop.workflows import catalogue
from widgets.theme import current_colors

TRIGGER_FIELDS = {
    "event": ("event", "when"),
    "schedule": ("cron", "when"),
    "date": ("field", "offset", "at", "when"),
    "manual": ("inputs",),
}


def as_text(value: Any) -> str:
    """How a value is shown in a line edit (text as is, anything else as JSON)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def from_text(text: str, kind: str) -> Any:
    """A line edit's text as a value of ``kind`` (JSON where it parses, else the text)."""
    text = text.strip()
    if not text:
        return None
    if kind in ("text", "moment") or ("{{" in text and not text.startswith(("{", "["))):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


class PropertiesPanel(QWidget):
    """Edits one step (or, with step id "", the trigger) of a :class:`BuilderDocument`."""

    def __init__(self, document: BuilderDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setAccessibleName("Step properties")
        self.setMinimumWidth(320)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(8, 8, 8, 8)
        self.heading = QLabel()
        self.heading.setObjectName("sectionHeading")
        self.heading.setWordWrap(True)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setObjectName("mutedText")
        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self._layout.addWidget(self.heading)
        self._layout.addWidget(self.description)
        self._layout.addWidget(self.form_host)
        self._layout.addStretch(1)
        self.step_id = ""
        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        document.sig_document_changed.connect(self._refresh)
        self.show_step("")

    def show_step(self, step_id: str) -> None:
        """Show the fields of step ``step_id`` ("" for the trigger)."""
        self.step_id = step_id
        self._rebuild()

    # Building ----------------------------------------------------------------------
    def _rebuild(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.editors, self.errors = {}, {}
        if not self.step_id:
            self._trigger_rows()
        else:
            step = self.document.step(self.step_id)
            if step is None:
                self.heading.setText("Nothing selected")
                self.description.setText("Select a step on the canvas or in the outline.")
                return
            self._step_rows(step)
        self._show_errors()

    def _step_rows(self, step: dict[str, Any]) -> None:
        action = str(step.get("action"))
        spec = catalogue.ACTIONS.get(action)
        self.heading.setText(f"Step {step['id']} ({action})")
        self.description.setText(spec.description if spec else "")
        self._row(
            "name",
            "Name",
            as_text(step.get("name")),
            lambda v: self.document.set_step_field(self.step_id, "name", v or None),
        )
        given = step.get("with") or {}
        for name, want in (spec.inputs if spec else {}).items():
            label = name + (" *" if want.required else "")
            if (
                action == "http_request"
                and name == "endpoint_id"
                and self._endpoint_row(label, given.get(name))
            ):
                continue
            self._row(
                f"with.{name}",
                label,
                as_text(given.get(name)),
                lambda text, n=name, k=want.kind: self.document.set_input(
                    self.step_id, n, from_text(text, k)
                ),
                hint=want.description or want.kind,
                picker=True,
            )
        if action == "branch":
            self._row(
                "if",
                "if (condition)",
                as_text(step.get("if")),
                lambda text: self.document.set_step_field(
                    self.step_id, "if", from_text(text, "object")
                ),
                hint='{"all": [{"field": "steps.x.matched", "op": "eq", "value": true}]}',
            )
        outputs = ", ".join(spec.outputs) if spec and spec.outputs else "none"
        self.form.addRow("Outputs", QLabel(outputs))

    def _endpoint_row(self, label: str, value: Any) -> bool:
        """The endpoint picker (False: the endpoints are not known, a number is typed)."""
        endpoints = self.document.endpoints()
        if endpoints is None:
            return False
        picker = QComboBox()
        picker.setAccessibleName("Webhook endpoint")
        picker.setToolTip("A webhook endpoint registered in Settings → Integrations → Webhooks")
        picker.addItem(
            "Choose a webhook endpoint…"
            if endpoints
            else "No webhook endpoints: register one in Settings → Integrations → Webhooks",
            None,
        )
        for endpoint in endpoints:
            text = f"{endpoint.id}: {endpoint.url}"
            if endpoint.description:
                text += f" ({endpoint.description})"
            if not endpoint.enabled:
                text += " [disabled]"
            picker.addItem(text, endpoint.id)
            picker.setItemData(
                picker.count() - 1,
                f"{endpoint.url}\n{endpoint.description or 'no description'}\n"
                f"events: {', '.join(endpoint.event_types)}",
                Qt.ItemDataRole.ToolTipRole,
            )
        at = picker.findData(value) if value is not None else 0
        if value is not None and at < 0:  # gone since it was chosen, or a placeholder
            picker.addItem(f"{value}: not registered" if isinstance(value, int) else str(value))
            picker.setItemData(picker.count() - 1, value)
            at = picker.count() - 1
        picker.setCurrentIndex(at)
        # The long URLs must not widen the panel: the chosen one is spelled out below.
        picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        picker.setMinimumContentsLength(16)
        chosen = next((e for e in endpoints if e.id == value), None)
        detail = QLabel(
            f"{chosen.url}\n{chosen.description or 'no description'} · events: "
            f"{', '.join(chosen.event_types)}"
            if chosen is not None
            else ""
        )
        detail.setObjectName("mutedText")
        detail.setWordWrap(True)
        detail.setAccessibleName("Chosen webhook endpoint")
        detail.setVisible(chosen is not None)
        step_id = self.step_id
        picker.activated.connect(
            lambda index: self.document.set_input(step_id, "endpoint_id", picker.itemData(index))
        )
        field = QWidget()
        column = QVBoxLayout(field)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(picker)
        column.addWidget(detail)
        self._add_row("with.endpoint_id", label, field, picker)
        return True

    def _trigger_rows(self) -> None:
        trigger = self.document.data.get("trigger") or {}
        kind = str(trigger.get("type", "event"))
        self.heading.setText("Trigger")
        self.description.setText(
            "What starts a run: an event, a schedule, a record's date, or a person."
        )
        types = QComboBox()
        types.setAccessibleName("Trigger type")
        types.addItems(list(catalogue.TRIGGER_TYPES))
        types.setCurrentText(kind)
        types.currentTextChanged.connect(
            lambda t: self.document.set_field(("trigger",), _default_trigger(t), "Change trigger")
        )
        self.form.addRow("type", types)
        for name in TRIGGER_FIELDS.get(kind, ()):
            if name == "event":
                events = QComboBox()
                events.setAccessibleName("Trigger event")
                events.addItems(list(catalogue.EVENTS))
                events.setCurrentText(str(trigger.get("event", "")))
                events.currentTextChanged.connect(
                    lambda e: self.document.set_field(("trigger", "event"), e, "Change event")
                )
                self.form.addRow("event", events)
                continue
            if name == "field":
                fields = QComboBox()
                fields.setAccessibleName("Trigger date field")
                fields.addItems(list(catalogue.DATE_FIELDS))
                fields.setCurrentText(str(trigger.get("field", "")))
                fields.currentTextChanged.connect(
                    lambda f: self.document.set_field(("trigger", "field"), f, "Change date field")
                )
                self.form.addRow("field", fields)
                continue
            self._row(
                name,
                name,
                as_text(trigger.get(name)),
                lambda text, n=name: self.document.set_field(
                    ("trigger", n),
                    from_text(text, "text" if n in ("cron", "at") else "object"),
                    f"Change {n}",
                ),
            )

    def _row(
        self,
        key: str,
        label: str,
        value: str,
        apply: Any,
        hint: str = "",
        picker: bool = False,
    ) -> None:
        editor = QLineEdit(value)
        editor.setAccessibleName(f"{label.rstrip(' *')}")
        editor.setPlaceholderText(hint)
        editor.editingFinished.connect(
            lambda: apply(editor.text()) if editor.isModified() else None
        )
        line = QHBoxLayout()
        line.addWidget(editor, 1)
        if picker:
            button = QToolButton()
            button.setText("{{ }}")
            button.setToolTip("Insert a value from the trigger or an earlier step")
            button.setAccessibleName(f"Insert a value into {label.rstrip(' *')}")
            button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
            button.setMenu(self._picker_menu(editor, apply))
            line.addWidget(button)
        if key == "with.endpoint_id" and self.document.endpoints() is None:
            editor.setPlaceholderText("the endpoint's number")
            note = QLabel(self.document.endpoints_note)
            note.setObjectName("mutedText")
            note.setWordWrap(True)
            holder = QWidget()
            column = QVBoxLayout(holder)
            column.setContentsMargins(0, 0, 0, 0)
            column.addLayout(line)
            column.addWidget(note)
            self._add_row(key, label, holder, editor)
            return
        host = QWidget()
        host.setLayout(line)
        line.setContentsMargins(0, 0, 0, 0)
        self._add_row(key, label, host, editor)

    def _add_row(self, key: str, label: str, field: QWidget, editor: QWidget | None = None) -> None:
        """A form row: ``field`` with its error line under it (``editor``: what is marked
        invalid, the field itself when not given)."""
        error = QLabel()
        error.setObjectName("fieldError")
        error.setWordWrap(True)
        error.hide()
        holder = QWidget()
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(field)
        column.addWidget(error)
        self.form.addRow(label, holder)
        self.editors[key] = editor or field
        self.errors[key] = error

    def _picker_menu(self, editor: QLineEdit, apply: Any) -> QMenu:
        menu = QMenu(self)
        trigger = self.document.data.get("trigger") or {}
        fields = [
            "trigger.id",
            "trigger.client_id",
            "trigger.patient_id",
            "trigger.client_name",
            "trigger.patient_name",
        ]
        event = str(trigger.get("event", ""))
        fields += [f"trigger.{k}" for k in catalogue.EVENTS.get(event, ())]
        date_field = str(trigger.get("field", ""))
        fields += [f"trigger.{k}" for k in catalogue.DATE_FIELDS.get(date_field, ())]
        for path in dict.fromkeys([*fields, *self.document.earlier_outputs(self.step_id)]):
            action = menu.addAction(path)

            def insert(_checked: bool = False, p: str = path) -> None:
                editor.insert("{{ " + p + " }}")
                apply(editor.text())

            action.triggered.connect(insert)
        return menu

    # Errors ------------------------------------------------------------------------
    def _refresh(self) -> None:
        if self.step_id and self.document.step(self.step_id) is None:
            self.step_id = ""
        self._rebuild()

    def _show_errors(self) -> None:
        where = "trigger" if not self.step_id else f"step {self.step_id!r}"
        for problem in self.document.problems():
            if problem.where != where:
                continue
            key = next(
                (k for k in self.errors if problem.field == k or problem.field.startswith(k + ".")),
                None,
            )
            label = self.errors.get(key) if key else None
            if label is None:
                text = self.description.text()
                self.description.setText(f"{text}\n{problem.field}: {problem.rule}".strip())
                continue
            label.setText("; ".join(filter(None, [label.text(), problem.rule])))
            label.setStyleSheet(f"color: {current_colors().error_text};")
            label.show()
            editor = self.editors.get(key or "")
            if editor is not None:
                editor.setProperty("invalid", "true")
                editor.style().unpolish(editor)
                editor.style().polish(editor)

    def error_text(self, key: str) -> str:
        """The rule(s) shown under field ``key`` ("" when none)."""
        label = self.errors.get(key)
        return label.text() if label is not None and not label.isHidden() else ""


def _default_trigger(kind: str) -> dict[str, Any]:
    defaults: dict[str, dict[str, Any]] = {
        "event": {"type": "event", "event": "appointment.booked"},
        "schedule": {"type": "schedule", "cron": "0 9 * * 1-5"},
        "date": {
            "type": "date",
            "field": "vaccination.next_due_on",
            "offset": {"days": -14},
            "at": "09:00",
        },
        "manual": {"type": "manual", "inputs": {"client_id": "integer"}},
    }
    return defaults[kind]
