"""Delivers durable domain events to registered handlers, at least once each, from any process.

The domain writes every event to ``domain_event`` in the transaction of its change
(``purplecross_desktop.domain.event_log``). The ``events.dispatch`` job (queue
``events``) reads the rows each durable handler has not settled and calls the handler;
``event_delivery`` records per handler and event whether it is running (claimed under a
lease), done, failed (tried again after a back-off) or dead (gave up). A handler that
succeeded never sees that event again; one whose process died mid-call sees it again
once the lease runs out. Handlers must therefore be idempotent by event id.

The job is enqueued right after a commit (:class:`DispatchTrigger`, coalesced), and
every app and worker also polls: every ``poll_interval`` seconds (and at start) it asks
the database whether any handler has an event due, and enqueues a dispatch only then. So
an event whose writer died right after its commit, or that another workstation wrote, is
still delivered, and an idle clinic adds no job rows. Huey's own periodic tasks are not
used: the runner starts consumers without the periodic scheduler, and a periodic task
would bypass the registry's claim.

Each handler also keeps a *watermark*: every event up to it is settled, so a pass reads
only the rows after it. The watermark never passes an event younger than ``horizon``
seconds: on PostgreSQL, ids are drawn before commit, so a slow transaction can commit a
lower id after a higher one is visible; one that stays open longer than the horizon
could be missed by the watermark (never by the first passes, which read above it).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from jobs.models import Job, JobId
from jobs.platform import CAUSING_EVENT, JobContext, JobPlatform, TaskSpec
from jobs.policy import SINGLE_ATTEMPT
from jobs.queues import EVENTS
from purplecross_desktop.database.base import utcnow
from purplecross_desktop.domain.event_log import (
    DEFAULT_RETENTION_DAYS,
    DELIVERY,
    EVENT,
    HANDLER_STATE,
    EventLog,
    StoredEvent,
    pattern_clause,
)
from purplecross_desktop.domain.events import DomainEvent, EventBus

log = logging.getLogger(__name__)

TASK = "events.dispatch"
JOB = Job.__table__

#: What a handler gets, and what it may return: the ids of the jobs it enqueued for the
#: event (recorded on the delivery, which is how a job links to the event that caused it).
HandlerFunc = Callable[[StoredEvent], Iterable[str] | None]


@dataclass(frozen=True, slots=True)
class DurableHandler:
    """A listener that must see every matching event, even across crashes and workstations.

    Args:
        name: unique and stable (deliveries are recorded under it).
        patterns: event names: exact, ``"appointment.*"`` or ``"*"``.
        func: called with each matching :class:`StoredEvent`; must be idempotent.
        max_attempts: failures after which the delivery is dead (kept, listed, not retried).
        from_start: a new handler first sees every retained event (True) or only those
            recorded after it was first seen by a dispatcher (False, e.g. a new webhook).
    """

    name: str
    patterns: tuple[str, ...]
    func: HandlerFunc
    max_attempts: int = 8
    from_start: bool = True

    def __post_init__(self) -> None:
        if not self.name or len(self.name) > 80:
            raise ValueError("name: must be 1 to 80 characters")
        if not self.patterns:
            raise ValueError("patterns: at least one event pattern is required")
        if self.max_attempts < 1:
            raise ValueError("max_attempts: must be at least 1")


class EventHandlers:
    """The registry of durable handlers of one process (reminders now; webhooks, workflows next).

    Every process that dispatches must register the same handlers.
    """

    def __init__(self) -> None:
        self._handlers: dict[str, DurableHandler] = {}
        self._lock = threading.Lock()

    def add(self, handler: DurableHandler) -> DurableHandler:
        """Register ``handler``; a second one under the same name is an error."""
        with self._lock:
            if handler.name in self._handlers:
                raise ValueError(f"name: a durable handler {handler.name!r} is already registered")
            self._handlers[handler.name] = handler
        return handler

    def handler(
        self, name: str, *patterns: str, max_attempts: int = 8, from_start: bool = True
    ) -> Callable[[HandlerFunc], HandlerFunc]:
        """Decorator form of :meth:`add`."""

        def decorate(func: HandlerFunc) -> HandlerFunc:
            self.add(DurableHandler(name, tuple(patterns), func, max_attempts, from_start))
            return func

        return decorate

    def all(self) -> list[DurableHandler]:
        with self._lock:
            return list(self._handlers.values())

    def get(self, name: str) -> DurableHandler:
        return self._handlers[name]


@dataclass
class PassReport:
    """What one dispatch pass did."""

    delivered: int = 0
    failed: int = 0
    dead: int = 0
    skipped: int = 0  # claimed meanwhile by another dispatcher
    latencies: list[float] = field(default_factory=list)  # recorded → handler start, seconds

    @property
    def touched(self) -> int:
        return self.delivered + self.failed + self.dead


class EventDispatcher:
    """One process's view of the deliveries: claims, calls handlers, records outcomes.

    Args:
        engine: the clinic database (event and delivery tables).
        handlers: the durable handlers.
        lease: seconds a claimed delivery is held before another dispatcher may take it.
        horizon: seconds an event must be old before a watermark passes it.
        batch: events read per handler per query.
        clock: the wall clock (aware UTC); tests move it.
    """

    def __init__(
        self,
        engine: sa.Engine,
        handlers: EventHandlers,
        *,
        lease: float = 300.0,
        horizon: float = 120.0,
        batch: int = 200,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.handlers = handlers
        self.lease = lease
        self.horizon = horizon
        self.batch = batch
        self.clock = clock
        self.owner = f"{id(self):x}"

    # Passes -------------------------------------------------------------------------
    def dispatch(self, budget: float = 20.0) -> PassReport:
        """Deliver what is due to every handler, for up to ``budget`` seconds."""
        total = PassReport()
        deadline = time.monotonic() + budget
        for handler in self.handlers.all():
            while True:
                report = self._pass(handler)
                total.delivered += report.delivered
                total.failed += report.failed
                total.dead += report.dead
                total.skipped += report.skipped
                total.latencies.extend(report.latencies)
                if report.touched + report.skipped < self.batch or time.monotonic() > deadline:
                    break
            self._advance_watermark(handler)
            if time.monotonic() > deadline:
                break
        return total

    def _pass(self, handler: DurableHandler) -> PassReport:
        report = PassReport()
        now = self.clock()
        watermark = self._watermark(handler)
        settled = self._settled(handler, now)
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(EVENT)
                .where(EVENT.c.id > watermark, pattern_clause(handler.patterns), ~settled)
                .order_by(EVENT.c.id)
                .limit(self.batch)
            ).all()
        for row in rows:
            event = StoredEvent.from_row(row)
            attempt = self._claim(handler, event.id)
            if attempt is None:
                report.skipped += 1
                continue
            report.latencies.append((utcnow() - event.recorded_at).total_seconds())
            cause = CAUSING_EVENT.set(event.id)
            try:
                job_ids = list(handler.func(event) or ())
            except Exception as exc:
                dead = attempt >= handler.max_attempts
                self._failed(handler, event.id, attempt, exc, dead)
                if dead:
                    report.dead += 1
                    log.error(
                        "durable handler %s gave up on event %s (%s) after %d attempts: %s",
                        handler.name,
                        event.id,
                        event.name,
                        attempt,
                        exc,
                    )
                else:
                    report.failed += 1
                    log.warning(
                        "durable handler %s failed on event %s (%s), attempt %d: %s",
                        handler.name,
                        event.id,
                        event.name,
                        attempt,
                        exc,
                    )
                continue
            finally:
                CAUSING_EVENT.reset(cause)
            self._done(handler, event.id, job_ids)
            report.delivered += 1
        return report

    # Delivery rows ------------------------------------------------------------------
    def _insert(self) -> Any:
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            return postgresql.insert(DELIVERY)
        if dialect == "sqlite":
            return sqlite.insert(DELIVERY)
        raise NotImplementedError(f"no conditional insert for {dialect}")

    def _claim(self, handler: DurableHandler, event_id: int) -> int | None:
        """Take the delivery of ``event_id`` to ``handler``; returns the attempt, or None."""
        now = self.clock()
        lease_until = now + dt.timedelta(seconds=self.lease)
        with self.engine.begin() as conn:
            # RETURNING, not rowcount: psycopg reports -1 for an INSERT … ON CONFLICT.
            inserted = conn.execute(
                self._insert()
                .values(
                    event_id=event_id,
                    handler=handler.name,
                    state="running",
                    attempts=1,
                    lease_until=lease_until,
                    job_ids=[],
                )
                .on_conflict_do_nothing(index_elements=["event_id", "handler"])
                .returning(DELIVERY.c.attempts)
            ).first()
            if inserted is not None:
                return 1
            again = sa.or_(
                sa.and_(DELIVERY.c.state == "failed", DELIVERY.c.next_attempt_at <= now),
                sa.and_(DELIVERY.c.state == "running", DELIVERY.c.lease_until <= now),
            )
            row = conn.execute(
                sa.update(DELIVERY)
                .where(DELIVERY.c.event_id == event_id, DELIVERY.c.handler == handler.name, again)
                .values(state="running", attempts=DELIVERY.c.attempts + 1, lease_until=lease_until)
                .returning(DELIVERY.c.attempts)
            ).first()
        return None if row is None else int(row[0])

    def _done(self, handler: DurableHandler, event_id: int, job_ids: Sequence[str]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(DELIVERY)
                .where(DELIVERY.c.event_id == event_id, DELIVERY.c.handler == handler.name)
                .values(
                    state="done",
                    lease_until=None,
                    next_attempt_at=None,
                    finished_at=self.clock(),
                    error=None,
                    job_ids=[str(j) for j in job_ids],
                )
            )

    def _failed(
        self, handler: DurableHandler, event_id: int, attempt: int, exc: Exception, dead: bool
    ) -> None:
        now = self.clock()
        delay = min(600.0, 2.0 * 2 ** (attempt - 1))
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(DELIVERY)
                .where(DELIVERY.c.event_id == event_id, DELIVERY.c.handler == handler.name)
                .values(
                    state="dead" if dead else "failed",
                    lease_until=None,
                    next_attempt_at=None if dead else now + dt.timedelta(seconds=delay),
                    finished_at=now if dead else None,
                    error=f"{type(exc).__name__}: {exc}"[:2000],
                )
            )

    # Watermarks ---------------------------------------------------------------------
    def _watermark(self, handler: DurableHandler) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(
                sa.select(HANDLER_STATE.c.watermark).where(HANDLER_STATE.c.handler == handler.name)
            ).scalar()
        if value is not None:
            return int(value)
        start = 0
        if not handler.from_start:
            with self.engine.connect() as conn:
                start = int(conn.execute(sa.select(sa.func.max(EVENT.c.id))).scalar() or 0)
        with self.engine.begin() as conn:
            conn.execute(
                self._state_insert()
                .values(handler=handler.name, watermark=start, updated_at=self.clock())
                .on_conflict_do_nothing(index_elements=["handler"])
            )
        return self._watermark(handler)

    def _state_insert(self) -> Any:
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(HANDLER_STATE)
        return sqlite.insert(HANDLER_STATE)

    def _advance_watermark(self, handler: DurableHandler) -> int:
        """Move the watermark past every settled event older than the horizon."""
        watermark = self._watermark(handler)
        old_enough = self.clock() - dt.timedelta(seconds=self.horizon)
        unsettled = sa.exists().where(
            DELIVERY.c.event_id == EVENT.c.id,
            DELIVERY.c.handler == handler.name,
            DELIVERY.c.state.in_(("done", "dead")),
        )
        with self.engine.connect() as conn:
            first_open = conn.execute(
                sa.select(sa.func.min(EVENT.c.id)).where(
                    EVENT.c.id > watermark, pattern_clause(handler.patterns), ~unsettled
                )
            ).scalar()
            last_old = conn.execute(
                sa.select(sa.func.max(EVENT.c.id)).where(
                    EVENT.c.id > watermark, EVENT.c.recorded_at < old_enough
                )
            ).scalar()
        if last_old is None:
            return watermark
        target = int(last_old) if first_open is None else min(int(last_old), int(first_open) - 1)
        if target <= watermark:
            return watermark
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(HANDLER_STATE)
                .where(HANDLER_STATE.c.handler == handler.name, HANDLER_STATE.c.watermark < target)
                .values(watermark=target, updated_at=self.clock())
            )
        return target

    def has_work(self) -> bool:
        """Whether any handler has an event to take now (one indexed query per handler)."""
        now = self.clock()
        for handler in self.handlers.all():
            watermark = self._watermark(handler)
            with self.engine.connect() as conn:
                row = conn.execute(
                    sa.select(EVENT.c.id)
                    .where(
                        EVENT.c.id > watermark,
                        pattern_clause(handler.patterns),
                        ~self._settled(handler, now),
                    )
                    .limit(1)
                ).first()
            if row is not None:
                return True
        return False

    @staticmethod
    def _settled(handler: DurableHandler, now: dt.datetime) -> sa.Exists:
        """A delivery that takes the event out of this pass: finished, backing off or held."""
        return sa.exists().where(
            DELIVERY.c.event_id == EVENT.c.id,
            DELIVERY.c.handler == handler.name,
            sa.or_(
                DELIVERY.c.state.in_(("done", "dead")),
                sa.and_(DELIVERY.c.state == "failed", DELIVERY.c.next_attempt_at > now),
                sa.and_(DELIVERY.c.state == "running", DELIVERY.c.lease_until > now),
            ),
        )

    def backlog(self) -> dict[str, int]:
        """Per handler: matching events above its watermark not yet done or dead."""
        out: dict[str, int] = {}
        for handler in self.handlers.all():
            watermark = self._watermark(handler)
            finished = sa.exists().where(
                DELIVERY.c.event_id == EVENT.c.id,
                DELIVERY.c.handler == handler.name,
                DELIVERY.c.state.in_(("done", "dead")),
            )
            with self.engine.connect() as conn:
                out[handler.name] = int(
                    conn.execute(
                        sa.select(sa.func.count()).where(
                            EVENT.c.id > watermark, pattern_clause(handler.patterns), ~finished
                        )
                    ).scalar()
                    or 0
                )
        return out


class EventDispatchService:
    """The ``events.dispatch`` job family: runs passes and prunes old events.

    Args:
        platform: the job platform.
        dispatcher: the dispatcher the job runs.
        retention_days: events recorded longer ago than this are deleted.
        budget: seconds one job may spend before handing the rest to a new job.
    """

    def __init__(
        self,
        platform: JobPlatform,
        dispatcher: EventDispatcher,
        *,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        budget: float = 20.0,
    ) -> None:
        if retention_days < 1:
            raise ValueError("event_retention_days: must be at least 1")
        self.platform = platform
        self.dispatcher = dispatcher
        self.retention_days = retention_days
        self.budget = budget
        self.log = EventLog(platform.engine)
        self.last_report: PassReport | None = None

    def run(self, reason: str, job: JobContext) -> str:
        """The task: deliver what is due (a big backlog continues in a fresh job)."""
        report = self.dispatcher.dispatch(self.budget)
        self.last_report = report
        if report.touched >= self.dispatcher.batch:
            self.enqueue("more")  # let other jobs of the queue run in between
        return (
            f"{reason}: delivered {report.delivered}, failed {report.failed}, "
            f"dead {report.dead}, skipped {report.skipped}"
        )

    def enqueue(self, reason: str = "commit") -> JobId:
        """Queue a dispatch now."""
        return self.platform.enqueue(EVENTS, TASK, reason)

    def purge(self) -> int:
        """Apply the retention; returns how many events were deleted."""
        cutoff = utcnow() - dt.timedelta(days=self.retention_days)
        removed = self.log.purge(cutoff)
        if removed:
            log.info("removed %d events older than %d days", removed, self.retention_days)
        return removed


class DispatchTrigger:
    """Enqueues a dispatch after commits and whenever a poll finds an event due.

    Subscribe it to the process's bus with :meth:`attach` (or :meth:`start` it without a
    bus, as a pure poller). A dispatch job that has not started yet reads every event
    committed before it starts, so while one is pending (per the registry) no other is
    enqueued: a burst of commits costs one job. Every ``poll_interval`` seconds, and at
    start, it asks the database whether a handler has an event due (a crash right after
    a commit, another workstation's change, a failed delivery whose back-off is over) and
    enqueues a dispatch only then; every ``purge_interval`` it applies the retention.

    Args:
        service: the dispatch family.
        poll_interval: seconds between polls.
        purge_interval: seconds between retention passes.
    """

    def __init__(
        self,
        service: EventDispatchService,
        *,
        poll_interval: float = 15.0,
        purge_interval: float = 3600.0,
    ) -> None:
        self.service = service
        self.poll_interval = poll_interval
        self.purge_interval = purge_interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pending: tuple[str, float] | None = None
        self._thread = threading.Thread(target=self._loop, name="events-trigger", daemon=True)
        self._unsubscribe: Callable[[], None] | None = None

    def attach(self, bus: EventBus) -> None:
        """Listen to ``bus`` and start the trigger thread."""
        self._unsubscribe = bus.subscribe("*", self.notify)
        self.start()

    def start(self) -> None:
        if not self._thread.is_alive():
            self._thread.start()

    def notify(self, event: DomainEvent | None = None) -> None:
        if event is not None and event.event_id is None:
            return  # not recorded durably: nothing to dispatch
        self._wake.set()

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        next_poll = 0.0  # at once: what a crash left behind
        next_purge = time.monotonic() + 60.0
        while not self._stop.is_set():
            timeout = max(0.0, next_poll - time.monotonic())
            woken = self._wake.wait(timeout)
            if self._stop.is_set():
                return
            self._wake.clear()
            try:
                now = time.monotonic()
                if not woken:
                    next_poll = now + self.poll_interval
                    if now >= next_purge:
                        next_purge = now + self.purge_interval
                        self.service.purge()
                    if not self.service.dispatcher.has_work():
                        continue
                if self._job_pending():
                    continue
                job_id = self.service.enqueue("commit" if woken else "poll")
                self._pending = (job_id, time.monotonic())
            except Exception:
                log.exception("event dispatch trigger failed; the next poll tries again")

    def _job_pending(self) -> bool:
        if self._pending is None:
            return False
        job_id, enqueued = self._pending
        with self.service.platform.engine.connect() as conn:
            state = conn.execute(sa.select(JOB.c.state).where(JOB.c.id == job_id)).scalar()
        if state is None:
            # The registry row may still be in the platform's group-commit buffer.
            return time.monotonic() - enqueued < 5.0
        return state in ("outbox", "waiting", "scheduled", "paused")


def register(
    platform: JobPlatform,
    handlers: EventHandlers,
    *,
    retention_days: int = DEFAULT_RETENTION_DAYS,
    horizon: float = 120.0,
    lease: float = 300.0,
) -> EventDispatchService:
    """Add the ``events.dispatch`` task kind to ``platform`` and return its service."""
    dispatcher = EventDispatcher(platform.engine, handlers, lease=lease, horizon=horizon)
    service = EventDispatchService(platform, dispatcher, retention_days=retention_days)
    platform.register(
        TaskSpec(TASK, service.run, EVENTS, policy=SINGLE_ATTEMPT, repeatable=True, context=True)
    )
    platform.services["events"] = service
    return service
