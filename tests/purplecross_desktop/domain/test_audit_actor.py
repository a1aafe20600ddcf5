"""Every service write made at a workstation records the signed-in staff member in the
audit log, never "system" (None); a guard fails when a new write method is not exercised."""

from __future__ import annotations

import datetime as dt
import inspect
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from purplecross_desktop.database import make_engine, make_session_factory
from purplecross_desktop.database.base import (
    AppointmentId,
    ClientId,
    InvoiceId,
    PatientId,
    PrescriptionId,
    ReminderId,
    RoomId,
    StaffId,
    VaccinationId,
)
from purplecross_desktop.database.session import upgrade
from purplecross_desktop.domain.appointments import AppointmentService, Booking
from purplecross_desktop.domain.audit import AuditEntry
from purplecross_desktop.domain.billing import InvoiceData, LineData, PaymentData
from purplecross_desktop.domain.clients import ClientData, Phone
from purplecross_desktop.domain.medical import PrescriptionData, VaccinationData
from purplecross_desktop.domain.patients import PatientData
from purplecross_desktop.domain.price_list import PriceItemData
from purplecross_desktop.domain.reminders import ReminderData
from purplecross_desktop.domain.service import ServiceBase
from purplecross_desktop.domain.staff import StaffData, StaffRole
from purplecross_desktop.domain.webhooks import SecretBox, WebhookMessage, WebhookService
from purplecross_desktop.services import Services, build_services
from purplecross_desktop.staff_session import StaffSession

PASSWORD = "a long enough password"
#: Writes that are the system's on purpose: nobody is signed in before the first admin.
SYSTEM_WRITES = {("StaffService", "create_first_admin")}


@pytest.fixture
def desk(database_url: str) -> Iterator[tuple[Services, StaffSession]]:
    upgrade(database_url)
    engine = make_engine(database_url)
    session = StaffSession()
    services = build_services(make_session_factory(engine), current_actor=session.actor)
    yield services, session
    engine.dispose()


def _writers() -> set[tuple[str, str]]:
    """(service, method) of every public method of every domain service that writes: its
    body opens a write (``self._write(``) or calls one of its class's writers."""
    found: set[tuple[str, str]] = set()
    for cls in _service_classes():
        sources = {
            name: inspect.getsource(fn)
            for name, fn in vars(cls).items()
            if inspect.isfunction(fn) and not name.startswith("_")
        }
        direct = {name for name, src in sources.items() if "self._write(" in src}
        changed = True
        while changed:
            changed = False
            for name, src in sources.items():
                if name not in direct and any(re.search(rf"self\.{w}\(", src) for w in direct):
                    direct.add(name)
                    changed = True
        found |= {(cls.__name__, name) for name in direct}
    return found


def _service_classes() -> list[type[ServiceBase]]:
    import purplecross_desktop.domain as domain

    root = Path(domain.__file__).parent
    for path in sorted(root.rglob("*.py")):
        module = ".".join(path.relative_to(root.parent.parent).with_suffix("").parts)
        __import__(module.removesuffix(".__init__"))

    def walk(cls: type[ServiceBase]) -> Iterator[type[ServiceBase]]:
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("purplecross_desktop.domain"):
                yield sub
            yield from walk(sub)

    return sorted(set(walk(ServiceBase)), key=lambda c: c.__name__)


def test_every_write_records_the_signed_in_staff_member(
    desk: tuple[Services, StaffSession],
) -> None:
    services, session = desk
    called: set[tuple[str, str]] = set()

    def call(service: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        called.add((type(service).__name__, method))
        fn: Callable[..., Any] = getattr(service, method)
        return fn(*args, **kwargs)

    admin = call(
        services.staff,
        "create_first_admin",
        StaffData("Alex Admin", StaffRole.ADMIN, "admin"),
        PASSWORD,
    )
    session.sign_in(admin)
    vet = call(
        services.staff,
        "create",
        StaffData("Dr Herriot", StaffRole.VETERINARIAN, "jh"),
        PASSWORD,
    )
    call(services.staff, "update", StaffId(vet.id), {"email": "jh@example.org"})
    call(services.staff, "set_password", StaffId(vet.id), PASSWORD + "!")
    room = call(services.rooms, "create", "Room 1")
    call(services.rooms, "update", RoomId(room.id), {"name": "Room One"})
    item = call(
        services.price_list, "create", PriceItemData("Consultation", "service", "40", "0.2")
    )
    call(services.price_list, "update", item.id, {"unit_price": "42"})

    ada = call(services.clients, "create", ClientData("Ada", phones=(Phone("07700 900123"),)))
    call(services.clients, "update", ClientId(ada.id), {"city": "London"})
    rex = call(services.patients, "create", PatientData(ClientId(ada.id), "Rex", "dog"))
    call(services.patients, "update", PatientId(rex.id), {"breed": "Beagle"})
    call(services.patients, "record_weight", PatientId(rex.id), "12.5")
    today = dt.datetime.now(dt.UTC).date()
    vaccination = call(
        services.medical,
        "record_vaccination",
        VaccinationData(PatientId(rex.id), "Rabies", today, today + dt.timedelta(days=365)),
    )
    call(services.medical, "update_vaccination", VaccinationId(vaccination.id), {"notes": "ok"})
    prescription = call(
        services.medical,
        "prescribe",
        PrescriptionData(PatientId(rex.id), StaffId(vet.id), "Carprofen", "50 mg", "daily", today),
    )
    call(services.medical, "update_prescription", PrescriptionId(prescription.id), {"refills": 1})

    start = dt.datetime.combine(today + dt.timedelta(days=2), dt.time(10), tzinfo=dt.UTC)

    def book(hour: int) -> Any:
        at = start + dt.timedelta(hours=hour)
        booking = Booking(
            PatientId(rex.id), StaffId(vet.id), RoomId(room.id), at, at + dt.timedelta(minutes=30)
        )
        return call(services.appointments, "book", booking)

    first, second, third = book(0), book(1), book(2)
    call(
        services.appointments,
        "reschedule",
        AppointmentId(first.id),
        start + dt.timedelta(hours=3),
        start + dt.timedelta(hours=3, minutes=30),
    )
    call(services.appointments, "update", AppointmentId(first.id), {"reason": "limping"})
    call(services.appointments, "confirm", AppointmentId(first.id))
    call(services.appointments, "check_in", AppointmentId(first.id))
    call(services.appointments, "start_consult", AppointmentId(first.id))
    call(services.appointments, "complete", AppointmentId(first.id))
    call(services.appointments, "set_status", AppointmentId(second.id), "confirmed")
    call(services.appointments, "cancel", AppointmentId(second.id), "owner away")
    later = AppointmentService(  # a no-show is recorded after its start time
        services.appointments._sessions,
        services.events,
        clock=lambda: start + dt.timedelta(hours=6),
        current_actor=session.actor,
    )
    call(later, "mark_no_show", AppointmentId(third.id))

    invoice = call(
        services.invoices,
        "create",
        InvoiceData(ClientId(ada.id), [LineData("Consultation", 1, "40")]),
    )
    call(services.invoices, "update", InvoiceId(invoice.id), {"notes": "thanks"})
    call(services.invoices, "add_payment", InvoiceId(invoice.id), PaymentData(Decimal(10), "cash"))
    call(services.accounts, "pay", ClientId(ada.id), PaymentData(Decimal(5), "cash"))
    call(services.notifications, "set_opt_out", ClientId(ada.id), "sms")
    duplicate = call(
        services.invoices,
        "create",
        InvoiceData(ClientId(ada.id), [LineData("Consultation", 1, "40")]),
    )
    call(services.invoices, "void", InvoiceId(duplicate.id), "entered twice")

    reminder = call(
        services.reminders,
        "create",
        ReminderData(ClientId(ada.id), "follow_up", "email", start, message="hello"),
    )
    call(services.reminders, "update", ReminderId(reminder.id), {"message": "hello again"})
    call(services.reminders, "set_state", ReminderId(reminder.id), "cancelled")
    hooks = WebhookService(
        services.clients._sessions,
        services.events,
        SecretBox(b"test signing key"),
        current_actor=session.actor,
    )
    endpoint = call(hooks, "create", "https://lab.example.org/hook", ["client.*"]).endpoint
    call(hooks, "rotate_secret", endpoint.id)
    call(hooks, "disable", endpoint.id)
    call(hooks, "enable", endpoint.id)
    call(hooks, "recover", endpoint.id, start)
    with services.audit._sessions() as db, db.begin():
        db.add(
            WebhookMessage(
                msg_id="msg_audit", endpoint_id=endpoint.id, event_type="client.created", body="{}"
            )
        )
    call(hooks, "replay", "msg_audit")
    call(hooks, "remove", endpoint.id)
    call(services.patients, "mark_deceased", PatientId(rex.id))
    call(services.clients, "deactivate", ClientId(ada.id))

    missing = _writers() - called
    assert not missing, f"writes this test does not check: {sorted(missing)}"

    with services.audit._sessions() as db:
        rows = db.execute(
            sa.select(AuditEntry.entity, AuditEntry.action, AuditEntry.staff_id)
        ).all()
    assert len(rows) >= len(called)
    by_system = [(e, a) for e, a, who in rows if who is None]
    assert by_system == [("staff", "created")]  # the first admin, created by nobody
    assert {who for _e, _a, who in rows if who is not None} == {admin.id}
