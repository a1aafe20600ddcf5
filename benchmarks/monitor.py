"""The queue monitor at 100k jobs: the UI thread's longest stall while it refreshes live, and
what one refresh allocates when jobs carry large arguments.

Runs the real composition root in a fresh subprocess (offscreen) on an embedded clinic
whose job registry holds ``PURPLECROSS_BENCH_MONITOR`` jobs (100,000 by default: finished,
dead with a handful of error signatures, revoked; 20 of the newest carry 2 MB of args),
signs in as the admin and opens the Queue monitor. A 10 ms ``PreciseTimer`` ticks on the
UI thread; the longest gap between ticks is the stall. Baseline, in the same process: the
same timer with the app idle on Today (monitor hidden). Each step leaves the monitor's own
1 s live refresh running; the last steps also run 1,000 jobs through the embedded runner.

Memory: ``tracemalloc`` peak of one refresh's reads (cards, triage, workers, the job
list's first page) before and after 20 jobs get 2 MB of args each, beside a full-row read
of the same first page (what the first monitor did: every column of every row).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.app import STALL_BUDGET, TRACE_ENV, _spawn, _watch_ui_thread

TICK_MS = 10
LIVE_JOBS = 1000
BIG_JOBS = 20
BIG_ARGS = 2 * 1024 * 1024
SIZE_ENV = "PURPLECROSS_BENCH_MONITOR"
ERRORS = (
    ("jobs.policy.PermanentError", "printer 10.0.0.{n} refused invoice {n}: out of paper"),
    ("smtplib.SMTPRecipientsRefused", "owner{n}@example.org refused: mailbox full"),
    ("TimeoutError", "SMS gateway timed out after {n} s"),
    ("KeyError", "invoice {n} has no lines"),
    ("ConnectionRefusedError", "lab at https://lab{n}.example.net/api refused the connection"),
)
TASKS = (
    ("email", "email.send"),
    ("reminders", "reminders.send"),
    ("notifications", "notifications.send"),
    ("reports", "reports.render"),
    ("events", "events.dispatch"),
)


def seed(url: str, count: int, now: dt.datetime) -> float:
    """Write ``count`` job rows straight into the registry (finished states only, so no
    sweep re-dispatches them): 85 % completed over two days (1,500 in the last hour),
    10 % dead in five signatures, 5 % revoked. Returns the seconds it took."""
    from sqlalchemy import Table, insert

    from jobs.models import Job
    from purplecross_desktop.database import make_engine

    table: Table = Job.__table__  # type: ignore[assignment]
    started = time.perf_counter()
    rng = random.Random(12)
    engine = make_engine(url)
    seq = int((now - dt.timedelta(days=3)).timestamp() * 1_000_000)
    rows: list[dict[str, Any]] = []
    with engine.begin() as conn:
        for number in range(count):
            queue, task = TASKS[number % len(TASKS)]
            recent = number >= count - 1500
            ago = dt.timedelta(seconds=rng.uniform(0, 3600 if recent else 48 * 3600))
            finished = now - ago
            wait = rng.uniform(5, 400)
            run = rng.uniform(10, 900)
            ran = dt.timedelta(milliseconds=run)
            enqueued = finished - dt.timedelta(milliseconds=wait + run)
            pick = rng.random()
            state, error_class, message = "completed", None, None
            if pick < 0.10:
                state = "dead"
                error_class, text = ERRORS[number % len(ERRORS)]
                message = text.format(n=rng.randint(1, 9999))
            elif pick < 0.15:
                state = "revoked"
            seq += 1
            rows.append(
                {
                    "id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "queue": queue,
                    "task": task,
                    "args": [number, f"client {number % 7000}"],
                    "kwargs": {},
                    "state": state,
                    "attempts": 3 if state == "dead" else 1,
                    "max_attempts": 3,
                    "priority": 0,
                    "repeatable": True,
                    "token": uuid.uuid4().hex[:16],
                    "seq": seq,
                    "held": False,
                    "enqueued_at": enqueued,
                    "started_at": None if state == "revoked" else finished - ran,
                    "finished_at": finished,
                    "duration_ms": None if state == "revoked" else run,
                    "wait_ms": None if state == "revoked" else wait,
                    "progress": 100 if state == "completed" else 0,
                    "progress_message": "",
                    "error_class": error_class,
                    "error_message": message,
                    "traceback": f"Traceback (most recent call last):\n  ...\n{error_class}: "
                    f"{message}"
                    if message
                    else None,
                    "client_id": number % 7000 + 1,
                }
            )
            if len(rows) == 5000:
                conn.execute(insert(table), rows)
                rows = []
        if rows:
            conn.execute(insert(table), rows)
    engine.dispose()
    return time.perf_counter() - started


def main() -> int:
    count = int(os.environ.get(SIZE_ENV, "100000"))
    with tempfile.TemporaryDirectory(prefix="pc-bench-monitor-") as folder:
        root = Path(folder)
        data_dir = root / "data"
        data_dir.mkdir()
        from purplecross_desktop.database.session import upgrade

        url = f"sqlite:///{data_dir / 'clinic.db'}"
        upgrade(url)
        seconds = seed(url, count, dt.datetime.now(dt.UTC))
        print(
            f"registry: {count:,} jobs written in {seconds:.1f} s; load: "
            + Path("/proc/loadavg").read_text().strip()
        )
        env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "PURPLECROSS_DATA_DIR": str(data_dir),
            "PURPLECROSS_CONFIG_FILE": str(root / "settings.toml"),
            "XDG_CONFIG_HOME": str(root / "config"),
        }
        env.pop("PURPLECROSS_DATABASE_URL", None)
        env.pop("PURPLECROSS_REDIS_URL", None)
        _started, line = _spawn(["-m", "benchmarks.monitor", "child"], env)
        if os.environ.get(TRACE_ENV):
            print(_started)
    report = json.loads(line)
    print(f"\nUI thread stall with the Queue monitor open (QTimer every {TICK_MS} ms):")
    print(
        f"  {'step':<52}{'ticks':>7}{'refreshes':>11}{'p99 gap':>10}{'max gap':>10}"
        f"{'UI CPU':>9}{'no core':>9}"
    )
    for name, ticks, refreshes, gap, busy, p99, waited in report["steps"]:
        print(
            f"  {name:<52}{ticks:>7}{refreshes:>11}{p99 * 1000:>8.1f}ms{gap * 1000:>8.1f}ms"
            f"{busy * 1000:>7.1f}ms{waited * 1000:>7.1f}ms"
        )
    print(
        "  (within its longest gap, the UI thread's own CPU time, and its time runnable but"
        " waiting for a core; the rest it slept: the timer's 10 ms, or waiting for a lock)"
    )
    live = max(s[3] for s in report["steps"] if s[0].startswith("live:"))
    opened = max(s[3] for s in report["steps"] if s[0].startswith("open:"))
    print(
        f"  longest stall while refreshing live {live * 1000:.1f} ms"
        f" (idle baseline {report['steps'][0][3] * 1000:.1f} ms; budget"
        f" {STALL_BUDGET * 1000:.0f} ms); longest on first opening a view {opened * 1000:.1f} ms"
    )
    print(f"  {LIVE_JOBS:,} live jobs ran in {report['live_s']:.1f} s")
    memory = report["memory"]
    print(
        f"\nOne refresh's reads, tracemalloc peak ({BIG_JOBS} of the newest jobs given"
        f" {BIG_ARGS // 1024 // 1024} MB of args each):"
    )
    print(f"  {'':<44}{'small args':>12}{'2 MB args':>12}")
    for label, key in (
        ("monitor refresh (cards, triage, workers, page)", "refresh"),
        ("baseline: full rows of the same 50-row page", "full_rows"),
    ):
        small, big = memory[key]
        print(f"  {label:<44}{small / 1e6:>10.2f}MB{big / 1e6:>10.2f}MB")
    grown = memory["refresh"][1] / max(1, memory["refresh"][0])
    print(f"  the refresh's peak grew {grown:.2f}x with the large args")
    return 0 if live <= STALL_BUDGET and grown < 1.5 else 1


# Child side -------------------------------------------------------------------------------
def _runqueue_wait() -> float:
    """Seconds the calling thread has spent runnable but waiting for a core (Linux's
    schedstat; 0 elsewhere): a gap's time neither working nor in it is time blocked."""
    try:
        with open("/proc/thread-self/schedstat") as stat:
            return int(stat.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def _child() -> None:
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from jobs.platform import TaskSpec
    from jobs.queues import NOTIFICATIONS
    from jobs.registry import JobRegistry
    from purplecross_desktop.app import (
        build_context,
        build_window,
        freeze_start_up_objects,
        shutdown,
    )
    from purplecross_desktop.domain.roles import StaffRole
    from purplecross_desktop.domain.staff import StaffData
    from purplecross_desktop.settings import load_settings
    from purplecross_desktop.ui.pages.queue_monitor_page import QueueMonitorPage

    app = QApplication(sys.argv[:1])
    context = build_context(load_settings())
    services = context.services
    assert services is not None
    admin = services.staff.create_first_admin(
        StaffData("Alex Admin", StaffRole.ADMIN, "admin"), "bench password"
    )
    context.staff_session.sign_in(admin)
    platform = context.job_runtime().platform
    ran = [0]
    ran_lock = threading.Lock()
    all_ran = threading.Event()

    def noop(number: int) -> int:
        with ran_lock:
            ran[0] += 1
            if ran[0] >= LIVE_JOBS:
                all_ran.set()
        return number

    platform.register(TaskSpec("bench.noop", noop, NOTIFICATIONS))
    window = build_window(context)
    window.resize(1440, 900)
    window.show()
    # As run_app: start-up's objects leave the collector's full passes (without this, a
    # full pass over ~210,000 objects held the interpreter lock 90-130 ms, on whichever
    # thread allocated, and stalled the window while it had almost nothing to do).
    QTimer.singleShot(0, lambda: freeze_start_up_objects(context))

    last = [time.perf_counter()]
    gaps: list[float] = []
    cpu = [time.thread_time(), 0.0]  # UI thread CPU time at the last tick; in the worst gap
    queued = [_runqueue_wait(), 0.0]  # its time runnable but waiting for a core: the same

    def tick() -> None:
        now, now_cpu, now_queued = time.perf_counter(), time.thread_time(), _runqueue_wait()
        gap = now - last[0]
        if not gaps or gap > max(gaps):
            cpu[1] = now_cpu - cpu[0]
            queued[1] = now_queued - queued[0]
        gaps.append(gap)
        last[0], cpu[0], queued[0] = now, now_cpu, now_queued

    if os.environ.get(TRACE_ENV):
        _watch_ui_thread(last)
    ticker = QTimer()
    ticker.setTimerType(Qt.TimerType.PreciseTimer)
    ticker.setInterval(TICK_MS)
    ticker.timeout.connect(tick)
    refreshed = [0]

    def run(
        seconds: float, action: Callable[[], Any] | None, until: threading.Event | None
    ) -> None:
        gaps.clear()
        refreshed[0] = 0
        last[0], cpu[0], cpu[1] = time.perf_counter(), time.thread_time(), 0.0
        queued[0], queued[1] = _runqueue_wait(), 0.0
        ticker.start()
        if action is not None:
            QTimer.singleShot(0, action)
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        if until is not None:
            watch = QTimer()
            watch.setInterval(20)
            watch.timeout.connect(lambda: loop.quit() if until.is_set() else None)
            watch.start()
        loop.exec()
        ticker.stop()

    steps: list[tuple[str, int, int, float, float, float, float]] = []

    def step(
        name: str,
        action: Callable[[], Any] | None,
        seconds: float = 4.0,
        until: threading.Event | None = None,
    ) -> None:
        run(seconds, action, until)
        ordered = sorted(gaps) or [0.0]
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        steps.append((name, len(gaps), refreshed[0], ordered[-1], cpu[1], p99, queued[1]))

    run(3.0, None, None)  # Today's first load, the runner's start-up sweeps
    step("baseline: idle on Today (monitor hidden)", None, 3.0)
    page = window.show_page("queues")
    assert isinstance(page, QueueMonitorPage)
    page.sig_refreshed.connect(lambda _tab: refreshed.__setitem__(0, refreshed[0] + 1))
    step("open: Overview (first visit builds the page)", None, 2.0)
    step("live: Overview, cards refresh every second", None, 4.0)
    step("live: Overview sorted by failures", lambda: page.overview.sort_box.setCurrentIndex(1))
    step("open: Jobs (newest first, in SQL)", lambda: page.tabs.setCurrentIndex(1), 2.0)
    step("live: Jobs", None)
    step("live: Jobs, search 'refused' (args and errors)", lambda: page.jobs.set_filter("refused"))
    step("live: Jobs, search cleared", lambda: page.jobs.set_filter(""))
    step("open: Failures", lambda: page.tabs.setCurrentIndex(2), 2.0)
    step("live: Failures (triage of every dead job)", None)
    step("open: Workers", lambda: page.tabs.setCurrentIndex(3), 2.0)
    step("live: Workers", None, 3.0)
    registry = JobRegistry(platform)
    first_dead = registry.search(states=["dead"], limit=1)[0].id
    step("open: job detail of a dead job", lambda: page.open_job(str(first_dead)), 2.0)
    page.detail.hide()
    done = threading.Event()
    times: dict[str, float] = {}

    def produce() -> None:
        started = time.perf_counter()
        for number in range(LIVE_JOBS):
            platform.enqueue(NOTIFICATIONS, "bench.noop", number)
        all_ran.wait(300)
        times["live_s"] = time.perf_counter() - started
        done.set()

    page.tabs.setCurrentIndex(0)
    run(2.0, None, None)
    threading.Thread(target=produce, daemon=True).start()
    step(f"live: Overview while {LIVE_JOBS:,} jobs run", None, 300.0, done)
    all_ran.clear()
    ran[0] = 0
    done.clear()
    page.tabs.setCurrentIndex(1)
    run(2.0, None, None)
    threading.Thread(target=produce, daemon=True).start()
    step(f"live: Jobs while {LIVE_JOBS:,} more jobs run", None, 300.0, done)
    memory = _memory(context, platform)
    print(
        json.dumps({"steps": steps, "live_s": times.get("live_s", 0.0), "memory": memory}),
        flush=True,
    )
    window.close()
    shutdown(context)
    app.quit()


def _memory(context: Any, platform: Any) -> dict[str, list[int]]:
    """tracemalloc peaks of one refresh's reads and of a full-row page, before and after
    ``BIG_JOBS`` of the newest jobs get ``BIG_ARGS`` characters of args."""
    import tracemalloc

    from sqlalchemy import Table, select, update

    from jobs.models import Job
    from jobs.monitor import MonitorReader
    from jobs.registry import JobRegistry
    from purplecross_desktop.ui.pages.queue_monitor_page import job_source
    from widgets.datagrid.state import GridQuery, SortKey

    table: Table = Job.__table__  # type: ignore[assignment]
    reader = MonitorReader(JobRegistry(platform))
    source = job_source(context)
    newest = GridQuery(sort=(SortKey("enqueued_at", descending=True),))

    def refresh() -> None:
        reader.overview()
        reader.failure_groups()
        reader.workers_view()
        source.run(newest).rows(0, 50)

    def full_rows() -> None:
        with platform.engine.connect() as conn:
            conn.execute(select(table).order_by(table.c.enqueued_at.desc()).limit(50)).all()

    def peak(read: Callable[[], None]) -> int:
        read()  # warm: compiled statements, connections
        tracemalloc.start()
        read()
        _current, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    out: dict[str, list[int]] = {"refresh": [peak(refresh)], "full_rows": [peak(full_rows)]}
    with platform.engine.begin() as conn:
        ids = list(
            conn.execute(select(table.c.id).order_by(table.c.enqueued_at.desc()).limit(BIG_JOBS))
            .scalars()
            .all()
        )
        conn.execute(update(table).where(table.c.id.in_(ids)).values(args=["x" * BIG_ARGS]))
    out["refresh"].append(peak(refresh))
    out["full_rows"].append(peak(full_rows))
    return out


if __name__ == "__main__":
    {"child": _child}[sys.argv[1]]()
