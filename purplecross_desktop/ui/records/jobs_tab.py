"""The Jobs tab of a client or patient record: its background jobs, newest first; Enter
opens one in the Queue monitor (for admins; others are told the monitor is for admins)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from PySide6.QtWidgets import QWidget

from purplecross_desktop.records import JobRow
from purplecross_desktop.ui.pages.labels import enum_label
from purplecross_desktop.ui.records.record_table import RecordTable

HEADERS = ("Enqueued", "Task", "State", "Tries", "Finished", "Because of", "Error")


class RecordJobsTable(RecordTable):
    """The jobs linked to one record, or to one of its events.

    Args:
        format_time: shows a time in the clinic's zone.
        parent: the parent widget.
    """

    def __init__(
        self, format_time: Callable[[dt.datetime | None], str], parent: QWidget | None = None
    ) -> None:
        super().__init__("Jobs", HEADERS, "No background jobs about this record", parent=parent)
        self.set_widths((140, 150, 110, 50, 140, 150))
        self._format_time = format_time
        self._ids: list[str] = []
        self.sig_row_activated.connect(self.open_job)

    def show_jobs(self, jobs: Sequence[JobRow]) -> None:
        """Show ``jobs`` (a record's ``jobs``)."""
        self._ids = [job.id for job in jobs]
        fmt = self._format_time
        self.set_rows(
            [
                (
                    fmt(job.enqueued_at),
                    job.task,
                    enum_label(job.state),
                    job.attempts,
                    fmt(job.finished_at),
                    job.cause,
                    job.error or "",
                )
                for job in jobs
            ]
        )

    def job_id(self, row: int) -> str | None:
        """The id of the job shown on ``row``."""
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def open_job(self, row: int) -> None:
        """Open the job on ``row`` in the main window's Queue monitor."""
        job_id = self.job_id(row)
        target = self.parentWidget()
        while target is not None and not hasattr(target, "open_link"):
            target = target.parentWidget()
        if job_id is not None and target is not None:
            target.open_link(f"job:{job_id}")
