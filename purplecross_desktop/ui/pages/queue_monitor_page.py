"""Queue monitor (admins only): queue cards, the job list, job detail, triage and workers.

Everything is read off the UI thread (the page's reads through ``context.background``,
the job list by the DataGrid's own worker, in SQL over the registry), refreshed about
every second while the page is visible, and updated in place: selection, scroll and
counts survive a refresh. Actions go through :class:`purplecross_desktop.queue_admin.
QueueAdmin`, which checks the role and writes the audit log.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Table, func, select

from purplecross_desktop.clinic_time import ClinicTime
from purplecross_desktop.domain.roles import Permission
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.grid_sql_source import SqlSource
from purplecross_desktop.ui.monitor.cards import OverviewPanel
from purplecross_desktop.ui.monitor.detail import JobDetail
from purplecross_desktop.ui.pages.base import Page
from purplecross_desktop.ui.pages.labels import enum_label, milliseconds
from widgets.button import Button
from widgets.datagrid import Column, DataGrid

#: How often the visible tab refreshes, in milliseconds.
REFRESH_MS = 1000
JOB_ACTIONS = ("retry", "revoke", "promote", "duplicate", "remove")
#: Actions that ask first (they cancel or delete).
DESTRUCTIVE = ("revoke", "remove")
#: The page's tabs, in order.
TABS = ("overview", "jobs", "failures", "workers", "periodic")


def next_read_at(started: float, finished: float) -> float:
    """When the live refresh may read a tab again after a read from ``started`` to
    ``finished`` (monotonic seconds): at the next tick when the read was quick; after as
    long again when it was slow, so that reading takes at most half the time (a search
    across 100k jobs' arguments is not re-run back to back)."""
    return finished + max(0.0, finished - started)


def _schedules() -> list[Any]:
    from purplecross_desktop.jobs_wiring import periodic_schedules

    return periodic_schedules()


def every_text(seconds: float, aligned: bool) -> str:
    """ "every 5 min (on the slot)" / "every 15 s when there is work"."""
    amount = milliseconds(seconds * 1000).replace(".0 ", " ")
    return f"every {amount}" + (", on the clock" if aligned else ", when there is work")


def periodic_row(view: Any) -> dict[str, Any]:
    """A row of the Periodic tab from a ``jobs.monitor.PeriodicView``."""
    schedule = view.schedule
    return {
        "name": schedule.name,
        "task": schedule.task,
        "every": every_text(schedule.every, schedule.aligned),
        "last_enqueued": view.last_enqueued,
        "last_state": view.last_state or "never run",
        "last_finished": view.last_finished,
        "next_run": view.next_run,
        "runs": view.runs,
        "failures": view.failures,
        "last_error": view.last_error or "",
        "note": schedule.note,
        "last_job_id": view.last_job_id or "",
    }


def job_states() -> tuple[str, ...]:
    """Every job state, in the registry's order (``jobs.models.JobState``).

    Imported on use: the jobs stack (Huey, Redis) must not load with the window.
    """
    from jobs.models import JobState

    return tuple(state.value for state in JobState)


def job_columns() -> list[Column]:
    """The job list's columns: small ones only (never args, kwargs or tracebacks)."""
    return [
        Column("id", "Job", kind="text", width=110),
        Column("queue", "Queue", filter_mode="choice", width=100),
        Column("task", "Task", filter_mode="choice", width=170),
        Column(
            "state",
            "State",
            filter_mode="choice",
            choices=job_states(),
            formatter=enum_label,
            width=110,
        ),
        Column("attempts", "Attempts", kind="number", width=80),
        Column("enqueued_at", "Enqueued", kind="datetime", filter_mode="range", width=150),
        Column("next_run_at", "Runs at", kind="datetime", filter_mode="range", width=150),
        Column("finished_at", "Finished", kind="datetime", filter_mode="range", width=150),
        Column("duration_ms", "Ran", kind="number", formatter=milliseconds, width=80),
        Column("error", "Error", kind="text", width=320),
        Column("priority", "Priority", kind="number", width=70, visible=False),
        Column("client_id", "Client", kind="number", filter_mode="range", visible=False),
        Column("patient_id", "Patient", kind="number", filter_mode="range", visible=False),
        Column("appointment_id", "Appointment", kind="number", filter_mode="range", visible=False),
        Column("invoice_id", "Invoice", kind="number", filter_mode="range", visible=False),
    ]


def job_source(context: AppContext) -> SqlSource:
    """The job list in SQL: paged, sorted and filtered by the database; the search also
    matches args, kwargs and the error without loading them."""
    from jobs.models import Job

    table: Table = Job.__table__  # type: ignore[assignment]
    c = table.c
    error = func.substr(c.error_message, 1, 200)
    return SqlSource(
        select(table),
        context.session_factory,
        {
            "id": c.id,
            "queue": c.queue,
            "task": c.task,
            "state": c.state,
            "attempts": c.attempts,
            "enqueued_at": c.enqueued_at,
            "next_run_at": c.next_run_at,
            "finished_at": c.finished_at,
            "duration_ms": c.duration_ms,
            "error": error,
            "priority": c.priority,
            "client_id": c.client_id,
            "patient_id": c.patient_id,
            "appointment_id": c.appointment_id,
            "invoice_id": c.invoice_id,
        },
        id_column=c.id,
        sort_columns={"queue": c.queue, "task": c.task, "state": c.state, "error": error},
        searchable=["id", "task", "error"],
        search_also=[c.args, c.kwargs, c.error_class],
    )


def task_options(platform: Any, task: str) -> dict[str, Any] | None:
    """A task's options as the detail shows them (None for a task not registered here)."""
    spec = platform.tasks.get(task)
    if spec is None:
        return None
    policy = spec.policy
    text = None
    if policy is not None:
        text = (
            f"{policy.max_attempts} attempts, {policy.base_delay:g} s first delay "
            f"growing {policy.factor:g} times, at most {policy.max_delay:g} s"
        )
    return {"policy": text, "timeout": spec.timeout, "repeatable": spec.repeatable}


class CleanDialog(QDialog):
    """Asks which finished jobs of a queue to delete: a state and a minimum age."""

    def __init__(self, queue: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Clean {queue}")
        self.state_box = QComboBox()
        for state in ("completed", "dead", "revoked"):
            self.state_box.addItem(enum_label(state), state)
        self.state_box.setAccessibleName("State to clean")
        self.age_box = QSpinBox()
        self.age_box.setRange(0, 24 * 365)
        self.age_box.setValue(24)
        self.age_box.setSuffix(" h")
        self.age_box.setAccessibleName("Finished at least this long ago")
        form = QFormLayout()
        form.addRow("Delete jobs that are", self.state_box)
        form.addRow("and finished at least", self.age_box)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Delete")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Deleted jobs leave the registry of {queue} for good."))
        layout.addLayout(form)
        layout.addWidget(buttons)

    def choice(self) -> tuple[str, dt.timedelta]:
        """(state, age) chosen."""
        return str(self.state_box.currentData()), dt.timedelta(hours=self.age_box.value())


class QueueMonitorPage(Page):
    """Bull Board's role inside the app: is anything stuck or failing, and why; fix it.

    Signals:
        sig_refreshed(str): a tab's data was shown: "overview", "jobs", "failures" or
            "workers" (tests and the benchmark wait on it).
    """

    title = "Queue monitor"
    sig_refreshed = Signal(str)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        # Every time on this page is on the clinic's clock, whatever the workstation's zone.
        self.clinic = ClinicTime(context.settings.clinic_timezone)
        self._last_action = ""
        self._in_flight: set[str] = set()
        self._monitor_reader: Any = None
        self.confirmation: QDialog | None = None
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Queue monitor message")
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Queue monitor views")
        self.overview = OverviewPanel()
        self.overview.sig_action.connect(self._queue_action)
        self.tabs.addTab(self.overview, "Overview")
        self.tabs.addTab(self._build_jobs(), "Jobs")
        self.tabs.addTab(self._build_failures(), "Failures")
        self.tabs.addTab(self._build_workers(), "Workers")
        self.tabs.addTab(self._build_periodic(), "Periodic")
        self.tabs.currentChanged.connect(lambda _i: self.refresh())
        self.detail = JobDetail(self.clinic, self)
        self.detail.sig_action.connect(self._job_action)
        self.detail.sig_open_record.connect(self._open_record)
        self.body.addWidget(self.message)
        self.body.addWidget(self.tabs, 1)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self._tick)
        # tab → (monotonic time its last read started, when the next timed read may start)
        self._read_started: dict[str, float] = {}
        self._next_read: dict[str, float] = {}
        self.jobs.sig_loading_changed.connect(
            lambda loading: None if loading else self._read_done("jobs")
        )

    # Building ------------------------------------------------------------------------
    def _build_jobs(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 8, 0, 0)
        self.jobs = DataGrid(
            job_columns(),
            source=job_source(self.context),
            page_size=50,
            id_key="id",
            selection="multi",
            grid_id="queue-monitor-jobs-sql",
            empty_text="No jobs match",
            title="Jobs",
            timezone=self.clinic.zone,
        )
        self.jobs.setAccessibleName("Jobs")
        if not self.jobs.sort_keys():
            self.jobs.sort_by("enqueued_at", descending=True)  # newest first
        self.jobs.sig_row_activated.connect(lambda row: self.open_job(str(row.id)))
        actions = QHBoxLayout()
        self.job_buttons: dict[str, Button] = {}
        for action in (*JOB_ACTIONS, "details"):
            variant = "danger" if action in DESTRUCTIVE else "secondary"
            label = "Details" if action == "details" else f"{action.capitalize()} selected"
            button = Button(label, variant=variant, button_size="small")
            self.job_buttons[action] = button
            actions.addWidget(button)
        for action in JOB_ACTIONS:
            self.job_buttons[action].clicked.connect(
                lambda _=False, a=action: self._job_action(a, self._selected_jobs())
            )
        self.job_buttons["details"].clicked.connect(self._open_current)
        actions.addStretch(1)
        layout.addLayout(actions)
        layout.addWidget(self.jobs, 1)
        return box

    def _build_failures(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 8, 0, 0)
        self.failures = DataGrid(
            [
                Column("signature", "Error signature", kind="text", width=380),
                Column("count", "Jobs", kind="number", width=70),
                Column("dead", "Dead", kind="number", width=70),
                Column("first_seen", "First seen", "datetime", width=140),
                Column("last_seen", "Last seen", "datetime", width=140),
                Column("where", "Queues · tasks", kind="text", width=200),
                Column("example", "Example", kind="text", width=320),
            ],
            rows=[],
            page_size=None,
            enable_pagination=False,
            id_key="signature",
            selection="single",
            empty_text="No failed jobs",
            title="Failure groups",
            timezone=self.clinic.zone,
        )
        self.failures.setAccessibleName("Failure groups")
        self._groups: dict[str, Any] = {}
        self._group_list: Any = None
        actions = QHBoxLayout()
        self.group_retry = Button("Retry group", variant="primary", button_size="small")
        self.group_revoke = Button("Revoke group", variant="danger", button_size="small")
        self.group_example = Button("Open example", variant="secondary", button_size="small")
        self.group_retry.clicked.connect(lambda: self._group_action("retry"))
        self.group_revoke.clicked.connect(lambda: self._group_action("revoke"))
        self.group_example.clicked.connect(self._open_example)
        for button in (self.group_retry, self.group_revoke, self.group_example):
            actions.addWidget(button)
        actions.addStretch(1)
        layout.addLayout(actions)
        layout.addWidget(self.failures, 1)
        return box

    def _build_workers(self) -> QWidget:
        self.workers = DataGrid(
            [
                Column("status", "State", filter_mode="choice", formatter=enum_label, width=80),
                Column("host", "Host", kind="text", width=140),
                Column("pid", "PID", kind="number", width=70),
                Column("queues", "Queues", kind="text", width=200),
                Column("threads", "Threads", kind="number", width=70),
                Column("started_at", "Started", kind="datetime", width=140),
                Column("heartbeat_age_s", "Last heartbeat (s ago)", kind="number", width=150),
                Column("current", "Running now", kind="text", width=300),
                Column("jobs_after", "Its jobs now", kind="text", width=200),
                Column("id", "Worker id", kind="text", width=200, visible=False),
            ],
            rows=[],
            page_size=None,
            enable_pagination=False,
            id_key="id",
            selection="single",
            empty_text="No worker has registered",
            title="Workers",
            timezone=self.clinic.zone,
        )
        self.workers.setAccessibleName("Workers")
        return self.workers

    def _build_periodic(self) -> QWidget:
        self.periodic = DataGrid(
            [
                Column("name", "Schedule", kind="text", width=130),
                Column("every", "Runs", kind="text", width=240),
                Column("last_enqueued", "Last run", "datetime", width=140),
                Column("last_state", "Outcome", kind="text", formatter=enum_label, width=100),
                Column("last_finished", "Finished", "datetime", width=140),
                Column("next_run", "Next run", kind="datetime", width=140),
                Column("runs", "Runs (24 h)", kind="number", width=90),
                Column("failures", "Failed (24 h)", kind="number", width=90),
                Column("last_error", "Last error", kind="text", width=200),
                Column("note", "What it does", kind="text", width=360),
                Column("task", "Task", kind="text", width=140, visible=False),
                Column("last_job_id", "Last job", kind="text", width=110, visible=False),
            ],
            rows=[],
            page_size=None,
            enable_pagination=False,
            id_key="task",
            selection="single",
            empty_text="No periodic tasks",
            title="Periodic tasks",
            timezone=self.clinic.zone,
        )
        self.periodic.setAccessibleName("Periodic tasks")
        self.periodic.sig_row_activated.connect(self._open_last_run)
        return self.periodic

    # Live refresh --------------------------------------------------------------------
    def activate(self) -> None:
        self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self.timer.stop()  # nothing is read while nobody looks
        super().hideEvent(event)

    def show_failures(self) -> None:
        """Show the failure triage (where a failure alert leads)."""
        self.tabs.setCurrentIndex(2)

    def current_tab(self) -> str:
        """ "overview", "jobs", "failures", "workers" or "periodic"."""
        return TABS[self.tabs.currentIndex()]

    def _tick(self) -> None:
        """The live refresh: read the visible tab again unless its last read was slow."""
        if time.monotonic() >= self._next_read.get(self.current_tab(), 0.0):
            self.refresh()

    def _read_done(self, tab: str) -> None:
        started = self._read_started.pop(tab, None)
        if started is not None:
            now = time.monotonic()
            self._next_read[tab] = next_read_at(started, now)

    def refresh(self) -> None:
        """Read the visible tab again, off the UI thread (skipped while a read is running)."""
        tab = self.current_tab()
        if tab == "jobs":
            if not self.jobs.is_loading():
                self._read_started["jobs"] = time.monotonic()
                self.jobs.refresh()
                self.sig_refreshed.emit("jobs")
            return
        if tab in self._in_flight:
            return
        self._in_flight.add(tab)
        self._read_started[tab] = time.monotonic()
        readers: dict[str, Callable[[Any], Any]] = {
            "overview": lambda reader: reader.overview(),
            "failures": lambda reader: reader.failure_groups(),
            "workers": lambda reader: reader.workers_view(),
            "periodic": lambda reader: reader.periodic(_schedules()),
        }
        read = readers[tab]
        self.context.background(self, lambda: read(self._reader())).success(
            lambda result: self._show(tab, result)
        ).failure(lambda exc: self.message.setText(f"Jobs unavailable: {exc}")).finally_(
            lambda: self._finish_read(tab)
        ).run_in_background()

    def _finish_read(self, tab: str) -> None:
        self._in_flight.discard(tab)
        self._read_done(tab)

    def _show(self, tab: str, result: Any) -> None:
        if tab == "overview":
            self.overview.show_overviews(result)
        elif tab == "failures":
            if result is self._group_list:  # the reader found nothing new: keep the rows
                self.sig_refreshed.emit(tab)
                return
            self._group_list = result
            self._groups = {g.signature: g for g in result}
            self.failures.set_rows(
                [
                    {
                        "signature": g.signature,
                        "count": g.count,
                        "dead": g.dead,
                        "first_seen": g.first_seen,
                        "last_seen": g.last_seen,
                        "where": f"{', '.join(g.queues)} · {', '.join(g.tasks)}",
                        "example": g.example_message[:300],
                    }
                    for g in result
                ]
            )
        elif tab == "workers":
            self.workers.set_rows(result)
        elif tab == "periodic":
            self.periodic.set_rows([periodic_row(view) for view in result])
        self.sig_refreshed.emit(tab)

    # Reading -------------------------------------------------------------------------
    def _registry(self) -> Any:
        """The registry of the running job platform (waits for it to start); only for
        staff whose role may monitor the queues (checked by the access service)."""
        if self.context.services is not None:
            self.context.services.access.require(Permission.MONITOR_QUEUES)
        from jobs.registry import JobRegistry

        return JobRegistry(self.context.job_runtime().platform)

    def _reader(self) -> Any:
        """The page's reader (kept: it reuses the failure groups while nothing failed)."""
        registry = self._registry()
        if self._monitor_reader is None:
            from jobs.monitor import MonitorReader

            self._monitor_reader = MonitorReader(registry)
        return self._monitor_reader

    def _admin(self) -> Any:
        from purplecross_desktop.queue_admin import QueueAdmin

        services = self.context.services
        assert services is not None, "the queue monitor needs the domain services"
        session = self.context.staff_session
        return QueueAdmin(
            self._registry(),
            services.access,
            self.context.session_factory,
            lambda: session.current.staff_id if session.current else None,
        )

    def open_job(self, job_id: str) -> None:
        """Read job ``job_id`` off the UI thread and show it in the detail window."""

        def work() -> tuple[Any, Any]:
            reader = self._reader()
            view = reader.job_view(job_id)
            return view, task_options(reader.registry.platform, view.fields["task"])

        self.context.background(self, work).success(self._show_detail).failure(
            lambda exc: self.message.setText(f"Job not shown. {exc}")
        ).run_in_background()

    def _show_detail(self, loaded: Any) -> None:
        view, spec = loaded
        self.detail.show_view(view, spec)
        self.detail.show()
        self.detail.raise_()

    def _open_current(self) -> None:
        index = self.jobs.table_view().currentIndex()
        row = self.jobs.row_at(index.row()) if index.isValid() else None
        ids = [str(row.id)] if row is not None else self._selected_jobs()
        if not ids:
            self.message.setText("Select a job first.")
            return
        self.open_job(ids[0])

    def _open_last_run(self, row: Any) -> None:
        job_id = getattr(row, "values", {}).get("last_job_id") if row is not None else None
        if job_id:
            self.open_job(str(job_id))
        else:
            self.message.setText("This schedule has not run yet.")

    def _open_example(self) -> None:
        group = self._selected_group()
        if group is not None:
            self.open_job(str(group.example_id))

    def _open_record(self, kind: str, ident: int) -> None:
        window = self.window()
        key = {"client": "clients", "patient": "patients", "appointment": "appointments"}.get(
            kind, "invoices"
        )
        show_page = getattr(window, "show_page", None)
        if show_page is None:
            return
        page = show_page(key)
        grid = getattr(page, "grid", None)
        if grid is not None:
            grid.set_filter(str(ident))
        self.message.setText(f"Opened {kind} #{ident}.")

    def _selected_jobs(self) -> list[str]:
        return [str(i) for i in self.jobs.selected_ids()]

    def _selected_group(self) -> Any:
        ids = self.failures.selected_ids()
        if not ids:
            self.message.setText("Select a failure group first.")
            return None
        return self._groups.get(str(ids[0]))

    # Actions -------------------------------------------------------------------------
    def confirm(self, title: str, text: str, ok: str, then: Callable[[], None]) -> None:
        """Ask before ``then`` runs, in a window-modal box (not a nested event loop)."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=self)
        box.setStandardButtons(QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Ok).setText(ok)
        box.accepted.connect(then)
        self.confirmation = box
        box.finished.connect(lambda _r: setattr(self, "confirmation", None))
        box.open()

    def _job_action(self, action: str, ids: Sequence[str]) -> None:
        ids = list(ids)
        if not ids:
            self.message.setText("Select one or more jobs first.")
            return

        def run() -> None:
            self._run(lambda admin: getattr(admin, action)(ids), lambda result: result.summary())

        if action in DESTRUCTIVE:
            noun = "job" if len(ids) == 1 else "jobs"
            verb = "Cancel" if action == "revoke" else "Delete"
            self.confirm(
                f"{action.capitalize()} {len(ids)} {noun}?",
                f"{verb} {len(ids)} {noun}? This cannot be undone.",
                action.capitalize(),
                run,
            )
        else:
            run()

    def _group_action(self, action: str) -> None:
        group = self._selected_group()
        if group is None:
            return
        self._job_action(action, list(group.job_ids))

    def _queue_action(self, action: str, queue: str) -> None:
        if action == "pause":
            self.confirm(
                f"Pause {queue}?",
                f"No job of {queue} runs until you resume it.",
                "Pause",
                lambda: self._run(lambda a: a.pause(queue), lambda _r: f"Paused {queue}."),
            )
        elif action == "resume":
            self._run(lambda a: a.resume(queue), lambda _r: f"Resumed {queue}.")
        elif action == "promote_scheduled":
            self._run(lambda a: a.promote_scheduled(queue), lambda r: r.summary())
        elif action == "clean":
            dialog = CleanDialog(queue, self)
            self.confirmation = dialog

            def accepted() -> None:
                state, age = dialog.choice()
                self._run(
                    lambda a: a.clean(queue, state, age),
                    lambda n: f"Cleaned {n:,} {enum_label(state).lower()} jobs of {queue}.",
                )

            dialog.accepted.connect(accepted)
            dialog.finished.connect(lambda _r: setattr(self, "confirmation", None))
            dialog.open()
        elif action == "retry_failed":
            self._run(
                lambda a: a.retry_failed(queue, dry_run=True),
                lambda plan: self._confirm_retry(queue, plan),
            )

    def _confirm_retry(self, queue: str, plan: Any) -> str:
        lines = [f"{len(plan.eligible)} dead jobs of {queue} can be retried."]
        if plan.ineligible:
            lines.append(f"{len(plan.ineligible)} cannot:")
            lines += [
                f"• {job_id[:8]}: {why}" for job_id, why in list(plan.ineligible.items())[:10]
            ]
        self.confirm(
            f"Retry failed jobs of {queue}?",
            "\n".join(lines),
            "Retry",
            lambda: self._run(
                lambda a: a.retry_failed(queue, dry_run=False),
                lambda done: f"Retry: {len(done.eligible)} jobs of {queue}.",
            ),
        )
        return f"Dry run: {len(plan.eligible)} retryable, {len(plan.ineligible)} not."

    def _run(self, work: Callable[[Any], Any], describe: Callable[[Any], str]) -> None:
        def done(result: Any) -> None:
            self._last_action = describe(result)
            self.message.setText(self._last_action)
            self.refresh()

        self.context.background(self, lambda: work(self._admin())).success(done).failure(
            lambda exc: self.message.setText(f"Not done. {exc}")
        ).run_in_background()
