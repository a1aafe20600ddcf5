"""The side-effecting actions of workflows, each through a domain service or a job family.

Every action gets the step's rendered inputs and an idempotency key (run + step) and is
safe to run again with the same key: an email or a notification with a key already used
is not sent again (the email log and the notification keys decide), a reminder carries the
key as its ``dedupe_key``, a note carries a marker and is not added twice, and setting a
field to the value it has changes nothing. :meth:`ActionRunner.preview` says what an
action would do, without doing it (the builder's test run).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from jobs.platform import JobPlatform
from jobs.policy import PermanentError
from jobs.webhooks.signing import sign_headers
from purplecross_desktop.database.base import ClientId, PatientId, ReminderId
from purplecross_desktop.domain.clients import Client
from purplecross_desktop.domain.errors import Conflict, ValidationError
from purplecross_desktop.domain.patients import Patient
from purplecross_desktop.domain.reminders import Reminder, ReminderData
from purplecross_desktop.domain.roles import StaffRole
from purplecross_desktop.domain.staff import Staff
from purplecross_desktop.domain.webhooks.model import WebhookEndpoint
from purplecross_desktop.workflows.document import duration_seconds

if TYPE_CHECKING:
    from purplecross_desktop.services import Services

Output = dict[str, Any]
#: The fields ``update_field`` may change, per record.
ALLOWED_FIELDS: Mapping[str, frozenset[str]] = {
    "client": frozenset({"preferred_contact", "city"}),
    "patient": frozenset({"alerts"}),
}


class ActionRunner:
    """Runs (or previews) the library's side-effecting actions.

    Args:
        platform: the job platform (its email and notifications families).
        services: the domain services the actions write through.
        clock: now (aware UTC).
    """

    def __init__(
        self, platform: JobPlatform, services: Services, clock: Callable[[], dt.datetime]
    ) -> None:
        self.platform = platform
        self.services = services
        self.clock = clock
        self._sessions = services.clients._sessions
        self._actions: dict[str, Callable[[Mapping[str, Any], str], Output]] = {
            "send_email": self.send_email,
            "send_notification": self.send_notification,
            "staff_task": self.staff_task,
            "create_reminder": self.create_reminder,
            "complete_reminder": self.complete_reminder,
            "add_note": self.add_note,
            "update_field": self.update_field,
            "http_request": self.http_request,
            "generate_report": self.generate_report,
        }

    def run(self, action: str, inputs: Mapping[str, Any], key: str) -> Output:
        """Do ``action`` once per ``key``; returns its outputs."""
        return self._actions[action](inputs, key)

    # Messages ---------------------------------------------------------------------------
    def send_email(self, inputs: Mapping[str, Any], key: str) -> Output:
        service = self._family("email")
        addresses, client, patient = self._email_recipients(inputs)
        if not addresses:
            return {"job_id": None, "to": "", "skipped": "the client has no email address"}
        context: dict[str, Any] = {
            "client_name": client.name if client is not None else "",
            "message": _text(inputs, "message"),
        }
        if patient is not None:
            context["patient_name"] = patient.name
        record = {
            "client": client.id if client is not None else None,
            "patient": patient.id if patient is not None else None,
        }
        job_id = service.queue(
            addresses,
            _text(inputs, "subject"),
            "client_reminder",
            context,
            idempotency_key=key,
            record=record,
        )
        return {"job_id": str(job_id), "to": ", ".join(addresses)}

    def send_notification(self, inputs: Mapping[str, Any], key: str) -> Output:
        service = self._family("notifications")
        recipient = self._recipient(inputs)
        channels = inputs.get("channels")
        job_ids = service.queue(
            str(inputs.get("kind") or "appointment_reminder"),
            [recipient],
            _text(inputs, "title"),
            _text(inputs, "message"),
            list(channels) if channels else None,
            idempotency_key=key,
        )
        return {"job_ids": [str(j) for j in job_ids]}

    def staff_task(self, inputs: Mapping[str, Any], key: str) -> Output:
        service = self._family("notifications")
        to = str(inputs.get("to") or "")
        if not to.startswith(("staff:", "role:")):
            raise ValidationError.single("with.to", "must be staff:<id> or role:<role>")
        job_ids = service.queue(
            "system_alert",
            [to],
            _text(inputs, "title"),
            _text(inputs, "message"),
            ["in_app"],
            important=bool(inputs.get("important", False)),
            idempotency_key=key,
        )
        return {"job_ids": [str(j) for j in job_ids]}

    # Records ------------------------------------------------------------------------------
    def create_reminder(self, inputs: Mapping[str, Any], key: str) -> Output:
        due_in = inputs.get("due_in")
        due = self.clock() + dt.timedelta(seconds=duration_seconds(due_in) if due_in else 0)
        client_id = _integer(inputs, "client_id")
        patient_id = inputs.get("patient_id")
        data = ReminderData(
            client_id=ClientId(client_id),
            kind=str(inputs["kind"]),
            channel=str(inputs.get("channel") or self._preferred(client_id)),
            due_at=due,
            message=str(inputs.get("message") or ""),
            patient_id=None
            if patient_id in (None, "")
            else PatientId(_integer(inputs, "patient_id")),
            dedupe_key=key,
        )
        try:
            reminder = self.services.reminders.create(data)
            return {"reminder_id": reminder.id}
        except Conflict:
            # Made by an earlier attempt of this very step (the key is the step's).
            with self._sessions() as session:
                existing = session.scalar(sa.select(Reminder.id).where(Reminder.dedupe_key == key))
            return {"reminder_id": existing}

    def complete_reminder(self, inputs: Mapping[str, Any], key: str) -> Output:
        reminder_id = _integer(inputs, "reminder_id")
        state = str(inputs["state"])
        current = self.services.reminders.get(ReminderId(reminder_id))
        if current.state.value != state:
            self.services.reminders.set_state(ReminderId(reminder_id), state)
        return {"reminder_id": reminder_id, "state": state}

    def add_note(self, inputs: Mapping[str, Any], key: str) -> Output:
        entity, record_id = _record(inputs)
        marker = f"[{key}]"
        text = _text(inputs, "text")
        day = self.clock().date().isoformat()
        if entity == "client":
            client = self.services.clients.get(ClientId(record_id))
            if marker not in client.notes:
                notes = _append(client.notes, f"{day} {text} {marker}")
                self.services.clients.update(ClientId(record_id), {"notes": notes})
        else:
            patient = self.services.patients.get(PatientId(record_id))
            if marker not in patient.notes:
                notes = _append(patient.notes, f"{day} {text} {marker}")
                self.services.patients.update(PatientId(record_id), {"notes": notes})
        return {"entity": entity, "id": record_id}

    def update_field(self, inputs: Mapping[str, Any], key: str) -> Output:
        entity, record_id = _record(inputs)
        name = str(inputs["field"])
        if name not in ALLOWED_FIELDS[entity]:
            allowed = ", ".join(sorted(ALLOWED_FIELDS[entity]))
            raise ValidationError.single(
                "with.field",
                f"a {entity}'s {name} cannot be changed by a workflow (allowed: {allowed})",
            )
        value: Any = inputs["value"]
        if entity == "client":
            self.services.clients.update(ClientId(record_id), {name: value})
        else:
            patient = self.services.patients.get(PatientId(record_id))
            alerts = list(patient.alerts or [])
            if str(value) not in alerts:
                self.services.patients.update(
                    PatientId(record_id), {"alerts": [*alerts, str(value)]}
                )
        return {"entity": entity, "id": record_id, "field": name, "value": value}

    # Webhooks and reports -----------------------------------------------------------------
    def http_request(self, inputs: Mapping[str, Any], key: str) -> Output:
        """POST to a registered endpoint, signed as the webhooks family signs (its secrets).

        The ``webhook-id`` is the step's key, the same on every try, so a receiver that
        deduplicates by it (as Standard Webhooks asks) acts once. The URL is checked by the
        webhooks' rules before the request (https, no local network unless the endpoint
        allows it); a refused address or a 4xx other than 408/429 fails the step at once.
        """
        delivery = self._family("webhooks")
        endpoint_id = _integer(inputs, "endpoint_id")
        with self._sessions() as session:
            endpoint = session.get(WebhookEndpoint, endpoint_id)
            if endpoint is None:
                raise ValidationError.single(
                    "with.endpoint_id", f"webhook endpoint {endpoint_id} does not exist"
                )
            if not endpoint.enabled:
                raise ValidationError.single(
                    "with.endpoint_id", f"webhook endpoint {endpoint_id} is disabled"
                )
            url, local = endpoint.url, endpoint.allow_local_network
        body = _request_body(inputs, self.clock())
        headers = sign_headers(
            key, int(time.time()), body, delivery.endpoints.signing_secrets(endpoint_id)
        )
        outcome = delivery.sender.post(url, body, headers, allow_local_network=local)
        if outcome.succeeded:
            return {"status_code": outcome.status_code, "msg_id": key}
        status = outcome.status_code
        if (outcome.error or "").startswith("refused:") or (
            status is not None and 400 <= status < 500 and status not in (408, 429)
        ):
            raise PermanentError(f"endpoint {endpoint_id}: {outcome.error}")
        raise RuntimeError(f"endpoint {endpoint_id}: {outcome.error}")

    def generate_report(self, inputs: Mapping[str, Any], key: str) -> Output:
        """Queue a report once per ``key``: a retried step gets the same job back."""
        service = self._family("reports")
        requested = inputs.get("requested_by")
        try:
            job_id = service.queue(
                str(inputs.get("kind")),
                str(inputs.get("format")),
                str(inputs.get("start")),
                str(inputs.get("end")),
                inputs.get("filters") or None,
                None if requested in (None, "") else _integer(inputs, "requested_by"),
                inputs.get("email_to") or None,
                idempotency_key=key,
            )
        except ValidationError as exc:
            names = {"fmt": "format"}
            raise ValidationError(
                {f"with.{names.get(k, k)}": v for k, v in exc.errors.items()}
            ) from None
        info = service.for_job(str(job_id))
        return {"job_id": str(job_id), "request_id": info.id if info is not None else None}

    # Previews -----------------------------------------------------------------------------
    def preview(self, action: str, inputs: Mapping[str, Any]) -> tuple[str, Output]:
        """What ``action`` would do with ``inputs``, and the outputs a run would get."""
        if action == "send_email":
            addresses, _, _ = self._email_recipients(inputs)
            to = ", ".join(addresses) or "(nobody: no email address)"
            body = _text(inputs, "message")
            return f"email {to}: {inputs.get('subject')!s}\n{body}", {"job_id": None, "to": to}
        if action in ("send_notification", "staff_task"):
            who = self._recipient(inputs) if action == "send_notification" else inputs.get("to")
            return f"notify {who}: {inputs.get('title')!s}: {inputs.get('message')!s}", {
                "job_ids": []
            }
        if action == "create_reminder":
            return f"create a {inputs.get('kind')} reminder for client {inputs.get('client_id')}", {
                "reminder_id": None
            }
        if action == "complete_reminder":
            return f"mark reminder {inputs.get('reminder_id')} {inputs.get('state')}", dict(inputs)
        if action == "add_note":
            return (
                f"add to {inputs.get('entity')} {inputs.get('id')}'s notes: {inputs.get('text')}",
                {"entity": inputs.get("entity"), "id": inputs.get("id")},
            )
        if action == "update_field":
            return (
                f"set {inputs.get('entity')} {inputs.get('id')}'s {inputs.get('field')} "
                f"to {inputs.get('value')!r}",
                dict(inputs),
            )
        if action == "http_request":
            body = _request_body(inputs, self.clock())
            return f"POST to webhook endpoint {inputs.get('endpoint_id')}: {body}", {
                "status_code": None,
                "msg_id": None,
            }
        if action == "generate_report":
            return (
                f"a {inputs.get('format')} {inputs.get('kind')} report, "
                f"{inputs.get('start')} to {inputs.get('end')}",
                {"job_id": None, "request_id": None},
            )
        raise KeyError(action)

    # Helpers ------------------------------------------------------------------------------
    def _family(self, name: str) -> Any:
        service = self.platform.services.get(name)
        if service is None:
            raise PermanentError(f"the {name} job family is not registered")
        return service

    def _recipient(self, inputs: Mapping[str, Any]) -> str:
        to = str(inputs.get("to") or "")
        if to == "owner":
            return f"client:{_integer(inputs, 'client_id')}"
        return to

    def _email_recipients(
        self, inputs: Mapping[str, Any]
    ) -> tuple[list[str], Client | None, Patient | None]:
        to = str(inputs.get("to") or "")
        client: Client | None = None
        patient: Patient | None = None
        with self._sessions() as session:
            if inputs.get("patient_id") not in (None, ""):
                patient = session.get(Patient, _integer(inputs, "patient_id"))
            if to == "owner" or to.startswith("client:"):
                client_id = _integer(inputs, "client_id") if to == "owner" else int(to[7:])
                client = session.get(Client, client_id)
                if client is None:
                    raise ValidationError.single(
                        "with.client_id", f"client {client_id} does not exist"
                    )
                return ([client.email] if client.email else []), client, patient
            if to.startswith("staff:"):
                staff = session.get(Staff, int(to[6:]))
                return ([staff.email] if staff is not None and staff.email else []), None, patient
            if to.startswith("role:"):
                role = StaffRole(to[5:])
                rows = session.scalars(
                    sa.select(Staff).where(Staff.role == role, Staff.active.is_(True))
                )
                return [s.email for s in rows if s.email], None, patient
        if "@" in to:
            return [to], None, patient
        raise ValidationError.single(
            "with.to", "must be owner, client:<id>, staff:<id>, role:<role> or an email address"
        )

    def _preferred(self, client_id: int) -> str:
        with self._sessions() as session:
            client = session.get(Client, client_id)
        if client is None:
            raise ValidationError.single("with.client_id", f"client {client_id} does not exist")
        value = client.preferred_contact.value
        return value if value in ("email", "sms") else "desktop"


def _text(inputs: Mapping[str, Any], name: str) -> str:
    value = inputs.get(name)
    return "" if value is None else str(value)


def _integer(inputs: Mapping[str, Any], name: str) -> int:
    value = inputs.get(name)
    if isinstance(value, bool):
        raise ValidationError.single(f"with.{name}", "must be a whole number")
    try:
        return int(str(value))
    except ValueError:
        raise ValidationError.single(
            f"with.{name}", f"must be a whole number, got {value!r}"
        ) from None


def _record(inputs: Mapping[str, Any]) -> tuple[str, int]:
    entity = str(inputs.get("entity"))
    if entity not in ALLOWED_FIELDS:
        raise ValidationError.single("with.entity", "must be client or patient")
    return entity, _integer(inputs, "id")


def _append(notes: str, line: str) -> str:
    return f"{notes.rstrip()}\n{line}" if notes.strip() else line


def _request_body(inputs: Mapping[str, Any], now: dt.datetime) -> str:
    """The Standard Webhooks body: ``{"type", "timestamp", "data"}`` as compact JSON."""
    data = inputs.get("data") or {}
    payload = {"type": _text(inputs, "event"), "timestamp": now.isoformat(), "data": data}
    return json.dumps(payload, separators=(",", ":"), default=str)
