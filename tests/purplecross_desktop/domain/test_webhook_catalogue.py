"""The webhook catalogue covers every event the domain emits, and bodies carry only its fields."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import purplecross_desktop.domain as domain
from purplecross_desktop.domain.webhooks import CATALOGUE
from purplecross_desktop.domain.webhooks.catalogue import body_for

EMIT = re.compile(r'emit\(\s*"([a-z_]+\.[a-z_]+)"')


def test_every_event_the_domain_emits_is_in_the_catalogue() -> None:
    root = Path(domain.__file__).parent
    emitted = {m for p in root.rglob("*.py") for m in EMIT.findall(p.read_text(encoding="utf-8"))}
    assert len(emitted) > 20
    assert emitted - set(CATALOGUE) == set()


def test_a_body_carries_the_id_and_the_catalogued_fields_only() -> None:
    at = dt.datetime(2026, 3, 1, 9, 15, tzinfo=dt.UTC)
    body = json.loads(
        body_for("client.created", 7, {"name": "Ada Lovelace", "email": "ada@example.org"}, at)
    )
    assert body == {"type": "client.created", "timestamp": at.isoformat(), "data": {"id": 7}}
    booked = json.loads(body_for("appointment.booked", 3, {"patient_id": 1, "notes": "bites"}, at))
    assert booked["data"] == {"id": 3, "patient_id": 1}
