"""Reminders: bookings confirm now and remind before; moves move, cancels revoke, scans once."""

from __future__ import annotations

import contextlib
import datetime as dt
import subprocess
import sys
import textwrap
import threading
import time
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

import purplecross_desktop.database.models  # noqa: F401  (every table on Base.metadata)
from jobs import event_dispatch
from jobs.email import EmailService, SmtpConfig
from jobs.email_templates import ClinicInfo
from jobs.event_dispatch import DispatchTrigger, EventDispatcher, EventHandlers
from jobs.platform import JobPlatform, TaskSpec
from jobs.policy import RetryPolicy
from jobs.queues import EMAIL
from jobs.registry import JobRegistry
from jobs.reminders import ReminderJobs, ReminderPolicy, register
from jobs.sms import LogSmsGateway
from jobs.sms import register as register_sms
from purplecross_desktop.database import make_session_factory
from purplecross_desktop.database.base import ClientId, PatientId, RoomId, StaffId, utcnow
from purplecross_desktop.domain.appointments import Booking
from purplecross_desktop.domain.billing import InvoiceData, LineData
from purplecross_desktop.domain.clients import ClientData, Phone
from purplecross_desktop.domain.events import EventBus
from purplecross_desktop.domain.medical import VaccinationData
from purplecross_desktop.domain.patients import PatientData
from purplecross_desktop.domain.reminders import Reminder
from purplecross_desktop.domain.staff import StaffData, StaffRole
from purplecross_desktop.services import Services, build_services
from tests.jobs.conftest import Harness, wait_until
from tests.jobs.smtp_server import SmtpServer

ROOT = Path(__file__).resolve().parents[2]
CLINIC = ClinicInfo("Purple Cross Vets", "1 High Street", "555-0100")
FAST = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.1, jitter=0)
LONDON = zoneinfo.ZoneInfo("Europe/London")


# --- when reminders are due ----------------------------------------------------------


def test_the_default_is_24_hours_before() -> None:
    starts = dt.datetime(2031, 3, 4, 10, 30, tzinfo=dt.UTC)
    assert ReminderPolicy().due_for(starts) == dt.datetime(2031, 3, 3, 10, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("appointment_local", "reminder_utc"),
    [
        # Saturday 29 March 2031 is still GMT: 09:00 local is 09:00 UTC.
        (dt.datetime(2031, 3, 30, 10, 0), dt.datetime(2031, 3, 29, 9, 0, tzinfo=dt.UTC)),
        # Sunday 30 March, the clocks go forward at 01:00: 09:00 BST is 08:00 UTC.
        (dt.datetime(2031, 3, 31, 10, 0), dt.datetime(2031, 3, 30, 8, 0, tzinfo=dt.UTC)),
        # Sunday 26 October, back to GMT: 09:00 local is 09:00 UTC again.
        (dt.datetime(2031, 10, 27, 10, 0), dt.datetime(2031, 10, 26, 9, 0, tzinfo=dt.UTC)),
    ],
)
def test_nine_the_day_before_stays_nine_local_across_daylight_saving(
    appointment_local: dt.datetime, reminder_utc: dt.datetime
) -> None:
    policy = ReminderPolicy(at_time=dt.time(9, 0), zone=LONDON)
    due = policy.due_for(appointment_local.replace(tzinfo=LONDON))
    assert due == reminder_utc
    assert due.astimezone(LONDON).time() == dt.time(9, 0)


def test_a_reminder_time_the_clocks_skip_moves_forward_by_the_gap() -> None:
    policy = ReminderPolicy(at_time=dt.time(1, 30), zone=LONDON)
    due = policy.due_for(dt.datetime(2031, 3, 31, 10, 0, tzinfo=LONDON))
    assert due == dt.datetime(2031, 3, 30, 1, 30, tzinfo=dt.UTC)  # 02:30 BST


# --- a clinic on the job platform ----------------------------------------------------


@dataclass
class Stack:
    platform: JobPlatform
    services: Services
    reminders: ReminderJobs
    dispatcher: EventDispatcher
    smtp: SmtpServer
    registry: JobRegistry

    def vet_room(self) -> tuple[int, int]:
        vet = self.services.staff.create(
            StaffData(name="Dr Who", role=StaffRole.VETERINARIAN, login=f"v{time.time_ns()}"),
            "correct horse",
        )
        return vet.id, self.services.rooms.create(f"Room {time.time_ns()}").id

    def patient(self, name: str, contact: str = "email") -> int:
        client = self.services.clients.create(
            ClientData(
                name=f"{name} Owner",
                email=f"{name.lower()}@example.org",
                phones=[Phone("+447700900123")] if contact == "sms" else [],
                preferred_contact=contact,
            )
        )
        return self.services.patients.create(
            PatientData(client_id=client.id, name=name, species="dog")
        ).id

    def book(self, patient: int, vet_room: tuple[int, int], starts: dt.datetime) -> int:
        booking = Booking(
            PatientId(patient),
            StaffId(vet_room[0]),
            RoomId(vet_room[1]),
            starts,
            starts + dt.timedelta(minutes=15),
        )
        return self.services.appointments.book(booking).id

    def subjects(self) -> list[str]:
        with self.smtp.inbox.lock:
            return [str(m["Subject"]) for m in self.smtp.inbox.messages]

    def reminder_of(self, appointment: int) -> Reminder | None:
        with make_session_factory(self.platform.engine)() as session:
            return session.scalar(sa.select(Reminder).where(Reminder.appointment_id == appointment))


@contextlib.contextmanager
def _stack(
    harness: Harness,
    smtp: SmtpServer,
    clock: Callable[[], dt.datetime] = utcnow,
    *,
    run: bool = True,
) -> Iterator[Stack]:
    platform = harness.platform()
    email = EmailService(
        platform,
        SmtpConfig(host="127.0.0.1", port=smtp.port, tls="none", timeout=5),
        CLINIC,
    )
    platform.register(TaskSpec("email.send", email.send, EMAIL, policy=FAST, context=True))
    platform.services["email"] = email
    services = build_services(make_session_factory(harness.engine), EventBus("desk-1"))
    handlers = EventHandlers()
    reminders = register(platform, services, handlers, ReminderPolicy(), clock)
    dispatch = event_dispatch.register(platform, handlers, horizon=1.0)
    trigger = DispatchTrigger(dispatch, poll_interval=0.5)
    if run:
        harness.runner(platform)
        trigger.attach(services.events)
    try:
        yield Stack(platform, services, reminders, dispatch.dispatcher, smtp, JobRegistry(platform))
    finally:
        trigger.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def exits() -> Iterator[contextlib.ExitStack]:
    with contextlib.ExitStack() as stack:
        yield stack


@pytest.fixture
def stack(any_db_harness: Harness, smtp: SmtpServer) -> Iterator[Stack]:
    with _stack(any_db_harness, smtp) as built:
        yield built


@pytest.mark.slow
def test_a_day_of_bookings_sends_exactly_the_right_messages(stack: Stack) -> None:
    """The day compressed: appointments 24 h + a few seconds ahead, so their reminders
    (24 h before) fall due a few seconds from now on the real clock the queue runs on."""
    ada, bob, cat, dan, eve = (
        stack.patient("Ada"),
        stack.patient("Bob"),
        stack.patient("Cat"),
        stack.patient("Dan"),
        stack.patient("Eve", contact="none"),
    )
    desks = [stack.vet_room() for _ in range(5)]  # these slots overlap: one vet and room each
    day = dt.timedelta(hours=24)
    t0 = utcnow()
    kept = stack.book(ada, desks[0], t0 + day + dt.timedelta(seconds=10))
    moved = stack.book(bob, desks[1], t0 + day + dt.timedelta(seconds=11))
    cancelled = stack.book(cat, desks[2], t0 + day + dt.timedelta(seconds=12))
    soon = stack.book(dan, desks[3], t0 + dt.timedelta(hours=3))  # sooner than the lead
    stack.book(eve, desks[4], t0 + day + dt.timedelta(seconds=13))  # opted out of contact

    # Confirmations now, on each client's preferred channel (email), none for Eve.
    wait_until(lambda: len(stack.subjects()) >= 4, timeout=20)
    assert sorted(stack.subjects()) == sorted(
        f"Appointment booked for {name}" for name in ("Ada", "Bob", "Cat", "Dan")
    )
    wait_until(lambda: stack.reminder_of(cancelled) is not None, timeout=10)
    assert stack.reminder_of(soon) is None
    stack.services.appointments.reschedule(
        moved, t0 + day + dt.timedelta(seconds=18), t0 + day + dt.timedelta(seconds=900)
    )
    stack.services.appointments.cancel(cancelled, "owner rang")
    wait_until(lambda: stack.reminder_of(cancelled).state.value == "cancelled", timeout=10)  # type: ignore[union-attr]
    wait_until(
        lambda: stack.reminder_of(moved).due_at == t0 + dt.timedelta(seconds=18),  # type: ignore[union-attr]
        timeout=10,
    )

    # Ada's reminder at +10 s; Bob's not at +11 s but at +18 s; none for Cat.
    wait_until(lambda: "Reminder: Ada's appointment" in stack.subjects(), timeout=20)
    assert utcnow() >= t0 + dt.timedelta(seconds=10)
    assert "Reminder: Bob's appointment" not in stack.subjects()
    wait_until(lambda: "Reminder: Bob's appointment" in stack.subjects(), timeout=20)
    assert utcnow() >= t0 + dt.timedelta(seconds=18)
    time.sleep(2.0)  # nothing else trickles in
    subjects = stack.subjects()
    assert len(subjects) == 6
    assert sorted(s for s in subjects if s.startswith("Reminder")) == [
        "Reminder: Ada's appointment",
        "Reminder: Bob's appointment",
    ]
    assert stack.reminder_of(kept).state.value == "sent"  # type: ignore[union-attr]
    # The cancelled appointment's reminder job was revoked, not left to fire.
    cancelled_reminder = stack.reminder_of(cancelled)
    assert cancelled_reminder is not None
    jobs = stack.registry.search(task="reminders.send", record={"appointment": cancelled})
    assert [j.state for j in jobs] == ["revoked"]


def test_a_reminder_re_reads_its_appointment_and_never_sends_late(
    any_db_harness: Harness, smtp: SmtpServer, exits: contextlib.ExitStack
) -> None:
    now = [utcnow()]
    stack = exits.enter_context(_stack(any_db_harness, smtp, clock=lambda: now[0], run=False))
    vet_room = stack.vet_room()
    first = stack.book(stack.patient("Ada"), vet_room, now[0] + dt.timedelta(hours=30))
    second = stack.book(stack.patient("Bob"), vet_room, now[0] + dt.timedelta(hours=31))
    stack.dispatcher.dispatch()
    stack.dispatcher.dispatch()  # reminder.created → the send jobs
    one, two = stack.reminder_of(first), stack.reminder_of(second)
    assert one is not None
    assert two is not None
    # Cancelled on a desk whose event no handler has seen yet: the job still skips.
    stack.services.appointments.cancel(first)
    due = one.due_at.isoformat()
    assert stack.reminders.send(one.id, due, job=None) == "skipped: appointment cancelled"  # type: ignore[arg-type]
    assert stack.reminder_of(first).state.value == "cancelled"  # type: ignore[union-attr]
    # A job that runs after the start (a worker was down all day) sends nothing.
    now[0] += dt.timedelta(hours=32)
    result = stack.reminders.send(two.id, two.due_at.isoformat(), job=None)  # type: ignore[arg-type]
    assert result == "skipped: appointment already started"
    # A job whose reminder was moved meanwhile leaves it to the newer job.
    assert stack.reminders.send(two.id, "2031-01-01T00:00:00+00:00", job=None).startswith(  # type: ignore[arg-type]
        "skipped: reminder"
    )
    stack.platform.writer.flush()
    assert smtp.inbox.messages == []


BOOK_AND_DIE = textwrap.dedent(
    """
    import datetime as dt, os, sys
    import purplecross_desktop.database.models
    from purplecross_desktop.database import make_engine, make_session_factory
    from purplecross_desktop.database.base import PatientId, RoomId, StaffId, utcnow
    from purplecross_desktop.domain.appointments import Booking
    from purplecross_desktop.domain.events import EventBus
    from purplecross_desktop.services import build_services

    services = build_services(make_session_factory(make_engine(sys.argv[1])), EventBus("desk-2"))
    vet, room, patient = (int(x) for x in sys.argv[2:5])
    starts = utcnow() + dt.timedelta(hours=30)
    booking = Booking(
        PatientId(patient), StaffId(vet), RoomId(room), starts, starts + dt.timedelta(minutes=20)
    )
    print(services.appointments.book(booking).id, flush=True)
    os._exit(0)  # the app is killed right after the commit
    """
)


def test_an_app_killed_right_after_a_booking_still_gets_its_reminder(
    any_db_harness: Harness, smtp: SmtpServer, exits: contextlib.ExitStack
) -> None:
    setup = build_services(make_session_factory(any_db_harness.engine), EventBus("setup"))
    vet = setup.staff.create(
        StaffData(name="Dr Who", role=StaffRole.VETERINARIAN, login="who"), "correct horse"
    )
    room = setup.rooms.create("Room 1")
    client = setup.clients.create(
        ClientData(name="Ada", email="ada@example.org", preferred_contact="email")
    )
    patient = setup.patients.create(PatientData(client_id=client.id, name="Rex", species="dog"))
    url = any_db_harness.engine.url.render_as_string(hide_password=False)
    died = subprocess.run(
        [sys.executable, "-c", BOOK_AND_DIE, url, str(vet.id), str(room.id), str(patient.id)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert died.returncode == 0, died.stderr
    appointment = int(died.stdout.strip())
    # Another app starts: its poll finds the event, the reminder is created and scheduled.
    stack = exits.enter_context(_stack(any_db_harness, smtp))
    wait_until(lambda: stack.reminder_of(appointment) is not None, timeout=20)
    reminder = stack.reminder_of(appointment)
    assert reminder is not None
    wait_until(
        lambda: (
            [
                j.state
                for j in stack.registry.search(
                    task="reminders.send", record={"appointment": appointment}
                )
            ]
            == ["scheduled"]
        ),
        timeout=20,
    )
    wait_until(lambda: stack.subjects() == ["Appointment booked for Rex"], timeout=20)


def test_two_scans_at_once_create_and_send_each_reminder_once(
    any_db_harness: Harness, smtp: SmtpServer, exits: contextlib.ExitStack
) -> None:
    stack = exits.enter_context(_stack(any_db_harness, smtp, run=False))
    vet_room = stack.vet_room()
    today = utcnow().date()
    patients = [stack.patient(f"Pet{n}") for n in range(6)]
    for n, patient in enumerate(patients):
        stack.services.medical.record_vaccination(
            VaccinationData(
                patient_id=PatientId(patient),
                vaccine="Rabies",
                given_on=today - dt.timedelta(days=365),
                next_due_on=today + dt.timedelta(days=n % 3),
                vet_id=StaffId(vet_room[0]),
            )
        )
    owner = stack.services.patients.get(PatientId(patients[0])).client_id
    stack.services.invoices.create(
        InvoiceData(
            client_id=ClientId(owner),
            issued_on=today - dt.timedelta(days=40),
            due_on=today - dt.timedelta(days=10),
            lines=[LineData("Consultation", 1, 40, 0)],
        )
    )
    other = build_services(make_session_factory(any_db_harness.engine), EventBus("desk-2"))
    scanners = [stack.reminders, ReminderJobs(stack.platform, other, ReminderPolicy())]
    counts: list[int] = []
    barrier = threading.Barrier(2)

    def scan(scanner: ReminderJobs) -> None:
        barrier.wait()
        counts.append(scanner.scan_once())

    threads = [threading.Thread(target=scan, args=(s,)) for s in scanners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 7  # six vaccinations and one overdue invoice, once each
    with any_db_harness.engine.connect() as conn:
        keys = conn.execute(sa.select(Reminder.dedupe_key, Reminder.kind)).all()
    assert len(keys) == 7
    assert sorted({k.value for _, k in keys}) == ["payment", "vaccination"]
    # Sending: the jobs run and each client gets one message per reminder.
    any_db_harness.runner(stack.platform)
    for _ in range(3):
        stack.dispatcher.dispatch()
    wait_until(lambda: len(stack.subjects()) == 7, timeout=30)
    time.sleep(1.0)
    assert len(stack.subjects()) == 7
    assert stack.reminders.scan_once() == 0  # a later scan finds nothing new


@pytest.mark.parametrize("contact", ["email", "sms"])
def test_an_owner_who_opted_out_of_their_channel_gets_no_confirmation_or_reminder(
    any_db_harness: Harness, smtp: SmtpServer, exits: contextlib.ExitStack, contact: str
) -> None:
    stack = exits.enter_context(_stack(any_db_harness, smtp, run=False))
    register_sms(stack.platform, LogSmsGateway())
    vet_room = stack.vet_room()
    opted = stack.patient("Ada", contact=contact)
    kept = stack.patient("Bob", contact=contact)
    ada = ClientId(stack.services.patients.get(PatientId(opted)).client_id)
    stack.services.notifications.set_opt_out(ada, contact)
    starts = utcnow() + dt.timedelta(hours=30)
    first = stack.book(opted, vet_room, starts)
    second = stack.book(kept, vet_room, starts + dt.timedelta(minutes=30))
    # Ada: no confirmation and no reminder on the channel she opted out of; Bob: both.
    assert stack.reminders.sync_appointment(first, confirm=True) == []
    assert stack.reminder_of(first) is None
    assert len(stack.reminders.sync_appointment(second, confirm=True)) == 1
    reminder = stack.reminder_of(second)
    assert reminder is not None
    # Bob opts out after his reminder was scheduled: when it runs, it sends nothing.
    bob = ClientId(stack.services.patients.get(PatientId(kept)).client_id)
    stack.services.notifications.set_opt_out(bob, contact)
    result = stack.reminders.send(reminder.id, reminder.due_at.isoformat(), job=None)  # type: ignore[arg-type]
    assert result == "skipped: client cannot be reached (no contact or opted out)"
    assert stack.reminder_of(second).state.value == "cancelled"  # type: ignore[union-attr]
