"""Patients (the animals): identity, microchip, alerts, weight history, owner, deceased flag."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, validates

from purplecross_desktop.database.base import (
    Base,
    ClientId,
    PatientId,
    StaffId,
    UTCDateTime,
    utcnow,
)
from purplecross_desktop.database.text_order import fold_text, sort_key_column
from purplecross_desktop.domain.clients import Client
from purplecross_desktop.domain.columns import enum_type
from purplecross_desktop.domain.errors import ValidationError
from purplecross_desktop.domain.query import Page, like_pattern, paginate
from purplecross_desktop.domain.service import (
    ServiceBase,
    UnitOfWork,
    apply_changes,
    get_or_raise,
)
from purplecross_desktop.domain.validation import Checker, unknown_fields

# ISO 11784/11785 chips are 15 digits; older FDX-A/AVID chips are 9-10 alphanumerics.
MICROCHIP_RE = re.compile(r"^(\d{15}|[0-9A-Z]{9,10})$")
MAX_WEIGHT_KG = Decimal("2000")


class Species(enum.StrEnum):
    """The species a clinic sees."""

    DOG = "dog"
    CAT = "cat"
    RABBIT = "rabbit"
    GUINEA_PIG = "guinea_pig"
    HAMSTER = "hamster"
    FERRET = "ferret"
    BIRD = "bird"
    REPTILE = "reptile"
    HORSE = "horse"
    OTHER = "other"


class Sex(enum.StrEnum):
    """Sex and neuter status."""

    MALE = "male"
    MALE_NEUTERED = "male_neutered"
    FEMALE = "female"
    FEMALE_SPAYED = "female_spayed"
    UNKNOWN = "unknown"


class Patient(Base):
    """An animal, owned by one client."""

    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80), index=True)
    # fold_text(name): the grids sort by it (same order in memory, SQLite, PostgreSQL)
    name_key: Mapped[str] = sort_key_column("name")

    @validates("name")
    def _keep_name_key(self, _key: str, name: str) -> str:
        self.name_key = fold_text(name)
        return name

    species: Mapped[Species] = mapped_column(enum_type(Species, "species"), index=True)
    breed: Mapped[str | None] = mapped_column(sa.String(80), index=True)
    sex: Mapped[Sex] = mapped_column(enum_type(Sex, "sex"), default=Sex.UNKNOWN)
    date_of_birth: Mapped[dt.date | None] = mapped_column(index=True)
    colour: Mapped[str | None] = mapped_column(sa.String(60))
    microchip: Mapped[str | None] = mapped_column(sa.String(15), unique=True)
    alerts: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    active: Mapped[bool] = mapped_column(default=True, index=True)
    deceased: Mapped[bool] = mapped_column(default=False)
    deceased_on: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    weights: Mapped[list[PatientWeight]] = relationship(
        back_populates="patient",
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by="PatientWeight.measured_on",
    )

    __table_args__ = (sa.Index("ix_patients_name_lower", sa.func.lower(name)),)

    @property
    def current_weight_kg(self) -> Decimal | None:
        """The latest recorded weight."""
        return self.weights[-1].weight_kg if self.weights else None


class PatientWeight(Base):
    """One dated weight measurement."""

    __tablename__ = "patient_weights"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    measured_on: Mapped[dt.date]
    weight_kg: Mapped[Decimal] = mapped_column(sa.Numeric(7, 3))

    patient: Mapped[Patient] = relationship(back_populates="weights", lazy="raise")


@dataclass(frozen=True, slots=True)
class PatientData:
    """The editable fields of a patient (weights and death are recorded separately)."""

    client_id: ClientId
    name: str
    species: Species | str
    breed: str | None = None
    sex: Sex | str = Sex.UNKNOWN
    date_of_birth: dt.date | None = None
    colour: str | None = None
    microchip: str | None = None
    alerts: Sequence[str] = ()
    notes: str = ""
    active: bool = True


EDITABLE = frozenset(f.name for f in dataclasses.fields(PatientData))


class PatientService(ServiceBase):
    """Create, update and find patients; record weights and deaths."""

    ORDER = {
        "name": sa.func.lower(Patient.name),
        "species": Patient.species,
        "breed": Patient.breed,
        "date_of_birth": Patient.date_of_birth,
        "microchip": Patient.microchip,
        "created_at": Patient.created_at,
        "client_id": Patient.client_id,
        "id": Patient.id,
    }

    def create(
        self,
        data: PatientData,
        *,
        weight_kg: Decimal | str | None = None,
        actor: StaffId | None = None,
    ) -> Patient:
        """Add a patient, optionally with today's weight."""
        with self._write(actor) as uow:
            checker = Checker()
            values = self._validate(uow.session, data, None, checker, uow.now.date())
            weight = checker.decimal(
                "weight_kg",
                weight_kg,
                required=False,
                minimum=Decimal(0),
                exclusive_minimum=True,
                maximum=MAX_WEIGHT_KG,
                places=3,
            )
            checker.raise_if_any()
            patient = Patient(**values, created_at=uow.now, updated_at=uow.now)
            if weight is not None:
                patient.weights = [PatientWeight(measured_on=uow.now.date(), weight_kg=weight)]
            uow.session.add(patient)
            uow.session.flush()
            uow.audit("created", "patient", patient.id, {k: [None, v] for k, v in values.items()})
            uow.emit(
                "patient.created",
                patient.id,
                client_id=patient.client_id,
                species=patient.species,
            )
        return patient

    def update(
        self, patient_id: PatientId, changes: Mapping[str, object], *, actor: StaffId | None = None
    ) -> Patient:
        """Change some fields of a patient (``client_id`` moves it to another owner)."""
        unknown_fields(dict(changes), EDITABLE)
        with self._write(actor) as uow:
            patient = get_or_raise(uow.session, Patient, "patient", patient_id)
            if patient.deceased and changes.get("active") is True:
                raise ValidationError.single("active", "a deceased patient cannot be reactivated")
            merged = dataclasses.replace(_current(patient), **changes)  # type: ignore[arg-type]
            checker = Checker()
            values = self._validate(uow.session, merged, patient.id, checker, uow.now.date())
            checker.raise_if_any()
            changed = apply_changes(patient, values)
            if changed:
                patient.updated_at = uow.now
                uow.audit("updated", "patient", patient.id, changed)
                uow.emit(
                    "patient.updated",
                    patient.id,
                    client_id=patient.client_id,
                    fields=sorted(changed),
                )
        return patient

    def record_weight(
        self,
        patient_id: PatientId,
        weight_kg: Decimal | str | float,
        *,
        measured_on: dt.date | None = None,
        actor: StaffId | None = None,
    ) -> PatientWeight:
        """Add a dated weight (kg, > 0, at most 3 decimals; not in the future)."""
        with self._write(actor) as uow:
            patient = get_or_raise(uow.session, Patient, "patient", patient_id)
            checker = Checker()
            weight = checker.decimal(
                "weight_kg",
                weight_kg,
                minimum=Decimal(0),
                exclusive_minimum=True,
                maximum=MAX_WEIGHT_KG,
                places=3,
            )
            day = checker.date("measured_on", measured_on or uow.now.date())
            if day is not None and day > uow.now.date():
                checker.add("measured_on", "must not be in the future")
            checker.raise_if_any()
            assert weight is not None
            assert day is not None
            entry = PatientWeight(patient_id=patient.id, measured_on=day, weight_kg=weight)
            uow.session.add(entry)
            patient.updated_at = uow.now
            uow.session.flush()
            uow.audit("weight_recorded", "patient", patient.id, {"weight_kg": [None, weight]})
            uow.emit(
                "patient.updated",
                patient.id,
                client_id=patient.client_id,
                fields=["weights"],
            )
        return entry

    def mark_deceased(
        self, patient_id: PatientId, on: dt.date | None = None, *, actor: StaffId | None = None
    ) -> Patient:
        """Record a death: the patient becomes inactive, and in the same transaction its
        upcoming appointments are cancelled and its pending reminders withdrawn, so no
        "see you tomorrow" message reaches a grieving owner."""
        with self._write(actor) as uow:
            patient = get_or_raise(uow.session, Patient, "patient", patient_id)
            checker = Checker()
            day = checker.date("deceased_on", on or uow.now.date())
            if patient.deceased:
                checker.add("deceased", "is already recorded")
            if day is not None and day > uow.now.date():
                checker.add("deceased_on", "must not be in the future")
            if day is not None and patient.date_of_birth and day < patient.date_of_birth:
                checker.add("deceased_on", "must not be before the date of birth")
            checker.raise_if_any()
            changed = apply_changes(
                patient, {"deceased": True, "deceased_on": day, "active": False}
            )
            patient.updated_at = uow.now
            uow.audit("deceased", "patient", patient.id, changed)
            uow.emit("patient.deceased", patient.id, client_id=patient.client_id, on=day)
            _withdraw_future(uow, patient.id)
        return patient

    def get(self, patient_id: PatientId) -> Patient:
        """One patient with its weight history, or ``NotFound``."""
        with self._read() as session:
            return get_or_raise(session, Patient, "patient", patient_id)

    def search(
        self,
        text: str | None = None,
        *,
        client_id: ClientId | None = None,
        species: Species | str | None = None,
        active: bool | None = True,
        order: str | Sequence[str] = "name",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[Patient]:
        """Patients whose name, breed, microchip or owner's name contains ``text``."""
        stmt = sa.select(Patient)
        if text and text.strip():
            pattern = like_pattern(text)
            owner = sa.select(Client.id).where(
                sa.func.lower(Client.name).like(pattern, escape="\\")
            )
            stmt = stmt.where(
                sa.or_(
                    sa.func.lower(Patient.name).like(pattern, escape="\\"),
                    sa.func.lower(Patient.breed).like(pattern, escape="\\"),
                    Patient.microchip == text.strip().upper(),
                    Patient.client_id.in_(owner),
                )
            )
        checker = Checker()
        if species is not None:
            member = checker.choice("species", species, Species)
            stmt = stmt.where(Patient.species == member)
        checker.raise_if_any()
        if client_id is not None:
            stmt = stmt.where(Patient.client_id == client_id)
        if active is not None:
            stmt = stmt.where(Patient.active == active)
        with self._read() as session:
            return paginate(session, stmt, order, self.ORDER, limit, offset, tiebreak=Patient.id)

    @staticmethod
    def _validate(
        session: Session,
        data: PatientData,
        own_id: int | None,
        checker: Checker,
        today: dt.date,
    ) -> dict[str, Any]:
        values: dict[str, Any] = {
            "client_id": data.client_id,
            "name": checker.text("name", data.name, max_length=80),
            "species": checker.choice("species", data.species, Species),
            "breed": checker.text("breed", data.breed, required=False, max_length=80),
            "sex": checker.choice("sex", data.sex, Sex),
            "date_of_birth": checker.date("date_of_birth", data.date_of_birth, required=False),
            "colour": checker.text("colour", data.colour, required=False, max_length=60),
            "alerts": checker.string_list("alerts", data.alerts),
            "notes": checker.text("notes", data.notes, required=False, max_length=10_000) or "",
            "active": checker.flag("active", data.active),
        }
        client = session.get(Client, data.client_id) if isinstance(data.client_id, int) else None
        if client is None:
            checker.add("client_id", "must be an existing client")
        elif not client.active and own_id is None:
            checker.add("client_id", "must be an active client")
        born = values["date_of_birth"]
        if born is not None and born > today:
            checker.add("date_of_birth", "must not be in the future")
        chip = checker.text("microchip", data.microchip, required=False, max_length=40)
        if chip is not None:
            chip = chip.replace(" ", "").upper()
            if not MICROCHIP_RE.match(chip):
                checker.add("microchip", "must be 15 digits (ISO 11784) or 9-10 letters/digits")
            else:
                other = session.scalar(sa.select(Patient.id).where(Patient.microchip == chip))
                if other is not None and other != own_id:
                    checker.add("microchip", f"is already used by patient {other}")
        values["microchip"] = chip
        return values


def _current(patient: Patient) -> PatientData:
    return PatientData(
        client_id=ClientId(patient.client_id),
        name=patient.name,
        species=patient.species,
        breed=patient.breed,
        sex=patient.sex,
        date_of_birth=patient.date_of_birth,
        colour=patient.colour,
        microchip=patient.microchip,
        alerts=tuple(patient.alerts),
        notes=patient.notes,
        active=patient.active,
    )


def _withdraw_future(uow: UnitOfWork, patient_id: int) -> None:
    """Cancel the upcoming appointments and pending reminders of a patient who died."""
    from purplecross_desktop.domain.appointments import Appointment, AppointmentStatus
    from purplecross_desktop.domain.medical import Prescription, Vaccination
    from purplecross_desktop.domain.reminders import Reminder, ReminderState

    upcoming = uow.session.scalars(
        sa.select(Appointment).where(
            Appointment.patient_id == patient_id,
            Appointment.starts_at > uow.now,
            Appointment.status.in_([AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED]),
        )
    )
    for appt in upcoming:
        previous = appt.status
        appt.status = AppointmentStatus.CANCELLED
        appt.cancelled_at = appt.updated_at = uow.now
        appt.cancel_reason = "patient deceased"
        uow.audit(
            "status_changed",
            "appointment",
            appt.id,
            {"status": [previous.value, "cancelled"], "cancelled_at": [None, uow.now]},
        )
        payload = {
            "patient_id": appt.patient_id,
            "client_id": appt.client_id,
            "vet_id": appt.vet_id,
            "room_id": appt.room_id,
            "starts_at": appt.starts_at.isoformat(),
            "ends_at": appt.ends_at.isoformat(),
            "status": "cancelled",
        }
        uow.emit("appointment.status_changed", appt.id, **payload, previous=previous)
        uow.emit("appointment.cancelled", appt.id, **payload, reason="patient deceased")
    pending = uow.session.scalars(
        sa.select(Reminder).where(
            sa.or_(
                Reminder.patient_id == patient_id,
                Reminder.appointment_id.in_(
                    sa.select(Appointment.id).where(Appointment.patient_id == patient_id)
                ),
                Reminder.vaccination_id.in_(
                    sa.select(Vaccination.id).where(Vaccination.patient_id == patient_id)
                ),
                Reminder.prescription_id.in_(
                    sa.select(Prescription.id).where(Prescription.patient_id == patient_id)
                ),
            ),
            Reminder.state.in_([ReminderState.PENDING, ReminderState.FAILED]),
        )
    )
    for reminder in pending:
        previous_state = reminder.state
        reminder.state = ReminderState.CANCELLED
        reminder.updated_at = uow.now
        uow.audit(
            "state_changed",
            "reminder",
            reminder.id,
            {"state": [previous_state.value, "cancelled"]},
        )
        uow.emit(
            "reminder.updated",
            reminder.id,
            kind=reminder.kind.value,
            state="cancelled",
            client_id=reminder.client_id,
            patient_id=reminder.patient_id,
            previous=previous_state,
        )
