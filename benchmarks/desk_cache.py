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
from collections import Counter, defaultdict
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
#: Why writes were refused (double bookings are expected: desks pick slots at random).
_REFUSED: Counter[str] = Counter()


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
        late_today = self.end - dt.timedelta(hours=1)
        self.booker = AppointmentService(factory, self.bus, clock=lambda: late_today)


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
                rng = random.Random(number)  # the same script for both modes...
                # ...booking on days of its own, so one mode's bookings never refuse the other's
                booking_day = 1 + 2 * number + (mode == "on")
                writes[mode] += _morning(desks, rng, patients, timings[mode], booking_day)
        hits = sum(t.hits for c in caches for t in c.stats().tiers if t.name == "redis")
        misses = sum(t.misses for c in caches for t in c.stats().tiers if t.name == "redis")
        singles = _single_reads(on[0], off[0], patients)
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
    print(
        f"  writes refused (double bookings, check-ins of moved-on rows): {sum(_REFUSED.values())}"
    )
    for reason, count in _REFUSED.most_common(2):
        print(f"  refused {count}x: {reason}")
    print("\nEach read alone, between writes (a hit when cached), ms p50 / p95:")
    for name, (p_off, p_on) in singles.items():
        print(
            f"  {name:<22}{p_off[0]:>8.2f} /{p_off[1]:>6.2f}{p_on[0]:>10.2f} /{p_on[1]:>6.2f}"
            f"{p_off[0] / p_on[0]:>10.1f}x"
        )
    print(f"  cache hit rate {hits / max(1, hits + misses):.0%} ({hits:,} hits, {misses:,} misses)")
    return 0


def _morning(
    desks: list[Desk],
    rng: random.Random,
    patients: list[int],
    timings: dict[str, list[float]],
    booking_day: int,
) -> int:
    """Every desk does ``STEPS_PER_DESK`` steps, taking turns; returns the writes made."""
    writes = 0
    for _step in range(STEPS_PER_DESK):
        for desk in desks:
            writes += _step_of(desk, rng, patients, timings, booking_day)
    return writes


def _step_of(
    desk: Desk,
    rng: random.Random,
    patients: list[int],
    timings: dict[str, list[float]],
    booking_day: int,
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
            except DomainError as exc:
                _REFUSED[type(exc).__name__ + ": " + str(exc)[:80]] += 1
                return 0
        return 0
    if roll < 0.88:
        text = rng.choice(["smi", "bel", "max", "ada", "07", "jon", "ro", "lu"])
        vets, rooms, _found = timed(
            "Booking", lambda: (front.vets(), front.rooms(), front.find_patients(text))
        )
        if not vets or not rooms:
            return 0
        day = desk.start + dt.timedelta(days=booking_day)
        starts = day + dt.timedelta(hours=rng.randrange(8, 18), minutes=15 * rng.randrange(4))
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
        except DomainError as exc:
            _REFUSED[type(exc).__name__ + ": " + str(exc)[:80]] += 1
            return 0
    timed("Checkout", lambda: (front.appointment_card(row.id), front.price_items()))
    return 0


def _single_reads(
    on: Desk, off: Desk, patients: list[int], calls: int = 200
) -> dict[str, tuple[tuple[float, float], tuple[float, float]]]:
    """Each read of the desk alone, interleaved on/off, to tell which ones pay."""
    rows = off.services.front_desk.board(off.start, off.end)
    client = rows[0].client_id if rows else 1
    reads: dict[str, Callable[[Any], Any]] = {
        "board probe (poll)": lambda q: q.board_probe(on.start, on.end),
        "board": lambda q: q.board(on.start, on.end),
        "vets + rooms": lambda q: (q.vets(), q.rooms()),
        "price list": lambda q: q.price_items(),
        "client balance": lambda q: q.client_balance(client),
    }
    result = {}
    for name, read in reads.items():
        samples: dict[str, list[float]] = {"off": [], "on": []}
        for _ in range(calls):
            for mode, desk in (("off", off), ("on", on)):
                started = time.perf_counter()
                read(desk.services.front_desk)
                samples[mode].append((time.perf_counter() - started) * 1000)
        result[name] = (_p(samples["off"]), _p(samples["on"]))
    return result


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
