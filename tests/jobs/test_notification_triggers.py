"""The clinic's actions notify through durable events; dead jobs and idle queues alert admins."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest

from jobs import event_dispatch
from jobs.event_dispatch import EventDispatcher, EventHandlers
from jobs.notification_triggers import AlertPolicy, AlertWatcher, ClinicNotifications
from jobs.notification_triggers import register as register_triggers
from jobs.platform import TaskSpec
from jobs.policy import PermanentError, RetryPolicy
from jobs.queues import REPORTS
from purplecross_desktop.database.base import PatientId, RoomId, StaffId, utcnow
from purplecross_desktop.domain.appointments import Booking
from purplecross_desktop.domain.billing import InvoiceData, LineData, PaymentData
from purplecross_desktop.domain.patients import PatientData
from purplecross_desktop.domain.staff import StaffRole
from tests.jobs.conftest import Harness
from tests.jobs.sms_gateway import GatewayServer
from tests.jobs.smtp_server import SmtpServer
from tests.jobs.test_notifications import Stack, _build


class Clinic:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        handlers = EventHandlers()
        self.triggers: ClinicNotifications = register_triggers(
            handlers, stack.notifications, currency="£"
        )
        service = event_dispatch.register(stack.platform, handlers, horizon=1.0)
        self.dispatcher: EventDispatcher = service.dispatcher
        self.dispatcher.dispatch()  # the handler starts here: later events only

    def deliver(self) -> None:
        self.dispatcher.dispatch()
        self.stack.settled()

    def patient(self, owner: str, contact: str = "email") -> tuple[int, int]:
        client = self.stack.client(owner, contact)
        patient = self.stack.services.patients.create(
            PatientData(client_id=client, name="Rex", species="dog")
        )
        return client, patient.id

    def book(self, patient: int, starts: dt.datetime) -> int:
        services = self.stack.services
        vet = self.stack.staff(f"vet{time.time_ns()}", StaffRole.VETERINARIAN)
        room = services.rooms.create(f"Room {time.time_ns()}").id
        booking = Booking(
            PatientId(patient),
            StaffId(vet),
            RoomId(room),
            starts,
            starts + dt.timedelta(minutes=15),
        )
        return services.appointments.book(booking).id


@pytest.fixture
def clinic(any_db_harness: Harness) -> Iterator[Clinic]:
    with SmtpServer() as smtp, GatewayServer() as gateway:
        stack = _build(any_db_harness, smtp, gateway)
        stack.run()
        yield Clinic(stack)


def test_a_payment_tells_the_client_once(clinic: Clinic) -> None:
    client, patient = clinic.patient("Ann Payer")
    invoices = clinic.stack.services.invoices
    invoice = invoices.create(
        InvoiceData(client_id=client, patient_id=patient, lines=[LineData("Consult", 1, "60.00")]),
        payments=[PaymentData("20.00", "cash")],
    )
    invoices.add_payment(invoice.id, PaymentData("40.00", "card"))
    clinic.deliver()
    clinic.deliver()  # a second pass (another dispatcher) changes nothing
    with clinic.stack.smtp.inbox.lock:
        bodies = sorted(
            m.get_body(("plain",)).get_content() for m in clinic.stack.smtp.inbox.messages
        )  # type: ignore[union-attr]
    assert clinic.stack.emails() == [("ann.payer@example.org", "Payment received")] * 2
    assert "we received £20.00 for invoice" in bodies[0] + bodies[1]
    assert "The balance is £40.00." in bodies[0] + bodies[1]
    assert "we received £40.00" in bodies[0] + bodies[1]
    assert "paid in full" in bodies[0] + bodies[1]
    # The handler run again on the same event (at least once) makes no second job.
    assert clinic.triggers.payments(invoice.id) == clinic.triggers.payments(invoice.id)
    clinic.stack.settled()
    assert len(clinic.stack.emails()) == 2


def test_a_cancelled_appointment_tells_the_client_on_their_channel(clinic: Clinic) -> None:
    _client, patient = clinic.patient("Bo Texter", "sms")
    appointment = clinic.book(patient, utcnow() + dt.timedelta(days=2))
    clinic.stack.services.appointments.cancel(appointment, "owner rang")
    clinic.deliver()
    [(to, text)] = clinic.stack.texts()
    assert to == "07700900123"
    assert text.startswith("Appointment cancelled: Rex: Rex's appointment on ")


def test_a_client_is_not_told_about_a_booking_only_a_cancellation(clinic: Clinic) -> None:
    _client, patient = clinic.patient("Cy Quiet")
    clinic.book(patient, utcnow() + dt.timedelta(days=2))
    clinic.deliver()
    assert clinic.stack.emails() == []  # confirmations are the reminders family's


def test_events_before_the_handler_existed_notify_nobody(any_db_harness: Harness) -> None:
    with SmtpServer() as smtp, GatewayServer() as gateway:
        stack = _build(any_db_harness, smtp, gateway)
        stack.run()
        client = stack.client("Old Payer")
        stack.services.invoices.create(
            InvoiceData(client_id=client, lines=[LineData("Consult", 1, "10.00")]),
            payments=[PaymentData("10.00", "cash")],
        )
        clinic = Clinic(stack)  # the handler is new: the retained past is not news
        clinic.deliver()
        assert stack.emails() == []


# --- alerts to admins ---------------------------------------------------------------


def _failing(payload: dict[str, object]) -> None:
    raise PermanentError("the printer is on fire")


def test_a_dead_job_alerts_every_admin_once(clinic: Clinic) -> None:
    stack = clinic.stack
    admins = [stack.staff("root", StaffRole.ADMIN), stack.staff("ops", StaffRole.ADMIN)]
    desk = stack.staff("desk")
    smith = stack.client("Smith")
    stack.platform.register(
        TaskSpec("reminders.send", _failing, REPORTS, policy=RetryPolicy(max_attempts=1))
    )
    [dead] = stack.finished(
        [stack.platform.enqueue(REPORTS, "reminders.send", {}, record={"client": smith})]
    )
    assert dead.state == "dead"
    watcher = AlertWatcher(stack.platform, stack.notifications)
    assert len(watcher.check()) == 2  # one inbox row per admin
    assert watcher.check() == []  # this watcher has seen it
    # Another workstation's watcher finds the same dead job: no second row for anyone.
    assert AlertWatcher(stack.platform, stack.notifications).check() == []
    for admin in admins:
        [alert] = stack.services.notifications.inbox(admin)
        assert alert.title == "Reminder to Smith failed after 1 attempt"
        assert alert.message == "PermanentError: the printer is on fire"
        assert alert.important
        assert alert.link == f"job:{dead.id}"
    assert stack.services.notifications.unread_count(desk) == 0


def test_a_queue_without_workers_alerts_admins_once_an_hour(harness: Harness) -> None:
    """No worker runs at all here: the alert must not depend on the job system."""
    with SmtpServer() as smtp, GatewayServer() as gateway:
        stack = _build(harness, smtp, gateway)
        admin = stack.staff("root", StaffRole.ADMIN)
        stack.platform.register(TaskSpec("reports.noop", lambda: None, REPORTS))
        stack.platform.enqueue(REPORTS, "reports.noop")  # nobody serves reports
        watcher = AlertWatcher(stack.platform, stack.notifications, stall_after=dt.timedelta(0))
        assert len(watcher.idle_queues()) == 1
        assert watcher.idle_queues() == []  # the same hour: no second alert
        [alert] = stack.services.notifications.inbox(admin)
        assert alert.title == "Queue reports has no workers"
        assert alert.link == "queue:reports"
        assert alert.important
        stack.run()  # a worker starts and serves the queue: nothing more to say
        stack.settled()
        assert (
            AlertWatcher(
                stack.platform, stack.notifications, stall_after=dt.timedelta(0)
            ).idle_queues()
            == []
        )


def test_many_dead_jobs_of_one_task_are_one_alert_per_quiet_span(clinic: Clinic) -> None:
    stack = clinic.stack
    admin = stack.staff("root", StaffRole.ADMIN)
    stack.platform.register(
        TaskSpec("reminders.send", _failing, REPORTS, policy=RetryPolicy(max_attempts=1))
    )
    stack.platform.register(
        TaskSpec("reminders.scan", _failing, REPORTS, policy=RetryPolicy(max_attempts=1))
    )
    stack.finished([stack.platform.enqueue(REPORTS, "reminders.send", {}) for _ in range(5)])
    quiet = AlertPolicy(failures=0, quiet=dt.timedelta(minutes=5))
    watcher = AlertWatcher(stack.platform, stack.notifications, policy=quiet)
    assert len(watcher.check()) == 1  # five dead reminders: one alert
    stack.finished([stack.platform.enqueue(REPORTS, "reminders.send", {})])
    assert watcher.check() == []  # within the quiet span
    stack.finished([stack.platform.enqueue(REPORTS, "reminders.scan", {})])
    assert len(watcher.check()) == 1  # another cause: its own alert
    titles = sorted(a.title for a in stack.services.notifications.inbox(admin))
    assert titles == ["Reminder failed after 1 attempt", "Reminder scan failed after 1 attempt"]
    # Past the quiet span, the task's next dead job is news again.
    restless = AlertWatcher(
        stack.platform, stack.notifications, policy=AlertPolicy(failures=0, quiet=dt.timedelta(0))
    )
    stack.finished([stack.platform.enqueue(REPORTS, "reminders.send", {})])
    assert len(restless.dead_jobs()) >= 1


def test_a_burst_of_failures_alerts_once_and_can_be_turned_off(clinic: Clinic) -> None:
    stack = clinic.stack
    admin = stack.staff("root", StaffRole.ADMIN)
    stack.platform.register(
        TaskSpec("reports.flaky", _failing, REPORTS, policy=RetryPolicy(max_attempts=1))
    )
    stack.finished([stack.platform.enqueue(REPORTS, "reports.flaky", {}) for _ in range(2)])
    off = AlertWatcher(stack.platform, stack.notifications, policy=AlertPolicy(failures=0))
    assert off.failure_burst() == []
    three = AlertWatcher(stack.platform, stack.notifications, policy=AlertPolicy(failures=3))
    assert three.failure_burst() == []  # two failures: under the threshold
    stack.finished([stack.platform.enqueue(REPORTS, "reports.flaky", {})])
    assert len(three.failure_burst()) == 1
    assert three.failure_burst() == []  # one alert per quiet span
    assert (
        AlertWatcher(
            stack.platform, stack.notifications, policy=AlertPolicy(failures=3)
        ).failure_burst()
        == []
    )  # nor from another workstation's watcher
    [alert] = [
        a for a in stack.services.notifications.inbox(admin) if a.title.endswith("10 minutes")
    ]
    assert alert.title == "3 job failures in the last 10 minutes"
    assert alert.important
    assert alert.link == "queue:"
