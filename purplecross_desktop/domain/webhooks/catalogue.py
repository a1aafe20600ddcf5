"""The event catalogue: every event type the clinic emits to webhooks, its schema and example.

A webhook body is ``{"type", "timestamp", "data"}`` (the Standard Webhooks shape):
``type`` is the event name, ``timestamp`` the time of the change (ISO 8601, UTC) and
``data`` the entity's ``id`` plus the fields listed here and nothing else. Names,
addresses, notes and other free text stay in the clinic: a receiver that needs them
fetches the record by id. A field is dropped from ``data`` unless the catalogue lists
it, so a field added to a domain event later never leaks to receivers unreviewed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class Field:
    """One field of an event's ``data``: its JSON Schema type, meaning and an example."""

    name: str
    schema: Mapping[str, Any]
    description: str
    example: Any


def _int(name: str, description: str, example: int = 42) -> Field:
    return Field(name, {"type": "integer"}, description, example)


def _nullable_int(name: str, description: str, example: int | None = 3) -> Field:
    return Field(name, {"type": ["integer", "null"]}, description, example)


def _text(name: str, description: str, example: str) -> Field:
    return Field(name, {"type": "string"}, description, example)


def _time(name: str, description: str, example: str = "2026-03-02T10:30:00+00:00") -> Field:
    return Field(name, {"type": "string", "format": "date-time"}, description, example)


def _date(name: str, description: str, example: str | None = "2027-03-02") -> Field:
    return Field(name, {"type": ["string", "null"], "format": "date"}, description, example)


CHANGED = Field(
    "fields",
    {"type": "array", "items": {"type": "string"}},
    "the names of the fields that changed (fetch the record for their values)",
    ["phone", "email"],
)
APPOINTMENT = (
    _int("patient_id", "the patient seen"),
    _int("client_id", "the patient's owner"),
    _int("vet_id", "the veterinarian (a staff id)"),
    _nullable_int("room_id", "the room, if one is booked"),
    _time("starts_at", "start of the slot"),
    _time("ends_at", "end of the slot", "2026-03-02T11:00:00+00:00"),
    _text("status", "scheduled, confirmed, checked_in, in_consult, completed, ...", "scheduled"),
)
INVOICE = (
    _int("client_id", "who is billed"),
    _nullable_int("patient_id", "the patient it is for, if any"),
    _text("number", "the invoice number", "INV-2026-000123"),
    _text("total", "the total as a decimal string", "84.00"),
    _text("balance", "what is left to pay, as a decimal string", "0.00"),
    _text("status", "draft, issued, partially_paid, paid, void, ...", "paid"),
)
REMINDER = (
    _text("kind", "vaccination, follow_up, ...", "vaccination"),
    _text("channel", "email, sms, ...", "email"),
    _text("state", "scheduled, sent, cancelled, ...", "scheduled"),
    _time("due_at", "when it is due"),
    _int("client_id", "who is reminded"),
    _nullable_int("patient_id", "the patient it is about"),
    _nullable_int("appointment_id", "the appointment it is about", None),
    _nullable_int("vaccination_id", "the vaccination it is about", None),
    _nullable_int("prescription_id", "the prescription it is about", None),
    _nullable_int("invoice_id", "the invoice it is about", None),
)


@dataclass(frozen=True, slots=True)
class EventType:
    """One event type of the catalogue.

    Attributes:
        name: ``"<entity>.<verb>"``.
        version: bumped when ``data`` changes incompatibly.
        description: when it is sent.
        fields: what ``data`` carries besides ``id``.
    """

    name: str
    description: str
    fields: tuple[Field, ...] = ()
    version: int = 1

    @property
    def entity(self) -> str:
        return self.name.split(".", 1)[0]

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of a body of this type."""
        properties: dict[str, Any] = {
            "id": {"type": "integer", "description": f"the {self.entity}'s id"}
        }
        for f in self.fields:
            properties[f.name] = {**f.schema, "description": f.description}
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"{self.name} v{self.version}",
            "type": "object",
            "required": ["type", "timestamp", "data"],
            "properties": {
                "type": {"const": self.name},
                "timestamp": {"type": "string", "format": "date-time"},
                "data": {
                    "type": "object",
                    "required": ["id"],
                    "properties": properties,
                    "additionalProperties": False,
                },
            },
        }

    def example(self) -> dict[str, Any]:
        """An example body."""
        data: dict[str, Any] = {"id": 12}
        data.update({f.name: f.example for f in self.fields})
        return {"type": self.name, "timestamp": "2026-03-01T09:15:00+00:00", "data": data}


def _types(entries: Iterable[EventType]) -> dict[str, EventType]:
    return {e.name: e for e in entries}


CATALOGUE: dict[str, EventType] = _types(
    [
        EventType("appointment.booked", "an appointment was booked", APPOINTMENT),
        EventType(
            "appointment.rescheduled",
            "an appointment moved to another time",
            (
                *APPOINTMENT,
                _time("previous_starts_at", "the old start"),
                _time("previous_ends_at", "the old end"),
            ),
        ),
        EventType(
            "appointment.updated", "details of an appointment changed", (*APPOINTMENT, CHANGED)
        ),
        EventType(
            "appointment.status_changed",
            "an appointment was confirmed, checked in, called in, marked a no-show",
            (*APPOINTMENT, _text("previous", "the status before", "confirmed")),
        ),
        EventType("appointment.cancelled", "an appointment was cancelled", APPOINTMENT),
        EventType("appointment.completed", "an appointment was completed", APPOINTMENT),
        EventType("client.created", "a client (owner) was registered"),
        EventType("client.updated", "a client's details or channel opt-outs changed", (CHANGED,)),
        EventType("client.deactivated", "a client was deactivated"),
        EventType(
            "patient.created",
            "a patient was registered",
            (_int("client_id", "the owner"), _text("species", "dog, cat, ...", "dog")),
        ),
        EventType(
            "patient.updated",
            "a patient's details or weight changed",
            (_int("client_id", "the owner"), CHANGED),
        ),
        EventType(
            "patient.deceased",
            "a patient was recorded as deceased",
            (_int("client_id", "the owner"), _date("on", "the date", "2026-03-01")),
        ),
        EventType("invoice.created", "an invoice was issued", INVOICE),
        EventType(
            "invoice.updated",
            "an invoice changed or took a part payment",
            (*INVOICE, _nullable_int("payment_id", "the payment taken, if any", 7)),
        ),
        EventType("invoice.paid", "an invoice was paid in full", INVOICE),
        EventType(
            "prescription.created",
            "a prescription was written",
            (
                _int("patient_id", "the patient"),
                _int("vet_id", "the prescribing veterinarian"),
                _text("medication", "the medication", "Carprofen"),
                _date("ends_on", "the last day, if set"),
            ),
        ),
        EventType(
            "prescription.updated",
            "a prescription changed",
            (_int("patient_id", "the patient"), CHANGED, _date("ends_on", "the last day, if set")),
        ),
        EventType(
            "vaccination.recorded",
            "a vaccination was given",
            (
                _int("patient_id", "the patient"),
                _text("vaccine", "the vaccine", "Rabies"),
                _date("next_due_on", "when the next dose is due"),
            ),
        ),
        EventType(
            "vaccination.updated",
            "a vaccination record changed",
            (_int("patient_id", "the patient"), CHANGED, _date("next_due_on", "next dose")),
        ),
        EventType("reminder.created", "a reminder was scheduled", REMINDER),
        EventType(
            "reminder.updated",
            "a reminder changed, was sent or cancelled",
            (*REMINDER, _text("previous", "the state before, on a state change", "scheduled")),
        ),
        EventType(
            "price_item.created",
            "a price-list item was added",
            (_text("name", "its name", "Consultation"),),
        ),
        EventType("price_item.updated", "a price-list item changed", (CHANGED,)),
        EventType("room.created", "a room was added", (_text("name", "its name", "Room 1"),)),
        EventType("room.updated", "a room changed", (CHANGED,)),
        EventType(
            "staff.created",
            "a staff account was created",
            (_text("role", "front_desk, veterinarian, practice_manager, admin", "veterinarian"),),
        ),
        EventType("staff.updated", "a staff account changed", (CHANGED,)),
    ]
)

#: The event sent by "Send test event"; not emitted by the clinic, never matched by filters.
TEST_EVENT = "webhook.test"


def entities() -> list[str]:
    """Every entity that has event types, sorted."""
    return sorted({e.entity for e in CATALOGUE.values()})


def check_filter(patterns: object, field: str = "events") -> list[str]:
    """The event-type filter as stored (sorted, unique), or ValueError naming ``field``.

    Accepted: exact names of the catalogue and ``<entity>.*`` for an entity that has
    event types; at least one.
    """
    if isinstance(patterns, str):
        patterns = [p for p in patterns.replace(",", " ").split() if p]
    if not isinstance(patterns, list | tuple | set | frozenset):
        raise ValueError(f"{field}: must be a list of event types")
    if not patterns:
        raise ValueError(
            f"{field}: must name at least one event type (e.g. appointment.booked or appointment.*)"
        )
    known_entities = set(entities())
    out: set[str] = set()
    for pattern in patterns:
        if not isinstance(pattern, str):
            raise ValueError(f"{field}: {pattern!r} is not an event type")
        text = pattern.strip()
        if text.endswith(".*"):
            if text[:-2] not in known_entities:
                raise ValueError(
                    f"{field}: {text!r}: no event types for {text[:-2]!r}; entities are "
                    + ", ".join(sorted(known_entities))
                )
        elif text not in CATALOGUE:
            raise ValueError(
                f"{field}: {text!r} is not an event type of the catalogue "
                "(`purplecross webhooks events` lists them)"
            )
        out.add(text)
    return sorted(out)


def body_for(name: str, entity_id: int, data: Mapping[str, Any], occurred_at: dt.datetime) -> str:
    """The exact JSON text sent for one event: catalogue fields only, keys sorted."""
    event_type = CATALOGUE.get(name)
    allowed = {f.name for f in event_type.fields} if event_type is not None else set()
    payload = {"id": entity_id} | {k: v for k, v in data.items() if k in allowed}
    body = {
        "type": name,
        "timestamp": occurred_at.astimezone(dt.UTC).isoformat(),
        "data": payload,
    }
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode("utf-8")


def ping_body(endpoint_id: int, now: dt.datetime) -> str:
    """The body of a test message."""
    body = {
        "type": TEST_EVENT,
        "timestamp": now.astimezone(dt.UTC).isoformat(),
        "data": {"id": endpoint_id, "message": "a test event from Purple Cross"},
    }
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode("utf-8")
