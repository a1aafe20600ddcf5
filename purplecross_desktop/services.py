"""The domain services of one process, built together on one database and event bus (Qt-free).

The app and the workers both build their services here, so a job sees exactly the
services a screen does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from purplecross_desktop.database.session import SessionFactory
from purplecross_desktop.desk_cache import CachedFrontDesk
from purplecross_desktop.domain.access import AccessService
from purplecross_desktop.domain.accounts import AccountService
from purplecross_desktop.domain.appointments import AppointmentService
from purplecross_desktop.domain.audit import AuditService
from purplecross_desktop.domain.billing import InvoiceService
from purplecross_desktop.domain.clients import ClientService
from purplecross_desktop.domain.events import EventBus
from purplecross_desktop.domain.front_desk import FrontDeskQueries
from purplecross_desktop.domain.medical import MedicalService
from purplecross_desktop.domain.notifications import NotificationService
from purplecross_desktop.domain.patients import PatientService
from purplecross_desktop.domain.price_list import PriceListService
from purplecross_desktop.domain.reminders import ReminderService
from purplecross_desktop.domain.rooms import RoomService
from purplecross_desktop.domain.service import CurrentActor, system_actor
from purplecross_desktop.domain.staff import StaffService
from purplecross_desktop.workflows.store import WorkflowService

if TYPE_CHECKING:
    from cache import CacheService


@dataclass(frozen=True, slots=True)
class Services:
    """Every domain service, sharing one session factory and one event bus."""

    events: EventBus
    clients: ClientService
    patients: PatientService
    appointments: AppointmentService
    rooms: RoomService
    invoices: InvoiceService
    medical: MedicalService
    reminders: ReminderService
    staff: StaffService
    audit: AuditService
    access: AccessService
    price_list: PriceListService
    front_desk: FrontDeskQueries
    accounts: AccountService
    notifications: NotificationService
    workflows: WorkflowService


def build_services(
    session_factory: SessionFactory,
    events: EventBus | None = None,
    *,
    current_actor: CurrentActor = system_actor,
    cache: CacheService | None = None,
    timezone: str = "UTC",
) -> Services:
    """Build every service on ``session_factory``, publishing to ``events`` (a new bus if None).

    ``current_actor`` names who acts when a call names no actor: a workstation passes its
    signed-in staff member (recorded in the audit log, checked against the role's
    permissions); workers and the command line act as the system. With ``cache`` the
    front desk's reads go through it while it is shared (see :mod:`desk_cache`).
    ``timezone`` is the clinic's zone (``settings.clinic_timezone``) that messages name
    times in.
    """
    bus = events or EventBus()
    who = current_actor
    return Services(
        events=bus,
        clients=ClientService(session_factory, bus, current_actor=who),
        patients=PatientService(session_factory, bus, current_actor=who),
        appointments=AppointmentService(session_factory, bus, current_actor=who, timezone=timezone),
        rooms=RoomService(session_factory, bus, current_actor=who),
        invoices=InvoiceService(session_factory, bus, current_actor=who),
        medical=MedicalService(session_factory, bus, current_actor=who),
        reminders=ReminderService(session_factory, bus, current_actor=who),
        staff=StaffService(session_factory, bus, current_actor=who),
        audit=AuditService(session_factory),
        access=AccessService(session_factory, who),
        price_list=PriceListService(session_factory, bus, current_actor=who),
        front_desk=(
            FrontDeskQueries(session_factory)
            if cache is None
            else CachedFrontDesk(session_factory, cache)
        ),
        accounts=AccountService(session_factory, bus, current_actor=who),
        notifications=NotificationService(session_factory, bus, current_actor=who),
        workflows=WorkflowService(session_factory, bus, current_actor=who),
    )
