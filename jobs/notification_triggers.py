"""What the clinic's actions notify, and the job system's alerts to admins.

- A durable handler (``notifications``) on the clinic's events: a payment taken
  (``invoice.created`` / ``invoice.updated``) → ``payment_received`` to the client, once per
  payment; an appointment cancelled (``appointment.cancelled``) → ``appointment_cancelled``
  to the client, unless it had already started. Like every durable handler it sees each
  event at least once, from whichever workstation made the change; the idempotency keys
  (``payment:<id>``, ``appointment-cancelled:<id>``) make it one notification.
- :class:`AlertWatcher` (a thread in every app and worker): a job that went dead, or a
  queue whose jobs wait with no live worker serving it → a ``system_alert`` in every active
  admin's inbox (important: a tray message too), e.g. "Reminder to Smith failed after 3
  attempts". The watcher writes the inbox rows itself rather than through a job: an alert
  that the job system is stuck must not wait for the job system. Keys per job, and per
  queue and hour, make it one alert per admin however many watchers see it.
  Also: more than :attr:`AlertPolicy.failures` failed attempts in the last 10 minutes. Never
  more than one alert per cause (a task's dead jobs, a burst of failures) per
  :attr:`AlertPolicy.quiet`: a hundred reminders dying at once are one alert, and the
  Queue monitor's triage has the rest.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from jobs.event_dispatch import DurableHandler, EventHandlers
from jobs.models import Job, JobEvent, JobState
from jobs.notifications import NotificationJobs
from jobs.platform import JobPlatform
from purplecross_desktop.database.base import StaffId, utcnow
from purplecross_desktop.domain.appointments import Appointment
from purplecross_desktop.domain.billing import Invoice, Payment
from purplecross_desktop.domain.clients import Client
from purplecross_desktop.domain.event_log import StoredEvent
from purplecross_desktop.domain.notifications import NotificationKind, StaffNotification
from purplecross_desktop.domain.patients import Patient
from purplecross_desktop.domain.roles import StaffRole
from purplecross_desktop.domain.staff import Staff

log = logging.getLogger(__name__)

JOB = Job.__table__
EVENT = JobEvent.__table__
HANDLER = "notifications"
EVENTS = ("appointment.cancelled", "invoice.created", "invoice.updated")
#: A payment or cancellation older than this is history, not news: nobody is told.
NEWS_FOR = dt.timedelta(days=1)
#: The inbox rows of alerts are keyed with this prefix.
ALERT_KEY = "alert:"
TASK_LABELS = {
    "reminders.send": "Reminder",
    "email.send": "Email",
    "sms.send": "Text message",
    "notifications.send": "Notification",
    "events.dispatch": "Event dispatch",
    "reminders.scan": "Reminder scan",
}


class ClinicNotifications:
    """Turns the clinic's events into notifications to clients.

    Args:
        notifications: the notifications family.
        currency: the symbol amounts are shown with.
        clock: now (aware UTC).
    """

    def __init__(
        self,
        notifications: NotificationJobs,
        currency: str = "£",
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.notifications = notifications
        self.currency = currency
        self.clock = clock
        self._sessions = notifications.services.clients._sessions

    def on_event(self, event: StoredEvent) -> list[str]:
        """The durable handler: the job ids of the notifications the event called for."""
        if event.name == "appointment.cancelled":
            return self.appointment_cancelled(event.entity_id)
        if event.entity == "invoice":
            return self.payments(event.entity_id)
        return []

    def appointment_cancelled(self, appointment_id: int) -> list[str]:
        now = self.clock()
        with self._sessions() as session:
            appointment = session.get(Appointment, appointment_id)
            if appointment is None or appointment.starts_at <= now:
                return []
            patient = session.get(Patient, appointment.patient_id)
        if appointment.cancelled_at is not None and now - appointment.cancelled_at > NEWS_FOR:
            return []
        name = patient.name if patient is not None else "your pet"
        when = appointment.starts_at
        return list(
            self.notifications.queue(
                NotificationKind.APPOINTMENT_CANCELLED,
                [f"client:{appointment.client_id}"],
                f"Appointment cancelled: {name}",
                f"{name}'s appointment on {when:%a %d %b %Y at %H:%M} UTC is cancelled. "
                "Call us to book another time.",
                expires_at=when,
                idempotency_key=f"appointment-cancelled:{appointment_id}",
                record={"appointment": appointment_id, "patient": appointment.patient_id},
            )
        )

    def payments(self, invoice_id: int) -> list[str]:
        now = self.clock()
        with self._sessions() as session:
            invoice = session.get(Invoice, invoice_id)
            if invoice is None:
                return []
            client = session.get(Client, invoice.client_id)
            taken = list(
                session.scalars(
                    sa.select(Payment).where(Payment.invoice_id == invoice_id).order_by(Payment.id)
                )
            )
        if client is None:
            return []
        jobs: list[str] = []
        paid = Decimal(0)
        for payment in taken:
            paid += payment.amount
            if payment.paid_at <= now - NEWS_FOR:
                continue
            left = invoice.total - paid  # the balance just after this payment
            balance = (
                f" The balance is {self._money(left)}."
                if left > 0
                else " The invoice is paid in full."
            )
            jobs += self.notifications.queue(
                NotificationKind.PAYMENT_RECEIVED,
                [f"client:{client.id}"],
                "Payment received",
                f"Thank you: we received {self._money(payment.amount)} for invoice "
                f"{invoice.number}.{balance}",
                expires_at=payment.paid_at + NEWS_FOR,
                idempotency_key=f"payment:{payment.id}",
                record={"invoice": invoice_id, "patient": invoice.patient_id},
            )
        return jobs

    def _money(self, amount: Decimal) -> str:
        return f"{self.currency}{amount:,.2f}"


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """When the job system alerts the admins (settings ``job_alert_*``).

    Attributes:
        failures: failed attempts (retrying or dead) within ``window`` that raise an
            alert; 0 turns that alert off.
        window: the span ``failures`` are counted over.
        quiet: at most one alert per cause within this span.
    """

    failures: int = 20
    window: dt.timedelta = dt.timedelta(minutes=10)
    quiet: dt.timedelta = dt.timedelta(minutes=5)


class AlertWatcher:
    """Tells admins about dead jobs, queues nobody serves and bursts of failures (a thread;
    see the module).

    Args:
        platform: the job platform (registry database, heartbeats).
        notifications: the notifications family.
        interval: seconds between looks.
        lookback: how far back a dead job still counts as news.
        stall_after: how long a job may wait on a queue with no live worker.
        policy: the failure threshold and the quiet span between alerts of one cause.
    """

    def __init__(
        self,
        platform: JobPlatform,
        notifications: NotificationJobs,
        interval: float = 30.0,
        lookback: dt.timedelta = dt.timedelta(hours=1),
        stall_after: dt.timedelta = dt.timedelta(minutes=5),
        policy: AlertPolicy | None = None,
    ) -> None:
        self.platform = platform
        self.notifications = notifications
        self.interval = interval
        self.lookback = lookback
        self.stall_after = stall_after
        self.policy = policy or AlertPolicy()
        self._seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="jobs-alerts", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:
                log.exception("the job alert check failed; trying again")

    def check(self) -> list[int]:
        """Alert on what is new since the last look; returns the new inbox rows' ids."""
        return self.dead_jobs() + self.idle_queues() + self.failure_burst()

    def dead_jobs(self) -> list[int]:
        recorder = self.platform.recorder
        with self.platform.engine.connect() as conn:
            now = recorder.now(conn)
            rows = conn.execute(
                sa.select(
                    JOB.c.id,
                    JOB.c.task,
                    JOB.c.attempts,
                    JOB.c.error_class,
                    JOB.c.error_message,
                    JOB.c.client_id,
                    Client.name,
                )
                .outerjoin(Client, Client.id == JOB.c.client_id)
                .where(
                    JOB.c.state == JobState.DEAD.value,
                    JOB.c.finished_at > now - self.lookback,
                )
                .order_by(JOB.c.finished_at)
            ).all()
        delivered: list[int] = []
        for job_id, task, attempts, error_class, error, _client_id, client_name in rows:
            if job_id in self._seen:
                continue
            self._seen.add(job_id)
            if self._alerted_lately(f"job-dead:{task}:", now):
                continue  # this task's dead jobs were reported moments ago: triage has them
            label = TASK_LABELS.get(task, task)
            to = f" to {client_name}" if client_name else ""
            tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
            short = (error_class or "Error").rsplit(".", 1)[-1]
            delivered += self._alert(
                f"{label}{to} failed after {tries}",
                f"{short}: {error or 'no message'}",
                f"job:{job_id}",
                f"job-dead:{task}:{job_id}",
            )
        return delivered

    def failure_burst(self) -> list[int]:
        """More than ``policy.failures`` failed attempts in ``policy.window``: one alert."""
        policy = self.policy
        if policy.failures <= 0:
            return []
        with self.platform.engine.connect() as conn:
            now = self.platform.recorder.now(conn)
            count = conn.execute(
                sa.select(sa.func.count()).where(
                    EVENT.c.kind.in_(("retrying", "dead")), EVENT.c.at >= now - policy.window
                )
            ).scalar_one()
        if count < policy.failures or self._alerted_lately("failures:", now):
            return []
        minutes = int(policy.window.total_seconds() // 60)
        return self._alert(
            f"{count} job failures in the last {minutes} minutes",
            f"{count} attempts failed in the last {minutes} minutes (the alert threshold is"
            f" {policy.failures}). The Queue monitor's Failures tab groups them by error.",
            "queue:",
            f"failures:{now:%Y%m%d%H%M%S}",
        )

    def _alerted_lately(self, cause: str, now: dt.datetime) -> bool:
        """Whether an alert of ``cause`` (a key prefix) reached anyone within ``quiet``."""
        prefix = f"{ALERT_KEY}{cause}"
        with self.notifications.services.staff._sessions() as session:
            found = session.scalar(
                sa.select(StaffNotification.id)
                .where(
                    StaffNotification.dedupe_key.startswith(prefix, autoescape=True),
                    StaffNotification.created_at >= now - self.policy.quiet,
                )
                .limit(1)
            )
        return found is not None

    def idle_queues(self) -> list[int]:
        from jobs.registry import JobRegistry

        served = {
            queue
            for worker in JobRegistry(self.platform).workers()
            if worker.alive
            for queue in worker.queues
        }
        recorder = self.platform.recorder
        with self.platform.engine.connect() as conn:
            now = recorder.now(conn)
            waiting = conn.execute(
                sa.select(JOB.c.queue, sa.func.count())
                .where(
                    JOB.c.state == JobState.WAITING.value,
                    JOB.c.enqueued_at < now - self.stall_after,
                )
                .group_by(JOB.c.queue)
            ).all()
        delivered: list[int] = []
        hour = now.strftime("%Y%m%d%H")
        minutes = int(self.stall_after.total_seconds() // 60)
        for queue, count in waiting:
            if queue in served:
                continue
            delivered += self._alert(
                f"Queue {queue} has no workers",
                f"{count} job(s) have waited more than {minutes} minutes"
                f" on the {queue} queue and no running worker serves it. Start a worker "
                "(purplecross worker) or check the Queue monitor.",
                f"queue:{queue}",
                f"queue-idle:{queue}:{hour}",
            )
        return delivered

    def _alert(self, title: str, message: str, link: str, key: str) -> list[int]:
        """Put the alert in every active admin's inbox; returns the ids of new rows."""
        inboxes = self.notifications.services.notifications
        with self.notifications.services.staff._sessions() as session:
            admins = list(
                session.scalars(
                    sa.select(Staff.id).where(Staff.role == StaffRole.ADMIN, Staff.active.is_(True))
                )
            )
        new: list[int] = []
        for admin in admins:
            row = inboxes.deliver(
                StaffId(admin),
                NotificationKind.SYSTEM_ALERT,
                title[:200],
                message[:1000],
                dedupe_key=f"{ALERT_KEY}{key}:staff:{admin}",
                link=link,
                important=True,
            )
            if row is not None:
                new.append(row)
        return new


def register(
    handlers: EventHandlers, notifications: NotificationJobs, currency: str = "£"
) -> ClinicNotifications:
    """Add the ``notifications`` durable handler (new events only, not the retained past)."""
    service = ClinicNotifications(notifications, currency)
    handlers.add(DurableHandler(HANDLER, EVENTS, service.on_event, from_start=False))
    notifications.platform.services["clinic_notifications"] = service
    return service
