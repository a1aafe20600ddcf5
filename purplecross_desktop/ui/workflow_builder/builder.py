"""The workflow builder: outline, canvas and properties over one document, with undo and redo.

Keyboard: Ctrl+Z / Ctrl+Shift+Z undo and redo, Ctrl+Shift+A adds a step after the
selected one (a menu of actions), Ctrl+Shift+C connects it to another step (a menu of
the steps, by port: the keyboard's way of dragging a port onto a node), Delete removes
it, Ctrl+Up/Down move it, Up/Down walk the canvas, +/- zoom; Ctrl+S saves; Ctrl+T
test-runs against the event number given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QSpinBox,
    QSplitter,
    QToolBar,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from purplecross_desktop.domain.webhooks import EndpointInfo
from purplecross_desktop.ui.workflow_builder.canvas import PORT_HINTS, WorkflowCanvas
from purplecross_desktop.ui.workflow_builder.document_model import (
    BuilderDocument,
    ConnectionRefused,
)
from purplecross_desktop.ui.workflow_builder.outline_model import STEP_ID_ROLE, OutlineModel
from purplecross_desktop.ui.workflow_builder.properties import PropertiesPanel
from purplecross_desktop.workflows import catalogue
from purplecross_desktop.workflows.document import dump, parse_text
from widgets.theme import current_colors


class WorkflowBuilder(QWidget):
    """Edit a workflow document visually.

    Args:
        templates: the shipped templates by name (for "Start from a template").
        parent: the parent widget.

    Signals:
        sig_save_requested(object): the document (a dict) to store as a new version.
        sig_test_requested(object, int): the document and a past event id to dry-run it on.
    """

    sig_save_requested = Signal(object)
    sig_test_requested = Signal(object, int)

    def __init__(
        self, templates: dict[str, Path] | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setAccessibleName("Workflow builder")
        self.templates = templates or {}
        self.document = BuilderDocument(parent=self)
        self.outline_model = OutlineModel(self.document)
        self.outline = QTreeView()
        self.outline.setAccessibleName("Workflow outline")
        self.outline.setHeaderHidden(True)
        self.outline.setModel(self.outline_model)
        self.outline.expandAll()
        self.canvas = WorkflowCanvas(self.document)
        self.properties = PropertiesPanel(self.document)
        self.toolbar = QToolBar("Workflow")
        self.toolbar.setAccessibleName("Workflow tools")
        self._actions()
        self.status = QLabel()
        self.status.setObjectName("builderStatus")
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Workflow check")
        self.test_output = QPlainTextEdit()
        self.test_output.setReadOnly(True)
        self.test_output.setAccessibleName("Test run")
        self.test_output.setPlaceholderText(
            "Test run: pick a past event and press Test run (Ctrl+T)"
        )
        self.test_output.setMaximumHeight(110)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.outline)
        splitter.addWidget(self.canvas)
        splitter.addWidget(self.properties)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([200, 520, 340])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toolbar)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.test_output)
        self.canvas.sig_step_selected.connect(self._selected)
        self.canvas.sig_connection_requested.connect(self.connect_steps)
        self.outline.selectionModel().currentChanged.connect(self._outline_current)
        self.outline_model.modelReset.connect(self.outline.expandAll)
        self.document.sig_document_changed.connect(self._check)
        self._check()

    # Toolbar -----------------------------------------------------------------------
    def _actions(self) -> None:
        bar = self.toolbar
        if self.templates:
            start = QToolButton()
            start.setText("Start from a template")
            start.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
            menu = QMenu(start)
            for name, path in sorted(self.templates.items()):
                menu.addAction(name, self._template_loader(path))
            start.setMenu(menu)
            bar.addWidget(start)
        self.import_action = bar.addAction("Import…", self.import_file)
        self.export_action = bar.addAction("Export…", self.export_file)
        bar.addSeparator()
        stack = self.document.undo_stack
        # Fixed labels (the stack's own actions grow with each command's text); the
        # tooltip says what would be undone.
        self.undo_action = QAction("Undo", self)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.triggered.connect(stack.undo)
        self.undo_action.setEnabled(False)
        stack.canUndoChanged.connect(self.undo_action.setEnabled)
        stack.undoTextChanged.connect(lambda text: self.undo_action.setToolTip(f"Undo {text}"))
        self.redo_action = QAction("Redo", self)
        self.redo_action.setShortcut(QKeySequence.StandardKey.Redo)
        self.redo_action.triggered.connect(stack.redo)
        self.redo_action.setEnabled(False)
        stack.canRedoChanged.connect(self.redo_action.setEnabled)
        stack.redoTextChanged.connect(lambda text: self.redo_action.setToolTip(f"Redo {text}"))
        bar.addAction(self.undo_action)
        bar.addAction(self.redo_action)
        bar.addSeparator()
        add = QToolButton()
        add.setText("Add step")
        add.setAccessibleName("Add step")
        add.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add_menu = QMenu(add)
        for name, spec in catalogue.ACTIONS.items():
            item = self.add_menu.addAction(name, self._step_adder(name))
            item.setToolTip(spec.description)
        add.setMenu(self.add_menu)
        bar.addWidget(add)
        shortcut = QAction("Add step", self)
        shortcut.setShortcut(QKeySequence("Ctrl+Shift+A"))
        shortcut.triggered.connect(
            lambda: self.add_menu.popup(self.mapToGlobal(self.rect().center()))
        )
        self.addAction(shortcut)
        self.remove_action = bar.addAction("Remove step", self.remove_selected)
        self.connect_action = QAction("Connect to…", self)
        self.connect_action.setShortcut(QKeySequence("Ctrl+Shift+C"))
        self.connect_action.setToolTip(
            "Connect the selected step to another (Ctrl+Shift+C), as dragging from its port "
            "onto a step does"
        )
        self.connect_action.triggered.connect(self.open_connect_menu)
        bar.addAction(self.connect_action)
        self.connect_menu = QMenu(self)
        self.connect_menu.setToolTipsVisible(True)
        bar.addSeparator()
        bar.addWidget(QLabel(" Event no. "))
        self.event_box = QSpinBox()
        self.event_box.setRange(0, 2_000_000_000)
        self.event_box.setAccessibleName("Past event to test against")
        bar.addWidget(self.event_box)
        self.test_action = bar.addAction("Test run", self.request_test)
        self.test_action.setShortcut(QKeySequence("Ctrl+T"))
        self.save_action = bar.addAction("Save", self.request_save)
        self.save_action.setShortcut(QKeySequence.StandardKey.Save)
        for action in (
            self.test_action,
            self.save_action,
            self.undo_action,
            self.redo_action,
            self.connect_action,
        ):
            # Active while focus is anywhere in the builder, not only in the main window.
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(action)
        shortcut.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def _template_loader(self, path: Path) -> Callable[[], None]:
        return lambda: self.load_text(path.read_text("utf-8"))

    def _step_adder(self, action: str) -> Callable[[], None]:
        def add() -> None:
            self.add_step(action)

        return add

    # Document ----------------------------------------------------------------------
    def load_text(self, text: str) -> None:
        """Open a YAML or JSON document (an unreadable one is refused with the reason)."""
        try:
            data = parse_text(text)
        except ValueError as exc:
            self.status.setText(str(exc))
            return
        if not isinstance(data, dict):
            self.status.setText("document: must be an object with name, trigger and steps")
            return
        self.load(data)

    def load(self, data: dict[str, Any]) -> None:
        self.document.load(data)
        self.canvas.select("")

    def export_text(self, fmt: str = "yaml") -> str:
        return dump(self.document.data, fmt)

    def import_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import workflow", "", "Workflows (*.yaml *.yml *.json)"
        )
        if path:
            self.load_text(Path(path).read_text("utf-8"))

    def export_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export workflow", "workflow.yaml", "YAML (*.yaml);;JSON (*.json)"
        )
        if path:
            Path(path).write_text(
                self.export_text("json" if path.endswith(".json") else "yaml"), "utf-8"
            )
            self.status.setText(f"Exported to {path}")

    def add_step(self, action: str) -> str:
        """Add a step of ``action`` after the selected one and select it."""
        selected = self.canvas.selected() or None
        new_id = self.document.add_step(action, after=selected)
        self.canvas.select(new_id)
        return new_id

    def connect_steps(self, source: str, port: str, target: str) -> bool:
        """Make ``target`` run after ``source``'s ``port`` (one undoable edit); a refused
        connection leaves the document as it is and says why in the check line."""
        try:
            changed = self.document.connect_step(source, port, target)
        except ConnectionRefused as exc:
            self._note(str(exc), error=True)
            return False
        if not changed:
            named = "the trigger" if not source else repr(source)
            self._note(f"{target!r} already runs right after {named} ({port}).", error=False)
            return False
        self.canvas.select(target)
        return True

    def connect_targets(self, source: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
        """For each port of ``source``: every other step with why it cannot be connected
        there (None: it can), as "Connect to…" lists them."""
        out = []
        for port in self.document.ports(source):
            rows = [
                (step_id, self.document.connection_problem(source, port, step_id))
                for step_id in self.document.step_ids()
                if step_id != source
            ]
            out.append((port, rows))
        return out

    def open_connect_menu(self) -> QMenu:
        """Ctrl+Shift+C: a menu of the steps the selected one can connect to, by port."""
        source = self.canvas.selected()
        menu = self.connect_menu
        menu.clear()
        ports = self.connect_targets(source)
        for port, rows in ports:
            block = len(ports) > 1
            hint = "runs after the whole block" if port == "next" and block else PORT_HINTS[port]
            target_menu = menu.addMenu(f"{port}: the step that {hint}") if block else menu
            target_menu.setToolTipsVisible(True)
            for step_id, problem in rows:
                step = self.document.step(step_id) or {}
                label = f"{step.get('name') or step_id} ({step_id})"
                item = target_menu.addAction(label)
                item.setData((source, port, step_id))
                item.setEnabled(problem is None)
                item.setToolTip(problem or f"{step_id} {hint}")
                item.triggered.connect(
                    lambda _c=False, p=port, t=step_id: self.connect_steps(source, p, t)
                )
        if source in self.canvas.nodes:
            node = self.canvas.nodes[source]
            at = self.canvas.mapFromScene(node.sceneBoundingRect().bottomLeft())
            menu.popup(self.canvas.viewport().mapToGlobal(at))
        return menu

    def set_endpoints(self, endpoints: Sequence[EndpointInfo] | None, note: str = "") -> None:
        """The registered webhook endpoints the http_request picker lists (None: they could
        not be read; ``note`` says why and the picker takes a number)."""
        self.document.set_endpoints(endpoints, note)

    def remove_selected(self) -> None:
        if self.canvas.selected():
            self.document.remove_step(self.canvas.selected())

    def request_save(self) -> None:
        if self.document.problems():
            self.status.setText(
                "Fix the problems first: an invalid workflow is never saved.\n" + self.status.text()
            )
            return
        self.sig_save_requested.emit(self.document.data)

    def request_test(self) -> None:
        if self.document.problems():
            self.test_output.setPlainText("Fix the problems first.")
            return
        self.sig_test_requested.emit(self.document.data, self.event_box.value())

    def show_test(self, lines: list[str]) -> None:
        self.test_output.setPlainText("\n".join(lines))

    # Views -------------------------------------------------------------------------
    def _selected(self, step_id: str) -> None:
        self.properties.show_step(step_id)
        index = self.outline_model.index_of(step_id) if step_id else self.outline_model.index(0, 0)
        if index.isValid() and self.outline.currentIndex() != index:
            self.outline.setCurrentIndex(index)

    def _outline_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        step_id = current.data(STEP_ID_ROLE) if current.isValid() else None
        if step_id is not None and step_id != self.canvas.selected():
            self.canvas.select(step_id)
            self.properties.show_step(step_id)

    def _note(self, text: str, error: bool) -> None:
        """A message above the document's problems in the check line (until the next edit)."""
        colors = current_colors()
        problems = self.document.problems()
        name = str(self.document.data.get("name") or "(unnamed)")
        shown = [p.message(name) for p in problems[:5]]
        self.status.setText("\n".join([text, *shown]))
        self.status.setStyleSheet(f"color: {colors.error_text if error else colors.text};")

    def _check(self) -> None:
        problems = self.document.problems()
        name = str(self.document.data.get("name") or "(unnamed)")
        colors = current_colors()
        if not problems:
            self.status.setText(f"{name}: no problems")
            self.status.setStyleSheet(f"color: {colors.success_text};")
        else:
            shown = [p.message(name) for p in problems[:6]]
            more = f"\n… and {len(problems) - 6} more" if len(problems) > 6 else ""
            self.status.setText("\n".join(shown) + more)
            self.status.setStyleSheet(f"color: {colors.error_text};")
        self.save_action.setEnabled(not problems)
