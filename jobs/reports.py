"""The reports family (queue ``reports``): a report request, a job that streams it to a file.

``queue_report(kind, fmt, start, end, filters=None, requested_by=None, email_to=None)``
checks everything first (an unknown kind or format, an end before the start, a filter
the kind does not have, an address that is not one: a :class:`ValidationError` naming
the field and the rule, and nothing is queued), writes a ``report_request`` row and
enqueues one ``reports.run`` job; it returns the job id.

The job reads the report a page of rows at a time (:mod:`jobs.report_kinds`) and writes
each page to the file as it comes (:mod:`jobs.report_files`), reporting progress to the
registry and to the request row. Between pages it reads the request's
``cancel_requested``: :meth:`ReportJobs.cancel` stops a running report within a page
(its partial file removed) and revokes one that has not started. A finished file lands in
the reports folder, its requester is told through the notifications family ("Report
ready", with a link that opens the file) and, when asked, it is emailed as an attachment.
Files and requests older than the retention period are removed by :meth:`ReportJobs.purge`,
which each run calls first.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from jobs.email import MAX_ATTACHMENTS_BYTES, check_addresses
from jobs.models import REPORT_FINISHED, JobId, ReportRequest, ReportState
from jobs.platform import JobContext, JobPlatform, TaskSpec
from jobs.queues import REPORTS
from jobs.report_files import FORMATS, MAX_PDF_ROWS, ReportMeta, open_writer
from jobs.report_kinds import KINDS, ReportKind, ReportParams, Row
from purplecross_desktop.database.base import utcnow
from purplecross_desktop.domain.errors import ValidationError
from purplecross_desktop.domain.staff import Staff

if TYPE_CHECKING:
    from purplecross_desktop.settings import Settings

log = logging.getLogger(__name__)

RUN = "reports.run"
#: Rows read and written per page; also how often cancellation is checked.
PAGE_SIZE = 2000
#: The longest period one report may cover.
MAX_PERIOD_DAYS = 366 * 10
DEFAULT_RETENTION_DAYS = 30
_SAFE_NAME = re.compile(r"[^a-z0-9_-]+")


class ReportCancelledError(Exception):
    """The report's cancellation was asked for while it ran."""


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """Where report files go, how long they stay, and what their header says.

    Args:
        folder: the reports folder (``settings.reports_path``).
        retention_days: files and requests older than this are removed.
        timezone: the clinic's IANA time zone (periods are its dates).
        clinic_name: on every file's header.
        clinic_address: under the name on PDFs.
    """

    folder: Path
    retention_days: int = DEFAULT_RETENTION_DAYS
    timezone: str = "UTC"
    clinic_name: str = "Purple Cross Veterinary Clinic"
    clinic_address: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> ReportOptions:
        return cls(
            folder=settings.reports_path,
            retention_days=settings.report_retention_days,
            timezone=settings.clinic_timezone,
            clinic_name=settings.clinic_name,
            clinic_address=settings.clinic_address,
        )


@dataclass(frozen=True, slots=True)
class ReportInfo:
    """A report request as the Reports page shows it."""

    id: int
    kind: str
    title: str
    format: str
    period_start: dt.date
    period_end: dt.date
    filters: dict[str, Any]
    requested_by: int | None
    email_to: str | None
    state: str
    progress: int
    rows: int
    message: str
    job_id: str | None
    path: str | None
    size_bytes: int | None
    cancel_requested: bool
    created_at: dt.datetime
    finished_at: dt.datetime | None

    @property
    def finished(self) -> bool:
        return self.state in REPORT_FINISHED

    @classmethod
    def from_row(cls, row: ReportRequest) -> ReportInfo:
        kind = KINDS.get(row.kind)
        return cls(
            id=row.id,
            kind=row.kind,
            title=kind.title if kind is not None else row.kind,
            format=row.format,
            period_start=row.period_start,
            period_end=row.period_end,
            filters=dict(row.filters or {}),
            requested_by=row.requested_by,
            email_to=row.email_to,
            state=row.state,
            progress=row.progress,
            rows=row.rows,
            message=row.message,
            job_id=row.job_id,
            path=row.path,
            size_bytes=row.size_bytes,
            cancel_requested=row.cancel_requested,
            created_at=row.created_at,
            finished_at=row.finished_at,
        )


class ReportJobs:
    """Queues reports, runs their jobs, cancels and purges them.

    Args:
        platform: the job platform (the notifications and email families registered on it).
        options: folder, retention, time zone and clinic.
        clock: now (aware UTC); tests move it.
        page_size: rows per page (and between cancellation checks).
    """

    def __init__(
        self,
        platform: JobPlatform,
        options: ReportOptions,
        clock: Callable[[], dt.datetime] = utcnow,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.platform = platform
        self.options = options
        self.clock = clock
        self.page_size = page_size
        self.engine: sa.Engine = platform.engine
        self.zone = zoneinfo.ZoneInfo(options.timezone)

    # Enqueue ------------------------------------------------------------------------
    def queue(
        self,
        kind: str,
        fmt: str,
        start: dt.date | str,
        end: dt.date | str,
        filters: Mapping[str, Any] | None = None,
        requested_by: int | None = None,
        email_to: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> JobId:
        """Check everything, record the request and enqueue its job; returns the job id.

        With an ``idempotency_key`` already used, nothing new is recorded or queued and the
        first job's id is returned (a workflow step that runs again asks once).

        Args:
            kind: one of :data:`jobs.report_kinds.KINDS` (``appointments``, ``revenue``, ...).
            fmt: ``csv``, ``xlsx`` or ``pdf``.
            start: the first day of the period (a date or ``YYYY-MM-DD``), clinic time.
            end: the last day, included; not before ``start``.
            filters: the kind's filters (``{"vet_id": 3}``, ``{"group": "week"}``).
            requested_by: the staff member told when it is ready (and who may see it).
            email_to: also email the file to this address.

        Raises:
            ValidationError: every problem found, as ``field: rule``; nothing is queued.
        """
        errors: dict[str, list[str]] = {}

        def problem(field: str, rule: str) -> None:
            errors.setdefault(field, []).append(rule)

        report = KINDS.get(kind) if isinstance(kind, str) else None
        if report is None:
            problem("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
        if fmt not in FORMATS:
            problem("fmt", f"{fmt!r} is not one of {', '.join(FORMATS)}")
        first = _date(start, "start", problem)
        last = _date(end, "end", problem)
        if first is not None and last is not None:
            if last < first:
                problem("end", f"must not be before the start ({first.isoformat()})")
            elif (last - first).days >= MAX_PERIOD_DAYS:
                problem("end", f"a report covers at most {MAX_PERIOD_DAYS} days")
        checked = _filters(report, filters, problem)
        address = None
        if email_to is not None:
            try:
                address = check_addresses(email_to)[0]
            except (ValueError, IndexError):
                problem("email_to", f"{email_to!r} is not an email address")
        if requested_by is not None and (
            type(requested_by) is not int or not self._staff_exists(requested_by)
        ):
            problem("requested_by", f"staff member {requested_by!r} does not exist")
        if errors:
            raise ValidationError(errors)
        assert report is not None
        assert first is not None
        assert last is not None
        job_key = None if idempotency_key is None else f"report:{idempotency_key}"
        if job_key is not None:
            existing = self.platform.recorder.job_id_for_key(job_key)
            if existing is not None:
                return JobId(existing)
        with self.engine.begin() as conn:
            inserted = conn.execute(
                sa.insert(ReportRequest).values(
                    kind=report.name,
                    format=fmt,
                    period_start=first,
                    period_end=last,
                    filters=checked,
                    requested_by=requested_by,
                    email_to=address,
                    state=ReportState.QUEUED.value,
                    progress=0,
                    rows=0,
                    message="",
                    cancel_requested=False,
                    created_at=self.clock(),
                )
            ).inserted_primary_key
        assert inserted is not None
        request_id = int(inserted[0])
        job_id = self.platform.enqueue(REPORTS, RUN, request_id, idempotency_key=job_key)
        if job_key is not None and self.for_job(str(job_id)) is not None:
            # A racing call with the same key queued first: drop this request.
            with self.engine.begin() as conn:
                conn.execute(sa.delete(ReportRequest).where(ReportRequest.id == request_id))
            return job_id
        self._update(request_id, job_id=job_id)
        return job_id

    def _staff_exists(self, staff_id: int) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(Staff.id).where(Staff.id == staff_id)).first() is not None

    # Reading ------------------------------------------------------------------------
    def get(self, request_id: int) -> ReportInfo | None:
        """One request, or None."""
        with Session(self.engine) as session:
            row = session.get(ReportRequest, request_id)
            return None if row is None else ReportInfo.from_row(row)

    def for_job(self, job_id: str) -> ReportInfo | None:
        """The request a job runs, or None."""
        with Session(self.engine) as session:
            row = session.scalar(sa.select(ReportRequest).where(ReportRequest.job_id == job_id))
            return None if row is None else ReportInfo.from_row(row)

    def recent(self, requested_by: int | None = None, limit: int = 100) -> list[ReportInfo]:
        """The newest requests (of one staff member when given), newest first."""
        statement = sa.select(ReportRequest).order_by(
            ReportRequest.created_at.desc(), ReportRequest.id.desc()
        )
        if requested_by is not None:
            statement = statement.where(ReportRequest.requested_by == requested_by)
        with Session(self.engine) as session:
            return [ReportInfo.from_row(r) for r in session.scalars(statement.limit(limit))]

    # Cancel and purge ---------------------------------------------------------------
    def cancel(self, request_id: int) -> bool:
        """Stop a report: revoke it if it has not started, stop it within a page if it runs.

        Returns False when it had already finished (nothing changes then).
        """
        from jobs.registry import JobRegistry

        finished = [s.value for s in REPORT_FINISHED]
        with self.engine.begin() as conn:
            matched = conn.execute(
                sa.update(ReportRequest)
                .where(ReportRequest.id == request_id, ReportRequest.state.not_in(finished))
                .values(cancel_requested=True)
            ).rowcount
            job_id = conn.execute(
                sa.select(ReportRequest.job_id).where(ReportRequest.id == request_id)
            ).scalar()
        if not matched:
            return False
        if job_id and JobRegistry(self.platform).revoke([job_id]):
            self._finish(request_id, ReportState.CANCELLED, "cancelled before it started")
        return True

    def purge(self) -> int:
        """Remove the files and requests finished more than the retention period ago.

        Returns how many requests were removed.
        """
        cutoff = self.clock() - dt.timedelta(days=self.options.retention_days)
        finished = [s.value for s in REPORT_FINISHED]
        with self.engine.connect() as conn:
            old = conn.execute(
                sa.select(ReportRequest.id, ReportRequest.path).where(
                    ReportRequest.state.in_(finished), ReportRequest.finished_at < cutoff
                )
            ).all()
        for _, path in old:
            if path:
                Path(path).unlink(missing_ok=True)
        if old:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.delete(ReportRequest).where(ReportRequest.id.in_([i for i, _ in old]))
                )
        return len(old)

    # The task -----------------------------------------------------------------------
    def run(self, request_id: int, job: JobContext | None = None) -> str:
        """The task: stream the report to its file, then announce and email it."""
        try:
            self.purge()
        except Exception:
            log.exception("purging old reports failed; the report runs anyway")
        info = self.get(request_id)
        if info is None:
            return "skipped: request deleted"
        if info.finished:
            return f"skipped: report {info.state}"
        if info.cancel_requested:
            self._finish(request_id, ReportState.CANCELLED, "cancelled before it started")
            return "cancelled"
        report = KINDS[info.kind]
        params = ReportParams(info.period_start, info.period_end, info.filters, self.zone)
        self._update(
            request_id, state=ReportState.RUNNING.value, started_at=self.clock(), progress=0
        )
        target = self._path_for(info)
        partial = target.with_name(f".{target.name}.partial")
        try:
            rows = self._write(report, info, params, partial, request_id, job)
            partial.replace(target)
        except ReportCancelledError:
            partial.unlink(missing_ok=True)
            self._finish(request_id, ReportState.CANCELLED, "cancelled while running")
            return "cancelled"
        except BaseException as exc:
            partial.unlink(missing_ok=True)
            self._finish(request_id, ReportState.FAILED, str(exc)[:500])
            self._tell(
                info,
                "system_alert",
                f"Report failed: {KINDS[info.kind].title}",
                str(exc)[:900] or type(exc).__name__,
                None,
                "failed",
            )
            raise
        size = target.stat().st_size
        self._update(
            request_id,
            state=ReportState.COMPLETED.value,
            progress=100,
            rows=rows,
            path=str(target),
            size_bytes=size,
            finished_at=self.clock(),
            message=f"{rows:,} rows",
        )
        outcomes = [f"{rows} rows to {target.name}"]
        outcomes += self._announce(info, target, rows, size)
        return "; ".join(outcomes)

    def _write(
        self,
        report: ReportKind,
        info: ReportInfo,
        params: ReportParams,
        partial: Path,
        request_id: int,
        job: JobContext | None,
    ) -> int:
        with self.engine.connect() as conn:
            expected = report.count(conn, params)
        if info.format == "pdf" and expected > MAX_PDF_ROWS:
            raise ValueError(
                f"format: a PDF report holds at most {MAX_PDF_ROWS:,} rows and this one has "
                f"{expected:,}; choose CSV or Excel, or a shorter period"
            )
        partial.parent.mkdir(parents=True, exist_ok=True)
        writer = open_writer(info.format, partial, report.columns, self._meta(report, info))
        summed = [c.total for c in report.columns]
        sums: list[Any] = [0 if s else None for s in summed]
        written = 0
        try:
            for page in report.pages(self.engine, params, self.page_size):
                if self._cancel_requested(request_id):
                    raise ReportCancelledError
                writer.write(page)
                written += len(page)
                _add(sums, summed, page)
                percent = min(99, written * 100 // max(expected, 1))
                self._update(request_id, progress=percent, rows=written)
                if job is not None:
                    job.progress(percent, f"{written:,} of {expected:,} rows")
            if self._cancel_requested(request_id):
                raise ReportCancelledError
            writer.finish(report.totals(sums))
        except BaseException:
            writer.abort()
            raise
        return written

    def _meta(self, report: ReportKind, info: ReportInfo) -> ReportMeta:
        start, end = info.period_start, info.period_end
        period = _day(start) if start == end else f"{_day(start)} - {_day(end)}"
        return ReportMeta(
            title=report.title,
            clinic_name=self.options.clinic_name,
            clinic_address=self.options.clinic_address,
            period=period,
            generated_at=self.clock(),
            zone=self.zone,
        )

    def _path_for(self, info: ReportInfo) -> Path:
        name = _SAFE_NAME.sub("-", info.kind.lower())
        span = f"{info.period_start:%Y%m%d}-{info.period_end:%Y%m%d}"
        return self.options.folder / f"{name}_{span}_{info.id}.{info.format}"

    def _announce(self, info: ReportInfo, path: Path, rows: int, size: int) -> list[str]:
        """Tell the requester, and email the file when asked; a failure here is logged,
        never a failed report (the file is there)."""
        title = f"Report ready: {KINDS[info.kind].title}"
        text = f"{rows:,} rows, {info.format.upper()}, saved as {path.name}."
        outcomes = self._tell(info, "report_ready", title, text, str(path), "ready")
        email = self.platform.services.get("email")
        if info.email_to and email is not None:
            attach = size <= MAX_ATTACHMENTS_BYTES
            message = (
                text
                if attach
                else (
                    f"{text} It is too large to attach ({size / 2**20:.1f} MiB); "
                    f"open it from the Reports page."
                )
            )
            try:
                job_id = email.queue(
                    info.email_to,
                    title,
                    "notification",
                    {"message": message, "title": title},
                    attachments=[path] if attach else (),
                    idempotency_key=f"report:{info.id}:email",
                )
                outcomes.append(f"emailed (job {job_id})")
            except Exception as exc:
                log.exception("report %s: could not email it", info.id)
                outcomes.append(f"not emailed: {exc}")
        return outcomes

    def _tell(
        self, info: ReportInfo, kind: str, title: str, text: str, link: str | None, key: str
    ) -> list[str]:
        """Notify the requester (if any) in the app; never raises."""
        notifications = self.platform.services.get("notifications")
        if info.requested_by is None or notifications is None:
            return []
        try:
            jobs = notifications.queue(
                kind,
                [f"staff:{info.requested_by}"],
                title,
                text,
                link=link,
                idempotency_key=f"report:{info.id}:{key}",
            )
        except Exception as exc:
            log.exception("report %s: could not notify its requester", info.id)
            return [f"not announced: {exc}"]
        return [f"notified ({', '.join(jobs)})"]

    # Request row ----------------------------------------------------------------------
    def _cancel_requested(self, request_id: int) -> bool:
        with self.engine.connect() as conn:
            return bool(
                conn.execute(
                    sa.select(ReportRequest.cancel_requested).where(ReportRequest.id == request_id)
                ).scalar()
            )

    def _update(self, request_id: int, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(ReportRequest).where(ReportRequest.id == request_id).values(**values)
            )

    def _finish(self, request_id: int, state: ReportState, message: str) -> None:
        self._update(request_id, state=state.value, message=message, finished_at=self.clock())


def _add(sums: list[Any], summed: list[bool], page: list[Row]) -> None:
    for index, wanted in enumerate(summed):
        if wanted:
            sums[index] += sum(row[index] or 0 for row in page)


def _date(value: object, field: str, problem: Callable[[str, str], None]) -> dt.date | None:
    if isinstance(value, dt.datetime):
        problem(field, "must be a date (YYYY-MM-DD), not a date and time")
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    problem(field, f"{value!r} is not a date (YYYY-MM-DD)")
    return None


def _filters(
    report: ReportKind | None,
    filters: Mapping[str, Any] | None,
    problem: Callable[[str, str], None],
) -> dict[str, Any]:
    if filters is None:
        return {}
    if not isinstance(filters, Mapping):
        problem("filters", "must be a mapping of filter names to values")
        return {}
    if report is None:
        return {}
    specs = {f.name: f for f in report.filters}
    out: dict[str, Any] = {}
    for name, value in filters.items():
        spec = specs.get(name)
        if spec is None:
            known = ", ".join(specs) or "none"
            problem(f"filters[{name!r}]", f"not a filter of {report.name} (it has: {known})")
            continue
        try:
            out[name] = spec.check(value)
        except ValueError as exc:
            problem(f"filters[{name!r}]", str(exc))
    return out


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def register(
    platform: JobPlatform,
    options: ReportOptions,
    clock: Callable[[], dt.datetime] = utcnow,
    page_size: int = PAGE_SIZE,
) -> ReportJobs:
    """Add the ``reports.run`` task kind and return the service behind it."""
    service = ReportJobs(platform, options, clock, page_size)
    platform.register(TaskSpec(RUN, service.run, REPORTS, context=True))
    platform.services["reports"] = service
    return service
