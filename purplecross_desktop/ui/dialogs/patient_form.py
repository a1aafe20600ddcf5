"""The patient form: register a pet (for a known owner, or one found by name or phone) or
edit one, with the domain's rules shown under each field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QPlainTextEdit, QWidget

from purplecross_desktop.database.base import ClientId, PatientId
from purplecross_desktop.domain.errors import ValidationError
from purplecross_desktop.domain.patients import PatientData, Sex, Species
from purplecross_desktop.records import PatientRecord
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.dialogs.form_dialog import FormDialog
from purplecross_desktop.ui.pages.labels import enum_label

SEX_LABELS = {
    Sex.UNKNOWN: "Unknown",
    Sex.MALE: "Male",
    Sex.MALE_NEUTERED: "Male, neutered",
    Sex.FEMALE: "Female",
    Sex.FEMALE_SPAYED: "Female, spayed",
}


def parse_alerts(text: str) -> tuple[str, ...]:
    """Alerts typed as a comma- or semicolon-separated list ("Bites; allergic to X")."""
    parts = text.replace(";", ",").split(",")
    return tuple(p.strip() for p in parts if p.strip())


def parse_day(field: str, text: str) -> dt.date | None:
    """A date typed as YYYY-MM-DD (or DD/MM/YYYY), None when blank.

    Raises:
        ValidationError: it is not a date in either form.
    """
    value = text.strip()
    if not value:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise ValidationError.single(field, "must be a date like 2021-05-31 or 31/05/2021")


class PatientFormDialog(FormDialog):
    """Create a patient (``record`` None) or edit ``record``.

    Args:
        context: the app context.
        record: the patient to edit, or None to create one.
        owner: (id, name) of the owner a new patient belongs to; without it the form
            offers an owner search (name, email or any part of a phone number).
        parent: the parent widget.
    """

    def __init__(
        self,
        context: AppContext,
        record: PatientRecord | None = None,
        *,
        owner: tuple[int, str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        title = f"Edit {record.name}" if record else "New patient"
        super().__init__(
            context, title, save_text="Save patient" if record else "Add patient", parent=parent
        )
        self.record = record
        self.setMinimumWidth(620)
        self.owner = QComboBox()
        self.owner.setEditable(record is None and owner is None)
        self.owner.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        if record is not None:
            self.owner.addItem(record.client, record.client_id)
            self.owner.setEnabled(False)
        elif owner is not None:
            self.owner.addItem(owner[1], owner[0])
            self.owner.setEnabled(False)
        else:
            line = self._owner_line()
            line.setPlaceholderText("Type the owner's name or phone…")
            line.textEdited.connect(self._owner_typed)
        self._owner_timer = QTimer(self)
        self._owner_timer.setSingleShot(True)
        self._owner_timer.setInterval(250)
        self._owner_timer.timeout.connect(self._search_owners)
        self.name = QLineEdit()
        self.species = QComboBox()
        for species in Species:
            self.species.addItem(enum_label(species), species)
        self.breed = QLineEdit()
        self.sex = QComboBox()
        for sex, label in SEX_LABELS.items():
            self.sex.addItem(label, sex)
        self.date_of_birth = QLineEdit()
        self.date_of_birth.setPlaceholderText("YYYY-MM-DD")
        self.colour = QLineEdit()
        self.microchip = QLineEdit()
        self.alerts = QLineEdit()
        self.alerts.setPlaceholderText("e.g. Bites, Allergic to penicillin")
        self.weight = QLineEdit()
        self.weight.setPlaceholderText("e.g. 12.4")
        self.notes = QPlainTextEdit()
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(64)
        self.active = QCheckBox("Active (shown in searches and lists)")

        self.add_field("client_id", "O&wner", self.owner, required=True, span=2)
        self.add_field("name", "&Name", self.name, required=True)
        self.add_field("species", "&Species", self.species, required=True)
        self.add_field("breed", "&Breed", self.breed)
        self.add_field("sex", "Se&x", self.sex)
        self.add_field("date_of_birth", "&Date of birth", self.date_of_birth)
        self.add_field("colour", "&Colour", self.colour)
        self.add_field(
            "microchip", "&Microchip", self.microchip, hint="15 digits, or 9-10 characters"
        )
        if record is None:
            self.add_field("weight_kg", "&Weight (kg)", self.weight)
        self.add_field(
            "alerts",
            "&Alerts",
            self.alerts,
            hint="Shown in red wherever the patient appears; separate with commas",
            span=2,
        )
        self.add_field("notes", "N&otes", self.notes, span=2)
        if record is not None:
            self.add_field("active", "Status", self.active)
            self._fill(record)
        self.resize(self.sizeHint())

    # Saving -------------------------------------------------------------------
    def save_work(self) -> Callable[[], Any]:
        services = self.context.services
        assert services is not None
        owner_id = self.owner.currentData()
        index = self.owner.currentIndex()
        if owner_id is None or self.owner.currentText() != self.owner.itemText(index):
            raise ValidationError.single("client_id", "choose the owner from the list")
        data = PatientData(
            client_id=ClientId(int(owner_id)),
            name=self.name.text(),
            species=self.species.currentData(),
            breed=self.breed.text() or None,
            sex=self.sex.currentData(),
            date_of_birth=parse_day("date_of_birth", self.date_of_birth.text()),
            colour=self.colour.text() or None,
            microchip=self.microchip.text() or None,
            alerts=parse_alerts(self.alerts.text()),
            notes=self.notes.toPlainText(),
            active=self.active.isChecked() if self.record is not None else True,
        )
        if self.record is None:
            weight = self.weight.text().strip() or None
            return lambda: services.patients.create(data, weight_kg=weight)
        patient_id = PatientId(self.record.id)
        changes: dict[str, object] = {
            "name": data.name,
            "species": data.species,
            "breed": data.breed,
            "sex": data.sex,
            "date_of_birth": data.date_of_birth,
            "colour": data.colour,
            "microchip": data.microchip,
            "alerts": data.alerts,
            "notes": data.notes,
        }
        if not self.record.deceased:
            changes["active"] = data.active
        return lambda: services.patients.update(patient_id, changes)

    # Internals ----------------------------------------------------------------
    def _fill(self, record: PatientRecord) -> None:
        self.name.setText(record.name)
        self.species.setCurrentIndex(max(0, self.species.findData(Species(record.species))))
        self.breed.setText(record.breed or "")
        self.sex.setCurrentIndex(max(0, self.sex.findData(Sex(record.sex))))
        self.date_of_birth.setText(record.date_of_birth.isoformat() if record.date_of_birth else "")
        self.colour.setText(record.colour or "")
        self.microchip.setText(record.microchip or "")
        self.alerts.setText(", ".join(record.alerts))
        self.notes.setPlainText(record.notes)
        self.active.setChecked(record.active)
        self.active.setEnabled(not record.deceased)

    def _owner_line(self) -> QLineEdit:
        line = self.owner.lineEdit()
        assert line is not None, "the owner search is an editable combo box"
        return line

    def _owner_typed(self, _text: str) -> None:
        self._owner_timer.start()

    def _search_owners(self) -> None:
        services = self.context.services
        assert services is not None
        text = self._owner_line().text()
        if len(text.strip()) < 2:
            return

        def search() -> list[tuple[int, str]]:
            page = services.clients.search(text, limit=15)
            return [(c.id, c.name + _phone_hint(c)) for c in page.items]

        self.context.background(self, search).success(
            lambda found: self._show_owners(text, found)
        ).failure(lambda _exc: None).run_in_background()

    def _show_owners(self, text: str, found: list[tuple[int, str]]) -> None:
        if self._owner_line().text() != text:
            return  # typed on meanwhile; a newer search follows
        self.owner.blockSignals(True)
        self.owner.clear()
        for client_id, label in found:
            self.owner.addItem(label, client_id)
        field = self.fields["client_id"]
        if len(found) == 1:
            self.owner.setCurrentIndex(0)  # the one owner matching: chosen
            field.set_hint("")
        else:
            self.owner.setCurrentIndex(-1)
            self._owner_line().setText(text)
            field.set_hint(f"{len(found)} clients match: Alt+Down lists them" if found else "")
        self.owner.blockSignals(False)
        if not found:
            field.set_error("no client matches; add the client first (Clients, Ctrl+N)")
        else:
            field.clear_error()


def _phone_hint(client: Any) -> str:
    phones = getattr(client, "phones", None) or []
    return f" · {phones[0].number}" if phones else ""
