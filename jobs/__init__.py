"""Background jobs on Huey: named queues, a job registry, retries, runners and job families.

The composition root builds one :class:`JobPlatform` from settings and hands it to what
needs it (the app's ``AppContext.jobs``); it binds no process-wide default. The
module-level helpers ``jobs.enqueue(...)`` and ``queue_email(...)`` are for scripts and
the REPL: they use the platform bound with :func:`configure`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from jobs.execution import JobTimeoutError
from jobs.models import JobId, JobState
from jobs.platform import (
    JobContext,
    JobPlatform,
    JobRequest,
    JobsConfig,
    RecordLinks,
    TaskSpec,
    UnknownQueueError,
    UnknownTaskError,
)
from jobs.policy import PermanentError, RateLimit, RetryPolicy, TransientError

_default: JobPlatform | None = None


class NotConfiguredError(RuntimeError):
    """No platform was bound with :func:`jobs.configure` in this process."""


def configure(platform: JobPlatform | None) -> None:
    """Bind (or, with None, unbind) the platform the module-level helpers use."""
    global _default
    _default = platform


def default_platform() -> JobPlatform:
    """The platform bound by :func:`configure`."""
    if _default is None:
        raise NotConfiguredError(
            "no job platform is bound: a script binds one with jobs.configure(platform); "
            "app code takes the platform from the composition root (AppContext.jobs)"
        )
    return _default


def enqueue(
    queue: str,
    task: str,
    *args: Any,
    record: RecordLinks | Mapping[str, int | None] | None = None,
    idempotency_key: str | None = None,
    eta: dt.datetime | None = None,
    priority: int | None = None,
    **kwargs: Any,
) -> JobId:
    """:meth:`JobPlatform.enqueue` on the configured platform; returns the job id."""
    return default_platform().enqueue(
        queue,
        task,
        *args,
        record=record,
        idempotency_key=idempotency_key,
        eta=eta,
        priority=priority,
        **kwargs,
    )


def queue_email(
    to: str | Sequence[str],
    subject: str,
    template: str,
    context: Mapping[str, Any],
    attachments: Sequence[Any] = (),
    idempotency_key: str | None = None,
    record: RecordLinks | Mapping[str, int | None] | None = None,
) -> JobId:
    """Queue an email on the configured platform; returns the job id.

    ``template`` is one of ``jobs.email_templates.TEMPLATES`` and ``context`` must hold its
    required keys; ``attachments`` are ``jobs.email.Attachment`` objects or file paths.
    Sent at most once per ``idempotency_key`` (a fresh key when None); ``record`` links
    the email's job to clinic records (``{"client": 12, "appointment": 40}``), as for
    :func:`enqueue`.
    """
    service = default_platform().services.get("email")
    if service is None:
        raise NotConfiguredError("the email job family is not registered on the platform")
    job_id: JobId = service.queue(
        to, subject, template, context, attachments, idempotency_key=idempotency_key, record=record
    )
    return job_id


def queue_notification(
    kind: str,
    recipients: Sequence[Any] | str,
    title: str,
    message: str,
    channels: Sequence[str] | None = None,
    expires_at: dt.datetime | None = None,
    **options: Any,
) -> list[JobId]:
    """Queue a notification on the configured platform: one job per recipient.

    ``kind`` is one of ``NotificationKind`` (``payment_received``, ``report_ready``, ...);
    ``recipients`` are ``client:<id>``, ``staff:<id>``, ``role:<role>``, email addresses
    or phone numbers; ``channels`` (``email``, ``sms``, ``in_app``) default to each
    client's preferred channel and each staff member's inbox. Nothing is sent after
    ``expires_at``. ``options``: ``link``, ``important``, ``idempotency_key``, ``record``
    (see :meth:`jobs.notifications.NotificationJobs.queue`). Returns the job ids.

    Raises:
        ValidationError: a bad kind, recipient, channel, text or expiry (nothing queued).
    """
    service = default_platform().services.get("notifications")
    if service is None:
        raise NotConfiguredError("the notifications job family is not registered on the platform")
    job_ids: list[JobId] = service.queue(
        kind, recipients, title, message, channels, expires_at, **options
    )
    return job_ids


def queue_report(
    kind: str,
    fmt: str,
    start: dt.date | str,
    end: dt.date | str,
    filters: Mapping[str, Any] | None = None,
    requested_by: int | None = None,
    email_to: str | None = None,
) -> JobId:
    """Queue a report on the configured platform; returns the job id.

    ``kind`` is one of ``jobs.report_kinds.KINDS`` (``appointments``, ``revenue``,
    ``aged_debt``, ``vaccinations_due``, ``clients``, ``prescriptions``, ``no_shows``,
    ``job_activity``); ``fmt`` is ``csv``, ``xlsx`` or ``pdf``; ``start`` and ``end`` are
    the period's first and last days in the clinic's time zone. ``requested_by`` (a staff
    id) is told when it is ready; ``email_to`` also gets the file by email.

    Raises:
        ValidationError: a bad kind, format, period, filter, staff id or address
            (nothing queued).
    """
    service = default_platform().services.get("reports")
    if service is None:
        raise NotConfiguredError("the reports job family is not registered on the platform")
    job_id: JobId = service.queue(kind, fmt, start, end, filters, requested_by, email_to)
    return job_id


__all__ = [
    "JobContext",
    "JobId",
    "JobPlatform",
    "JobRequest",
    "JobState",
    "JobTimeoutError",
    "JobsConfig",
    "NotConfiguredError",
    "PermanentError",
    "RateLimit",
    "RecordLinks",
    "RetryPolicy",
    "TaskSpec",
    "TransientError",
    "UnknownQueueError",
    "UnknownTaskError",
    "configure",
    "default_platform",
    "enqueue",
    "queue_email",
    "queue_notification",
    "queue_report",
]
