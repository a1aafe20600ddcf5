"""Runs the queues: Huey consumers as threads, heartbeats, outbox draining and dead-worker recovery.

The same :class:`Runner` serves the app (embedded, on background threads) and
``purplecross worker``. It never touches signal handlers: Huey's ``Consumer.run()``
installs its own, so the consumers are started with ``start()`` and a subclass that
leaves the host's handlers alone; the host decides what SIGTERM means.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any, cast

from huey.consumer import Consumer, Worker, WorkerRecycle
from sqlalchemy import Table, select

from jobs.execution import Running
from jobs.models import Job, JobState, JobWorker, PausedQueue
from jobs.platform import JobPlatform

log = logging.getLogger(__name__)

PURGE_INTERVAL = 3600.0

JOB = cast(Table, Job.__table__)
WORKER = cast(Table, JobWorker.__table__)
PAUSED = cast(Table, PausedQueue.__table__)


class PausableWorker(Worker):  # type: ignore[misc]
    """A Huey worker thread that takes no job while its queue is paused."""

    runner: Runner
    queue: str
    retired = False  # replaced after a hung job: the thread ends when the job returns

    def loop(self, now: Any = None) -> None:
        if self.retired:
            raise WorkerRecycle()
        if self.queue in self.runner.paused:
            self.stop_flag.wait(self.runner.pause_poll)
            return
        super().loop(now)
        if self.retired:
            raise WorkerRecycle()


class HostedConsumer(Consumer):  # type: ignore[misc]
    """Huey's consumer without its signal handlers (the host process owns its signals)."""

    def __init__(self, runner: Runner, queue: str, huey: Any, **options: Any) -> None:
        self.runner = runner
        self.queue = queue
        super().__init__(huey, **options)

    def _set_signal_handlers(self) -> None:
        return

    def replace_thread(self, thread: threading.Thread) -> bool:
        """Retire the worker running on ``thread`` and start a fresh one in its place."""
        for index, (worker, process) in enumerate(self.worker_threads):
            if process is thread:
                worker.retired = True
                fresh = self._create_worker()
                fresh_thread = self._create_process(fresh, f"Worker-{index + 1}-r")
                self.worker_threads[index] = (fresh, fresh_thread)
                fresh_thread.start()
                return True
        return False

    def _create_worker(self) -> Worker:
        worker = PausableWorker(
            huey=self.huey,
            stop_flag=self.stop_flag,
            default_delay=self.default_delay,
            max_delay=self.max_delay,
            backoff=self.backoff,
            max_tasks=self.max_tasks,
        )
        worker.runner = self.runner
        worker.queue = self.queue
        return worker


class Runner:
    """Consumers for some or all queues of a platform, with their upkeep.

    Args:
        platform: the job platform of this process.
        queues: the queues to serve (all when None).
        concurrency: worker threads per queue (the queue's own setting when absent).
        embedded: whether this runs inside the app (shown in ``workers()``).
        shutdown_timeout: seconds :meth:`stop` waits for running jobs; those still
            running afterwards are handed back to the queue to run again.
        pause_poll: how often a paused queue is re-checked, in seconds.
        consume: False runs only the upkeep (outbox, broker check, reaping), for an
            app whose jobs are served by separate workers.
    """

    def __init__(
        self,
        platform: JobPlatform,
        queues: Iterable[str] | None = None,
        concurrency: Mapping[str, int] | None = None,
        embedded: bool = True,
        shutdown_timeout: float = 5.0,
        pause_poll: float = 0.5,
        consume: bool = True,
    ) -> None:
        self.platform = platform
        self.queue_names = platform.queue_names(queues)
        self.concurrency = {
            name: (concurrency or {}).get(name, platform.queues[name].concurrency)
            for name in self.queue_names
        }
        self.embedded = embedded
        self.shutdown_timeout = shutdown_timeout
        self.pause_poll = pause_poll
        self.consume = consume
        self.paused: frozenset[str] = frozenset()
        self.consumers: dict[str, HostedConsumer] = {}
        self._stop = threading.Event()
        self._stop_requested = threading.Event()
        self._upkeep: threading.Thread | None = None
        self._heartbeat: threading.Thread | None = None
        self._started = False

    @property
    def worker_id(self) -> str:
        return self.platform.worker_id

    # Lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        """Register this worker and start every consumer and the upkeep thread."""
        if self._started:
            return
        self._started = True
        self._register()
        self._refresh_paused()
        self.upkeep_once()
        broker = self.platform.config.broker
        for name in self.queue_names if self.consume else ():
            huey = self.platform.hueys[name]
            consumer = HostedConsumer(
                self,
                name,
                huey,
                workers=self.concurrency[name],
                periodic=False,
                initial_delay=0.05,
                backoff=1.5,
                max_delay=broker.poll_max_delay,
                scheduler_interval=1,
                check_worker_health=True,
                shutdown_timeout=self.shutdown_timeout,
            )
            consumer.start()
            self.consumers[name] = consumer
        self._upkeep = threading.Thread(target=self._upkeep_loop, name="jobs-upkeep", daemon=True)
        self._upkeep.start()
        if self.consume:
            self._heartbeat = threading.Thread(
                target=self._heartbeat_loop, name="jobs-heartbeat", daemon=True
            )
            self._heartbeat.start()
        log.info("job runner %s serving %s", self.worker_id, self.concurrency)

    def stop(self) -> None:
        """Stop taking jobs, wait up to ``shutdown_timeout`` for running ones, re-queue the rest."""
        if not self._started:
            return
        self._stop.set()
        self._stop_requested.set()
        deadline = time.monotonic() + self.shutdown_timeout
        for consumer in self.consumers.values():
            consumer.stop_flag.set()
        for consumer in self.consumers.values():
            consumer.shutdown_timeout = max(0.0, deadline - time.monotonic())
            consumer.stop(graceful=True)
            # Jobs still running now are handed back (SIGNAL_INTERRUPTED → outbox).
            consumer.huey.notify_interrupted_tasks()
        for thread in (self._upkeep, self._heartbeat):
            if thread is not None:
                thread.join(timeout=5)
        self.platform.completions.flush()  # before the worker is marked stopped
        try:
            self.platform.drain_outbox()
        except Exception:
            log.exception("draining the outbox at stop failed")
        if self.consume:
            self.platform.recorder.worker_stopped(self.worker_id)
        self._started = False
        log.info("job runner %s stopped", self.worker_id)

    def request_stop(self) -> None:
        """Ask the thread blocked in :meth:`wait` to stop the runner (safe in a signal handler)."""
        self._stop_requested.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a stop is requested or done; True when it was."""
        return self._stop_requested.wait(timeout)

    # Upkeep -------------------------------------------------------------------------
    def _heartbeat_loop(self) -> None:
        """Heart-beat on a thread of its own, so slow upkeep never makes this runner look dead.

        The upkeep thread drains outboxes, purges old jobs and reaps other runners; any of
        those can take longer than ``heartbeat_timeout`` on a busy database, and a
        heartbeat that waited for them would get this runner's running jobs reaped and
        run twice.
        """
        interval = self.platform.config.heartbeat_interval
        while not self._stop.wait(interval):
            try:
                self.heartbeat()
            except Exception:
                log.exception("job runner heartbeat failed; trying again")

    def _upkeep_loop(self) -> None:
        config = self.platform.config
        last_strays = time.monotonic()
        last_health = time.monotonic()
        last_sweep = time.monotonic()
        last_purge = -PURGE_INTERVAL  # at once, then hourly
        while not self._stop.wait(config.maintenance_interval):
            now = time.monotonic()
            try:
                self.watchdog()
                self._refresh_paused()
                if now - last_strays >= config.heartbeat_interval:
                    self.release_strays()
                    last_strays = now
                self.upkeep_once()
                if self.consume and now - last_sweep >= config.heartbeat_timeout:
                    self.platform.sweep_lost(config.heartbeat_timeout)
                    last_sweep = now
                if self.consume and now - last_purge >= PURGE_INTERVAL:
                    self.purge_expired()
                    last_purge = now
                if now - last_health >= 10:
                    for consumer in self.consumers.values():
                        consumer.check_worker_health()
                    last_health = now
            except Exception:
                log.exception("job runner upkeep failed; trying again")

    def upkeep_once(self) -> None:
        """One round of the duties every runner shares: broker check, reaping, the outbox."""
        self.platform.check_broker()
        self.reap_dead_workers()
        if self.platform.outbox_pending.is_set() or self._outbox_has_rows():
            self.platform.drain_outbox()

    def purge_expired(self) -> int:
        """Retention: delete completed jobs older than ``completed_retention_days``, then
        run the families' own passes (the email log's); returns how many jobs went."""
        days = self.platform.config.completed_retention_days
        removed = self.platform.recorder.delete_finished(
            None, JobState.COMPLETED.value, dt.timedelta(days=days)
        )
        if removed:
            log.info("removed %d completed jobs older than %d days", removed, days)
        for name, purge in list(self.platform.retention.items()):
            try:
                purge()
            except Exception:
                log.exception("the retention pass of the %s failed; tried again next time", name)
        return removed

    def heartbeat(self) -> None:
        """This runner is alive (the database's clock, so no machine's clock can lie)."""
        if self.consume:
            self.platform.recorder.heartbeat(self.worker_id)

    def watchdog(self) -> int:
        """Fail runs that outlived their timeout and replace their threads; returns how many."""
        hung: list[Running] = []
        now = time.monotonic()
        for running in self.platform.executor.running():
            if running.deadline is not None and now > running.deadline:
                hung.append(running)
        for running in hung:
            if not self.platform.executor.time_out(running):
                continue
            log.warning(
                "job %s (%s) exceeded its timeout; failed as timed out, thread replaced",
                running.job_id,
                running.spec.name,
            )
            consumer = self.consumers.get(running.queue)
            if consumer is not None:
                consumer.replace_thread(running.thread)
        return len(hung)

    def release_strays(self) -> int:
        """Jobs ``active`` under this runner that none of its threads runs go back to run again.

        A live runner's heartbeat keeps the reaper away from its jobs, so a job left
        ``active`` without a thread behind it (a claim recorded but never executed, an
        outcome that could not be written) would otherwise wait forever. A job counts as
        a stray once it has been active for ``heartbeat_timeout`` without being in flight
        here, and after this process's buffered completions are written.
        """
        if not self.consume:
            return 0
        config = self.platform.config
        if not self.platform.completions.flush(timeout=config.heartbeat_timeout):
            return 0  # completions still unwritten: they may be what looks stray
        in_flight = self.platform.in_flight()
        rows = self.platform.recorder.active_jobs_of(self.worker_id, config.heartbeat_timeout)
        count = 0
        for job_id, token in rows:
            if job_id in in_flight:
                continue
            log.warning("job %s was active here but no thread ran it; it runs again", job_id)
            self.platform.requeue_or_bury(job_id, token, "active but no worker thread ran it")
            count += 1
        return count

    def reap_dead_workers(self) -> int:
        """Jobs left ``active`` by a worker that stopped heart-beating run again (or die).

        Silence is judged by the database's clock against heartbeats written with it.
        Returns how many jobs were handed back or buried.
        """
        config = self.platform.config
        rows = self.platform.recorder.orphaned_jobs(self.worker_id, config.heartbeat_timeout)
        for job_id, token, worker_id in rows:
            log.warning("worker %s stopped heart-beating during job %s", worker_id, job_id)
            self.platform.requeue_or_bury(
                job_id, token, f"worker {worker_id} stopped heart-beating during the job"
            )
        return len(rows)

    def _register(self) -> None:
        if not self.consume:
            return
        values = {
            "host": socket.gethostname()[:255],
            "pid": os.getpid(),
            "queues": list(self.queue_names),
            "concurrency": dict(self.concurrency),
            "embedded": self.embedded,
        }
        self.platform.recorder.register_worker(self.worker_id, values)

    def _refresh_paused(self) -> None:
        with self.platform.engine.connect() as conn:
            names = conn.execute(select(PAUSED.c.queue)).scalars().all()
        self.paused = frozenset(names)

    def _outbox_has_rows(self) -> bool:
        with self.platform.engine.connect() as conn:
            row = conn.execute(
                select(JOB.c.id)
                .where(JOB.c.state == JobState.OUTBOX.value, JOB.c.queue.in_(self.queue_names))
                .limit(1)
            ).first()
        return row is not None
