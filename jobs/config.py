"""The job platform's settings and value types: config, task kinds, record links, job context.

Also the one rule every job's data passes at enqueue (:func:`check_job_data`): plain JSON
only, within the lengths the registry stores, so that what the caller enqueued is
exactly what the registry keeps and the worker runs, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jobs.models import JobId
from jobs.policy import RateLimit, RetryPolicy
from jobs.queues import BrokerConfig

if TYPE_CHECKING:
    from purplecross_desktop.settings import Settings

RECORD_KINDS = ("client", "patient", "appointment", "invoice")
#: Lengths of the registry's columns, checked at enqueue.
MAX_IDEMPOTENCY_KEY = 200
MAX_TASK_NAME = 120
#: Integers JSON and PostgreSQL's jsonb both keep exactly.
_MAX_INT = 2**63 - 1


class UnknownTaskError(LookupError):
    """``enqueue`` named a task kind that was never registered."""


class UnknownQueueError(LookupError):
    """A queue name that is not configured."""


class JobsConfigError(ValueError):
    """The job settings cannot work as given; the message names the setting and the fix."""


@dataclass(frozen=True, slots=True)
class JobsConfig:
    """Everything the platform needs, built by the composition root.

    Args:
        broker: where the queues live.
        signing_key: the HMAC key of every payload (never shown by ``repr``).
        heartbeat_interval: seconds between a runner's heartbeats.
        heartbeat_timeout: silence after which a runner counts as dead.
        outbox_claim_ttl: seconds after which another process may take over a claim.
        completed_retention_days: completed jobs older than this are cleaned.
        claim_retry_delay: seconds a message waits in the schedule when its claim failed
            on the database (down, locked), before a worker takes it again.
        unknown_task_delay: seconds a message of a task kind this runner does not know
            waits before any runner takes it again (a rolling upgrade).
    """

    broker: BrokerConfig
    signing_key: bytes = field(repr=False)
    heartbeat_interval: float = 5.0
    heartbeat_timeout: float = 30.0
    outbox_claim_ttl: float = 30.0
    maintenance_interval: float = 1.0
    completed_retention_days: int = 7
    claim_retry_delay: float = 5.0
    unknown_task_delay: float = 10.0

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        signing_secret: str | None,
        redis_password: str | None = None,
    ) -> JobsConfig:
        """Redis when configured, else SQLite in ``settings.queue_file``.

        Args:
            settings: the effective settings.
            signing_secret: the ``job_signing_key`` secret.
            redis_password: the ``redis_password`` secret, used when the URL has none.

        Raises:
            JobsConfigError: Redis is configured but there is no ``job_signing_key``. A
                key generated per machine would make every other machine sharing the
                Redis refuse this one's jobs as tampered, so it must be set explicitly.
        """
        from jobs.signing import load_or_create_key

        if settings.redis_url and not signing_secret:
            raise JobsConfigError(
                "job_signing_key: required when redis_url is set, and the same on every "
                "machine that shares the Redis (each would otherwise sign with its own key "
                "and refuse the others' jobs). Set it in the keyring (service 'purplecross', "
                "name 'job_signing_key') or as PURPLECROSS_JOB_SIGNING_KEY, e.g. to the "
                "output of: python -c 'import secrets; print(secrets.token_hex(32))'"
            )

        broker = BrokerConfig(
            redis_url=settings.redis_url,
            redis_password=redis_password,
            queue_file=settings.queue_file,
        )
        return cls(broker=broker, signing_key=load_or_create_key(signing_secret, settings.data_dir))


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """A kind of job.

    Args:
        name: the name jobs are enqueued under (``email.send``).
        func: what runs; gets the job's args (and ``job=JobContext`` when ``context``).
        queue: the queue it runs on by default.
        policy: its retry policy (the queue's when None).
        repeatable: whether re-running after a worker died is safe (else the job is dead).
        context: pass a :class:`JobContext` as the ``job`` keyword argument.
        timeout: seconds after which a run counts as hung and fails as timed out (the
            queue's timeout when None); its thread is replaced.
        rate_limit: a cap on how many jobs of this kind start per window (the queue's
            own cap applies too).
    """

    name: str
    func: Callable[..., Any]
    queue: str
    policy: RetryPolicy | None = None
    repeatable: bool = True
    context: bool = False
    timeout: float | None = None
    rate_limit: RateLimit | None = None

    def __post_init__(self) -> None:
        if not self.name or len(self.name) > MAX_TASK_NAME:
            raise ValueError(f"task name: 1 to {MAX_TASK_NAME} characters; got {self.name!r}")
        if self.timeout is not None and self.timeout <= 0:
            raise ValueError(f"task {self.name}: timeout must be positive")


@dataclass(frozen=True, slots=True)
class RecordLinks:
    """The clinic records a job concerns (ids only)."""

    client: int | None = None
    patient: int | None = None
    appointment: int | None = None
    invoice: int | None = None

    @classmethod
    def coerce(cls, value: RecordLinks | Mapping[str, int | None] | None) -> RecordLinks:
        if value is None:
            return cls()
        if isinstance(value, RecordLinks):
            return value
        unknown = set(value) - set(RECORD_KINDS)
        if unknown:
            raise ValueError(f"record: unknown kind {sorted(unknown)}; use {RECORD_KINDS}")
        links = cls(**{k: value.get(k) for k in RECORD_KINDS})
        for kind, ident in zip(RECORD_KINDS, links.as_list(), strict=True):
            if ident is not None and (type(ident) is not int or not 0 <= ident <= 2**31 - 1):
                raise ValueError(
                    f"record: {kind} must be an integer id (0 to 2**31-1); got {ident!r}"
                )
        return links

    def as_list(self) -> list[int | None]:
        return [self.client, self.patient, self.appointment, self.invoice]


@dataclass(frozen=True, slots=True)
class JobRequest:
    """One job to enqueue with :meth:`~jobs.platform.JobPlatform.enqueue_many`.

    The fields are :meth:`~jobs.platform.JobPlatform.enqueue`'s arguments.
    """

    task: str
    args: Sequence[Any] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    record: RecordLinks | Mapping[str, int | None] | None = None
    idempotency_key: str | None = None
    eta: dt.datetime | None = None
    priority: int | None = None
    blobs: Mapping[str, bytes] | None = None


#: The longest line ``JobContext.log`` keeps.
LOG_LINE_LIMIT = 2000


@dataclass(slots=True)
class JobContext:
    """What a running task knows about its job (passed as ``job=`` to context tasks)."""

    job_id: JobId
    attempt: int
    max_attempts: int
    queue: str
    _report: Callable[[int, str], None] = field(repr=False)
    _log: Callable[[str], None] | None = field(default=None, repr=False)
    _blob: Callable[[str], bytes] | None = field(default=None, repr=False)

    def progress(self, percent: int, message: str = "") -> None:
        """Report progress (0-100) to the registry."""
        self._report(percent, message)

    def log(self, message: str) -> None:
        """Write a line to the job's log (shown in the monitor's job detail, with its time).

        A line is at most ``LOG_LINE_LIMIT`` characters; longer lines are cut there.
        """
        if self._log is not None:
            self._log(str(message)[:LOG_LINE_LIMIT])

    def blob(self, digest: str) -> bytes:
        """The bytes enqueued with this job under ``digest`` (``enqueue(..., blobs=)``).

        Raises:
            LookupError: the job has no such blob.
        """
        if self._blob is None:
            raise LookupError(f"job {self.job_id} has no blobs here")
        return self._blob(digest)


def check_job_data(value: Any, where: str = "args") -> None:
    """Refuse anything but plain JSON (dict with str keys, list, str, int, float, bool, None).

    Both registry databases and the broker store a job's data as JSON; a value that one
    encoder accepts and another refuses or changes (a UUID, an Enum, a date, a tuple, a
    NaN, a 100-digit integer) is refused here, at enqueue, naming where it was.

    Raises:
        TypeError: the value is not plain JSON.
    """
    stack: list[tuple[str, Any]] = [(where, value)]
    while stack:
        path, item = stack.pop()
        kind = type(item)
        if item is None or kind is str or kind is bool:
            continue
        if kind is int:
            if abs(item) > _MAX_INT:
                raise TypeError(f"{path}: integer {item} is too large for JSON storage")
            continue
        if kind is float:
            if not math.isfinite(item):
                raise TypeError(f"{path}: {item} is not JSON (only finite numbers are)")
            continue
        if kind is list or kind is tuple:  # a tuple is stored and given back as a list
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(item))
            continue
        if kind is dict:
            for key, v in item.items():
                if type(key) is not str:
                    raise TypeError(f"{path}: key {key!r} is not a string (JSON keys are)")
                stack.append((f"{path}[{key!r}]", v))
            continue
        raise TypeError(
            f"{path}: job data must be plain JSON (dict, list, str, int, float, bool, None); "
            f"got {kind.__name__} — pass dates and ids as text"
        )


def check_blobs(blobs: Mapping[str, bytes]) -> None:
    """Blobs are bytes stored under their own SHA-256 (hex), so a reference cannot lie.

    Raises:
        ValueError: a value that is not bytes, or a digest that is not its SHA-256.
    """
    for digest, data in blobs.items():
        if not isinstance(data, bytes):
            raise ValueError(f"blobs[{digest!r}]: must be bytes; got {type(data).__name__}")
        if hashlib.sha256(data).hexdigest() != digest:
            raise ValueError(f"blobs[{digest!r}]: the key must be the SHA-256 (hex) of the bytes")


def check_idempotency_key(key: str | None) -> None:
    """An idempotency key is text of 1 to 200 characters.

    Raises:
        ValueError: it is empty or longer than the registry stores.
    """
    if key is None:
        return
    if type(key) is not str or not key:
        raise ValueError("idempotency_key: must be non-empty text")
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise ValueError(
            f"idempotency_key: at most {MAX_IDEMPOTENCY_KEY} characters; got {len(key)}"
        )
