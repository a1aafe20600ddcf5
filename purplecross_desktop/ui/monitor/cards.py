"""Queue cards: counts per state, paused and no-workers badges, throughput and latency."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from purplecross_desktop.ui.pages.labels import enum_label, milliseconds
from widgets.bar_chart import BarChart
from widgets.button import Button
from widgets.card import Card
from widgets.status_chip import StatusChip

#: The states a card counts, in the order of a job's life.
CARD_STATES = (
    "outbox",
    "waiting",
    "scheduled",
    "active",
    "completed",
    "failed_retrying",
    "dead",
    "revoked",
    "paused",
)


_UNSET = object()
#: New cards built per event-loop turn: the first visit builds a queue's card in ~8 ms of
#: UI work (plus its first layout and paint), so seven at once stalled the window.
CARDS_PER_TURN = 2


class QueueCard(Card):
    """One queue at a glance, with its queue-wide actions.

    Args:
        queue: the queue's name.
        parent: the parent widget.

    Signals:
        sig_action(str, str): an action button was clicked: (action, queue); actions are
            "pause", "resume", "retry_failed", "promote_scheduled" and "clean".
    """

    sig_action = Signal(str, str)

    def __init__(self, queue: str, parent: QWidget | None = None) -> None:
        self.queue = queue
        self.paused_chip = StatusChip("Paused", "warning")
        self.no_workers_chip = StatusChip("No workers", "error")
        self.pause_button = Button("Pause", variant="secondary", button_size="small")
        self.pause_button.setAccessibleName(f"Pause or resume {queue}")
        super().__init__(queue, accessible_name=f"Queue {queue}", actions=[self.pause_button])
        self.setObjectName(f"queueCard-{queue}")
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        badges = QHBoxLayout()
        badges.addWidget(self.paused_chip)
        badges.addWidget(self.no_workers_chip)
        badges.addStretch(1)
        layout.addLayout(badges)
        counts = QGridLayout()
        counts.setHorizontalSpacing(12)
        counts.setVerticalSpacing(2)
        self.count_labels: dict[str, QLabel] = {}
        for index, state in enumerate(CARD_STATES):
            name = QLabel(enum_label(state))
            value = QLabel("0")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setAccessibleName(f"{queue} {enum_label(state)}")
            self.count_labels[state] = value
            row, column = divmod(index, 3)
            counts.addWidget(name, row, column * 2)
            counts.addWidget(value, row, column * 2 + 1)
        layout.addLayout(counts)
        self.chart = BarChart(("done", "failed"), ("success", "danger"))
        self.chart.setAccessibleName(f"{queue} jobs per minute, last hour")
        layout.addWidget(self.chart)
        self.latency = QLabel("")
        self.latency.setAccessibleName(f"{queue} wait and run times")
        layout.addWidget(self.latency)
        buttons = QHBoxLayout()
        self.retry_button = Button("Retry failed…", variant="secondary", button_size="small")
        self.promote_button = Button("Promote scheduled", variant="secondary", button_size="small")
        self.clean_button = Button("Clean…", variant="secondary", button_size="small")
        for button, action in (
            (self.retry_button, "retry_failed"),
            (self.promote_button, "promote_scheduled"),
            (self.clean_button, "clean"),
        ):
            button.setAccessibleName(f"{button.text().rstrip('…')} in {queue}")
            button.clicked.connect(lambda _=False, a=action: self.sig_action.emit(a, self.queue))
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.set_body(body)
        self._paused = False
        self.pause_button.clicked.connect(
            lambda: self.sig_action.emit("resume" if self._paused else "pause", self.queue)
        )
        self.paused_chip.hide()
        self.no_workers_chip.hide()
        self._shown: dict[str, Any] = {
            "paused": False,
            "no_workers": False,
            **{f"count:{state}": "0" for state in CARD_STATES},
        }

    def show_overview(self, overview: Any) -> None:
        """Show ``overview`` (a ``jobs.monitor.QueueOverview``), changing only what differs.

        A refresh never blanks a count, and what did not change is not touched: the card
        remembers what it shows, so an unchanged refresh makes no Qt call at all (each
        one must win the interpreter lock back from the job threads, which is what makes
        a busy UI thread stall, more than its own work).
        """
        for state, label in self.count_labels.items():
            self._set(f"count:{state}", f"{overview.counts.get(state, 0):,}", label.setText)
        self._paused = overview.paused
        self._set("paused", overview.paused, self.paused_chip.setVisible)
        self._set("no_workers", overview.no_workers, self.no_workers_chip.setVisible)
        self._set("pause", "Resume" if overview.paused else "Pause", self.pause_button.setText)
        bars = [(done, dead) for _minute, done, dead in overview.minutes]
        self._set("chart", bars, self.chart.set_values)
        text = (
            f"Wait p50 {milliseconds(overview.wait_p50_ms)} · p95 "
            f"{milliseconds(overview.wait_p95_ms)}   Run p50 "
            f"{milliseconds(overview.run_p50_ms)} · p95 {milliseconds(overview.run_p95_ms)}"
        )
        self._set("latency", text, self.latency.setText)
        self._set("retry", overview.counts.get("dead", 0) > 0, self.retry_button.setEnabled)
        self._set(
            "promote", overview.counts.get("scheduled", 0) > 0, self.promote_button.setEnabled
        )

    def _set(self, key: str, value: Any, apply: Any) -> None:
        """``apply(value)`` unless ``value`` is what ``key`` shows already."""
        if self._shown.get(key, _UNSET) != value:
            self._shown[key] = value
            apply(value)


class OverviewPanel(QWidget):
    """A card per queue in a scrolling grid, sorted by name or by failures.

    Signals:
        sig_action(str, str): a card's action: (action, queue).
    """

    sig_action = Signal(str, str)
    SORTS = ("Name", "Failures")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sort_box = QComboBox()
        self.sort_box.addItems([f"Sort by {s.lower()}" for s in self.SORTS])
        self.sort_box.setAccessibleName("Sort queues")
        self.sort_box.currentIndexChanged.connect(lambda _i: self._arrange())
        self.summary = QLabel("")
        self.summary.setAccessibleName("Queues summary")
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.sort_box)
        self.grid = QGridLayout()
        self.grid.setSpacing(12)
        holder = QWidget()
        holder_layout = QVBoxLayout(holder)
        holder_layout.addLayout(self.grid)
        holder_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(holder)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        self.cards: dict[str, QueueCard] = {}
        self._overviews: dict[str, Any] = {}
        self._order: list[str] = []
        self._summary = ""
        self._latest: Sequence[Any] = ()
        self._more = QTimer(self)  # builds the cards still missing, a few per turn
        self._more.setSingleShot(True)
        self._more.setInterval(0)
        self._more.timeout.connect(lambda: self.show_overviews(self._latest))

    def pending(self) -> int:
        """How many queues of the last refresh still wait for their card."""
        return sum(1 for o in self._latest if o.queue not in self.cards)

    def show_overviews(self, overviews: Sequence[Any]) -> None:
        """Update the cards (new queues get a card; none is rebuilt).

        At most ``CARDS_PER_TURN`` new cards are built per call; the rest follow on the
        next turns of the event loop (with the newest overviews), so the first visit
        never builds every card in one go. The summary counts every queue at once."""
        self._latest = overviews
        built = 0
        for overview in overviews:
            card = self.cards.get(overview.queue)
            if card is None:
                if built >= CARDS_PER_TURN:
                    self._more.start()
                    continue
                built += 1
                card = self.cards[overview.queue] = QueueCard(overview.queue)
                card.sig_action.connect(self.sig_action)
                card.ensurePolished()  # the style sheet's work, now rather than when shown
            card.show_overview(overview)
            self._overviews[overview.queue] = overview
        total = sum(sum(o.counts.values()) for o in overviews)
        failing = sum(o.failures for o in overviews)
        stuck = [o.queue for o in overviews if o.no_workers]
        text = f"{len(overviews)} queues · {total:,} jobs · {failing:,} failing"
        if stuck:
            text += f" · no workers for {', '.join(stuck)}"
        if self._summary != text:
            self._summary = text
            self.summary.setText(text)
        if not self._more.isActive():  # every card is built: lay them out once
            self._arrange()

    def sort_key(self) -> str:
        """ "name" or "failures"."""
        return self.SORTS[self.sort_box.currentIndex()].lower()

    def order(self) -> list[str]:
        """The queues in the order shown."""
        return list(self._order)

    def _arrange(self) -> None:
        names = sorted(self.cards)
        if self.sort_key() == "failures":
            names.sort(key=lambda q: -self._overviews[q].failures if q in self._overviews else 0)
        if names == self._order:
            return
        self._order = names
        for card in self.cards.values():
            self.grid.removeWidget(card)
        for index, name in enumerate(names):
            row, column = divmod(index, 2)
            self.grid.addWidget(self.cards[name], row, column)
