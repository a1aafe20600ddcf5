"""The job platform: queues, task kinds, tracked enqueue with an outbox, and execution hooks.

One :class:`JobPlatform` per process, built by the composition root from settings and
handed to whoever enqueues or runs jobs. Each queue is one Huey instance with exactly
one Huey task (``run``) that dispatches to the task kinds registered here, so nothing
depends on import-time decorators.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from huey import Huey
from huey import signals as huey_signals
from huey.exceptions import CancelExecution, RetryTask

from jobs.models import JobId, JobState
from jobs.policy import RetryPolicy
from jobs.queues import BrokerConfig, QueueSpec, make_huey, make_redis_pool
from jobs.recorder import Recorder, error_class_name, new_seq, new_token, summarize
from jobs.signing import TamperedPayloadError
from jobs.writer import RowWriter
from purplecross_desktop.database.base import utcnow

if TYPE_CHECKING:
    from purplecross_desktop.settings import Settings

log = logging.getLogger(__name__)

RECORD_KINDS = ("client", "patient", "appointment", "invoice")


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
        signing_key: the HMAC key of every payload.
        heartbeat_interval: seconds between a runner's heartbeats.
        heartbeat_timeout: silence after which a runner counts as dead.
        outbox_claim_ttl: seconds after which another process may take over a claim.
        completed_retention_days: completed jobs older than this are cleaned.
        claim_retry_delay: seconds a message waits in the schedule when its claim failed
            on the database (down, locked), before a worker takes it again.
    """

    broker: BrokerConfig
    signing_key: bytes
    heartbeat_interval: float = 5.0
    heartbeat_timeout: float = 30.0
    outbox_claim_ttl: float = 30.0
    maintenance_interval: float = 1.0
    completed_retention_days: int = 7
    claim_retry_delay: float = 5.0

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
    """

    name: str
    func: Callable[..., Any]
    queue: str
    policy: RetryPolicy | None = None
    repeatable: bool = True
    context: bool = False


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
        return cls(**{k: value.get(k) for k in RECORD_KINDS})

    def as_list(self) -> list[int | None]:
        return [self.client, self.patient, self.appointment, self.invoice]


@dataclass(slots=True)
class JobContext:
    """What a running task knows about its job (passed as ``job=`` to context tasks)."""

    job_id: JobId
    attempt: int
    max_attempts: int
    queue: str
    _report: Callable[[int, str], None] = field(repr=False)

    def progress(self, percent: int, message: str = "") -> None:
        """Report progress (0-100) to the registry."""
        self._report(percent, message)


class PlatformHuey(Huey):  # type: ignore[misc]
    """Huey tuned for the registry.

    Revocation lives in the registry (a revoked job's claim fails), so Huey's own
    per-task revoke keys are neither read before nor deleted after each run: that saves
    two broker round trips per job, and a broker outage right after a job ran can no
    longer keep its completion from being recorded. A retry that cannot be scheduled
    because the broker is down waits in the outbox instead of being lost.
    """

    platform: JobPlatform

    def is_revoked(self, task: Any, timestamp: Any = None, peek: bool = True) -> bool:
        return False

    def delete(self, key: str) -> bool:
        if key.startswith("r:"):
            return False  # a per-task revoke key: never written, see the class docstring
        result: bool = super().delete(key)
        return result

    def _requeue_task(self, task: Any, timestamp: Any, retry_eta: Any = None) -> None:
        try:
            super()._requeue_task(task, timestamp, retry_eta)
        except Exception as exc:
            job_id, token = task.args[0], task.args[1]
            next_run = getattr(task, "_pc_next_run", None)
            log.warning("broker refused the retry of %s (%s); job waits in the outbox", job_id, exc)
            self.platform.recorder.to_outbox(job_id, token, f"retry not scheduled: {exc}", next_run)
            self.platform.notify_outbox()


class JobPlatform:
    """Queues, task kinds and the registry writer of one process.

    Args:
        config: broker, signing key and timings.
        engine: the app database engine (the registry tables must exist).
        worker_id: this process's worker identity (generated when None).
    """

    def __init__(self, config: JobsConfig, engine: Any, worker_id: str | None = None) -> None:
        self.config = config
        self.engine = engine
        self.recorder = Recorder(engine)
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.queues: dict[str, QueueSpec] = {q.name: q for q in config.broker.queues}
        self.tasks: dict[str, TaskSpec] = {}
        # The service object of each job family (email, reports, ...) bound to this platform.
        self.services: dict[str, Any] = {}
        self.outbox_pending = threading.Event()
        self.writer = RowWriter(self.recorder.insert_jobs)
        self.completions = RowWriter(self.recorder.complete_many)
        self._closed = threading.Event()
        self._drainer: threading.Thread | None = None
        self._drainer_lock = threading.Lock()
        self._in_flight: set[str] = set()
        self._in_flight_lock = threading.Lock()
        self._claim_failures: set[str] = set()  # jobs whose claim failed on the database
        self._redis_pool = make_redis_pool(config.broker) if config.broker.uses_redis else None
        self.hueys: dict[str, PlatformHuey] = {}
        self._run_tasks: dict[str, Any] = {}
        for spec in config.broker.queues:
            huey = make_huey(
                spec,
                config.broker,
                config.signing_key,
                on_refused=self._on_refused,
                redis_pool=self._redis_pool,
                huey_class=PlatformHuey,
            )
            huey.platform = self
            self._bind(spec.name, huey)
            self.hueys[spec.name] = huey

    # Task kinds ---------------------------------------------------------------------
    def register(self, spec: TaskSpec) -> TaskSpec:
        """Add a task kind; every process that runs it must register it the same way."""
        if spec.queue not in self.queues:
            raise UnknownQueueError(f"task {spec.name}: queue {spec.queue!r} is not configured")
        if spec.name in self.tasks and self.tasks[spec.name] != spec:
            raise ValueError(f"task {spec.name}: already registered")
        self.tasks[spec.name] = spec
        return spec

    def task(
        self,
        name: str,
        queue: str,
        policy: RetryPolicy | None = None,
        repeatable: bool = True,
        context: bool = False,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator form of :meth:`register`; returns the function unchanged."""

        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            self.register(TaskSpec(name, func, queue, policy, repeatable, context))
            return func

        return decorator

    def policy_for(self, task: str) -> RetryPolicy:
        spec = self.tasks[task]
        return spec.policy or self.queues[spec.queue].policy

    # Enqueue ------------------------------------------------------------------------
    def enqueue(
        self,
        queue: str,
        task: str,
        *args: Any,
        record: RecordLinks | Mapping[str, int | None] | None = None,
        idempotency_key: str | None = None,
        eta: dt.datetime | None = None,
        priority: int | None = None,
        **kwargs: Any,
    ) -> JobId:
        """Enqueue ``task(*args, **kwargs)`` on ``queue`` and return its job id.

        When the broker cannot be reached the job waits in the database outbox and is
        dispatched when it answers again; the caller never sees a broker error. With
        an ``idempotency_key`` already used, the existing job's id is returned.
        """
        if queue not in self.queues:
            raise UnknownQueueError(f"queue: {queue!r} is not one of {sorted(self.queues)}")
        if task not in self.tasks:
            raise UnknownTaskError(f"task: {task!r} is not registered")
        if eta is not None and eta.tzinfo is None:
            raise ValueError("eta: must be timezone-aware")
        links = RecordLinks.coerce(record)
        if idempotency_key is not None:
            existing = self.recorder.job_id_for_key(idempotency_key)
            if existing is not None:
                return JobId(existing)
        spec = self.tasks[task]
        job_id = uuid.uuid4().hex
        row: dict[str, Any] = {
            "id": job_id,
            "queue": queue,
            "task": task,
            "args": list(args),
            "kwargs": kwargs,
            "state": JobState.OUTBOX.value,
            "attempts": 0,
            "max_attempts": self.policy_for(task).max_attempts,
            "priority": priority or 0,
            "repeatable": spec.repeatable,
            "idempotency_key": idempotency_key,
            "token": job_id[16:],  # later dispatches draw fresh tokens
            "seq": new_seq(),
            "enqueued_at": utcnow(),
            "next_run_at": eta,
            "client_id": links.client,
            "patient_id": links.patient,
            "appointment_id": links.appointment,
            "invoice_id": links.invoice,
        }
        # Signing also proves the args are JSON: a TypeError here reaches the caller.
        data = self._message(row)
        if not self.outbox_pending.is_set():
            try:
                row["state"], row["broker_epoch"] = self._push(row, data)
            except Exception as exc:
                log.warning("broker unreachable, job %s waits in the outbox: %s", row["id"], exc)
                self.notify_outbox()
        if row["state"] != JobState.OUTBOX.value and idempotency_key is None:
            self.writer.add(row)  # the broker holds it: the row may follow a moment later
            return JobId(row["id"])
        try:
            inserted = self.recorder.insert_job(row)
        except Exception:
            if row["state"] == JobState.OUTBOX.value:
                raise  # neither the broker nor the database took it: the caller must know
            log.exception("job %s is queued but its registry row could not be written", row["id"])
            return JobId(row["id"])
        if not inserted and idempotency_key is not None:
            existing = self.recorder.job_id_for_key(idempotency_key)
            if existing is not None:
                return JobId(existing)
        return JobId(row["id"])

    def _message(self, row: Mapping[str, Any]) -> bytes:
        """The signed message of a job (raises TypeError for args that are not JSON)."""
        huey = self.hueys[row["queue"]]
        meta = {
            "task": row["task"],
            "seq": row["seq"],
            "enqueued_at": row["enqueued_at"].isoformat(),
            "priority": row["priority"],
            "idempotency_key": row["idempotency_key"],
            "record": [
                row["client_id"],
                row["patient_id"],
                row["appointment_id"],
                row["invoice_id"],
            ],
            "max_attempts": row["max_attempts"],
            "repeatable": row["repeatable"],
        }
        eta = row["next_run_at"]
        naive_eta = None if eta is None else eta.astimezone(dt.UTC).replace(tzinfo=None)
        message = self._run_tasks[row["queue"]].task_class(
            (row["id"], row["token"], row["task"], row["args"], row["kwargs"], meta),
            {},
            id=row["id"],
            eta=naive_eta,
            priority=row["priority"] or None,
        )
        data: bytes = huey.serialize_task(message)
        return data

    def _push(self, row: Mapping[str, Any], data: bytes | None = None) -> tuple[str, str | None]:
        """Put a job's message on its broker; returns (state, broker epoch)."""
        huey = self.hueys[row["queue"]]
        if data is None:
            data = self._message(row)
        eta = row["next_run_at"]
        if eta is not None and eta > utcnow():
            naive_eta = eta.astimezone(dt.UTC).replace(tzinfo=None)
            huey.storage.add_to_schedule(data, naive_eta)
            state = JobState.SCHEDULED.value
        else:
            huey.storage.enqueue(data, row["priority"] or None)
            state = JobState.WAITING.value
        return state, huey.storage.last_epoch

    # Outbox and broker recovery -------------------------------------------------------
    def drain_outbox(self, batch: int = 100) -> int:
        """Dispatch outbox jobs in enqueue order; safe when many processes drain at once.

        Rows are claimed a batch at a time (a claim older than ``outbox_claim_ttl`` may be
        taken over, so a drainer that died holds nothing for long); when the broker fails
        mid-batch, what was pushed is marked dispatched and the rest released.
        """
        owner = f"{self.worker_id}:{threading.get_ident()}"
        sent = 0
        while True:
            rows = self.recorder.claim_outbox(owner, self.config.outbox_claim_ttl, batch)
            if not rows:
                self.outbox_pending.clear()
                return sent
            pushed: list[tuple[str, str, str, str | None]] = []
            failure: Exception | None = None
            for row in rows:
                try:
                    state, epoch = self._push(row)
                except Exception as exc:
                    failure = exc
                    break
                pushed.append((row["id"], row["token"], state, epoch))
            self.recorder.mark_dispatched(pushed)
            sent += len(pushed)
            if failure is not None:
                log.info("outbox: broker still unreachable (%s)", failure)
                self.recorder.release_outbox([r["id"] for r in rows[len(pushed) :]], owner)
                self.notify_outbox()
                return sent
            if len(rows) < batch:
                self.outbox_pending.clear()
                return sent

    def sweep_lost(self, older_than: float) -> int:
        """Jobs ``waiting`` for longer than ``older_than`` s but absent from the broker go back.

        Covers a worker that died after taking a message and before claiming it (Redis
        pops are destructive). A job merely in transit is dispatched twice at worst, and
        its claim runs it once. Returns how many were sent back to the outbox.
        """
        from sqlalchemy import select, update

        from jobs.recorder import JOB

        cutoff = utcnow() - dt.timedelta(seconds=older_than)
        lost = 0
        for name, huey in self.hueys.items():
            with self.engine.connect() as conn:
                waiting = conn.execute(
                    select(JOB.c.id, JOB.c.token).where(
                        JOB.c.queue == name,
                        JOB.c.state == JobState.WAITING.value,
                        JOB.c.enqueued_at < cutoff,
                    )
                ).all()
            if not waiting:
                continue
            try:
                # A message put back in the schedule after a failed claim is not lost.
                items = [*huey.storage.enqueued_items(), *huey.storage.scheduled_items()]
                present = {_message_job_id(item) for item in items}
            except Exception as exc:
                log.debug("cannot list broker queue %s: %s", name, exc)
                continue
            missing = [(job_id, token) for job_id, token in waiting if job_id not in present]
            with self.recorder.tx() as conn:
                for job_id, token in missing:
                    n = conn.execute(
                        update(JOB)
                        .where(
                            JOB.c.id == job_id,
                            JOB.c.token == token,
                            JOB.c.state == JobState.WAITING.value,
                        )
                        .values(state=JobState.OUTBOX.value, outbox_claimed_by=None)
                    ).rowcount
                    if n:
                        lost += 1
                        self.recorder.write_event(
                            conn, job_id, "swept", name, "missing from the broker; sent again"
                        )
        if lost:
            log.warning("%d waiting jobs were missing from the broker; dispatching again", lost)
            self.notify_outbox()
        return lost

    def notify_outbox(self) -> None:
        """The outbox has work: make sure a thread of this process keeps draining it."""
        self.outbox_pending.set()
        with self._drainer_lock:
            if self._drainer is None and not self._closed.is_set():
                self._drainer = threading.Thread(
                    target=self._drain_loop, name="jobs-outbox", daemon=True
                )
                self._drainer.start()

    def _drain_loop(self) -> None:
        while not self._closed.wait(self.config.maintenance_interval):
            with self._drainer_lock:
                if not self.outbox_pending.is_set():
                    self._drainer = None
                    return
            try:
                self.drain_outbox()
            except Exception:
                log.exception("draining the outbox failed; trying again")
        with self._drainer_lock:
            self._drainer = None

    def check_broker(self) -> int:
        """Send back to the outbox the jobs of a broker dataset that was lost; returns how many."""
        counts = 0
        seen: set[str] = set()
        for name, huey in self.hueys.items():
            try:
                epoch = huey.storage.current_epoch()
            except Exception as exc:
                log.debug("broker unreachable for %s: %s", name, exc)
                continue
            if epoch in seen:
                continue
            seen.add(epoch)
            same_broker = [n for n in self.hueys if n == name or self.config.broker.uses_redis]
            counts += self.recorder.requeue_lost_epochs(epoch, same_broker)
        if counts:
            log.warning("the broker lost its data: %d jobs dispatched again", counts)
            self.notify_outbox()
        return counts

    # Execution (worker threads) ------------------------------------------------------
    def _bind(self, queue: str, huey: PlatformHuey) -> None:
        def run(
            job_id: str,
            token: str,
            task_name: str,
            args: list[Any],
            kwargs: dict[str, Any],
            meta: dict[str, Any],
            task: Any = None,
        ) -> Any:
            return self._execute(queue, task, job_id, token, task_name, args, kwargs)

        self._run_tasks[queue] = huey.task(name="run", context=True)(run)
        huey.pre_execute(name="claim")(lambda task: self._claim(queue, task))
        huey.signal(huey_signals.SIGNAL_COMPLETE)(self._on_complete)
        huey.signal(huey_signals.SIGNAL_SCHEDULED)(
            lambda signal, task: self._on_scheduled(huey, task)
        )
        huey.signal(huey_signals.SIGNAL_ERROR)(self._on_error)
        huey.signal(huey_signals.SIGNAL_INTERRUPTED)(self._on_interrupted)

    def _claim(self, queue: str, task: Any) -> None:
        job_id, token, task_name, args, kwargs, meta = task.args
        record = meta.get("record") or [None] * 4
        missing = {
            "id": job_id,
            "queue": queue,
            "task": task_name,
            "args": args,
            "kwargs": kwargs,
            "state": JobState.WAITING.value,
            "attempts": 0,
            "max_attempts": meta.get("max_attempts", 1),
            "priority": meta.get("priority") or 0,
            "repeatable": meta.get("repeatable", True),
            "idempotency_key": meta.get("idempotency_key"),
            "token": token,
            "seq": meta.get("seq") or new_seq(),
            "enqueued_at": dt.datetime.fromisoformat(meta["enqueued_at"])
            if meta.get("enqueued_at")
            else utcnow(),
            "client_id": record[0],
            "patient_id": record[1],
            "appointment_id": record[2],
            "invoice_id": record[3],
        }
        try:
            attempt = self.recorder.claim(job_id, token, self.worker_id, queue, missing)
        except Exception:
            # Huey would run the task anyway after a failing hook: never run unclaimed.
            self._claim_failed(queue, job_id, task)
            raise CancelExecution(retry=False) from None
        if self._claim_failures:
            with self._in_flight_lock:
                recovered = job_id in self._claim_failures
                self._claim_failures.discard(job_id)
            if recovered:
                log.info("job %s claimed after its registry came back", job_id)
        if attempt is None:
            raise CancelExecution(retry=False)
        task._pc_attempt, ready = attempt
        now = utcnow()
        task._pc_started_at = now
        task._pc_wait_ms = max(0.0, (now - ready).total_seconds() * 1000)
        task._pc_started = time.monotonic()
        self._track(job_id, add=True)

    def _claim_failed(self, queue: str, job_id: str, task: Any) -> None:
        """The registry could not record a claim (database down, locked): try again later.

        The message goes to the schedule ``claim_retry_delay`` seconds ahead rather than
        straight back on the queue, where a worker would pop it again at once; the
        failure is logged once per job, not once per attempt.
        """
        delay = self.config.claim_retry_delay
        with self._in_flight_lock:
            first = job_id not in self._claim_failures
            self._claim_failures.add(job_id)
        if first:
            log.exception(
                "claiming job %s failed on the registry database; tried again every %g s "
                "until it answers (logged once)",
                job_id,
                delay,
            )
        else:
            log.debug("claiming job %s failed again; next try in %g s", job_id, delay)
        huey = self.hueys[queue]
        when = (utcnow() + dt.timedelta(seconds=delay)).astimezone(dt.UTC).replace(tzinfo=None)
        try:
            huey.storage.add_to_schedule(huey.serialize_task(task), when)
        except Exception:
            log.exception("job %s could not be put back; it waits for recovery", job_id)

    def _execute(
        self,
        queue: str,
        task: Any,
        job_id: str,
        token: str,
        task_name: str,
        args: list[Any],
        kwargs: dict[str, Any],
    ) -> Any:
        spec = self.tasks.get(task_name)
        if spec is None:
            raise UnknownTaskError(f"task {task_name!r} is not registered in this worker")
        attempt: int = task._pc_attempt
        policy = self.policy_for(task_name)
        call_kwargs = dict(kwargs)
        if spec.context:
            call_kwargs["job"] = JobContext(
                JobId(job_id),
                attempt,
                policy.max_attempts,
                queue,
                lambda pct, msg: self.recorder.progress(job_id, token, pct, msg),
            )
        try:
            value = spec.func(*args, **call_kwargs)
        except Exception as exc:
            if policy.should_retry(exc, attempt):
                delay = policy.delay(attempt)
                task._pc_retry = (exc, traceback.format_exc())
                task._pc_next_run = utcnow() + dt.timedelta(seconds=delay)
                raise RetryTask(delay=delay) from exc
            raise
        task._pc_result = value
        return value

    def _started(self, task: Any) -> tuple[dt.datetime, int, str] | None:
        started_at = getattr(task, "_pc_started_at", None)
        if started_at is None:
            return None
        return started_at, task._pc_attempt, self.worker_id

    def _duration(self, task: Any) -> float:
        started = getattr(task, "_pc_started", None)
        return 0.0 if started is None else time.monotonic() - started

    def _on_complete(self, signal: str, task: Any) -> None:
        job_id, token = task.args[0], task.args[1]
        self._track(job_id, add=False)
        # Group-committed: if this process dies before the write, the job's worker stops
        # heart-beating and the job runs again (tasks are idempotent), as for any crash.
        self.completions.add(
            {
                "b_id": job_id,
                "b_token": token,
                "b_finished_at": utcnow(),
                "b_duration_ms": self._duration(task) * 1000,
                "b_wait_ms": getattr(task, "_pc_wait_ms", None),
                "b_result": summarize(getattr(task, "_pc_result", None)),
                "b_started_at": task._pc_started_at,
                "b_attempt": task._pc_attempt,
                "b_worker": self.worker_id,
            }
        )

    def _on_scheduled(self, huey: PlatformHuey, task: Any) -> None:
        retry = getattr(task, "_pc_retry", None)
        if retry is None:
            return  # a dispatch with an ETA: the enqueuer recorded it
        job_id, token = task.args[0], task.args[1]
        self._track(job_id, add=False)
        error, text = retry
        epoch = huey.storage.last_epoch
        self.recorder.retrying(
            job_id,
            token,
            error,
            text,
            task._pc_next_run,
            self._duration(task),
            epoch,
            self._started(task),
        )

    def _on_error(self, signal: str, task: Any, exc: BaseException) -> None:
        job_id, token = task.args[0], task.args[1]
        self._track(job_id, add=False)
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.recorder.dead(
            job_id,
            token,
            error_class_name(exc),
            str(exc),
            text,
            self._duration(task),
            self._started(task),
        )

    def _on_interrupted(self, signal: str, task: Any) -> None:
        """A runner stopped while this job ran: it runs again (or is dead if unsafe)."""
        job_id, token = task.args[0], task.args[1]
        self._track(job_id, add=False)
        self.requeue_or_bury(job_id, token, "the runner stopped during the job")

    def requeue_or_bury(self, job_id: str, token: str, reason: str) -> None:
        spec = self.tasks.get(self._task_of(job_id) or "")
        repeatable = spec.repeatable if spec is not None else True
        if repeatable:
            if self.recorder.to_outbox(job_id, token, reason, None):
                self.dispatch_again_token(job_id, token)
        else:
            self.recorder.dead(
                job_id, token, "WorkerLost", reason + "; not safe to repeat", "", None
            )

    def dispatch_again_token(self, job_id: str, token: str) -> None:
        """After ``to_outbox``: a fresh token, so a late finish of the old run is ignored."""
        from sqlalchemy import update

        from jobs.recorder import JOB

        with self.engine.begin() as conn:
            conn.execute(
                update(JOB)
                .where(JOB.c.id == job_id, JOB.c.token == token, JOB.c.state == "outbox")
                .values(token=new_token(), outbox_claimed_by=None, next_run_at=None)
            )
        self.notify_outbox()

    def _task_of(self, job_id: str) -> str | None:
        from sqlalchemy import select

        from jobs.recorder import JOB

        with self.engine.connect() as conn:
            value = conn.execute(select(JOB.c.task).where(JOB.c.id == job_id)).scalar()
        return None if value is None else str(value)

    def _on_refused(self, error: TamperedPayloadError) -> None:
        self.recorder.refused(error)

    # In-flight bookkeeping (what this process runs right now) ---------------------------
    def _track(self, job_id: str, add: bool) -> None:
        with self._in_flight_lock:
            if add:
                self._in_flight.add(job_id)
            else:
                self._in_flight.discard(job_id)

    def in_flight(self) -> set[str]:
        """Ids of the jobs this process is running now."""
        with self._in_flight_lock:
            return set(self._in_flight)

    # Lifecycle ----------------------------------------------------------------------
    def queue_names(self, selected: Iterable[str] | None = None) -> list[str]:
        names = list(selected) if selected else list(self.queues)
        unknown = [n for n in names if n not in self.queues]
        if unknown:
            raise UnknownQueueError(f"queue: {unknown} not among {sorted(self.queues)}")
        return names

    def close(self) -> None:
        """Stop the outbox thread and release broker connections (the engine is the caller's)."""
        self.writer.close()
        self.completions.close()
        self._closed.set()
        drainer = self._drainer
        if drainer is not None:
            drainer.join(timeout=5)
        for huey in self.hueys.values():
            close = getattr(huey.storage, "close", None)
            if close is not None:
                close()
        if self._redis_pool is not None:
            self._redis_pool.disconnect()
        self.recorder.close()


_JOB_ID_IN_MESSAGE = re.compile(rb'"\$msg":\["([0-9a-f]{32})"')


def _message_job_id(data: bytes) -> str | None:
    """The job id of a broker message, read for bookkeeping only (never trusted to run)."""
    match = _JOB_ID_IN_MESSAGE.search(bytes(data[:300]))
    return match.group(1).decode("ascii") if match else None
