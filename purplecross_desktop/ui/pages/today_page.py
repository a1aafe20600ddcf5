"""Today: the day's appointments and the front desk's actions on them (check in, ...)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from purplecross_desktop.domain.appointments import Appointment, AppointmentService
from purplecross_desktop.domain.clients import Client
from purplecross_desktop.domain.errors import DomainError
from purplecross_desktop.domain.patients import Patient
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.grid_sql_source import SqlSource
from purplecross_desktop.ui.pages.appointments_page import (
    appointment_columns,
    appointment_select,
    day_bounds,
)
from purplecross_desktop.ui.pages.grid_page import GridPage
from purplecross_desktop.ui.welcome import WelcomeBanner
from widgets.button import Button
from widgets.datagrid import Column

# (button text, accessible description, service method)
ACTIONS: tuple[tuple[str, str, Callable[[AppointmentService, Any], Any]], ...] = (
    ("Confirm", "Confirm the selected appointment", AppointmentService.confirm),
    ("Check in", "The patient has arrived", AppointmentService.check_in),
    ("Start consult", "The vet has started the consult", AppointmentService.start_consult),
    ("Complete", "The consult is finished", AppointmentService.complete),
    ("No-show", "The patient did not come", AppointmentService.mark_no_show),
    ("Cancel", "Cancel the selected appointment", AppointmentService.cancel),
)


class TodayPage(GridPage):
    """The day's list, oldest first, with one-click status changes for the selected row.

    A refused change (e.g. completing an appointment that has not started) is shown as
    the service's message, naming the rule; nothing is changed.
    """

    title = "Today"
    grid_id = "today"
    empty_text = "No appointments today"
    page_size = 50

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        self.day = dt.date.today()
        super().__init__(context, parent)
        self.summary = QLabel("")
        self.summary.setObjectName("todaySummary")
        self.summary.setAccessibleName("Today's summary")
        self.body.insertWidget(0, self.summary)
        bar = QHBoxLayout()
        self.action_buttons: dict[str, Button] = {}
        for text, description, method in ACTIONS:
            variant = "danger" if text == "Cancel" else "secondary"
            button = Button(text, variant=variant, button_size="small")
            button.setAccessibleName(text)
            button.setAccessibleDescription(description)
            button.setEnabled(False)
            button.clicked.connect(lambda _=False, m=method, t=text: self.apply(t, m))
            bar.addWidget(button)
            self.action_buttons[text] = button
        bar.addStretch(1)
        self.message = QLabel("")
        self.message.setObjectName("todayMessage")
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Action result")
        self.body.insertLayout(1, bar)
        self.body.insertWidget(2, self.message)
        self.welcome = WelcomeBanner(context)
        self.welcome.setVisible(False)
        self.welcome.sig_demo_loaded.connect(self._on_demo_loaded)
        self.body.insertWidget(0, self.welcome)
        # After the first page (or its error): the check competes with it for the GIL.
        self._emptiness_checked = False
        self.grid.sig_view_changed.connect(self._check_empty)
        self.grid.sig_error.connect(self._check_empty)
        self.grid.sig_selection_changed.connect(self._on_selection)
        self.grid.sig_view_changed.connect(self._update_summary)

    def columns(self) -> Sequence[Column]:
        return appointment_columns()

    def source(self) -> SqlSource:
        start, end = day_bounds(self.day)
        stmt, columns = appointment_select()
        stmt = stmt.where(Appointment.starts_at >= start, Appointment.starts_at <= end)
        return SqlSource(
            stmt,
            self.context.session_factory,
            columns,
            id_column=Appointment.id,
            sort_columns={"patient": Patient.name_key, "client": Client.name_key},
            searchable=["patient", "client", "vet", "room", "reason"],
        )

    def activate(self) -> None:
        if dt.date.today() != self.day:  # the app stayed open past midnight
            self.day = dt.date.today()
            self.grid.set_source(self.source())
            return
        super().activate()

    def _check_empty(self, *_args: Any) -> None:
        if self._emptiness_checked:
            return
        self._emptiness_checked = True
        factory = self.context.session_factory

        def empty() -> bool:
            # Imported here, off the UI thread: the demo module pulls in every table
            # module (and the jobs stack with them), which the first page does not need.
            from purplecross_desktop.demo import is_database_empty

            return is_database_empty(factory)

        self.context.background(self, empty).success(self.welcome.setVisible).run_in_background()

    def _on_demo_loaded(self) -> None:
        self.welcome.setVisible(False)
        self.grid.refresh()

    def selected_id(self) -> int | None:
        ids = self.grid.selected_ids()
        return int(ids[0]) if len(ids) == 1 else None

    def apply(self, label: str, method: Callable[[AppointmentService, Any], Any]) -> None:
        """Run ``method`` on the selected appointment off the UI thread, then refresh."""
        appointment_id = self.selected_id()
        services = self.context.services
        if appointment_id is None or services is None:
            self.message.setText("Select one appointment first.")
            return
        for button in self.action_buttons.values():
            button.setEnabled(False)
        self.context.background(
            self, lambda: method(services.appointments, appointment_id)
        ).success(lambda _: self._done(f"{label}: done.")).failure(self._refused).finally_(
            lambda: self._on_selection(self.grid.selected_ids())
        ).run_in_background()

    def _done(self, text: str) -> None:
        self.message.setText(text)
        self.grid.refresh()

    def _refused(self, exc: BaseException) -> None:
        if isinstance(exc, DomainError):
            self.message.setText(f"Not changed. {exc}")
        else:
            self.message.setText(f"Not changed: {type(exc).__name__}: {exc}")

    def _on_selection(self, ids: list[Any]) -> None:
        enabled = len(ids) == 1 and self.context.services is not None
        for button in self.action_buttons.values():
            button.setEnabled(enabled)

    def _update_summary(self) -> None:
        count = self.grid.row_count()
        when = self.day.strftime("%A %d %B %Y")
        self.summary.setText(f"{when}: {count} appointment{'s' if count != 1 else ''}")
