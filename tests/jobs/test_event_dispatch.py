"""Durable event delivery: at least once per handler, once after success, across crashes."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

import purplecross_desktop.database.models  # noqa: F401  (every table on Base.metadata)
from jobs.event_dispatch import (
    DispatchTrigger,
    DurableHandler,
    EventDispatcher,
    EventDispatchService,
    EventHandlers,
    register,
)
from jobs.platform import TaskSpec
from jobs.registry import JobRegistry
from purplecross_desktop.database import make_session_factory
from purplecross_desktop.database.base import PatientId, RoomId, StaffId, utcnow
from purplecross_desktop.domain.appointments import Booking
from purplecross_desktop.domain.clients import ClientData
from purplecross_desktop.domain.event_log import DELIVERY, EVENT, HANDLER_STATE, StoredEvent
from purplecross_desktop.domain.events import EventBus
from purplecross_desktop.domain.patients import PatientData
from purplecross_desktop.domain.staff import StaffData, StaffRole
from purplecross_desktop.services import Services, build_services
from tests.jobs.conftest import Harness, wait_until
from tests.support.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def _services(harness: Harness, desk: str = "desk-1") -> Services:
    return build_services(make_session_factory(harness.engine), EventBus(desk))


def _clinic(services: Services) -> tuple[int, int, int]:
    """A vet, a room and a patient; returns their ids."""
    vet = services.staff.create(
        StaffData(name="Dr Who", role=StaffRole.VETERINARIAN, login=f"vet{time.time_ns()}"),
        "correct horse",
    )
    room = services.rooms.create(f"Room {time.time_ns()}")
    client = services.clients.create(ClientData(name="Ada", email="ada@example.org"))
    patient = services.patients.create(PatientData(client_id=client.id, name="Rex", species="dog"))
    return vet.id, room.id, patient.id


def _book(services: Services, ids: tuple[int, int, int], hours: float) -> int:
    vet, room, patient = ids
    starts = utcnow() + dt.timedelta(hours=hours)
    booking = Booking(
        PatientId(patient), StaffId(vet), RoomId(room), starts, starts + dt.timedelta(minutes=30)
    )
    return services.appointments.book(booking).id


class Recorder:
    """A handler that remembers what it saw (thread-safe)."""

    def __init__(self, fail: int = 0, delay: float = 0.0) -> None:
        self.seen: list[StoredEvent] = []
        self.fail = fail
        self.delay = delay
        self.lock = threading.Lock()
        self.started_at: dict[int, float] = {}

    def __call__(self, event: StoredEvent) -> list[str]:
        with self.lock:
            self.started_at.setdefault(event.id, time.time())
            self.seen.append(event)
            if self.fail:
                self.fail -= 1
                raise RuntimeError("handler down")
        if self.delay:
            time.sleep(self.delay)
        return [f"job-for-{event.id}"]

    def names(self) -> list[str]:
        return [e.name for e in self.seen]


def _deliveries(harness: Harness, handler: str) -> dict[int, dict[str, object]]:
    with harness.engine.connect() as conn:
        rows = conn.execute(sa.select(DELIVERY).where(DELIVERY.c.handler == handler)).mappings()
        return {int(r["event_id"]): dict(r) for r in rows}


def test_each_handler_gets_each_matching_event_once_after_success(
    any_db_harness: Harness,
) -> None:
    services = _services(any_db_harness)
    ids = _clinic(services)
    appointment = _book(services, ids, 3)
    services.appointments.cancel(appointment, "owner rang")
    handlers = EventHandlers()
    appointments, everything = Recorder(), Recorder()
    handlers.add(DurableHandler("appointments", ("appointment.*",), appointments))
    handlers.add(DurableHandler("audit-copy", ("*",), everything))
    dispatcher = EventDispatcher(any_db_harness.engine, handlers)
    first = dispatcher.dispatch()
    dispatcher.dispatch()
    dispatcher.dispatch()
    assert appointments.names() == [
        "appointment.booked",
        "appointment.status_changed",
        "appointment.cancelled",
    ]
    all_names = everything.names()
    assert Counter(all_names)["appointment.booked"] == 1
    assert {"staff.created", "room.created", "client.created", "patient.created"} <= set(all_names)
    assert len(all_names) == len({e.id for e in everything.seen})
    assert first.delivered == len(appointments.seen) + len(everything.seen)
    done = _deliveries(any_db_harness, "appointments")
    assert {d["state"] for d in done.values()} == {"done"}
    booked = appointments.seen[0]
    assert done[booked.id]["job_ids"] == [f"job-for-{booked.id}"]  # the job links to its event


def test_a_failing_handler_is_retried_after_a_back_off_and_buried_after_its_attempts(
    any_db_harness: Harness,
) -> None:
    services = _services(any_db_harness)
    ids = _clinic(services)
    _book(services, ids, 3)
    clock = Clock()
    handlers = EventHandlers()
    flaky = Recorder(fail=1)
    broken = Recorder(fail=100)
    fine = Recorder()
    handlers.add(DurableHandler("flaky", ("appointment.booked",), flaky))
    handlers.add(DurableHandler("broken", ("appointment.booked",), broken, max_attempts=2))
    handlers.add(DurableHandler("fine", ("appointment.booked",), fine))
    dispatcher = EventDispatcher(any_db_harness.engine, handlers, clock=clock)
    report = dispatcher.dispatch()
    assert (report.delivered, report.failed, report.dead) == (1, 2, 0)
    dispatcher.dispatch()  # within the back-off: nobody is called again
    assert (len(flaky.seen), len(broken.seen), len(fine.seen)) == (1, 1, 1)
    failed = _deliveries(any_db_harness, "flaky")
    (row,) = failed.values()
    assert row["state"] == "failed"
    assert row["error"] == "RuntimeError: handler down"
    clock.advance(2.5)
    report = dispatcher.dispatch()
    assert (report.delivered, report.dead) == (1, 1)
    assert (len(flaky.seen), len(broken.seen), len(fine.seen)) == (2, 2, 1)
    (dead,) = _deliveries(any_db_harness, "broken").values()
    assert (dead["state"], dead["attempts"]) == ("dead", 2)
    clock.advance(3600)
    dispatcher.dispatch()
    assert (len(flaky.seen), len(broken.seen), len(fine.seen)) == (2, 2, 1)


DIE_MID_HANDLER = textwrap.dedent(
    """
    import os, sys
    import purplecross_desktop.database.models
    from jobs.event_dispatch import DurableHandler, EventDispatcher, EventHandlers
    from purplecross_desktop.database import make_engine

    engine = make_engine(sys.argv[1])
    handlers = EventHandlers()

    def die(event):
        print(event.id, flush=True)
        os._exit(9)  # killed in the middle of the handler, before anything is recorded

    handlers.add(DurableHandler("reminders", ("appointment.booked",), die))
    EventDispatcher(engine, handlers, lease=0.5).dispatch()
    """
)


def test_an_event_whose_handler_died_mid_call_is_delivered_again_after_the_lease(
    any_db_harness: Harness,
) -> None:
    services = _services(any_db_harness)
    appointment = _book(services, _clinic(services), 3)
    url = any_db_harness.engine.url.render_as_string(hide_password=False)
    died = subprocess.run(
        [sys.executable, "-c", DIE_MID_HANDLER, url],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert died.returncode == 9, died.stderr
    event_id = int(died.stdout.strip())
    handlers = EventHandlers()
    again = Recorder()
    handlers.add(DurableHandler("reminders", ("appointment.booked",), again))
    dispatcher = EventDispatcher(any_db_harness.engine, handlers)
    dispatcher.dispatch()
    assert again.seen == []  # the dead process's lease still holds
    time.sleep(0.6)
    dispatcher.dispatch()
    dispatcher.dispatch()
    assert [(e.id, e.entity_id) for e in again.seen] == [(event_id, appointment)]
    (row,) = _deliveries(any_db_harness, "reminders").values()
    assert (row["state"], row["attempts"]) == ("done", 2)


def test_two_dispatchers_at_once_deliver_each_event_once(any_db_harness: Harness) -> None:
    services = _services(any_db_harness)
    ids = _clinic(services)
    for n in range(12):
        _book(services, ids, 3 + n)
    handlers = EventHandlers()
    seen = Recorder(delay=0.01)
    handlers.add(DurableHandler("reminders", ("appointment.booked",), seen))
    dispatchers = [EventDispatcher(any_db_harness.engine, handlers, batch=5) for _ in range(2)]
    threads = [threading.Thread(target=d.dispatch) for d in dispatchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counts = Counter(e.id for e in seen.seen)
    assert len(counts) == 12
    assert set(counts.values()) == {1}


def test_the_watermark_passes_settled_old_events_only(any_db_harness: Harness) -> None:
    services = _services(any_db_harness)
    ids = _clinic(services)
    first, second, third = (_book(services, ids, h) for h in (3, 4, 5))
    booked = {
        e.entity_id: e.id
        for e in (StoredEvent.from_row(r) for r in _all_events(any_db_harness))
        if e.name == "appointment.booked"
    }
    clock = Clock()
    seen: list[int] = []
    second_works = threading.Event()

    def handler(event: StoredEvent) -> None:
        if event.entity_id == second and not second_works.is_set():
            raise RuntimeError("not now")
        seen.append(event.entity_id)

    handlers = EventHandlers()
    handlers.add(DurableHandler("h", ("appointment.booked",), handler))
    dispatcher = EventDispatcher(any_db_harness.engine, handlers, horizon=60, clock=clock)

    def watermark() -> int:
        with any_db_harness.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(HANDLER_STATE.c.watermark).where(HANDLER_STATE.c.handler == "h")
                ).scalar_one()
            )

    dispatcher.dispatch()
    assert watermark() == 0  # everything is younger than the horizon
    clock.advance(120)
    dispatcher.dispatch()
    assert watermark() == booked[second] - 1  # held just below the failing event
    second_works.set()
    clock.advance(600)
    dispatcher.dispatch()
    assert watermark() >= booked[third]  # retried, done: passed (with the other old events)
    assert seen == [first, third, second]


def _all_events(harness: Harness) -> list[sa.Row[object]]:
    with harness.engine.connect() as conn:
        return list(conn.execute(sa.select(EVENT).order_by(EVENT.c.id)))


def test_a_handler_added_later_from_now_sees_only_newer_events(any_db_harness: Harness) -> None:
    services = _services(any_db_harness)
    ids = _clinic(services)
    _book(services, ids, 3)
    handlers = EventHandlers()
    webhook = Recorder()
    handlers.add(DurableHandler("webhook", ("*",), webhook, from_start=False))
    dispatcher = EventDispatcher(any_db_harness.engine, handlers)
    dispatcher.dispatch()
    assert webhook.seen == []
    later = _book(services, ids, 4)
    dispatcher.dispatch()
    assert [(e.name, e.entity_id) for e in webhook.seen] == [("appointment.booked", later)]


def test_names_must_be_unique_and_patterns_given() -> None:
    handlers = EventHandlers()
    handlers.add(DurableHandler("a", ("*",), Recorder()))
    with pytest.raises(ValueError, match="name: a durable handler 'a' is already registered"):
        handlers.add(DurableHandler("a", ("client.*",), Recorder()))
    with pytest.raises(ValueError, match="patterns: at least one"):
        DurableHandler("b", (), Recorder())


# --- on the job platform -------------------------------------------------------------


def _runtime(
    harness: Harness, redis_url: str | None = None
) -> tuple[Recorder, EventDispatchService]:
    platform = harness.platform(redis_url)
    handlers = EventHandlers()
    seen = Recorder()
    handlers.add(DurableHandler("reminders", ("appointment.booked",), seen))
    service = register(platform, handlers, horizon=1.0)
    harness.runner(platform)
    return seen, service


BOOK_AND_DIE = textwrap.dedent(
    """
    import datetime as dt, os, sys
    import purplecross_desktop.database.models
    from purplecross_desktop.database import make_engine, make_session_factory
    from purplecross_desktop.database.base import PatientId, RoomId, StaffId, utcnow
    from purplecross_desktop.domain.appointments import Booking
    from purplecross_desktop.domain.events import EventBus
    from purplecross_desktop.services import build_services

    services = build_services(make_session_factory(make_engine(sys.argv[1])), EventBus("desk-2"))
    vet, room, patient = (int(x) for x in sys.argv[2:5])
    starts = utcnow() + dt.timedelta(hours=30)
    booking = Booking(
        PatientId(patient), StaffId(vet), RoomId(room), starts, starts + dt.timedelta(minutes=20)
    )
    appointment = services.appointments.book(booking)
    print(appointment.id, flush=True)
    os._exit(0)  # killed right after the commit: no in-process listener ever ran
    """
)


def test_a_booking_whose_app_died_right_after_the_commit_is_still_delivered(
    any_db_harness: Harness,
) -> None:
    services = _services(any_db_harness)
    ids = _clinic(services)
    url = any_db_harness.engine.url.render_as_string(hide_password=False)
    died = subprocess.run(
        [sys.executable, "-c", BOOK_AND_DIE, url, *(str(i) for i in ids)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert died.returncode == 0, died.stderr
    appointment = int(died.stdout.strip())
    seen, service = _runtime(any_db_harness)
    trigger = DispatchTrigger(service)  # what every app and worker starts: it polls at once
    trigger.start()
    try:
        wait_until(lambda: [e.entity_id for e in seen.seen] == [appointment])
    finally:
        trigger.stop()
    assert seen.seen[0].workstation == "desk-2"


@pytest.mark.redis
def test_commits_trigger_a_dispatch_and_bursts_coalesce(
    any_db_harness: Harness, redis_server: RedisServer
) -> None:
    # A private server: a runner another test leaked on the shared one would take messages.
    seen, service = _runtime(any_db_harness, redis_server.url)
    services = _services(any_db_harness)
    trigger = DispatchTrigger(service, poll_interval=3600)  # commits only, no polls
    trigger.attach(services.events)
    try:
        ids = _clinic(services)
        booked = [_book(services, ids, 3 + n) for n in range(25)]
        wait_until(lambda: sorted(e.entity_id for e in seen.seen) == sorted(booked))
    finally:
        trigger.stop()
    registry = JobRegistry(service.platform)
    service.platform.writer.flush()
    dispatches = registry.search(task="events.dispatch", limit=1000)
    assert 1 <= len(dispatches) < 25 + 4  # one per burst, not one per event
    assert Counter(e.id for e in seen.seen).most_common(1)[0][1] == 1


def test_a_poll_delivers_what_another_desk_wrote_and_an_idle_clinic_adds_no_jobs(
    harness: Harness,
) -> None:
    seen, service = _runtime(harness)
    registry = JobRegistry(service.platform)
    other_desk = _services(harness, "desk-2")  # no trigger on its bus: only a poll can see it
    ids = _clinic(other_desk)
    trigger = DispatchTrigger(service, poll_interval=0.2)
    trigger.start()
    try:
        appointment = _book(other_desk, ids, 3)
        wait_until(lambda: [e.entity_id for e in seen.seen] == [appointment])
        service.platform.writer.flush()
        wait_until(lambda: registry.counts().get("events", {}).get("completed"))
        jobs_then = len(registry.search(task="events.dispatch", limit=100))
        time.sleep(1.0)  # five polls with nothing due
        service.platform.writer.flush()
        assert len(registry.search(task="events.dispatch", limit=100)) == jobs_then
    finally:
        trigger.stop()


def test_retention_deletes_events_older_than_the_setting_with_their_deliveries(
    any_db_harness: Harness,
) -> None:
    services = _services(any_db_harness)
    ids = _clinic(services)
    old, young = _book(services, ids, 3), _book(services, ids, 4)
    handlers = EventHandlers()
    handlers.add(DurableHandler("appointments", ("appointment.*",), Recorder()))
    platform = any_db_harness.platform()
    service = EventDispatchService(
        platform, EventDispatcher(any_db_harness.engine, handlers), retention_days=30
    )
    service.dispatcher.dispatch()
    with any_db_harness.engine.begin() as conn:
        conn.execute(  # the first booking's events were recorded 31 days ago
            sa.update(EVENT)
            .where(EVENT.c.entity == "appointment", EVENT.c.entity_id == old)
            .values(recorded_at=utcnow() - dt.timedelta(days=31))
        )
        conn.execute(  # and the second's 29 days ago: within the retention
            sa.update(EVENT)
            .where(EVENT.c.entity == "appointment", EVENT.c.entity_id == young)
            .values(recorded_at=utcnow() - dt.timedelta(days=29))
        )
    assert service.purge() == 1
    with any_db_harness.engine.connect() as conn:
        left = {
            r.entity_id
            for r in conn.execute(
                sa.select(EVENT.c.entity_id).where(EVENT.c.entity == "appointment")
            )
        }
        orphans = conn.execute(
            sa.select(sa.func.count())
            .select_from(DELIVERY)
            .where(DELIVERY.c.event_id.not_in(sa.select(EVENT.c.id)))
        ).scalar()
    assert left == {young}
    assert orphans == 0
    with pytest.raises(ValueError, match="event_retention_days: must be at least 1"):
        EventDispatchService(platform, service.dispatcher, retention_days=0)


def test_jobs_a_handler_enqueues_link_to_the_event_that_caused_them(
    any_db_harness: Harness,
) -> None:
    platform = any_db_harness.platform()
    platform.register(TaskSpec("test.noop", lambda *a: None, "reminders"))

    def enqueue_one(event: StoredEvent) -> list[str]:
        return [platform.enqueue("reminders", "test.noop", event.entity_id)]

    handlers = EventHandlers()
    handlers.add(DurableHandler("linker", ("appointment.booked",), enqueue_one))
    services = _services(any_db_harness)
    appointment = _book(services, _clinic(services), 3)
    EventDispatcher(any_db_harness.engine, handlers).dispatch()
    unrelated = platform.enqueue("reminders", "test.noop", 0)  # not caused by any event
    platform.writer.flush()
    with any_db_harness.engine.connect() as conn:
        booked = conn.execute(
            sa.select(EVENT.c.id).where(
                EVENT.c.name == "appointment.booked", EVENT.c.entity_id == appointment
            )
        ).scalar_one()
    registry = JobRegistry(platform)
    caused = registry.search(event=booked)
    assert [j.args for j in caused] == [[appointment]]
    assert caused[0].event_id == booked
    assert registry.get(unrelated).job.event_id is None
    assert _deliveries(any_db_harness, "linker")[booked]["job_ids"] == [caused[0].id]
