"""Calendar: the day per vet or per room, or one vet's or room's week; book from an empty
slot, move by drag or Ctrl+arrows, cancel with Delete; opens on today (clinic time)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Final

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QScrollArea, QWidget

from purplecross_desktop.clinic_time import CLOSES, OPENS, ClinicTime
from purplecross_desktop.database.base import AppointmentId, RoomId, StaffId, utcnow
from purplecross_desktop.domain.appointments import FREEING
from purplecross_desktop.domain.errors import DomainError
from purplecross_desktop.domain.events import DomainEvent
from purplecross_desktop.domain.front_desk import BoardProbe, BoardRow, Choice
from purplecross_desktop.ui.actor import current_actor
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.pages.base import Page
from purplecross_desktop.ui.pages.labels import enum_label
from purplecross_desktop.ui.today.board_model import STATUS_TONE
from widgets.alert import Alert
from widgets.button import Button
from widgets.scheduler import SchedulerColumn, SchedulerItem, SchedulerView

SPANS: Final = (("day", "Day"), ("week", "Week"))
AXES: Final = (("vet", "By vet"), ("room", "By room"))
#: The shown range and whose appointments (see ``CalendarPage.shown``).
Shown = tuple[dt.datetime, dt.datetime, tuple[tuple[str, int], ...]]
#: How often the shown range is probed for other workstations' changes (one cheap query,
#: or one Redis read when the clinic has Redis; see desk_cache.py).
POLL_MS: Final = 3000


class _EventBridge(QObject):
    """Hops domain events (published on worker threads) onto the UI thread."""

    sig_changed = Signal()


class CalendarPage(Page):
    """The diary: columns are vets or rooms (day view) or the days of one vet's or room's
    week (week view).

    It follows changes made on this and other workstations: this window's own changes at
    once, others' within a few seconds (a cheap probe of the shown range), keeping the
    cursor slot and the scroll position.
    """

    title = "Calendar"
    clock: Callable[[], dt.datetime] = staticmethod(utcnow)

    #: Emitted after each load of the shown range with the number of appointments in it.
    sig_range_loaded = Signal(int)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.clinic_time = ClinicTime(context.settings.clinic_timezone, clock=type(self).clock)
        self.day = self.clinic_time.today()
        self.vets: list[Choice] = []
        self.rooms: list[Choice] = []
        self.rows: list[BoardRow] = []

        bar = QHBoxLayout()
        self.previous = Button("◀", variant="secondary", button_size="small")
        self.previous.setAccessibleName("Previous day or week")
        self.previous.clicked.connect(lambda: self.go(-1))
        self.today_button = Button("T&oday", variant="secondary", button_size="small")
        self.today_button.clicked.connect(self.go_today)
        self.next = Button("▶", variant="secondary", button_size="small")
        self.next.setAccessibleName("Next day or week")
        self.next.clicked.connect(lambda: self.go(1))
        self.heading_label = QLabel("")
        self.heading_label.setObjectName("calendarHeading")
        self.heading_label.setAccessibleName("Shown dates")
        self.span = QComboBox()
        self.span.setAccessibleName("Day or week")
        for key, label in SPANS:
            self.span.addItem(label, key)
        self.axis = QComboBox()
        self.axis.setAccessibleName("Columns by vet or by room")
        for key, label in AXES:
            self.axis.addItem(label, key)
        self.subject = QComboBox()
        self.subject.setAccessibleName("Whose week")
        self.book_button = Button("&Book…", variant="primary", button_size="small")
        self.book_button.setAccessibleName("Book an appointment")
        self.book_button.clicked.connect(self.book_at_cursor)
        controls: list[QWidget] = [self.previous, self.today_button, self.next]
        for control in controls:
            bar.addWidget(control)
        bar.addWidget(self.heading_label, 1)
        for control in (self.span, self.axis, self.subject, self.book_button):
            bar.addWidget(control)
        self.body.addLayout(bar)
        self.message = Alert("", kind="error", closable=True)
        self.message.setVisible(False)
        self.body.addWidget(self.message)
        self.hint = QLabel(
            "Arrows move · Enter books a free slot or checks in · Ctrl+arrows move an "
            "appointment · Delete cancels"
        )
        self.hint.setObjectName("mutedText")
        self.body.addWidget(self.hint)
        first = OPENS.hour * 60 + OPENS.minute
        last = CLOSES.hour * 60 + CLOSES.minute
        self.view = SchedulerView(first, last, slot_minutes=15, slot_height=26)
        self.view.setAccessibleName("Calendar")
        self.view.sig_slot_activated.connect(self._book_slot)
        self.view.sig_item_activated.connect(self._open_item)
        self.view.sig_item_move_requested.connect(self._move_item)
        self.view.sig_item_delete_requested.connect(self._cancel_item)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setWidget(self.view)
        self.scroll_area.setAccessibleName("Calendar area")
        self.body.addWidget(self.scroll_area, 1)
        for combo in (self.span, self.axis, self.subject):
            combo.currentIndexChanged.connect(lambda _i: self.reload())
        self._loaded_choices = False
        self._probe: BoardProbe | None = None
        self._probed: Shown | None = None
        self._loading = False
        self._reload_again = False
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._check_for_changes)
        self._bridge = _EventBridge(self)
        self._bridge.sig_changed.connect(self.reload, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe: list[Callable[[], None]] = []
        if context.services is not None:
            for pattern in ("appointment.*", "patient.*"):
                self._unsubscribe.append(
                    context.services.events.subscribe(pattern, self._on_domain_event)
                )
        self.destroyed.connect(lambda *_: self._stop_listening())

    # Public API ---------------------------------------------------------------
    def activate(self) -> None:
        if not self._loaded_choices:
            self._load_choices()
        else:
            self.reload()
        self._poll.start()
        self.view.setFocus()

    def stop(self) -> None:
        """Stop following changes (the window is closing)."""
        self._poll.stop()
        self._stop_listening()

    def go(self, direction: int) -> None:
        step = 7 if self.span.currentData() == "week" else 1
        self.day += dt.timedelta(days=step * direction)
        self.reload()

    def go_today(self) -> None:
        self.day = self.clinic_time.today()
        self.reload()

    def range(self) -> tuple[dt.date, int]:
        """First day shown and how many days."""
        if self.span.currentData() == "week":
            return self.day - dt.timedelta(days=self.day.weekday()), 7
        return self.day, 1

    def reload(self) -> None:
        """Load the shown range's appointments off the UI thread."""
        services = self.context.services
        if services is None or not self._loaded_choices:
            return
        self._update_subjects()
        shown = self.shown()
        if self._loading:
            self._reload_again = True
            return
        self._loading = True
        queries = services.front_desk
        start, end, whose = shown[0], shown[1], dict(shown[2])

        def load() -> tuple[Shown, BoardProbe, list[BoardRow]]:
            # A week is one vet's or room's: only theirs is read (a seventh of the rows a
            # clinic's week has, and the loader holds the interpreter lock while it builds
            # them, which the window feels)
            return (
                shown,
                queries.board_probe(start, end, **whose),
                queries.board(start, end, **whose),
            )

        self.context.background(self, load).success(self._loaded).failure(
            self._show_error
        ).finally_(self._load_finished).run_in_background()

    def book_at_cursor(self) -> None:
        key, minute = self.view.cursor_slot()
        if key is not None:
            self._book_slot(key, minute)

    # Internals ----------------------------------------------------------------
    def _load_choices(self) -> None:
        services = self.context.services
        if services is None:
            return
        queries = services.front_desk
        self.context.background(self, lambda: (queries.vets(), queries.rooms())).success(
            self._got_choices
        ).failure(self._fail).run_in_background()

    def _got_choices(self, loaded: tuple[list[Choice], list[Choice]]) -> None:
        self.vets, self.rooms = loaded
        self._loaded_choices = True
        self.reload()

    def _update_subjects(self) -> None:
        week = self.span.currentData() == "week"
        choices = self.vets if self.axis.currentData() == "vet" else self.rooms
        wanted = [c.id for c in choices]
        current = [self.subject.itemData(i) for i in range(self.subject.count())]
        if current != wanted:
            self.subject.blockSignals(True)
            self.subject.clear()
            for choice in choices:
                self.subject.addItem(choice.name, choice.id)
            self.subject.blockSignals(False)
        self.subject.setVisible(week)

    def _columns(self) -> list[SchedulerColumn]:
        first, days = self.range()
        if days == 1:
            choices = self.vets if self.axis.currentData() == "vet" else self.rooms
            return [SchedulerColumn(c.id, c.name) for c in choices]
        return [
            SchedulerColumn(
                first + dt.timedelta(days=n), f"{first + dt.timedelta(days=n):%a %d %b}"
            )
            for n in range(days)
        ]

    def shown_range(self) -> tuple[dt.datetime, dt.datetime]:
        """The instants the view covers: [start of the first day, end of the last)."""
        first, days = self.range()
        start = self.clinic_time.day_bounds(first)[0]
        end = self.clinic_time.day_bounds(first + dt.timedelta(days=days - 1))[1]
        return start, end

    def shown(self) -> Shown:
        """What the view shows: its range, and whose appointments (a week: one vet's or
        one room's, as ``(("vet_id", id),)``; a day: everyone's, ``()``)."""
        start, end = self.shown_range()
        subject = self.subject.currentData()
        if self.span.currentData() != "week" or subject is None:
            return start, end, ()
        key = "vet_id" if self.axis.currentData() == "vet" else "room_id"
        return start, end, ((key, int(subject)),)

    def _loaded(self, loaded: tuple[Shown, BoardProbe, list[BoardRow]]) -> None:
        shown, probe, rows = loaded
        self._probed, self._probe = shown, probe
        if shown == self.shown():  # the user may have moved on meanwhile
            self._show(rows)
        self.sig_range_loaded.emit(len(self.rows))

    def _load_finished(self) -> None:
        self._loading = False
        if self._reload_again:
            self._reload_again = False
            self.reload()

    def _check_for_changes(self) -> None:
        """The cheap probe of the shown range; a full reload only when it moved."""
        services = self.context.services
        if services is None or self._loading or not self.isVisible():
            return
        shown = self.shown()
        if shown != self._probed:
            self.reload()
            return
        queries = services.front_desk
        start, end, whose = shown[0], shown[1], dict(shown[2])
        self.context.background(self, lambda: queries.board_probe(start, end, **whose)).success(
            lambda probe: self.reload() if probe != self._probe else None
        ).failure(lambda _exc: None).run_in_background()

    def _on_domain_event(self, _event: DomainEvent) -> None:
        # Runs on the publishing thread: only emit, the queued signal does the rest.
        self._bridge.sig_changed.emit()

    def _stop_listening(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()

    def _show(self, rows: list[BoardRow]) -> None:
        self.rows = [r for r in rows if r.status not in FREEING]
        first, days = self.range()
        by_vet = self.axis.currentData() == "vet"
        subject = self.subject.currentData()
        items = []
        for row in self.rows:
            local = self.clinic_time.local(row.starts_at)
            end = self.clinic_time.local(row.ends_at)
            owner = row.vet_id if by_vet else row.room_id
            if days == 1:
                column: Any = owner
            else:
                if owner != subject:
                    continue
                column = local.date()
            start_minute = local.hour * 60 + local.minute
            length = int((row.ends_at - row.starts_at).total_seconds() // 60)
            alerts = " ⚠ " + ", ".join(row.alerts) if row.alerts else ""
            items.append(
                SchedulerItem(
                    id=row.id,
                    column=column,
                    start=start_minute,
                    end=start_minute + length,
                    title=f"{local:%H:%M} {row.patient} ({row.client}){alerts}",
                    subtitle=f"{enum_label(row.type)} · {row.room if by_vet else row.vet}"
                    f" · {enum_label(row.status)}",
                    tone=STATUS_TONE[row.status],
                    movable=row.status.value in ("scheduled", "confirmed")
                    and end.date() == local.date(),
                )
            )
        self.view.set_columns(self._columns())
        self.view.set_items(items)
        if days == 1:
            text = self.clinic_time.format_day(first)
        else:
            last = first + dt.timedelta(days=6)
            text = f"Week of {self.clinic_time.format_day(first)} \u2013 {last:%d %B}"
        self.heading_label.setText(text)

    def _when(self, key: Any, minute: int) -> tuple[dt.datetime, int | None]:
        """The instant of a slot, and the vet or room its column stands for."""
        first, days = self.range()
        day = first if days == 1 else key
        owner = key if days == 1 else self.subject.currentData()
        starts = self.clinic_time.at(day, dt.time(minute // 60, minute % 60))
        return starts, owner

    def _book_slot(self, key: Any, minute: int) -> None:
        from purplecross_desktop.ui.dialogs.booking import open_booking_dialog

        starts, owner = self._when(key, minute)
        by_vet = self.axis.currentData() == "vet"
        dialog = open_booking_dialog(
            self.context,
            self,
            starts_at=starts,
            vet_id=owner if by_vet else None,
            room_id=None if by_vet else owner,
        )
        dialog.sig_booked.connect(lambda _id: self.reload())

    def _open_item(self, appointment_id: Any) -> None:
        row = next((r for r in self.rows if r.id == appointment_id), None)
        if row is None or row.status.value not in ("scheduled", "confirmed"):
            return
        from purplecross_desktop.ui.dialogs.check_in import open_check_in_dialog

        dialog = open_check_in_dialog(self.context, self, int(appointment_id))
        dialog.sig_checked_in.connect(lambda _id: self.reload())

    def _move_item(self, appointment_id: Any, key: Any, minute: int) -> None:
        services = self.context.services
        row = next((r for r in self.rows if r.id == appointment_id), None)
        if services is None or row is None:
            return
        starts, owner = self._when(key, minute)
        ends = starts + (row.ends_at - row.starts_at)
        by_vet = self.axis.currentData() == "vet"
        vet = StaffId(owner) if by_vet and owner is not None else None
        room = RoomId(owner) if not by_vet and owner is not None else None
        actor = current_actor(self.context)
        appointments = services.appointments
        self.message.setVisible(False)
        self.context.background(
            self,
            lambda: appointments.reschedule(
                AppointmentId(int(appointment_id)),
                starts,
                ends,
                vet_id=vet,
                room_id=room,
                actor=actor,
            ),
        ).success(lambda _a: self._moved(row, starts)).failure(self._fail).run_in_background()

    def _moved(self, row: BoardRow, starts: dt.datetime) -> None:
        self.message.set_kind("success")
        self.message.set_message(
            f"{row.patient} moved to {self.clinic_time.format_datetime(starts)}."
        )
        self.message.setVisible(True)
        self.reload()

    def _cancel_item(self, appointment_id: Any) -> None:
        from purplecross_desktop.ui.dialogs.cancel import open_cancel_dialog

        dialog = open_cancel_dialog(self.context, self, int(appointment_id))
        dialog.sig_cancelled.connect(lambda _id: self.reload())

    def _fail(self, exc: BaseException) -> None:
        """A refused move: the rule's message, and the diary as it really is."""
        self._show_error(exc)
        self.reload()

    def _show_error(self, exc: BaseException) -> None:
        self.message.set_kind("error")
        prefix = "Not changed. " if isinstance(exc, DomainError) else "Something went wrong: "
        self.message.set_message(f"{prefix}{exc}")
        self.message.setVisible(True)
