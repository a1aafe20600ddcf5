"""The Overview's cards: a first visit builds them a few per event-loop turn."""

from __future__ import annotations

import types

import pytest
from pytestqt.qtbot import QtBot

from purplecross_desktop.ui.monitor.cards import CARDS_PER_TURN, OverviewPanel

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]

QUEUES = ("reports", "email", "events", "default", "notifications", "reminders", "webhooks")


def overview(queue: str, dead: int = 0) -> types.SimpleNamespace:
    return types.SimpleNamespace(
        queue=queue,
        counts={"completed": 10, "dead": dead},
        paused=False,
        no_workers=False,
        minutes=[(minute, 1, 0) for minute in range(60)],
        wait_p50_ms=1.0,
        wait_p95_ms=2.0,
        run_p50_ms=3.0,
        run_p95_ms=4.0,
        failures=dead,
    )


def test_the_first_visit_builds_a_few_cards_per_turn_then_lays_them_out_once(
    qtbot: QtBot,
) -> None:
    panel = OverviewPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.show_overviews([overview(q) for q in QUEUES])
    assert len(panel.cards) == CARDS_PER_TURN < len(QUEUES)  # the rest on later turns
    assert panel.pending() == len(QUEUES) - CARDS_PER_TURN
    assert panel.summary.text().startswith(f"{len(QUEUES)} queues")  # counted at once
    assert panel.order() == []  # laid out once, when every card is there
    newer = [overview(q, dead=5 if q == "webhooks" else 0) for q in QUEUES]
    panel.show_overviews(newer)  # a refresh meanwhile: the later cards show its values
    qtbot.waitUntil(lambda: panel.pending() == 0)
    assert sorted(panel.cards) == sorted(QUEUES)
    assert panel.order() == sorted(QUEUES)
    assert panel.cards["webhooks"].count_labels["dead"].text() == "5"
    assert all(panel.grid.indexOf(card) >= 0 for card in panel.cards.values())
