"""The app's composition root wires bookings to confirmations and reminders (embedded jobs)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import jobs
from jobs.registry import JobRegistry
from purplecross_desktop.database import make_session_factory
from purplecross_desktop.database.base import PatientId, RoomId, StaffId, utcnow
from purplecross_desktop.domain.appointments import Booking
from purplecross_desktop.domain.clients import ClientData
from purplecross_desktop.domain.events import EventBus
from purplecross_desktop.domain.patients import PatientData
from purplecross_desktop.domain.staff import StaffData, StaffRole
from purplecross_desktop.jobs_wiring import JobsRuntime
from purplecross_desktop.services import build_services
from purplecross_desktop.settings import load_settings
from tests.jobs.conftest import FAST, make_db, wait_until


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    monkeypatch.setenv("PURPLECROSS_DATABASE_URL", url)
    monkeypatch.setenv("PURPLECROSS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PURPLECROSS_REMINDER_LEAD_HOURS", "24")
    return url


def test_a_booking_in_the_app_confirms_now_and_schedules_its_reminder_24h_before(
    url: str,
) -> None:
    import purplecross_desktop.database.models  # noqa: F401

    engine = make_db(url)
    settings = load_settings()
    services = build_services(make_session_factory(engine), EventBus("front-desk"))
    runtime = JobsRuntime(settings, engine, services, **FAST)
    runtime.start()
    try:
        vet = services.staff.create(
            StaffData(name="Dr Who", role=StaffRole.VETERINARIAN, login="who"), "correct horse"
        )
        room = services.rooms.create("Room 1")
        client = services.clients.create(
            ClientData(name="Ada", email="ada@example.org", preferred_contact="email")
        )
        patient = services.patients.create(
            PatientData(client_id=client.id, name="Rex", species="dog")
        )
        starts = utcnow().replace(microsecond=0) + dt.timedelta(hours=30)
        appointment = services.appointments.book(
            Booking(
                PatientId(patient.id),
                StaffId(vet.id),
                RoomId(room.id),
                starts,
                starts + dt.timedelta(minutes=20),
            )
        )
        registry = JobRegistry(runtime.platform)

        def reminder_jobs() -> list[object]:
            found = registry.search(task="reminders.send", record={"appointment": appointment.id})
            return [(j.state, j.next_run_at) for j in found]

        wait_until(lambda: reminder_jobs() == [("scheduled", starts - dt.timedelta(hours=24))])
        outbox = settings.email_outbox_path
        wait_until(lambda: len(list(outbox.glob("*.eml"))) == 1)
        (eml,) = outbox.glob("*.eml")
        assert "Subject: Appointment booked for Rex" in eml.read_text()
        assert registry.search(task="reminders.scan")  # the scan ran at start
    finally:
        runtime.stop()
        engine.dispose()
    assert jobs._default is None
