"""Render the client and patient screens on demo data, light and dark, into docs/screenshots/.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/record_screenshots.py [out_dir]

The clients list, a client record, the client form (with a duplicate warning and a rule
broken), a patient record with alerts and a weight history, the patient form, the
mark-deceased confirmation, the command palette and the shortcuts help.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The services check "not in the future" against the real clock: the demo data is made now.
NOW = dt.datetime.now(dt.UTC).replace(hour=11, minute=30, second=0, microsecond=0)


def _pick_patient(context: Any) -> int:
    """The demo patient with alerts and the longest weight history."""
    import sqlalchemy as sa

    from purplecross_desktop.domain.patients import Patient, PatientWeight

    with context.session_factory() as session:
        rows = session.execute(
            sa.select(Patient.id, Patient.alerts, sa.func.count(PatientWeight.id))
            .join(PatientWeight, PatientWeight.patient_id == Patient.id)
            .where(Patient.active.is_(True))
            .group_by(Patient.id, Patient.alerts)
            .order_by(sa.func.count(PatientWeight.id).desc(), Patient.id)
            .limit(200)
        ).all()
    with_alerts = [r for r in rows if r[1]]
    return int((with_alerts or rows)[0][0])


def _enrich(context: Any, patient_id: int) -> None:
    """Vaccinations, a prescription and weights, so every tab of the record has rows."""
    from purplecross_desktop.database.base import PatientId, StaffId
    from purplecross_desktop.domain.medical import PrescriptionData, VaccinationData
    from purplecross_desktop.domain.staff import StaffRole

    services = context.services
    today = dt.datetime.now(dt.UTC).date()
    pid = PatientId(patient_id)
    for days_ago, kg in ((700, "18.2"), (520, "21.9"), (380, "24.0"), (200, "26.4"), (30, "25.1")):
        services.patients.record_weight(pid, kg, measured_on=today - dt.timedelta(days=days_ago))
    services.medical.record_vaccination(
        VaccinationData(
            pid,
            "Rabies",
            today - dt.timedelta(days=340),
            today + dt.timedelta(days=25),
            batch_number="RB-2291",
        )
    )
    services.medical.record_vaccination(
        VaccinationData(
            pid,
            "DHPPi",
            today - dt.timedelta(days=400),
            today - dt.timedelta(days=35),
            batch_number="DH-118",
        )
    )
    vet = services.staff.search(role=StaffRole.VETERINARIAN, limit=1).items[0]
    services.medical.prescribe(
        PrescriptionData(
            pid, StaffId(vet.id), "Carprofen", "50 mg", "twice daily", today, refills=2
        )
    )


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="pc-records-"))
    os.environ["PURPLECROSS_DATA_DIR"] = str(data_dir)
    os.environ["PURPLECROSS_CONFIG_FILE"] = str(data_dir / "settings.toml")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from purplecross_desktop.database.session import upgrade
    from purplecross_desktop.demo import generate_demo_data

    url = f"sqlite:///{data_dir / 'clinic.db'}"
    upgrade(url)
    generate_demo_data(url, clients=400, patients=600, appointments=2500, seed=3, now=NOW)

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication, QWidget

    from purplecross_desktop.app import build_context, build_window, shutdown
    from purplecross_desktop.records import RecordQueries
    from purplecross_desktop.settings import load_settings
    from purplecross_desktop.ui.dialogs.client_form import ClientFormDialog
    from purplecross_desktop.ui.dialogs.patient_form import PatientFormDialog
    from purplecross_desktop.ui.records.client_record import ClientRecordDialog
    from purplecross_desktop.ui.records.patient_record import PatientRecordDialog
    from widgets.theme import apply_theme

    app = QApplication(sys.argv[:1])
    context = build_context(load_settings(), start_jobs=False)
    staff = context.services.staff.authenticate("desk", "purplecross")
    assert staff is not None, "the demo data has a desk login"
    context.staff_session.sign_in(staff)
    patient_id = _pick_patient(context)
    _enrich(context, patient_id)
    queries = RecordQueries(context.session_factory)
    patient = queries.patient_record(patient_id)
    client = queries.client_record(patient.client_id)
    window = build_window(context)
    window.resize(1440, 860)
    window.show()

    def settle(ms: int = 1200) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def save(widget: QWidget, name: str) -> None:
        widget.grab().save(str(out / name))
        print("wrote", out / name)

    for theme in ("light", "dark"):
        apply_theme(app, theme)
        window.apply_chrome(theme)
        window.show_page("clients")
        settle()
        save(window, f"desk-clients-{theme}.png")

        record = ClientRecordDialog(context, client.id, window)
        record.show()
        settle()
        save(record, f"desk-client-record-{theme}.png")
        record.close()

        form = ClientFormDialog(context, parent=window)
        form.show()
        form.name.setText(client.name)
        form.phones["mobile"].setText(client.phones[0].number if client.phones else "")
        form.email.setText("not an email")
        form.check_duplicates()
        settle(600)
        form.save()
        settle(600)
        save(form, f"desk-client-form-{theme}.png")
        form.reject()

        precord = PatientRecordDialog(context, patient_id, window)
        precord.show()
        settle()
        save(precord, f"desk-patient-record-{theme}.png")
        precord.tabs.setCurrentIndex(1)
        settle(200)
        save(precord, f"desk-patient-vaccinations-{theme}.png")
        deceased = precord.mark_deceased()
        settle(300)
        save(deceased, f"desk-mark-deceased-{theme}.png")
        deceased.reject()
        precord.close()

        pform = PatientFormDialog(context, parent=window)
        pform.show()
        pform.owner.lineEdit().setText(client.name[:4])
        pform._search_owners()
        settle(800)
        pform.name.setText("Pip")
        pform.microchip.setText("12345")
        pform.save()
        settle(600)
        save(pform, f"desk-patient-form-{theme}.png")
        pform.reject()

        palette = window.open_palette()
        palette.search.setText(client.name.split()[0][:4].lower())
        settle(800)
        save(palette, f"desk-palette-{theme}.png")
        palette.reject()

        shortcuts = window.show_shortcuts()
        settle(300)
        save(shortcuts, f"desk-shortcuts-{theme}.png")
        shortcuts.reject()
    window.close()
    shutdown(context)


if __name__ == "__main__":
    main()
