"""Today: the day's board (status chips, who is waiting, alerts, balances) and the desk's
actions on the row under the cursor; it follows changes made on other workstations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Final

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QWidget,
)

from purplecross_desktop.clinic_time import ClinicTime
from purplecross_desktop.database.base import AppointmentId, utcnow
from purplecross_desktop.domain.appointments import TRANSITIONS, AppointmentStatus
from purplecross_desktop.domain.clients import clinic_is_empty
from purplecross_desktop.domain.errors import DomainError
from purplecross_desktop.domain.events import DomainEvent
from purplecross_desktop.domain.front_desk import BoardProbe, BoardRow, status_counts
from purplecross_desktop.ui.actor import current_actor
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.pages.base import Page
from purplecross_desktop.ui.today.board_model import COLUMN, COLUMNS, TodayBoardModel
from purplecross_desktop.ui.welcome import WelcomeBanner
from widgets.alert import Alert
from widgets.button import Button
from widgets.chip_delegate import ChipDelegate
from widgets.tokens import Spacing

#: How often the board asks the database whether anything changed (a few-ms probe).
POLL_MS: Final = 3000
ROW_HEIGHT: Final = 34

S = AppointmentStatus

#: (key, label with mnemonic, target status, needs a dialog)
ACTIONS: Final = (
    ("check_in", "&Check in…", S.ARRIVED),
    ("start", "&Start consult", S.IN_CONSULT),
    ("complete", "Co&mplete", S.COMPLETED),
    ("confirm", "Con&firm", S.CONFIRMED),
    ("no_show", "&No-show", S.NO_SHOW),
    ("cancel", "Cance&l…", S.CANCELLED),
)

#: The next step of a row in each status: Enter (and the highlighted button) does it.
NEXT_STEP: Final = {
    S.SCHEDULED: "check_in",
    S.CONFIRMED: "check_in",
    S.ARRIVED: "start",
    S.IN_CONSULT: "complete",
}

VIEWS: Final = (("time", "Time order"), ("vet", "By vet"), ("room", "By room"))


class _EventBridge(QObject):
    """Hops domain events (published on worker threads) onto the UI thread."""

    sig_changed = Signal()


class BoardTable(QTableView):
    """The board's table: Tab leaves it (never trapped), Enter runs the row's next step.

    Signals:
        sig_next_step(): Enter or Return was pressed on a row.
    """

    sig_next_step = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabKeyNavigation(False)

    def keyPressEvent(self, event: Any) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.sig_next_step.emit()
            return
        super().keyPressEvent(event)


class TodayPage(Page):
    """The day's appointments with one-keystroke status changes for the row under the cursor.

    The highlighted row *is* the row the actions act on (single selection follows the
    cursor). The board refreshes itself when this or another workstation changes
    something (a cheap probe every few seconds, immediately for this window's own
    changes), keeping the cursor row and the scroll position.
    """

    title = "Today"
    #: The current instant (aware UTC); tests and benchmarks pin the clinic's day with it.
    clock: Callable[[], dt.datetime] = staticmethod(utcnow)

    #: Emitted after each load with the number of rows shown.
    sig_board_loaded = Signal(int)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        settings = context.settings
        self.clinic_time = ClinicTime(settings.clinic_timezone, clock=type(self).clock)
        self.day = self.clinic_time.today()
        self._probe: BoardProbe | None = None
        self._loading = False
        self._reload_again = False
        self.loaded_at: dt.datetime | None = None

        self.welcome = WelcomeBanner(context)
        self.welcome.setVisible(False)
        self.welcome.sig_demo_loaded.connect(self._on_demo_loaded)
        self.body.addWidget(self.welcome)

        header = QHBoxLayout()
        self.summary = QLabel("")
        self.summary.setObjectName("todaySummary")
        self.summary.setAccessibleName("Today's summary")
        header.addWidget(self.summary, 1)
        self.view_choice = QComboBox()
        self.view_choice.setAccessibleName("Show the board")
        for key, label in VIEWS:
            self.view_choice.addItem(label, key)
        self.view_choice.currentIndexChanged.connect(self._on_view_changed)
        view_label = QLabel("Sho&w")
        view_label.setBuddy(self.view_choice)
        header.addWidget(view_label)
        header.addWidget(self.view_choice)
        self.refresh_button = Button("Refresh", variant="secondary", button_size="small")
        self.refresh_button.setAccessibleDescription("Reload the board now (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        header.addWidget(self.refresh_button)
        self.body.addLayout(header)

        bar = QHBoxLayout()
        bar.setSpacing(Spacing.SM)
        self.book_button = Button("&Book…", variant="primary", button_size="small")
        self.book_button.setAccessibleName("Book an appointment")
        self.book_button.clicked.connect(lambda: self.open_booking())
        bar.addWidget(self.book_button)
        bar.addSpacing(Spacing.LG)
        self.action_buttons: dict[str, Button] = {}
        for key, label, _target in ACTIONS:
            variant = "danger" if key == "cancel" else "secondary"
            button = Button(label, variant=variant, button_size="small")
            button.setAccessibleName(label.replace("&", "").rstrip("…"))
            button.setEnabled(False)
            button.clicked.connect(lambda _=False, k=key: self.run_action(k))
            bar.addWidget(button)
            self.action_buttons[key] = button
        self.checkout_button = Button("Check &out…", variant="secondary", button_size="small")
        self.checkout_button.setAccessibleName("Check out")
        self.checkout_button.setEnabled(False)
        self.checkout_button.clicked.connect(self._checkout_current)
        bar.addWidget(self.checkout_button)
        bar.addStretch(1)
        self.updated_label = QLabel("")
        self.updated_label.setObjectName("mutedText")
        self.updated_label.setAccessibleName("Last updated")
        bar.addWidget(self.updated_label)
        self.body.addLayout(bar)

        self.message = Alert("", kind="success", closable=True)
        self.message.setVisible(False)
        self.body.addWidget(self.message)

        self.model = TodayBoardModel(
            self.clinic_time, settings.wait_alert_minutes, settings.clinic_currency, self
        )
        self.table = BoardTable()
        self.table.setObjectName("todayBoard")
        self.table.setAccessibleName("Today's appointments")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        chips = ChipDelegate(self.table)
        for number, column in enumerate(COLUMNS):
            if column.chip:
                self.table.setItemDelegateForColumn(number, chips)
        # Fixed widths for the short columns; patient, alerts and owner share what is left
        # of the width, so every column (Room, Type) is on screen from a 1280 px window
        # (fixed widths alone needed ~1180 px of board: a sideways scroll hid the Room).
        widths = {
            "time": 92,
            "status": 100,
            "balance": 80,
            "arrived": 62,
            "waiting": 72,
        }
        columns = self.table.horizontalHeader()
        columns.setStretchLastSection(False)
        for key, width in widths.items():
            self.table.setColumnWidth(COLUMN[key], width)
        for key in ("patient", "alerts", "client"):
            columns.setSectionResizeMode(COLUMN[key], QHeaderView.ResizeMode.Stretch)
        # the grouping, vet, room and type columns fit their longest name: "Consulting
        # room 1" and "... 2" cut to "Consulting roo..." told no room from the other
        # (a day is tens of rows, cheap to measure)
        for key in ("group", "vet", "room", "type"):
            columns.setSectionResizeMode(COLUMN[key], QHeaderView.ResizeMode.ResizeToContents)
        self.table.sig_next_step.connect(self.run_next_step)
        self.table.doubleClicked.connect(lambda _index: self.run_next_step())
        self.body.addWidget(self.table, 1)
        self.empty = QLabel("No appointments today.")
        self.empty.setObjectName("emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setVisible(False)
        # it takes the table's room when the day is empty (else the banner, the summary
        # and the buttons were spread down the page)
        self.body.addWidget(self.empty, 1)
        self._apply_view_columns()

        selection = self.table.selectionModel()
        selection.currentRowChanged.connect(self._on_current_changed)

        # F5 is the main window's (it calls refresh() on the page shown): a second F5
        # shortcut in the same window would make both ambiguous and neither would fire.
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._check_for_changes)
        self._minute = QTimer(self)
        self._minute.setInterval(30_000)
        self._minute.timeout.connect(self.model.tick)
        self._bridge = _EventBridge(self)
        self._bridge.sig_changed.connect(self.refresh, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe: list[Callable[[], None]] = []
        if context.services is not None:
            for pattern in ("appointment.*", "invoice.*", "patient.*"):
                self._unsubscribe.append(
                    context.services.events.subscribe(pattern, self._on_domain_event)
                )
        self.destroyed.connect(lambda *_: self._stop_listening())
        self._emptiness_checked = False

    # Public API ---------------------------------------------------------------
    def activate(self) -> None:
        if self.clinic_time.today() != self.day:  # the app stayed open past midnight
            self.day = self.clinic_time.today()
        self._poll.start()
        self._minute.start()
        self.refresh()
        self.table.setFocus()

    def refresh(self) -> None:
        """Reload the board off the UI thread (coalesced while a load runs)."""
        services = self.context.services
        if services is None:
            return
        if self._loading:
            self._reload_again = True
            return
        self._loading = True
        start, end = self.clinic_time.day_bounds(self.day)
        queries = services.front_desk

        def load() -> tuple[BoardProbe, list[BoardRow]]:
            return queries.board_probe(start, end), queries.board(start, end)

        self.context.background(self, load).success(self._show).failure(self._load_failed).finally_(
            self._load_finished
        ).run_in_background()

    def current_row(self) -> BoardRow | None:
        """The appointment under the cursor (the one every action acts on)."""
        index = self.table.currentIndex()
        return self.model.board_row(index.row()) if index.isValid() else None

    def select_appointment(self, appointment_id: int) -> bool:
        """Put the cursor on ``appointment_id``; False if it is not on the board."""
        row = self.model.row_of(appointment_id)
        if row is None:
            return False
        index = self.model.index(row, COLUMN["patient"])
        self.table.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.table.scrollTo(index)
        return True

    def run_next_step(self) -> None:
        """Enter on a row: check in, start the consult or complete, whichever is next."""
        row = self.current_row()
        if row is None:
            return
        step = NEXT_STEP.get(row.status)
        if step is not None:
            self.run_action(step)

    def run_action(self, key: str) -> None:
        """Do ``key`` (see ``ACTIONS``) to the row under the cursor."""
        row = self.current_row()
        services = self.context.services
        if row is None or services is None:
            self.show_message("Put the cursor on an appointment first.", "info")
            return
        if key == "check_in":
            self.open_check_in(row.id)
            return
        if key == "cancel":
            self.open_cancel(row.id)
            return
        appointments = services.appointments
        actor = current_actor(self.context)
        appointment_id = AppointmentId(row.id)
        work: dict[str, Callable[[], Any]] = {
            "start": lambda: appointments.start_consult(appointment_id, actor=actor),
            "complete": lambda: appointments.complete(appointment_id, actor=actor),
            "confirm": lambda: appointments.confirm(appointment_id, actor=actor),
            "no_show": lambda: appointments.mark_no_show(appointment_id, actor=actor),
        }
        done = {
            "start": f"{row.patient} is in consult with {row.vet}.",
            "complete": f"{row.patient}'s consult is complete.",
            "confirm": f"{row.patient}'s appointment is confirmed.",
            "no_show": f"{row.patient} is marked as a no-show.",
        }
        for button in self.action_buttons.values():
            button.setEnabled(False)
        self.context.background(self, work[key]).success(
            lambda _result: self._action_done(key, row, done[key])
        ).failure(self._refused).finally_(self._update_actions).run_in_background()

    def open_check_in(self, appointment_id: int) -> Any:
        """The check-in dialog (alerts, balance, weight) for ``appointment_id``."""
        from purplecross_desktop.ui.dialogs.check_in import open_check_in_dialog

        dialog = open_check_in_dialog(self.context, self, appointment_id)
        dialog.sig_checked_in.connect(lambda _id: self._after_dialog("Checked in."))
        return dialog

    def open_booking(self, **kwargs: Any) -> Any:
        """The booking dialog; the board shows the new appointment when it is today."""
        from purplecross_desktop.ui.dialogs.booking import open_booking_dialog

        dialog = open_booking_dialog(self.context, self, **kwargs)
        dialog.sig_booked.connect(lambda _id: self._after_dialog("Booked."))
        return dialog

    def open_cancel(self, appointment_id: int) -> Any:
        """The cancel dialog (reason, confirmation) for ``appointment_id``."""
        from purplecross_desktop.ui.dialogs.cancel import open_cancel_dialog

        dialog = open_cancel_dialog(self.context, self, appointment_id)
        dialog.sig_cancelled.connect(lambda _id: self._after_dialog("Cancelled."))
        return dialog

    def show_message(self, text: str, kind: str = "success") -> None:
        self.message.set_kind(kind)
        self.message.set_message(text)
        self.message.setVisible(True)

    def stop(self) -> None:
        """Stop polling (the window is closing)."""
        self._poll.stop()
        self._minute.stop()
        self._stop_listening()

    # Internals ----------------------------------------------------------------
    def _show(self, loaded: tuple[BoardProbe, list[BoardRow]]) -> None:
        probe, rows = loaded
        self._probe = probe
        current = self.current_row()
        scroll = self.table.verticalScrollBar().value()
        self.model.set_rows(rows)
        if current is not None and not self.select_appointment(current.id):
            self.table.setCurrentIndex(QModelIndex())
        elif current is None and rows and self.table.hasFocus():
            self.select_appointment(self.model.rows()[0].id)
        self.table.verticalScrollBar().setValue(scroll)
        self.loaded_at = self.clinic_time.now()
        self.updated_label.setText(f"Updated {self.loaded_at:%H:%M:%S}")
        self._update_summary(rows)
        self.empty.setVisible(not rows)
        self.table.setVisible(bool(rows))
        self._update_actions()
        if not self._emptiness_checked:
            self._check_empty()
        self.sig_board_loaded.emit(len(rows))

    def row_count(self) -> int:
        """How many appointments the board shows."""
        return self.model.rowCount()

    def _load_failed(self, exc: BaseException) -> None:
        self.show_message(f"The board could not be loaded: {exc}. It retries by itself.", "error")

    def _load_finished(self) -> None:
        self._loading = False
        if self._reload_again:
            self._reload_again = False
            self.refresh()

    def _check_for_changes(self) -> None:
        """The cheap probe; a full reload only when the fingerprint moved."""
        services = self.context.services
        if services is None or self._loading or not self.isVisible():
            return
        if self.clinic_time.today() != self.day:
            self.day = self.clinic_time.today()
            self.refresh()
            return
        start, end = self.clinic_time.day_bounds(self.day)
        queries = services.front_desk
        self.context.background(self, lambda: queries.board_probe(start, end)).success(
            self._on_probe
        ).failure(lambda _exc: None).run_in_background()

    def _on_probe(self, probe: BoardProbe) -> None:
        if probe != self._probe:
            self.refresh()

    def _on_domain_event(self, _event: DomainEvent) -> None:
        # Runs on the publishing thread: only emit, the queued signal does the rest.
        self._bridge.sig_changed.emit()

    def _stop_listening(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()

    def _action_done(self, key: str, row: BoardRow, text: str) -> None:
        self.show_message(text, "success")
        self.refresh()
        if key == "complete":  # the consult is over: the owner is at the desk to pay
            self.open_checkout(row.id)

    def open_checkout(self, appointment_id: int) -> Any:
        """The checkout (invoice, payment, receipt) for a completed appointment."""
        from purplecross_desktop.ui.dialogs.checkout import open_checkout_dialog

        dialog = open_checkout_dialog(self.context, self, appointment_id)
        dialog.sig_checked_out.connect(lambda _id: self.refresh())
        return dialog

    def _checkout_current(self) -> None:
        row = self.current_row()
        if row is not None:
            self.open_checkout(row.id)

    def _after_dialog(self, text: str) -> None:
        self.show_message(text, "success")
        self.refresh()
        self.table.setFocus()

    def _refused(self, exc: BaseException) -> None:
        if isinstance(exc, DomainError):
            self.show_message(f"Not changed. {exc}", "error")
        else:
            self.show_message(f"Not changed: {type(exc).__name__}: {exc}", "error")

    def _on_current_changed(self, *_args: Any) -> None:
        self._update_actions()

    def _update_actions(self) -> None:
        row = self.current_row()
        allowed = TRANSITIONS.get(row.status, frozenset()) if row is not None else frozenset()
        step = NEXT_STEP.get(row.status) if row is not None else None
        for key, _label, target in ACTIONS:
            button = self.action_buttons[key]
            button.setEnabled(target in allowed and self.context.services is not None)
            if key != "cancel":
                _set_variant(button, "primary" if key == step else "secondary")
        completed = row is not None and row.status is S.COMPLETED
        self.checkout_button.setEnabled(completed)
        _set_variant(self.checkout_button, "primary" if completed else "secondary")

    def _update_summary(self, rows: list[BoardRow]) -> None:
        counts = status_counts(rows)
        parts = [self.clinic_time.format_day(self.day)]
        live = len(rows) - counts[S.CANCELLED]
        parts.append(f"{live} appointment{'s' if live != 1 else ''}")
        for status, label in (
            (S.ARRIVED, "waiting"),
            (S.IN_CONSULT, "in consult"),
            (S.COMPLETED, "completed"),
            (S.NO_SHOW, "no-show"),
            (S.CANCELLED, "cancelled"),
        ):
            if counts[status]:
                parts.append(f"{counts[status]} {label}")
        self.summary.setText(" · ".join(parts))

    def _on_view_changed(self, _index: int) -> None:
        key = self.view_choice.currentData()
        current = self.current_row()
        self.model.set_grouping(str(key))
        self._apply_view_columns()
        if current is not None:
            self.select_appointment(current.id)

    def _apply_view_columns(self) -> None:
        grouping = self.model.grouping()
        self.table.setColumnHidden(COLUMN["group"], grouping == "time")
        self.table.setColumnHidden(COLUMN["vet"], grouping == "vet")
        self.table.setColumnHidden(COLUMN["room"], grouping == "room")

    def _check_empty(self) -> None:
        self._emptiness_checked = True
        factory = self.context.session_factory

        def empty() -> bool:
            return clinic_is_empty(factory)

        self.context.background(self, empty).success(self.welcome.setVisible).run_in_background()

    def _on_demo_loaded(self) -> None:
        self.welcome.setVisible(False)
        self.refresh()


def _set_variant(button: Button, variant: str) -> None:
    """Restyle only on a change: a variant change re-polishes the button (~ms each), and
    the cursor moves on every arrow key."""
    if button.get_variant() != variant:
        button.set_variant(variant)
