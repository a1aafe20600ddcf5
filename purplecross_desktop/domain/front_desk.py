"""What the front desk reads at a glance: the day board, an appointment's card, balances.

Read-only queries shaped for the screens (one statement each, indexed), so the Today
board and the dialogs never issue one query per row. Qt-free.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from purplecross_desktop.database.session import SessionFactory
from purplecross_desktop.domain.appointments import Appointment, AppointmentStatus
from purplecross_desktop.domain.billing import Invoice, InvoiceStatus
from purplecross_desktop.domain.clients import Client, ClientPhone
from purplecross_desktop.domain.errors import NotFound
from purplecross_desktop.domain.patients import Patient, PatientWeight
from purplecross_desktop.domain.price_list import PriceItem
from purplecross_desktop.domain.query import like_pattern
from purplecross_desktop.domain.rooms import Room
from purplecross_desktop.domain.staff import Staff

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class BoardRow:
    """One appointment of the day with what the desk needs beside it."""

    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    patient_id: int
    patient: str
    species: str
    client_id: int
    client: str
    vet_id: int
    vet: str
    room_id: int
    room: str
    type: str
    status: AppointmentStatus
    reason: str
    arrived_at: dt.datetime | None
    alerts: tuple[str, ...] = ()
    balance: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class BoardProbe:
    """A cheap fingerprint of the day: when it changes, the board reloads.

    Workstations' clocks differ, so a change stamped by a machine whose clock is behind
    may not move ``max(updated_at)``; the per-status counts and the owners' open balance
    change with the content itself, whatever the clocks say.
    """

    statuses: tuple[tuple[str, int, dt.datetime | None], ...]
    patients_changed: dt.datetime | None
    invoices_changed: dt.datetime | None
    open_balance: Decimal

    @property
    def count(self) -> int:
        """Appointments of the day, whatever their status."""
        return sum(count for _status, count, _changed in self.statuses)


@dataclass(frozen=True, slots=True)
class AppointmentCard:
    """An appointment as the check-in and cancel dialogs show it."""

    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: AppointmentStatus
    type: str
    reason: str
    patient_id: int
    patient: str
    species: str
    client_id: int
    client: str
    vet: str
    room: str
    alerts: tuple[str, ...] = ()
    balance: Decimal = ZERO
    last_weight_kg: Decimal | None = None
    last_weighed_on: dt.date | None = None
    invoice_ids: tuple[int, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class PatientChoice:
    """A patient as a picker lists it: enough to tell two "Bella"s apart."""

    id: int
    name: str
    species: str
    client_id: int
    client: str
    alerts: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.name} ({self.species.replace('_', ' ')}), owner {self.client}"


@dataclass(frozen=True, slots=True)
class Choice:
    """An id and a name (a vet, a room)."""

    id: int
    name: str


class FrontDeskQueries:
    """Read models of the front desk.

    Args:
        session_factory: opens one session per call.
    """

    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    def board(
        self,
        starts_from: dt.datetime,
        starts_before: dt.datetime,
        *,
        vet_id: int | None = None,
        room_id: int | None = None,
    ) -> list[BoardRow]:
        """The appointments starting in ``[starts_from, starts_before)`` (only ``vet_id``'s
        or ``room_id``'s when given: one vet's week), in time order, each with the
        patient's alerts and the owner's open balance."""
        vet = aliased(Staff, name="vet")
        balance = (
            sa.select(sa.func.coalesce(sa.func.sum(Invoice.balance), 0))
            .where(Invoice.client_id == Appointment.client_id)
            .where(Invoice.status == InvoiceStatus.OPEN)
            .correlate(Appointment)
            .scalar_subquery()
        )
        stmt = (
            sa.select(
                Appointment.id,
                Appointment.starts_at,
                Appointment.ends_at,
                Appointment.patient_id,
                Patient.name,
                Patient.species,
                Appointment.client_id,
                Client.name,
                Appointment.vet_id,
                vet.name,
                Appointment.room_id,
                Room.name,
                Appointment.type,
                Appointment.status,
                Appointment.reason,
                Appointment.arrived_at,
                Patient.alerts,
                balance,
            )
            .join(Patient, Appointment.patient_id == Patient.id)
            .join(Client, Appointment.client_id == Client.id)
            .join(vet, Appointment.vet_id == vet.id)
            .join(Room, Appointment.room_id == Room.id)
            .where(
                Appointment.starts_at >= starts_from,
                Appointment.starts_at < starts_before,
                *_owned_by(vet_id, room_id),
            )
            .order_by(Appointment.starts_at, Appointment.id)
        )
        with self._sessions() as session:
            rows = session.execute(stmt).all()
        return [
            BoardRow(
                id=r[0],
                starts_at=r[1],
                ends_at=r[2],
                patient_id=r[3],
                patient=r[4],
                species=str(r[5]),
                client_id=r[6],
                client=r[7],
                vet_id=r[8],
                vet=r[9],
                room_id=r[10],
                room=r[11],
                type=str(r[12]),
                status=AppointmentStatus(r[13]),
                reason=r[14] or "",
                arrived_at=r[15],
                alerts=tuple(r[16] or ()),
                balance=Decimal(r[17] or 0).quantize(Decimal("0.01")),
            )
            for r in rows
        ]

    def board_probe(
        self,
        starts_from: dt.datetime,
        starts_before: dt.datetime,
        *,
        vet_id: int | None = None,
        room_id: int | None = None,
    ) -> BoardProbe:
        """Per-status counts and latest changes of the day's appointments (``vet_id``'s or
        ``room_id``'s only when given, as :meth:`board`), the latest change of their
        patients and their owners' open balance: indexed aggregates, a few milliseconds at
        any size."""
        day = sa.and_(
            Appointment.starts_at >= starts_from,
            Appointment.starts_at < starts_before,
            *_owned_by(vet_id, room_id),
        )
        day_patients = sa.select(Appointment.patient_id).where(day)
        day_clients = sa.select(Appointment.client_id).where(day)
        owners_invoices = Invoice.client_id.in_(day_clients)
        totals = sa.select(
            sa.select(sa.func.max(Patient.updated_at))
            .where(Patient.id.in_(day_patients))
            .scalar_subquery(),
            sa.select(sa.func.max(Invoice.updated_at)).where(owners_invoices).scalar_subquery(),
            sa.select(sa.func.coalesce(sa.func.sum(Invoice.balance), 0))
            .where(owners_invoices, Invoice.status == InvoiceStatus.OPEN)
            .scalar_subquery(),
        )
        per_status = (
            sa.select(
                Appointment.status,
                sa.func.count(Appointment.id),
                sa.func.max(Appointment.updated_at),
            )
            .where(day)
            .group_by(Appointment.status)
            .order_by(Appointment.status)
        )
        with self._sessions() as session:
            statuses = tuple(
                (str(status), int(count), _aware(changed))
                for status, count, changed in session.execute(per_status)
            )
            patients, invoices, balance = session.execute(totals).one()
        return BoardProbe(
            statuses, _aware(patients), _aware(invoices), Decimal(balance or 0).quantize(ZERO)
        )

    def appointment_card(self, appointment_id: int) -> AppointmentCard:
        """One appointment with its patient's alerts and last weight and the owner's
        balance, or ``NotFound``."""
        vet = aliased(Staff, name="vet")
        with self._sessions() as session:
            row = session.execute(
                sa.select(Appointment, Patient, Client, vet.name, Room.name)
                .join(Patient, Appointment.patient_id == Patient.id)
                .join(Client, Appointment.client_id == Client.id)
                .join(vet, Appointment.vet_id == vet.id)
                .join(Room, Appointment.room_id == Room.id)
                .where(Appointment.id == appointment_id)
            ).one_or_none()
            if row is None:
                raise NotFound("appointment", appointment_id)
            appt, patient, client, vet_name, room_name = row
            weight = session.execute(
                sa.select(PatientWeight.weight_kg, PatientWeight.measured_on)
                .where(PatientWeight.patient_id == patient.id)
                .order_by(PatientWeight.measured_on.desc(), PatientWeight.id.desc())
                .limit(1)
            ).one_or_none()
            invoices = session.scalars(
                sa.select(Invoice.id)
                .where(Invoice.appointment_id == appt.id, Invoice.status != InvoiceStatus.VOID)
                .order_by(Invoice.id)
            ).all()
            return AppointmentCard(
                id=appt.id,
                starts_at=appt.starts_at,
                ends_at=appt.ends_at,
                status=appt.status,
                type=str(appt.type),
                reason=appt.reason or "",
                patient_id=patient.id,
                patient=patient.name,
                species=str(patient.species),
                client_id=client.id,
                client=client.name,
                vet=vet_name,
                room=room_name,
                alerts=tuple(patient.alerts or ()),
                balance=self._balance(session, client.id),
                last_weight_kg=weight[0] if weight else None,
                last_weighed_on=weight[1] if weight else None,
                invoice_ids=tuple(invoices),
            )

    def find_patients(
        self,
        text: str = "",
        *,
        client_id: int | None = None,
        patient_id: int | None = None,
        limit: int = 20,
    ) -> list[PatientChoice]:
        """Active, living patients whose name or owner's name contains each word of
        ``text``, or whose owner has a phone number containing its digits (any part of the
        number)."""
        stmt = (
            sa.select(
                Patient.id,
                Patient.name,
                Patient.species,
                Patient.client_id,
                Client.name,
                Patient.alerts,
            )
            .join(Client, Patient.client_id == Client.id)
            .where(Patient.active.is_(True), Patient.deceased.is_(False))
        )
        words = text.strip()
        if words:
            # every word in the pet's or the owner's name: "biscuit oka" finds Maya
            # Okafor's Biscuit among the clinic's other Biscuits
            each_word = [
                sa.or_(
                    sa.func.lower(Patient.name).like(like_pattern(word), escape="\\"),
                    sa.func.lower(Client.name).like(like_pattern(word), escape="\\"),
                )
                for word in words.split()
            ]
            conditions = [sa.and_(*each_word)]
            digits = "".join(ch for ch in words if ch.isdigit())
            if len(digits) >= 3:
                conditions.append(
                    Patient.client_id.in_(
                        sa.select(ClientPhone.client_id).where(
                            ClientPhone.number.like(f"%{digits}%")
                        )
                    )
                )
            stmt = stmt.where(sa.or_(*conditions))
        if client_id is not None:
            stmt = stmt.where(Patient.client_id == client_id)
        if patient_id is not None:
            stmt = stmt.where(Patient.id == patient_id)
        stmt = stmt.order_by(Patient.name_key, Patient.id).limit(max(1, min(limit, 200)))
        with self._sessions() as session:
            return [
                PatientChoice(r[0], r[1], str(r[2]), r[3], r[4], tuple(r[5] or ()))
                for r in session.execute(stmt)
            ]

    def vets(self) -> list[Choice]:
        """Active veterinarians by name."""
        from purplecross_desktop.domain.staff import StaffRole

        stmt = (
            sa.select(Staff.id, Staff.name)
            .where(Staff.role == StaffRole.VETERINARIAN, Staff.active.is_(True))
            .order_by(Staff.name, Staff.id)
        )
        with self._sessions() as session:
            return [Choice(r[0], r[1]) for r in session.execute(stmt)]

    def rooms(self) -> list[Choice]:
        """Active rooms by name."""
        stmt = sa.select(Room.id, Room.name).where(Room.active.is_(True)).order_by(Room.name)
        with self._sessions() as session:
            return [Choice(r[0], r[1]) for r in session.execute(stmt)]

    def price_items(self) -> list[PriceItem]:
        """The active price list entries by name (what checkout offers)."""
        stmt = (
            sa.select(PriceItem)
            .where(PriceItem.active.is_(True))
            .order_by(sa.func.lower(PriceItem.name), PriceItem.id)
        )
        with self._sessions() as session:
            return list(session.scalars(stmt))

    def client_balance(self, client_id: int) -> Decimal:
        """What the client owes on open invoices."""
        with self._sessions() as session:
            return self._balance(session, client_id)

    @staticmethod
    def _balance(session: sa.orm.Session, client_id: int) -> Decimal:
        total = session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Invoice.balance), 0)).where(
                Invoice.client_id == client_id, Invoice.status == InvoiceStatus.OPEN
            )
        )
        return Decimal(total or 0).quantize(Decimal("0.01"))


def status_counts(rows: Sequence[BoardRow]) -> dict[AppointmentStatus, int]:
    """How many rows are in each status (for the board's summary line)."""
    counts = dict.fromkeys(AppointmentStatus, 0)
    for row in rows:
        counts[row.status] += 1
    return counts


def _owned_by(vet_id: int | None, room_id: int | None) -> list[sa.ColumnElement[bool]]:
    """Conditions keeping one vet's or one room's appointments (none: everyone's)."""
    conditions: list[sa.ColumnElement[bool]] = []
    if vet_id is not None:
        conditions.append(Appointment.vet_id == vet_id)
    if room_id is not None:
        conditions.append(Appointment.room_id == room_id)
    return conditions


def _aware(value: object) -> dt.datetime | None:
    """Aggregates bypass the column type on SQLite (they come back as text or naive)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    raise TypeError(f"unexpected timestamp {value!r}")
