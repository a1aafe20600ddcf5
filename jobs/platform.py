"""The job platform: queues, task kinds, tracked enqueue with an outbox, dispatch and recovery.

One :class:`JobPlatform` per process, built by the composition root from settings and
handed to whoever enqueues or runs jobs. Each queue is one Huey instance with exactly
one Huey task (``run``) that hands every message to the :class:`~jobs.execution.Executor`,
so nothing depends on import-time decorators.

A job's row is committed before its message can be claimed: the broker carries only the
job's id, its dispatch token and its task kind (signed), never its arguments, and a
message whose job has no row (never enqueued, or cleaned) never runs. Config and value
types live in :mod:`jobs.config`, enqueue, the outbox and recovery in :mod:`jobs.dispatch`,
execution in :mod:`jobs.execution`, registry writes in :mod:`jobs.recorder`; their public
names are re-exported here.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from huey import Huey
from huey import signals as huey_signals

from jobs.config import (
    RECORD_KINDS,
    JobContext,
    JobRequest,
    JobsConfig,
    JobsConfigError,
    RecordLinks,
    TaskSpec,
    UnknownQueueError,
    UnknownTaskError,
)
from jobs.dispatch import CAUSING_EVENT, Dispatcher
from jobs.execution import Executor
from jobs.policy import RetryPolicy
from jobs.queues import QueueSpec, make_huey, make_redis_pool
from jobs.recorder import Recorder
from jobs.writer import RowWriter

__all__ = [
    "CAUSING_EVENT",
    "RECORD_KINDS",
    "JobContext",
    "JobPlatform",
    "JobRequest",
    "JobsConfig",
    "JobsConfigError",
    "PlatformHuey",
    "RecordLinks",
    "TaskSpec",
    "UnknownQueueError",
    "UnknownTaskError",
]

log = logging.getLogger(__name__)


class PlatformHuey(Huey):  # type: ignore[misc]
    """Huey tuned for the registry.

    Revocation lives in the registry (a revoked job's claim fails), so Huey's own
    per-task revoke keys are neither read before nor deleted after each run: that saves
    two broker round trips per job. Retries never go through Huey (the executor records
    them and sends them itself), so nothing here depends on Huey's signal handlers.
    """

    platform: JobPlatform

    def is_revoked(self, task: Any, timestamp: Any = None, peek: bool = True) -> bool:
        return False

    def delete(self, key: str) -> bool:
        if key.startswith("r:"):
            return False  # a per-task revoke key: never written, see the class docstring
        result: bool = super().delete(key)
        return result


class JobPlatform(Dispatcher):
    """Queues, task kinds, dispatch and the registry writer of one process.

    Enqueue, the outbox and broker recovery come from :class:`~jobs.dispatch.Dispatcher`;
    running a message from :class:`~jobs.execution.Executor`.

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
        # Retention passes of the families' own tables (name → purge returning a count),
        # run by every consuming runner with the registry's own, hourly.
        self.retention: dict[str, Callable[[], int]] = {}
        self.outbox_pending = threading.Event()
        self.completions = RowWriter(self.recorder.complete_many)
        # Before rows were written first, enqueued rows were buffered in ``writer``; code
        # that still calls ``platform.writer.flush()`` waits for the buffered writes left.
        self.writer = self.completions
        self.closed = threading.Event()
        self.executor = Executor(self)
        self._drainer: threading.Thread | None = None
        self._drainer_lock = threading.Lock()
        self._redis_pool = make_redis_pool(config.broker) if config.broker.uses_redis else None
        self.hueys: dict[str, PlatformHuey] = {}
        self._run_tasks: dict[str, Any] = {}
        for spec in config.broker.queues:
            huey = make_huey(
                spec,
                config.broker,
                config.signing_key,
                on_refused=self.recorder.refused,
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

    def add_retention(self, name: str, purge: Callable[[], int]) -> None:
        """Have runners call ``purge`` (which returns how many rows it deleted) hourly."""
        self.retention[name] = purge

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

    # Execution (worker threads) ------------------------------------------------------
    def _bind(self, queue: str, huey: PlatformHuey) -> None:
        executor = self.executor

        def run(job_id: str, token: str, task_name: str, *_older: Any, task: Any = None) -> None:
            # Messages of older runners carried the job's data after the task name; the
            # data is read from the registry now, so those fields are ignored.
            executor.run(queue, task, job_id, token, task_name)

        self._run_tasks[queue] = huey.task(name="run", context=True)(run)
        huey.signal(huey_signals.SIGNAL_INTERRUPTED)(self._on_interrupted)

    def _on_interrupted(self, signal: str, task: Any) -> None:
        """A runner stopped while this job ran: it runs again (or is dead if unsafe)."""
        job_id, token = task.args[0], task.args[1]
        self.requeue_or_bury(job_id, token, "the runner stopped during the job")

    def requeue_or_bury(self, job_id: str, token: str, reason: str) -> None:
        """An ``active`` job nobody runs any more: back to the outbox, or dead if unsafe."""
        spec = self.tasks.get(self._task_of(job_id) or "")
        repeatable = spec.repeatable if spec is not None else True
        if repeatable:
            if self.recorder.to_outbox(job_id, token, reason, None):
                self.notify_outbox()
        else:
            self.recorder.dead(
                job_id, token, "WorkerLost", reason + "; not safe to repeat", "", None
            )

    def _task_of(self, job_id: str) -> str | None:
        from sqlalchemy import select

        from jobs.recorder import JOB

        with self.engine.connect() as conn:
            value = conn.execute(select(JOB.c.task).where(JOB.c.id == job_id)).scalar()
        return None if value is None else str(value)

    def in_flight(self) -> set[str]:
        """Ids of the jobs this process is running now."""
        return self.executor.in_flight()

    # Lifecycle ----------------------------------------------------------------------
    def queue_names(self, selected: Iterable[str] | None = None) -> list[str]:
        names = list(selected) if selected else list(self.queues)
        unknown = [n for n in names if n not in self.queues]
        if unknown:
            raise UnknownQueueError(f"queue: {unknown} not among {sorted(self.queues)}")
        return names

    def close(self) -> None:
        """Stop the outbox thread and release broker connections (the engine is the caller's)."""
        self.completions.close()
        self.closed.set()
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
