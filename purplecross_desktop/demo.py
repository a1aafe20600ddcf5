"""Realistic, deterministic demo data in bulk: 1M appointments in about a minute.

Names and streets come from seeded Faker pools combined with a seeded ``random``; rows
are written with one compiled ``INSERT`` executed many times per chunk (SQLite) or
``COPY`` (PostgreSQL), all in one transaction, never through ORM objects.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from queue import Full, Queue
from typing import Any

import sqlalchemy as sa

from purplecross_desktop.database.base import utcnow
from purplecross_desktop.database.models import metadata
from purplecross_desktop.database.session import SessionFactory, make_engine
from purplecross_desktop.demo_diary import ClinicRows
from purplecross_desktop.domain.appointments import SQLITE_GUARDS
from purplecross_desktop.domain.clients import Client, clinic_is_empty
from purplecross_desktop.domain.errors import DomainError
from purplecross_desktop.domain.rooms import Room
from purplecross_desktop.domain.staff import Staff
from purplecross_desktop.domain.validation import Checker

Progress = Callable[[str, int, int], None]


CHUNK = 50_000


class DemoDataError(DomainError):
    """Demo data can only fill an empty clinic database."""


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What ``generate_demo_data`` wrote.

    Attributes:
        counts: table name -> rows written.
        seconds: wall time of the whole run.
    """

    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def is_database_empty(session_factory: SessionFactory) -> bool:
    """Whether the clinic has no clients yet (see :func:`clients.clinic_is_empty`)."""
    return clinic_is_empty(session_factory)


def generate_demo_data(
    url_or_engine: str | sa.Engine,
    *,
    clients: int,
    patients: int,
    appointments: int,
    seed: int = 1,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> DemoSummary:
    """Fill an empty, migrated clinic database with demo data; all of it or none.

    Staff already there (the admin made at the first start) stay and keep their logins;
    the demo's staff get ids after theirs. The same sizes, seed, day of ``now`` and
    existing staff give the same data. Raises ``ValidationError`` for bad sizes and
    ``DemoDataError`` when the database has clients.
    """
    checker = Checker()
    checker.integer("clients", clients, minimum=1)
    checker.integer("patients", patients, minimum=0)
    checker.integer("appointments", appointments, minimum=0)
    if checker.ok("patients") and checker.ok("appointments") and appointments and not patients:
        checker.add("appointments", "need at least one patient")
    checker.raise_if_any()
    started = time.perf_counter()
    engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    try:
        with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                # Bulk-load settings for this connection only, reset before it goes back.
                # (the generator keeps every reference valid; it is checked by the tests)
                for pragma in (
                    "synchronous=OFF",
                    "foreign_keys=OFF",
                    "cache_size=-262144",
                    "temp_store=MEMORY",
                    "threads=2",  # CREATE INDEX sorts on two threads
                ):
                    conn.exec_driver_sql(f"PRAGMA {pragma}")
                conn.commit()
            try:
                with conn.begin():
                    if conn.scalar(sa.select(Client.id).limit(1)):
                        raise DemoDataError(
                            "the database already has clients; use one without clients"
                        )
                    writer = _Writer(conn, progress or (lambda stage, done, total: None))
                    builder = ClinicRows(writer, random.Random(seed), seed, now or utcnow())
                    builder.staff_offset = int(conn.scalar(sa.select(sa.func.max(Staff.id))) or 0)
                    builder.room_offset = int(conn.scalar(sa.select(sa.func.max(Room.id))) or 0)
                    builder.taken_logins = set(conn.scalars(sa.select(Staff.login)))
                    builder.run(clients, patients, appointments)
                    writer.finish()
                    writer.counts["price_items"] = _write_price_list(conn, now or utcnow())
            finally:
                if sqlite:
                    conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
                    conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                    conn.exec_driver_sql("PRAGMA cache_size=-2000")
                    conn.commit()
    finally:
        if isinstance(url_or_engine, str):
            engine.dispose()
    return DemoSummary(counts=dict(writer.counts), seconds=time.perf_counter() - started)


#: The demo clinic's price list: (name, kind, unit price, tax rate).
DEMO_PRICE_LIST: tuple[tuple[str, str, str, str], ...] = (
    ("Consultation", "service", "45.00", "0.2"),
    ("Follow-up consultation", "service", "30.00", "0.2"),
    ("Vaccination (annual booster)", "service", "55.00", "0.2"),
    ("Nail clip", "service", "12.00", "0.2"),
    ("Dental scale and polish", "service", "220.00", "0.2"),
    ("Microchipping", "service", "25.00", "0.2"),
    ("Worming tablets", "product", "8.50", "0.2"),
    ("Flea treatment (spot-on)", "product", "14.00", "0.2"),
    ("Prescription diet, 2 kg", "product", "24.99", "0.2"),
    ("Pain relief (meloxicam), 10 ml", "product", "16.40", "0.2"),
)


def _write_price_list(conn: sa.Connection, now: dt.datetime) -> int:
    from decimal import Decimal

    from purplecross_desktop.domain.price_list import PriceItem

    rows = [
        {
            "name": name,
            "kind": kind,
            "unit_price": Decimal(price),
            "tax_rate": Decimal(rate),
            "active": True,
            "updated_at": now,
        }
        for name, kind, price, rate in DEMO_PRICE_LIST
    ]
    conn.execute(sa.insert(PriceItem), rows)
    return len(rows)


class _Writer:
    """Writes rows of plain values the fastest way each backend offers."""

    def __init__(self, conn: sa.Connection, progress: Progress) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        self.progress = progress
        self.counts: dict[str, int] = {}
        self._dropped: list[sa.Index] = []
        self._triggers: list[str] = []

    def write(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], total: int
    ) -> None:
        """Insert ``rows`` (tuples in ``columns`` order) into ``table`` in chunks."""
        done = 0
        self.progress(table, 0, total)
        if table not in self.counts:
            # Building an index once from sorted data is far cheaper than updating it for
            # every row; the tables are empty, so this changes nothing anyone can see.
            for index in metadata.tables[table].indexes:
                index.drop(self.conn)
                self._dropped.append(index)
            if table == "appointments" and self.sqlite:
                # the double-booking triggers would search the unindexed table per row;
                # the generator never double books (the tests check it)
                for name, sql in SQLITE_GUARDS.items():
                    self.conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
                    self._triggers.append(sql)
        for chunk in _prefetched(_chunks(rows, CHUNK)):
            if self.sqlite:
                # sqlite3 binds no Decimal; text in a NUMERIC column is stored as a number
                if any(isinstance(v, Decimal) for v in chunk[0]):
                    chunk = [
                        tuple(str(v) if isinstance(v, Decimal) else v for v in row) for row in chunk
                    ]
                marks = ", ".join("?" * len(columns))
                sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
                self.conn.exec_driver_sql(sql, chunk)
            else:
                self._copy(table, columns, chunk)
            done += len(chunk)
            self.progress(table, done, max(total, done))
        self.counts[table] = self.counts.get(table, 0) + done

    def _copy(self, table: str, columns: Sequence[str], rows: list[Sequence[Any]]) -> None:
        raw = self.conn.connection.dbapi_connection
        assert raw is not None
        with (
            raw.cursor() as cursor,  # type: ignore[attr-defined]
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def finish(self) -> None:
        """Move id sequences past the ids we chose, and refresh the planner's statistics."""
        for index in self._dropped:
            self.progress("indexes", self._dropped.index(index), len(self._dropped))
            index.create(self.conn)
        self.progress("indexes", len(self._dropped), len(self._dropped))
        for sql in self._triggers:
            self.conn.exec_driver_sql(sql)
        if self.sqlite:
            self.conn.exec_driver_sql("PRAGMA analysis_limit=1000")  # sampled: seconds less
            self.conn.exec_driver_sql("ANALYZE")
            return
        for table in self.counts:
            self.conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            )
        self.conn.exec_driver_sql("ANALYZE")


def _prefetched(chunks: Iterator[list[Sequence[Any]]]) -> Iterator[list[Sequence[Any]]]:
    """Generate the next chunk on a thread while the database writes this one (sqlite3 and
    psycopg release the GIL while the database works)."""
    queue: Queue[tuple[list[Sequence[Any]] | None, BaseException | None]] = Queue(maxsize=2)
    stop = threading.Event()

    def offer(item: tuple[list[Sequence[Any]] | None, BaseException | None]) -> bool:
        # never block for good: the consumer may have stopped (it raised)
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not offer((chunk, None)):
                    return
            offer((None, None))
        except BaseException as exc:  # handed to the consumer, raised there
            offer((None, exc))

    thread = threading.Thread(target=produce, name="demo-data-rows", daemon=True)
    thread.start()
    try:
        while True:
            chunk, error = queue.get()
            if error is not None:
                raise error
            if chunk is None:
                return
            yield chunk
    finally:
        stop.set()
        thread.join()


def _chunks(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    chunk: list[Sequence[Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
