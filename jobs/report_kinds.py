"""The reports a clinic asks for: their columns, filters and the SQL that streams their rows.

Every kind reads the database a page at a time (keyset pagination on an indexed key, one
short read per page), so a report over a million appointments never holds more than one
page of rows. Kinds that summarise (revenue, no-show rate, job activity) aggregate as
the pages pass, into one bucket per period or queue, and emit the buckets at the end.

Periods are dates in the clinic's time zone, both ends included; instants stored in UTC
(appointment starts, payments, job creation) are compared with the local midnights that
bound the period.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from jobs.models import Job
from purplecross_desktop.domain.appointments import Appointment, AppointmentStatus
from purplecross_desktop.domain.billing import Invoice, InvoiceStatus, Payment
from purplecross_desktop.domain.clients import Client, ClientPhone
from purplecross_desktop.domain.medical import Prescription, Vaccination
from purplecross_desktop.domain.patients import Patient
from purplecross_desktop.domain.rooms import Room
from purplecross_desktop.domain.staff import Staff

ZERO = Decimal("0.00")
Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class ReportColumn:
    """One column of a report.

    Args:
        key: its name in code.
        title: its heading in the file.
        kind: ``text``, ``int``, ``money``, ``percent``, ``date`` or ``datetime`` (an
            aware instant, written in the clinic's time zone).
        width: its share of the PDF page's width.
        total: summed into the totals row.
    """

    key: str
    title: str
    kind: str = "text"
    width: float = 1.0
    total: bool = False


@dataclass(frozen=True, slots=True)
class ReportParams:
    """What one run of a report covers.

    Args:
        start: the first day (clinic time).
        end: the last day, included.
        filters: the kind's filters, already checked.
        zone: the clinic's time zone.
    """

    start: dt.date
    end: dt.date
    filters: Mapping[str, Any] = field(default_factory=dict)
    zone: dt.tzinfo = dt.UTC

    def midnight(self, day: dt.date) -> dt.datetime:
        """The instant (UTC) the clinic's ``day`` begins."""
        local = dt.datetime.combine(day, dt.time(0), tzinfo=self.zone)
        return local.astimezone(dt.UTC)

    @property
    def since(self) -> dt.datetime:
        """The period's first instant (UTC)."""
        return self.midnight(self.start)

    @property
    def until(self) -> dt.datetime:
        """The instant after the period (UTC): the start of the day after ``end``."""
        return self.midnight(self.end + dt.timedelta(days=1))

    def local_date(self, instant: dt.datetime) -> dt.date:
        return instant.astimezone(self.zone).date()


@dataclass(frozen=True, slots=True)
class FilterSpec:
    """One filter a kind accepts: how to check it and what it means."""

    name: str
    check: Callable[[Any], Any]
    help: str


def _positive_id(value: Any) -> int:
    if type(value) is not int or value < 1:
        raise ValueError("must be a positive whole number (an id)")
    return value


def _flag(value: Any) -> bool:
    if type(value) is not bool:
        raise ValueError("must be true or false")
    return value


GROUPS = ("day", "week", "month")


def _group(value: Any) -> str:
    if value not in GROUPS:
        raise ValueError(f"must be one of {', '.join(GROUPS)}")
    return str(value)


Pages = Iterator[list[Row]]


class ReportKind:
    """A report: title, columns, filters, and how to stream its rows.

    Subclasses set the class attributes and implement :meth:`count` and :meth:`pages`;
    :meth:`totals` sums the columns marked ``total`` unless a kind knows better.
    """

    name = ""
    title = ""
    description = ""
    columns: tuple[ReportColumn, ...] = ()
    filters: tuple[FilterSpec, ...] = ()

    def count(self, conn: sa.Connection, params: ReportParams) -> int:
        """How many rows to expect (for progress); a close upper bound is fine."""
        raise NotImplementedError

    def pages(self, engine: sa.Engine, params: ReportParams, page_size: int) -> Pages:
        """The report's rows, a page at a time, one value per column."""
        raise NotImplementedError

    def totals(self, sums: Sequence[Any]) -> Row | None:
        """The totals row from the column sums (None where a column is not summed)."""
        if not any(c.total for c in self.columns):
            return None
        return ("Total", *sums[1:])


def keyset_pages(
    engine: sa.Engine,
    statement: sa.Select[Any],
    keys: Sequence[Any],
    page_size: int,
) -> Iterator[list[Row]]:
    """The rows of ``statement`` in ``keys`` order, a page at a time.

    Each page is one short read that starts after the last key seen, so the database
    serves it from the index without an OFFSET scan, and no read stays open between
    pages (a long report never holds a transaction or a lock). The keys are not
    returned. Rows added meanwhile after the current key appear; that is the price of
    not holding one snapshot for the whole report.
    """
    n = len(keys)
    paged = statement.add_columns(*keys).order_by(*keys).limit(page_size)
    last: Sequence[Any] | None = None
    while True:
        query = paged if last is None else paged.where(*_after(keys, last))
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return
        yield [tuple(row[:-n]) for row in rows]
        if len(rows) < page_size:
            return
        last = tuple(rows[-1][-n:])


def _after(keys: Sequence[Any], last: Sequence[Any]) -> list[sa.ColumnElement[bool]]:
    """``keys > last`` in key order, spelled so that the database starts the index range
    at ``last`` (SQLite does not for a row-value comparison: it would scan from the
    period's start on every page, which makes a long report quadratic)."""
    after: sa.ColumnElement[bool] = keys[-1] > last[-1]
    for key, value in zip(reversed(keys[:-1]), reversed(last[:-1]), strict=True):
        after = sa.or_(key > value, sa.and_(key == value, after))
    return [keys[0] >= last[0], after]


def _count(conn: sa.Connection, statement: sa.Select[Any]) -> int:
    total = conn.execute(sa.select(sa.func.count()).select_from(statement.subquery())).scalar()
    return int(total or 0)


# The kinds ------------------------------------------------------------------------------


class AppointmentSchedule(ReportKind):
    """Every appointment in the period, in time order: the day sheet (or week) of a clinic."""

    name = "appointments"
    title = "Appointment schedule"
    description = "Appointments in the period in time order; per vet or room with a filter."
    columns = (
        ReportColumn("starts_at", "Starts", "datetime", 1.3),
        ReportColumn("ends_at", "Ends", "datetime", 1.3),
        ReportColumn("patient", "Patient", width=1.0),
        ReportColumn("species", "Species", width=0.8),
        ReportColumn("client", "Client", width=1.4),
        ReportColumn("vet", "Vet", width=1.3),
        ReportColumn("room", "Room", width=1.3),
        ReportColumn("type", "Type", width=1.0),
        ReportColumn("status", "Status", width=0.8),
        ReportColumn("reason", "Reason", width=1.8),
    )
    filters = (
        FilterSpec("vet_id", _positive_id, "only this vet's appointments"),
        FilterSpec("room_id", _positive_id, "only this room's appointments"),
    )

    def _where(self, base: Any, params: ReportParams) -> sa.Select[Any]:
        statement: sa.Select[Any] = base.where(
            Appointment.starts_at >= params.since, Appointment.starts_at < params.until
        )
        if "vet_id" in params.filters:
            statement = statement.where(Appointment.vet_id == params.filters["vet_id"])
        if "room_id" in params.filters:
            statement = statement.where(Appointment.room_id == params.filters["room_id"])
        return statement

    def count(self, conn: sa.Connection, params: ReportParams) -> int:
        return _count(conn, self._where(sa.select(Appointment.id), params))

    #: The order rows come in (and the keyset pages walk).
    keys = (Appointment.starts_at, Appointment.id)

    def statement(self, params: ReportParams) -> sa.Select[Any]:
        """The rows' SELECT, unordered (the benchmark's baseline reads it in one stream)."""
        return self._where(
            sa.select(
                Appointment.starts_at,
                Appointment.ends_at,
                Patient.name,
                Patient.species,
                Client.name,
                Staff.name,
                Room.name,
                Appointment.type,
                Appointment.status,
                Appointment.reason,
            )
            # Outer joins (every key is a NOT NULL foreign key, so the rows are the same):
            # they keep SQLite driving from the appointments' start index, which serves
            # each page in order; with inner joins it may start from rooms and sort every
            # remaining row for each page (a 100k-row report took 40 s instead of 4).
            .outerjoin(Patient, Patient.id == Appointment.patient_id)
            .outerjoin(Client, Client.id == Appointment.client_id)
            .outerjoin(Staff, Staff.id == Appointment.vet_id)
            .outerjoin(Room, Room.id == Appointment.room_id),
            params,
        )

    def pages(self, engine: sa.Engine, params: ReportParams, page_size: int) -> Pages:
        statement = self.statement(params)
        for page in keyset_pages(engine, statement, self.keys, page_size):
            yield [(*r[:3], _label(r[3]), *r[4:7], _label(r[7]), _label(r[8]), r[9]) for r in page]


class Revenue(ReportKind):
    """Invoiced, paid and outstanding per day, week or month of the period."""

    name = "revenue"
    title = "Revenue by period"
    description = (
        "Per day, week or month: invoices issued and their total, payments received, and "
        "what is still owed on the invoices of that period. Void invoices count for nothing."
    )
    columns = (
        ReportColumn("period", "Period", width=1.2),
        ReportColumn("invoices", "Invoices", "int", total=True),
        ReportColumn("invoiced", "Invoiced", "money", total=True),
        ReportColumn("paid", "Paid", "money", total=True),
        ReportColumn("outstanding", "Outstanding", "money", total=True),
    )
    filters = (FilterSpec("group", _group, "day, week or month (default month)"),)

    def count(self, conn: sa.Connection, params: ReportParams) -> int:
        return len(_buckets(params))

    def pages(self, engine: sa.Engine, params: ReportParams, page_size: int) -> Pages:
        buckets: dict[str, list[Any]] = {key: [0, ZERO, ZERO, ZERO] for key in _buckets(params)}
        group = params.filters.get("group", "month")
        issued = (
            sa.select(
                Invoice.issued_on,
                sa.func.count(Invoice.id),
                sa.func.sum(Invoice.total),
                sa.func.sum(Invoice.balance),
            )
            .where(
                Invoice.issued_on >= params.start,
                Invoice.issued_on <= params.end,
                Invoice.status != InvoiceStatus.VOID,
            )
            .group_by(Invoice.issued_on)
        )
        with engine.connect() as conn:
            for day, count, total, balance in conn.execute(issued):
                bucket = buckets[_bucket_of(day, group)]
                bucket[0] += int(count)
                bucket[1] += Decimal(total or 0)
                bucket[3] += Decimal(balance or 0)
        payments: Any = (
            sa.select(Payment.paid_at, Payment.amount)
            .join(Invoice, Invoice.id == Payment.invoice_id)
            .where(
                Payment.paid_at >= params.since,
                Payment.paid_at < params.until,
                Invoice.status != InvoiceStatus.VOID,
            )
        )
        for page in keyset_pages(engine, payments, (Payment.paid_at, Payment.id), page_size):
            for paid_at, amount in page:
                buckets[_bucket_of(params.local_date(paid_at), group)][2] += amount
        rows = [(label, *values) for label, values in buckets.items()]
        for start in range(0, len(rows), page_size):
            yield rows[start : start + page_size]


class AgedDebt(ReportKind):
    """What clients owe, per invoice, by how long it is overdue at the end of the period."""

    name = "aged_debt"
    title = "Outstanding balances (aged debt)"
    description = (
        "Open invoices issued in the period with a balance, by client, with the balance in "
        "its age column (days past due at the period's last day)."
    )
    columns = (
        ReportColumn("client", "Client", width=1.6),
        ReportColumn("invoice", "Invoice", width=0.9),
        ReportColumn("issued_on", "Issued", "date", 0.9),
        ReportColumn("due_on", "Due", "date", 0.9),
        ReportColumn("days", "Days overdue", "int", 0.8),
        ReportColumn("current", "Not yet due", "money", 0.9, total=True),
        ReportColumn("d30", "1-30", "money", 0.8, total=True),
        ReportColumn("d60", "31-60", "money", 0.8, total=True),
        ReportColumn("d90", "61-90", "money", 0.8, total=True),
        ReportColumn("over90", "Over 90", "money", 0.8, total=True),
        ReportColumn("balance", "Balance", "money", 0.9, total=True),
    )

    def _statement(self, columns: Sequence[Any], params: ReportParams) -> sa.Select[Any]:
        return (
            sa.select(*columns)
            .join(Client, Client.id == Invoice.client_id)
            .where(
                Invoice.issued_on >= params.start,
                Invoice.issued_on <= params.end,
                Invoice.status == InvoiceStatus.OPEN,
                Invoice.balance > 0,
            )
        )

    def count(self, conn: sa.Connection, params: ReportParams) -> int:
        return _count(conn, self._statement([Invoice.id], params))

    def pages(self, engine: sa.Engine, params: ReportParams, page_size: int) -> Pages:
        statement = self._statement(
            [Client.name, Invoice.number, Invoice.issued_on, Invoice.due_on, Invoice.balance],
            params,
        )
        for page in keyset_pages(engine, statement, (Client.name_key, Invoice.id), page_size):
            out: list[Row] = []
            for client, number, issued_on, due_on, balance in page:
                days = (params.end - due_on).days
                ages: list[Decimal | None] = [None] * 5
                ages[_age_column(days)] = balance
                out.append((client, number, issued_on, due_on, max(days, 0), *ages, balance))
            yield out


def _age_column(days: int) -> int:
    if days <= 0:
        return 0
    if days <= 30:
        return 1
    if days <= 60:
        return 2
    return 3 if days <= 90 else 4


class VaccinationsDue(ReportKind):
    """Vaccinations falling due in the period, with the owner's contact details."""

    name = "vaccinations_due"
    title = "Vaccinations due"
    description = (
        "Each living patient's latest dose of each vaccine whose next dose falls due in the "
        "period, with the owner's email and phone."
    )
    columns = (
        ReportColumn("due", "Due", "date", 0.9),
        ReportColumn("vaccine", "Vaccine", width=1.3),
        ReportColumn("patient", "Patient", width=1.1),
        ReportColumn("species", "Species", width=0.8),
        ReportColumn("client", "Client", width=1.4),
        ReportColumn("email", "Email", width=1.8),
        ReportColumn("phone", "Phone", width=1.1),
        ReportColumn("given_on", "Last given", "date", 0.9),
    )

    def _statement(self, columns: Sequence[Any], params: ReportParams) -> sa.Select[Any]:
        later = aliased(Vaccination)
        return (
            sa.select(*columns)
            .join(Patient, Patient.id == Vaccination.patient_id)
            .join(Client, Client.id == Patient.client_id)
            .where(
                Vaccination.next_due_on >= params.start,
                Vaccination.next_due_on <= params.end,
                Patient.active.is_(True),
                Patient.deceased.is_(False),
                ~sa.exists().where(
                    later.patient_id == Vaccination.patient_id,
                    later.vaccine == Vaccination.vaccine,
                    # The latest dose; of two given the same day, the one recorded last.
                    sa.tuple_(later.given_on, later.id)
                    > sa.tuple_(Vaccination.given_on, Vaccination.id),
                ),
            )
        )

    def count(self, conn: sa.Connection, params: ReportParams) -> int:
        return _count(conn, self._statement([Vaccination.id], params))

    def pages(self, engine: sa.Engine, params: ReportParams, page_size: int) -> Pages:
        statement = self._statement(
            [
                Vaccination.next_due_on,
                Vaccination.vaccine,
                Patient.name,
                Patient.species,
                Client.name,
                Client.email,
                _first_phone(),
                Vaccination.given_on,
            ],
            params,
        )
        keys = (Vaccination.next_due_on, Vaccination.id)
        for page in keyset_pages(engine, statement, keys, page_size):
            yield [(*r[:3], _label(r[3]), *r[4:]) for r in page]


def _first_phone() -> sa.ScalarSelect[Any]:
    return (
        sa.select(ClientPhone.number)
        .where(ClientPhone.client_id == Client.id)
        .order_by(ClientPhone.position, ClientPhone.id)
        .limit(1)
        .scalar_subquery()
    )


class ClientList(ReportKind):
    """Clients registered in the period, by name, with contact details and pet count."""

    name = "clients"
    title = "Client list"
    description = (
        "Clients registered in the period (choose a wide period for all), by name, with "
        "their contact details, preferred channel and number of patients."
    )
    columns = (
        ReportColumn("id", "No.", "int", 0.5),
        ReportColumn("name", "Name", width=1.5),
        ReportColumn("email", "Email", width=1.9),
        ReportColumn("phone", "Phone", width=1.1),
        ReportColumn("city", "City", width=1.0),
        ReportColumn("postal_code", "Postcode", width=0.8),
        ReportColumn("contact", "Contact by", width=0.8),
        ReportColumn("patients", "Patients", "int", 0.6, total=True),
        ReportColumn("active", "Active", width=0.5),
        ReportColumn("registered", "Registered", "datetime", 1.2),
    )
    filters = (FilterSpec("active_only", _flag, "leave out clients marked inactive"),)

    def _statement(self, columns: Sequence[Any], params: ReportParams) -> sa.Select[Any]:
        statement = sa.select(*columns).where(
            Client.created_at >= params.since, Client.created_at < params.until
        )
        if params.filters.get("active_only"):
            statement = statement.where(Client.active.is_(True))
        return statement

    def count(self, conn: sa.Connection, params: ReportParams) -> int:
        return _count(conn, self._statement([Client.id], params))

    def pages(self, engine: sa.Engine, params: ReportParams, page_size: int) -> Pages:
        patients = (
            sa.select(sa.func.count(Patient.id))
            .where(Patient.client_id == Client.id)
            .scalar_subquery()
        )
        statement = self._statement(
            [
                Client.id,
                Client.name,
                Client.email,
                _first_phone(),
                Client.city,
                Client.postal_code,
                Client.preferred_contact,
                patients,
                Client.active,
                Client.created_at,
            ],
            params,
        )
        for page in keyset_pages(engine, statement, (Client.name_key, Client.id), page_size):
            yield [(*r[:6], _label(r[6]), r[7], "yes" if r[8] else "no", r[9]) for r in page]


class Prescriptions(ReportKind):
    """Prescriptions started in the period."""

    name = "prescriptions"
    title = "Prescriptions"
    description = "Prescriptions started in the period, with dose, refills and prescriber."
    columns = (
        ReportColumn("starts_on", "Starts", "date", 0.9),
        ReportColumn("patient", "Patient", width=1.0),
        ReportColumn("client", "Client", width=1.3),
        ReportColumn("medication", "Medication", width=1.4),
        ReportColumn("dosage", "Dosage", width=1.1),
        ReportColumn("frequency", "Frequency", width=1.1),
        ReportColumn("refills", "Refills", "int", 0.6, total=True),
        ReportColumn("ends_on", "Ends", "date", 0.9),
        ReportColumn("vet", "Vet", width=1.1),
    )

    def _statement(self, columns: Sequence[Any], params: ReportParams) -> sa.Select[Any]:
        return sa.select(*columns).where(
            Prescription.starts_on >= params.start, Prescription.starts_on <= params.end
        )

    def count(self, conn: sa.Connection, params: ReportParams) -> int:
        return _count(conn, self._statement([Prescription.id], params))

    def pages(self, engine: sa.Engine, params: ReportParams, page_size: int) -> Pages:
        statement = (
            self._statement(
                [
                    Prescription.starts_on,
                    Patient.name,
                    Client.name,
                    Prescription.medication,
                    Prescription.dosage,
                    Prescription.frequency,
                    Prescription.refills,
                    Prescription.ends_on,
                    Staff.name,
                ],
                params,
            )
            # Outer joins keep the start index driving the pages (see AppointmentSchedule).
            .outerjoin(Patient, Patient.id == Prescription.patient_id)
            .outerjoin(Client, Client.id == Patient.client_id)
            .outerjoin(Staff, Staff.id == Prescription.vet_id)
        )
        keys = (Prescription.starts_on, Prescription.id)
        yield from keyset_pages(engine, statement, keys, page_size)


class NoShows(ReportKind):
    """How many booked appointments were missed, per month of the period."""

    name = "no_shows"
    title = "No-show rate by month"
    description = (
        "Per month: appointments booked, cancelled, and missed (no-show); the rate is "
        "no-shows over appointments not cancelled."
    )
    columns = (
        ReportColumn("month", "Month"),
        ReportColumn("appointments", "Appointments", "int", total=True),
        ReportColumn("cancelled", "Cancelled", "int", total=True),
        ReportColumn("no_shows", "No-shows", "int", total=True),
        ReportColumn("rate", "No-show rate", "percent"),
    )

    def count(self, conn: sa.Connection, params: ReportParams) -> int:
        return len(_buckets(params, "month"))

    def pages(self, engine: sa.Engine, params: ReportParams, page_size: int) -> Pages:
        buckets = {key: [0, 0, 0] for key in _buckets(params, "month")}
        statement: Any = sa.select(Appointment.starts_at, Appointment.status).where(
            Appointment.starts_at >= params.since, Appointment.starts_at < params.until
        )
        keys = (Appointment.starts_at, Appointment.id)
        for page in keyset_pages(engine, statement, keys, page_size):
            for starts_at, status in page:
                bucket = buckets[_bucket_of(params.local_date(starts_at), "month")]
                bucket[0] += 1
                if status == AppointmentStatus.CANCELLED:
                    bucket[1] += 1
                elif status == AppointmentStatus.NO_SHOW:
                    bucket[2] += 1
        yield [(month, *v, _rate(v[2], v[0] - v[1])) for month, v in buckets.items()]

    def totals(self, sums: Sequence[Any]) -> Row | None:
        booked, cancelled, missed = sums[1], sums[2], sums[3]
        return ("Total", booked, cancelled, missed, _rate(missed, booked - cancelled))


def _rate(part: int, whole: int) -> Decimal | None:
    if whole <= 0:
        return None
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"))


class JobActivity(ReportKind):
    """The job system's own work: jobs per queue and outcome, created in the period."""

    name = "job_activity"
    title = "Job activity"
    description = "Jobs enqueued in the period, per queue: completed, dead, revoked, unfinished."
    columns = (
        ReportColumn("queue", "Queue", width=1.3),
        ReportColumn("jobs", "Jobs", "int", total=True),
        ReportColumn("completed", "Completed", "int", total=True),
        ReportColumn("dead", "Failed (dead)", "int", total=True),
        ReportColumn("revoked", "Cancelled", "int", total=True),
        ReportColumn("unfinished", "Unfinished", "int", total=True),
    )

    def count(self, conn: sa.Connection, params: ReportParams) -> int:
        statement = sa.select(Job.queue).where(
            Job.enqueued_at >= params.since, Job.enqueued_at < params.until
        )
        return _count(conn, statement.group_by(Job.queue))

    def pages(self, engine: sa.Engine, params: ReportParams, page_size: int) -> Pages:
        statement = (
            sa.select(Job.queue, Job.state, sa.func.count(Job.id))
            .where(Job.enqueued_at >= params.since, Job.enqueued_at < params.until)
            .group_by(Job.queue, Job.state)
            .order_by(Job.queue, Job.state)
        )
        queues: dict[str, list[int]] = {}
        places = {"completed": 1, "dead": 2, "revoked": 3}
        with engine.connect() as conn:
            for queue, state, count in conn.execute(statement):
                counts = queues.setdefault(queue, [0, 0, 0, 0, 0])
                counts[0] += count
                counts[places.get(state, 4)] += count
        yield [(queue, *counts) for queue, counts in queues.items()]


# Periods ----------------------------------------------------------------------------------


def _bucket_of(day: dt.date, group: str) -> str:
    if group == "day":
        return day.isoformat()
    if group == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day:%Y-%m}"


def _buckets(params: ReportParams, group: str | None = None) -> list[str]:
    """Every bucket label of the period, in order (empty periods show as zero rows)."""
    group = group or params.filters.get("group", "month")
    out: dict[str, None] = {}
    day = params.start
    step = dt.timedelta(days=1)
    while day <= params.end:
        out.setdefault(_bucket_of(day, group))
        day += step
    return list(out)


@functools.lru_cache(maxsize=256)
def _label(value: Any) -> str:
    """An enum's value as people read it: ``no_show`` → ``No show`` (cached: a report
    labels the same few values on every row)."""
    text = str(getattr(value, "value", value) or "")
    return text.replace("_", " ").capitalize()


KINDS: dict[str, ReportKind] = {
    kind.name: kind
    for kind in (
        AppointmentSchedule(),
        Revenue(),
        AgedDebt(),
        VaccinationsDue(),
        ClientList(),
        Prescriptions(),
        NoShows(),
        JobActivity(),
    )
}
