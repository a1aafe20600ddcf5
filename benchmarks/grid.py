"""DataGrid benchmark: sort, filter and page flips at 100k and 1M rows beside their baselines.

Baselines, measured in the same run on the same data: the stock QSortFilterProxyModel over
a plain table model (100k rows, once: it takes seconds), Python's ``sorted()`` of the sort
column and a bare substring scan (1M rows). Also: the SQL source's page flips on 1M SQLite
rows and the grid's memory per row. Run: ``.venv/bin/python -m benchmarks grid``.
"""

from __future__ import annotations

import gc
import os
import random
import statistics
import string
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from sqlalchemy import Float, Integer, String, insert, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TARGETS = {
    "proxy_ratio": 200.0,  # grid ≥ 200x faster than the stock proxy at 100k
    "sort_ratio": 1.0,  # grid sort ≤ 1x sorted() at 1M (issue 15; DESIGN.md says 2x)
    "filter_ratio": 3.0,  # grid filter ≤ 3x a bare scan at 1M
    "page_ms": 5.0,  # in-memory page flip
    "sql_page_ms": 20.0,  # SQL page flip on 1M SQLite rows
    "stall_ms": 50.0,  # longest UI-thread gap during a sort, search or filter at 1M rows
}
NEEDLE = "qu"


def timed(work: Callable[[], Any], repeat: int = 1) -> float:
    """The best wall time of ``repeat`` runs, in seconds (garbage collector off, as timeit)."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            work()
            best = min(best, time.perf_counter() - start)
        finally:
            gc.enable()
    return best


def make_data(count: int, seed: int = 1) -> dict[str, list[Any]]:
    """Patient-like columns: name (random text), species, age, fee."""
    rng = random.Random(seed)
    letters = string.ascii_letters
    return {
        "name": ["".join(rng.choices(letters, k=rng.randint(4, 10))) for _ in range(count)],
        "species": [rng.choice(("Cat", "Dog", "Rabbit", "Parrot", "Horse")) for _ in range(count)],
        "age": [rng.randint(0, 25) for _ in range(count)],
        "fee": [round(rng.uniform(5, 900), 2) for _ in range(count)],
    }


def main() -> int:
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    from widgets.datagrid import Column

    app = QApplication.instance() or QApplication(sys.argv[:1])
    qInstallMessageHandler(_quiet_offscreen)
    columns = [
        Column("name", "Name"),
        Column("species", "Species"),
        Column("age", "Age", kind="number"),
        Column("fee", "Fee", kind="money"),
    ]
    failures: list[str] = []

    def check(name: str, ok: bool, text: str) -> None:
        print(f"  {'ok  ' if ok else 'MISS'} {text}", flush=True)
        if not ok:
            failures.append(name)

    proxy_100k(columns, check)
    gc.collect()
    in_memory_1m(app, columns, check)

    # ---- SQL source: 1M SQLite rows -----------------------------------------------------
    print("SQL source on 1M SQLite rows", flush=True)
    sql_flip, sql_jump, sql_grid = sql_page_flips(app, columns)
    print(f"  next/previous page (keyset seek)   median {sql_flip:.2f} ms")
    print(f"  jump to a random page (nearest row seen + OFFSET)  median {sql_jump:.2f} ms")
    print(f"  grid page flip end to end (worker thread + repaint)  median {sql_grid:.2f} ms")
    check(
        "sql_page",
        sql_grid <= TARGETS["sql_page_ms"],
        f"SQL page flip ≤ {TARGETS['sql_page_ms']} ms",
    )
    print("targets missed: " + (", ".join(failures) or "none"))
    return 1 if failures else 0


def proxy_100k(columns: list[Any], check: Callable[[str, bool, str], None]) -> None:
    """The stock proxy and the grid on the same 100k-row table (the proxy runs once)."""
    from widgets.datagrid import GridQuery, InMemorySource, SortKey

    keys = ("name", "species", "age", "fee")
    print("100k rows: stock QSortFilterProxyModel vs the grid", flush=True)
    small = make_data(100_000, seed=3)
    proxy_sort, proxy_filter = stock_proxy(small, columns)
    cold_source = InMemorySource.from_columns(columns, small)
    cold_sort = timed(lambda: end_to_end(cold_source, GridQuery(sort=(SortKey("name"),))))
    cold_filter = timed(lambda: end_to_end(cold_source, GridQuery(search=NEEDLE, search_keys=keys)))
    grid_source = InMemorySource.from_columns(columns, small)
    grid_source.prepare(keys)  # what the grid does on its worker after the first page shows
    grid_sort = timed(lambda: end_to_end(grid_source, GridQuery(sort=(SortKey("name"),))), 3)
    grid_filter = timed(
        lambda: end_to_end(grid_source, GridQuery(search=NEEDLE, search_keys=keys)), 3
    )
    print(f"  proxy sort by name   {proxy_sort * 1000:9.1f} ms   grid {grid_sort * 1000:7.1f} ms")
    print(
        f"  proxy filter         {proxy_filter * 1000:9.1f} ms   grid {grid_filter * 1000:7.1f} ms"
    )
    print(
        f"  grid before its preparation (keys and search text built in the call): "
        f"sort {cold_sort * 1000:.1f} ms ({proxy_sort / cold_sort:.0f}x), "
        f"filter {cold_filter * 1000:.1f} ms ({proxy_filter / cold_filter:.0f}x)"
    )
    fresh = fresh_grid_first_sort(columns, small)
    print(
        f"  first sort on a freshly opened grid (click right after it shows, through the "
        f"worker, until the page is on screen): {fresh * 1000:.1f} ms"
    )
    check(
        "proxy_sort",
        proxy_sort / grid_sort >= TARGETS["proxy_ratio"],
        f"sort {proxy_sort / grid_sort:.0f}x faster than the proxy (target ≥ 200x)",
    )
    check(
        "fresh_sort",
        proxy_sort / fresh >= TARGETS["proxy_ratio"],
        f"first sort on a fresh grid {proxy_sort / fresh:.0f}x faster than the proxy "
        f"(target ≥ 200x)",
    )
    print(f"  (filter {proxy_filter / grid_filter:.0f}x faster than the proxy)")


def fresh_grid_first_sort(columns: list[Any], data: dict[str, list[Any]]) -> float:
    """Open a grid on ``data``, sort by name as soon as its first page shows (its
    preparation has just started on the worker) and time until the sorted page is shown.
    The best of three fresh grids."""
    from PySide6.QtWidgets import QApplication

    from widgets.datagrid import DataGrid, InMemorySource

    app = QApplication.instance()
    best = float("inf")
    for _ in range(3):
        source = InMemorySource.from_columns(columns, data)
        grid = DataGrid(columns, source=source, page_size=50)
        grid.resize(900, 700)
        grid.show()
        wait_idle(app, grid)
        start = time.perf_counter()
        grid.sort_by("name")
        wait_idle(app, grid)
        best = min(best, time.perf_counter() - start)
        grid.shutdown()
        grid.deleteLater()
        app.processEvents()
    return best


def in_memory_1m(app: Any, columns: list[Any], check: Callable[[str, bool, str], None]) -> None:
    """Sort and filter of 1M in-memory rows vs sorted() and a bare scan; page flips; memory."""
    from widgets.datagrid import DataGrid, GridQuery, InMemorySource, SortKey

    print("1M rows in memory", flush=True)
    data = make_data(1_000_000)
    names = data["name"]
    baseline_sort = timed(lambda: sorted(names), repeat=2)
    baseline_scan = timed(lambda: [i for i, s in enumerate(names) if NEEDLE in s], repeat=3)

    source = InMemorySource.from_columns(columns, data)
    cold_sort = timed(lambda: source.run(GridQuery(sort=(SortKey("name"),))))
    warm_sort = timed(lambda: source.run(GridQuery(sort=(SortKey("name"),))), repeat=2)
    two_keys = GridQuery(sort=(SortKey("species"), SortKey("name", descending=True)))
    two_key_sort = timed(lambda: source.run(two_keys), repeat=2)
    keys = ("name", "species", "age", "fee")
    cold_filter = timed(lambda: source.run(GridQuery(search=NEEDLE, search_keys=keys)))

    # Memory on a second source (tracemalloc slows allocation, so not while timing).
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    measured = InMemorySource.from_columns(columns, data)
    kept = measured.run(GridQuery(sort=(SortKey("name"),)))
    measured.prepare(keys)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del measured, kept

    def warm_filter_run() -> None:
        source._last_filter = None  # measure the scan, not the cache of the last answer
        source.run(GridQuery(search=NEEDLE, search_keys=keys))

    warm_filter = timed(warm_filter_run, repeat=3)
    name_only = InMemorySource.from_columns(columns, data)
    name_only.prepare(("name",))

    def name_filter_run() -> None:
        name_only._last_filter = None
        name_only.run(GridQuery(search=NEEDLE, search_keys=("name",)))

    warm_name_filter = timed(name_filter_run, repeat=3)
    per_row = (after - before) / 1_000_000
    print(f"  sorted() of the name column        {baseline_sort * 1000:8.1f} ms")
    print(f"  grid sort by name, keys built in the call  {cold_sort * 1000:8.1f} ms")
    print(f"  grid sort by name, keys built at load      {warm_sort * 1000:8.1f} ms")
    print(f"  grid sort by species, then name descending {two_key_sort * 1000:8.1f} ms")
    print(f"  bare substring scan of names       {baseline_scan * 1000:8.1f} ms")
    print(f"  grid search, 4 columns (cold)      {cold_filter * 1000:8.1f} ms  (index built)")
    print(f"  grid search, 4 columns (prepared)  {warm_filter * 1000:8.1f} ms")
    print(f"  grid search, name only (prepared)  {warm_name_filter * 1000:8.1f} ms")
    print(f"  grid memory per row (arrays, keys, search text, order): {per_row:.0f} bytes")
    check(
        "sort",
        max(warm_sort, two_key_sort) <= TARGETS["sort_ratio"] * baseline_sort,
        f"sort {warm_sort / baseline_sort:.2f}x sorted(), two keys "
        f"{two_key_sort / baseline_sort:.2f}x (target ≤ {TARGETS['sort_ratio']}x; "
        f"{cold_sort / baseline_sort:.2f}x when the keys are built in the same call)",
    )
    check(
        "filter",
        warm_filter <= TARGETS["filter_ratio"] * baseline_scan,
        f"filter {warm_filter / baseline_scan:.2f}x the bare scan "
        f"(target ≤ {TARGETS['filter_ratio']}x; name only {warm_name_filter / baseline_scan:.2f}x)",
    )

    # UI stalls and page flips through the real widget
    grid = DataGrid(columns, source=source, page_size=50)
    grid.resize(900, 700)
    grid.show()
    wait_idle(app, grid)
    stalls = ui_stalls(app, grid)
    for what, (longest, idle) in stalls.items():
        print(
            f"  UI thread's longest gap (10 ms timer) during {what:<14} {longest:6.1f} ms"
            f"   (idle {idle:.1f} ms)"
        )
    idle_gap = max(idle for _longest, idle in stalls.values())
    worst = max(longest for longest, _idle in stalls.values())
    check(
        "stall",
        worst <= TARGETS["stall_ms"],
        f"longest UI stall {worst:.0f} ms (target ≤ {TARGETS['stall_ms']:.0f} ms; "
        f"idle timer gap {idle_gap:.0f} ms)",
    )
    grid.clear_filters()
    wait_idle(app, grid)
    flips = []
    for page in random.Random(2).sample(range(1, grid.page_count() + 1), 200):
        start = time.perf_counter()
        grid.set_page(page)
        app.processEvents()  # includes painting the new page
        flips.append(time.perf_counter() - start)
    flip_ms = statistics.median(flips) * 1000
    p95_ms = sorted(flips)[int(len(flips) * 0.95)] * 1000
    print(
        f"  page flip (set_page + repaint), 1M rows  median {flip_ms:.2f} ms, p95 {p95_ms:.2f} ms"
    )
    model_flips = []
    for page in random.Random(3).sample(range(1, grid.page_count() + 1), 200):
        start = time.perf_counter()
        grid.set_page(page)  # the index-array slice and one model reset, without painting
        model_flips.append(time.perf_counter() - start)
        app.processEvents()
    model_ms = statistics.median(model_flips) * 1000
    print(f"  page flip, model only (no repaint)       median {model_ms:.3f} ms")
    check(
        "page",
        model_ms <= TARGETS["page_ms"],
        f"page flip ≤ {TARGETS['page_ms']} ms (model; {flip_ms:.1f} ms with the repaint)",
    )
    grid.set_page_size(None)
    wait_idle(app, grid)
    scroll = timed(lambda: (grid.table_view().scrollToBottom(), app.processEvents()))
    print(f"  continuous mode, scroll to row 1,000,000 + repaint  {scroll * 1000:.1f} ms")
    grid.shutdown()
    grid.deleteLater()
    app.processEvents()


def ui_stalls(app: Any, grid: Any) -> dict[str, tuple[float, float]]:
    """The longest gap between ticks of a 10 ms timer on the UI thread while the grid
    sorts, searches and filters 1M rows (work on its worker thread), beside the longest
    gap of the same timer with the grid idle for as long."""
    from PySide6.QtCore import QElapsedTimer, Qt, QTimer

    def measure(action: Callable[[], None]) -> tuple[float, float]:
        gaps: list[float] = []
        clock = QElapsedTimer()
        timer = QTimer()
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.setInterval(10)

        def tick() -> None:
            gaps.append(clock.nsecsElapsed() / 1e6)
            clock.restart()

        timer.timeout.connect(tick)
        clock.start()
        timer.start()
        started = time.perf_counter()
        action()
        while grid.is_loading() or time.perf_counter() - started < 0.05:
            app.processEvents()
            time.sleep(0.001)
        busy = time.perf_counter() - started
        longest = max(gaps, default=0.0)
        gaps.clear()
        clock.restart()
        end = time.perf_counter() + busy
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)
        timer.stop()
        return longest, max(gaps, default=0.0)

    return {
        "sort": measure(lambda: grid.sort_by("name")),
        "search": measure(lambda: grid.set_filter(NEEDLE)),
        "column filter": measure(lambda: grid.set_column_filter("species", "at")),
    }


def _quiet_offscreen(mode: Any, context: Any, message: str) -> None:
    if "propagateSizeHints" not in message:  # the offscreen platform's noise
        print(message, file=sys.stderr)


def wait_idle(app: Any, grid: Any) -> None:
    while grid.is_loading() or grid.current_result() is None:
        app.processEvents()
        time.sleep(0.0005)
    app.processEvents()


def end_to_end(source: Any, query: Any) -> None:
    from widgets.datagrid import GridModel

    source._last_filter = None
    result = source.run(query)
    model = GridModel(source._columns)
    model.show(result, 0, 50)


def stock_proxy(data: dict[str, list[Any]], columns: list[Any]) -> tuple[float, float]:
    """Sort and filter times of QSortFilterProxyModel over a plain Python table model."""
    from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt

    keys = [c.key for c in columns]
    cols = [data[k] for k in keys]
    count = len(cols[0])

    class TableModel(QAbstractTableModel):
        def rowCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
            return 0 if parent.isValid() else count

        def columnCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
            return 0 if parent.isValid() else len(cols)

        def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
            if role == Qt.ItemDataRole.DisplayRole:
                return cols[index.column()][index.row()]
            return None

    model = TableModel()
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    proxy.setFilterKeyColumn(-1)
    sort = timed(lambda: proxy.sort(0, Qt.SortOrder.AscendingOrder))
    proxy.sort(-1)
    filt = timed(lambda: proxy.setFilterFixedString(NEEDLE))
    return sort, filt


class _Base(DeclarativeBase):
    pass


class Pet(_Base):
    """The benchmark's table: 1M pets; the name's stored sort key (``fold_text``) indexed,
    as the app's tables have it (docs/datagrid.md, "Sort order")."""

    __tablename__ = "bench_pets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(20))
    name_key: Mapped[str] = mapped_column(String(20), index=True)
    species: Mapped[str] = mapped_column(String(10))
    age: Mapped[int] = mapped_column(Integer)
    fee: Mapped[float] = mapped_column(Float)


def sql_page_flips(app: Any, columns: list[Any]) -> tuple[float, float, float]:
    from purplecross_desktop.database import make_engine, make_session_factory
    from purplecross_desktop.ui.grid_sql_source import SqlSource
    from textorder import fold_text
    from widgets.datagrid import DataGrid

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/bench.db")
        _Base.metadata.create_all(engine)
        data = make_data(1_000_000, seed=5)
        with engine.begin() as conn:
            for start in range(0, 1_000_000, 100_000):
                batch = [
                    {"id": i + 1, "name_key": fold_text(data["name"][i])}
                    | {k: data[k][i] for k in data}
                    for i in range(start, start + 100_000)
                ]
                conn.execute(insert(Pet), batch)
        del data
        source = SqlSource(
            select(Pet),
            make_session_factory(engine),
            {"name": Pet.name, "species": Pet.species, "age": Pet.age, "fee": Pet.fee},
            id_column=Pet.id,
            sort_columns={"name": Pet.name_key},
        )
        from widgets.datagrid import GridQuery, SortKey

        result = source.run(GridQuery(sort=(SortKey("name"),)))
        rng = random.Random(4)
        jumps, flips = [], []
        for _ in range(30):
            start = rng.randrange(0, result.count - 50) // 50 * 50
            t0 = time.perf_counter()
            result.rows(start, start + 50)
            jumps.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            result.rows(start + 50, start + 100)
            flips.append(time.perf_counter() - t0)

        grid = DataGrid(columns, source=source, page_size=50)
        grid.resize(900, 700)
        grid.show()
        wait_idle(app, grid)
        grid.sort_by("name")
        wait_idle(app, grid)
        grid.set_page(10_000)
        wait_idle(app, grid)
        ends = []
        for step in range(40):
            t0 = time.perf_counter()
            grid.set_page(10_001 + step)
            wait_idle(app, grid)
            ends.append(time.perf_counter() - t0)
        grid.shutdown()
        grid.deleteLater()
        app.processEvents()
        engine.dispose()
    return (
        statistics.median(flips) * 1000,
        statistics.median(jumps) * 1000,
        statistics.median(ends) * 1000,
    )


if __name__ == "__main__":
    sys.exit(main())
