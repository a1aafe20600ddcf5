"""Workflows: trigger matching of 10k events against 100 enabled workflows, and a booking
with 20 enabled workflows against one with none.

The engine's path (``TriggerIndex.match``: the candidates of the event's name, then each
candidate's compiled ``when``) against a bare Python loop doing the same comparisons on
conditions precompiled to ``(event name, [(key, operator function, value)])`` tuples,
over the same events, in interleaved rounds (median of 7). Both must find the same
matches. The budget (DESIGN.md) is ≤ 2x the bare loop.

The booking is timed on two SQLite files alike but for 20 enabled workflows (each on
``appointment.booked`` or another appointment event) in one, in interleaved rounds:
matching happens in the dispatcher, never in the booking's transaction, so the budget
(≤ 1.10x) holds by construction and this measures that it stays so.
"""

from __future__ import annotations

import datetime as dt
import operator
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from purplecross_desktop.workflows import catalogue
from purplecross_desktop.workflows.document import Document
from purplecross_desktop.workflows.matching import Matcher, TriggerIndex

EVENTS = 10_000
WORKFLOWS = 100
ROUNDS = 7
BUDGET = 2.0
STATUSES = ("scheduled", "confirmed", "arrived", "completed", "no_show", "cancelled", "open")


#: Events that carry a status and a client (appointments, invoices, reminders).
NAMES = [n for n, keys in catalogue.EVENTS.items() if {"status", "client_id"} <= set(keys)]


def _workflows(rng: random.Random) -> list[tuple[str, str, str, int]]:
    """(event, status wanted, op on client_id, threshold) per workflow."""
    names = NAMES
    return [
        (rng.choice(names), rng.choice(STATUSES), rng.choice(("gt", "lte")), rng.randrange(1000))
        for _ in range(WORKFLOWS)
    ]


def _documents(specs: list[tuple[str, str, str, int]]) -> list[Document]:
    out = []
    for n, (event, status, op, threshold) in enumerate(specs):
        out.append(
            Document.from_data(
                {
                    "name": f"Flow {n}",
                    "trigger": {
                        "type": "event",
                        "event": event,
                        "when": {
                            "all": [
                                {"field": "trigger.status", "op": "eq", "value": status},
                                {"field": "trigger.client_id", "op": op, "value": threshold},
                            ]
                        },
                    },
                    "steps": [{"id": "done", "action": "stop"}],
                    "settings": {"enabled": True},
                }
            )
        )
    return out


def _events(rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    names = list(catalogue.EVENTS)  # every event the clinic emits, most with no workflow
    return [
        (
            rng.choice(names),
            {"status": rng.choice(STATUSES), "client_id": rng.randrange(1000), "patient_id": 7},
        )
        for _ in range(EVENTS)
    ]


BOOKING_BUDGET = 1.10
BOOK_ROUNDS = 7
BOOK_PER_ROUND = 30


def _booking() -> float:
    import tempfile
    from pathlib import Path

    from benchmarks.events import Desk

    folder = Path(tempfile.mkdtemp(prefix="bench-workflows-"))
    plain = Desk(f"sqlite:///{folder / 'none.db'}", True)
    busy = Desk(f"sqlite:///{folder / 'twenty.db'}", True)
    events = [n for n in catalogue.EVENTS if n.startswith("appointment.")]
    for n in range(20):
        document = Document.from_data(
            {
                "name": f"Flow {n}",
                "trigger": {"type": "event", "event": events[n % len(events)]},
                "steps": [{"id": "done", "action": "stop"}],
                "settings": {"enabled": True},
            }
        )
        busy.services.workflows.save(document)
    try:
        for desk in (plain, busy):
            for _ in range(10):
                desk.book()
        times: dict[str, list[float]] = {"none": [], "twenty": []}
        for _ in range(BOOK_ROUNDS):
            for label, desk in (("none", plain), ("twenty", busy)):
                times[label].append(
                    statistics.median(desk.book() for _ in range(BOOK_PER_ROUND)) * 1000
                )
    finally:
        plain.close()
        busy.close()
    base, loaded = statistics.median(times["none"]), statistics.median(times["twenty"])
    ratio = loaded / base
    print(
        f"booking with 20 enabled workflows {loaded:6.2f} ms vs none {base:6.2f} ms "
        f"(median of {BOOK_ROUNDS} x {BOOK_PER_ROUND}) → {ratio:.3f}x (budget ≤ {BOOKING_BUDGET}x)"
    )
    return ratio


STEP_BUDGET = 2.0
STEPS = 40  # x2 with the else branches: the document limit is 200 steps
STEP_ROUNDS = 7


def _step_overhead() -> float:
    """A 40-step run against a chain of 40 tracked no-op jobs that each enqueue the next,
    on the same platform (Redis broker, SQLite registry), one worker thread."""
    import tempfile
    import threading
    from pathlib import Path

    import purplecross_desktop.database.models  # noqa: F401
    from jobs.event_dispatch import EventHandlers
    from jobs.platform import JobPlatform, JobsConfig, TaskSpec
    from jobs.queues import WORKFLOWS, BrokerConfig
    from jobs.runner import Runner
    from jobs.workflows import register
    from purplecross_desktop.database import Base, make_engine, make_session_factory
    from purplecross_desktop.domain.events import EventBus
    from purplecross_desktop.services import build_services
    from purplecross_desktop.workflows.models import RUN
    from tests.support.redis_server import RedisServer

    server = RedisServer()
    server.start()
    folder = Path(tempfile.mkdtemp(prefix="bench-steps-"))
    engine = make_engine(f"sqlite:///{folder / 'clinic.db'}")
    Base.metadata.create_all(engine)
    config = JobsConfig(
        broker=BrokerConfig(redis_url=server.url, queue_file=folder / "q.db", read_timeout=0.2),
        signing_key=b"bench",
        maintenance_interval=0.5,
    )
    platform = JobPlatform(config, engine)
    services = build_services(make_session_factory(engine), EventBus("bench"))
    workflows = register(platform, services, EventHandlers())
    finished = threading.Event()
    chain_end: list[float] = []

    def chain(i: int, tag: str) -> None:
        if i >= STEPS:
            chain_end.append(time.time())
            finished.set()
            return
        platform.enqueue(
            WORKFLOWS, "bench.chain", i + 1, tag, idempotency_key=f"chain:{tag}:{i + 1}"
        )

    platform.register(TaskSpec("bench.chain", chain, WORKFLOWS))
    true = {"field": "trigger.go", "op": "eq", "value": True}
    steps = [
        {"id": f"b{n}", "action": "branch", "if": true, "else": [{"id": f"x{n}", "action": "stop"}]}
        for n in range(STEPS)
    ]
    document = Document.from_data(
        {
            "name": "Steps",
            "trigger": {"type": "manual", "inputs": {"go": "boolean"}},
            "steps": steps,
            "settings": {"enabled": True},
        }
    )
    services.workflows.save(document)
    runner = Runner(platform, [WORKFLOWS], {WORKFLOWS: 1}, embedded=False)
    runner.start()
    chain_times: list[float] = []
    run_times: list[float] = []
    step_times: list[float] = []
    try:
        for round_no in range(STEP_ROUNDS):
            finished.clear()
            chain_end.clear()
            begin = time.time()
            platform.enqueue(
                WORKFLOWS, "bench.chain", 1, str(round_no), idempotency_key=f"chain:{round_no}:1"
            )
            enqueued = time.time()  # as for the run: from its first job's enqueue returning
            finished.wait(300)
            chain_times.append(chain_end[0] - enqueued)
            begin = time.time()
            run_id = workflows.start_manual("Steps", {"go": True})
            started = time.time()

            def finish(run: int = run_id) -> tuple[str, dt.datetime | None]:
                with engine.connect() as conn:
                    row = conn.execute(
                        sa.select(RUN.c.status, RUN.c.finished_at).where(RUN.c.id == run)
                    ).one()
                    return str(row.status), row.finished_at

            status, finished_at = finish()
            while status not in ("succeeded", "failed"):
                time.sleep(0.005)
                status, finished_at = finish()
            assert status == "succeeded"
            assert finished_at is not None
            # When the last step started (its run's finished_at, this machine's clock), not when
            # the 5 ms poll noticed: the chain's end is its last job's start, taken alike.
            end = finished_at.timestamp()
            run_times.append(end - begin)
            step_times.append(end - started)
    finally:
        runner.stop()
        platform.close()
        engine.dispose()
        server.cleanup()
    run_s, chain_s = statistics.median(run_times), statistics.median(chain_times)
    steps_s = statistics.median(step_times)
    ratio = steps_s / chain_s
    print(
        f"{STEPS}-step run {steps_s * 1000 / STEPS:6.2f} ms/step vs a chain of tracked jobs "
        f"{chain_s * 1000 / STEPS:6.2f} ms/job (median of {STEP_ROUNDS} interleaved rounds) "
        f"→ {ratio:.2f}x (budget ≤ {STEP_BUDGET}x)"
    )
    print(
        f"  with the manual start (trigger, permission, audit row, run row) counted: "
        f"{run_s * 1000 / STEPS:6.2f} ms/step → {run_s / chain_s:.2f}x"
    )
    return ratio


def _idle_tick() -> None:
    """The worker's idle load: one tick (every minute) with 10k runs waiting vs none."""
    import tempfile
    from pathlib import Path

    import purplecross_desktop.database.models  # noqa: F401
    from jobs.event_dispatch import EventHandlers
    from jobs.platform import JobPlatform, JobsConfig
    from jobs.queues import BrokerConfig
    from jobs.workflows import register
    from purplecross_desktop.database import Base, make_engine, make_session_factory
    from purplecross_desktop.database.base import utcnow
    from purplecross_desktop.domain.events import EventBus
    from purplecross_desktop.services import build_services
    from purplecross_desktop.workflows.models import RUN

    figures = {}
    for waiting in (0, 10_000):
        folder = Path(tempfile.mkdtemp(prefix="bench-idle-"))
        engine = make_engine(f"sqlite:///{folder / 'clinic.db'}")
        Base.metadata.create_all(engine)
        config = JobsConfig(broker=BrokerConfig(queue_file=folder / "q.db"), signing_key=b"b")
        platform = JobPlatform(config, engine)
        services = build_services(make_session_factory(engine), EventBus("bench"))
        workflows = register(platform, services, EventHandlers())
        info, _ = services.workflows.save(
            Document.from_data(
                {
                    "name": "Waits",
                    "trigger": {"type": "event", "event": "client.created"},
                    "steps": [{"id": "w", "action": "wait", "with": {"duration": {"days": 14}}}],
                    "settings": {"enabled": True},
                }
            )
        )
        now = utcnow()
        version = workflows.matchers()[0].version_id
        with engine.begin() as conn:
            conn.execute(
                sa.insert(RUN),
                [
                    {
                        "workflow_id": info.id,
                        "version_id": version,
                        "version": 1,
                        "status": "waiting",
                        "pc": 0,
                        "seq": 0,
                        "attempt": 1,
                        "context": {"trigger": {"id": n}, "steps": {}},
                        "depth": 0,
                        "dedupe_key": f"event:{n}",
                        "started_at": now,
                        "updated_at": now,
                        "deadline": now + dt.timedelta(days=90),
                        "wake_at": now + dt.timedelta(days=14, minutes=n % 1000),
                    }
                    for n in range(waiting)
                ],
            ) if waiting else None
        times = []
        for _ in range(9):
            begin = time.perf_counter()
            workflows.tick("bench")
            times.append((time.perf_counter() - begin) * 1000)
        figures[waiting] = statistics.median(times)
        platform.close()
        engine.dispose()
    print(
        f"idle tick (once a minute): {figures[10_000]:6.2f} ms with 10k runs waiting vs "
        f"{figures[0]:6.2f} ms with none"
    )


def main() -> int:
    _idle_tick()
    matching_ok = _matching()
    booking_ok = _booking() <= BOOKING_BUDGET
    steps_ok = _step_overhead() <= STEP_BUDGET
    return 0 if matching_ok and booking_ok and steps_ok else 1


def _matching() -> bool:
    rng = random.Random(14)
    specs = _workflows(rng)
    index = TriggerIndex(
        Matcher.build(n, n, 1, document) for n, document in enumerate(_documents(specs))
    )
    events = _events(rng)
    ops: dict[str, Callable[[Any, Any], bool]] = {"gt": operator.gt, "lte": operator.le}
    bare_conditions = [
        (event, [("status", operator.eq, status), ("client_id", ops[op], threshold)])
        for event, status, op, threshold in specs
    ]

    def engine() -> int:
        hits = 0
        for name, data in events:
            hits += len(index.match(name, data))
        return hits

    def bare() -> int:
        hits = 0
        for name, data in events:
            for wanted, conditions in bare_conditions:
                if wanted == name and all(fn(data.get(k), v) for k, fn, v in conditions):
                    hits += 1
        return hits

    def bare_indexed() -> int:
        by_name: dict[str, list[Any]] = {}
        for wanted, conditions in bare_conditions:
            by_name.setdefault(wanted, []).append(conditions)
        hits = 0
        for name, data in events:
            for conditions in by_name.get(name, ()):
                if all(fn(data.get(k), v) for k, fn, v in conditions):
                    hits += 1
        return hits

    assert engine() == bare() == bare_indexed(), "the engine and the bare loop disagree"
    timings: dict[str, list[float]] = {"engine": [], "bare": [], "bare_indexed": []}
    for _ in range(ROUNDS):
        for label, fn in (("engine", engine), ("bare", bare), ("bare_indexed", bare_indexed)):
            start = time.perf_counter()
            fn()
            timings[label].append(time.perf_counter() - start)
    med = {k: statistics.median(v) * 1000 for k, v in timings.items()}
    ratio, ratio_indexed = med["engine"] / med["bare"], med["engine"] / med["bare_indexed"]
    print(f"matches found: {engine()} of {EVENTS} events x {WORKFLOWS} workflows")
    print(f"engine (TriggerIndex.match)          {med['engine']:8.1f} ms")
    print(
        f"bare loop, precompiled conditions    {med['bare']:8.1f} ms   "
        f"ratio {ratio:.2f}x (budget ≤ {BUDGET}x)"
    )
    print(
        f"bare loop, also indexed by name      {med['bare_indexed']:8.1f} ms   "
        f"ratio {ratio_indexed:.2f}x"
    )
    return bool(med["engine"] <= BUDGET * med["bare"])


if __name__ == "__main__":
    raise SystemExit(main())
