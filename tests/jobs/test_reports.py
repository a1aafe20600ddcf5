"""Reports: every kind in every format parses back with the database's numbers; formula text
is neutralised; bad input queues nothing; cancel stops a run and leaves no file; old files
go; a finished report is announced to its requester and emailed with the file attached."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from email.message import Message
from pathlib import Path
from typing import Any

import openpyxl
import pypdf
import pytest
import sqlalchemy as sa

import purplecross_desktop.database.models  # noqa: F401  (every table on Base.metadata)
from jobs.email import EmailService, SmtpConfig
from jobs.email_templates import ClinicInfo
from jobs.models import Job, ReportRequest
from jobs.notifications import register as register_notifications
from jobs.platform import JobPlatform, TaskSpec
from jobs.policy import RetryPolicy
from jobs.queues import EMAIL
from jobs.report_files import FORMATS, ReportMeta, open_writer
from jobs.report_kinds import KINDS
from jobs.reports import ReportJobs, ReportOptions, register
from purplecross_desktop.database import make_session_factory
from purplecross_desktop.database.base import StaffId
from purplecross_desktop.demo import generate_demo_data
from purplecross_desktop.domain.appointments import Appointment, AppointmentStatus
from purplecross_desktop.domain.billing import Invoice, InvoiceStatus, Payment
from purplecross_desktop.domain.clients import Client, ClientData
from purplecross_desktop.domain.errors import ValidationError
from purplecross_desktop.domain.events import EventBus
from purplecross_desktop.domain.medical import Prescription, Vaccination
from purplecross_desktop.domain.patients import Patient
from purplecross_desktop.domain.staff import StaffData, StaffRole
from purplecross_desktop.services import Services, build_services
from tests.jobs.conftest import Harness, wait_until
from tests.jobs.smtp_server import SmtpServer

NOW = dt.datetime(2031, 3, 5, 12, 7, tzinfo=dt.UTC)
#: The demo clinic's diary is around NOW; the period also holds today, when the tests'
#: own jobs are enqueued (the job activity report counts them).
START, END = dt.date(2026, 1, 1), dt.date(2032, 12, 31)
FAST = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.1, jitter=0)
INJECTIONS = ('=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1)")


class Clock:
    """A fixed instant the test moves."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Clinic:
    harness: Harness
    platform: JobPlatform
    services: Services
    reports: ReportJobs
    folder: Path
    clock: Clock

    def run(self, kind: str, fmt: str, **kwargs: Any) -> Path:
        """Queue a report and run its task here (immediate mode); returns its file."""
        job_id = self.reports.queue(kind, fmt, START, END, **kwargs)
        info = self.reports.for_job(job_id)
        assert info is not None
        self.reports.run(info.id)
        done = self.reports.get(info.id)
        assert done is not None
        assert done.state == "completed", done.message
        assert done.path is not None
        return Path(done.path)

    def scalar(self, statement: Any) -> Any:
        with self.harness.engine.connect() as conn:
            return conn.execute(statement).scalar()


def _clinic(harness: Harness, tmp_path: Path, page_size: int = 500) -> Clinic:
    platform = harness.platform()
    services = build_services(make_session_factory(harness.engine), EventBus("desk-1"))
    clock = Clock(NOW)
    folder = tmp_path / "reports"
    reports = register(
        platform,
        ReportOptions(folder, retention_days=30, clinic_name="Purple Cross Vets"),
        clock,
        page_size=page_size,
    )
    return Clinic(harness, platform, services, reports, folder, clock)


@pytest.fixture
def seeded(any_db_harness: Harness, tmp_path: Path) -> Clinic:
    generate_demo_data(
        any_db_harness.engine, clients=120, patients=180, appointments=1500, seed=3, now=NOW
    )
    clinic = _clinic(any_db_harness, tmp_path)
    for name in INJECTIONS:  # created "now" on the clinic's clock: inside the period
        clinic.services.clients.create(ClientData(name=name, email="x@example.org"))
    with any_db_harness.engine.begin() as conn:
        conn.execute(sa.update(Client).where(Client.name.in_(INJECTIONS)).values(created_at=NOW))
    return clinic


# --- parsing the files back ------------------------------------------------------------


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def read_xlsx(path: Path) -> tuple[list[str], list[list[Any]]]:
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    return [str(v) for v in rows[4]], rows[5:]


def read_pdf(path: Path) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(str(path)).pages]


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def column(header: list[str], rows: list[list[Any]], title: str) -> list[Any]:
    index = header.index(title)
    return [r[index] for r in rows]


# --- the database's own numbers ------------------------------------------------------------


def expected(clinic: Clinic, kind: str) -> dict[str, Any]:
    """What each report must say, computed here from the database, independently."""
    since = dt.datetime.combine(START, dt.time(0), tzinfo=dt.UTC)
    until = dt.datetime.combine(END + dt.timedelta(days=1), dt.time(0), tzinfo=dt.UTC)
    q = clinic.scalar
    in_period = sa.and_(Appointment.starts_at >= since, Appointment.starts_at < until)
    if kind == "appointments":
        return {"rows": q(sa.select(sa.func.count(Appointment.id)).where(in_period))}
    if kind == "revenue":
        live = sa.and_(
            Invoice.issued_on >= START, Invoice.issued_on <= END, Invoice.status != "void"
        )
        paid = (
            sa.select(sa.func.sum(Payment.amount))
            .join(Invoice, Invoice.id == Payment.invoice_id)
            .where(Payment.paid_at >= since, Payment.paid_at < until, Invoice.status != "void")
        )
        return {
            "Invoices": q(sa.select(sa.func.count(Invoice.id)).where(live)),
            "Invoiced": money(q(sa.select(sa.func.sum(Invoice.total)).where(live)) or 0),
            "Paid": money(q(paid) or 0),
            "Outstanding": money(q(sa.select(sa.func.sum(Invoice.balance)).where(live)) or 0),
        }
    if kind == "aged_debt":
        owing = sa.and_(
            Invoice.issued_on >= START,
            Invoice.issued_on <= END,
            Invoice.status == InvoiceStatus.OPEN,
            Invoice.balance > 0,
        )
        return {
            "rows": q(sa.select(sa.func.count(Invoice.id)).where(owing)),
            "Balance": money(q(sa.select(sa.func.sum(Invoice.balance)).where(owing)) or 0),
        }
    if kind == "vaccinations_due":
        with clinic.harness.engine.connect() as conn:
            doses = conn.execute(
                sa.select(
                    Vaccination.id,
                    Vaccination.patient_id,
                    Vaccination.vaccine,
                    Vaccination.given_on,
                    Vaccination.next_due_on,
                    Patient.active,
                    Patient.deceased,
                ).join(Patient, Patient.id == Vaccination.patient_id)
            ).all()
        latest: dict[tuple[int, str], Any] = {}
        for dose in doses:
            key = (dose.patient_id, dose.vaccine)
            if key not in latest or (dose.given_on, dose.id) > (
                latest[key].given_on,
                latest[key].id,
            ):
                latest[key] = dose
        due = [
            d
            for d in latest.values()
            if d.next_due_on and START <= d.next_due_on <= END and d.active and not d.deceased
        ]
        return {"rows": len(due)}
    if kind == "clients":
        joined = sa.and_(Client.created_at >= since, Client.created_at < until)
        ids = sa.select(Client.id).where(joined)
        return {
            "rows": q(sa.select(sa.func.count(Client.id)).where(joined)),
            "Patients": q(sa.select(sa.func.count(Patient.id)).where(Patient.client_id.in_(ids))),
        }
    if kind == "prescriptions":
        started = sa.and_(Prescription.starts_on >= START, Prescription.starts_on <= END)
        return {
            "rows": q(sa.select(sa.func.count(Prescription.id)).where(started)),
            "Refills": q(sa.select(sa.func.sum(Prescription.refills)).where(started)) or 0,
        }
    if kind == "no_shows":

        def count(*conditions: Any) -> int:
            return int(q(sa.select(sa.func.count(Appointment.id)).where(in_period, *conditions)))

        return {
            "Appointments": count(),
            "Cancelled": count(Appointment.status == AppointmentStatus.CANCELLED),
            "No-shows": count(Appointment.status == AppointmentStatus.NO_SHOW),
        }
    assert kind == "job_activity"
    return {"Jobs": q(sa.select(sa.func.count(Job.id)))}


def test_every_kind_in_every_format_parses_back_with_the_database_numbers(seeded: Clinic) -> None:
    checked = 0
    for kind in KINDS:
        titles = [c.title for c in KINDS[kind].columns]
        summed = [c.title for c in KINDS[kind].columns if c.total]
        for fmt in FORMATS:
            path = seeded.run(kind, fmt)
            want = expected(seeded, kind)
            assert any(want.values()), f"{kind}: the demo data has nothing to report"
            assert path.parent == seeded.folder
            assert path.suffix == f".{fmt}"
            if fmt == "pdf":
                pages = read_pdf(path)
                text = "\n".join(pages)
                assert KINDS[kind].title in pages[0]
                assert f"Page 1 of {len(pages)}" in pages[0]
                for name, value in want.items():
                    if name != "rows" and name in summed:
                        shown = f"{value:.2f}" if isinstance(value, Decimal) else str(value)
                        assert shown in text.split("Total")[-1], (kind, name, shown)
                if len(pages) > 1:  # the column headings are repeated on every page
                    assert all(titles[0] in page for page in pages)
                checked += 1
                continue
            header, rows = read_csv(path) if fmt == "csv" else read_xlsx(path)
            assert header == titles
            data = [r for r in rows if r[0] != "Total"]
            totals = [r for r in rows if r[0] == "Total"]
            assert len(totals) == (1 if summed else 0), (kind, fmt)
            if "rows" in want:
                assert len(data) == want["rows"], (kind, fmt)
            for name, value in want.items():
                if name == "rows":
                    continue
                got = totals[0][header.index(name)]
                assert (money(got) if isinstance(value, Decimal) else int(got)) == value, (
                    kind,
                    fmt,
                    name,
                )
                if isinstance(value, Decimal):  # and the rows add up to the total
                    assert sum(money(v) for v in column(header, data, name) if v) == value
            checked += 1
    assert checked == len(KINDS) * len(FORMATS)


def test_the_appointment_schedule_is_in_time_order_in_the_clinic_time_zone(
    seeded: Clinic,
) -> None:
    path = seeded.run("appointments", "xlsx")
    header, rows = read_xlsx(path)
    starts = column(header, rows, "Starts")
    assert starts == sorted(starts)
    assert all(isinstance(s, dt.datetime) and s.tzinfo is None for s in starts)
    first = seeded.scalar(sa.select(sa.func.min(Appointment.starts_at)))
    assert starts[0] == first.astimezone(dt.UTC).replace(tzinfo=None)


def test_a_vet_filter_keeps_only_that_vets_appointments(seeded: Clinic) -> None:
    vet = seeded.scalar(sa.select(Appointment.vet_id).limit(1))
    path = seeded.run("appointments", "csv", filters={"vet_id": vet})
    _, rows = read_csv(path)
    assert len(rows) == seeded.scalar(
        sa.select(sa.func.count(Appointment.id)).where(Appointment.vet_id == vet)
    )


def test_formula_text_is_neutralised_in_csv_and_xlsx(seeded: Clinic) -> None:
    header, rows = read_csv(seeded.run("clients", "csv"))
    names = column(header, rows, "Name")
    for text in INJECTIONS:
        assert "'" + text in names
        assert text not in names
    path = seeded.run("clients", "xlsx")
    sheet = openpyxl.load_workbook(path).worksheets[0]
    cells = {c.value: c for row in sheet.iter_rows(min_row=6) for c in row[1:2]}
    for text in INJECTIONS:
        cell = cells[text]  # the text itself, as text: never a formula
        assert cell.data_type == "s"
        assert cell.quotePrefix
    assert not any(
        c.data_type == "f" for row in sheet.iter_rows() for c in row
    )  # nothing evaluates


@pytest.mark.parametrize(
    ("kwargs", "field", "rule"),
    [
        ({"kind": "payroll"}, "kind", "is not one of appointments"),
        ({"fmt": "docx"}, "fmt", "is not one of csv, xlsx, pdf"),
        ({"start": "2031-02-01", "end": "2031-01-31"}, "end", "must not be before the start"),
        ({"start": "01/02/2031"}, "start", "is not a date (YYYY-MM-DD)"),
        ({"filters": {"colour": "red"}}, "filters['colour']", "not a filter of appointments"),
        ({"filters": {"vet_id": "three"}}, "filters['vet_id']", "must be a positive whole"),
        ({"email_to": "not an address"}, "email_to", "is not an email address"),
        ({"requested_by": 99999}, "requested_by", "does not exist"),
        ({"start": "2000-01-01", "end": "2031-01-01"}, "end", "at most"),
    ],
)
def test_bad_input_is_refused_naming_field_and_rule_and_nothing_is_queued(
    harness: Harness, tmp_path: Path, kwargs: dict[str, Any], field: str, rule: str
) -> None:
    clinic = _clinic(harness, tmp_path)
    call: dict[str, Any] = {"kind": "appointments", "fmt": "csv", "start": START, "end": END}
    call.update(kwargs)
    with pytest.raises(ValidationError) as caught:
        clinic.reports.queue(**call)
    assert field in caught.value.errors
    assert any(rule in message for message in caught.value.errors[field])
    assert clinic.scalar(sa.select(sa.func.count()).select_from(Job)) == 0
    assert clinic.scalar(sa.select(sa.func.count()).select_from(ReportRequest)) == 0


def test_a_running_report_is_cancelled_within_a_page_and_leaves_no_file(
    harness: Harness, tmp_path: Path
) -> None:
    generate_demo_data(harness.engine, clients=50, patients=80, appointments=3000, now=NOW)
    clinic = _clinic(harness, tmp_path, page_size=20)
    job_id = clinic.reports.queue("appointments", "xlsx", START, END)
    info = clinic.reports.for_job(job_id)
    assert info is not None
    outcome: list[str] = []
    runner = threading.Thread(target=lambda: outcome.append(clinic.reports.run(info.id)))
    runner.start()
    wait_until(lambda: clinic.reports.get(info.id).rows >= 100)  # type: ignore[union-attr]
    assert clinic.reports.cancel(info.id)
    runner.join(timeout=30)
    assert outcome == ["cancelled"]
    done = clinic.reports.get(info.id)
    assert done is not None
    assert done.state == "cancelled"
    assert done.rows < 3000
    assert done.path is None
    assert list(clinic.folder.iterdir()) == []  # no file, no partial file
    assert not clinic.reports.cancel(info.id)  # finished: nothing more to cancel


def test_a_report_cancelled_before_it_starts_is_revoked(harness: Harness, tmp_path: Path) -> None:
    clinic = _clinic(harness, tmp_path)
    job_id = clinic.reports.queue("clients", "csv", START, END)
    info = clinic.reports.for_job(job_id)
    assert info is not None
    assert clinic.reports.cancel(info.id)
    assert clinic.reports.get(info.id).state == "cancelled"  # type: ignore[union-attr]
    assert clinic.scalar(sa.select(Job.state).where(Job.id == job_id)) == "revoked"
    assert clinic.reports.run(info.id) == "skipped: report cancelled"


def test_a_pdf_over_the_row_cap_fails_with_a_clear_message_to_its_requester(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate_demo_data(harness.engine, clients=20, patients=30, appointments=300, now=NOW)
    monkeypatch.setattr("jobs.reports.MAX_PDF_ROWS", 100)
    clinic = _clinic(harness, tmp_path)
    notifications = register_notifications(clinic.platform, clinic.services, policy=FAST)
    manager = clinic.services.staff.create(
        StaffData(name="Mo Manager", role=StaffRole.ADMIN, login="mo"), "correct horse"
    )
    job_id = clinic.reports.queue("appointments", "pdf", START, END, requested_by=manager.id)
    info = clinic.reports.for_job(job_id)
    assert info is not None
    with pytest.raises(ValueError, match="a PDF report holds at most 100 rows"):
        clinic.reports.run(info.id)
    done = clinic.reports.get(info.id)
    assert done is not None
    assert done.state == "failed"
    assert "choose CSV or Excel" in done.message
    assert list(clinic.folder.glob("*")) == []
    with harness.engine.connect() as conn:  # the requester is told, in the app
        (payload,) = conn.execute(
            sa.select(Job.args).where(Job.task == "notifications.send")
        ).scalar_one()
    assert payload["recipient"] == f"staff:{manager.id}"
    assert payload["kind"] == "system_alert"
    assert payload["title"] == "Report failed: Appointment schedule"
    assert "a PDF report holds at most 100 rows" in payload["message"]
    assert notifications.send(payload).startswith("in-app")


def test_files_and_requests_older_than_the_retention_go(harness: Harness, tmp_path: Path) -> None:
    clinic = _clinic(harness, tmp_path)
    kept = clinic.run("clients", "csv")
    clinic.clock.now = NOW + dt.timedelta(days=10)
    newer = clinic.run("clients", "pdf")
    clinic.clock.now = NOW + dt.timedelta(days=31)
    assert clinic.reports.purge() == 1
    assert not kept.exists()
    assert newer.exists()
    assert [r.format for r in clinic.reports.recent()] == ["pdf"]


# --- on the platform: announced, emailed ------------------------------------------------


def add_email(platform: JobPlatform, port: int) -> EmailService:
    """The email family on ``platform``, sending to an SMTP server on ``port``."""
    email = EmailService(
        platform,
        SmtpConfig(host="127.0.0.1", port=port, tls="none", timeout=5),
        ClinicInfo("Purple Cross Vets", "1 High Street", "555-0100"),
    )
    platform.register(TaskSpec("email.send", email.send, EMAIL, policy=FAST, context=True))
    platform.services["email"] = email
    return email


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def test_a_finished_report_is_announced_to_its_requester_and_emailed_with_the_file(
    any_db_harness: Harness, tmp_path: Path, smtp: SmtpServer
) -> None:
    generate_demo_data(any_db_harness.engine, clients=30, patients=40, appointments=200, now=NOW)
    platform = any_db_harness.platform()
    add_email(platform, smtp.port)
    services = build_services(make_session_factory(any_db_harness.engine), EventBus("desk-1"))
    register_notifications(platform, services, policy=FAST)
    reports = register(platform, ReportOptions(tmp_path / "reports"))
    manager = services.staff.create(
        StaffData(name="Mo Manager", role=StaffRole.ADMIN, login="mo"), "correct horse"
    )
    any_db_harness.runner(platform)
    job_id = reports.queue(
        "revenue", "csv", START, END, requested_by=manager.id, email_to="owner@example.org"
    )
    done = wait_until(
        lambda: (r := reports.for_job(job_id)) is not None and r.finished and r, timeout=30
    )
    assert done.state == "completed", done.message
    inbox = wait_until(lambda: services.notifications.inbox(StaffId(manager.id)), timeout=20)
    assert [(i.kind.value, i.title, i.link) for i in inbox] == [
        ("report_ready", "Report ready: Revenue by period", done.path)
    ]
    assert inbox[0].important  # the tray pops it up
    wait_until(lambda: smtp.inbox.messages, timeout=20)
    message: Message = smtp.inbox.messages[0]
    assert message["To"] == "owner@example.org"
    assert message["Subject"] == "Report ready: Revenue by period"
    attachments = [p for p in message.walk() if p.get_filename()]
    assert [a.get_filename() for a in attachments] == [Path(str(done.path)).name]
    payload = attachments[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert payload == Path(str(done.path)).read_bytes()
    rows = list(csv.reader(io.StringIO(payload.decode("utf-8-sig"))))
    assert rows[0] == ["Period", "Invoices", "Invoiced", "Paid", "Outstanding"]
    assert rows[-1][0] == "Total"


def test_xlsx_money_is_a_number_shown_with_two_decimals(tmp_path: Path) -> None:
    meta = ReportMeta("Revenue by period", "Purple Cross Vets", "", "March", NOW, dt.UTC)
    path = tmp_path / "revenue.xlsx"
    writer = open_writer("xlsx", path, KINDS["revenue"].columns, meta)
    writer.write([("2031-03", 3, Decimal("45.50"), Decimal("10.00"), Decimal("35.50"))])
    writer.finish(("Total", 3, Decimal("45.50"), Decimal("10.00"), Decimal("35.50")))
    sheet = openpyxl.load_workbook(path).worksheets[0]
    rows = list(sheet.iter_rows(min_row=6))
    assert [c.value for c in rows[0]] == ["2031-03", 3, 45.5, 10, 35.5]
    assert [c.number_format for c in rows[0][2:]] == ["#,##0.00"] * 3
    assert [c.number_format for c in rows[1][2:]] == ["#,##0.00"] * 3
    assert rows[1][0].font.bold


@pytest.mark.parametrize(("limit", "attached"), [(10 * 2**20, True), (10, False)])
def test_an_emailed_report_is_attached_unless_too_large(
    harness: Harness,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    limit: int,
    attached: bool,
) -> None:
    monkeypatch.setattr("jobs.reports.MAX_ATTACHMENTS_BYTES", limit)
    clinic = _clinic(harness, tmp_path)
    add_email(clinic.platform, 9)  # queued here, never sent
    path = clinic.run("clients", "csv", email_to="owner@example.org")
    with harness.engine.connect() as conn:
        (payload,) = conn.execute(sa.select(Job.args).where(Job.task == "email.send")).scalar_one()
    assert payload["to"] == ["owner@example.org"]
    assert payload["subject"] == "Report ready: Client list"
    if attached:
        assert [a[0] for a in payload["attachments"]] == [path.name]
    else:
        assert payload["attachments"] == []
        assert "too large to attach" in payload["context"]["message"]
