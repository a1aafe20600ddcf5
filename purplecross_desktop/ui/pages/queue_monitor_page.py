"""Queue monitor: job counts per queue and state, recent jobs, retry and revoke.

A first, simple pane over the job registry (``jobs.registry.JobRegistry``); the full
monitor (timelines, pause/resume, promote, throughput) builds on the same API.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.pages.base import Page
from purplecross_desktop.ui.pages.labels import enum_label, local_time
from widgets.button import Button
from widgets.datagrid import Column, DataGrid


def job_states() -> tuple[str, ...]:
    """Every job state, in the registry's order (``jobs.models.JobState``).

    Imported on use: the jobs stack (Huey, Redis) must not load with the window.
    """
    from jobs.models import JobState

    return tuple(state.value for state in JobState)


def load_snapshot(
    registry: Any, limit: int = 500
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Counts per queue (one row per queue) and the newest ``limit`` jobs, as grid rows."""
    paused = registry.paused_queues()
    counts = []
    for queue, states in sorted(registry.counts().items()):
        row: dict[str, Any] = {"queue": queue, "queue_paused": queue in paused}
        row.update({state: states.get(state, 0) for state in job_states()})
        counts.append(row)
    jobs = [
        {
            "id": str(job.id),
            "queue": job.queue,
            "task": job.task,
            "state": job.state,
            "attempts": f"{job.attempts}/{job.max_attempts}",
            "enqueued_at": job.enqueued_at,
            "finished_at": job.finished_at,
            "error": job.error_message or "",
        }
        for job in registry.search(limit=limit)
    ]
    return counts, jobs


class QueueMonitorPage(Page):
    """Counts and recent jobs, refreshed on each visit; retry or revoke the selection."""

    title = "Queue monitor"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self._last_action = ""
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Queue monitor message")
        self.counts = DataGrid(
            [
                Column("queue", "Queue", kind="text", width=120),
                *(
                    Column(state, enum_label(state), kind="number", width=90)
                    for state in job_states()
                ),
                Column("queue_paused", "Queue paused", kind="bool", width=100),
            ],
            rows=[],
            enable_pagination=False,
            page_size=None,
            enable_filtering=False,
            id_key="queue",
            empty_text="No jobs yet",
            selection="none",
        )
        self.counts.setAccessibleName("Jobs per queue and state")
        self.counts.setMaximumHeight(230)
        self.jobs = DataGrid(
            [
                Column("id", "Job", kind="text", width=120),
                Column("queue", "Queue", filter_mode="choice", width=110),
                Column("task", "Task", kind="text", width=140),
                Column("state", "State", filter_mode="choice", formatter=enum_label, width=120),
                Column("attempts", "Attempts", kind="text", width=80),
                Column("enqueued_at", "Enqueued", kind="datetime", formatter=local_time, width=150),
                Column("finished_at", "Finished", kind="datetime", formatter=local_time, width=150),
                Column("error", "Error", kind="text", width=300),
            ],
            rows=[],
            page_size=20,
            id_key="id",
            selection="multi",
            grid_id="queue-monitor-jobs",
            empty_text="No jobs yet",
        )
        self.jobs.setAccessibleName("Recent jobs")
        actions = QHBoxLayout()
        self.refresh_button = Button("Refresh", variant="secondary", button_size="small")
        self.retry_button = Button("Retry selected", variant="primary", button_size="small")
        self.revoke_button = Button("Revoke selected", variant="danger", button_size="small")
        self.refresh_button.clicked.connect(self.activate)
        self.retry_button.clicked.connect(lambda: self._act("retry"))
        self.revoke_button.clicked.connect(lambda: self._act("revoke"))
        for button in (self.refresh_button, self.retry_button, self.revoke_button):
            actions.addWidget(button)
        actions.addStretch(1)
        self.body.addWidget(self.message)
        self.body.addWidget(self.counts)
        self.body.addLayout(actions)
        self.body.addWidget(self.jobs, 1)

    def _registry(self) -> Any:
        """The registry of the running job platform (waits for it to start)."""
        from jobs.registry import JobRegistry

        return JobRegistry(self.context.job_runtime().platform)

    def activate(self) -> None:
        self.context.background(self, lambda: load_snapshot(self._registry())).success(
            self._show
        ).failure(lambda exc: self.message.setText(f"Jobs unavailable: {exc}")).run_in_background()

    def _show(self, snapshot: Any) -> None:
        counts, jobs = snapshot
        self.counts.set_rows(counts)
        self.jobs.set_rows(jobs)
        total = sum(row[state] for row in counts for state in job_states())
        noun = "job" if total == 1 else "jobs"
        summary = f"{total:,} {noun} in the registry; the newest {len(jobs)} below."
        # The outcome of the last retry/revoke stays visible above the refreshed lists.
        self.message.setText(f"{self._last_action} {summary}".strip())

    def _act(self, action: str) -> None:
        ids = [str(i) for i in self.jobs.selected_ids()]
        if not ids:
            self.message.setText("Select one or more jobs first.")
            return

        def work() -> list[Any]:
            registry = self._registry()
            done: list[Any] = getattr(registry, action)(ids)
            return done

        def finished(done: Any) -> None:
            skipped = len(ids) - len(done)
            note = f" ({skipped} not eligible)" if skipped else ""
            self._last_action = f"{action.capitalize()}: {len(done)} job(s){note}."
            self.message.setText(self._last_action)
            self.jobs.clear_selection()
            self.activate()

        self.context.background(self, work).success(finished).failure(
            lambda exc: self.message.setText(f"Not done. {exc}")
        ).run_in_background()
