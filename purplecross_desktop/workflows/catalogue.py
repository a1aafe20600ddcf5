"""What a workflow may name: the events it can start on, the records a date trigger reads,
and every action with its inputs and outputs (the builder's pickers read the same lists).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

#: What every run of an event or date trigger is told about the people involved (read when
#: the run starts): the client's and the patient's names and the client's email address.
PEOPLE: Final = ("client_id", "patient_id", "client_name", "patient_name", "client_email")

#: Events the domain emits, with the data each carries (besides entity and id); appointment
#: events also carry the appointment's ``type`` (read when the run starts).
EVENTS: Final[Mapping[str, tuple[str, ...]]] = {
    "appointment.booked": ("patient_id", "client_id", "vet_id", "room_id", "starts_at", "status"),
    "appointment.rescheduled": ("patient_id", "client_id", "starts_at", "status"),
    "appointment.updated": ("patient_id", "client_id", "starts_at", "status", "fields"),
    "appointment.status_changed": ("patient_id", "client_id", "starts_at", "status", "previous"),
    "appointment.cancelled": ("patient_id", "client_id", "starts_at", "status", "reason"),
    "appointment.completed": ("patient_id", "client_id", "starts_at", "status"),
    "client.created": ("name",),
    "client.updated": ("fields",),
    "client.deactivated": (),
    "patient.created": ("client_id", "species"),
    "patient.updated": ("client_id", "fields"),
    "patient.deceased": ("client_id", "on"),
    "invoice.created": ("client_id", "patient_id", "number", "total", "balance", "status"),
    "invoice.updated": ("client_id", "patient_id", "number", "total", "balance", "status"),
    "invoice.paid": ("client_id", "patient_id", "number", "total", "balance", "status"),
    "vaccination.recorded": ("patient_id", "vaccine", "next_due_on"),
    "vaccination.updated": ("patient_id", "fields"),
    "prescription.created": ("patient_id", "vet_id"),
    "prescription.updated": ("patient_id", "fields"),
    "reminder.created": ("client_id", "patient_id", "kind", "state"),
    "reminder.updated": ("client_id", "patient_id", "kind", "state"),
}

#: Record dates a ``date`` trigger can count from: ``record.field`` → what the run gets.
DATE_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "vaccination.next_due_on": ("vaccination_id", "vaccine", "date"),
    "invoice.due_on": ("invoice_id", "number", "balance", "status", "date"),
    "appointment.starts_at": ("appointment_id", "status", "type", "starts_at", "date"),
}

TRIGGER_TYPES: Final = ("event", "schedule", "date", "manual")


@dataclass(frozen=True, slots=True)
class Input:
    """One input of an action.

    Args:
        kind: ``text``, ``integer``, ``number``, ``boolean``, ``object``, ``list``,
            ``duration`` or ``moment``; a ``{{ … }}`` placeholder fits any kind.
        required: whether the step must give it.
        choices: the allowed literal values (empty: any).
        description: what it is, for the builder and the docs.
    """

    kind: str
    required: bool = False
    choices: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """An action of the library.

    Args:
        name: what ``action:`` says.
        description: one line for the builder and the docs.
        inputs: what ``with:`` may hold.
        outputs: what later steps can read as ``steps.<id>.<output>``.
        side_effect: whether it changes the world (runs with an idempotency key).
        retries: attempts in all before the run fails.
        control: a flow step (wait, branch, loop, stop) handled by the engine itself.
    """

    name: str
    description: str
    inputs: Mapping[str, Input] = field(default_factory=dict)
    outputs: tuple[str, ...] = ()
    side_effect: bool = True
    retries: int = 3
    control: bool = False


RECIPIENT = (
    "owner (the client of the run: client_id), staff:<id>, role:<role>, "
    "client:<id> or an email address"
)
ENTITY = ("client", "patient")
#: The reports family's kinds and formats (``jobs.report_kinds.KINDS``, ``jobs.report_files.
#: FORMATS``; a test keeps them equal: this package does not import jobs).
REPORT_KINDS = (
    "appointments",
    "revenue",
    "aged_debt",
    "vaccinations_due",
    "clients",
    "prescriptions",
    "no_shows",
    "job_activity",
)
REPORT_FORMATS = ("csv", "xlsx", "pdf")

ACTIONS: Final[Mapping[str, ActionSpec]] = {
    spec.name: spec
    for spec in (
        ActionSpec(
            "send_email",
            "Email the owner or staff from one of the clinic's templates.",
            {
                "to": Input("text", True, description=RECIPIENT),
                "client_id": Input("integer", description="the client 'owner' means"),
                "patient_id": Input("integer", description="names the patient in the email"),
                "subject": Input("text", True),
                "message": Input("text", True, description="the body, in the clinic's words"),
            },
            ("job_id", "to"),
        ),
        ActionSpec(
            "send_notification",
            "A notification on each recipient's channels (email, SMS, in-app inbox).",
            {
                "to": Input("text", True, description=RECIPIENT),
                "client_id": Input("integer"),
                "title": Input("text", True),
                "message": Input("text", True),
                "channels": Input("list", description="email, sms, in_app (default: preferred)"),
                "kind": Input(
                    "text",
                    choices=(
                        "appointment_reminder",
                        "invoice_due",
                        "system_alert",
                        "appointment_cancelled",
                        "prescription_ready",
                    ),
                ),
            },
            ("job_ids",),
        ),
        ActionSpec(
            "create_reminder",
            "A reminder to the client, sent by the reminders family when it falls due.",
            {
                "client_id": Input("integer", True),
                "patient_id": Input("integer"),
                "kind": Input(
                    "text",
                    True,
                    ("appointment", "vaccination", "medication", "follow_up", "payment"),
                ),
                "channel": Input("text", choices=("email", "sms", "desktop")),
                "due_in": Input("duration", description="from now; default at once"),
                "message": Input("text"),
            },
            ("reminder_id",),
        ),
        ActionSpec(
            "complete_reminder",
            "Mark a reminder sent or cancelled.",
            {
                "reminder_id": Input("integer", True),
                "state": Input("text", True, ("sent", "cancelled")),
            },
            ("reminder_id", "state"),
        ),
        ActionSpec(
            "add_note",
            "Add a dated line to a client's or patient's notes.",
            {
                "entity": Input("text", True, ENTITY),
                "id": Input("integer", True),
                "text": Input("text", True),
            },
            ("entity", "id"),
        ),
        ActionSpec(
            "update_field",
            "Change an allowed field of a client or patient.",
            {
                "entity": Input("text", True, ENTITY),
                "id": Input("integer", True),
                "field": Input("text", True, ("preferred_contact", "city", "alerts")),
                "value": Input("text", True),
            },
            ("entity", "id", "field", "value"),
        ),
        ActionSpec(
            "staff_task",
            "A task for staff: an item in their inbox (and a tray message when important).",
            {
                "to": Input("text", True, description="staff:<id> or role:<role>"),
                "title": Input("text", True),
                "message": Input("text", True),
                "important": Input("boolean"),
            },
            ("job_ids",),
        ),
        ActionSpec(
            "http_request",
            "POST JSON to a registered webhook endpoint, signed like the webhooks "
            "(Standard Webhooks; webhook-id is the run and step).",
            {
                "endpoint_id": Input(
                    "integer", True, description="a webhook endpoint (its URL and secret)"
                ),
                "event": Input("text", True, description="the type named in the body"),
                "data": Input("object", description="the body's data (placeholders inside)"),
            },
            ("status_code", "msg_id"),
        ),
        ActionSpec(
            "generate_report",
            "A report file (CSV, Excel or PDF) by the reports family; optionally emailed.",
            {
                "kind": Input("text", True, REPORT_KINDS),
                "format": Input("text", True, REPORT_FORMATS),
                "start": Input("text", True, description="first day, YYYY-MM-DD"),
                "end": Input("text", True, description="last day, YYYY-MM-DD"),
                "filters": Input("object", description="the kind's filters"),
                "requested_by": Input("integer", description="staff told when it is ready"),
                "email_to": Input("text", description="also email the file here"),
            },
            ("job_id", "request_id"),
        ),
        ActionSpec(
            "wait",
            "Pause the run for a duration or until a moment (a scheduled job: costs nothing).",
            {
                "duration": Input("duration", description="{days, hours, minutes}"),
                "until": Input("moment", description="an ISO time, e.g. a placeholder"),
                "at": Input("text", description="then on to the next HH:MM, clinic time"),
            },
            ("resumed_at",),
            side_effect=False,
            control=True,
        ),
        ActionSpec(
            "wait_for_event",
            "Pause until a matching event arrives, or the timeout passes.",
            {
                "event": Input("text", True, description="an event name"),
                "match": Input("object", description="a condition on event.*"),
                "timeout": Input("duration", True),
            },
            ("matched", "event_id"),
            side_effect=False,
            control=True,
        ),
        ActionSpec(
            "branch",
            "If the condition holds, run 'then', else 'else'.",
            outputs=("result",),
            side_effect=False,
            control=True,
        ),
        ActionSpec(
            "for_each",
            "Run 'steps' once per item of a list ({{ item }} inside).",
            {"items": Input("list", True)},
            ("count",),
            side_effect=False,
            control=True,
        ),
        ActionSpec(
            "stop",
            "End the run here (succeeded, with a reason).",
            {"reason": Input("text")},
            side_effect=False,
            control=True,
        ),
    )
}
