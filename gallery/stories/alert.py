"""Alert stories: the four kinds, closable, long text, a list, and real clinic messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from PySide6.QtWidgets import QWidget

from gallery.play import Step
from gallery.story import Component, Story
from widgets.alert import KINDS, Alert

_BASE: dict[str, Any] = {
    "kind": "info",
    "title": "",
    "message": "",
    "items": [],
    "closable": False,
    "timeout_ms": 0,
}


_MATRIX_TEXT = {
    "info": "Clinic closes at 18:00.",
    "success": "Record saved.",
    "warning": "Vaccine due soon.",
    "error": "Sending failed.",
}


def render(args: Mapping[str, Any]) -> QWidget:
    """An Alert from the story args."""
    return Alert(
        args["message"],
        kind=args["kind"],
        title=args["title"],
        items=args["items"],
        closable=args["closable"],
        timeout_ms=args["timeout_ms"],
    )


def code(args: Mapping[str, Any]) -> str:
    """The snippet: only the arguments that differ from Alert's defaults."""
    parts = [repr(args["message"]), f"kind={args['kind']!r}"]
    if args["title"]:
        parts.append(f"title={args['title']!r}")
    if args["items"]:
        parts.append(f"items={args['items']!r}")
    if args["closable"]:
        parts.append("closable=True")
    if args["timeout_ms"]:
        parts.append(f"timeout_ms={args['timeout_ms']}")
    body = ",\n    ".join(parts)
    return (
        "from widgets.alert import Alert\n\n"
        f"alert = Alert(\n    {body},\n)\nalert.sig_closed.connect(on_closed)\n"
    )


def _story(name: str, docs: str, **overrides: Any) -> Story:
    return Story(
        name=name,
        render=render,
        args={**_BASE, **overrides},
        choices={"kind": KINDS},
        ranges={"timeout_ms": (0, 60_000)},
        docs=docs,
        code=code,
        width=460,
    )


COMPONENT = Component(
    name="Alert",
    widget=Alert,
    stories=(
        _story("Info", "Neutral information.", message="Clinic hours change on public holidays."),
        _story(
            "Success", "Something worked.", kind="success", message="The patient record was saved."
        ),
        _story(
            "Warning",
            "Attention needed soon.",
            kind="warning",
            message="Rabies vaccination is due in 7 days.",
        ),
        _story(
            "Error",
            "Something failed; say what to do next.",
            kind="error",
            message="The invoice could not be sent. Check the email address.",
        ),
        replace(
            _story(
                "WithCloseButton",
                "Closable: the cross (or Escape) emits sig_closed once.",
                title="Tip",
                message="You can book follow-ups from the patient page.",
                closable=True,
            ),
            play=(Step("click", "Dismiss"), Step("expect", "Alert", "sig_closed")),
        ),
        _story(
            "LongMessage",
            "Long messages wrap inside the alert's width.",
            kind="warning",
            title="Lab results delayed",
            message=(
                "The external laboratory reported a delay on blood panels submitted "
                "after 14:00. Results for Bella (Labrador, 4 years) and 3 other patients "
                "are expected tomorrow morning; the owners have not been notified yet, "
                "so consider calling them before the end of the day."
            ),
        ),
        _story(
            "WithList",
            "Rich content: a bulleted list under the message.",
            kind="error",
            title="The appointment could not be booked",
            message="Please fix the following:",
            items=[
                "Pick a veterinarian",
                "The start time must be in the future",
                "The patient's owner has no phone number",
            ],
        ),
        _story(
            "SuccessfulAppointment",
            "A toast after booking; dismisses itself after 5 s.",
            kind="success",
            title="Appointment booked",
            message="Max (Beagle) with Dr. Rivera on Tue 14 May at 10:30.",
            closable=True,
            timeout_ms=5000,
        ),
        _story(
            "PaymentWarning",
            "An overdue balance on the owner's account.",
            kind="warning",
            title="Outstanding balance",
            message="Jane Cooper owes $245.00 from invoice INV-1042 (30 days overdue).",
            closable=True,
        ),
        _story(
            "SystemError",
            "A background failure the user must know about.",
            kind="error",
            title="Reminder emails are not being sent",
            message="The mail server refused the connection (SMTP 421). "
            "Reminders will be retried automatically.",
            items=["12 reminders waiting", "Last attempt: 2 minutes ago"],
        ),
    ),
    matrix_rows=tuple(
        (kind.title(), {**_BASE, "kind": kind, "message": _MATRIX_TEXT[kind], "closable": True})
        for kind in KINDS
    ),
    matrix_states=("normal", "hover", "focus", "pressed", "disabled"),
    arg_docs={
        "kind": "The alert's tone: info, success, warning or error (colour, icon, role).",
        "title": "A bold first line; empty for none.",
        "message": "The text of the alert.",
        "items": "A bulleted list under the message (e.g. the fields to fix).",
        "closable": "Whether a close button lets the user dismiss it (emits sig_closed).",
        "timeout_ms": "Dismiss itself after this many milliseconds; 0 keeps it.",
    },
)
