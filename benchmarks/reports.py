"""Reports: rows/s of the appointment schedule as CSV, XLSX and PDF vs bare writers of its rows.

One SQLite file (the workstation setup) with the demo clinic: 100,000 appointments. Ours
is the ``reports.run`` task (keyset pages of 2,000 rows, progress and cancel checks per
page, typed and neutralised cells, header, totals, the file moved into place). Each
baseline reads the same SELECT (the report's joins, in one streamed query) and writes
the raw rows with nothing else: ``csv.writer``, an openpyxl write-only workbook,
fpdf2 ``cell()`` calls with a page break. PDFs are measured at 10,000 rows (the issue's
budget; a 100k-row PDF is ~2,300 pages). Interleaved rounds, the median of each side.

Peak memory: each format's report runs in a fresh process that prints its resident
size before and its peak after (``VmHWM``), at 100,000 rows and at ``--big`` rows.

``python -m benchmarks reports``; ``python -m benchmarks.reports --big 1000000`` adds the
1M-row memory figure (a few minutes to generate).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROWS = 100_000
PDF_ROWS = 10_000
ROUNDS = 3
NOW = dt.datetime(2031, 3, 5, 12, 0, tzinfo=dt.UTC)
BUDGET = {"csv": None, "xlsx": 1.5, "pdf": 1.5}


def _clinic(folder: Path, appointments: int) -> str:
    import purplecross_desktop.database.models  # noqa: F401
    from purplecross_desktop.database import Base, make_engine
    from purplecross_desktop.demo import generate_demo_data

    url = f"sqlite:///{folder / 'clinic.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    generate_demo_data(
        engine,
        clients=max(100, appointments // 5),
        patients=max(150, appointments // 3),
        appointments=appointments,
        now=NOW,
    )
    engine.dispose()
    return url


def _service(url: str, folder: Path) -> Any:
    from jobs.platform import JobPlatform, JobsConfig
    from jobs.queues import BrokerConfig
    from jobs.reports import ReportOptions, register
    from purplecross_desktop.database import make_engine

    config = JobsConfig(
        broker=BrokerConfig(queue_file=folder / "queue.db"), signing_key=b"benchmark-key"
    )
    platform = JobPlatform(config, make_engine(url))
    return register(platform, ReportOptions(folder / "out"))


def _period(url: str, rows: int) -> tuple[dt.date, dt.date]:
    """The first ``rows`` appointments' days (the whole diary when it has fewer)."""
    from purplecross_desktop.database import make_engine
    from purplecross_desktop.domain.appointments import Appointment

    engine = make_engine(url)
    with engine.connect() as conn:
        starts = conn.execute(
            sa.select(Appointment.starts_at).order_by(Appointment.starts_at).limit(rows)
        ).scalars()
        days = [s.date() for s in starts]
    engine.dispose()
    return days[0], days[-1]


def _ours(service: Any, fmt: str, start: dt.date, end: dt.date) -> int:
    job = service.queue("appointments", fmt, start, end)
    info = service.for_job(job)
    service.run(info.id)
    done = service.get(info.id)
    assert done.state == "completed", done.message
    Path(done.path).unlink()
    return int(done.rows)


def _bare_rows(url: str, start: dt.date, end: dt.date) -> Any:
    from jobs.report_kinds import AppointmentSchedule, ReportParams
    from purplecross_desktop.database import make_engine

    kind = AppointmentSchedule()
    # The report's own SELECT (same joins and columns), read in one streamed query.
    statement = kind.statement(ReportParams(start, end)).order_by(*kind.keys)
    engine = make_engine(url)
    conn = engine.connect()
    result = conn.execution_options(stream_results=True, yield_per=2000).execute(statement)
    return engine, conn, result


def _bare(url: str, fmt: str, start: dt.date, end: dt.date, out: Path) -> int:
    engine, conn, result = _bare_rows(url, start, end)
    count = 0
    try:
        if fmt == "csv":
            with out.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                for row in result:
                    writer.writerow(row)
                    count += 1
        elif fmt == "xlsx":
            from openpyxl import Workbook

            book = Workbook(write_only=True)
            sheet = book.create_sheet()
            for row in result:
                # Excel has no time zones: the bare minimum is to drop the (UTC) zone.
                sheet.append(
                    [
                        row[0].replace(tzinfo=None),
                        row[1].replace(tzinfo=None),
                        *(getattr(v, "value", v) for v in row[2:]),
                    ]
                )
                count += 1
            book.save(str(out))
        else:
            from fpdf import FPDF

            pdf = FPDF(orientation="L", format="A4")
            pdf.set_auto_page_break(False)
            pdf.add_page()
            pdf.set_font("Helvetica", "", 7.5)
            width = (pdf.w - 20) / 10
            for row in result:
                if pdf.get_y() > pdf.h - 14:
                    pdf.add_page()
                for value in row:
                    text = str(value).encode("latin-1", "replace").decode("latin-1")
                    pdf.cell(width, 4.6, text)
                pdf.ln(4.6)
                count += 1
            pdf.output(str(out))
    finally:
        conn.close()
        engine.dispose()
    out.unlink()
    return count


def _timed(work: Callable[[], int]) -> tuple[float, int]:
    started = time.perf_counter()
    rows = work()
    return time.perf_counter() - started, rows


MEMORY_CHILD = """
import json, sys, datetime as dt
from pathlib import Path
sys.path.insert(0, {root!r})
from benchmarks.reports import _service
def status_mb(field):
    for line in open('/proc/self/status'):
        if line.startswith(field + ':'):
            return int(line.split()[1]) / 1024
service = _service({url!r}, Path({folder!r}))
service.engine.connect().close()
import openpyxl, fpdf  # loaded before the start figure: they are code, not data
before = status_mb('VmRSS')
job = service.queue('appointments', {fmt!r}, dt.date.fromisoformat({start!r}),
                    dt.date.fromisoformat({end!r}))
info = service.for_job(job)
service.run(info.id)
done = service.get(info.id)
# VmHWM, not ru_maxrss: Linux keeps a parent's ru_maxrss across fork and exec.
peak = status_mb('VmHWM')
print(json.dumps({{"rows": done.rows, "before": before, "peak": peak, "state": done.state}}))
"""


def _memory(url: str, folder: Path, fmt: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    root = str(Path(__file__).resolve().parents[1])
    code = MEMORY_CHILD.format(
        root=root,
        url=url,
        folder=str(folder),
        fmt=fmt,
        start=start.isoformat(),
        end=end.isoformat(),
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def main(big: int = 0) -> int:
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        url = _clinic(folder, ROWS)
        print(f"demo clinic with {ROWS:,} appointments in {time.perf_counter() - started:.0f} s")
        service = _service(url, folder)
        whole = _period(url, ROWS)
        part = _period(url, PDF_ROWS)
        print(f"{'format':<6} {'rows':>8} {'ours rows/s':>12} {'bare rows/s':>12} {'ratio':>7}")
        for fmt in ("csv", "xlsx", "pdf"):
            start, end = part if fmt == "pdf" else whole
            ours: list[float] = []
            bare: list[float] = []
            rows = 0
            for _ in range(ROUNDS):
                seconds, rows = _timed(lambda f=fmt, s=start, e=end: _ours(service, f, s, e))
                ours.append(seconds)
                seconds, bare_rows = _timed(
                    lambda f=fmt, s=start, e=end: _bare(url, f, s, e, folder / f"bare.{f}")
                )
                bare.append(seconds)
                assert bare_rows == rows, (bare_rows, rows)
            mine, theirs = statistics.median(ours), statistics.median(bare)
            ratio = mine / theirs
            budget = BUDGET[fmt]
            verdict = "" if budget is None else ("ok" if ratio <= budget else "OVER")
            failed += verdict == "OVER"
            print(
                f"{fmt:<6} {rows:>8,} {rows / mine:>12,.0f} {rows / theirs:>12,.0f} "
                f"{ratio:>6.2f}x {'' if budget is None else f'(budget {budget}x) '}{verdict}"
            )
        print("peak memory (fresh process, RSS at start -> peak):")
        for fmt in ("csv", "xlsx"):
            figures = _memory(url, folder, fmt, *whole)
            print(
                f"  {fmt:<5} {figures['rows']:>9,} rows: {figures['before']:.0f} MB -> "
                f"{figures['peak']:.0f} MB (+{figures['peak'] - figures['before']:.0f} MB)"
            )
        figures = _memory(url, folder, "pdf", *part)
        print(
            f"  pdf   {figures['rows']:>9,} rows: {figures['before']:.0f} MB -> "
            f"{figures['peak']:.0f} MB (+{figures['peak'] - figures['before']:.0f} MB)"
        )
        service.platform.close()
        if big:
            bigger = folder / "big"
            bigger.mkdir()
            started = time.perf_counter()
            url = _clinic(bigger, big)
            print(f"demo clinic with {big:,} appointments in {time.perf_counter() - started:.0f} s")
            span = _period(url, big)
            for fmt in ("csv", "xlsx"):
                figures = _memory(url, bigger, fmt, *span)
                print(
                    f"  {fmt:<5} {figures['rows']:>9,} rows: {figures['before']:.0f} MB -> "
                    f"{figures['peak']:.0f} MB (+{figures['peak'] - figures['before']:.0f} MB)"
                )
    return failed


if __name__ == "__main__":
    big = int(sys.argv[sys.argv.index("--big") + 1]) if "--big" in sys.argv else 0
    sys.exit(main(big))
