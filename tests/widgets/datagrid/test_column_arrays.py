"""The in-memory source's numpy arrays: every projection sorts like Python, cancellation
stops the work, and a 1M-row sort leaves the UI thread free where ``sorted()`` does not."""

from __future__ import annotations

import datetime as dt
import random
import string
import threading
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import pytest

from widgets.datagrid import column_arrays
from widgets.datagrid.sources import InMemorySource, QueryCancelledError, fold_text
from widgets.datagrid.state import Column, GridQuery, SortKey, TextFilter

UTC = dt.UTC
PLUS2 = dt.timezone(dt.timedelta(hours=2))
LONG = "x" * (column_arrays.FIXED_WIDTH_LIMIT + 5)


def order_of(values: Sequence[Any], descending: bool = False, kind: Any = "auto") -> list[Any]:
    source = InMemorySource([Column("v", "V", kind=kind)], [(v,) for v in values])
    result = source.run(GridQuery(sort=(SortKey("v", descending),)))
    return [row[0] for row in result.rows(0, result.count)]


def python_order(values: Sequence[Any], descending: bool = False) -> list[Any]:
    """Stable, nulls last, text by fold_text: what the grid promises."""
    present = [v for v in values if v is not None]
    nulls = [v for v in values if v is None]

    def key(value: Any) -> Any:
        return fold_text(value) if isinstance(value, str) else value

    return sorted(present, key=key, reverse=descending) + nulls


CASES: dict[str, list[Any]] = {
    # fixed-width unicode keys, and variable-width ones past the width limit
    "short text": ["b", "Á", "a", None, "B", "ab", "é", "A"],
    "long text": [LONG + "b", LONG + "A", "c", None, LONG + "a", LONG],
    "int64 integers": [3, -(2**62), 2**62, None, 0, 3],
    "integers past int64 (ranked in Python)": [2**70, -(2**70), 5, None, 2**70 - 1],
    "integers and floats": [1, 0.5, -2, 1.0, None, 2.5e10],
    "big integers and floats (ranked in Python)": [2**60 + 1, 2.0**60, 2**60, 1.5],
    "decimals, 2 places": [Decimal("1.10"), Decimal("-3"), Decimal("1.1"), None, 7],
    "decimals, 12 places (ranked in Python)": [
        Decimal("0.000000000002"),
        Decimal("0.000000000001"),
        Decimal("-1"),
    ],
    "dates": [dt.date(2024, 3, 1), None, dt.date(1999, 1, 1), dt.date(2024, 3, 1)],
    "naive datetimes": [dt.datetime(2024, 1, 1, 9, 0, 0, 5), dt.datetime(2024, 1, 1, 9)],
    "aware datetimes in two zones": [
        dt.datetime(2024, 1, 1, 10, tzinfo=PLUS2),  # 08:00 UTC
        dt.datetime(2024, 1, 1, 9, tzinfo=UTC),
        dt.datetime(2024, 1, 1, 7, 59, tzinfo=UTC),
    ],
    "times (ranked in Python)": [dt.time(12), dt.time(8, 30), None, dt.time(23, 59)],
    "booleans": [True, False, None, True],
}


@pytest.mark.parametrize("values", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("descending", [False, True])
def test_every_projection_sorts_like_python(values: list[Any], descending: bool) -> None:
    assert order_of(values, descending) == python_order(values, descending)


def test_aware_and_naive_datetimes_sort_by_their_display_text() -> None:
    values = [
        dt.datetime(2024, 1, 2, 9),
        dt.datetime(2024, 1, 1, 23, tzinfo=UTC),
        dt.datetime(2023, 5, 5, 5),
    ]
    column = Column("v", "V", timezone=UTC)
    source = InMemorySource([column], [(v,) for v in values])
    result = source.run(GridQuery(sort=(SortKey("v"),)))
    shown = [column.display(r[0]) for r in result.rows(0, 3)]
    assert shown == sorted(shown)


def test_unhashable_values_sort_by_their_display_text() -> None:
    # "[1, 5]" before "[1]": "," sorts before "]"
    assert order_of([[2], [1, 5], None, [1]]) == [[1, 5], [1], [2], None]


def test_more_rows_than_a_chunk_sort_and_search_like_python() -> None:
    rng = random.Random(5)
    count = column_arrays.CHUNK * 2 + 17
    names = [
        None if i % 97 == 0 else "".join(rng.choices("aAbBéÉz", k=rng.randint(0, 5)))
        for i in range(count)
    ]
    source = InMemorySource([Column("v", "V")], [(n,) for n in names])
    result = source.run(GridQuery(sort=(SortKey("v", True),), filters=(("v", TextFilter("É")),)))
    expected = python_order([n for n in names if n is not None and "é" in n.casefold()], True)
    assert [r[0] for r in result.rows(0, result.count)] == expected


def test_prepare_stops_when_cancelled_and_finishes_later() -> None:
    rows = [(f"name {i}", i) for i in range(column_arrays.CHUNK * 3)]
    source = InMemorySource([Column("name", "Name"), Column("n", "N")], rows)
    calls = 0

    def cancel_after_two_checks() -> bool:
        nonlocal calls
        calls += 1
        return calls > 2

    assert source.prepare(("name",), cancel_after_two_checks) is False
    assert source.prepare(("name",)) is True
    with pytest.raises(QueryCancelledError):
        InMemorySource([Column("name", "Name"), Column("n", "N")], rows).run(
            GridQuery(sort=(SortKey("name"),)), lambda: True
        )


def _longest_gap(work: Callable[[], Any]) -> float:
    """The longest gap between ticks of this thread (1 ms sleeps) while ``work`` runs on another
    thread: how long the interpreter lock was kept from it."""
    done = threading.Event()
    worker = threading.Thread(target=lambda: (work(), done.set()))
    gaps = []
    last = time.perf_counter()
    worker.start()
    while not done.is_set():
        time.sleep(0.001)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    worker.join()
    return max(gaps)


@pytest.mark.slow
def test_a_large_sort_and_search_leave_the_other_threads_running() -> None:
    """Beside ``sorted()`` of the same column in the same run (which keeps the lock for its
    whole length), the source's sort, search and preparation keep it only briefly."""
    rng = random.Random(1)
    count = 400_000
    names = ["".join(rng.choices(string.ascii_letters, k=rng.randint(4, 10))) for _ in range(count)]
    keys = [n.lower() for n in names]
    baseline = min(_longest_gap(lambda: sorted(keys)) for _ in range(2))
    source = InMemorySource.from_columns([Column("name", "Name")], {"name": names})
    prepare = _longest_gap(lambda: source.prepare(("name",)))
    sort = _longest_gap(lambda: source.run(GridQuery(sort=(SortKey("name", True),))))
    search = _longest_gap(lambda: source.run(GridQuery(search="qu", search_keys=("name",))))
    assert max(prepare, sort, search) < baseline / 3, (baseline, prepare, sort, search)


class RecordingSource(InMemorySource):
    """A real in-memory source that records what each preparation returned."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prepared: list[bool] = []

    def prepare(self, search_keys: Sequence[str], cancelled: Any = lambda: False) -> bool:
        complete = super().prepare(search_keys, cancelled)
        self.prepared.append(complete)
        return complete


@pytest.mark.gui
def test_preparation_gives_way_to_a_sort_and_finishes_after_it(qtbot: Any) -> None:
    """A header click right after the grid opens does not wait behind the preparation of
    every column: the preparation stops, the sort runs, then the preparation finishes."""
    from widgets.datagrid import DataGrid

    count = 60_000  # above the grid's synchronous first query, so the sort runs on the worker
    rng = random.Random(3)
    columns = [Column("name", "Name"), Column("n", "N", kind="number")]
    source = RecordingSource.from_columns(
        columns,
        {
            "name": ["".join(rng.choices(string.ascii_letters, k=6)) for _ in range(count)],
            "n": list(range(count)),
        },
    )
    assert isinstance(source, RecordingSource)
    grid = DataGrid(columns, source=source, page_size=50)
    qtbot.addWidget(grid)
    grid.sort_by("name")  # before the event loop ran: the preparation is queued or running
    qtbot.waitUntil(lambda: source.prepared[-1:] == [True], timeout=20_000)
    assert source.prepared[0] is False
    first = grid.row_at(0)
    assert first is not None
    assert fold_text(first["name"]) == min(map(fold_text, source.column_values("name")))


def test_a_lone_surrogate_neither_breaks_the_search_nor_the_sort() -> None:
    broken = b"caf\xe9".decode("utf-8", "surrogateescape")  # a Latin-1 name read as UTF-8
    long_broken = broken + LONG  # past the fixed-width limit: variable-width strings
    rows = [(broken,), ("cafe",), (long_broken,), ("abc",)]
    source = InMemorySource([Column("v", "V")], rows)
    found = source.run(GridQuery(search="caf", search_keys=("v",)))
    assert sorted(r[0] for r in found.rows(0, found.count)) == sorted([broken, "cafe", long_broken])
    ordered = source.run(GridQuery(sort=(SortKey("v"),)))
    assert ordered.rows(0, 1) == [("abc",)]
    assert ordered.count == 4


def test_a_search_tells_apart_values_that_are_equal_but_show_differently() -> None:
    """Distinct texts are kept per distinct value; 1, 1.0 and True are equal in Python but
    show "1", "1" and "Yes", Decimal 1.5 and 1.50 show alike, -0.0 shows "-0"."""
    values = [1, True, 1.0, Decimal("1.5"), Decimal("1.50"), -0.0, 0.0, None]
    source = InMemorySource([Column("v", "V")], [(v,) for v in values])

    def found(text: str) -> list[Any]:
        result = source.run(GridQuery(search=text, search_keys=("v",)))
        return [r[0] for r in result.rows(0, result.count)]

    assert found("yes") == [True]
    assert found("-") == [-0.0]
    assert len(found("1.50")) == 2


@pytest.mark.parametrize("distinct", [5, 40_000])
def test_search_by_distinct_values_or_per_row_text_finds_the_same_rows(distinct: int) -> None:
    rng = random.Random(distinct)
    pool = ["".join(rng.choices("abcdéfghij", k=8)) for _ in range(distinct)]
    values = [None if i % 50 == 0 else rng.choice(pool) for i in range(5 * column_arrays.CHUNK)]
    source = InMemorySource([Column("v", "V")], [(v,) for v in values])
    texts = source._column_texts("v", lambda: False)
    assert (texts.codes is not None) == (distinct == 5)  # few distinct values: codes
    result = source.run(GridQuery(filters=(("v", TextFilter("É")),)))
    expected = [i for i, v in enumerate(values) if v is not None and "é" in v]
    assert result.order.tolist() == expected


class PausingRecorder(InMemorySource):
    """A real in-memory source that times each of its preparation's checks for a stop."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.checks: list[tuple[float, float]] = []  # (when, how long the check took)

    def prepare(self, search_keys: Sequence[str], cancelled: Any = lambda: False) -> bool:
        def timed() -> bool:
            start = time.perf_counter()
            try:
                return bool(cancelled())
            finally:
                self.checks.append((start, time.perf_counter() - start))

        return super().prepare(search_keys, timed)


@pytest.mark.gui
def test_the_background_preparation_leaves_the_lock_free_between_its_slices(qtbot: Any) -> None:
    """Every call Qt makes into Python while painting needs the interpreter lock; a worker
    converting values holds it up to 5 ms a turn, so a paint waited 120-320 ms at 1M rows.
    After a short first burst the preparation sleeps between slices, lock released."""
    from widgets.datagrid import DataGrid, view

    count = 200_000
    rng = random.Random(5)
    columns = [Column("name", "Name"), Column("n", "N", kind="number")]
    source = PausingRecorder.from_columns(
        columns,
        {
            "name": ["".join(rng.choices(string.ascii_letters, k=7)) for _ in range(count)],
            "n": [rng.random() for _ in range(count)],
        },
    )
    assert isinstance(source, PausingRecorder)
    grid = DataGrid(columns, source=source, page_size=50)
    qtbot.addWidget(grid)
    qtbot.waitUntil(lambda: not grid.is_loading() and len(source.checks) > 20, timeout=20_000)
    qtbot.waitUntil(lambda: grid._prepared, timeout=30_000)
    first = source.checks[0][0]
    after = [took for at, took in source.checks if at - first > view.PREPARE_BURST * 2]
    assert after, "the preparation ended within its burst: make the table larger"
    assert min(after) >= view.PREPARE_PAUSE * 0.9, after  # every slice gives way


class FakeClock:
    """``view.time`` for one test: a clock that moves only when told, and recorded sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[tuple[float, float]] = []  # (at, seconds)

    def perf_counter(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append((self.now, seconds))


class Capturing(InMemorySource):
    """A real in-memory source whose preparation only keeps the stop check it was given."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list[Callable[[], bool]] = []

    def prepare(self, search_keys: Sequence[str], cancelled: Any = lambda: False) -> bool:
        self.seen.append(cancelled)
        return False  # not complete: the test drives the policy itself


@pytest.mark.gui
def test_the_preparation_runs_flat_out_for_its_burst_and_never_pauses_a_waiting_query(
    qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pause policy on a clock the test moves: no pause within the first burst (a sort
    clicked as the grid opens finds that much built), one per slice after it, and none
    once a query waits (the preparation stops at once)."""
    from widgets.datagrid import DataGrid, view

    clock = FakeClock()
    monkeypatch.setattr(view, "time", clock)
    columns = [Column("name", "Name")]
    source = Capturing(columns, [("a",), ("b",)])
    grid = DataGrid(columns, source=source, page_size=50)
    qtbot.addWidget(grid)
    qtbot.waitUntil(lambda: bool(source.seen), timeout=10_000)
    stop = source.seen[0]
    burst = view.PREPARE_BURST
    for at in (0.0, burst / 4, burst / 2, burst * 0.99):
        clock.now = 100.0 + at
        assert stop() is False
    assert clock.sleeps == []
    for at in (burst * 1.01, burst * 2, burst * 10):
        clock.now = 100.0 + at
        assert stop() is False
    assert [seconds for _at, seconds in clock.sleeps] == [view.PREPARE_PAUSE] * 3
    grid.sort_by("name")  # a newer query: the preparation must stop, without a pause
    assert stop() is True
    assert len(clock.sleeps) == 3
