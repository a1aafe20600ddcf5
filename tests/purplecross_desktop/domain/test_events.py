"""The event bus: pattern matching, unsubscribe, and failing handlers that break nothing."""

from __future__ import annotations

import logging

import pytest

from purplecross_desktop.domain.events import DomainEvent, EventBus, matches


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("*", "appointment.booked", True),
        ("appointment.*", "appointment.booked", True),
        ("appointment.*", "appointments.booked", False),
        ("appointment.booked", "appointment.booked", True),
        ("appointment.booked", "appointment.cancelled", False),
        ("patient.*", "appointment.booked", False),
    ],
)
def test_patterns(pattern: str, name: str, expected: bool) -> None:
    assert matches(pattern, name) is expected


def test_handlers_get_matching_events_until_unsubscribed() -> None:
    bus = EventBus()
    got: list[str] = []
    stop = bus.subscribe("patient.*", lambda e: got.append(e.name))
    bus.subscribe("appointment.booked", lambda e: got.append("exact:" + e.name))
    bus.publish(DomainEvent("patient.created", "patient", 1, {}))
    bus.publish(DomainEvent("appointment.booked", "appointment", 2, {"patient_id": 1}))
    stop()
    stop()  # twice is harmless
    bus.publish(DomainEvent("patient.updated", "patient", 1, {}))
    assert got == ["patient.created", "exact:appointment.booked"]


def test_a_failing_handler_is_logged_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus()
    got: list[int] = []

    def broken(event: DomainEvent) -> None:
        raise RuntimeError("boom")

    bus.subscribe("*", broken)
    bus.subscribe("*", lambda e: got.append(e.entity_id))
    with caplog.at_level(logging.ERROR, logger="purplecross_desktop.domain.events"):
        bus.publish(DomainEvent("client.created", "client", 7, {}))
    assert got == [7]
    assert "client.created" in caplog.text
    assert "boom" in caplog.text


def test_a_handler_may_unsubscribe_while_being_called() -> None:
    bus = EventBus()
    calls: list[int] = []
    stop = bus.subscribe("*", lambda e: (calls.append(e.entity_id), stop()))
    bus.publish(DomainEvent("client.created", "client", 1, {}))
    bus.publish(DomainEvent("client.created", "client", 2, {}))
    assert calls == [1]
