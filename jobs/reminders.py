"""The reminders family (queue ``reminders``): appointment reminders and confirmations, and
the periodic scan for vaccinations, medication refills, follow-ups and overdue invoices.

Everything hangs on durable events, so nothing depends on the process that made a change
surviving it:

- ``appointment.booked`` → a confirmation on the client's preferred channel now, and a
  pending ``Reminder`` row due ``reminder_lead_hours`` before the start (or at
  ``reminder_time`` on the clinic's day before); none when that moment has passed;
- ``appointment.rescheduled`` → the reminder's due time moves; ``appointment.cancelled``
  (or any status that makes it pointless) → the reminder is cancelled;
- ``reminder.created`` / ``reminder.updated`` → a ``reminders.send`` job scheduled at the
  due time (idempotency key ``reminder:<id>:<due>``), and the jobs of an older due time or
  of a cancelled reminder revoked.

A send job re-reads its reminder and what it is about when it runs, and does nothing (its
result says ``skipped: …``) when the reminder was cancelled, moved or sent, the
appointment was cancelled or has started, or the client can no longer be reached.

The scan (``reminders.scan``) runs every few minutes from every app and worker, one job
per time slot cluster-wide; each reminder it creates carries a ``dedupe_key`` that the
database keeps unique, so several scanners at once create (and send) it once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import threading
import time
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from jobs.event_dispatch import DurableHandler, EventHandlers
from jobs.models import Job, JobId
from jobs.platform import JobContext, JobPlatform, TaskSpec
from jobs.policy import PermanentError, RetryPolicy
from jobs.queues import REMINDERS
from purplecross_desktop.database.base import ClientId, PatientId, ReminderId, utcnow
from purplecross_desktop.domain.appointments import Appointment, AppointmentStatus
from purplecross_desktop.domain.appointments.model import AppointmentType
from purplecross_desktop.domain.billing import Invoice, InvoiceStatus
from purplecross_desktop.domain.clients import Client, ContactChannel
from purplecross_desktop.domain.errors import Conflict, NotFound, ValidationError
from purplecross_desktop.domain.event_log import StoredEvent
from purplecross_desktop.domain.medical import Prescription, Vaccination
from purplecross_desktop.domain.notifications import NotificationChannel
from purplecross_desktop.domain.patients import Patient
from purplecross_desktop.domain.reminders import (
    Reminder,
    ReminderChannel,
    ReminderData,
    ReminderKind,
    ReminderState,
)
from purplecross_desktop.domain.staff import Staff

if TYPE_CHECKING:
    from purplecross_desktop.services import Services
    from purplecross_desktop.settings import Settings

log = logging.getLogger(__name__)

SEND = "reminders.send"
SCAN = "reminders.scan"
JOB = Job.__table__
ACTIVE = (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)
UNFINISHED_JOB_STATES = ("outbox", "waiting", "scheduled", "failed_retrying", "paused")
#: Appointment types whose completion calls for a follow-up check a week later.
FOLLOW_UP_TYPES = (AppointmentType.SURGERY, AppointmentType.DENTAL)


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """When reminders fall due, in the clinic's time zone.

    Args:
        lead: how long before an appointment its reminder goes.
        at_time: if set, the reminder goes at this local time on the day before instead
            (``09:00`` stays 09:00 local across a daylight-saving change).
        zone: the clinic's time zone.
        hour: the local time of day of scanned reminders (vaccinations, refills, ...).
    """

    lead: dt.timedelta = dt.timedelta(hours=24)
    at_time: dt.time | None = None
    zone: zoneinfo.ZoneInfo = dataclasses.field(default_factory=lambda: zoneinfo.ZoneInfo("UTC"))
    hour: dt.time = dt.time(9, 0)

    @classmethod
    def from_settings(cls, settings: Settings) -> ReminderPolicy:
        at = dt.time.fromisoformat(settings.reminder_time) if settings.reminder_time else None
        return cls(
            lead=dt.timedelta(hours=settings.reminder_lead_hours),
            at_time=at,
            zone=zoneinfo.ZoneInfo(settings.clinic_timezone),
        )

    def local(self, day: dt.date, time_of_day: dt.time) -> dt.datetime:
        """The aware UTC instant of ``time_of_day`` on ``day`` in the clinic's zone.

        A time skipped by the clocks going forward moves forward by the gap; a time that
        happens twice (clocks going back) is the first of the two.
        """
        # PEP 495: fold=0 reads a skipped time with the offset before the change (so it
        # lands that much later) and a repeated time as its first occurrence.
        naive = dt.datetime.combine(day, time_of_day.replace(tzinfo=None))
        return naive.replace(tzinfo=self.zone, fold=0).astimezone(dt.UTC)

    def due_for(self, starts_at: dt.datetime) -> dt.datetime:
        """When the reminder of an appointment starting at ``starts_at`` is due."""
        if self.at_time is None:
            return (starts_at - self.lead).astimezone(dt.UTC)
        day_before = starts_at.astimezone(self.zone).date() - dt.timedelta(days=1)
        return self.local(day_before, self.at_time)

    def format(self, moment: dt.datetime) -> str:
        """``Tue 4 Mar 2031, 10:30`` in the clinic's zone."""
        local = moment.astimezone(self.zone)
        return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


class ReminderJobs:
    """Turns appointment and reminder events into scheduled jobs, and sends reminders.

    Args:
        platform: the job platform (enqueue, email, the registry).
        services: the domain services (reads and reminder writes).
        policy: when reminders are due.
        clock: now (aware UTC); tests move it.
    """

    def __init__(
        self,
        platform: JobPlatform,
        services: Services,
        policy: ReminderPolicy,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.platform = platform
        self.services = services
        self.policy = policy
        self.clock = clock
        self._sessions = services.appointments._sessions

    # The durable handler ---------------------------------------------------------------
    def on_event(self, event: StoredEvent) -> list[str]:
        """Bring reminders and their jobs in line with what the event says changed."""
        if event.entity == "appointment":
            return self.sync_appointment(
                event.entity_id, confirm=event.name == "appointment.booked"
            )
        if event.entity == "reminder":
            return self.schedule(event.entity_id)
        return []

    def sync_appointment(self, appointment_id: int, *, confirm: bool = False) -> list[str]:
        """Create, move or cancel the appointment's reminder; confirm a new booking."""
        with self._sessions() as session:
            appointment = session.get(Appointment, appointment_id)
            if appointment is None:
                return []
            client = session.get(Client, appointment.client_id)
            reminder = session.scalar(
                sa.select(Reminder).where(
                    Reminder.appointment_id == appointment_id,
                    Reminder.kind == ReminderKind.APPOINTMENT,
                )
            )
        assert client is not None
        now = self.clock()
        channel = self._channel(client)
        live = appointment.status in ACTIVE and appointment.starts_at > now
        due = self.policy.due_for(appointment.starts_at)
        wanted = live and channel is not None and due > now
        jobs: list[str] = []
        if confirm and live and channel is not None:
            jobs += self._confirm(appointment, client, channel)
        if reminder is None:
            if wanted:
                assert channel is not None
                self._create(
                    ReminderData(
                        client_id=ClientId(client.id),
                        kind=ReminderKind.APPOINTMENT,
                        channel=channel,
                        due_at=due,
                        patient_id=PatientId(appointment.patient_id),
                        appointment_id=appointment.id,
                        dedupe_key=f"appointment:{appointment.id}",
                    )
                )
        elif reminder.state in (ReminderState.PENDING, ReminderState.FAILED):
            if not wanted:
                self.services.reminders.set_state(ReminderId(reminder.id), ReminderState.CANCELLED)
            elif reminder.due_at != due:
                self.services.reminders.update(ReminderId(reminder.id), {"due_at": due})
        return jobs

    def schedule(self, reminder_id: int) -> list[str]:
        """A pending reminder gets its send job at its due time; older jobs are revoked."""
        with self._sessions() as session:
            reminder = session.get(Reminder, reminder_id)
        if reminder is None:
            return []
        prefix = f"reminder:{reminder_id}:"
        keep: str | None = None
        jobs: list[str] = []
        if reminder.state is ReminderState.PENDING:
            due = reminder.due_at.astimezone(dt.UTC)
            keep = prefix + due.isoformat()
            job_id = self.platform.enqueue(
                REMINDERS,
                SEND,
                reminder.id,
                due.isoformat(),
                record={
                    "client": reminder.client_id,
                    "patient": reminder.patient_id,
                    "appointment": reminder.appointment_id,
                    "invoice": reminder.invoice_id,
                },
                idempotency_key=keep,
                eta=due,
            )
            jobs.append(job_id)
        self._revoke_other_jobs(prefix, keep)
        return jobs

    def _revoke_other_jobs(self, prefix: str, keep: str | None) -> None:
        from jobs.registry import JobRegistry

        pattern = prefix.replace("%", r"\%").replace("_", r"\_") + "%"
        with self.platform.engine.connect() as conn:
            stale = [
                row[0]
                for row in conn.execute(
                    sa.select(JOB.c.id).where(
                        JOB.c.idempotency_key.like(pattern, escape="\\"),
                        JOB.c.idempotency_key != (keep or ""),
                        JOB.c.state.in_(UNFINISHED_JOB_STATES),
                    )
                )
            ]
        if stale:
            JobRegistry(self.platform).revoke(stale)

    def _create(self, data: ReminderData) -> None:
        # Conflict: another handler run or scanner created it; the unique key decided.
        with contextlib.suppress(Conflict):
            self.services.reminders.create(data)

    # Sending ------------------------------------------------------------------------
    def send(self, reminder_id: int, due_iso: str, job: JobContext) -> str:
        """The task: re-read the reminder and send it, unless it is no longer needed."""
        with self._sessions() as session:
            reminder = session.get(Reminder, reminder_id)
            if reminder is None:
                return "skipped: reminder deleted"
            client = session.get(Client, reminder.client_id)
            patient = session.get(Patient, reminder.patient_id) if reminder.patient_id else None
            appointment = (
                session.get(Appointment, reminder.appointment_id)
                if reminder.appointment_id
                else None
            )
            vet = session.get(Staff, appointment.vet_id) if appointment is not None else None
            vaccination = (
                session.get(Vaccination, reminder.vaccination_id)
                if reminder.vaccination_id
                else None
            )
        assert client is not None
        if reminder.state is not ReminderState.PENDING:
            return f"skipped: reminder {reminder.state.value}"
        if reminder.due_at.astimezone(dt.UTC).isoformat() != due_iso:
            return "skipped: reminder moved to " + reminder.due_at.isoformat()
        now = self.clock()
        if appointment is not None and reminder.kind is ReminderKind.APPOINTMENT:
            if appointment.status not in ACTIVE:
                return self._skip(reminder, f"appointment {appointment.status.value}")
            if now >= appointment.starts_at:
                return self._skip(reminder, "appointment already started")
        channel = self._channel(client)
        if channel is None:
            return self._skip(reminder, "client cannot be reached (no contact or opted out)")
        patient_name = patient.name if patient is not None else ""
        if reminder.kind is ReminderKind.APPOINTMENT and appointment is not None:
            template = "appointment_reminder"
            subject = f"Reminder: {patient_name}'s appointment"
            context: dict[str, Any] = {
                "client_name": client.name,
                "patient_name": patient_name,
                "appointment_time": self.policy.format(appointment.starts_at),
            }
            if vet is not None:
                context["vet_name"] = vet.name
            text = (
                f"Reminder: {patient_name} has an appointment at "
                f"{self.policy.format(appointment.starts_at)}."
            )
        elif reminder.kind is ReminderKind.VACCINATION and vaccination is not None:
            template = "vaccination_due"
            subject = f"{patient_name} is due a vaccination"
            due_date = vaccination.next_due_on.isoformat() if vaccination.next_due_on else ""
            context = {
                "client_name": client.name,
                "patient_name": patient_name,
                "vaccine": vaccination.vaccine,
                "due_date": due_date,
            }
            text = f"{patient_name} is due the {vaccination.vaccine} vaccination on {due_date}."
        else:
            template = "client_reminder"
            subject = _SUBJECTS.get(reminder.kind, "A reminder from the clinic")
            text = reminder.message or subject
            context = {"client_name": client.name, "message": text, "patient_name": patient_name}
        key = f"reminder:{reminder.id}:{due_iso}"
        try:
            if channel is ReminderChannel.EMAIL:
                sent = self._email(client, subject, template, context, key, reminder)
            else:
                sent = self._sms(client, text, key)
        except (ValueError, PermanentError) as exc:
            self.services.reminders.set_state(ReminderId(reminder.id), "failed", error=str(exc))
            raise PermanentError(f"reminder {reminder.id}: {exc}") from exc
        self.services.reminders.set_state(ReminderId(reminder.id), ReminderState.SENT)
        return f"sent by {channel.value}: {sent}"

    def _channel(self, client: Client) -> ReminderChannel | None:
        """The client's preferred channel, if they have the address for it and did not opt
        out of it (read now, so an opt-out made after a reminder was scheduled holds)."""
        if not client.active:
            return None
        if client.preferred_contact is ContactChannel.EMAIL and client.email:
            channel = ReminderChannel.EMAIL
        elif client.preferred_contact is ContactChannel.SMS and client.phones:
            channel = ReminderChannel.SMS
        else:
            return None
        opted_out = self.services.notifications.opted_out(ClientId(client.id))
        if NotificationChannel(channel.value) in opted_out:
            return None
        return channel

    def _skip(self, reminder: Reminder, reason: str) -> str:
        with contextlib.suppress(ValidationError, NotFound):  # changed meanwhile: nothing to do
            self.services.reminders.set_state(ReminderId(reminder.id), ReminderState.CANCELLED)
        return f"skipped: {reason}"

    def _email(
        self,
        client: Client,
        subject: str,
        template: str,
        context: dict[str, Any],
        key: str,
        reminder: Reminder | None = None,
    ) -> str:
        service = self.platform.services.get("email")
        if service is None:
            raise PermanentError("email: the email job family is not registered")
        record: dict[str, int | None] = {"client": client.id}
        if reminder is not None:
            record |= {"patient": reminder.patient_id, "appointment": reminder.appointment_id}
        job_id: str = service.queue(
            client.email or "", subject, template, context, idempotency_key=key, record=record
        )
        return f"email job {job_id}"

    def _sms(self, client: Client, text: str, key: str) -> str:
        gateway = self.platform.services.get("sms")
        if gateway is None:
            raise PermanentError("sms: no SMS gateway is configured")
        number = client.phones[0].number if client.phones else ""
        result: str = gateway.queue(number, text, idempotency_key=key)
        return f"sms job {result}"

    def _confirm(
        self, appointment: Appointment, client: Client, channel: ReminderChannel
    ) -> list[str]:
        with self._sessions() as session:
            patient = session.get(Patient, appointment.patient_id)
            vet = session.get(Staff, appointment.vet_id)
        patient_name = patient.name if patient is not None else ""
        when = self.policy.format(appointment.starts_at)
        key = f"confirm:appointment:{appointment.id}"
        if channel is ReminderChannel.EMAIL:
            context: dict[str, Any] = {
                "client_name": client.name,
                "patient_name": patient_name,
                "appointment_time": when,
            }
            if vet is not None:
                context["vet_name"] = vet.name
            service = self.platform.services["email"]
            job_id: str = service.queue(
                client.email or "",
                f"Appointment booked for {patient_name}",
                "appointment_confirmation",
                context,
                idempotency_key=key,
                record={"client": client.id, "appointment": appointment.id},
            )
            return [job_id]
        text = f"Booked: {patient_name} on {when}."
        return [self._sms(client, text, key).removeprefix("sms job ")]

    # The scan -----------------------------------------------------------------------
    def scan(self, slot: str, job: JobContext | None = None) -> str:
        """The task: create the reminders that have fallen due (each once, whoever scans)."""
        created = self.scan_once()
        return f"scan {slot}: created {created}"

    def scan_once(self) -> int:
        """Create every reminder the clinic data calls for now; returns how many were new."""
        now = self.clock()
        today = now.astimezone(self.policy.zone).date()
        created = 0
        for data in self._due(now, today):
            try:
                self.services.reminders.create(data)
            except Conflict:
                continue  # another scanner was first: the unique dedupe key decided
            except ValidationError as exc:
                log.info("reminder %s not created: %s", data.dedupe_key, exc)
                continue
            created += 1
        return created

    def _due(self, now: dt.datetime, today: dt.date) -> Iterable[ReminderData]:
        reachable = sa.and_(
            Client.active.is_(True),
            Client.preferred_contact != ContactChannel.NONE,
            Patient.active.is_(True),
            Patient.deceased.is_(False),
        )

        def none_yet(kind: ReminderKind, column: Any, target: Any) -> sa.ColumnElement[bool]:
            return ~sa.exists().where(Reminder.kind == kind, column == target)

        with self._sessions() as session:
            vaccinations = session.execute(
                sa.select(Vaccination, Patient.client_id, Client.preferred_contact)
                .join(Patient, Patient.id == Vaccination.patient_id)
                .join(Client, Client.id == Patient.client_id)
                .where(
                    Vaccination.next_due_on >= today - dt.timedelta(days=30),
                    Vaccination.next_due_on <= today + dt.timedelta(days=7),
                    reachable,
                    none_yet(ReminderKind.VACCINATION, Reminder.vaccination_id, Vaccination.id),
                )
            ).all()
            refills = session.execute(
                sa.select(Prescription, Patient.client_id, Client.preferred_contact)
                .join(Patient, Patient.id == Prescription.patient_id)
                .join(Client, Client.id == Patient.client_id)
                .where(
                    Prescription.refills > 0,
                    Prescription.ends_on >= today,
                    Prescription.ends_on <= today + dt.timedelta(days=3),
                    reachable,
                    none_yet(ReminderKind.MEDICATION, Reminder.prescription_id, Prescription.id),
                )
            ).all()
            follow_ups = session.execute(
                sa.select(Appointment, Client.preferred_contact)
                .join(Patient, Patient.id == Appointment.patient_id)
                .join(Client, Client.id == Appointment.client_id)
                .where(
                    Appointment.status == AppointmentStatus.COMPLETED,
                    Appointment.type.in_(FOLLOW_UP_TYPES),
                    Appointment.completed_at >= now - dt.timedelta(days=14),
                    reachable,
                    none_yet(ReminderKind.FOLLOW_UP, Reminder.appointment_id, Appointment.id),
                )
            ).all()
            overdue = session.execute(
                sa.select(Invoice, Client.preferred_contact)
                .join(Client, Client.id == Invoice.client_id)
                .where(
                    Invoice.status == InvoiceStatus.OPEN,
                    Invoice.balance > 0,
                    Invoice.due_on < today,
                    Client.active.is_(True),
                    Client.preferred_contact != ContactChannel.NONE,
                    none_yet(ReminderKind.PAYMENT, Reminder.invoice_id, Invoice.id),
                )
            ).all()
        at = self.policy.hour
        for vaccination, client_id, contact in vaccinations:
            assert vaccination.next_due_on is not None
            yield ReminderData(
                client_id=ClientId(client_id),
                kind=ReminderKind.VACCINATION,
                channel=contact.value,
                due_at=max(now, self.policy.local(vaccination.next_due_on - _WEEK, at)),
                patient_id=PatientId(vaccination.patient_id),
                vaccination_id=vaccination.id,
                dedupe_key=f"vaccination:{vaccination.id}:{vaccination.next_due_on}",
            )
        for prescription, client_id, contact in refills:
            yield ReminderData(
                client_id=ClientId(client_id),
                kind=ReminderKind.MEDICATION,
                channel=contact.value,
                due_at=now,
                message=(
                    f"The {prescription.medication} prescription runs out on "
                    f"{prescription.ends_on}; {prescription.refills} refill(s) remain. "
                    "Please let us know if you need more."
                ),
                patient_id=PatientId(prescription.patient_id),
                prescription_id=prescription.id,
                dedupe_key=f"medication:{prescription.id}:{prescription.ends_on}",
            )
        for appointment, contact in follow_ups:
            assert appointment.completed_at is not None
            day = appointment.completed_at.astimezone(self.policy.zone).date() + _WEEK
            yield ReminderData(
                client_id=ClientId(appointment.client_id),
                kind=ReminderKind.FOLLOW_UP,
                channel=contact.value,
                due_at=max(now, self.policy.local(day, at)),
                message="It is time for a follow-up check after the recent treatment.",
                patient_id=PatientId(appointment.patient_id),
                appointment_id=appointment.id,
                dedupe_key=f"follow_up:{appointment.id}",
            )
        for invoice, contact in overdue:
            yield ReminderData(
                client_id=ClientId(invoice.client_id),
                kind=ReminderKind.PAYMENT,
                channel=contact.value,
                due_at=now,
                message=(
                    f"Invoice {invoice.number} was due on {invoice.due_on}; "
                    f"{invoice.balance} is outstanding."
                ),
                patient_id=None if invoice.patient_id is None else PatientId(invoice.patient_id),
                invoice_id=invoice.id,
                dedupe_key=f"payment:{invoice.id}:{invoice.due_on}",
            )

    def enqueue_scan(self, interval: float) -> JobId:
        """The scan of the current slot (one per slot cluster-wide, whoever asks)."""
        slot = int(time.time() // interval)
        return self.platform.enqueue(
            REMINDERS, SCAN, str(slot), idempotency_key=f"reminders.scan:{interval:g}:{slot}"
        )


_WEEK = dt.timedelta(days=7)
_SUBJECTS = {
    ReminderKind.MEDICATION: "Time to refill a prescription",
    ReminderKind.FOLLOW_UP: "Time for a follow-up check",
    ReminderKind.PAYMENT: "An invoice is overdue",
}


class ScanTrigger:
    """Enqueues the reminder scan at start and every ``interval`` seconds (a thread).

    Every app and worker runs one; the slot in the idempotency key makes it one scan job
    per slot cluster-wide, and the reminders' unique keys make a duplicate scan harmless.
    """

    def __init__(self, service: ReminderJobs, interval: float = 300.0) -> None:
        self.service = service
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="reminders-scan", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            try:
                self.service.enqueue_scan(self.interval)
            except Exception:
                log.exception("could not enqueue the reminder scan; trying again next slot")
            wait = self.interval - (time.time() % self.interval) + 0.01
            if self._stop.wait(wait):
                return


def register(
    platform: JobPlatform,
    services: Services,
    handlers: EventHandlers,
    policy: ReminderPolicy,
    clock: Callable[[], dt.datetime] = utcnow,
) -> ReminderJobs:
    """Add ``reminders.send``/``reminders.scan`` and the ``reminders`` durable handler."""
    service = ReminderJobs(platform, services, policy, clock)
    platform.register(TaskSpec(SEND, service.send, REMINDERS, context=True))
    platform.register(
        TaskSpec(SCAN, service.scan, REMINDERS, policy=RetryPolicy(max_attempts=2), context=True)
    )
    handlers.add(
        DurableHandler(
            "reminders",
            (
                "appointment.booked",
                "appointment.rescheduled",
                "appointment.status_changed",
                "reminder.created",
                "reminder.updated",
            ),
            service.on_event,
        )
    )
    platform.services["reminders"] = service
    return service
