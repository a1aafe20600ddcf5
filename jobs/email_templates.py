"""Email templates: which exist, which context keys each needs, and rendering (HTML + text).

Templates live in ``resources/templates`` as ``<name>.html.j2`` (autoescaped) and
``<name>.txt.j2``. The clinic's name, address and phone come from settings as
``clinic``; everything else comes from the caller's context.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    """One email template and its context.

    Args:
        name: the template name given to ``queue_email``.
        required: keys the context must have (a missing one is an error at enqueue).
        optional: keys shown when present.
        description: what the email is for.
    """

    name: str
    required: frozenset[str]
    optional: frozenset[str]
    description: str


TEMPLATES: dict[str, TemplateSpec] = {
    spec.name: spec
    for spec in (
        TemplateSpec(
            "appointment_confirmation",
            frozenset({"client_name", "patient_name", "appointment_time"}),
            frozenset({"vet_name", "notes"}),
            "Sent when an appointment is booked.",
        ),
        TemplateSpec(
            "appointment_reminder",
            frozenset({"client_name", "patient_name", "appointment_time"}),
            frozenset({"vet_name"}),
            "Sent ahead of an appointment.",
        ),
        TemplateSpec(
            "vaccination_due",
            frozenset({"client_name", "patient_name", "vaccine", "due_date"}),
            frozenset(),
            "Sent when a patient's vaccination falls due.",
        ),
        TemplateSpec(
            "client_reminder",
            frozenset({"client_name", "message"}),
            frozenset({"patient_name"}),
            "A reminder in the clinic's words: medication refills, follow-ups, payments.",
        ),
        TemplateSpec(
            "notification",
            frozenset({"message"}),
            frozenset({"recipient_name", "title"}),
            "A notification (payment received, cancellation, report ready, ...) by email.",
        ),
        TemplateSpec(
            "test_message",
            frozenset({"sent_by"}),
            frozenset(),
            "Sent from Settings to check that the clinic's mail settings work.",
        ),
        TemplateSpec(
            "invoice",
            frozenset({"client_name", "invoice_number", "total"}),
            frozenset({"due_date", "lines"}),
            "Sent with an invoice; attach its PDF with attachments=.",
        ),
    )
}


class EmailTemplateError(ValueError):
    """An unknown template or a context that lacks a required key (raised at enqueue)."""


@dataclass(frozen=True, slots=True)
class ClinicInfo:
    """The clinic details every template shows."""

    name: str
    address: str = ""
    phone: str = ""


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """A rendered template: the plain-text and HTML parts."""

    text: str
    html: str


def templates_dir() -> Path:
    """The packaged templates folder."""
    return Path(str(importlib.resources.files("resources") / "templates"))


class EmailTemplates:
    """Checks contexts and renders templates.

    Args:
        directory: where the ``.j2`` files are (the packaged folder by default).
    """

    def __init__(self, directory: Path | None = None) -> None:
        self.environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(directory or templates_dir())),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )

    def check(self, template: str, context: Mapping[str, Any]) -> TemplateSpec:
        """The template's spec, or :class:`EmailTemplateError` naming what is wrong."""
        spec = TEMPLATES.get(template)
        if spec is None:
            raise EmailTemplateError(
                f"template: unknown template {template!r}; use one of {sorted(TEMPLATES)}"
            )
        missing = sorted(spec.required - set(context))
        if missing:
            raise EmailTemplateError(
                f"context: template {template!r} needs {', '.join(missing)} "
                f"(required: {', '.join(sorted(spec.required))})"
            )
        return spec

    def render(
        self,
        template: str,
        context: Mapping[str, Any],
        clinic: ClinicInfo,
        subject: str,
        has_attachment: bool = False,
    ) -> RenderedEmail:
        """Both parts of ``template`` for ``context`` (checked first)."""
        spec = self.check(template, context)
        values: dict[str, Any] = dict.fromkeys(spec.optional)
        values.update(context)
        values.update(clinic=clinic, subject=subject, has_attachment=has_attachment)
        try:
            text = self.environment.get_template(f"{template}.txt.j2").render(values)
            html = self.environment.get_template(f"{template}.html.j2").render(values)
        except jinja2.TemplateNotFound as exc:
            raise EmailTemplateError(f"template: file {exc.name} is missing") from None
        except jinja2.UndefinedError as exc:
            raise EmailTemplateError(f"context: {exc.message}") from None
        return RenderedEmail(text=text, html=html)
