"""Webhook deliveries: fan-out from durable events, a window per endpoint, attempts as jobs.

1. **Fan-out.** The ``webhooks`` durable handler (``jobs.event_dispatch``: at least once
   per event, resuming from its stored watermark after a crash) writes one message row
   per enabled endpoint whose filter matches the event, in one transaction; the unique
   (endpoint, event) pair makes a second pass over the same event a no-op.
2. **Pump.** Each endpoint has a window of ``endpoint_concurrency`` messages in flight
   (``queued`` or ``sending``). The pump enqueues due ``pending`` messages into free
   slots, one ``webhooks.attempt`` job per attempt (idempotency key
   ``webhook:<message>:<attempt>:<due time>``, so two pumps racing make one job). The rest wait in
   the database, not in the broker: 10,000 messages owed to a dead endpoint occupy two
   worker threads and two broker entries, and a healthy endpoint's jobs never queue
   behind them. The pump runs after every fan-out and attempt, and on a timer
   (:class:`PumpTrigger`) for retries that come due.
3. **Attempt.** The job claims its message (``sending``, under a lease), signs, posts
   (:mod:`jobs.webhooks.sender`) and records the attempt and the message's next state in
   one transaction: ``succeeded``; ``pending`` again at the next step of the schedule
   (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, each ±10 %); or ``failed``
   after the last. ``410 Gone`` disables the endpoint; so does an endpoint whose
   attempts have all failed for ``disable_after`` (5 days), and the admins are told.
   A worker killed mid-request: the platform runs the job again, which takes its own
   message back and sends it again under the same ``webhook-id`` (at least once).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from jobs.models import Job, JobState
from jobs.platform import JobContext, JobPlatform
from jobs.queues import WEBHOOKS
from jobs.webhooks.sender import Outcome, Sender
from jobs.webhooks.signing import sign_headers
from purplecross_desktop.database.base import StaffId
from purplecross_desktop.domain.event_log import StoredEvent
from purplecross_desktop.domain.events import matches
from purplecross_desktop.domain.webhooks import (
    ATTEMPT,
    ENDPOINT,
    MESSAGE,
    TEST_EVENT,
    WebhookService,
    new_msg_id,
)
from purplecross_desktop.domain.webhooks.catalogue import body_for, ping_body

log = logging.getLogger(__name__)

TASK = "webhooks.attempt"
HANDLER = "webhooks"
JOB = Job.__table__
#: Svix's schedule: the delay before each attempt, in seconds.
SCHEDULE: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
IN_FLIGHT = ("queued", "sending")
FINISHED_JOB = (JobState.COMPLETED.value, JobState.DEAD.value, JobState.REVOKED.value)

#: Tells the admins an endpoint was disabled: (endpoint id, url, reason).
AdminAlert = Callable[[int, str, str], None]


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """Retry schedule, window and failure window.

    Args:
        schedule: seconds before each attempt (the first is usually 0).
        scale: multiplies every delay (tests shrink the schedule with it).
        jitter: fraction of each delay drawn at random either way.
        endpoint_concurrency: messages in flight per endpoint.
        disable_after: an endpoint whose attempts all failed for this long is disabled.
        lease: seconds a sending message is held before another run may take it.
    """

    schedule: tuple[float, ...] = SCHEDULE
    scale: float = 1.0
    jitter: float = 0.1
    endpoint_concurrency: int = 2
    disable_after: dt.timedelta = dt.timedelta(days=5)
    lease: float = 60.0
    rng: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.schedule:
            raise ValueError("schedule: at least one attempt")
        if self.scale < 0 or not 0 <= self.jitter < 1:
            raise ValueError("scale must be >= 0 and jitter in [0, 1)")
        if self.endpoint_concurrency < 1:
            raise ValueError("endpoint_concurrency: must be at least 1")

    def delay_before(self, attempt_in_round: int) -> float | None:
        """Seconds before attempt ``n`` of a round (1-based); None past the schedule."""
        if attempt_in_round > len(self.schedule):
            return None
        nominal = self.schedule[attempt_in_round - 1] * self.scale
        return max(0.0, nominal * (1 + self.jitter * (2 * self.rng() - 1)))


@dataclass(frozen=True, slots=True)
class TestResult:
    """What "Send test event" shows: the request, the response and the time."""

    msg_id: str
    body: str
    outcome: Outcome


class WebhookDelivery:
    """The webhook family of one process.

    Args:
        platform: the job platform (the ``webhooks`` queue).
        endpoints: the endpoint service (secrets, replays).
        sender: posts the requests.
        policy: schedule and limits.
        alert: tells the admins that an endpoint was disabled.
        clock: now (aware UTC); None uses the database's clock.
    """

    def __init__(
        self,
        platform: JobPlatform,
        endpoints: WebhookService,
        sender: Sender,
        policy: DeliveryPolicy | None = None,
        alert: AdminAlert | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.platform = platform
        self.engine = platform.engine
        self.endpoints = endpoints
        self.sender = sender
        self.policy = policy or DeliveryPolicy()
        self.alert = alert
        self.clock = clock
        self._insert: Any = platform.recorder._insert

    def now(self, conn: sa.Connection | None = None) -> dt.datetime:
        if self.clock is not None:
            return self.clock()
        return self.platform.recorder.now(conn)

    # Fan-out --------------------------------------------------------------------------
    def on_event(self, event: StoredEvent) -> list[str]:
        """The durable handler: one message per matching endpoint, then pump them."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(ENDPOINT.c.id, ENDPOINT.c.event_types).where(ENDPOINT.c.enabled)
            ).all()
        targets = [i for i, types in rows if any(matches(p, event.name) for p in types)]
        if not targets:
            return []
        body = body_for(event.name, event.entity_id, event.data, event.occurred_at)
        with self.engine.begin() as conn:
            now = self.now(conn)
            conn.execute(
                self._insert(MESSAGE).on_conflict_do_nothing(
                    index_elements=["endpoint_id", "event_id"]
                ),
                [
                    {
                        "msg_id": new_msg_id(),
                        "endpoint_id": endpoint_id,
                        "event_id": event.id,
                        "event_type": event.name,
                        "body": body,
                        "state": "pending",
                        "attempts": 0,
                        "round_attempts": 0,
                        "next_attempt_at": now,
                        "next_trigger": "scheduled",
                        "created_at": now,
                    }
                    for endpoint_id in targets
                ],
            )
            taken = [t for endpoint_id in targets for t in self._take_slots(conn, endpoint_id, now)]
        return self._enqueue(taken)

    # Pump -----------------------------------------------------------------------------
    def pump(self, endpoint_ids: Iterable[int] | None = None) -> list[str]:
        """Enqueue due messages into each endpoint's free slots; returns the job ids."""
        with self.engine.connect() as conn:
            now = self.now(conn)
            if endpoint_ids is None:
                endpoint_ids = [
                    int(r)
                    for r in conn.execute(
                        sa.select(MESSAGE.c.endpoint_id)
                        .where(MESSAGE.c.state == "pending", MESSAGE.c.next_attempt_at <= now)
                        .distinct()
                    ).scalars()
                ]
        jobs: list[str] = []
        for endpoint_id in endpoint_ids:
            jobs += self._pump_one(endpoint_id, now)
        return jobs

    def _pump_one(self, endpoint_id: int, now: dt.datetime) -> list[str]:
        with self.engine.begin() as conn:
            enabled = conn.execute(
                sa.select(ENDPOINT.c.enabled).where(ENDPOINT.c.id == endpoint_id)
            ).scalar()
            taken = self._take_slots(conn, endpoint_id, now) if enabled else []
        return self._enqueue(taken)

    def _take_slots(
        self, conn: sa.Connection, endpoint_id: int, now: dt.datetime
    ) -> list[tuple[int, int, dt.datetime]]:
        """In the caller's transaction: mark due messages ``queued`` into the endpoint's free
        slots; returns (message id, attempts so far, due time) of each one taken."""
        busy = int(
            conn.execute(
                sa.select(sa.func.count()).where(
                    MESSAGE.c.endpoint_id == endpoint_id, MESSAGE.c.state.in_(IN_FLIGHT)
                )
            ).scalar_one()
        )
        free = self.policy.endpoint_concurrency - busy
        if free <= 0:
            return []
        due = (
            sa.select(MESSAGE.c.id)
            .where(
                MESSAGE.c.endpoint_id == endpoint_id,
                MESSAGE.c.state == "pending",
                MESSAGE.c.next_attempt_at <= now,
            )
            .order_by(MESSAGE.c.next_attempt_at, MESSAGE.c.id)
            .limit(free)
        )
        ids = [int(i) for i in conn.execute(due).scalars()]
        if not ids:
            return []
        # The message's job is recorded when the job claims it (``_claim``).
        rows = conn.execute(
            sa.update(MESSAGE)
            .where(MESSAGE.c.id.in_(ids), MESSAGE.c.state == "pending")
            .values(state="queued", job_id=None)
            .returning(MESSAGE.c.id, MESSAGE.c.attempts, MESSAGE.c.next_attempt_at)
        ).all()
        return [(int(i), int(a), d) for i, a, d in rows]

    def _enqueue(self, taken: Sequence[tuple[int, int, dt.datetime]]) -> list[str]:
        """One attempt job per message taken (after the taking transaction committed)."""
        jobs: list[str] = []
        for message_id, attempts, due_at in taken:
            number = attempts + 1
            # Two pumps racing over one due message make one job; a message sent back to
            # pending by repair() (a new due time) gets a new one.
            key = f"webhook:{message_id}:{number}:{int(due_at.timestamp() * 1000)}"
            jobs.append(
                self.platform.enqueue(WEBHOOKS, TASK, message_id, number, idempotency_key=key)
            )
        return jobs

    def repair(self, queued_for: float = 600.0) -> int:
        """Free the slots of messages whose job is gone; returns how many went back to pending.

        A ``sending`` message whose lease ran out and whose job finished, died, was revoked
        or removed, and a ``queued`` one due more than ``queued_for`` seconds ago that no
        job has claimed (its job died before it could), are pending again, due now. A
        late job of the old due time still finds its attempt taken and does nothing.
        """
        with self.engine.begin() as conn:
            now = self.now(conn)
            job_over = sa.or_(
                ~sa.exists().where(JOB.c.id == MESSAGE.c.job_id),
                sa.exists().where(JOB.c.id == MESSAGE.c.job_id, JOB.c.state.in_(FINISHED_JOB)),
            )
            stale = now - dt.timedelta(seconds=queued_for)
            stuck = sa.or_(
                sa.and_(MESSAGE.c.state == "queued", MESSAGE.c.next_attempt_at <= stale),
                sa.and_(MESSAGE.c.state == "sending", MESSAGE.c.lease_until < now, job_over),
            )
            result = conn.execute(
                sa.update(MESSAGE)
                .where(stuck)
                .values(state="pending", next_attempt_at=now, lease_until=None, job_id=None)
            )
            repaired = int(result.rowcount or 0)
        if repaired:
            log.warning("%d webhook messages had lost their job; they are due again", repaired)
        return repaired

    def has_due(self) -> bool:
        with self.engine.connect() as conn:
            now = self.now(conn)
            return (
                conn.execute(
                    sa.select(MESSAGE.c.id)
                    .join(ENDPOINT, ENDPOINT.c.id == MESSAGE.c.endpoint_id)
                    .where(
                        ENDPOINT.c.enabled,
                        MESSAGE.c.state == "pending",
                        MESSAGE.c.next_attempt_at <= now,
                    )
                    .limit(1)
                ).first()
                is not None
            )

    # The attempt (a job) --------------------------------------------------------------
    def run_attempt(self, message_id: int, number: int, job: JobContext) -> str:
        """The task: send attempt ``number`` of a message, record it, pump the endpoint."""
        claimed = self._claim(message_id, number, job.job_id)
        if claimed is None:
            return f"message {message_id} attempt {number}: already handled"
        message, endpoint = claimed
        if not endpoint["enabled"]:
            self._release(message_id, job.job_id)
            return f"message {message['msg_id']}: endpoint {endpoint['id']} is disabled; kept"
        outcome = self._send(endpoint, message["msg_id"], message["body"])
        trigger = message["next_trigger"] or "scheduled"
        state, taken = self._record(message, endpoint, number, trigger, outcome, job.job_id)
        self._enqueue(taken)  # the slot this attempt held goes to the next message due
        summary = f"{outcome.status_code}" if outcome.status_code else outcome.error
        return f"{message['msg_id']} attempt {number}: {summary} -> {state}"

    def _claim(
        self, message_id: int, number: int, job_id: str
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        with self.engine.begin() as conn:
            now = self.now(conn)
            mine = sa.or_(
                MESSAGE.c.state.in_(("pending", "queued")),
                sa.and_(
                    MESSAGE.c.state == "sending",
                    sa.or_(MESSAGE.c.lease_until < now, MESSAGE.c.job_id == job_id),
                ),
            )
            row = (
                conn.execute(
                    sa.update(MESSAGE)
                    .where(MESSAGE.c.id == message_id, MESSAGE.c.attempts == number - 1, mine)
                    .values(
                        state="sending",
                        job_id=job_id,
                        lease_until=now + dt.timedelta(seconds=self.policy.lease),
                    )
                    .returning(*MESSAGE.c)
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            endpoint = (
                conn.execute(sa.select(ENDPOINT).where(ENDPOINT.c.id == row["endpoint_id"]))
                .mappings()
                .one()
            )
            return dict(row), dict(endpoint)

    def _release(self, message_id: int, job_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(MESSAGE)
                .where(MESSAGE.c.id == message_id, MESSAGE.c.job_id == job_id)
                .values(state="pending", lease_until=None, job_id=None)
            )

    def _send(self, endpoint: dict[str, Any], msg_id: str, body: str) -> Outcome:
        try:
            secrets = self.endpoints.secrets_of(endpoint)
        except Exception as exc:
            return Outcome(None, False, 0.0, error=f"cannot sign: {exc}")
        headers = sign_headers(msg_id, int(time.time()), body, secrets)
        return self.sender.post(
            endpoint["url"],
            body,
            headers,
            allow_local_network=bool(endpoint["allow_local_network"]),
        )

    def _record(
        self,
        message: dict[str, Any],
        endpoint: dict[str, Any],
        number: int,
        trigger: str,
        outcome: Outcome,
        job_id: str | None,
    ) -> tuple[str, list[tuple[int, int, dt.datetime]]]:
        """Write the attempt, the message's next state and the endpoint's health at once,
        and take the freed slot for the next due message; returns the state and what
        was taken (to enqueue after the commit)."""
        disabled: str | None = None
        taken: list[tuple[int, int, dt.datetime]] = []
        with self.engine.begin() as conn:
            now = self.now(conn)
            started = now - dt.timedelta(milliseconds=outcome.duration_ms)
            conn.execute(
                sa.insert(ATTEMPT).values(
                    message_id=message["id"],
                    endpoint_id=endpoint["id"],
                    attempt=number,
                    trigger=trigger,
                    started_at=started,
                    duration_ms=outcome.duration_ms,
                    status_code=outcome.status_code,
                    succeeded=outcome.succeeded,
                    response_excerpt=outcome.excerpt,
                    error=outcome.error,
                    request=outcome.request,
                    job_id=job_id,
                )
            )
            in_round = int(message["round_attempts"]) + 1
            values: dict[str, Any] = {
                "attempts": number,
                "round_attempts": in_round,
                "last_status": outcome.status_code,
                "last_error": outcome.error,
                "lease_until": None,
                "next_trigger": "scheduled",
            }
            if outcome.succeeded:
                state = "succeeded"
                values.update(state=state, finished_at=now, next_attempt_at=None)
            else:
                delay = None if trigger == "test" else self.policy.delay_before(in_round + 1)
                if delay is None or outcome.gone:
                    state = "failed"
                    values.update(state=state, finished_at=now, next_attempt_at=None)
                else:
                    state = "pending"
                    values.update(
                        state=state, next_attempt_at=now + dt.timedelta(seconds=delay), job_id=None
                    )
            stmt = sa.update(MESSAGE).where(MESSAGE.c.id == message["id"])
            if job_id is not None:
                stmt = stmt.where(MESSAGE.c.job_id == job_id, MESSAGE.c.state == "sending")
            conn.execute(stmt.values(**values))
            if outcome.succeeded:
                conn.execute(
                    sa.update(ENDPOINT)
                    .where(ENDPOINT.c.id == endpoint["id"], ENDPOINT.c.failing_since.is_not(None))
                    .values(failing_since=None)
                )
            elif trigger != "test":  # a test event's failure says nothing of deliveries
                failing_since = endpoint["failing_since"] or now
                if outcome.gone:
                    disabled = "the receiver answered 410 Gone"
                elif now - failing_since >= self.policy.disable_after:
                    hours = int(self.policy.disable_after.total_seconds() // 3600)
                    disabled = (
                        f"every attempt failed for {hours} hours "
                        f"(since {failing_since:%Y-%m-%d %H:%M} UTC)"
                    )
                values = {"failing_since": failing_since}
                if disabled:
                    values.update(
                        enabled=False, disabled_at=now, disabled_reason=disabled, updated_at=now
                    )
                conn.execute(
                    sa.update(ENDPOINT)
                    .where(ENDPOINT.c.id == endpoint["id"], ENDPOINT.c.enabled)
                    .values(**values)
                )
            if trigger != "test" and not disabled:
                taken = self._take_slots(conn, int(endpoint["id"]), now)
        if disabled:
            log.warning("webhook endpoint %s disabled: %s", endpoint["id"], disabled)
            if self.alert is not None:
                try:
                    self.alert(int(endpoint["id"]), str(endpoint["url"]), disabled)
                except Exception:
                    log.exception(
                        "could not tell the admins that endpoint %s was disabled", endpoint["id"]
                    )
        return state, taken

    # Test events ----------------------------------------------------------------------
    def send_test(self, endpoint_id: int, *, actor: StaffId | None = None) -> TestResult:
        """Send a ``webhook.test`` message now (not queued) and log it; admins only."""
        info = self.endpoints.get(endpoint_id, actor=actor)  # refuses non-admins
        with self.engine.begin() as conn:
            now = self.now(conn)
            body = ping_body(info.id, now)
            msg_id = new_msg_id()
            message_id = conn.execute(
                sa.insert(MESSAGE)
                .values(
                    msg_id=msg_id,
                    endpoint_id=info.id,
                    event_id=None,
                    event_type=TEST_EVENT,
                    body=body,
                    state="sending",
                    attempts=0,
                    round_attempts=0,
                    next_trigger="test",
                    created_at=now,
                )
                .returning(MESSAGE.c.id)
            ).scalar_one()
            message = (
                conn.execute(sa.select(MESSAGE).where(MESSAGE.c.id == message_id)).mappings().one()
            )
            endpoint = (
                conn.execute(sa.select(ENDPOINT).where(ENDPOINT.c.id == info.id)).mappings().one()
            )
        outcome = self._send(dict(endpoint), msg_id, body)
        # A test is one attempt, never retried, and does not count towards auto-disable.
        self._record(dict(message), dict(endpoint), 1, "test", outcome, None)
        return TestResult(msg_id, body, outcome)

    # Replays (the service marks, the pump sends) --------------------------------------
    def replay(self, msg_id: str, *, actor: StaffId | None = None) -> list[str]:
        """Send one message again now; returns the job ids enqueued."""
        row = self.endpoints.replay(msg_id, actor=actor)
        return self.pump([row.endpoint_id])

    def recover(self, endpoint_id: int, since: dt.datetime, *, actor: StaffId | None = None) -> int:
        """Send again everything that failed since ``since``; returns how many messages."""
        count = self.endpoints.recover(endpoint_id, since, actor=actor)
        self.pump([endpoint_id])
        return count

    def counts(self, endpoint_ids: Sequence[int] | None = None) -> dict[str, int]:
        """Messages by state (for benchmarks and tests)."""
        stmt = sa.select(MESSAGE.c.state, sa.func.count()).group_by(MESSAGE.c.state)
        if endpoint_ids is not None:
            stmt = stmt.where(MESSAGE.c.endpoint_id.in_(list(endpoint_ids)))
        with self.engine.connect() as conn:
            return {str(s): int(c) for s, c in conn.execute(stmt)}


class PumpTrigger:
    """Pumps due messages (retries whose delay ran out) and repairs lost slots, on a timer.

    Args:
        delivery: the webhook family.
        interval: seconds between looks for due messages.
        repair_interval: seconds between repairs of messages whose job is gone.
    """

    def __init__(
        self, delivery: WebhookDelivery, interval: float = 1.0, repair_interval: float = 30.0
    ) -> None:
        self.delivery = delivery
        self.interval = interval
        self.repair_interval = repair_interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="webhooks-pump", daemon=True)

    def start(self) -> None:
        if not self._thread.is_alive():
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        next_repair = 0.0  # at once: what a crash left behind
        while not self._stop.is_set():
            try:
                if time.monotonic() >= next_repair:
                    next_repair = time.monotonic() + self.repair_interval
                    self.delivery.repair()
                if self.delivery.has_due():
                    self.delivery.pump()
            except Exception:
                log.exception("webhook pump failed; trying again")
            self._stop.wait(self.interval)
