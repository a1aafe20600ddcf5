"""The Calendar at 100k patients: the UI thread's longest stall while a receptionist opens the
day, the week, pages through weeks and switches to rooms.

Runs the real composition root, signed in as the demo's desk login (so the diary is really
painted), in fresh offscreen subprocesses on an embedded clinic filled with demo data, with
a 10 ms QTimer on the UI thread; the gap between ticks is the stall, and the UI thread's own
CPU time inside the longest gap says how much of it was the window's work (the rest is
waiting: for the interpreter lock held by a loader thread, or for a CPU on a busy machine).
Baseline, measured in the same processes: the same timer with the Calendar idle.

Sizes: ``PURPLECROSS_BENCH_CALENDAR=70000,100000,300000`` (clients, patients, appointments);
rounds (fresh processes): ``PURPLECROSS_BENCH_CALENDAR_ROUNDS=3``. To compare two versions
on the same data, ``PURPLECROSS_BENCH_CALENDAR_DATA=/some/dir`` keeps (and reuses) the
generated clinic there.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.app import DAY_ENV, STALL_BUDGET, _clinic_day, _generate, _spawn, child_env

TICK_MS = 10
STEPS = (
    "baseline: Calendar idle",
    "day by vet: reload",
    "week: open (first time)",
    "week: next week",
    "week: previous week",
    "week: another vet",
    "week: by room",
    "day: back to the day",
)


def main() -> int:
    sizes = tuple(
        int(p)
        for p in os.environ.get("PURPLECROSS_BENCH_CALENDAR", "70000,100000,300000").split(",")
    )
    rounds = int(os.environ.get("PURPLECROSS_BENCH_CALENDAR_ROUNDS", "3"))
    kept = os.environ.get("PURPLECROSS_BENCH_CALENDAR_DATA")
    with tempfile.TemporaryDirectory(prefix="pc-bench-calendar-") as folder:
        root = Path(folder)
        data_dir = Path(kept) if kept else root / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        if (data_dir / "clinic.db").exists():
            generated = "reused"
        else:
            generated = f"made in {_generate(data_dir, sizes):.0f} s"  # type: ignore[arg-type]
        day, count = _clinic_day(data_dir)
        print(
            f"demo data: {sizes[0]:,} clients, {sizes[1]:,} patients, {sizes[2]:,} appointments"
            f" ({generated}); day shown {day} ({count} appointments); load: "
            + Path("/proc/loadavg").read_text().strip()
        )
        env = child_env(root, data_dir, day)
        reports = [
            json.loads(_spawn(["-m", "benchmarks.calendar", "child"], env)[1])
            for _ in range(rounds)
        ]
    print(
        f"\nCalendar, UI thread stall ({rounds} fresh processes; QTimer every {TICK_MS} ms;"
        " gap = time between ticks, cpu = the UI thread's own CPU time in the longest gap):"
    )
    print(f"  {'step':<30}{'rows':>6}{'median gap':>12}{'worst gap':>11}{'its cpu':>9}")
    worst_step = 0.0
    for index, name in enumerate(STEPS):
        steps = [r["steps"][index] for r in reports]
        gaps = [s["gap"] for s in steps]
        worst = max(steps, key=lambda s: s["gap"])
        print(
            f"  {name:<30}{steps[0]['rows']:>6}{statistics.median(gaps) * 1000:>10.1f}ms"
            f"{worst['gap'] * 1000:>9.1f}ms{worst['cpu'] * 1000:>7.1f}ms"
        )
        if index:
            worst_step = max(worst_step, statistics.median(gaps))
    baseline = statistics.median(r["steps"][0]["gap"] for r in reports)
    print(
        f"  longest step (median over rounds) {worst_step * 1000:.1f} ms; idle baseline"
        f" {baseline * 1000:.1f} ms; budget {STALL_BUDGET * 1000:.0f} ms"
    )
    return 0 if worst_step <= STALL_BUDGET else 1


def _child() -> None:
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    import purplecross_desktop.app as app_module
    from benchmarks.app import _pin_day
    from purplecross_desktop.settings import load_settings
    from purplecross_desktop.ui.pages.calendar_page import CalendarPage

    _pin_day()
    pinned = os.environ.get(DAY_ENV)
    if pinned:
        noon = dt.datetime.combine(dt.date.fromisoformat(pinned), dt.time(12), tzinfo=dt.UTC)
        CalendarPage.clock = staticmethod(lambda: noon)  # type: ignore[method-assign]
    app = QApplication(sys.argv[:1])
    context = app_module.build_context(load_settings(), start_jobs=False)
    assert context.services is not None
    desk = context.services.staff.authenticate("desk", "purplecross")
    assert desk is not None, "the demo data has a desk login"
    context.staff_session.sign_in(desk)
    window = app_module.build_window(context)
    window.resize(1440, 900)
    window.show()
    QTimer.singleShot(0, lambda: app_module.freeze_start_up_objects(context))  # as run_app
    last = [time.perf_counter(), time.thread_time()]
    gaps: list[tuple[float, float]] = []

    def tick() -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        gaps.append((now - last[0], cpu - last[1]))
        last[:] = [now, cpu]

    ticker = QTimer()
    ticker.setTimerType(Qt.TimerType.PreciseTimer)
    ticker.setInterval(TICK_MS)
    ticker.timeout.connect(tick)

    def settle(seconds: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    def step(action: Callable[[], Any] | None, seconds: float = 1.5) -> dict[str, float]:
        gaps.clear()
        last[:] = [time.perf_counter(), time.thread_time()]
        ticker.start()
        if action is not None:
            QTimer.singleShot(0, action)
        settle(seconds)
        ticker.stop()
        context.runner.wait_for_done(10_000)
        QApplication.processEvents()
        gap, cpu = max(gaps) if gaps else (0.0, 0.0)
        return {"gap": gap, "cpu": cpu, "rows": len(page.rows)}

    page = window.show_page("calendar")
    assert isinstance(page, CalendarPage)
    settle(3.0)  # the day loaded and painted; the window settled
    vets = page.subject
    steps = [
        step(None, 2.0),
        step(page.reload),
        step(lambda: page.span.setCurrentIndex(1)),
        step(lambda: page.go(1)),
        step(lambda: page.go(-1)),
        step(lambda: vets.setCurrentIndex((vets.currentIndex() + 1) % max(1, vets.count()))),
        step(lambda: page.axis.setCurrentIndex(1)),
        step(lambda: page.span.setCurrentIndex(0)),
    ]
    print(json.dumps({"steps": steps}), flush=True)
    window.close()
    app_module.shutdown(context)
    del app


if __name__ == "__main__":
    {"child": _child}[sys.argv[1]]()
