"""Prescriptions and vaccination records (with the next-due dates that drive reminders)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from purplecross_desktop.database.base import (
    Base,
    PatientId,
    PrescriptionId,
    StaffId,
    UTCDateTime,
    VaccinationId,
    utcnow,
)
from purplecross_desktop.domain.patients import Patient
from purplecross_desktop.domain.query import Page, like_pattern, paginate
from purplecross_desktop.domain.service import ServiceBase, apply_changes, get_or_raise
from purplecross_desktop.domain.staff import StaffRole, require_role
from purplecross_desktop.domain.validation import Checker, unknown_fields

MAX_REFILLS = 99
PRESCRIPTION_EDITABLE = frozenset({"dosage", "frequency", "ends_on", "refills", "instructions"})
VACCINATION_EDITABLE = frozenset({"next_due_on", "batch_number", "notes"})


class Prescription(Base):
    """A medication prescribed to a patient by a veterinarian."""

    __tablename__ = "prescriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id"), index=True)
    vet_id: Mapped[int] = mapped_column(sa.ForeignKey("staff.id"), index=True)
    medication: Mapped[str] = mapped_column(sa.String(120), index=True)
    dosage: Mapped[str] = mapped_column(sa.String(120))
    frequency: Mapped[str] = mapped_column(sa.String(120))
    starts_on: Mapped[dt.date] = mapped_column(index=True)
    ends_on: Mapped[dt.date | None] = mapped_column(index=True)
    refills: Mapped[int] = mapped_column(default=0)
    instructions: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("refills >= 0", name="refills_not_negative"),
        sa.CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
    )


class Vaccination(Base):
    """A vaccine given to a patient, and when the next dose is due."""

    __tablename__ = "vaccinations"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id"), index=True)
    vet_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"), index=True)
    vaccine: Mapped[str] = mapped_column(sa.String(120), index=True)
    batch_number: Mapped[str | None] = mapped_column(sa.String(60))
    given_on: Mapped[dt.date] = mapped_column(index=True)
    next_due_on: Mapped[dt.date | None] = mapped_column(index=True)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("next_due_on IS NULL OR next_due_on > given_on", name="due_after_given"),
    )


@dataclass(frozen=True, slots=True)
class PrescriptionData:
    """A new prescription."""

    patient_id: PatientId
    vet_id: StaffId
    medication: str
    dosage: str
    frequency: str
    starts_on: dt.date
    ends_on: dt.date | None = None
    refills: int = 0
    instructions: str = ""


@dataclass(frozen=True, slots=True)
class VaccinationData:
    """A vaccination given."""

    patient_id: PatientId
    vaccine: str
    given_on: dt.date
    next_due_on: dt.date | None = None
    vet_id: StaffId | None = None
    batch_number: str | None = None
    notes: str = ""


class MedicalService(ServiceBase):
    """Prescribe medications, record vaccinations, correct both, and find them."""

    PRESCRIPTION_ORDER = {
        "starts_on": Prescription.starts_on,
        "ends_on": Prescription.ends_on,
        "medication": Prescription.medication,
        "created_at": Prescription.created_at,
    }
    VACCINATION_ORDER = {
        "given_on": Vaccination.given_on,
        "next_due_on": Vaccination.next_due_on,
        "vaccine": Vaccination.vaccine,
    }

    def prescribe(self, data: PrescriptionData, *, actor: StaffId | None = None) -> Prescription:
        """Add a prescription (the vet must be a veterinarian; the patient alive)."""
        with self._write(actor) as uow:
            checker = Checker()
            _check_patient(uow.session, data.patient_id, checker)
            require_role(uow.session, data.vet_id, StaffRole.VETERINARIAN, "vet_id", checker)
            if data.vet_id is None:
                checker.add("vet_id", "must not be empty")
            values: dict[str, Any] = {
                "patient_id": data.patient_id,
                "vet_id": data.vet_id,
                "medication": checker.text("medication", data.medication, max_length=120),
                "dosage": checker.text("dosage", data.dosage, max_length=120),
                "frequency": checker.text("frequency", data.frequency, max_length=120),
                "starts_on": checker.date("starts_on", data.starts_on),
                "ends_on": checker.date("ends_on", data.ends_on, required=False),
                "instructions": checker.text(
                    "instructions", data.instructions, required=False, max_length=10_000
                )
                or "",
            }
            refills = checker.integer("refills", data.refills, minimum=0)
            if refills is not None and refills > MAX_REFILLS:
                checker.add("refills", f"must be at most {MAX_REFILLS}")
            values["refills"] = refills
            starts, ends = values["starts_on"], values["ends_on"]
            if starts is not None and ends is not None and ends < starts:
                checker.add("ends_on", "must not be before starts_on")
            checker.raise_if_any()
            prescription = Prescription(**values, created_at=uow.now)
            uow.session.add(prescription)
            uow.session.flush()
            uow.audit(
                "created",
                "prescription",
                prescription.id,
                {k: [None, v] for k, v in values.items()},
            )
            uow.emit(
                "prescription.created",
                prescription.id,
                patient_id=prescription.patient_id,
                vet_id=prescription.vet_id,
                medication=prescription.medication,
                ends_on=prescription.ends_on,
            )
        return prescription

    def record_vaccination(
        self, data: VaccinationData, *, actor: StaffId | None = None
    ) -> Vaccination:
        """Record a vaccination (not in the future; next due after it was given)."""
        with self._write(actor) as uow:
            checker = Checker()
            _check_patient(uow.session, data.patient_id, checker)
            require_role(uow.session, data.vet_id, StaffRole.VETERINARIAN, "vet_id", checker)
            values: dict[str, Any] = {
                "patient_id": data.patient_id,
                "vet_id": data.vet_id,
                "vaccine": checker.text("vaccine", data.vaccine, max_length=120),
                "given_on": checker.date("given_on", data.given_on),
                "next_due_on": checker.date("next_due_on", data.next_due_on, required=False),
                "batch_number": checker.text(
                    "batch_number", data.batch_number, required=False, max_length=60
                ),
                "notes": checker.text("notes", data.notes, required=False, max_length=10_000) or "",
            }
            given, due = values["given_on"], values["next_due_on"]
            if given is not None and given > uow.now.date():
                checker.add("given_on", "must not be in the future")
            if given is not None and due is not None and due <= given:
                checker.add("next_due_on", "must be after given_on")
            checker.raise_if_any()
            vaccination = Vaccination(**values, created_at=uow.now)
            uow.session.add(vaccination)
            uow.session.flush()
            uow.audit(
                "recorded", "vaccination", vaccination.id, {k: [None, v] for k, v in values.items()}
            )
            uow.emit(
                "vaccination.recorded",
                vaccination.id,
                patient_id=vaccination.patient_id,
                vaccine=vaccination.vaccine,
                next_due_on=vaccination.next_due_on,
            )
        return vaccination

    def update_prescription(
        self,
        prescription_id: PrescriptionId,
        changes: Mapping[str, object],
        *,
        actor: StaffId | None = None,
    ) -> Prescription:
        """Change the dosage, frequency, end date, refills or instructions."""
        unknown_fields(dict(changes), PRESCRIPTION_EDITABLE)
        with self._write(actor) as uow:
            row = get_or_raise(uow.session, Prescription, "prescription", prescription_id)
            checker = Checker()
            values: dict[str, Any] = {}
            for name in ("dosage", "frequency"):
                if name in changes:
                    values[name] = checker.text(name, changes[name], max_length=120)
            if "instructions" in changes:
                text = checker.text(
                    "instructions", changes["instructions"], required=False, max_length=10_000
                )
                values["instructions"] = text or ""
            if "ends_on" in changes:
                ends = checker.date("ends_on", changes["ends_on"], required=False)
                if ends is not None and ends < row.starts_on:
                    checker.add("ends_on", "must not be before starts_on")
                values["ends_on"] = ends
            if "refills" in changes:
                refills = checker.integer("refills", changes["refills"], minimum=0)
                if refills is not None and refills > MAX_REFILLS:
                    checker.add("refills", f"must be at most {MAX_REFILLS}")
                values["refills"] = refills
            checker.raise_if_any()
            changed = apply_changes(row, values)
            if changed:
                uow.audit("updated", "prescription", row.id, changed)
                uow.emit(
                    "prescription.updated",
                    row.id,
                    patient_id=row.patient_id,
                    fields=sorted(changed),
                    ends_on=row.ends_on,
                )
        return row

    def update_vaccination(
        self,
        vaccination_id: VaccinationId,
        changes: Mapping[str, object],
        *,
        actor: StaffId | None = None,
    ) -> Vaccination:
        """Change the next due date, batch number or notes of a vaccination record."""
        unknown_fields(dict(changes), VACCINATION_EDITABLE)
        with self._write(actor) as uow:
            row = get_or_raise(uow.session, Vaccination, "vaccination", vaccination_id)
            checker = Checker()
            values: dict[str, Any] = {}
            if "next_due_on" in changes:
                due = checker.date("next_due_on", changes["next_due_on"], required=False)
                if due is not None and due <= row.given_on:
                    checker.add("next_due_on", "must be after given_on")
                values["next_due_on"] = due
            if "batch_number" in changes:
                values["batch_number"] = checker.text(
                    "batch_number", changes["batch_number"], required=False, max_length=60
                )
            if "notes" in changes:
                text = checker.text("notes", changes["notes"], required=False, max_length=10_000)
                values["notes"] = text or ""
            checker.raise_if_any()
            changed = apply_changes(row, values)
            if changed:
                uow.audit("updated", "vaccination", row.id, changed)
                uow.emit(
                    "vaccination.updated",
                    row.id,
                    patient_id=row.patient_id,
                    fields=sorted(changed),
                    next_due_on=row.next_due_on,
                )
        return row

    def get_prescription(self, prescription_id: PrescriptionId) -> Prescription:
        """One prescription, or ``NotFound``."""
        with self._read() as session:
            return get_or_raise(session, Prescription, "prescription", prescription_id)

    def get_vaccination(self, vaccination_id: VaccinationId) -> Vaccination:
        """One vaccination record, or ``NotFound``."""
        with self._read() as session:
            return get_or_raise(session, Vaccination, "vaccination", vaccination_id)

    def search_prescriptions(
        self,
        text: str | None = None,
        *,
        patient_id: PatientId | None = None,
        active_on: dt.date | None = None,
        order: str | Sequence[str] = "-starts_on",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[Prescription]:
        """Prescriptions by medication text, patient, or those running on ``active_on``."""
        stmt = sa.select(Prescription)
        if text and text.strip():
            stmt = stmt.where(
                sa.func.lower(Prescription.medication).like(like_pattern(text), escape="\\")
            )
        if patient_id is not None:
            stmt = stmt.where(Prescription.patient_id == patient_id)
        if active_on is not None:
            stmt = stmt.where(
                Prescription.starts_on <= active_on,
                sa.or_(Prescription.ends_on.is_(None), Prescription.ends_on >= active_on),
            )
        with self._read() as session:
            return paginate(
                session,
                stmt,
                order,
                self.PRESCRIPTION_ORDER,
                limit,
                offset,
                tiebreak=Prescription.id,
            )

    def search_vaccinations(
        self,
        text: str | None = None,
        *,
        patient_id: PatientId | None = None,
        due_from: dt.date | None = None,
        due_before: dt.date | None = None,
        order: str | Sequence[str] = "-given_on",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[Vaccination]:
        """Vaccinations by vaccine text, patient, or next-due window (``[from, before)``)."""
        stmt = sa.select(Vaccination)
        if text and text.strip():
            stmt = stmt.where(
                sa.func.lower(Vaccination.vaccine).like(like_pattern(text), escape="\\")
            )
        if patient_id is not None:
            stmt = stmt.where(Vaccination.patient_id == patient_id)
        if due_from is not None:
            stmt = stmt.where(Vaccination.next_due_on >= due_from)
        if due_before is not None:
            stmt = stmt.where(Vaccination.next_due_on < due_before)
        with self._read() as session:
            return paginate(
                session,
                stmt,
                order,
                self.VACCINATION_ORDER,
                limit,
                offset,
                tiebreak=Vaccination.id,
            )


def _check_patient(session: Session, patient_id: object, checker: Checker) -> None:
    patient = session.get(Patient, patient_id) if isinstance(patient_id, int) else None
    if patient is None:
        checker.add("patient_id", "must be an existing patient")
    elif patient.deceased:
        checker.add("patient_id", "must not be a deceased patient")
