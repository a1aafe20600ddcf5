"""A front-desk morning against PostgreSQL and a private Redis, cache on and off in one run.

Four workstations take turns (one step each, round robin), each with its own services,
event bus, cache service and invalidation wiring, as four app processes would have. A
desk's step loads the data of one screen the way the screen does (Today, its poll,
check-in, the booking dialog with a patient search, checkout) or writes (books, checks in),
and every write invalidates what it touches on every desk through the shared Redis. Each
round replays the same script twice, cache on and cache off, interleaved, so both see the
same database and the same load on the machine. Figures: page-data load p50/p95 per screen
and the cache's hit rate.

Sizes: ``PURPLECROSS_BENCH_DESK_CACHE=5000,8000,30000`` (clients, patients, appointments);
rounds: ``PURPLECROSS_BENCH_DESK_CACHE_ROUNDS=6``. Needs PostgreSQL at
``PURPLECROSS_TEST_POSTGRES_URL`` (a throwaway database is created and dropped).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from cache import CacheService
from purplecross_desktop.cache_wiring import namespace_for_database, wire_cache_invalidation
from purplecross_desktop.database.base import AppointmentId, PatientId, StaffId
from purplecross_desktop.database.session import make_engine, make_session_factory, upgrade
from purplecross_desktop.demo import generate_demo_data
from purplecross_desktop.domain.appointments import (
    Appointment,
    AppointmentService,
    AppointmentStatus,
    Booking,
)
from purplecross_desktop.domain.errors import DomainError
from purplecross_desktop.domain.events import EventBus
from purplecross_desktop.domain.patients import Patient
from purplecross_desktop.services import Services, build_services
from tests.support.postgres import create_database, drop_database, require_postgres
from tests.support.redis_server import RedisServer

DESKS = 4
STEPS_PER_DESK = 40
SCREENS = ("Today", "Today poll", "Check-in", "Booking", "Checkout")


class Desk:
    """One workstation: its services (through its cache, or not), and the day it shows."""

    def __init__(self, name: str, factory: Any, cache: CacheService | None, day: dt.date) -> None:
        self.bus = EventBus(name)
        self.cache = cache
        if cache is not None:
            wire_cache_invalidation(self.bus, cache)
        self.services: Services = build_services(factory, self.bus, cache=cache)
        self.start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
        self.end = self.start + dt.timedelta(days=1)
        tomorrow = self.end
        self.booker = AppointmentService(
            factory, self.bus, clock=lambda: tomorrow - dt.timedelta(hours=1)
        )


def main() -> int:
    try:
        require_postgres()
    except BaseException as exc:  # pytest's skip outside pytest
        print(f"skipped: {exc}")
        return 0
    sizes = tuple(
        int(p) for p in os.environ.get("PURPLECROSS_BENCH_DESK_CACHE", "5000,8000,30000").split(",")
    )
    rounds = int(os.environ.get("PURPLECROSS_BENCH_DESK_CACHE_ROUNDS", "6"))
    url = create_database()
    redis_server = RedisServer()
    redis_server.start()
    try:
        upgrade(url)
        summary = generate_demo_data(
            url, clients=sizes[0], patients=sizes[1], appointments=sizes[2], seed=1
        )
        print(
            f"PostgreSQL demo clinic: {sizes[0]:,} clients, {sizes[1]:,} patients, "
            f"{sizes[2]:,} appointments ({summary.seconds:.0f} s); private redis-server on "
            f"port {redis_server.port}; {DESKS} desks x {STEPS_PER_DESK} steps x {rounds} "
            f"rounds; load: {Path('/proc/loadavg').read_text().strip()}"
        )
        return _replay(url, redis_server.url, rounds)
    finally:
        redis_server.cleanup()
        drop_database(url)


def _replay(url: str, redis_url: str, rounds: int) -> int:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with engine.connect() as conn:
        day = _busiest_recent_day(conn)
        patients = list(conn.scalars(sa.select(Patient.id).where(Patient.deceased.is_(False))))
    folder = Path(tempfile.mkdtemp(prefix="pc-bench-desk-cache-"))
    namespace = namespace_for_database(url)
    caches = [
        CacheService(redis_url, folder / f"desk{n}", namespace=namespace) for n in range(DESKS)
    ]
    on = [Desk(f"desk {n}", factory, caches[n], day) for n in range(DESKS)]
    off = [Desk(f"desk {n}", factory, None, day) for n in range(DESKS)]
    timings: dict[str, dict[str, list[float]]] = {"on": defaultdict(list), "off": defaultdict(list)}
    writes = {"on": 0, "off": 0}
    try:
        for number in range(rounds):
            for mode, desks in (
                (("on", on), ("off", off))
                if number % 2
                else (
                    ("off", off),
                    ("on", on),
                )
            ):
                rng = random.Random(number)  # the same script for both modes
                writes[mode] += _morning(desks, rng, patients, timings[mode])
        hits = sum(t.hits for c in caches for t in c.stats().tiers if t.name == "redis")
        misses = sum(t.misses for c in caches for t in c.stats().tiers if t.name == "redis")
    finally:
        for cache in caches:
            cache.close()
        engine.dispose()
    print(f"\nPage-data load on day {day}, ms (p50 / p95), {writes['on']} writes per mode:")
    print(f"  {'screen':<14}{'cache off':>18}{'cache on':>18}{'p50 speed-up':>14}")
    for screen in SCREENS:
        p_off, p_on = _p(timings["off"][screen]), _p(timings["on"][screen])
        print(
            f"  {screen:<14}{p_off[0]:>9.2f} /{p_off[1]:>6.2f}{p_on[0]:>11.2f} /{p_on[1]:>6.2f}"
            f"{p_off[0] / p_on[0]:>13.1f}x"
        )
    every_off = [v for s in SCREENS for v in timings["off"][s]]
    every_on = [v for s in SCREENS for v in timings["on"][s]]
    print(
        f"  {'all screens':<14}{_p(every_off)[0]:>9.2f} /{_p(every_off)[1]:>6.2f}"
        f"{_p(every_on)[0]:>11.2f} /{_p(every_on)[1]:>6.2f}"
    )
    print(f"  cache hit rate {hits / max(1, hits + misses):.0%} ({hits:,} hits, {misses:,} misses)")
    return 0


def _morning(
    desks: list[Desk], rng: random.Random, patients: list[int], timings: dict[str, list[float]]
) -> int:
    """Every desk does ``STEPS_PER_DESK`` steps, taking turns; returns the writes made."""
    writes = 0
    for _step in range(STEPS_PER_DESK):
        for desk in desks:
            writes += _step_of(desk, rng, patients, timings)
    return writes


def _step_of(
    desk: Desk, rng: random.Random, patients: list[int], timings: dict[str, list[float]]
) -> int:
    front = desk.services.front_desk

    def timed(screen: str, load: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        result = load()
        timings[screen].append((time.perf_counter() - started) * 1000)
        return result

    roll = rng.random()
    if roll < 0.45:  # the board polls every 3 s on every desk: the commonest read by far
        timed("Today poll", lambda: front.board_probe(desk.start, desk.end))
        return 0
    if roll < 0.55:
        timed(
            "Today",
            lambda: (front.board_probe(desk.start, desk.end), front.board(desk.start, desk.end)),
        )
        return 0
    rows = front.board(desk.start, desk.end)
    if not rows:
        return 0
    row = rng.choice(rows)
    if roll < 0.68:
        timed("Check-in", lambda: front.appointment_card(row.id))
        if row.status in (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED):
            try:
                desk.services.appointments.check_in(AppointmentId(row.id))
                return 1
            except DomainError:
                return 0
        return 0
    if roll < 0.88:
        text = rng.choice(["smi", "bel", "max", "ada", "07", "jon", "ro", "lu"])
        vets, rooms, _found = timed(
            "Booking", lambda: (front.vets(), front.rooms(), front.find_patients(text))
        )
        if not vets or not rooms:
            return 0
        starts = desk.end + dt.timedelta(hours=rng.randrange(8, 18), minutes=15 * rng.randrange(4))
        try:
            desk.booker.book(
                Booking(
                    patient_id=PatientId(rng.choice(patients)),
                    vet_id=StaffId(rng.choice(vets).id),
                    room_id=rng.choice(rooms).id,
                    starts_at=starts,
                    ends_at=starts + dt.timedelta(minutes=15),
                )
            )
            return 1
        except DomainError:
            return 0
    timed("Checkout", lambda: (front.appointment_card(row.id), front.price_items()))
    return 0


def _busiest_recent_day(conn: sa.Connection) -> dt.date:
    today = dt.datetime.now(dt.UTC).date()
    best, count = today, -1
    for back in range(7):
        day = today - dt.timedelta(days=back)
        start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
        n = conn.scalar(
            sa.select(sa.func.count()).where(
                Appointment.starts_at >= start, Appointment.starts_at < start + dt.timedelta(days=1)
            )
        )
        if (n or 0) > count:
            best, count = day, int(n or 0)
    return best


def _p(values: list[float]) -> tuple[float, float]:
    if not values:
        return float("nan"), float("nan")
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


if __name__ == "__main__":
    raise SystemExit(main())
