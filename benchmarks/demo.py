"""Demo data benchmark: ``purplecross demo`` at full size (100k clients, 150k patients,
1M appointments) on a SQLite file, beside the floor of merely writing that many rows.

The baseline, measured in the same run: one ``sqlite3`` ``executemany`` of 1M ready-made
20-column appointment tuples into a table without indexes, in one transaction — no row
generation, no other tables, no indexes. Sizes can be lowered for a quick look:
``PURPLECROSS_BENCH_DEMO=10000,15000,100000 .venv/bin/python -m benchmarks demo``.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 60.0  # "about a minute" on the 2-core development machine


def _baseline(path: Path, rows: int) -> float:
    """Seconds to write ``rows`` ready-made appointment-shaped tuples, nothing else."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    columns = [f"c{i}" for i in range(20)]
    conn.execute(f"CREATE TABLE t (id INTEGER PRIMARY KEY, {', '.join(columns[1:])})")
    stamp = "2031-03-05 10:00:00.000000"
    template = (7, 7, 3, 2, stamp, stamp, "consultation", "limping", "", "completed", stamp)
    template += (stamp, stamp, stamp, stamp, None, None, None, stamp)
    data = [(i, *template) for i in range(1, rows + 1)]
    marks = ", ".join("?" * 20)
    started = time.perf_counter()
    with conn:
        conn.executemany(f"INSERT INTO t VALUES ({marks})", data)
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def main() -> int:
    from purplecross_desktop.database.session import upgrade
    from purplecross_desktop.demo import generate_demo_data

    sizes = os.environ.get("PURPLECROSS_BENCH_DEMO", "100000,150000,1000000")
    clients, patients, appointments = (int(part) for part in sizes.split(","))
    with tempfile.TemporaryDirectory(prefix="pc-bench-demo-") as folder:
        base = _baseline(Path(folder) / "baseline.db", appointments)
        url = f"sqlite:///{Path(folder) / 'clinic.db'}"
        upgrade(url)
        cpu = time.process_time()
        summary = generate_demo_data(
            url, clients=clients, patients=patients, appointments=appointments, seed=1
        )
        cpu = time.process_time() - cpu
        size_mb = (Path(folder) / "clinic.db").stat().st_size / 1e6
    total = sum(summary.counts.values())
    print(f"sizes: {clients:,} clients, {patients:,} patients, {appointments:,} appointments")
    print(f"{'what':<48}{'seconds':>10}")
    print(f"{'demo data, wall (all tables, indexes, ANALYZE)':<48}{summary.seconds:>10.1f}")
    print(f"{'demo data, CPU of this process':<48}{cpu:>10.1f}")
    print(f"{'baseline: bare executemany of the appts':<48}{base:>10.1f}")
    print(f"rows written: {total:,} ({total / summary.seconds:,.0f}/s); file {size_mb:,.0f} MB")
    print(f"ratio to baseline: {summary.seconds / base:.1f}x; target: about {TARGET_SECONDS:.0f} s")
    for table, count in summary.counts.items():
        print(f"  {table:<16}{count:>12,}")
    return 0
