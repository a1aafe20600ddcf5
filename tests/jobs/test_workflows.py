"""The workflow engine on the job platform: the five templates end to end against a shifted
clock (SQLite and PostgreSQL, a real SMTP server), versions, guards, retries, dry runs."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import purplecross_desktop.database.models  # noqa: F401  (every table on Base.metadata)
from jobs import event_dispatch, notifications, webhooks
from jobs import reports as report_jobs
from jobs.email import EmailService, SmtpConfig
from jobs.email_templates import ClinicInfo
from jobs.event_dispatch import DispatchTrigger, EventDispatcher, EventHandlers
from jobs.platform import JobPlatform, TaskSpec
from jobs.policy import RetryPolicy
from jobs.queues import EMAIL
from jobs.report_files import FORMATS
from jobs.report_kinds import KINDS
from jobs.webhooks.sender import Sender
from jobs.workflows import WorkflowEngine, register
from purplecross_desktop.database import make_session_factory
from purplecross_desktop.database.base import (
    AppointmentId,
    ClientId,
    InvoiceId,
    PatientId,
    RoomId,
    StaffId,
    utcnow,
)
from purplecross_desktop.domain.appointments import Booking
from purplecross_desktop.domain.appointments.model import AppointmentStatus
from purplecross_desktop.domain.audit import AuditEntry
from purplecross_desktop.domain.billing import InvoiceData, LineData, PaymentData
from purplecross_desktop.domain.clients import ClientData
from purplecross_desktop.domain.events import EventBus
from purplecross_desktop.domain.medical import VaccinationData
from purplecross_desktop.domain.patients import PatientData
from purplecross_desktop.domain.staff import StaffData, StaffRole
from purplecross_desktop.domain.webhooks.model import WebhookEndpoint
from purplecross_desktop.services import Services, build_services
from purplecross_desktop.workflows import catalogue
from purplecross_desktop.workflows.document import Document, load, schema, validate
from tests.jobs.conftest import Harness, wait_until
from tests.jobs.smtp_server import SmtpServer
from tests.jobs.webhook_receiver import Receiver

TEMPLATES = Path(__file__).resolve().parents[2] / "purplecross_desktop/workflows/templates"
CLINIC = ClinicInfo("Purple Cross Vets", "1 High Street", "555-0100")
FAST = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.1, jitter=0)
DAY = dt.timedelta(days=1)


class ShiftedClock:
    """The real clock plus an offset the test moves forward ("eleven days later")."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return utcnow() + self.offset

    def advance(self, delta: dt.timedelta) -> None:
        self.offset += delta


@dataclass
class Stack:
    platform: JobPlatform
    services: Services
    engine: WorkflowEngine
    dispatcher: EventDispatcher
    smtp: SmtpServer
    clock: ShiftedClock

    def install(self, template: str, **settings: Any) -> int:
        document = load(TEMPLATES / f"{template}.yaml").with_settings(enabled=True, **settings)
        info, _ = self.services.workflows.save(document)
        return info.id

    def client(self, name: str, contact: str = "email") -> int:
        return self.services.clients.create(
            ClientData(
                name=f"{name} Owner", email=f"{name.lower()}@example.org", preferred_contact=contact
            )
        ).id

    def patient(self, name: str, contact: str = "email") -> int:
        client = self.client(name, contact)
        return self.services.patients.create(
            PatientData(client_id=ClientId(client), name=name, species="dog")
        ).id

    def staff(self, role: StaffRole, login: str) -> int:
        return self.services.staff.create(
            StaffData(name=f"{login} {role.value}", role=role, login=login), "correct horse"
        ).id

    def vet_room(self) -> tuple[int, int]:
        vet = self.staff(StaffRole.VETERINARIAN, f"vet{time.time_ns()}")
        return vet, self.services.rooms.create(f"Room {time.time_ns()}").id

    def book(self, patient: int, starts: dt.datetime, kind: str = "consultation") -> int:
        vet, room = self.vet_room()
        booking = Booking(
            PatientId(patient),
            StaffId(vet),
            RoomId(room),
            starts,
            starts + dt.timedelta(minutes=15),
            type=kind,
        )
        return self.services.appointments.book(booking).id

    def subjects(self) -> list[str]:
        with self.smtp.inbox.lock:
            return sorted(str(m["Subject"]) for m in self.smtp.inbox.messages)

    def inbox(self, staff_id: int) -> list[str]:
        return [n.title for n in self.services.notifications.inbox(StaffId(staff_id))]

    def runs(self, workflow_id: int) -> list[str]:
        return [r.status for r in self.services.workflows.runs(workflow_id)]

    def settle(self, timeout: float = 20.0) -> None:
        """Let every due job and event run (the queue is drained twice in a row)."""
        from jobs.models import Job

        job = Job.__table__

        def idle() -> bool:
            self.dispatcher.dispatch()
            with self.platform.engine.connect() as conn:
                busy = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(job)
                    .where(job.c.state.in_(("outbox", "waiting", "active", "failed_retrying")))
                ).scalar_one()
            return busy == 0 and not self.dispatcher.has_work()

        def idle_twice() -> bool:
            if not idle():
                return False
            time.sleep(0.3)
            return idle()

        wait_until(idle_twice, timeout=timeout)

    def tick(self) -> None:
        self.engine.tick("test")
        self.settle()


@contextlib.contextmanager
def _stack(harness: Harness, smtp: SmtpServer, reports: Path | None = None) -> Iterator[Stack]:
    """The platform with email, notifications and workflows; with ``reports`` (a folder)
    also the reports and webhooks families (the http_request and generate_report actions).
    """
    platform = harness.platform()
    email = EmailService(
        platform, SmtpConfig(host="127.0.0.1", port=smtp.port, tls="none", timeout=5), CLINIC
    )
    platform.register(TaskSpec("email.send", email.send, EMAIL, policy=FAST, context=True))
    platform.services["email"] = email
    services = build_services(make_session_factory(harness.engine), EventBus("desk-1"))
    notifications.register(platform, services, policy=FAST)
    handlers = EventHandlers()
    sender = None
    if reports is not None:
        report_jobs.register(platform, report_jobs.ReportOptions(reports))
        sender = Sender(total_timeout=2.0, connect_timeout=1.0)
        webhooks.register(platform, handlers, webhooks.endpoint_service(platform, services), sender)
    clock = ShiftedClock()
    engine = register(platform, services, handlers, clock=clock)
    dispatch = event_dispatch.register(platform, handlers, horizon=1.0)
    dispatch.dispatcher.dispatch()  # the workflows handler starts from here (from_start=False)
    harness.runner(platform)
    trigger = DispatchTrigger(dispatch, poll_interval=0.5)
    trigger.attach(services.events)
    try:
        yield Stack(platform, services, engine, dispatch.dispatcher, smtp, clock)
    finally:
        trigger.stop()
        if sender is not None:
            sender.close()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def stack(any_db_harness: Harness, smtp: SmtpServer) -> Iterator[Stack]:
    with _stack(any_db_harness, smtp) as built:
        yield built


@pytest.fixture
def sqlite_stack(harness: Harness, smtp: SmtpServer) -> Iterator[Stack]:
    with _stack(harness, smtp) as built:
        yield built


# --- the templates, end to end ----------------------------------------------------------


@pytest.mark.slow
def test_vaccination_due_emails_then_stops_when_booked_or_reminds_when_not(stack: Stack) -> None:
    workflow = stack.install("vaccination-due")
    today = stack.clock().date()
    vet, _ = stack.vet_room()
    ada, bob = stack.patient("Ada"), stack.patient("Bob")
    for patient in (ada, bob):
        stack.services.medical.record_vaccination(
            VaccinationData(
                patient_id=PatientId(patient),
                vaccine="Rabies",
                given_on=today - dt.timedelta(days=351),
                next_due_on=today + dt.timedelta(days=14),
                vet_id=StaffId(vet),
            )
        )
    # 14 days before, at 09:00 clinic time (the clock is moved to after 09:00 today).
    stack.clock.advance(dt.timedelta(hours=max(0, 9 - stack.clock().hour) + 0.05))
    stack.tick()
    assert stack.subjects() == [
        "Ada is due a Rabies vaccination",
        "Bob is due a Rabies vaccination",
    ]
    assert stack.runs(workflow) == ["waiting", "waiting"]
    stack.tick()  # a second tick starts nothing new
    assert len(stack.runs(workflow)) == 2

    # Ada's owner books: her run stops. Bob's waits on.
    stack.book(ada, utcnow() + dt.timedelta(days=12))
    stack.settle()
    wait_until(lambda: sorted(stack.runs(workflow)) == ["succeeded", "waiting"])
    assert len(stack.subjects()) == 2

    # Ten days later nothing more; eleven days later Bob's owner is reminded (preferred
    # channel: email), and Ada's is not.
    stack.clock.advance(dt.timedelta(days=10))
    stack.tick()
    assert len(stack.subjects()) == 2
    stack.clock.advance(dt.timedelta(days=1, minutes=1))
    stack.tick()
    wait_until(lambda: len(stack.subjects()) == 3)
    assert "Bob's vaccination is in 3 days" in stack.subjects()
    assert stack.runs(workflow) == ["succeeded", "succeeded"]
    stack.clock.advance(dt.timedelta(days=30))
    stack.tick()
    assert len(stack.subjects()) == 3


@pytest.mark.slow
def test_no_show_gives_a_task_now_and_a_kind_email_next_morning(stack: Stack) -> None:
    workflow = stack.install("no-show-follow-up")
    desk = stack.staff(StaffRole.FRONT_DESK, "desk")
    rex = stack.patient("Rex")
    appointment = stack.book(rex, utcnow() + dt.timedelta(seconds=1))
    time.sleep(1.2)
    stack.services.appointments.mark_no_show(AppointmentId(appointment))
    stack.settle()
    wait_until(lambda: stack.inbox(desk) == ["Follow up: Rex missed an appointment"])
    assert stack.subjects() == []
    assert stack.runs(workflow) == ["waiting"]
    run = stack.services.workflows.runs(workflow)[0]
    assert run.wake_at is not None
    assert run.wake_at.hour == 9
    assert run.wake_at > stack.clock()
    stack.clock.advance(run.wake_at - stack.clock() + dt.timedelta(seconds=1))
    stack.tick()
    wait_until(lambda: stack.subjects() == ["We missed you and Rex"])
    assert stack.runs(workflow) == ["succeeded"]


@pytest.mark.slow
def test_invoice_overdue_reminds_the_owner_and_tells_the_manager_only_if_still_unpaid(
    stack: Stack,
) -> None:
    workflow = stack.install("invoice-overdue")
    manager = stack.staff(StaffRole.PRACTICE_MANAGER, "pm")
    today = stack.clock().date()
    invoices = {}
    for name in ("Ann", "Ben"):
        client = stack.client(name)
        invoices[name] = stack.services.invoices.create(
            InvoiceData(
                client_id=ClientId(client),
                issued_on=today - dt.timedelta(days=45),
                due_on=today - dt.timedelta(days=30),
                lines=[LineData("Consultation", 1, 40, 0)],
            )
        ).id
    stack.clock.advance(dt.timedelta(hours=max(0, 9 - stack.clock().hour) + 0.05))
    stack.tick()
    assert len(stack.subjects()) == 2
    assert all(s.endswith("is overdue") for s in stack.subjects())
    stack.services.invoices.add_payment(
        InvoiceId(invoices["Ann"]), PaymentData(amount=Decimal("40.00"), method="cash")
    )
    stack.settle()
    wait_until(lambda: sorted(stack.runs(workflow)) == ["succeeded", "waiting"])
    stack.clock.advance(dt.timedelta(days=30, minutes=1))
    stack.tick()
    wait_until(lambda: len(stack.inbox(manager)) == 1)
    assert stack.inbox(manager)[0].endswith("is 60 days overdue")
    assert stack.runs(workflow) == ["succeeded", "succeeded"]
    assert len(stack.subjects()) == 2


@pytest.mark.slow
def test_new_client_welcome_an_hour_later_and_noted_once(stack: Stack) -> None:
    workflow = stack.install("new-client-welcome")
    client = stack.client("Cleo")
    stack.settle()
    assert stack.runs(workflow) == ["waiting"]
    assert stack.subjects() == []
    stack.clock.advance(dt.timedelta(hours=1, seconds=5))
    stack.tick()
    wait_until(lambda: stack.subjects() == ["Welcome to the clinic, Cleo Owner"])
    notes = stack.services.clients.get(ClientId(client)).notes
    assert notes.count("Welcome email sent (cleo@example.org)") == 1
    # The note was written through the client service, audited as the workflow's.
    with make_session_factory(stack.platform.engine)() as session:
        via = session.scalars(
            sa.select(AuditEntry.via).where(
                AuditEntry.entity == "client", AuditEntry.action == "updated"
            )
        ).all()
    assert via == [f"workflow {workflow} 'New client welcome' v1, run 1"]


@pytest.mark.slow
def test_post_surgery_check_in_after_two_days(stack: Stack) -> None:
    workflow = stack.install("post-surgery-check-in")
    desk = stack.staff(StaffRole.FRONT_DESK, "desk")
    rex, tom = stack.patient("Rex"), stack.patient("Tom")
    surgery = stack.book(rex, utcnow() + dt.timedelta(seconds=1), "surgery")
    consult = stack.book(tom, utcnow() + dt.timedelta(seconds=1))
    for appointment in (surgery, consult):
        stack.services.appointments.set_status(
            AppointmentId(appointment), AppointmentStatus.ARRIVED
        )
        stack.services.appointments.set_status(
            AppointmentId(appointment), AppointmentStatus.IN_CONSULT
        )
        stack.services.appointments.complete(AppointmentId(appointment))
    stack.settle()
    assert stack.runs(workflow) == ["waiting"]  # the consultation started nothing
    stack.clock.advance(dt.timedelta(days=3))
    stack.tick()
    wait_until(lambda: stack.inbox(desk) == ["Post-surgery check-in: Rex"])
    assert "Post-surgery check-in task given" in stack.services.patients.get(PatientId(rex)).notes
    assert stack.runs(workflow) == ["succeeded"]


# --- versions and guards ----------------------------------------------------------------


def _counter_flow(name: str, event: str = "client.created", **settings: Any) -> Document:
    return Document.from_data(
        {
            "name": name,
            "trigger": {"type": "event", "event": event},
            "steps": [
                {"id": "pause", "action": "wait", "with": {"duration": {"hours": 1}}},
                {
                    "id": "note",
                    "action": "add_note",
                    "with": {"entity": "client", "id": "{{ trigger.client_id }}", "text": "v1"},
                },
            ],
            "settings": {"enabled": True, **settings},
        }
    )


def test_a_run_finishes_on_the_version_it_started_with(sqlite_stack: Stack) -> None:
    stack = sqlite_stack
    info, _ = stack.services.workflows.save(_counter_flow("Counter"))
    first = stack.client("Ann")
    stack.settle()
    data = dict(_counter_flow("Counter").data)
    data["steps"] = [dict(data["steps"][0]), dict(data["steps"][1])]
    data["steps"][1]["with"] = {**data["steps"][1]["with"], "text": "v2"}
    assert stack.services.workflows.save(Document.from_data(data))[0].version == 2
    second = stack.client("Bob")
    stack.settle()
    stack.clock.advance(dt.timedelta(hours=2))
    stack.tick()
    assert "v1" in stack.services.clients.get(ClientId(first)).notes
    assert "v2" in stack.services.clients.get(ClientId(second)).notes
    assert sorted(r.version for r in stack.services.workflows.runs(info.id)) == [1, 2]


def test_a_workflow_that_triggers_itself_stops_at_its_depth_limit(sqlite_stack: Stack) -> None:
    stack = sqlite_stack
    loop = Document.from_data(
        {
            "name": "Echo",
            "trigger": {"type": "event", "event": "client.updated"},
            "steps": [
                {
                    "id": "note",
                    "action": "add_note",
                    "with": {"entity": "client", "id": "{{ trigger.id }}", "text": "echo"},
                }
            ],
            "settings": {"enabled": True, "max_depth": 2},
        }
    )
    info, _ = stack.services.workflows.save(loop)
    client = stack.client("Eve")
    stack.services.clients.update(ClientId(client), {"city": "Leeds"})
    for _ in range(6):
        stack.settle()
    runs = stack.services.workflows.runs(info.id)
    # The person's edit (depth 0), then its own notes at depths 1 and 2; depth 3 is refused.
    assert [r.status for r in runs] == ["skipped", "succeeded", "succeeded", "succeeded"]
    assert "max_depth of 2" in (runs[0].error or "")
    assert stack.services.clients.get(ClientId(client)).notes.count("echo") == 3


def test_a_failing_step_retries_then_fails_the_run_and_tells_the_owner(
    sqlite_stack: Stack,
) -> None:
    stack = sqlite_stack
    admin = stack.staff(StaffRole.ADMIN, "boss")
    flow = Document.from_data(
        {
            "name": "Broken",
            "trigger": {"type": "manual", "inputs": {"client_id": "integer"}},
            "steps": [
                {
                    "id": "note",
                    "action": "add_note",
                    "with": {"entity": "client", "id": "{{ trigger.client_id }}", "text": "x"},
                }
            ],
            "settings": {"enabled": True, "owner": f"staff:{admin}"},
        }
    )
    info, _ = stack.services.workflows.save(flow)
    run_id = stack.engine.start_manual(info.id, {"client_id": 999999})
    stack.settle()
    run, steps = stack.services.workflows.run(run_id)
    assert run.status == "failed"
    assert "step 'note' (add_note) failed: NotFound: client 999999: not found" in (run.error or "")
    assert [s.status for s in steps] == ["failed"]
    wait_until(lambda: stack.inbox(admin) == ["Workflow failed: Broken"])


def test_a_failed_run_is_retried_from_its_failed_step(sqlite_stack: Stack) -> None:
    from purplecross_desktop.domain.errors import ValidationError

    stack = sqlite_stack
    flow = Document.from_data(
        {
            "name": "Two steps",
            "trigger": {"type": "manual", "inputs": {"client_id": "integer"}},
            "steps": [
                {
                    "id": "note",
                    "action": "add_note",
                    "with": {"entity": "client", "id": "{{ trigger.client_id }}", "text": "a"},
                },
                {
                    "id": "mail",
                    "action": "send_email",
                    "with": {
                        "to": "owner",
                        "client_id": "{{ trigger.client_id }}",
                        "subject": "Second step",
                        "message": "b",
                    },
                },
            ],
            "settings": {"enabled": True},
        }
    )
    info, _ = stack.services.workflows.save(flow)
    client = stack.client("Ann")
    email = stack.platform.services.pop("email")  # the email family is down
    run_id = stack.engine.start_manual(info.id, {"client_id": client})
    stack.settle()
    run, steps = stack.services.workflows.run(run_id)
    assert run.status == "failed"
    assert [(s.step_id, s.status) for s in steps] == [("note", "done"), ("mail", "failed")]
    stack.platform.services["email"] = email
    stack.engine.retry(run_id)
    stack.settle()
    run, steps = stack.services.workflows.run(run_id)
    assert run.status == "succeeded"
    assert [(s.step_id, s.attempt, s.status) for s in steps] == [
        ("note", 1, "done"),
        ("mail", 1, "failed"),
        ("mail", 2, "done"),
    ]
    wait_until(lambda: stack.subjects() == ["Second step"])
    assert stack.services.clients.get(ClientId(client)).notes.count("a [workflow-run") == 1
    with pytest.raises(ValidationError, match="only a failed run can be retried"):
        stack.services.workflows.retry_run(run_id)


def test_manual_inputs_are_checked_by_name_and_kind(sqlite_stack: Stack) -> None:
    from purplecross_desktop.domain.errors import ValidationError

    stack = sqlite_stack
    flow = Document.from_data(
        {
            "name": "Manual",
            "trigger": {"type": "manual", "inputs": {"client_id": "integer"}},
            "steps": [{"id": "done", "action": "stop"}],
            "settings": {"enabled": True},
        }
    )
    info, _ = stack.services.workflows.save(flow)
    with pytest.raises(ValidationError, match=r"inputs\.client_id: must be integer"):
        stack.engine.start_manual(info.id, {"client_id": "twelve"})
    with pytest.raises(ValidationError, match=r"inputs\.colour: is not an input"):
        stack.engine.start_manual(info.id, {"client_id": 1, "colour": "red"})
    assert stack.services.workflows.runs(info.id) == []


def test_disable_with_cancel_stops_waiting_runs(sqlite_stack: Stack) -> None:
    stack = sqlite_stack
    info, _ = stack.services.workflows.save(_counter_flow("Counter"))
    client = stack.client("Ann")
    stack.settle()
    assert stack.runs(info.id) == ["waiting"]
    assert stack.services.workflows.set_enabled(info.id, False, running="cancel") == 1
    stack.clock.advance(dt.timedelta(hours=2))
    stack.tick()
    assert stack.runs(info.id) == ["cancelled"]
    assert "v1" not in stack.services.clients.get(ClientId(client)).notes


def test_over_its_concurrency_a_run_queues_until_one_finishes(sqlite_stack: Stack) -> None:
    stack = sqlite_stack
    info, _ = stack.services.workflows.save(_counter_flow("Counter", concurrency=1))
    stack.client("Ann")
    stack.client("Bob")
    stack.settle()
    assert sorted(stack.runs(info.id)) == ["queued", "waiting"]
    stack.clock.advance(dt.timedelta(hours=2))
    stack.tick()
    assert sorted(stack.runs(info.id)) == ["succeeded", "waiting"]
    stack.clock.advance(dt.timedelta(hours=2))
    stack.tick()
    assert stack.runs(info.id) == ["succeeded", "succeeded"]


def test_over_its_rate_limit_a_run_is_skipped_with_the_reason(sqlite_stack: Stack) -> None:
    stack = sqlite_stack
    info, _ = stack.services.workflows.save(_counter_flow("Counter", max_runs_per_hour=2))
    for name in ("Ann", "Bob", "Cy"):
        stack.client(name)
    stack.settle()
    runs = stack.services.workflows.runs(info.id)
    assert [r.status for r in runs] == ["skipped", "waiting", "waiting"]
    assert runs[0].error == "not started: over this workflow's max_runs_per_hour of 2"
    stack.clock.advance(dt.timedelta(hours=2))
    stack.client("Dee")  # a new hour: it starts
    stack.settle()
    assert stack.services.workflows.runs(info.id)[0].status == "waiting"


def test_a_run_past_its_max_runtime_fails_with_the_reason(sqlite_stack: Stack) -> None:
    stack = sqlite_stack
    info, _ = stack.services.workflows.save(_counter_flow("Counter", max_runtime={"minutes": 30}))
    stack.client("Ann")
    stack.settle()
    stack.clock.advance(dt.timedelta(hours=2))
    stack.tick()
    run = stack.services.workflows.runs(info.id)[0]
    assert run.status == "failed"
    assert run.error == "ran longer than its max runtime of 30 minutes"


def test_a_dry_run_against_a_real_past_event_changes_nothing(sqlite_stack: Stack) -> None:
    stack = sqlite_stack
    stack.settle()
    client = stack.client("Dora")
    stack.settle()
    from purplecross_desktop.domain.event_log import EventLog

    past = EventLog(stack.platform.engine).search(name="client.created", limit=1)[0]
    document = load(TEMPLATES / "new-client-welcome.yaml")
    trigger = stack.engine.trigger_for(document, {}, past.id)
    preview = stack.engine.dry_run(document, trigger)
    assert [p.step_id for p in preview] == ["settle", "welcome", "note"]
    assert preview[1].description.startswith("email dora@example.org: Welcome to the clinic")
    assert preview[2].description == (
        f"add to client {client}'s notes: Welcome email sent (dora@example.org)"
    )
    stack.settle()
    assert stack.subjects() == []
    assert stack.services.clients.get(ClientId(client)).notes == ""


def test_a_schedule_fires_once_per_matching_minute(sqlite_stack: Stack) -> None:
    stack = sqlite_stack
    flow = Document.from_data(
        {
            "name": "Every five minutes",
            "trigger": {"type": "schedule", "cron": "*/5 * * * *"},
            "steps": [
                {"id": "done", "action": "stop", "with": {"reason": "{{ trigger.fired_at }}"}}
            ],
            "settings": {"enabled": True},
        }
    )
    info, _ = stack.services.workflows.save(flow)
    stack.clock.advance(dt.timedelta(minutes=20))
    stack.tick()
    runs = stack.services.workflows.runs(info.id)
    assert len(runs) == 4  # every fifth minute of twenty
    assert {r.status for r in runs} == {"succeeded"}
    stack.tick()  # the same window again: nothing new
    assert len(stack.services.workflows.runs(info.id)) == 4
    _, steps = stack.services.workflows.run(runs[0].id)
    fired = dt.datetime.fromisoformat(steps[0].output["reason"])
    assert fired.minute % 5 == 0


def test_for_each_runs_its_steps_once_per_item(sqlite_stack: Stack) -> None:
    stack = sqlite_stack
    flow = Document.from_data(
        {
            "name": "Loop",
            "trigger": {"type": "manual", "inputs": {"client_id": "integer"}},
            "steps": [
                {
                    "id": "each",
                    "action": "for_each",
                    "with": {"items": ["first", "second", "third"]},
                    "steps": [
                        {
                            "id": "note",
                            "action": "add_note",
                            "with": {
                                "entity": "client",
                                "id": "{{ trigger.client_id }}",
                                "text": "item {{ item }}",
                            },
                        }
                    ],
                }
            ],
            "settings": {"enabled": True},
        }
    )
    info, _ = stack.services.workflows.save(flow)
    client = stack.client("Lou")
    run_id = stack.engine.start_manual(info.id, {"client_id": client})
    stack.settle()
    run, steps = stack.services.workflows.run(run_id)
    assert run.status == "succeeded"
    notes = stack.services.clients.get(ClientId(client)).notes
    assert [line.split(" [")[0][11:] for line in notes.splitlines()] == [
        "item first",
        "item second",
        "item third",
    ]
    assert [s.step_id for s in steps] == ["each", "note", "each", "note", "each", "note", "each"]


def test_at_its_deadline_a_wait_counts_an_event_the_dispatcher_never_handed_over(
    harness: Harness,
) -> None:
    """No dispatcher runs here: the client's update is recorded but never delivered, as
    when the dispatcher is down. At the timeout the wait finds it in the event table."""
    platform = harness.platform()
    services = build_services(make_session_factory(harness.engine), EventBus("desk-1"))
    clock = ShiftedClock()
    engine = register(platform, services, EventHandlers(), clock=clock)
    harness.runner(platform)
    flow = Document.from_data(
        {
            "name": "Wait for an update",
            "trigger": {"type": "manual", "inputs": {"client_id": "integer"}},
            "steps": [
                {
                    "id": "updated",
                    "action": "wait_for_event",
                    "with": {
                        "event": "client.updated",
                        "match": {
                            "all": [
                                {
                                    "field": "event.id",
                                    "op": "eq",
                                    "value": "{{ trigger.client_id }}",
                                }
                            ]
                        },
                        "timeout": {"hours": 1},
                    },
                }
            ],
            "settings": {"enabled": True},
        }
    )
    info, _ = services.workflows.save(flow)
    ann = services.clients.create(ClientData(name="Ann", email="ann@example.org")).id
    bob = services.clients.create(ClientData(name="Bob", email="bob@example.org")).id
    runs = [engine.start_manual(info.id, {"client_id": c}) for c in (ann, bob)]
    wait_until(lambda: [services.workflows.run(r)[0].status for r in runs] == ["waiting"] * 2)
    services.clients.update(ClientId(ann), {"city": "York"})
    clock.advance(dt.timedelta(hours=1, minutes=1))
    engine.tick("test")
    wait_until(lambda: [services.workflows.run(r)[0].status for r in runs] == ["succeeded"] * 2)
    outputs = [services.workflows.run(r)[1][-1].output for r in runs]
    assert outputs[0]["matched"] is True
    assert outputs[1] == {"matched": False, "event_id": None}


# --- calling a webhook and generating a report -----------------------------------------


@pytest.fixture
def family_stack(any_db_harness: Harness, smtp: SmtpServer, tmp_path: Path) -> Iterator[Stack]:
    with _stack(any_db_harness, smtp, tmp_path / "reports") as built:
        yield built


def _on_new_client(name: str, step: dict[str, Any]) -> Document:
    return Document.from_data(
        {
            "name": name,
            "trigger": {"type": "event", "event": "client.created"},
            "steps": [step],
            "settings": {"enabled": True},
        }
    )


def _endpoint(stack: Stack, url: str) -> tuple[int, str]:
    """A webhook endpoint registered by an admin (loopback allowed); its id and secret."""
    admin = stack.services.staff.create_first_admin(
        StaffData("Alex Admin", StaffRole.ADMIN, "admin"), "a long enough password"
    )
    endpoints = webhooks.endpoint_service(
        stack.platform, stack.services, current_actor=lambda: StaffId(admin.id)
    )
    created = endpoints.create(url, ["invoice.paid"], "the lab", allow_local_network=True)
    return created.endpoint.id, created.secret


def _call(endpoint_id: int) -> dict[str, Any]:
    return {
        "id": "call",
        "action": "http_request",
        "with": {
            "endpoint_id": endpoint_id,
            "event": "client.welcomed",
            "data": {"client": "{{ trigger.client_id }}", "name": "{{ trigger.client_name }}"},
        },
    }


def test_http_request_is_signed_like_the_webhooks_and_keeps_its_id_on_retry(
    family_stack: Stack,
) -> None:
    stack = family_stack
    # The first answer is a 503: the step is retried, with the same webhook-id.
    with Receiver(script=lambda n, msg_id: 503 if n == 1 else 200) as receiver:
        endpoint_id, secret = _endpoint(stack, receiver.url)
        receiver.secrets.append(secret)
        info, _ = stack.services.workflows.save(_on_new_client("Tell the lab", _call(endpoint_id)))
        client = stack.client("Ann")
        stack.settle()
        assert stack.runs(info.id) == ["waiting"]  # the retry, 5 s on
        stack.clock.advance(dt.timedelta(seconds=10))
        stack.tick()
        got = receiver.received()
    assert stack.runs(info.id) == ["succeeded"]
    assert [r.status for r in got] == [503, 200]
    assert all(r.verified for r in got), [r.error for r in got]
    run_id = stack.services.workflows.runs(info.id)[0].id
    assert {r.msg_id for r in got} == {f"workflow-run:{run_id}:step:0"}
    body = json.loads(got[1].body)
    assert body["type"] == "client.welcomed"
    assert body["data"] == {"client": client, "name": "Ann Owner"}


def test_http_request_refuses_a_local_address_by_the_webhooks_rules(family_stack: Stack) -> None:
    stack = family_stack
    with Receiver() as receiver:
        endpoint_id, _ = _endpoint(stack, receiver.url)
        # As if saved without "allow local network" (https, so the address rule decides):
        # the check before the request refuses loopback, as the webhooks' own deliveries do.
        https = receiver.url.replace("http://", "https://")
        with stack.platform.engine.begin() as conn:
            conn.execute(
                sa.update(WebhookEndpoint)
                .where(WebhookEndpoint.id == endpoint_id)
                .values(url=https, allow_local_network=False)
            )
        info, _ = stack.services.workflows.save(_on_new_client("Tell the lab", _call(endpoint_id)))
        stack.client("Bob")
        stack.settle()
        assert receiver.received() == []
    runs = stack.services.workflows.runs(info.id)
    assert [r.status for r in runs] == ["failed"]
    assert "refused: url: 127.0.0.1 is loopback" in (runs[0].error or "")


def test_generate_report_writes_the_file_once_per_run_and_step(family_stack: Stack) -> None:
    stack = family_stack
    today = stack.clock().date().isoformat()
    step = {
        "id": "report",
        "action": "generate_report",
        "with": {"kind": "clients", "format": "csv", "start": today, "end": today},
    }
    # The builder's test run says what it would do, and does nothing.
    said, _ = stack.engine.actions.preview("generate_report", step["with"])
    assert said == f"a csv clients report, {today} to {today}"
    http, _ = stack.engine.actions.preview("http_request", _call(7)["with"])
    assert http.startswith('POST to webhook endpoint 7: {"type":"client.welcomed"')
    assert stack.platform.services["reports"].recent() == []
    info, _ = stack.services.workflows.save(_on_new_client("List the clients", step))
    stack.client("Cleo")
    stack.settle()
    assert stack.runs(info.id) == ["succeeded"]
    reports = stack.platform.services["reports"]
    [made] = reports.recent()
    assert made.state == "completed", made.message
    assert made.path is not None
    assert "Cleo Owner" in Path(made.path).read_text(encoding="utf-8")
    # The step again under its key (a retry after a crash): the same job, no new report.
    key = f"workflow-run:{stack.services.workflows.runs(info.id)[0].id}:step:0"
    again = stack.engine.actions.run("generate_report", step["with"], key)
    assert again["job_id"] == made.job_id
    assert again["request_id"] == made.id
    assert len(reports.recent()) == 1


def test_generate_report_names_the_input_a_bad_value_breaks() -> None:
    problems = {
        p.message("Bad report")
        for p in validate(
            {
                "name": "Bad report",
                "trigger": {"type": "manual"},
                "steps": [
                    {
                        "id": "report",
                        "action": "generate_report",
                        "with": {
                            "kind": "gossip",
                            "format": "csv",
                            "start": "2026-02-30",
                            "end": "2026-01-01",
                        },
                    }
                ],
            }
        )
    }
    assert (
        "workflow 'Bad report', step 'report', with.start: "
        "must be a day YYYY-MM-DD; got '2026-02-30'"
    ) in problems
    assert any(p.startswith("workflow 'Bad report', step 'report', with.kind:") for p in problems)


def test_the_new_actions_are_offered_with_the_reports_family_kinds_and_formats() -> None:
    assert tuple(KINDS) == catalogue.REPORT_KINDS
    assert catalogue.REPORT_FORMATS == FORMATS
    published = schema()["$defs"]["step"]["properties"]["action"]["enum"]
    assert set(published) == set(catalogue.ACTIONS)
    assert catalogue.ACTIONS["http_request"].outputs == ("status_code", "msg_id")
    assert catalogue.ACTIONS["generate_report"].outputs == ("job_id", "request_id")


def _two_notes(name: str) -> Document:
    return Document.from_data(
        {
            "name": name,
            "trigger": {"type": "manual", "inputs": {"client_id": "integer"}},
            "steps": [
                {
                    "id": f"note{n}",
                    "action": "add_note",
                    "with": {"entity": "client", "id": "{{ trigger.client_id }}", "text": f"n{n}"},
                }
                for n in (1, 2)
            ],
            "settings": {"enabled": True},
        }
    )


def test_a_step_saves_its_run_and_writes_the_next_steps_job_in_one_commit(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run moved on and the next step's job row commit together: a process that dies
    before the message goes out (here: the message is dropped) leaves a written job, which
    the broker sweep sends again; the run never sits ready with no job."""
    from jobs.models import Job

    job = Job.__table__
    stack.services.workflows.save(_two_notes("Two notes"))
    client = stack.client("Ada")
    stack.settle()
    dropped: list[str] = []
    monkeypatch.setattr(
        stack.platform, "send_prepared", lambda row: dropped.append(row["id"]) or row["id"]
    )
    run_id = stack.engine.start_manual("Two notes", {"client_id": client})
    wait_until(lambda: dropped, timeout=20)  # step 0 ran, saved, and its successor was lost
    with stack.platform.engine.connect() as conn:
        row = conn.execute(
            sa.select(job.c.state, job.c.args, job.c.idempotency_key).where(job.c.id == dropped[0])
        ).one()
    assert row.state == "waiting"
    assert list(row.args) == [run_id, 1]
    assert row.idempotency_key == f"wf:{run_id}:1"
    run, _steps = stack.services.workflows.run(run_id)
    assert run.status in ("ready", "running")  # moved on to step 1, its job written
    monkeypatch.undo()
    assert stack.platform.sweep_lost(0.0) == 1  # the written job, missing from the broker
    stack.settle()
    assert stack.services.workflows.run(run_id)[0].status == "succeeded"
    notes = stack.services.clients.get(ClientId(client)).notes
    assert notes.count("n1") == 1
    assert notes.count("n2") == 1


def test_a_step_whose_next_job_cannot_be_written_is_not_saved_either(
    sqlite_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The save and the next step's job are one transaction: when the job row cannot be
    written, the run does not move on (its step runs again after its lease, its side
    effect once by its key) instead of sitting at the next step with no job."""
    from purplecross_desktop.workflows.models import RUN, STEP

    stack = sqlite_stack
    stack.services.workflows.save(_two_notes("Two notes"))
    client = stack.client("Ada")
    stack.settle()
    refused: list[str] = []

    def refuse(conn: sa.Connection, values: dict[str, Any]) -> bool:
        refused.append(values["id"])
        raise RuntimeError("the registry refused the row")

    monkeypatch.setattr(stack.platform.recorder, "insert_job_in", refuse)
    run_id = stack.engine.start_manual("Two notes", {"client_id": client})
    wait_until(lambda: refused, timeout=20)
    stack.settle()
    with stack.platform.engine.connect() as conn:
        seq = conn.execute(sa.select(RUN.c.seq).where(RUN.c.id == run_id)).scalar_one()
        steps = conn.execute(
            sa.select(sa.func.count()).select_from(STEP).where(STEP.c.run_id == run_id)
        ).scalar_one()
    assert (seq, steps) == (0, 0)  # not moved on, no step recorded
    assert stack.services.clients.get(ClientId(client)).notes.count("n1") == 1
