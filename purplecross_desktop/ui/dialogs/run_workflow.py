"""Run a workflow from a client's or a patient's record (admins and practice managers).

The dialog lists the enabled workflows whose trigger is manual and that take the record's
id as an input (``client_id`` on a client, ``patient_id`` on a patient), asks for the
trigger's declared inputs (the record's id and the obvious others filled in), and starts
the run through the workflow engine, the same call as ``purplecross workflows run``. The
engine refuses staff whose role may not run workflows, checks each input and records who
started the run and from which record; a refused start changes nothing and names the field
and the rule. Once started, the primary button opens the run on the Workflows page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from purplecross_desktop.domain.errors import DomainError, ValidationError
from purplecross_desktop.domain.roles import Permission
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.dialogs.desk_dialog import DeskDialog
from purplecross_desktop.workflows.store import ManualWorkflow
from widgets.alert import Alert

#: What each input kind expects, shown beside its field.
KIND_HINTS = {
    "integer": "a whole number",
    "number": "a number",
    "text": "text",
    "moment": "a date and time, e.g. 2026-12-31 09:00",
    "boolean": "yes or no",
}


def may_run_workflows(context: AppContext) -> bool:
    """Whether the signed-in staff member may start workflows (the screens hide the action
    otherwise; the engine refuses anyway). Anyone while nobody is signed in: the sign-in
    screen covers the window then, and the engine refuses such a start."""
    signed = context.staff_session.current
    return signed is None or signed.can(Permission.MANAGE_WORKFLOWS)


def input_label(name: str) -> str:
    """``client_id`` → "Client id"."""
    return name.replace("_", " ").capitalize()


def read_input(name: str, kind: str, editor: QWidget) -> tuple[bool, Any]:
    """``(given, value)`` of one input's editor: an empty field is not given (the engine
    then says it is required); a value the kind cannot take is passed on as typed, so the
    engine's rule ("must be integer") is the one shown.

    Raises:
        ValidationError: a moment that is not a date and time (``inputs.<name>``).
    """
    if isinstance(editor, QCheckBox):
        return True, editor.isChecked()
    assert isinstance(editor, QLineEdit)
    text = editor.text().strip()
    if not text:
        return False, None
    if kind == "integer":
        try:
            return True, int(text)
        except ValueError:
            return True, text
    if kind == "number":
        try:
            return True, float(text) if any(c in text for c in ".eE") else int(text)
        except ValueError:
            return True, text
    if kind == "moment":
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError({f"inputs.{name}": [f"must be {KIND_HINTS['moment']}"]}) from None
        return True, moment.isoformat()
    return True, editor.text()


class RunWorkflowDialog(DeskDialog):
    """Pick a manual workflow, fill its inputs and start it for one record.

    Args:
        context: the app context (services, job runtime).
        record: ``client`` or ``patient``.
        record_id: the record's id.
        record_name: how the heading names it ("Ada Lovelace").
        prefill: input values to fill in when a workflow declares them (the record's id
            under ``<record>_id``, the owner or the selected pet).
        parent: the parent widget (the record).

    Signals:
        sig_loaded(): the workflows are listed.
        sig_started(int): a run was started (its id).
        sig_open_run(int): the user asked to see the run (the dialog then closes).
    """

    sig_loaded = Signal()
    sig_started = Signal(int)
    sig_open_run = Signal(int)

    def __init__(
        self,
        context: AppContext,
        record: str,
        record_id: int,
        record_name: str,
        prefill: Mapping[str, Any],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            context,
            f"Run a workflow for {record_name}",
            "&Start run",
            close_text="Close",
            parent=parent,
        )
        self.setObjectName("runWorkflowDialog")
        self.record = record
        self.record_id = record_id
        self.prefill = {f"{record}_id": record_id, **prefill}
        self.workflows: list[ManualWorkflow] = []
        self.editors: dict[str, QWidget] = {}
        self.run_id: int | None = None
        self.error.set_title("Not started")

        intro = QLabel(
            f"Workflows started by hand that take a {record}'s id. The run is recorded as "
            f"started by you from this {record}."
        )
        intro.setWordWrap(True)
        intro.setObjectName("mutedText")
        self.body.addWidget(intro)
        label = QLabel("&Workflow")
        self.workflow_box = QComboBox()
        self.workflow_box.setAccessibleName("Workflow")
        self.workflow_box.setEnabled(False)
        self.workflow_box.addItem("Loading…")
        label.setBuddy(self.workflow_box)
        self.body.addWidget(label)
        self.body.addWidget(self.workflow_box)
        self.body.addWidget(self.field_error_label("workflow"))
        self.description = QLabel("")
        self.description.setWordWrap(True)
        self.description.setObjectName("mutedText")
        self.description.setAccessibleName("Workflow description")
        self.body.addWidget(self.description)
        self.inputs_box = QWidget()
        self.inputs_box.setAccessibleName("Inputs")
        self.form = QFormLayout(self.inputs_box)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.body.addWidget(self.inputs_box)
        self.started = Alert("", kind="success", title="Run started")
        self.started.setVisible(False)
        self.body.addWidget(self.started)
        self.body.addStretch(1)
        self.primary.setEnabled(False)
        self.close_button.setAutoDefault(False)
        self.workflow_box.currentIndexChanged.connect(self._workflow_changed)
        self._load()

    # Public API ---------------------------------------------------------------
    def current(self) -> ManualWorkflow | None:
        """The workflow picked, or None (none offered)."""
        index = self.workflow_box.currentIndex()
        return (
            self.workflows[index] if self.workflows and 0 <= index < len(self.workflows) else None
        )

    def inputs(self) -> dict[str, Any]:
        """The inputs as the engine gets them (on the UI thread).

        Raises:
            ValidationError: an input the dialog itself can tell is wrong.
        """
        workflow = self.current()
        values: dict[str, Any] = {}
        problems: dict[str, list[str]] = {}
        for name, kind in (workflow.inputs if workflow else {}).items():
            try:
                given, value = read_input(name, kind, self.editors[name])
            except ValidationError as exc:
                for key, rules in exc.errors.items():
                    problems.setdefault(key, []).extend(rules)
                continue
            if given:
                values[name] = value
        if problems:
            raise ValidationError(problems)
        return values

    def submit(self) -> None:
        """Start the run (Enter); once started, open it."""
        if self.run_id is not None:
            self.open_run()
            return
        workflow = self.current()
        if workflow is None:
            return
        self.clear_errors()
        try:
            inputs = self.inputs()
        except ValidationError as exc:
            self.show_errors(exc)
            return
        context, record = self.context, (self.record, self.record_id)

        def work() -> int:
            engine = context.job_runtime().platform.services["workflows"]
            run_id: int = engine.start_manual(workflow.id, inputs, record=record)
            return run_id

        self.run(work, self._started)

    def open_run(self) -> None:
        """Show the run on the Workflows page (through the main window) and close."""
        if self.run_id is None:
            return
        target = self.parentWidget()
        while target is not None and not hasattr(target, "open_link"):
            target = target.parentWidget()
        run_id = self.run_id
        self.sig_open_run.emit(run_id)
        if target is not None:
            target.open_link(f"workflow-run:{run_id}")
        self.accept()

    def show_errors(self, exc: BaseException) -> None:
        """Each rule under its field, and above them all what was refused and why (the
        field named), since nothing was started."""
        super().show_errors(exc)
        if isinstance(exc, ValidationError):
            named = "; ".join(
                f"{field.removeprefix('inputs.')}: {'; '.join(rules)}"
                for field, rules in exc.errors.items()
            )
            self.error.set_message(f"Nothing was started. {named}")
            self.error.setVisible(True)
            first = next(iter(exc.errors), "").removeprefix("inputs.")
            if first in self.editors:
                self.editors[first].setFocus(Qt.FocusReason.OtherFocusReason)
        self._fit()

    # Internals ----------------------------------------------------------------
    def _load(self) -> None:
        services = self.context.services
        assert services is not None
        record = self.record
        self.context.background(self, lambda: services.workflows.manual_workflows(record)).success(
            self._loaded
        ).failure(self._load_failed).run_in_background()

    def _loaded(self, workflows: list[ManualWorkflow]) -> None:
        self.workflows = workflows
        self.workflow_box.blockSignals(True)
        self.workflow_box.clear()
        for workflow in workflows:
            self.workflow_box.addItem(workflow.name, workflow.id)
        self.workflow_box.blockSignals(False)
        if workflows:
            self.workflow_box.setEnabled(True)
            self.workflow_box.setCurrentIndex(0)
            self._workflow_changed(0)
            self.workflow_box.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.workflow_box.addItem("No workflow to run")
            self.description.setText(
                f"No enabled workflow is started by hand with a {self.record}_id input. "
                "On the Workflows page, give one a manual trigger with that input and enable it."
            )
            self.close_button.setFocus(Qt.FocusReason.OtherFocusReason)
        self.sig_loaded.emit()

    def _load_failed(self, exc: BaseException) -> None:
        text = str(exc) if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        self.workflow_box.clear()
        self.workflow_box.addItem("Could not list the workflows")
        self.error.set_title("Could not list the workflows")
        self.error.set_message(text)
        self.error.setVisible(True)

    def _workflow_changed(self, _index: int) -> None:
        workflow = self.current()
        self.clear_errors()
        while self.form.rowCount():
            self.form.removeRow(0)
        self.editors.clear()
        for key in [k for k in self.field_errors if k.startswith("inputs.")]:
            del self.field_errors[key]
        self.primary.setEnabled(workflow is not None)
        if workflow is None:
            return
        self.description.setText(workflow.description or "")
        self.description.setVisible(bool(workflow.description))
        previous: QWidget = self.workflow_box
        for name, kind in workflow.inputs.items():
            editor: QWidget
            value = self.prefill.get(name)
            if kind == "boolean":
                box = QCheckBox(input_label(name))
                box.setChecked(bool(value))
                editor = box
            else:
                line = QLineEdit("" if value is None else str(value))
                line.setPlaceholderText(KIND_HINTS.get(kind, kind))
                editor = line
            editor.setAccessibleName(input_label(name))
            editor.setObjectName(f"input_{name}")
            self.editors[name] = editor
            column = QWidget()
            stack = QVBoxLayout(column)
            stack.setContentsMargins(0, 0, 0, 0)
            stack.setSpacing(2)
            stack.addWidget(editor)
            stack.addWidget(self.field_error_label(f"inputs.{name}"))
            caption = QLabel(f"{input_label(name)} ({kind})")
            caption.setBuddy(editor)
            self.form.addRow(caption, column)
            QWidget.setTabOrder(previous, editor)
            previous = editor
        QWidget.setTabOrder(previous, self.close_button)
        QWidget.setTabOrder(self.close_button, self.primary)

    def _started(self, run_id: int) -> None:
        self.run_id = run_id
        workflow = self.current()
        name = workflow.name if workflow else "the workflow"
        self.started.set_message(
            f"Run {run_id} of “{name}” started for this {self.record}; it goes on in the "
            "background. Open it to follow each step."
        )
        self.started.setVisible(True)
        self.workflow_box.setEnabled(False)
        self.inputs_box.setEnabled(False)
        self.primary.setText("&Open run")
        self.primary.setFocus(Qt.FocusReason.OtherFocusReason)
        self._fit()
        self.sig_started.emit(run_id)

    def _fit(self) -> None:
        """Grow to show a message that just appeared (never narrower than it is)."""
        layout = self.layout()
        if layout is not None:
            layout.activate()
        hint = self.sizeHint()
        self.resize(max(self.width(), hint.width()), max(self.height(), hint.height()))


def open_run_workflow(
    context: AppContext,
    parent: QWidget,
    record: str,
    record_id: int,
    record_name: str,
    prefill: Mapping[str, Any],
) -> RunWorkflowDialog:
    """Open the dialog (window-modal over the record) and return it."""
    dialog = RunWorkflowDialog(context, record, record_id, record_name, prefill, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
