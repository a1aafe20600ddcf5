"""Webhook deliveries: fan-out from durable events, a window per endpoint, attempts as jobs.

1. **Fan-out.** The ``webhooks`` durable handler (``jobs.event_dispatch``: at least once
   per event, resuming from its stored watermark after a crash) writes one message row
   per enabled endpoint whose filter matches the event, in one transaction; the unique
   (endpoint, event) pair makes a second pass over the same event a no-op.
2. **Pump.** Each endpoint has ``endpoint_concurrency`` job slots. The pump marks due
   ``pending`` messages ``queued`` into free slots, up to ``batch`` (20) per job while the
   endpoint is healthy and one per job while it is failing, and enqueues one
   ``webhooks.attempt`` job per batch (idempotency key from its first message, attempt
   and due time, so a repaired message gets a new job). The rest wait in the database,
   not in the broker: 10,000 messages owed to a dead endpoint occupy two worker threads
   and two broker entries, and a healthy endpoint's jobs never queue behind them. The
   pump runs after every fan-out and every job (in the job's recording transaction),
   and on a timer (:class:`PumpTrigger`) for retries that come due.
3. **Attempts.** The job claims its messages (``sending``, under a lease), then for
   each, in order, signs and posts (:mod:`jobs.webhooks.sender`); it stops early when
   the endpoint does not answer or answers 410 (the rest go back to pending, no attempt
   counted). One transaction then records every attempt, each message's next state:
   ``succeeded``; ``pending`` again at the next step of the schedule (immediately, 5 s,
   5 min, 30 min, 2 h, 5 h, 10 h, 10 h, each ±10 %); or ``failed`` after the last; and
   the endpoint's health. ``410 Gone`` disables the endpoint; so does an endpoint whose
   attempts have all failed for ``disable_after`` (5 days), and the admins are told. A
   worker killed mid-request: the platform runs the job again, which takes its own
   messages back and sends them again under the same ``webhook-id`` (at least once).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
import uuid
from collections import Counter
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
from purplecross_desktop.domain.event_log import EVENT, StoredEvent, pattern_clause
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
        endpoint_concurrency: jobs (so requests) in flight per endpoint.
        batch: messages one job may carry while the endpoint is healthy (1 while failing).
        disable_after: an endpoint whose attempts all failed for this long is disabled.
        lease: seconds a sending message is held before another run may take it; a job
            stops taking messages of its batch after half of it, so its last request
            (15 s at most) ends before the lease does.
    """

    schedule: tuple[float, ...] = SCHEDULE
    scale: float = 1.0
    jitter: float = 0.1
    endpoint_concurrency: int = 2
    batch: int = 20
    disable_after: dt.timedelta = dt.timedelta(days=5)
    lease: float = 40.0
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
            taken = [b for endpoint_id in targets for b in self._take_slots(conn, endpoint_id, now)]
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
    ) -> list[list[tuple[int, int, dt.datetime]]]:
        """In the caller's transaction: mark due messages ``queued`` into the endpoint's free
        job slots, ``batch`` per job (one while the endpoint is failing); returns the
        batches, each a list of (message id, attempts so far, due time).

        A queued batch carries a tag in ``job_id`` (the job's own id replaces it when
        the job claims it), so the jobs in flight are counted by distinct ``job_id``.
        """
        busy = int(
            conn.execute(
                sa.select(sa.func.count(sa.distinct(MESSAGE.c.job_id))).where(
                    MESSAGE.c.endpoint_id == endpoint_id, MESSAGE.c.state.in_(IN_FLIGHT)
                )
            ).scalar_one()
        )
        free = self.policy.endpoint_concurrency - busy
        if free <= 0:
            return []
        failing = conn.execute(
            sa.select(ENDPOINT.c.failing_since).where(ENDPOINT.c.id == endpoint_id)
        ).scalar()
        size = 1 if failing is not None else self.policy.batch
        due = (
            sa.select(MESSAGE.c.id)
            .where(
                MESSAGE.c.endpoint_id == endpoint_id,
                MESSAGE.c.state == "pending",
                MESSAGE.c.next_attempt_at <= now,
            )
            .order_by(MESSAGE.c.next_attempt_at, MESSAGE.c.id)
            .limit(free * size)
        )
        ids = [int(i) for i in conn.execute(due).scalars()]
        batches: list[list[tuple[int, int, dt.datetime]]] = []
        for first in range(0, len(ids), size):
            rows = conn.execute(
                sa.update(MESSAGE)
                .where(MESSAGE.c.id.in_(ids[first : first + size]), MESSAGE.c.state == "pending")
                .values(state="queued", job_id=f"q:{uuid.uuid4().hex[:20]}")
                .returning(MESSAGE.c.id, MESSAGE.c.attempts, MESSAGE.c.next_attempt_at)
            ).all()
            if rows:
                batches.append(sorted((int(i), int(a), d) for i, a, d in rows))
        return batches

    def _enqueue(self, batches: Sequence[Sequence[tuple[int, int, dt.datetime]]]) -> list[str]:
        """One job per batch taken (after the taking transaction committed)."""
        jobs: list[str] = []
        for batch in batches:
            first, attempts, due_at = batch[0]
            # Two pumps never take the same message (the update above checks its state);
            # a message sent back to pending by repair() (a new due time) gets a new key.
            key = f"webhook:{first}:{attempts + 1}:{int(due_at.timestamp() * 1000)}:{len(batch)}"
            items = [[message_id, n + 1] for message_id, n, _due in batch]
            jobs.append(self.platform.enqueue(WEBHOOKS, TASK, items, idempotency_key=key))
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

    # The attempts (a job) -------------------------------------------------------------
    def run_attempt(self, items: list[list[int]], job: JobContext) -> str:
        """The task: one attempt of each ``[message id, attempt number]`` (one endpoint's),
        in order; record them, then hand the freed slot to the next due messages.

        The batch stops early when the endpoint does not answer (a timeout, a refused
        connection), answers ``410``, or the batch has run for half the lease: the
        messages not tried go back to pending, due now, without an attempt counted.
        """
        claimed = self._claim(items, job.job_id)
        held = self._held_until(items, job.job_id) if claimed is None else None
        if held is not None:
            # This job ran before and its run was given up for dead (its worker died, or
            # stalled past the heartbeat timeout and may still be sending): wait for the
            # lease of the messages it took, so a live run is never doubled, then take them.
            wait = (held - self.now()).total_seconds()
            time.sleep(max(0.0, min(wait, self.policy.lease)) + 0.05)
            claimed = self._claim(items, job.job_id)
        if claimed is None:
            return f"messages {[i for i, _ in items]}: already handled"
        messages, endpoint = claimed
        if not endpoint["enabled"]:
            self._record_batch(endpoint, [], job.job_id, [m["id"] for m in messages])
            return f"endpoint {endpoint['id']} is disabled; {len(messages)} message(s) kept"
        results: list[tuple[dict[str, Any], Outcome]] = []
        released: list[int] = []
        began = time.monotonic()
        stop = False
        for message in messages:
            if stop or (results and time.monotonic() - began > self.policy.lease / 2):
                released.append(int(message["id"]))
                continue
            outcome = self._send(endpoint, message["msg_id"], message["body"])
            results.append((message, outcome))
            stop = outcome.status_code is None or outcome.gone
        states, taken = self._record_batch(endpoint, results, job.job_id, released)
        self._enqueue(taken)  # the slot this job held goes to the next messages due
        done = Counter(states)
        return (
            f"endpoint {endpoint['id']}: {len(results)} attempt(s) "
            + ", ".join(f"{n} {state}" for state, n in sorted(done.items()))
            + (f"; {len(released)} put back" if released else "")
        )

    def _claim(
        self, items: Sequence[Sequence[int]], job_id: str
    ) -> tuple[list[dict[str, Any]], dict[str, Any]] | None:
        """Take each message for this job (``sending``, under a lease) in one transaction."""
        with self.engine.begin() as conn:
            now = self.now(conn)
            mine = sa.or_(
                MESSAGE.c.state.in_(("pending", "queued")),
                sa.and_(MESSAGE.c.state == "sending", MESSAGE.c.lease_until < now),
            )
            until = now + dt.timedelta(seconds=self.policy.lease)
            wanted = [(int(i), int(n) - 1) for i, n in items]
            rows = conn.execute(
                sa.update(MESSAGE)
                .where(sa.tuple_(MESSAGE.c.id, MESSAGE.c.attempts).in_(wanted), mine)
                .values(state="sending", job_id=job_id, lease_until=until)
                .returning(*MESSAGE.c)
            ).mappings()
            order = {message_id: index for index, (message_id, _n) in enumerate(wanted)}
            messages: list[dict[str, Any]] = sorted(
                (dict(r) for r in rows), key=lambda m: order[int(m["id"])]
            )
            if not messages:
                return None
            endpoint = (
                conn.execute(sa.select(ENDPOINT).where(ENDPOINT.c.id == messages[0]["endpoint_id"]))
                .mappings()
                .one()
            )
            return messages, dict(endpoint)

    def _held_until(self, items: Sequence[Sequence[int]], job_id: str) -> dt.datetime | None:
        """When the lease of this job's earlier run on these messages ends, if it holds any."""
        with self.engine.connect() as conn:
            value = conn.execute(
                sa.select(sa.func.max(MESSAGE.c.lease_until)).where(
                    MESSAGE.c.id.in_([int(i) for i, _n in items]),
                    MESSAGE.c.state == "sending",
                    MESSAGE.c.job_id == job_id,
                )
            ).scalar()
        return value if isinstance(value, dt.datetime) else None

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

    def _record_batch(
        self,
        endpoint: dict[str, Any],
        results: Sequence[tuple[dict[str, Any], Outcome]],
        job_id: str | None,
        released: Sequence[int] = (),
        trigger_override: str | None = None,
    ) -> tuple[list[str], list[list[tuple[int, int, dt.datetime]]]]:
        """Write the attempts, each message's next state, what was put back and the
        endpoint's health in one transaction, and take the freed slot for the next due
        messages; returns the states and the batches taken (to enqueue after the commit)."""
        disabled: str | None = None
        taken: list[list[tuple[int, int, dt.datetime]]] = []
        states: list[str] = []
        failing_since = endpoint["failing_since"]
        with self.engine.begin() as conn:
            now = self.now(conn)
            attempts: list[dict[str, Any]] = []
            updates: list[dict[str, Any]] = []
            for message, outcome in results:
                trigger = trigger_override or message["next_trigger"] or "scheduled"
                number = int(message["attempts"]) + 1
                attempts.append(
                    {
                        "message_id": message["id"],
                        "endpoint_id": endpoint["id"],
                        "attempt": number,
                        "trigger": trigger,
                        "started_at": now - dt.timedelta(milliseconds=outcome.duration_ms),
                        "duration_ms": outcome.duration_ms,
                        "status_code": outcome.status_code,
                        "succeeded": outcome.succeeded,
                        "response_excerpt": outcome.excerpt,
                        "error": outcome.error,
                        "request": outcome.request,
                        "job_id": job_id,
                    }
                )
                state, values = self._next_state(message, number, trigger, outcome, now)
                states.append(state)
                updates.append({"b_id": message["id"], **{f"b_{k}": v for k, v in values.items()}})
                if trigger == "test":
                    continue  # a test event's outcome says nothing of the deliveries
                if outcome.succeeded:
                    failing_since = None
                else:
                    failing_since = failing_since or now
                    if outcome.gone:
                        disabled = "the receiver answered 410 Gone"
            if attempts:
                conn.execute(sa.insert(ATTEMPT), attempts)
                stmt = sa.update(MESSAGE).where(MESSAGE.c.id == sa.bindparam("b_id"))
                if job_id is not None:
                    stmt = stmt.where(MESSAGE.c.job_id == job_id, MESSAGE.c.state == "sending")
                columns = {k.removeprefix("b_") for k in updates[0] if k != "b_id"}
                conn.execute(stmt.values({c: sa.bindparam(f"b_{c}") for c in columns}), updates)
            if released:
                conn.execute(
                    sa.update(MESSAGE)
                    .where(MESSAGE.c.id.in_(list(released)), MESSAGE.c.job_id == job_id)
                    .values(state="pending", lease_until=None, job_id=None, next_attempt_at=now)
                )
            if (
                failing_since is not None
                and not disabled
                and now - failing_since >= self.policy.disable_after
            ):
                hours = int(self.policy.disable_after.total_seconds() // 3600)
                disabled = (
                    f"every attempt failed for {hours} hours "
                    f"(since {failing_since:%Y-%m-%d %H:%M} UTC)"
                )
            health: dict[str, Any] = {}
            if failing_since != endpoint["failing_since"]:
                health["failing_since"] = failing_since
            if disabled:
                health.update(
                    enabled=False, disabled_at=now, disabled_reason=disabled, updated_at=now
                )
            if health:
                conn.execute(
                    sa.update(ENDPOINT)
                    .where(ENDPOINT.c.id == endpoint["id"], ENDPOINT.c.enabled)
                    .values(**health)
                )
            if job_id is not None and not disabled and endpoint["enabled"]:
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
        return states, taken

    def _next_state(
        self,
        message: dict[str, Any],
        number: int,
        trigger: str,
        outcome: Outcome,
        now: dt.datetime,
    ) -> tuple[str, dict[str, Any]]:
        """The message's state after this attempt, and the columns to write."""
        in_round = int(message["round_attempts"]) + 1
        values: dict[str, Any] = {
            "attempts": number,
            "round_attempts": in_round,
            "last_status": outcome.status_code,
            "last_error": outcome.error,
            "lease_until": None,
            "next_trigger": "scheduled",
        }
        # Every outcome writes the same columns: a batch is one executemany.
        if outcome.succeeded:
            values.update(state="succeeded", finished_at=now, next_attempt_at=None)
            return "succeeded", values
        delay = None if trigger == "test" else self.policy.delay_before(in_round + 1)
        if delay is None or outcome.gone:
            values.update(state="failed", finished_at=now, next_attempt_at=None)
            return "failed", values
        values.update(
            state="pending", finished_at=None, next_attempt_at=now + dt.timedelta(seconds=delay)
        )
        return "pending", values

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
        self._record_batch(dict(endpoint), [(dict(message), outcome)], None, (), "test")
        return TestResult(msg_id, body, outcome)

    # Replays (the service marks, the pump sends) --------------------------------------
    def replay(self, msg_id: str, *, actor: StaffId | None = None) -> list[str]:
        """Send one message again now; returns the job ids enqueued."""
        row = self.endpoints.replay(msg_id, actor=actor)
        return self.pump([row.endpoint_id])

    def recover(self, endpoint_id: int, since: dt.datetime, *, actor: StaffId | None = None) -> int:
        """Send again what the endpoint failed to get since ``since``: its failed messages,
        and the events its filter matches that never became a message for it (it was
        disabled then); returns how many messages go out."""
        count = self.endpoints.recover(endpoint_id, since, actor=actor)  # refuses non-admins
        count += self._missed(endpoint_id, since)
        self.pump([endpoint_id])
        return count

    def _missed(self, endpoint_id: int, since: dt.datetime) -> int:
        """Messages for the retained events since ``since`` the endpoint never had."""
        with self.engine.begin() as conn:
            now = self.now(conn)
            patterns = conn.execute(
                sa.select(ENDPOINT.c.event_types).where(ENDPOINT.c.id == endpoint_id)
            ).scalar_one()
            had = sa.exists().where(
                MESSAGE.c.endpoint_id == endpoint_id, MESSAGE.c.event_id == EVENT.c.id
            )
            events = conn.execute(
                sa.select(EVENT)
                .where(EVENT.c.recorded_at >= since, pattern_clause(list(patterns)), ~had)
                .order_by(EVENT.c.id)
            ).all()
            rows = [
                {
                    "msg_id": new_msg_id(),
                    "endpoint_id": endpoint_id,
                    "event_id": e.id,
                    "event_type": e.name,
                    "body": body_for(e.name, e.entity_id, e.data, e.occurred_at),
                    "state": "pending",
                    "attempts": 0,
                    "round_attempts": 0,
                    "next_attempt_at": now,
                    "next_trigger": "recover",
                    "created_at": now,
                }
                for e in (StoredEvent.from_row(r) for r in events)
            ]
            if rows:
                conn.execute(
                    self._insert(MESSAGE).on_conflict_do_nothing(
                        index_elements=["endpoint_id", "event_id"]
                    ),
                    rows,
                )
        return len(rows)

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
