"""Enqueue, the database outbox and broker recovery: how a job's row and message get out.

:class:`Dispatcher` is the part of :class:`~jobs.platform.JobPlatform` that writes a job's
row (through the recorder) and sends its signed message, drains the outbox when the broker
answers again, and finds jobs a broker lost. The platform builds the queues, task kinds and
recorder it uses.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import uuid
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from jobs.config import (
    JobRequest,
    JobsConfig,
    RecordLinks,
    TaskSpec,
    UnknownQueueError,
    UnknownTaskError,
    check_blobs,
    check_idempotency_key,
    check_job_data,
)
from jobs.models import JobId, JobState
from jobs.policy import RetryPolicy
from jobs.queues import EpochRedisStorage, QueueSpec, SplitPush
from jobs.recorder import Recorder, new_seq
from purplecross_desktop.database.base import utcnow

if TYPE_CHECKING:
    from jobs.platform import PlatformHuey

log = logging.getLogger(__name__)

#: The id of the durable event whose handler is running in this context (set by the event
#: dispatcher around each handler call): every job enqueued meanwhile records it as its
#: ``event_id``, which is how the registry links a job to the event that caused it.
CAUSING_EVENT: ContextVar[int | None] = ContextVar("CAUSING_EVENT", default=None)


class Dispatcher:
    """Tracked enqueue, the outbox and broker recovery (a part of ``JobPlatform``)."""

    config: JobsConfig
    recorder: Recorder
    worker_id: str
    queues: dict[str, QueueSpec]
    tasks: dict[str, TaskSpec]
    hueys: dict[str, PlatformHuey]
    _run_tasks: dict[str, Any]
    outbox_pending: threading.Event
    closed: threading.Event
    _drainer: threading.Thread | None
    _drainer_lock: threading.Lock

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
        blobs: Mapping[str, bytes] | None = None,
        **kwargs: Any,
    ) -> JobId:
        """Enqueue ``task(*args, **kwargs)`` on ``queue`` and return its job id.

        The job's row is written first, then its message sent. When the broker cannot
        be reached the job waits in the database outbox and is dispatched when it
        answers again; the caller never sees a broker error. With an
        ``idempotency_key`` already used (even by an enqueue racing this one), the
        existing job's id is returned and nothing is sent. ``blobs`` (SHA-256 hex digest →
        bytes) are stored once with the row, outside its args, for data too large to
        carry in them (an email's attachments); the task reads one with
        ``JobContext.blob(digest)``.

        Raises:
            UnknownQueueError, UnknownTaskError: names that are not configured.
            TypeError: args or kwargs that are not plain JSON.
            ValueError: a naive ``eta``, bad ``record`` links, an idempotency key that is
                empty or longer than 200 characters, a priority out of range.
        """
        row = self._new_row(
            queue, JobRequest(task, args, kwargs, record, idempotency_key, eta, priority, blobs)
        )
        if idempotency_key is not None:
            existing = self.recorder.job_id_for_key(idempotency_key)
            if existing is not None:
                return JobId(existing)
        job_id = row["id"]
        huey = self.hueys[queue]
        if not self.outbox_pending.is_set():
            try:
                # Read before the push, so the row never names a newer dataset than the
                # one the message went into (see jobs.queues.EpochRedisStorage).
                row["broker_epoch"] = self.push_epoch(huey, strict=True)
                row["state"] = self._state_after_push(row)
            except Exception as exc:
                log.warning("broker unreachable, job %s waits in the outbox: %s", job_id, exc)
        split = None
        if row["state"] != JobState.OUTBOX.value and self.recorder.holds_writers_until_commit:
            split = self._start_push(row)
        try:
            inserted = self.recorder.insert_job(
                row, blobs, before_commit=None if split is None else split.send
            )
        except BaseException:
            if split is not None:
                split.abandon()
            raise
        if not inserted:
            if split is not None:
                split.abandon()
            # Only an idempotency key can collide: another enqueue with it won.
            existing = self.recorder.job_id_for_key(idempotency_key or "")
            if existing is None:
                raise RuntimeError(f"job {job_id}: the registry refused its row")
            return JobId(existing)
        if row["state"] == JobState.OUTBOX.value:
            self.notify_outbox()
            return JobId(job_id)
        try:
            if split is not None:
                split.wait()
            else:
                self._push(row)
        except Exception as exc:
            self._push_failed([row], exc)
        return JobId(job_id)

    def enqueue_many(self, queue: str, requests: Sequence[JobRequest]) -> list[JobId]:
        """Enqueue several jobs on ``queue`` at once; their ids, in the order asked.

        Every request is checked first (one bad request enqueues nothing, as for
        :meth:`enqueue`); then all rows are written in one registry transaction and
        their messages pushed in one broker round trip. A request whose idempotency key
        is taken (by an earlier job or an earlier request of the same call) gets that
        job's id. When the broker cannot be reached the jobs wait in the outbox.

        Raises:
            the errors of :meth:`enqueue`, naming the request (``requests[3].args[0]``).
        """
        rows: list[dict[str, Any]] = []
        blobs: dict[str, Mapping[str, bytes]] = {}
        for i, request in enumerate(requests):
            try:
                row = self._new_row(queue, request)
            except (LookupError, TypeError, ValueError) as exc:
                raise type(exc)(f"requests[{i}].{exc}") from None
            rows.append(row)
            if request.blobs:
                blobs[row["id"]] = request.blobs
        if not rows:
            return []
        huey = self.hueys[queue]
        if not self.outbox_pending.is_set():
            try:
                epoch = self.push_epoch(huey, strict=True)  # before the push, as in enqueue
                for row in rows:
                    row["broker_epoch"] = epoch
                    row["state"] = self._state_after_push(row)
            except Exception as exc:
                log.warning("broker unreachable, %d jobs wait in the outbox: %s", len(rows), exc)
        inserted = self.recorder.insert_jobs(rows, blobs)
        ids: list[JobId] = []
        for row, took in zip(rows, inserted, strict=True):
            if took:
                ids.append(JobId(row["id"]))
                continue
            existing = self.recorder.job_id_for_key(row["idempotency_key"] or "")
            if existing is None:
                raise RuntimeError(f"job {row['id']}: the registry refused its row")
            ids.append(JobId(existing))
        written = [row for row, took in zip(rows, inserted, strict=True) if took]
        to_push = [row for row in written if row["state"] != JobState.OUTBOX.value]
        if len(to_push) < len(written):
            self.notify_outbox()
        if to_push:
            try:
                self._push_many(huey, to_push)
            except Exception as exc:
                self._push_failed(to_push, exc)
        return ids

    def enqueue_in(
        self,
        conn: sa.Connection,
        queue: str,
        task: str,
        *args: Any,
        idempotency_key: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        """Write a job's row in the caller's open transaction ``conn``; after that
        transaction commits, :meth:`send_prepared` the returned row.

        For a change that must never be saved without its follow-up job (a workflow run
        moved on to its next step): the row commits or rolls back with the change, one
        commit for both. Its message follows the commit; a process that dies in between
        leaves a waiting row whose message is missing, which the broker sweep sends again,
        as for any enqueue whose push did not happen. None when ``idempotency_key`` is
        taken (the job holding it stands; nothing to send).

        Raises:
            the errors of :meth:`enqueue`.
        """
        request = JobRequest(task, args, kwargs, None, idempotency_key, None, None, None)
        row = self._new_row(queue, request)
        if not self.outbox_pending.is_set():
            try:
                row["broker_epoch"] = self.push_epoch(self.hueys[queue], strict=True)
                row["state"] = self._state_after_push(row)
            except Exception as exc:
                log.warning("broker unreachable, job %s waits in the outbox: %s", row["id"], exc)
        if not self.recorder.insert_job_in(conn, row):
            return None
        return row

    def send_prepared(self, row: Mapping[str, Any]) -> JobId:
        """Send the message of a row :meth:`enqueue_in` wrote, once its transaction committed."""
        if row["state"] == JobState.OUTBOX.value:
            self.notify_outbox()
        else:
            try:
                self._push(row)
            except Exception as exc:
                self._push_failed([row], exc)
        return JobId(row["id"])

    def _push_failed(self, rows: Sequence[Mapping[str, Any]], error: Exception) -> None:
        """Written rows whose push failed wait in the outbox."""
        log.warning("broker unreachable, %d jobs wait in the outbox: %s", len(rows), error)
        for row in rows:
            try:
                self.recorder.push_failed(row["id"], row["token"], f"broker unreachable: {error}")
            except Exception:
                # Neither answers now; the row says "waiting" and the sweep finds it missing.
                log.exception("job %s: could not move it to the outbox", row["id"])
        self.notify_outbox()

    def _push_many(self, huey: PlatformHuey, rows: Sequence[Mapping[str, Any]]) -> None:
        """Send the messages of freshly written rows (one round trip on Redis)."""
        storage = huey.storage
        if not isinstance(storage, EpochRedisStorage):
            for row in rows:
                self._push(row)
            return
        now = utcnow()
        items = []
        for row in rows:
            eta = row["next_run_at"]
            when = None if eta is None or eta <= now else _naive_utc(eta)
            data = self._message(row["id"], row["token"], row["task"], row["queue"], when)
            items.append((data, row["priority"] or None, when))
        storage.push_many(items)

    def _new_row(self, queue: str, request: JobRequest) -> dict[str, Any]:
        """The registry row of one enqueue request, after checking everything in it."""
        task, eta, priority = request.task, request.eta, request.priority
        if queue not in self.queues:
            raise UnknownQueueError(f"queue: {queue!r} is not one of {sorted(self.queues)}")
        if task not in self.tasks:
            raise UnknownTaskError(f"task: {task!r} is not registered")
        if eta is not None and eta.tzinfo is None:
            raise ValueError("eta: must be timezone-aware")
        if priority is not None and (type(priority) is not int or abs(priority) > 2**31 - 1):
            raise ValueError(f"priority: must be an integer; got {priority!r}")
        check_idempotency_key(request.idempotency_key)
        if request.blobs:
            check_blobs(request.blobs)
        check_job_data(list(request.args), "args")
        check_job_data(request.kwargs, "kwargs")
        links = RecordLinks.coerce(request.record)
        spec = self.tasks[task]
        job_id = uuid.uuid4().hex
        return {
            "id": job_id,
            "queue": queue,
            "task": task,
            "args": list(request.args),
            "kwargs": dict(request.kwargs),
            "state": JobState.OUTBOX.value,
            "attempts": 0,
            "max_attempts": self.policy_for(task).max_attempts,
            "priority": priority or 0,
            "repeatable": spec.repeatable,
            "idempotency_key": request.idempotency_key,
            "token": job_id[16:],  # later dispatches draw fresh tokens
            "seq": new_seq(),
            "next_run_at": eta,
            "client_id": links.client,
            "patient_id": links.patient,
            "appointment_id": links.appointment,
            "invoice_id": links.invoice,
            "event_id": CAUSING_EVENT.get(),
        }

    def _start_push(self, row: Mapping[str, Any]) -> SplitPush | None:
        """The first half of a row's push, to be sent inside the row's transaction.

        On SQLite the open write transaction holds every worker's claim until it commits,
        so a message sent before the commit is never claimed before its row exists; the
        push's round trip and the commit then overlap instead of adding up. None when the
        broker has no split push (the SQLite queue) or no connection now: the push then
        follows the commit.
        """
        storage = self.hueys[row["queue"]].storage
        if not isinstance(storage, EpochRedisStorage):
            return None
        eta = row["next_run_at"]
        when = None if eta is None or eta <= utcnow() else _naive_utc(eta)
        data = self._message(row["id"], row["token"], row["task"], row["queue"], when)
        try:
            return storage.start_push(data, row["priority"] or None, when)
        except Exception as exc:
            log.debug("no broker connection before the commit of %s: %s", row["id"], exc)
            return None

    def push_epoch(self, huey: PlatformHuey, strict: bool = False) -> str | None:
        """The broker epoch a push made now goes into (None if unknown and not ``strict``)."""
        try:
            epoch: str = huey.storage.push_epoch()
        except Exception:
            if strict:
                raise
            return None
        return epoch

    @staticmethod
    def _state_after_push(row: Mapping[str, Any]) -> str:
        eta = row["next_run_at"]
        if eta is None or eta <= utcnow():
            return JobState.WAITING.value
        if row.get("attempts") and row.get("error_class"):
            return JobState.FAILED_RETRYING.value
        return JobState.SCHEDULED.value

    def _message(self, job_id: str, token: str, task: str, queue: str, eta: Any) -> bytes:
        """The signed message of one dispatch: ids only, never the job's data."""
        huey = self.hueys[queue]
        naive_eta = None if eta is None else _naive_utc(eta)
        message = self._run_tasks[queue].task_class(
            (job_id, token, task), {}, id=job_id, eta=naive_eta
        )
        data: bytes = huey.serialize_task(message)
        return data

    def send(
        self,
        job_id: str,
        token: str,
        task: str,
        queue: str,
        eta: dt.datetime | None,
        priority: int = 0,
    ) -> None:
        """Put one dispatch of a job on its broker (the schedule when ``eta`` is ahead)."""
        huey = self.hueys[queue]
        data = self._message(job_id, token, task, queue, eta)
        if eta is not None and eta > utcnow():
            huey.storage.add_to_schedule(data, eta.astimezone(dt.UTC).replace(tzinfo=None))
        else:
            huey.storage.enqueue(data, priority or None)

    def _push(self, row: Mapping[str, Any]) -> tuple[str, str | None]:
        """Send an enqueued or outbox row's message; returns (state, broker epoch)."""
        huey = self.hueys[row["queue"]]
        self.send(
            row["id"], row["token"], row["task"], row["queue"], row["next_run_at"], row["priority"]
        )
        return self._state_after_push(row), huey.storage.last_epoch

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
        """Jobs the broker should hold but does not go back to the outbox; returns how many.

        Waiting jobs enqueued, and scheduled or retrying jobs due, more than
        ``older_than`` seconds ago (database clock) that are in neither the broker's
        queue nor its schedule: a worker died after taking the message and before
        claiming it (Redis pops are destructive), the scheduler lost a due message on
        its way to the queue, or a process died between writing a row and sending its
        message. A job merely in transit is dispatched twice at worst, and its claim
        runs it once.
        """
        lost = 0
        for name, huey in self.hueys.items():
            overdue = self.recorder.overdue_in_broker(name, older_than)
            if not overdue:
                continue
            try:
                # A message put back in the schedule after a failed claim is not lost.
                items = [*huey.storage.enqueued_items(), *huey.storage.scheduled_items()]
                present = {_message_job_id(item) for item in items}
            except Exception as exc:
                log.debug("cannot list broker queue %s: %s", name, exc)
                continue
            missing = [(job_id, token) for job_id, token in overdue if job_id not in present]
            if missing:
                lost += self.recorder.sweep_missing(name, missing)
        if lost:
            log.warning("%d jobs were missing from the broker; dispatching again", lost)
            self.notify_outbox()
        return lost

    def notify_outbox(self) -> None:
        """The outbox has work: make sure a thread of this process keeps draining it."""
        self.outbox_pending.set()
        with self._drainer_lock:
            if self._drainer is None and not self.closed.is_set():
                self._drainer = threading.Thread(
                    target=self._drain_loop, name="jobs-outbox", daemon=True
                )
                self._drainer.start()

    def _drain_loop(self) -> None:
        while not self.closed.wait(self.config.maintenance_interval):
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


def _naive_utc(when: dt.datetime) -> dt.datetime:
    """An aware time as the naive UTC time Huey's messages and schedule use."""
    if when.tzinfo is None:
        return when
    return when.astimezone(dt.UTC).replace(tzinfo=None)


_JOB_ID_IN_MESSAGE = re.compile(rb'"\$msg":\["([0-9a-f]{32})"')


def _message_job_id(data: bytes) -> str | None:
    """The job id of a broker message, read for bookkeeping only (never trusted to run)."""
    match = _JOB_ID_IN_MESSAGE.search(bytes(data[:300]))
    return match.group(1).decode("ascii") if match else None
