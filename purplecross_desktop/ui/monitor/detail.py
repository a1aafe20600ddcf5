"""The job detail: options, data, timeline, logs, error, linked records and actions."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from purplecross_desktop.clinic_time import ClinicTime
from purplecross_desktop.ui.pages.labels import enum_label, milliseconds
from widgets.button import Button
from widgets.datagrid import Column, DataGrid
from widgets.json_tree import JsonTree
from widgets.status_chip import StatusChip

#: state -> chip tone.
STATE_TONES = {
    "outbox": "warning",
    "waiting": "neutral",
    "scheduled": "info",
    "active": "accent",
    "completed": "success",
    "failed_retrying": "warning",
    "dead": "error",
    "revoked": "muted",
    "paused": "warning",
}
#: The record links a job may carry: column -> (label, what the app calls the record).
LINKS = {
    "client_id": "Client",
    "patient_id": "Patient",
    "appointment_id": "Appointment",
    "invoice_id": "Invoice",
}
ACTIONS = ("retry", "revoke", "promote", "duplicate", "remove")


def options_rows(view: Any, spec: Any, clinic: ClinicTime) -> list[tuple[str, str]]:
    """(label, value) rows of a job's options and progress: queue, priority, ETA, retry
    policy, timeout, idempotency key, attempts, times (on the clinic's clock)."""
    f = view.fields
    seconds = clinic.format_seconds
    rows = [
        ("Job", f["id"]),
        ("Queue", f["queue"]),
        ("Task", f["task"]),
        ("State", enum_label(f["state"])),
        ("Attempts", f"{f['attempts']} of {f['max_attempts']}"),
        ("Priority", str(f["priority"])),
        ("Idempotency key", f["idempotency_key"] or "none"),
        ("Enqueued", seconds(f["enqueued_at"])),
        ("Runs at (ETA)", clinic.format_datetime(f["next_run_at"]) or "-"),
        ("Started", seconds(f["started_at"]) or "-"),
        ("Finished", seconds(f["finished_at"]) or "-"),
        ("Waited", milliseconds(f["wait_ms"])),
        ("Ran", milliseconds(f["duration_ms"])),
        ("Progress", f"{f['progress']}% {f['progress_message']}".strip()),
        ("Worker", f["worker_id"] or "-"),
    ]
    if spec is not None:
        policy = spec.get("policy")
        rows.append(("Retry policy", policy or "the queue's default"))
        rows.append(("Timeout", f"{spec['timeout']:g} s" if spec.get("timeout") else "none"))
        rows.append(("Safe to repeat", "yes" if spec.get("repeatable", True) else "no"))
    if f.get("result_summary") or view.result:
        rows.append(("Result", view.result))
    return rows


class JobDetail(QDialog):
    """A job in full, refreshed on demand; its actions go back to the monitor.

    Args:
        clinic: the clinic's clock: times are shown in its zone.
        parent: the monitor page.

    Signals:
        sig_action(str, list): an action on this job: (action, [job id]).
        sig_open_record(str, int): "open the linked record": (kind, id).
    """

    sig_action = Signal(str, list)
    sig_open_record = Signal(str, int)

    def __init__(self, clinic: ClinicTime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clinic = clinic
        self.setWindowTitle("Job")
        self.resize(760, 560)
        self.job_id = ""
        self._links: dict[str, int] = {}
        self.heading = QLabel("")
        self.heading.setObjectName("pageHeading")
        self.state_chip = StatusChip("", "neutral")
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(self.state_chip)
        self.tabs = QTabWidget()
        self.options = QWidget()
        self.options_form = QFormLayout(self.options)
        self.data_tree = JsonTree()
        self.data_note = QLabel("")
        self.data_note.setWordWrap(True)
        data = QWidget()
        data_layout = QVBoxLayout(data)
        data_layout.addWidget(self.data_note)
        data_layout.addWidget(self.data_tree, 1)
        self.timeline = DataGrid(
            [
                Column("at", "When", kind="datetime", formatter=clinic.format_seconds, width=150),
                Column("kind", "Event", kind="text", width=110),
                Column("detail", "Detail", kind="text", width=320),
                Column("worker", "Worker", kind="text", width=160),
            ],
            rows=[],
            page_size=None,
            enable_pagination=False,
            enable_filtering=False,
            selection="none",
            empty_text="No events",
            timezone=clinic.zone,
        )
        self.timeline.setAccessibleName("Job timeline")
        self.logs = QPlainTextEdit()
        self.logs.setReadOnly(True)
        self.logs.setAccessibleName("Job log")
        self.error = QPlainTextEdit()
        self.error.setReadOnly(True)
        self.error.setAccessibleName("Job error and traceback")
        self.tabs.addTab(self.options, "Options")
        self.tabs.addTab(data, "Data")
        self.tabs.addTab(self.timeline, "Timeline")
        self.tabs.addTab(self.logs, "Logs")
        self.tabs.addTab(self.error, "Error")
        self.links = QHBoxLayout()
        self.link_buttons: dict[str, Button] = {}
        for column, label in LINKS.items():
            button = Button(f"Open {label.lower()}", variant="secondary", button_size="small")
            button.hide()
            button.clicked.connect(lambda _=False, c=column: self._open_link(c))
            self.link_buttons[column] = button
            self.links.addWidget(button)
        self.links.addStretch(1)
        actions = QHBoxLayout()
        self.action_buttons: dict[str, Button] = {}
        for action in ACTIONS:
            variant = "danger" if action in ("revoke", "remove") else "secondary"
            button = Button(action.capitalize(), variant=variant, button_size="small")
            button.setAccessibleName(f"{action.capitalize()} this job")
            button.clicked.connect(lambda _=False, a=action: self.sig_action.emit(a, [self.job_id]))
            self.action_buttons[action] = button
            actions.addWidget(button)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(self.links)
        layout.addLayout(actions)

    def _open_link(self, column: str) -> None:
        if column in self._links:
            self.sig_open_record.emit(LINKS[column].lower(), self._links[column])

    def show_view(self, view: Any, spec: Any) -> None:
        """Show ``view`` (a ``jobs.monitor.JobView``) and ``spec`` (the task's options)."""
        f = view.fields
        self.job_id = str(f["id"])
        self.setWindowTitle(f"Job {f['task']} · {self.job_id[:8]}")
        self.heading.setText(f"{f['task']} on {f['queue']}")
        self.state_chip.set_text(enum_label(f["state"]))
        self.state_chip.set_tone(STATE_TONES.get(f["state"], "neutral"))
        while self.options_form.rowCount():
            self.options_form.removeRow(0)
        for label, value in options_rows(view, spec, self.clinic):
            value_label = QLabel(value)
            value_label.setWordWrap(True)
            value_label.setAccessibleName(label)
            self.options_form.addRow(f"{label}:", value_label)
        if view.data is not None:
            self.data_note.setText(f"{view.data_size:,} characters of JSON.")
            self.data_tree.set_data(view.data)
        else:
            self.data_note.setText(
                f"The arguments are {view.data_size:,} characters of JSON, too large to open "
                f"here; they begin: {view.data_preview[:300]}…"
            )
            self.data_tree.set_data({"preview": view.data_preview})
        self.timeline.set_rows(
            [
                {"at": at, "kind": kind, "detail": detail, "worker": worker or ""}
                for at, kind, detail, worker in view.timeline
            ]
        )
        self.logs.setPlainText(
            "\n".join(f"{self.clinic.format_seconds(at)}  {line}" for at, line in view.logs)
            or "The job wrote no log lines."
        )
        error = ""
        if f["error_class"]:
            error = f"{f['error_class']}: {f['error_message'] or ''}\n\n{view.traceback}"
        self.error.setPlainText(error or "No error.")
        self._links = {c: int(f[c]) for c in LINKS if f.get(c) is not None}
        for column, button in self.link_buttons.items():
            button.setVisible(column in self._links)
            if column in self._links:
                button.setText(f"Open {LINKS[column].lower()} #{self._links[column]}")
        state = f["state"]
        enabled = {
            "retry": state in ("dead", "revoked", "failed_retrying"),
            "revoke": state in ("outbox", "waiting", "scheduled", "failed_retrying", "paused"),
            "promote": state in ("scheduled", "failed_retrying"),
            "duplicate": True,
            "remove": state != "active",
        }
        for action, button in self.action_buttons.items():
            button.setEnabled(enabled[action])
