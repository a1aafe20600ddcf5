"""Booking an appointment in the app: a confirmation email now, a reminder 24 h before.

The whole app as `purplecross run` builds it (settings, composition root, embedded job
runner, durable event dispatch, the email family on a real SMTP server): the booking is
made through the app's services as the booking dialog makes it. The clock is then moved
to the reminder's time: its job, scheduled by the app for exactly 24 h before the start,
is released the way its ETA arriving releases it (promoted), and the reminder is sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from jobs.models import Job
from jobs.registry import JobRegistry
from purplecross_desktop.app import build_context, shutdown
from purplecross_desktop.database.base import PatientId, RoomId, StaffId, utcnow
from purplecross_desktop.domain.appointments import Booking
from purplecross_desktop.domain.clients import ClientData
from purplecross_desktop.domain.patients import PatientData
from purplecross_desktop.domain.roles import StaffRole
from purplecross_desktop.domain.staff import StaffData
from purplecross_desktop.settings import load_settings
from purplecross_desktop.ui.context import AppContext
from tests.jobs.conftest import wait_until
from tests.jobs.smtp_server import SmtpServer
from tests.support.staff import sign_in


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def app(smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppContext]:
    monkeypatch.setenv("PURPLECROSS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PURPLECROSS_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("PURPLECROSS_SMTP_TLS", "none")
    context = build_context(load_settings(), start_jobs=True)
    try:
        yield context
    finally:
        shutdown(context)


def test_a_booking_confirms_now_and_reminds_24_hours_before(
    app: AppContext, smtp: SmtpServer
) -> None:
    services = app.services
    assert services is not None
    sign_in(app)
    vet = services.staff.create(
        StaffData(name="Dr Vet", role=StaffRole.VETERINARIAN, login="vet"), "correct horse"
    )
    room = services.rooms.create("Room 1")
    client = services.clients.create(
        ClientData(name="Ada Owner", email="ada@example.org", preferred_contact="email")
    )
    patient = services.patients.create(PatientData(client_id=client.id, name="Rex", species="dog"))
    starts = (utcnow() + dt.timedelta(days=3)).replace(microsecond=0)
    appointment = services.appointments.book(
        Booking(
            PatientId(patient.id),
            StaffId(vet.id),
            RoomId(room.id),
            starts,
            starts + dt.timedelta(minutes=20),
        )
    )

    def subjects() -> list[str]:
        with smtp.inbox.lock:
            return [str(m["Subject"]) for m in smtp.inbox.messages]

    # Now: the confirmation, and the reminder's job waiting for 24 h before the start.
    wait_until(lambda: subjects() == ["Appointment booked for Rex"], timeout=30)
    engine = app.engine

    def reminder_job() -> tuple[str, str, dt.datetime] | None:
        with engine.connect() as conn:
            row = conn.execute(
                sa.select(Job.id, Job.state, Job.next_run_at).where(
                    Job.task == "reminders.send", Job.appointment_id == appointment.id
                )
            ).first()
        return None if row is None else (row[0], row[1], row[2])

    job = wait_until(reminder_job, timeout=30)
    assert job[1] == "scheduled"
    assert job[2] == starts - dt.timedelta(hours=24)
    assert subjects() == ["Appointment booked for Rex"]  # no reminder yet

    # The clock reaches 24 h before the start: the job is released, the reminder goes.
    assert app.jobs is not None
    assert JobRegistry(app.jobs.platform).promote([job[0]]) == [job[0]]
    wait_until(lambda: len(subjects()) == 2, timeout=30)
    assert subjects() == ["Appointment booked for Rex", "Reminder: Rex's appointment"]
    with smtp.inbox.lock:
        assert [str(m["To"]) for m in smtp.inbox.messages] == ["ada@example.org"] * 2
