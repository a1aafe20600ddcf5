"""The client and patient records as the front desk reads them (Qt-free).

One call gathers a whole record (the client with phones, pets, balance, invoices,
appointments and communication log; the patient with alerts, weights, vaccinations,
prescriptions, appointments and invoices) in a handful of indexed statements, so a
record opens in one background round trip. The communication log reads the job
registry (every email, SMS and reminder job linked to the client with ``record=``),
which is why this lives beside the composition root and not in the domain.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from jobs.models import EmailLog, Job, JobState
from purplecross_desktop.database.session import SessionFactory
from purplecross_desktop.domain.appointments import Appointment, AppointmentStatus
from purplecross_desktop.domain.billing import Invoice, InvoiceStatus
from purplecross_desktop.domain.clients import Client, ClientPhone
from purplecross_desktop.domain.errors import NotFound
from purplecross_desktop.domain.event_log import EventRow
from purplecross_desktop.domain.medical import Prescription, Vaccination
from purplecross_desktop.domain.patients import Patient, PatientWeight
from purplecross_desktop.domain.query import like_pattern
from purplecross_desktop.domain.rooms import Room
from purplecross_desktop.domain.staff import Staff
from purplecross_desktop.domain.validation import normalize_phone

ZERO = Decimal("0.00")
#: The job queues whose jobs are messages to a client.
MESSAGE_QUEUES = ("email", "sms", "reminders", "notifications")
#: How many rows of each history a record shows (the newest).
HISTORY_LIMIT = 200


@dataclass(frozen=True, slots=True)
class PhoneRow:
    kind: str
    number: str


@dataclass(frozen=True, slots=True)
class PetRow:
    """A client's patient, as the record's Pets tab lists it."""

    id: int
    name: str
    species: str
    breed: str
    alerts: tuple[str, ...]
    active: bool
    deceased: bool


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    id: int
    number: str
    issued_on: dt.date
    status: str
    total: Decimal
    balance: Decimal
    patient: str


@dataclass(frozen=True, slots=True)
class VisitRow:
    """An appointment in a record's history."""

    id: int
    starts_at: dt.datetime
    patient_id: int
    patient: str
    vet: str
    room: str
    type: str
    status: str
    reason: str


@dataclass(frozen=True, slots=True)
class MessageRow:
    """One entry of the communication log: a message sent, failed or waiting.

    ``state`` is the job's (completed, dead, waiting, ...) or the reminder's; ``outcome``
    says it in words ("sent", "failed", "waiting", "cancelled")."""

    at: dt.datetime
    channel: str
    what: str
    to: str
    outcome: str
    detail: str


@dataclass(frozen=True, slots=True)
class JobRow:
    """A background job about a record (its Jobs tab): linked to it when enqueued, or
    started by a handler of one of its events (``cause`` names the event)."""

    id: str
    task: str
    state: str
    attempts: int
    enqueued_at: dt.datetime
    finished_at: dt.datetime | None
    error: str | None
    cause: str


@dataclass(frozen=True, slots=True)
class ClientRecord:
    """Everything the client record shows."""

    id: int
    name: str
    email: str | None
    phones: tuple[PhoneRow, ...]
    street: str | None
    city: str | None
    postal_code: str | None
    country: str | None
    preferred_contact: str
    notes: str
    active: bool
    balance: Decimal
    pets: tuple[PetRow, ...]
    invoices: tuple[InvoiceRow, ...]
    visits: tuple[VisitRow, ...]
    messages: tuple[MessageRow, ...]
    jobs: tuple[JobRow, ...] = ()

    @property
    def address(self) -> str:
        """The postal address on one line ("" when none is known)."""
        parts = [self.street, " ".join(p for p in (self.postal_code, self.city) if p), self.country]
        return ", ".join(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class WeightRow:
    measured_on: dt.date
    weight_kg: Decimal


@dataclass(frozen=True, slots=True)
class VaccinationRow:
    id: int
    vaccine: str
    given_on: dt.date
    next_due_on: dt.date | None
    batch_number: str
    vet: str


@dataclass(frozen=True, slots=True)
class PrescriptionRow:
    id: int
    medication: str
    dosage: str
    frequency: str
    starts_on: dt.date
    ends_on: dt.date | None
    refills: int
    vet: str


@dataclass(frozen=True, slots=True)
class PatientRecord:
    """Everything the patient record shows."""

    id: int
    name: str
    species: str
    breed: str | None
    sex: str
    date_of_birth: dt.date | None
    colour: str | None
    microchip: str | None
    alerts: tuple[str, ...]
    notes: str
    active: bool
    deceased: bool
    deceased_on: dt.date | None
    client_id: int
    client: str
    client_balance: Decimal
    weights: tuple[WeightRow, ...]
    vaccinations: tuple[VaccinationRow, ...]
    prescriptions: tuple[PrescriptionRow, ...]
    visits: tuple[VisitRow, ...]
    invoices: tuple[InvoiceRow, ...]
    jobs: tuple[JobRow, ...] = ()

    @property
    def upcoming(self) -> tuple[VisitRow, ...]:
        """Booked visits still to come (scheduled or confirmed)."""
        live = (AppointmentStatus.SCHEDULED.value, AppointmentStatus.CONFIRMED.value)
        return tuple(v for v in self.visits if v.status in live)


@dataclass(frozen=True, slots=True)
class DuplicateClient:
    """An existing client who shares a phone number (or email) with the one being entered."""

    id: int
    name: str
    matched: str


@dataclass(frozen=True, slots=True)
class FoundItem:
    """A client or patient the command palette offers."""

    kind: str  # "client" or "patient"
    id: int
    title: str
    detail: str


class RecordQueries:
    """Reads the client and patient records.

    Args:
        session_factory: opens one session per call.
    """

    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    def client_record(self, client_id: int) -> ClientRecord:
        """The whole client record, or ``NotFound``."""
        with self._sessions() as session:
            client = session.get(Client, client_id) if isinstance(client_id, int) else None
            if client is None:
                raise NotFound("client", client_id)
            pets = session.scalars(
                sa.select(Patient)
                .where(Patient.client_id == client.id)
                .order_by(Patient.active.desc(), Patient.name_key, Patient.id)
            ).all()
            return ClientRecord(
                id=client.id,
                name=client.name,
                email=client.email,
                phones=tuple(PhoneRow(p.kind.value, p.number) for p in client.phones),
                street=client.street,
                city=client.city,
                postal_code=client.postal_code,
                country=client.country,
                preferred_contact=client.preferred_contact.value,
                notes=client.notes or "",
                active=client.active,
                balance=_balance(session, client.id),
                pets=tuple(
                    PetRow(
                        p.id,
                        p.name,
                        p.species.value,
                        p.breed or "",
                        tuple(p.alerts or ()),
                        p.active,
                        p.deceased,
                    )
                    for p in pets
                ),
                invoices=_invoices(session, Invoice.client_id == client.id),
                visits=_visits(session, Appointment.client_id == client.id),
                messages=_messages(session, client.id),
                jobs=record_jobs(session, "client", client.id),
            )

    def patient_record(self, patient_id: int) -> PatientRecord:
        """The whole patient record, or ``NotFound``."""
        with self._sessions() as session:
            patient = session.get(Patient, patient_id) if isinstance(patient_id, int) else None
            if patient is None:
                raise NotFound("patient", patient_id)
            owner = session.get(Client, patient.client_id)
            vaccinated_by = sa.orm.aliased(Staff)
            vaccinations = session.execute(
                sa.select(Vaccination, vaccinated_by.name)
                .outerjoin(vaccinated_by, Vaccination.vet_id == vaccinated_by.id)
                .where(Vaccination.patient_id == patient.id)
                .order_by(Vaccination.given_on.desc(), Vaccination.id.desc())
                .limit(HISTORY_LIMIT)
            ).all()
            prescriptions = session.execute(
                sa.select(Prescription, Staff.name)
                .join(Staff, Prescription.vet_id == Staff.id)
                .where(Prescription.patient_id == patient.id)
                .order_by(Prescription.starts_on.desc(), Prescription.id.desc())
                .limit(HISTORY_LIMIT)
            ).all()
            return PatientRecord(
                id=patient.id,
                name=patient.name,
                species=patient.species.value,
                breed=patient.breed,
                sex=patient.sex.value,
                date_of_birth=patient.date_of_birth,
                colour=patient.colour,
                microchip=patient.microchip,
                alerts=tuple(patient.alerts or ()),
                notes=patient.notes or "",
                active=patient.active,
                deceased=patient.deceased,
                deceased_on=patient.deceased_on,
                client_id=patient.client_id,
                client=owner.name if owner is not None else "",
                client_balance=_balance(session, patient.client_id),
                weights=tuple(
                    WeightRow(w.measured_on, Decimal(w.weight_kg))
                    for w in session.scalars(
                        sa.select(PatientWeight)
                        .where(PatientWeight.patient_id == patient.id)
                        .order_by(PatientWeight.measured_on, PatientWeight.id)
                    )
                ),
                vaccinations=tuple(
                    VaccinationRow(
                        v.id, v.vaccine, v.given_on, v.next_due_on, v.batch_number or "", vet or ""
                    )
                    for v, vet in vaccinations
                ),
                prescriptions=tuple(
                    PrescriptionRow(
                        p.id,
                        p.medication,
                        p.dosage,
                        p.frequency,
                        p.starts_on,
                        p.ends_on,
                        p.refills,
                        vet,
                    )
                    for p, vet in prescriptions
                ),
                visits=_visits(session, Appointment.patient_id == patient.id),
                invoices=_invoices(session, Invoice.patient_id == patient.id),
                jobs=record_jobs(session, "patient", patient.id),
            )

    def duplicate_clients(
        self,
        phones: Sequence[str] = (),
        email: str | None = None,
        *,
        exclude_id: int | None = None,
    ) -> list[DuplicateClient]:
        """Clients who already have one of ``phones`` (compared as digits) or ``email``."""
        numbers = {normalize_phone(p) for p in phones if p and p.strip()}
        numbers.discard("")
        found: dict[int, DuplicateClient] = {}
        with self._sessions() as session:
            if numbers:
                rows = session.execute(
                    sa.select(Client.id, Client.name, ClientPhone.number)
                    .join(ClientPhone, ClientPhone.client_id == Client.id)
                    .where(ClientPhone.number.in_(sorted(numbers)))
                    .order_by(Client.id)
                )
                for cid, name, number in rows:
                    if cid != exclude_id and cid not in found:
                        found[cid] = DuplicateClient(cid, name, f"phone {number}")
            if email and email.strip():
                same_email = session.execute(
                    sa.select(Client.id, Client.name)
                    .where(sa.func.lower(Client.email) == email.strip().lower())
                    .order_by(Client.id)
                )
                for cid, name in same_email:
                    if cid != exclude_id and cid not in found:
                        found[cid] = DuplicateClient(cid, name, f"email {email.strip()}")
        return list(found.values())

    def find(self, text: str, *, limit: int = 8) -> list[FoundItem]:
        """Clients by name, email or any part of a phone number, and patients by name or
        microchip, for the command palette (active ones first, at most ``limit`` each)."""
        words = text.strip()
        if not words:
            return []
        pattern = like_pattern(words)
        digits = "".join(ch for ch in words if ch.isdigit())
        client_match = [
            sa.func.lower(Client.name).like(pattern, escape="\\"),
            sa.func.lower(Client.email).like(pattern, escape="\\"),
        ]
        if len(digits) >= 3:
            client_match.append(
                Client.id.in_(
                    sa.select(ClientPhone.client_id).where(ClientPhone.number.like(f"%{digits}%"))
                )
            )
        first_phone = (
            sa.select(ClientPhone.number)
            .where(ClientPhone.client_id == Client.id)
            .order_by(ClientPhone.position, ClientPhone.id)
            .limit(1)
            .correlate(Client)
            .scalar_subquery()
        )
        clients = (
            sa.select(Client.id, Client.name, Client.email, first_phone, Client.active)
            .where(sa.or_(*client_match))
            .order_by(Client.active.desc(), Client.name_key, Client.id)
            .limit(limit)
        )
        patients = (
            sa.select(Patient.id, Patient.name, Patient.species, Client.name, Patient.deceased)
            .join(Client, Patient.client_id == Client.id)
            .where(
                sa.or_(
                    sa.func.lower(Patient.name).like(pattern, escape="\\"),
                    Patient.microchip == words.replace(" ", "").upper(),
                )
            )
            .order_by(Patient.active.desc(), Patient.name_key, Patient.id)
            .limit(limit)
        )
        with self._sessions() as session:
            found = [
                FoundItem(
                    "client",
                    cid,
                    name,
                    " · ".join(
                        p for p in (phone or "", mail or "", "" if active else "inactive") if p
                    ),
                )
                for cid, name, mail, phone, active in session.execute(clients)
            ]
            found += [
                FoundItem(
                    "patient",
                    pid,
                    name,
                    f"{str(species).replace('_', ' ')}, owner {owner}"
                    + (" · deceased" if deceased else ""),
                )
                for pid, name, species, owner, deceased in session.execute(patients)
            ]
        return found


def _balance(session: Session, client_id: int) -> Decimal:
    total = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Invoice.balance), 0)).where(
            Invoice.client_id == client_id, Invoice.status == InvoiceStatus.OPEN
        )
    )
    return Decimal(total or 0).quantize(ZERO)


def _invoices(session: Session, where: sa.ColumnElement[bool]) -> tuple[InvoiceRow, ...]:
    rows = session.execute(
        sa.select(
            Invoice.id,
            Invoice.number,
            Invoice.issued_on,
            Invoice.status,
            Invoice.total,
            Invoice.balance,
            Patient.name,
        )
        .outerjoin(Patient, Invoice.patient_id == Patient.id)
        .where(where)
        .order_by(Invoice.issued_on.desc(), Invoice.id.desc())
        .limit(HISTORY_LIMIT)
    )
    return tuple(
        InvoiceRow(i, n, day, str(getattr(s, "value", s)), Decimal(t), Decimal(b), p or "")
        for i, n, day, s, t, b, p in rows
    )


def _visits(session: Session, where: sa.ColumnElement[bool]) -> tuple[VisitRow, ...]:
    rows = session.execute(
        sa.select(
            Appointment.id,
            Appointment.starts_at,
            Appointment.patient_id,
            Patient.name,
            Staff.name,
            Room.name,
            Appointment.type,
            Appointment.status,
            Appointment.reason,
        )
        .join(Patient, Appointment.patient_id == Patient.id)
        .join(Staff, Appointment.vet_id == Staff.id)
        .join(Room, Appointment.room_id == Room.id)
        .where(where)
        .order_by(Appointment.starts_at.desc(), Appointment.id.desc())
        .limit(HISTORY_LIMIT)
    )
    return tuple(
        VisitRow(
            i,
            starts,
            pid,
            patient,
            vet,
            room,
            str(getattr(kind, "value", kind)),
            str(getattr(status, "value", status)),
            reason or "",
        )
        for i, starts, pid, patient, vet, room, kind, status, reason in rows
    )


_TASK_TEXT = {"reminders.send": "Reminder", "email.send": "Email", "sms.send": "Text message"}
_OUTCOME = {
    JobState.COMPLETED.value: "sent",
    JobState.DEAD.value: "failed",
    JobState.FAILED_RETRYING.value: "failed, retrying",
    JobState.REVOKED.value: "cancelled",
    JobState.ACTIVE.value: "sending",
}


#: The job column that links a job to each kind of record.
_JOB_LINKS = {
    "client": Job.client_id,
    "patient": Job.patient_id,
    "appointment": Job.appointment_id,
    "invoice": Job.invoice_id,
}
#: A Jobs tab shows at most this many jobs, the newest.
RECORD_JOBS_LIMIT = 200


def record_jobs(
    session: Session, entity: str, entity_id: int, limit: int = RECORD_JOBS_LIMIT
) -> tuple[JobRow, ...]:
    """The jobs about record ``entity`` ``entity_id``, newest first: those enqueued with a
    link to it (``record=``) and those a durable handler enqueued for one of its events
    (``job.event_id`` → ``domain_event``). Only small columns are read."""
    linked = _JOB_LINKS[entity] == entity_id
    its_events = sa.select(EventRow.id).where(
        EventRow.entity == entity, EventRow.entity_id == entity_id
    )
    rows = session.execute(
        sa.select(
            Job.id,
            Job.task,
            Job.state,
            Job.attempts,
            Job.enqueued_at,
            Job.finished_at,
            sa.func.substr(Job.error_message, 1, 200),
            EventRow.name,
        )
        .outerjoin(EventRow, EventRow.id == Job.event_id)
        .where(sa.or_(linked, Job.event_id.in_(its_events)))
        .order_by(Job.enqueued_at.desc(), Job.seq.desc())
        .limit(limit)
    ).all()
    return tuple(
        JobRow(job_id, task, state, attempts, enqueued, finished, error, event or "linked")
        for job_id, task, state, attempts, enqueued, finished, error, event in rows
    )


def _messages(session: Session, client_id: int) -> tuple[MessageRow, ...]:
    """Every message job linked to the client, newest first, with the email's subject and
    recipient when the email queue logged it (a reminder's job and the email it sends are
    two entries: the reminder may be skipped, the email may fail)."""
    jobs = session.execute(
        sa.select(
            Job.id,
            Job.queue,
            Job.task,
            Job.state,
            Job.enqueued_at,
            Job.finished_at,
            Job.next_run_at,
            Job.error_message,
            Job.result_summary,
            EmailLog.to,
            EmailLog.subject,
            EmailLog.status,
        )
        .outerjoin(EmailLog, EmailLog.job_id == Job.id)
        .where(Job.client_id == client_id, Job.queue.in_(MESSAGE_QUEUES))
        .order_by(Job.enqueued_at.desc(), Job.seq.desc())
        .limit(HISTORY_LIMIT)
    ).all()
    entries: list[MessageRow] = []
    for (
        _job_id,
        queue,
        task,
        state,
        enqueued,
        finished,
        next_run,
        error,
        summary,
        to,
        subject,
        mail_status,
    ) in jobs:
        outcome = _OUTCOME.get(state, "waiting")
        if state == JobState.SCHEDULED.value and next_run is not None:
            outcome = "scheduled"
        if outcome == "sent" and (summary or "").startswith("skipped"):
            outcome = "skipped"
        if queue == "email" and mail_status == "outbox" and outcome == "sent":
            outcome = "written to the outbox folder"
        what = subject or _TASK_TEXT.get(task, task)
        detail = error or summary or ""
        entries.append(
            MessageRow(
                finished or enqueued,
                "reminder" if queue == "reminders" else queue,
                what,
                to or "",
                outcome,
                detail,
            )
        )
    entries.sort(key=lambda m: _utc(m.at), reverse=True)
    return tuple(entries[:HISTORY_LIMIT])


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
