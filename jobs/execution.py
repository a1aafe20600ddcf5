"""Running one job on a worker thread: rate limits, the claim, the call, and its outcome.

Huey delivers a message (job id, dispatch token, task kind) to :meth:`Executor.run`;
everything after that is ours, so no outcome depends on Huey's signal handlers (which
swallow their own exceptions). The outcome is written before anything else happens:
a retry is recorded under a fresh token and only then sent to the broker's schedule,
and a write that fails (the database is down) is tried again until it lands. A job
that outlives its timeout is failed as timed out by the runner's watchdog, and its
thread replaced (:meth:`Executor.time_out`); a late result of that run changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from jobs.config import JobContext, TaskSpec
from jobs.models import JobId, JobState
from jobs.policy import RateLimit
from jobs.recorder import Claim, error_class_name, new_token, summarize
from purplecross_desktop.database.base import utcnow

if TYPE_CHECKING:
    from jobs.platform import JobPlatform, PlatformHuey

log = logging.getLogger(__name__)
T = TypeVar("T")


class JobTimeoutError(TimeoutError):
    """The job ran longer than its timeout; its thread was replaced."""


@dataclass(slots=True)
class Running:
    """A job a thread of this process is running now."""

    job_id: str
    token: str
    queue: str
    spec: TaskSpec
    claim: Claim
    thread: threading.Thread
    started: float  # monotonic
    deadline: float | None  # monotonic
    timed_out: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class Executor:
    """Runs the messages of one platform's queues.

    Args:
        platform: the platform whose tasks, recorder and brokers it uses.
    """

    def __init__(self, platform: JobPlatform) -> None:
        self.platform = platform
        self.recorder = platform.recorder
        self._running: dict[str, Running] = {}
        self._lock = threading.Lock()
        self._claim_failures: set[str] = set()
        self._unknown_tasks: set[str] = set()

    # What runs now --------------------------------------------------------------------
    def running(self) -> list[Running]:
        with self._lock:
            return list(self._running.values())

    def in_flight(self) -> set[str]:
        with self._lock:
            return set(self._running)

    # The message -----------------------------------------------------------------------
    def run(self, queue: str, message: Any, job_id: str, token: str, task_name: str) -> None:
        """Claim and run one message's job, and record what happened."""
        spec = self.platform.tasks.get(task_name)
        if spec is None:
            self._unknown_task(queue, message, job_id, task_name)
            return
        limits = self._limits(spec)
        try:
            wait = self._take_rate_slots(limits)
            if wait is not None:
                self._reschedule(queue, message, wait)
                return
            claim = self.recorder.claim(job_id, token, self.platform.worker_id, queue)
        except Exception:
            self._claim_failed(queue, job_id, message)
            return
        if self._claim_failures:
            with self._lock:
                recovered = job_id in self._claim_failures
                self._claim_failures.discard(job_id)
            if recovered:
                log.info("job %s claimed after its registry came back", job_id)
        if claim is None:
            self._give_back_rate_slots(limits)
            return
        timeout = spec.timeout or self.platform.queues[queue].timeout
        now = time.monotonic()
        running = Running(
            job_id,
            token,
            queue,
            spec,
            claim,
            threading.current_thread(),
            now,
            None if timeout is None else now + timeout,
        )
        with self._lock:
            self._running[job_id] = running
        try:
            value = self._call(running)
        except Exception as exc:
            error, text = exc, traceback.format_exc()
            self._finish(running, lambda: self._failed(running, error, text))
            return
        finally:
            with self._lock:
                if self._running.get(job_id) is running:
                    del self._running[job_id]
        self._finish(running, lambda: self._completed(running, value))

    def _call(self, running: Running) -> Any:
        spec, claim = running.spec, running.claim
        kwargs = dict(claim.kwargs)
        if spec.context:
            kwargs["job"] = JobContext(
                JobId(running.job_id),
                claim.attempt,
                claim.max_attempts,
                running.queue,
                lambda pct, msg: self.recorder.progress(running.job_id, running.token, pct, msg),
                lambda line: self.recorder.event(running.job_id, "log", running.queue, line),
                lambda digest: self.recorder.blob(running.job_id, digest),
            )
        return spec.func(*claim.args, **kwargs)

    def _finish(self, running: Running, record: Callable[[], None]) -> None:
        with running.lock:
            if running.timed_out:
                return  # the watchdog recorded this run as timed out; its result is void
            running.timed_out = True  # from here on the watchdog leaves it alone
        record()

    # Outcomes -------------------------------------------------------------------------
    def _completed(self, running: Running, value: Any) -> None:
        # Group-committed: if this process dies before the write, the job's runner stops
        # heart-beating and the job runs again (tasks are idempotent), as for any crash.
        self.platform.completions.add(
            {
                "b_id": running.job_id,
                "b_token": running.token,
                "b_duration_ms": (time.monotonic() - running.started) * 1000,
                "b_wait_ms": running.claim.wait_ms,
                "b_result": summarize(value),
                "b_started_at": running.claim.started_at,
                "b_attempt": running.claim.attempt,
                "b_worker": self.platform.worker_id,
            }
        )

    def _failed(self, running: Running, error: BaseException, text: str) -> None:
        policy = self.platform.policy_for(running.spec.name)
        attempt = running.claim.attempt
        duration = time.monotonic() - running.started
        started = (running.claim.started_at, attempt, self.platform.worker_id)
        cls, message = error_class_name(error), str(error)
        if not policy.should_retry(error, attempt):
            self._land(
                running.job_id,
                lambda: self.recorder.dead(
                    running.job_id, running.token, cls, message, text, duration, started
                ),
            )
            return
        delay = policy.delay(attempt)
        next_token = new_token()
        huey = self.platform.hueys[running.queue]
        epoch = self.platform.push_epoch(huey)
        recorded = self._land(
            running.job_id,
            lambda: self.recorder.retrying(
                running.job_id,
                running.token,
                next_token,
                cls,
                message,
                text,
                delay,
                duration,
                epoch,
                started,
            ),
        )
        if not recorded:
            return  # handed back or revoked meanwhile: no retry of ours
        eta = utcnow() + dt.timedelta(seconds=delay)
        try:
            self.platform.send(running.job_id, next_token, running.spec.name, running.queue, eta)
        except Exception as exc:
            log.warning(
                "broker refused the retry of %s (%s); it waits in the outbox", running.job_id, exc
            )
            reason = f"retry not scheduled: {exc}"
            self._land(
                running.job_id,
                lambda: self.recorder.to_outbox(
                    running.job_id,
                    next_token,
                    reason,
                    eta,
                    state=JobState.FAILED_RETRYING.value,
                ),
            )
            self.platform.notify_outbox()

    def _land(self, job_id: str, write: Callable[[], T]) -> T | None:
        """Run a registry write until it succeeds (None if the platform closes first).

        If this process dies while the database is down, the job is still ``active``
        under this runner, whose heartbeat stops: another runner hands it back.
        """
        delay = 0.05
        logged = False
        while True:
            try:
                return write()
            except Exception:
                if not logged:
                    log.exception(
                        "recording the outcome of job %s failed; trying until it lands", job_id
                    )
                    logged = True
                if self.platform.closed.wait(delay):
                    return None
                delay = min(delay * 2, 5.0)

    def time_out(self, running: Running) -> bool:
        """Fail a run that outlived its deadline (the watchdog's call); False if it just ended."""
        with running.lock:
            if running.timed_out:
                return False
            running.timed_out = True
        with self._lock:
            if self._running.get(running.job_id) is running:
                del self._running[running.job_id]
        timeout = (running.deadline or running.started) - running.started
        error = JobTimeoutError(f"still running after its {timeout:g} s timeout")
        self._failed(running, error, "")
        return True

    # Messages we do not run now ---------------------------------------------------------
    def _unknown_task(self, queue: str, message: Any, job_id: str, task_name: str) -> None:
        """A task kind this runner does not know (a newer runner enqueued it): leave it."""
        with self._lock:
            first = task_name not in self._unknown_tasks
            self._unknown_tasks.add(task_name)
        (log.warning if first else log.debug)(
            "task %r of job %s is not registered in this runner; left for one that knows it",
            task_name,
            job_id,
        )
        self._reschedule(queue, message, self.platform.config.unknown_task_delay)

    def _claim_failed(self, queue: str, job_id: str, message: Any) -> None:
        """The registry could not record a claim (database down, locked): try again later.

        The message goes to the schedule ``claim_retry_delay`` seconds ahead rather than
        straight back on the queue, where a worker would pop it again at once; the
        failure is logged once per job, not once per attempt.
        """
        delay = self.platform.config.claim_retry_delay
        with self._lock:
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
        self._reschedule(queue, message, delay)

    def _reschedule(self, queue: str, message: Any, delay: float) -> None:
        huey: PlatformHuey = self.platform.hueys[queue]
        when = (utcnow() + dt.timedelta(seconds=delay)).astimezone(dt.UTC).replace(tzinfo=None)
        try:
            huey.storage.add_to_schedule(huey.serialize_task(message), when)
        except Exception:
            log.exception("a message could not be put back; the registry's sweep sends it again")

    # Rate limits -------------------------------------------------------------------------
    def _limits(self, spec: TaskSpec) -> list[tuple[str, RateLimit]]:
        out: list[tuple[str, RateLimit]] = []
        queue_limit = self.platform.queues[spec.queue].rate_limit
        if queue_limit is not None:
            out.append((f"queue:{spec.queue}", queue_limit))
        if spec.rate_limit is not None:
            out.append((f"task:{spec.name}", spec.rate_limit))
        return out

    def _take_rate_slots(self, limits: list[tuple[str, RateLimit]]) -> float | None:
        """Take a start from every limit: None when all allow it, else seconds to wait."""
        taken: list[tuple[str, RateLimit]] = []
        for key, limit in limits:
            reopens = self.recorder.take_rate_slot(key, limit.jobs, limit.per_seconds)
            if reopens is not None:
                self._give_back_rate_slots(taken)
                now = self.recorder.now()
                return max(0.05, (reopens - now).total_seconds())
            taken.append((key, limit))
        return None

    def _give_back_rate_slots(self, limits: list[tuple[str, RateLimit]]) -> None:
        for key, _ in limits:
            try:
                self.recorder.release_rate_slot(key)
            except Exception:
                log.exception("giving back a rate-limit slot of %s failed", key)
