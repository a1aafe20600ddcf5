"""Notifications: channel per preference and opt-out, SMS and email for real, expiry, bulk
fan-out, bad input refused at enqueue, in-app inboxes with read state per staff member."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

import purplecross_desktop.database.models  # noqa: F401  (every table on Base.metadata)
from jobs.email import EmailService, SmtpConfig
from jobs.email_templates import ClinicInfo
from jobs.models import Job
from jobs.notifications import NotificationJobs, Recipient
from jobs.notifications import register as register_notifications
from jobs.platform import JobPlatform, TaskSpec
from jobs.policy import RetryPolicy
from jobs.queues import EMAIL
from jobs.registry import JobRecord, JobRegistry
from jobs.sms import HttpSmsGateway
from jobs.sms import register as register_sms
from purplecross_desktop.database import make_session_factory
from purplecross_desktop.database.base import ClientId, StaffId, utcnow
from purplecross_desktop.domain.clients import ClientData, Phone
from purplecross_desktop.domain.errors import ValidationError
from purplecross_desktop.domain.events import EventBus
from purplecross_desktop.domain.notifications import NotificationService
from purplecross_desktop.domain.staff import StaffData, StaffRole
from purplecross_desktop.services import Services, build_services
from tests.jobs.conftest import Harness, wait_until
from tests.jobs.sms_gateway import GatewayServer
from tests.jobs.smtp_server import SmtpServer

FAST = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.1, jitter=0)


class Clock:
    """utcnow() plus a shift the test moves."""

    def __init__(self) -> None:
        self.shift = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return utcnow() + self.shift


@dataclass
class Stack:
    harness: Harness
    platform: JobPlatform
    services: Services
    notifications: NotificationJobs
    smtp: SmtpServer
    gateway: GatewayServer
    clock: Clock

    def client(
        self, name: str, contact: str = "email", phone: str | None = "07700900123"
    ) -> ClientId:
        client = self.services.clients.create(
            ClientData(
                name=name,
                email=f"{name.lower().replace(' ', '.')}@example.org",
                phones=[Phone(phone)] if phone else [],
                preferred_contact=contact,
            )
        )
        return ClientId(client.id)

    def staff(self, login: str, role: StaffRole = StaffRole.FRONT_DESK) -> StaffId:
        member = self.services.staff.create(
            StaffData(name=login.title(), role=role, login=login, email=f"{login}@clinic.example"),
            "correct horse",
        )
        return StaffId(member.id)

    def run(self) -> None:
        self.harness.runner(self.platform)

    def finished(self, job_ids: list[str], timeout: float = 20) -> list[JobRecord]:
        registry = JobRegistry(self.platform)

        def done() -> list[JobRecord] | None:
            jobs = [registry.get(j).job for j in job_ids]
            return jobs if all(j.state in ("completed", "dead") for j in jobs) else None

        records: list[JobRecord] = wait_until(done, timeout=timeout)
        return records

    def settled(self) -> None:
        """Every job on the platform (children included) has finished."""

        def idle() -> bool:
            with self.platform.engine.connect() as conn:
                return not conn.execute(
                    sa.select(Job.id).where(Job.state.not_in(["completed", "dead", "revoked"]))
                ).first()

        wait_until(idle, timeout=20)

    def emails(self) -> list[tuple[str, str]]:
        with self.smtp.inbox.lock:
            return [(str(m["To"]), str(m["Subject"])) for m in self.smtp.inbox.messages]

    def texts(self) -> list[tuple[str, str]]:
        return [(r.body["to"], r.body["text"]) for r in self.gateway.received()]

    def job_count(self) -> int:
        with self.platform.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(Job)).scalar_one())


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def gateway() -> Iterator[GatewayServer]:
    with GatewayServer() as server:
        yield server


def _build(harness: Harness, smtp: SmtpServer, gateway: GatewayServer) -> Stack:
    platform = harness.platform()
    email = EmailService(
        platform,
        SmtpConfig(host="127.0.0.1", port=smtp.port, tls="none", timeout=5),
        ClinicInfo("Purple Cross Vets", "1 High Street", "555-0100"),
    )
    platform.register(TaskSpec("email.send", email.send, EMAIL, policy=FAST, context=True))
    platform.services["email"] = email
    register_sms(platform, HttpSmsGateway(gateway.url, "token"), FAST)
    services = build_services(make_session_factory(harness.engine), EventBus("desk-1"))
    clock = Clock()
    notifications = register_notifications(platform, services, clock, FAST)
    return Stack(harness, platform, services, notifications, smtp, gateway, clock)


@pytest.fixture
def stack(harness: Harness, smtp: SmtpServer, gateway: GatewayServer) -> Stack:
    return _build(harness, smtp, gateway)


@pytest.fixture
def any_db_stack(any_db_harness: Harness, smtp: SmtpServer, gateway: GatewayServer) -> Stack:
    return _build(any_db_harness, smtp, gateway)


# --- channels ------------------------------------------------------------------------


def test_each_client_gets_their_preferred_channel(any_db_stack: Stack) -> None:
    stack = any_db_stack
    ann = stack.client("Ann Email", "email")
    bob = stack.client("Bob Sms", "sms", phone="+44 7700 900456")
    cas = stack.client("Cas None", "none")
    stack.run()
    jobs = stack.notifications.queue(
        "payment_received",
        [f"client:{ann}", f"client:{bob}", f"client:{cas}"],
        "Payment received",
        "Thank you: we received 45.00 for invoice 2031-000012.",
    )
    records = stack.finished(jobs)
    stack.settled()
    assert stack.emails() == [("ann.email@example.org", "Payment received")]
    assert stack.texts() == [
        ("+447700900456", "Payment received: Thank you: we received 45.00 for invoice 2031-000012.")
    ]
    assert records[2].result_summary == "skipped: client prefers no contact"
    assert [r.client_id for r in records] == [ann, bob, cas]  # each job links to its client


def test_a_client_who_opted_out_of_a_channel_is_never_sent_on_it(stack: Stack) -> None:
    dee = stack.client("Dee", "sms")
    stack.services.notifications.set_opt_out(dee, "sms")
    stack.run()
    asked_for_both = stack.notifications.queue(
        "invoice_due", f"client:{dee}", "Invoice due", "Invoice 7 is due.", ["email", "sms"]
    )
    preferred = stack.notifications.queue(
        "invoice_due", f"client:{dee}", "Invoice due", "Invoice 8 is due."
    )
    first, second = stack.finished(asked_for_both + preferred)
    stack.settled()
    assert stack.texts() == []
    assert stack.emails() == [("dee@example.org", "Invoice due")]
    assert "sms skipped: client opted out" in (first.result_summary or "")
    assert second.result_summary == "sms skipped: client opted out"


def test_an_opt_out_made_after_enqueue_still_holds_when_the_job_runs(stack: Stack) -> None:
    eve = stack.client("Eve", "email")
    jobs = stack.notifications.queue("appointment_cancelled", f"client:{eve}", "Cancelled", "x")
    stack.services.notifications.set_opt_out(eve, "email")  # before any worker runs it
    stack.run()
    [record] = stack.finished(jobs)
    stack.settled()
    assert stack.emails() == []
    assert record.result_summary == "email skipped: client opted out"


def test_opting_back_in_sends_again(stack: Stack) -> None:
    fay = stack.client("Fay", "email")
    stack.services.notifications.set_opt_out(fay, "email")
    stack.services.notifications.set_opt_out(fay, "email", opted_out=False)
    assert stack.services.notifications.opted_out(fay) == frozenset()
    stack.run()
    stack.finished(stack.notifications.queue("prescription_ready", f"client:{fay}", "Ready", "x"))
    stack.settled()
    assert stack.emails() == [("fay@example.org", "Ready")]


def test_bare_addresses_and_numbers_get_email_and_sms(stack: Stack) -> None:
    stack.run()
    jobs = stack.notifications.queue(
        "system_alert", ["ops@example.org", "+15550100999"], "Backup failed", "See the log."
    )
    stack.finished(jobs)
    stack.settled()
    assert stack.emails() == [("ops@example.org", "Backup failed")]
    assert stack.texts() == [("+15550100999", "Backup failed: See the log.")]


# --- expiry ----------------------------------------------------------------------------


def test_an_expired_notification_is_dropped_not_sent_late(stack: Stack) -> None:
    gus = stack.client("Gus", "email")
    hal = stack.client("Hal", "sms")
    expires = utcnow() + dt.timedelta(minutes=30)
    jobs = stack.notifications.queue(
        "appointment_reminder",
        [f"client:{gus}", f"client:{hal}"],
        "Today at 10:00",
        "See you soon.",
        expires_at=expires,
    )
    stack.clock.shift = dt.timedelta(hours=1)  # the workers were down past the expiry
    stack.run()
    records = stack.finished(jobs)
    stack.settled()
    assert [r.result_summary for r in records] == [f"dropped: expired at {expires.isoformat()}"] * 2
    assert stack.emails() == []
    assert stack.texts() == []
    assert stack.job_count() == 2  # no email or SMS job was made


def test_a_notification_before_its_expiry_is_sent(stack: Stack) -> None:
    ivy = stack.client("Ivy", "email")
    stack.run()
    stack.finished(
        stack.notifications.queue(
            "appointment_reminder",
            f"client:{ivy}",
            "Soon",
            "x",
            expires_at=utcnow() + dt.timedelta(minutes=30),
        )
    )
    stack.settled()
    assert stack.emails() == [("ivy@example.org", "Soon")]


# --- bulk --------------------------------------------------------------------------------


def test_bulk_sending_is_one_call_that_makes_one_job_per_recipient(stack: Stack) -> None:
    clients = [stack.client(f"Bulk {i}", "email") for i in range(25)]
    recipients = [f"client:{c}" for c in clients] + [f"client:{clients[0]}"]  # one repeated
    jobs = stack.notifications.queue("invoice_due", recipients, "Invoice due", "Please pay.")
    assert len(jobs) == 25
    assert len(set(jobs)) == 25
    stack.run()
    stack.finished(jobs, timeout=60)
    stack.settled()
    assert sorted(to for to, _ in stack.emails()) == sorted(
        f"bulk.{i}@example.org" for i in range(25)
    )


def test_the_same_idempotency_key_never_makes_a_second_job(stack: Stack) -> None:
    jon = stack.client("Jon", "email")
    first = stack.notifications.queue(
        "payment_received", f"client:{jon}", "Paid", "x", idempotency_key="payment:41"
    )
    again = stack.notifications.queue(
        "payment_received", f"client:{jon}", "Paid", "x", idempotency_key="payment:41"
    )
    assert first == again
    stack.run()
    stack.finished(first)
    stack.settled()
    assert stack.emails() == [("jon@example.org", "Paid")]


def test_a_notification_job_run_twice_sends_each_channel_once(stack: Stack) -> None:
    kim = stack.client("Kim", "email")
    boss = stack.staff("boss")
    stack.run()
    [job] = stack.notifications.queue("payment_received", [f"client:{kim}"], "Paid", "x", ["email"])
    [staff_job] = stack.notifications.queue("report_ready", f"staff:{boss}", "Report ready", "x")
    stack.finished([job, staff_job])
    registry = JobRegistry(stack.platform)
    stack.finished([registry.duplicate(job), registry.duplicate(staff_job)])
    stack.settled()
    assert stack.emails() == [("kim@example.org", "Paid")]
    assert len(stack.services.notifications.inbox(boss)) == 1


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "field", "rule"),
    [
        ({"kind": "party"}, "kind", "'party' is not one of appointment_confirmed"),
        ({"recipients": ["not an address"]}, "recipients[0]", "is not a recipient"),
        ({"recipients": ["ann@"]}, "recipients[0]", "'ann@' is not an email address"),
        ({"recipients": ["+44 12"]}, "recipients[0]", "is not a phone number"),
        ({"recipients": ["client:999999"]}, "recipients[0]", "client 999999 does not exist"),
        ({"recipients": ["staff:0"]}, "recipients[0]", "the staff id must be a positive"),
        ({"recipients": ["role:chef"]}, "recipients[0]", "the role must be one of"),
        ({"recipients": []}, "recipients", "at least one recipient is required"),
        ({"channels": ["fax"]}, "channels[0]", "'fax' is not one of email, sms, in_app"),
        ({"channels": ["in_app"]}, "recipients[0]", "a client cannot get in_app"),
        ({"title": " "}, "title", "must not be empty"),
        ({"message": "x" * 1001}, "message", "at most 1000 characters"),
        (
            {"expires_at": dt.datetime(2000, 1, 1, tzinfo=dt.UTC)},
            "expires_at",
            "must be in the future",
        ),
        ({"expires_at": dt.datetime(2099, 1, 1)}, "expires_at", "must be a timezone-aware"),
    ],
)
def test_bad_input_is_refused_at_enqueue_naming_field_and_rule(
    stack: Stack, call: dict[str, object], field: str, rule: str
) -> None:
    ok = stack.client("Lee", "email")
    args: dict[str, object] = {
        "kind": "invoice_due",
        "recipients": [f"client:{ok}"],
        "title": "Invoice due",
        "message": "Please pay.",
    }
    args.update(call)
    with pytest.raises(ValidationError) as caught:
        stack.notifications.queue(**args)  # type: ignore[arg-type]
    assert field in caught.value.errors
    assert any(rule in r for r in caught.value.errors[field]), caught.value.errors
    assert stack.job_count() == 0


def test_one_bad_recipient_in_a_bulk_send_queues_nothing(stack: Stack) -> None:
    good = [f"client:{stack.client(f'Good {i}')}" for i in range(3)]
    with pytest.raises(ValidationError) as caught:
        stack.notifications.queue("invoice_due", [*good, "nobody@", *good], "Due", "Pay.")
    assert caught.value.errors == {"recipients[3]": ["'nobody@' is not an email address"]}
    assert stack.job_count() == 0


def test_a_huge_bad_batch_lists_the_first_problems_and_counts_the_rest(stack: Stack) -> None:
    with pytest.raises(ValidationError) as caught:
        stack.notifications.queue("invoice_due", ["x"] * 50, "Due", "Pay.")
    assert [f"recipients[{i}]" for i in range(10)] == list(caught.value.errors)[:10]
    assert "... and 40 more problems" in str(caught.value)


# --- in-app ---------------------------------------------------------------------------------


def test_staff_get_in_app_notifications_with_unread_counts_of_their_own(stack: Stack) -> None:
    ann = stack.staff("ann")
    ben = stack.staff("ben")
    stack.run()
    stack.finished(
        stack.notifications.queue("report_ready", f"staff:{ann}", "Report ready", "Revenue, May")
        + stack.notifications.queue(
            "system_alert", [f"staff:{ann}", f"staff:{ben}"], "Queue stalled", "No workers"
        )
    )
    inbox = stack.services.notifications
    assert inbox.unread_count(ann) == 2
    assert inbox.unread_count(ben) == 1
    # Two notification threads run the two jobs in either order: find the rows by title.
    by_title = {n.title: n for n in inbox.inbox(ann)}
    newest, oldest = by_title["Queue stalled"], by_title["Report ready"]
    assert (newest.title, newest.important) == ("Queue stalled", True)
    assert (oldest.title, oldest.kind.value) == ("Report ready", "report_ready")
    assert inbox.mark_read(ann, [oldest.id]) == 1
    assert inbox.mark_read(ben, [newest.id]) == 0  # not ben's row: nothing changes
    assert inbox.unread_count(ann) == 1
    assert inbox.unread_count(ben) == 1
    assert inbox.mark_read(ben) == 1
    assert (inbox.unread_count(ann), inbox.unread_count(ben)) == (1, 0)


def test_read_state_survives_a_restart(any_db_stack: Stack, any_db_harness: Harness) -> None:
    stack = any_db_stack
    ann = stack.staff("ann")
    stack.run()
    stack.finished(
        stack.notifications.queue("report_ready", f"staff:{ann}", "One", "x")
        + stack.notifications.queue("report_ready", f"staff:{ann}", "Two", "x")
    )
    # The two jobs may run in either order, so pick "Two" by its title.
    [two] = [n for n in stack.services.notifications.inbox(ann) if n.title == "Two"]
    stack.services.notifications.mark_read(ann, [two.id])
    # A new process: a new engine and service on the same database.
    from purplecross_desktop.database import make_engine

    engine = make_engine(str(any_db_harness.engine.url.render_as_string(hide_password=False)))
    try:
        fresh = NotificationService(make_session_factory(engine), EventBus("desk-2"))
        assert fresh.unread_count(ann) == 1
        assert sorted((n.title, n.unread) for n in fresh.inbox(ann)) == [
            ("One", True),
            ("Two", False),
        ]
    finally:
        engine.dispose()


def test_a_role_means_each_of_its_active_members(stack: Stack) -> None:
    admins = [stack.staff("root", StaffRole.ADMIN), stack.staff("ops", StaffRole.ADMIN)]
    desk = stack.staff("desk")
    jobs = stack.notifications.queue("system_alert", "role:admin", "Job dead", "x")
    assert len(jobs) == 2
    stack.run()
    stack.finished(jobs)
    assert [stack.services.notifications.unread_count(a) for a in admins] == [1, 1]
    assert stack.services.notifications.unread_count(desk) == 0


def test_staff_get_email_too_when_asked(stack: Stack) -> None:
    kay = stack.staff("kay")
    stack.run()
    stack.finished(
        stack.notifications.queue(
            "report_ready", Recipient.staff(kay), "Report ready", "x", ["in_app", "email"]
        )
    )
    stack.settled()
    assert stack.emails() == [("kay@clinic.example", "Report ready")]
    assert stack.services.notifications.unread_count(kay) == 1


def test_importance_follows_the_kind_unless_the_caller_says(stack: Stack) -> None:
    mo = stack.staff("mo")
    stack.run()
    stack.finished(
        stack.notifications.queue("payment_received", f"staff:{mo}", "Paid", "x")
        + stack.notifications.queue("payment_received", f"staff:{mo}", "Big", "x", important=True)
        + stack.notifications.queue("report_ready", f"staff:{mo}", "Report", "x", link="/r.pdf")
    )
    items = {n.title: n for n in stack.services.notifications.inbox(mo)}
    assert [items[t].important for t in ("Paid", "Big", "Report")] == [False, True, True]
    assert items["Report"].link == "/r.pdf"
