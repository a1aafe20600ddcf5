"""Durable events: what recording costs a booking, and how soon a durable handler starts.

1. A booking with the event written in its transaction vs the same booking on a bus that
   does not record (``EventBus(durable=False)``), on two identical SQLite files (and on
   PostgreSQL when the server at 127.0.0.1:5432 answers), in interleaved rounds.
2. Event → handler start with the embedded runner (SQLite queue, the workstation
   default): each booking's commit triggers a dispatch job; the handler notes when it is
   called. Bookings are spaced so each one is a fresh trigger, as at a front desk.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import purplecross_desktop.database.models  # noqa: F401  (every table)
from jobs.event_dispatch import DispatchTrigger, DurableHandler, EventHandlers, register
from jobs.platform import JobPlatform, JobsConfig
from jobs.queues import BrokerConfig
from jobs.runner import Runner
from purplecross_desktop.database import Base, make_engine, make_session_factory
from purplecross_desktop.database.base import PatientId, RoomId, StaffId, utcnow
from purplecross_desktop.domain.appointments import Booking
from purplecross_desktop.domain.clients import ClientData
from purplecross_desktop.domain.event_log import StoredEvent
from purplecross_desktop.domain.events import EventBus
from purplecross_desktop.domain.patients import PatientData
from purplecross_desktop.domain.staff import StaffData, StaffRole
from purplecross_desktop.services import Services, build_services

RECORDING_BUDGET = 1.10
LATENCY_BUDGET_S = 1.0
ROUNDS = 7
PER_ROUND = 60
LATENCY_SAMPLES = 60


class Desk:
    """Services on one database with a vet, a room and patients to book."""

    def __init__(self, url: str, durable: bool) -> None:
        self.engine = make_engine(url)
        Base.metadata.create_all(self.engine)
        self.services: Services = build_services(
            make_session_factory(self.engine), EventBus("bench", durable=durable)
        )
        from argon2 import PasswordHasher

        from purplecross_desktop.domain.staff import StaffService

        cheap = StaffService(
            make_session_factory(self.engine),
            self.services.events,
            password_hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
        )
        self.vet = cheap.create(
            StaffData(name="Dr Bench", role=StaffRole.VETERINARIAN, login="bench"), "correct horse"
        ).id
        self.room = self.services.rooms.create("Bench room").id
        client = self.services.clients.create(ClientData(name="Ada", email="ada@example.org"))
        self.patients = [
            self.services.patients.create(
                PatientData(client_id=client.id, name=f"Rex {n}", species="dog")
            ).id
            for n in range(3)
        ]
        self.next_slot = utcnow().replace(microsecond=0) + dt.timedelta(days=2)

    def book(self) -> float:
        starts = self.next_slot
        self.next_slot += dt.timedelta(minutes=30)
        patient = self.patients[int(starts.timestamp() // 1800) % len(self.patients)]
        booking = Booking(
            PatientId(patient),
            StaffId(self.vet),
            RoomId(self.room),
            starts,
            starts + dt.timedelta(minutes=30),
        )
        began = time.perf_counter()
        self.services.appointments.book(booking)
        return time.perf_counter() - began

    def close(self) -> None:
        self.engine.dispose()


def _recording(label: str, url_with: str, url_without: str) -> float:
    with_events, without = Desk(url_with, True), Desk(url_without, False)
    try:
        for desk in (with_events, without):  # warm-up
            for _ in range(10):
                desk.book()
        times: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(ROUNDS):
            for durable, desk in ((False, without), (True, with_events)):
                times[durable].append(
                    statistics.median(desk.book() for _ in range(PER_ROUND)) * 1000
                )
    finally:
        with_events.close()
        without.close()
    base = statistics.median(times[False])
    recorded = statistics.median(times[True])
    ratio = recorded / base
    verdict = "ok" if ratio <= RECORDING_BUDGET else "OVER BUDGET"
    print(
        f"booking on {label}: {recorded:.2f} ms with the event recorded vs {base:.2f} ms without "
        f"(median of {ROUNDS} rounds x {PER_ROUND}) → {ratio:.3f}x "
        f"(budget ≤ {RECORDING_BUDGET:.2f}x) {verdict}"
    )
    return ratio


def _latency(folder: Path) -> float:
    url = f"sqlite:///{folder / 'latency.db'}"
    desk = Desk(url, True)
    broker = BrokerConfig(queue_file=folder / "queue.db")  # embedded defaults
    platform = JobPlatform(JobsConfig(broker=broker, signing_key=b"bench"), desk.engine)
    started: dict[int, float] = {}
    recorded: dict[int, float] = {}
    lock = threading.Lock()

    def handler(event: StoredEvent) -> None:
        with lock:
            started.setdefault(event.id, time.time())

    handlers = EventHandlers()
    handlers.add(DurableHandler("bench", ("appointment.booked",), handler))
    service = register(platform, handlers)
    runner = Runner(platform, embedded=True)
    runner.start()
    trigger = DispatchTrigger(service)
    trigger.attach(desk.services.events)
    desk.services.events.subscribe(
        "appointment.booked",
        lambda e: recorded.__setitem__(e.event_id or 0, time.time()),
    )
    try:
        time.sleep(1.0)
        for _ in range(LATENCY_SAMPLES):
            desk.book()
            time.sleep(0.25)  # a front desk, not a bulk import: every booking a fresh trigger
        deadline = time.monotonic() + 30
        while len(started) < LATENCY_SAMPLES and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        trigger.stop()
        runner.stop()
        platform.close()
        desk.close()
    delays = sorted(started[i] - recorded[i] for i in started if i in recorded)
    p50 = statistics.median(delays)
    p95 = delays[int(len(delays) * 0.95) - 1]
    verdict = "ok" if p95 <= LATENCY_BUDGET_S else "OVER BUDGET"
    print(
        f"event → handler start, embedded runner (SQLite queue): p50 {p50 * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms over {len(delays)} bookings "
        f"(budget p95 ≤ {LATENCY_BUDGET_S:.1f} s) {verdict}"
    )
    return p95


def main() -> int:
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1 and 5 min)")
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ratio = _recording(
            "SQLite", f"sqlite:///{folder / 'with.db'}", f"sqlite:///{folder / 'without.db'}"
        )
        failed += ratio > RECORDING_BUDGET
        try:
            from tests.support.postgres import create_database, drop_database, postgres_available
        except ImportError:
            postgres_available = None  # type: ignore[assignment]
        if postgres_available is not None and postgres_available() is None:
            a, b = create_database(), create_database()
            try:
                failed += _recording("PostgreSQL", a, b) > RECORDING_BUDGET
            finally:
                drop_database(a)
                drop_database(b)
        else:
            print("booking on PostgreSQL: skipped (no server at 127.0.0.1:5432)")
        failed += _latency(folder) > LATENCY_BUDGET_S
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
