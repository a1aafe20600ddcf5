"""Workflows (admins and practice managers): the list, the builder, the runs and analytics."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from purplecross_desktop.clinic_time import ClinicTime
from purplecross_desktop.domain.errors import PermissionDenied
from purplecross_desktop.domain.webhooks import EndpointInfo
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.pages.base import Page
from purplecross_desktop.ui.workflow_builder.builder import WorkflowBuilder
from purplecross_desktop.workflows.document import Document, template_paths
from widgets.bar_chart import BarChart
from widgets.button import Button
from widgets.datagrid import Column, DataGrid, GridRow

WORKFLOW_COLUMNS = [
    Column("id", "No.", kind="number", width=60),
    Column("name", "Workflow", kind="text", width=220),
    Column("state", "State", kind="text", width=90),
    Column("version", "Version", kind="number", width=80),
    Column("trigger", "Trigger", kind="text", width=260),
    Column("runs", "Runs", kind="number", width=70),
    Column("success", "Success", kind="text", width=80),
    Column("median", "Median time", kind="text", width=110),
    Column("saved", "Time saved", kind="text", width=100),
    Column("last_run", "Last run", kind="datetime", width=150),
]
RUN_COLUMNS = [
    Column("id", "Run", kind="number", width=70),
    Column("workflow", "Workflow", kind="text", width=200),
    Column("version", "Version", kind="number", width=80),
    Column("status", "Status", kind="text", width=100),
    Column("started_at", "Started", kind="datetime", width=150),
    Column("duration", "Took", kind="text", width=90),
    Column("wake_at", "Waiting until", kind="datetime", width=150),
    Column("error", "Error", kind="text", width=320),
]


def _seconds(value: float | None) -> str:
    if value is None:
        return ""
    if value < 60:
        return f"{value:.1f} s"
    if value < 3600 * 2:
        return f"{value / 60:.0f} min"
    if value < 86400 * 2:
        return f"{value / 3600:.1f} h"
    return f"{value / 86400:.1f} days"


def highlights(rows: list[dict[str, Any]], runs: list[dict[str, Any]]) -> str:
    """ "Busiest: … · Most failing: …" over the runs listed ("" when there are none)."""
    if not runs:
        return ""
    busiest = max(rows, key=lambda r: r["runs"])
    failed: dict[str, int] = {}
    for run in runs:
        if run["status"] == "failed":
            failed[run["workflow"]] = failed.get(run["workflow"], 0) + 1
    text = f"Busiest: {busiest['name']} ({busiest['runs']} runs)"
    if failed:
        worst = max(failed, key=lambda name: failed[name])
        text += f"  ·  Most failing: {worst} ({failed[worst]} failed)"
    return text


class WorkflowsPage(Page):
    """Every workflow with its success rate; the builder; all runs and one run's timeline."""

    title = "Workflows"
    creates = "workflow"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        # Run and step times on the clinic's clock, whatever the workstation's zone.
        self.clinic = ClinicTime(context.settings.clinic_timezone)
        self.message = QLabel()
        self.message.setObjectName("workflowsMessage")
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Workflows message")
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Workflows sections")
        self.body.addWidget(self.message)
        self.body.addWidget(self.tabs, 1)
        # The list.
        self.list_tab = QWidget()
        bar = QHBoxLayout()
        self.new_button = Button("New workflow", icon="plus")
        self.new_button.clicked.connect(self.create_new)
        self.edit_button = Button("Open in builder", variant="secondary")
        self.edit_button.clicked.connect(self.edit_current)
        self.enable_button = Button("Enable", variant="secondary")
        self.enable_button.clicked.connect(lambda: self._set_enabled(True, "finish"))
        self.disable_button = Button("Disable (runs finish)", variant="secondary")
        self.disable_button.clicked.connect(lambda: self._set_enabled(False, "finish"))
        self.cancel_button = Button("Disable and cancel runs", variant="danger")
        self.cancel_button.clicked.connect(lambda: self._set_enabled(False, "cancel"))
        for button in (
            self.new_button,
            self.edit_button,
            self.enable_button,
            self.disable_button,
            self.cancel_button,
        ):
            bar.addWidget(button)
        bar.addStretch(1)
        self.workflows = DataGrid(
            WORKFLOW_COLUMNS,
            [],
            id_key="id",
            grid_id="workflows",
            title="Workflows",
            empty_text="No workflows yet: New workflow starts from a template",
            timezone=self.clinic.zone,
        )
        self.workflows.sig_row_activated.connect(lambda row: self.edit_workflow(row.id))
        self.chart = BarChart(("succeeded", "failed"), ("success", "danger"))
        self.chart.setMinimumHeight(120)
        self.chart.setAccessibleName("Runs per day, last 30 days")
        list_layout = QVBoxLayout(self.list_tab)
        list_layout.addLayout(bar)
        list_layout.addWidget(self.workflows, 1)
        self.highlights = QLabel()
        self.highlights.setObjectName("workflowHighlights")
        self.highlights.setAccessibleName("Busiest and most failing workflows")
        list_layout.addWidget(self.highlights)
        list_layout.addWidget(QLabel("Runs per day, last 30 days"))
        list_layout.addWidget(self.chart)
        self.tabs.addTab(self.list_tab, "Workflows")
        # The builder.
        self.builder = WorkflowBuilder(template_paths())
        self.builder.sig_save_requested.connect(self._save)
        self.builder.sig_test_requested.connect(self._test)
        self.tabs.addTab(self.builder, "Builder")
        # The runs.
        self.runs_tab = QWidget()
        self.runs = DataGrid(
            RUN_COLUMNS,
            [],
            id_key="id",
            grid_id="workflow-runs",
            title="Runs",
            empty_text="No runs yet",
            timezone=self.clinic.zone,
        )
        self.runs.sig_row_activated.connect(lambda row: self.show_run(int(row.id)))
        self.timeline = QPlainTextEdit()
        self.timeline.setReadOnly(True)
        self.timeline.setAccessibleName("Run timeline")
        self.timeline.setPlaceholderText(
            "Open a run (Enter) to see each step's input, output, time and error"
        )
        self.cancel_run_button = Button("Cancel run", variant="secondary")
        self.cancel_run_button.clicked.connect(self._cancel_run)
        self.retry_run_button = Button("Retry from the failed step", variant="secondary")
        self.retry_run_button.clicked.connect(self._retry_run)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.runs)
        split.addWidget(self.timeline)
        runs_layout = QVBoxLayout(self.runs_tab)
        run_bar = QHBoxLayout()
        run_bar.addWidget(self.retry_run_button)
        run_bar.addWidget(self.cancel_run_button)
        run_bar.addStretch(1)
        runs_layout.addLayout(run_bar)
        runs_layout.addWidget(split, 1)
        self.tabs.addTab(self.runs_tab, "Runs")
        self._open_run: int | None = None

    # Loading -------------------------------------------------------------------------
    def activate(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        services = self.context.services
        if services is None:
            return
        zone = self.clinic.zone  # the chart's days are the clinic's

        def load() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[tuple[int, int]]]:
            stats = {a.workflow_id: a for a in services.workflows.analytics()}
            rows = []
            for w in services.workflows.all():
                a = stats.get(w.id)
                rate = a.success_rate if a else None
                rows.append(
                    {
                        "id": w.id,
                        "name": w.name,
                        "state": "enabled" if w.enabled else "disabled",
                        "version": w.version,
                        "trigger": w.trigger,
                        "runs": a.runs if a else 0,
                        "success": "" if rate is None else f"{rate:.0%}",
                        "median": _seconds(a.median_seconds if a else None),
                        "saved": f"{(a.time_saved_minutes if a else 0) / 60:.1f} h",
                        "last_run": a.last_run if a else None,
                    }
                )
            runs = [
                {
                    "id": r.id,
                    "workflow": r.workflow,
                    "version": r.version,
                    "status": r.status,
                    "started_at": r.started_at,
                    "duration": _seconds(r.duration),
                    "wake_at": r.wake_at if r.status == "waiting" else None,
                    "error": r.error or "",
                }
                for r in services.workflows.runs(limit=1000)
            ]
            per_day = services.workflows.runs_per_day(zone=zone)
            days = [(ok, bad) for _, ok, bad in per_day]
            return rows, runs, days

        self._background(load, self._loaded)
        self._load_endpoints()

    def _load_endpoints(self) -> None:
        """The webhook endpoints for the builder's http_request picker (as Integrations
        lists them: the webhook family of the job runtime; admins only)."""
        context = self.context

        def work() -> list[EndpointInfo]:
            endpoints: list[EndpointInfo] = (
                context.job_runtime().platform.services["webhooks"].endpoints.endpoints()
            )
            return endpoints

        context.background(self, work).success(self.builder.set_endpoints).failure(
            self._endpoints_failed
        ).run_in_background()

    def _endpoints_failed(self, exc: BaseException) -> None:
        if isinstance(exc, PermissionDenied):
            note = (
                "Only an admin can list the webhook endpoints: type the endpoint's number "
                "(Settings → Integrations → Webhooks shows it)."
            )
        else:
            note = f"The webhook endpoints could not be listed ({exc}): type the endpoint's number."
        self.builder.set_endpoints(None, note)

    def _loaded(
        self, result: tuple[list[dict[str, Any]], list[dict[str, Any]], list[tuple[int, int]]]
    ) -> None:
        rows, runs, days = result
        self.highlights.setText(highlights(rows, runs))
        self.workflows.set_rows(rows)
        self.runs.set_rows(runs)
        self.chart.set_values(days)

    def _background(self, work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        self.context.background(self, work).success(done).failure(
            lambda exc: self.message.setText(f"Could not do that: {exc}")
        ).run_in_background()

    # Workflows -----------------------------------------------------------------------
    def current_workflow(self) -> int | None:
        index = self.workflows.table_view().currentIndex()
        row: GridRow | None = self.workflows.row_at(index.row()) if index.isValid() else None
        return None if row is None else int(row.id)

    def create_new(self) -> None:
        """Ctrl+N: a blank workflow in the builder (or start from a template there)."""
        self.builder.load(
            {
                "name": "New workflow",
                "trigger": {"type": "event", "event": "appointment.booked"},
                "steps": [{"id": "stop_1", "action": "stop"}],
                "settings": {"enabled": False},
            }
        )
        self.tabs.setCurrentWidget(self.builder)

    def edit_current(self) -> None:
        workflow = self.current_workflow()
        if workflow is None:
            self.message.setText("Select a workflow first.")
            return
        self.edit_workflow(workflow)

    def edit_workflow(self, workflow_id: Any) -> None:
        services = self.context.services
        assert services is not None
        self._background(
            lambda: dict(services.workflows.document(int(workflow_id)).data), self._edit_loaded
        )

    def _edit_loaded(self, data: dict[str, Any]) -> None:
        self.builder.load(data)
        self.tabs.setCurrentWidget(self.builder)

    def _set_enabled(self, enabled: bool, running: str) -> None:
        services = self.context.services
        workflow = self.current_workflow()
        if services is None or workflow is None:
            self.message.setText("Select a workflow first.")
            return

        def work() -> str:
            cancelled = services.workflows.set_enabled(workflow, enabled, running=running)
            if enabled:
                return "Enabled: new runs start from now on."
            return (
                f"Disabled; {cancelled} run(s) cancelled."
                if running == "cancel"
                else "Disabled; started runs finish."
            )

        self._background(work, self._done)

    def _save(self, data: dict[str, Any]) -> None:
        services = self.context.services
        assert services is not None

        def work() -> str:
            info, created = services.workflows.save(Document.from_data(data))
            what = f"saved as version {info.version}" if created else "unchanged"
            return f"{info.name}: {what} ({'enabled' if info.enabled else 'disabled'})."

        self._background(work, self._done)

    def _test(self, data: dict[str, Any], event_id: int) -> None:
        context = self.context

        def work() -> list[str]:
            engine = context.job_runtime().platform.services["workflows"]
            document = Document.from_data(data)
            trigger = engine.trigger_for(document, {}, event_id or None)
            return [
                f"{p.step_id} ({p.action}): {p.description}"
                for p in engine.dry_run(document, trigger)
            ]

        self._background(work, self.builder.show_test)

    def _done(self, text: str) -> None:
        self.message.setText(text)
        self.refresh()

    # Runs ----------------------------------------------------------------------------
    def open_run(self, run_id: int) -> None:
        """The Runs tab with ``run_id``'s timeline (a record's "Run workflow…" links here)."""
        self.tabs.setCurrentWidget(self.runs_tab)
        self.show_run(run_id)

    def show_run(self, run_id: int) -> None:
        services = self.context.services
        assert services is not None
        self._open_run = run_id
        seconds = self.clinic.format_seconds

        def work() -> str:
            run, steps = services.workflows.run(run_id)
            lines = [f"Run {run.id} of {run.workflow} (version {run.version}): {run.status}"]
            if run.started_by is not None:
                who = run.started_by or "the system (command line)"
                where = f" from {run.started_from}" if run.started_from else ""
                lines.append(f"  started by hand by {who}{where}")
            if run.error:
                lines.append(f"  {run.error}")
            for s in steps:
                took = "" if s.duration is None else f", {_seconds(s.duration)}"
                lines.append(f"{seconds(s.started_at)}  {s.step_id} ({s.action}) {s.status}{took}")
                lines.append(f"    input:  {json.dumps(s.input, default=str)}")
                lines.append(f"    output: {json.dumps(s.output, default=str)}")
                if s.error:
                    lines.append(f"    error:  {s.error}")
            return "\n".join(lines)

        self._background(work, self.timeline.setPlainText)

    def _retry_run(self) -> None:
        run_id = self._open_run
        if run_id is None:
            self.message.setText("Open a failed run first.")
            return
        context = self.context

        def work() -> str:
            context.job_runtime().platform.services["workflows"].retry(run_id)
            return f"Run {run_id}: retrying from the step that failed."

        self._background(work, self._done)

    def _cancel_run(self) -> None:
        services = self.context.services
        run_id = self._open_run
        if services is None or run_id is None:
            self.message.setText("Open a run first.")
            return
        self._background(
            lambda: services.workflows.cancel_run(run_id),
            lambda done: self._done(
                f"Run {run_id} cancelled." if done else f"Run {run_id} had already finished."
            ),
        )
