"""The clinic schema: clients, patients, staff, rooms, appointments, medical records,
invoices, reminders and the audit log.

Revision ID: 0001_clinic
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_clinic"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SQLITE_GUARDS = (
    "CREATE TRIGGER tr_appointments_no_overlap_insert BEFORE INSERT ON appointments WHEN NEW.status NOT IN ('cancelled', 'no_show') BEGIN SELECT RAISE(ABORT, 'double booking: the vet or the room is already booked') WHERE EXISTS (SELECT 1 FROM appointments a WHERE a.vet_id = NEW.vet_id AND a.starts_at < NEW.ends_at AND a.starts_at > datetime(NEW.starts_at, '-12 hours') AND a.ends_at > NEW.starts_at AND a.status NOT IN ('cancelled', 'no_show')) OR EXISTS (SELECT 1 FROM appointments a WHERE a.room_id = NEW.room_id AND a.starts_at < NEW.ends_at AND a.starts_at > datetime(NEW.starts_at, '-12 hours') AND a.ends_at > NEW.starts_at AND a.status NOT IN ('cancelled', 'no_show')); END",
    "CREATE TRIGGER tr_appointments_no_overlap_update BEFORE UPDATE OF vet_id, room_id, starts_at, ends_at, status ON appointments WHEN NEW.status NOT IN ('cancelled', 'no_show') BEGIN SELECT RAISE(ABORT, 'double booking: the vet or the room is already booked') WHERE EXISTS (SELECT 1 FROM appointments a WHERE a.vet_id = NEW.vet_id AND a.starts_at < NEW.ends_at AND a.starts_at > datetime(NEW.starts_at, '-12 hours') AND a.ends_at > NEW.starts_at AND a.status NOT IN ('cancelled', 'no_show') AND a.id <> NEW.id) OR EXISTS (SELECT 1 FROM appointments a WHERE a.room_id = NEW.room_id AND a.starts_at < NEW.ends_at AND a.starts_at > datetime(NEW.starts_at, '-12 hours') AND a.ends_at > NEW.starts_at AND a.status NOT IN ('cancelled', 'no_show') AND a.id <> NEW.id); END",
)


def upgrade() -> None:
    op.create_table(
        "clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("street", sa.String(length=200), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("postal_code", sa.String(length=20), nullable=True),
        sa.Column("country", sa.String(length=60), nullable=True),
        sa.Column(
            "preferred_contact",
            sa.Enum(
                "email",
                "sms",
                "none",
                name="preferred_contact",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clients")),
    )
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clients_active"), ["active"], unique=False)
        batch_op.create_index(batch_op.f("ix_clients_city"), ["city"], unique=False)
        batch_op.create_index(batch_op.f("ix_clients_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_clients_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_clients_name"), ["name"], unique=False)
        batch_op.create_index("ix_clients_name_lower", [sa.text("lower(name)")], unique=False)
        batch_op.create_index(batch_op.f("ix_clients_postal_code"), ["postal_code"], unique=False)

    op.create_table(
        "rooms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rooms")),
        sa.UniqueConstraint("name", name=op.f("uq_rooms_name")),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "front_desk",
                "veterinarian",
                "admin",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("login", sa.String(length=40), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("login", name=op.f("uq_staff_login")),
    )
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_active"), ["active"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_name"), ["name"], unique=False)
        batch_op.create_index("ix_staff_name_lower", [sa.text("lower(name)")], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_role"), ["role"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_audit_log_staff_id_staff"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_entity", ["entity", "entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_occurred_at"), ["occurred_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "client_phones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "mobile",
                "home",
                "work",
                "other",
                name="kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_client_phones_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_phones")),
    )
    with op.batch_alter_table("client_phones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_client_phones_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_client_phones_number"), ["number"], unique=False)

    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column(
            "species",
            sa.Enum(
                "dog",
                "cat",
                "rabbit",
                "guinea_pig",
                "hamster",
                "ferret",
                "bird",
                "reptile",
                "horse",
                "other",
                name="species",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("breed", sa.String(length=80), nullable=True),
        sa.Column(
            "sex",
            sa.Enum(
                "male",
                "male_neutered",
                "female",
                "female_spayed",
                "unknown",
                name="sex",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("colour", sa.String(length=60), nullable=True),
        sa.Column("microchip", sa.String(length=15), nullable=True),
        sa.Column("alerts", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("deceased", sa.Boolean(), nullable=False),
        sa.Column("deceased_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_patients_client_id_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("microchip", name=op.f("uq_patients_microchip")),
    )
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patients_active"), ["active"], unique=False)
        batch_op.create_index(batch_op.f("ix_patients_breed"), ["breed"], unique=False)
        batch_op.create_index(batch_op.f("ix_patients_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_patients_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_patients_date_of_birth"), ["date_of_birth"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_patients_name"), ["name"], unique=False)
        batch_op.create_index("ix_patients_name_lower", [sa.text("lower(name)")], unique=False)
        batch_op.create_index(batch_op.f("ix_patients_species"), ["species"], unique=False)

    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("vet_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "consultation",
                "vaccination",
                "check_up",
                "follow_up",
                "dental",
                "surgery",
                "emergency",
                name="type",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "scheduled",
                "confirmed",
                "arrived",
                "in_consult",
                "completed",
                "cancelled",
                "no_show",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consult_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("no_show_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_appointments_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_appointments_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_appointments_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_appointments_room_id_rooms")
        ),
        sa.ForeignKeyConstraint(
            ["vet_id"], ["staff.id"], name=op.f("fk_appointments_vet_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
    )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appointments_client_id"), ["client_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_appointments_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index("ix_appointments_room_starts", ["room_id", "starts_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointments_starts_at"), ["starts_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointments_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointments_type"), ["type"], unique=False)
        batch_op.create_index("ix_appointments_vet_starts", ["vet_id", "starts_at"], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        # SQLite's own guard against double booking (see domain/appointments/model.py).
        for trigger in SQLITE_GUARDS:
            op.execute(trigger)

    if op.get_bind().dialect.name == "postgresql":
        # The database's own guard against double booking a vet or a room.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        for column in ("vet_id", "room_id"):
            op.execute(
                f"ALTER TABLE appointments ADD CONSTRAINT "
                f"ex_appointments_{column.removesuffix('_id')}_overlap EXCLUDE USING gist "
                f"({column} WITH =, tstzrange(starts_at, ends_at) WITH &&) "
                "WHERE (status NOT IN ('cancelled', 'no_show'))"
            )

    op.create_table(
        "patient_weights",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("measured_on", sa.Date(), nullable=False),
        sa.Column("weight_kg", sa.Numeric(precision=7, scale=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_patient_weights_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_weights")),
    )
    with op.batch_alter_table("patient_weights", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_patient_weights_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "prescriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("vet_id", sa.Integer(), nullable=False),
        sa.Column("medication", sa.String(length=120), nullable=False),
        sa.Column("dosage", sa.String(length=120), nullable=False),
        sa.Column("frequency", sa.String(length=120), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("refills", sa.Integer(), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ends_on IS NULL OR ends_on >= starts_on",
            name=op.f("ck_prescriptions_ends_after_start"),
        ),
        sa.CheckConstraint("refills >= 0", name=op.f("ck_prescriptions_refills_not_negative")),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_prescriptions_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["vet_id"], ["staff.id"], name=op.f("fk_prescriptions_vet_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prescriptions")),
    )
    with op.batch_alter_table("prescriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prescriptions_ends_on"), ["ends_on"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_prescriptions_medication"), ["medication"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_prescriptions_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_prescriptions_starts_on"), ["starts_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_prescriptions_vet_id"), ["vet_id"], unique=False)

    op.create_table(
        "vaccinations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("vet_id", sa.Integer(), nullable=True),
        sa.Column("vaccine", sa.String(length=120), nullable=False),
        sa.Column("batch_number", sa.String(length=60), nullable=True),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("next_due_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "next_due_on IS NULL OR next_due_on > given_on",
            name=op.f("ck_vaccinations_due_after_given"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_vaccinations_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["vet_id"], ["staff.id"], name=op.f("fk_vaccinations_vet_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vaccinations")),
    )
    with op.batch_alter_table("vaccinations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vaccinations_given_on"), ["given_on"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_vaccinations_next_due_on"), ["next_due_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_vaccinations_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_vaccinations_vaccine"), ["vaccine"], unique=False)
        batch_op.create_index(batch_op.f("ix_vaccinations_vet_id"), ["vet_id"], unique=False)

    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "paid",
                "void",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("subtotal", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("tax", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("paid", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("balance", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("void_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_invoices_appointment_id_appointments"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_invoices_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_invoices_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("number", name=op.f("uq_invoices_number")),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invoices_appointment_id"), ["appointment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_invoices_balance"), ["balance"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoices_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoices_due_on"), ["due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoices_issued_on"), ["issued_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoices_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoices_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoices_total"), ["total"], unique=False)

    op.create_table(
        "invoice_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=10, scale=3), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("tax_rate", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column("net_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("tax_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_invoice_lines_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_lines")),
    )
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invoice_lines_invoice_id"), ["invoice_id"], unique=False
        )

    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column(
            "method",
            sa.Enum(
                "cash",
                "card",
                "bank_transfer",
                "insurance",
                "other",
                name="method",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payments_amount_positive")),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_payments_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_invoice_id"), ["invoice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_paid_at"), ["paid_at"], unique=False)

    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "appointment",
                "vaccination",
                "medication",
                "follow_up",
                "payment",
                name="kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "channel",
            sa.Enum(
                "email",
                "sms",
                "desktop",
                name="channel",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "sent",
                "failed",
                "cancelled",
                name="state",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("vaccination_id", sa.Integer(), nullable=True),
        sa.Column("prescription_id", sa.Integer(), nullable=True),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_reminders_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_reminders_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_reminders_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_reminders_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["prescription_id"],
            ["prescriptions.id"],
            name=op.f("fk_reminders_prescription_id_prescriptions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["vaccination_id"],
            ["vaccinations.id"],
            name=op.f("fk_reminders_vaccination_id_vaccinations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
    )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reminders_appointment_id"), ["appointment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_reminders_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reminders_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_reminders_invoice_id"), ["invoice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reminders_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_reminders_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_reminders_prescription_id"), ["prescription_id"], unique=False
        )
        batch_op.create_index("ix_reminders_state_due", ["state", "due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_reminders_vaccination_id"), ["vaccination_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminders_vaccination_id"))
        batch_op.drop_index("ix_reminders_state_due")
        batch_op.drop_index(batch_op.f("ix_reminders_prescription_id"))
        batch_op.drop_index(batch_op.f("ix_reminders_patient_id"))
        batch_op.drop_index(batch_op.f("ix_reminders_kind"))
        batch_op.drop_index(batch_op.f("ix_reminders_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_reminders_due_at"))
        batch_op.drop_index(batch_op.f("ix_reminders_client_id"))
        batch_op.drop_index(batch_op.f("ix_reminders_appointment_id"))

    op.drop_table("reminders")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_paid_at"))
        batch_op.drop_index(batch_op.f("ix_payments_invoice_id"))

    op.drop_table("payments")
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_lines_invoice_id"))

    op.drop_table("invoice_lines")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoices_total"))
        batch_op.drop_index(batch_op.f("ix_invoices_status"))
        batch_op.drop_index(batch_op.f("ix_invoices_patient_id"))
        batch_op.drop_index(batch_op.f("ix_invoices_issued_on"))
        batch_op.drop_index(batch_op.f("ix_invoices_due_on"))
        batch_op.drop_index(batch_op.f("ix_invoices_client_id"))
        batch_op.drop_index(batch_op.f("ix_invoices_balance"))
        batch_op.drop_index(batch_op.f("ix_invoices_appointment_id"))

    op.drop_table("invoices")
    with op.batch_alter_table("vaccinations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vaccinations_vet_id"))
        batch_op.drop_index(batch_op.f("ix_vaccinations_vaccine"))
        batch_op.drop_index(batch_op.f("ix_vaccinations_patient_id"))
        batch_op.drop_index(batch_op.f("ix_vaccinations_next_due_on"))
        batch_op.drop_index(batch_op.f("ix_vaccinations_given_on"))

    op.drop_table("vaccinations")
    with op.batch_alter_table("prescriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prescriptions_vet_id"))
        batch_op.drop_index(batch_op.f("ix_prescriptions_starts_on"))
        batch_op.drop_index(batch_op.f("ix_prescriptions_patient_id"))
        batch_op.drop_index(batch_op.f("ix_prescriptions_medication"))
        batch_op.drop_index(batch_op.f("ix_prescriptions_ends_on"))

    op.drop_table("prescriptions")
    with op.batch_alter_table("patient_weights", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_weights_patient_id"))

    op.drop_table("patient_weights")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index("ix_appointments_vet_starts")
        batch_op.drop_index(batch_op.f("ix_appointments_type"))
        batch_op.drop_index(batch_op.f("ix_appointments_status"))
        batch_op.drop_index(batch_op.f("ix_appointments_starts_at"))
        batch_op.drop_index("ix_appointments_room_starts")
        batch_op.drop_index(batch_op.f("ix_appointments_patient_id"))
        batch_op.drop_index(batch_op.f("ix_appointments_client_id"))

    op.drop_table("appointments")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patients_species"))
        batch_op.drop_index("ix_patients_name_lower")
        batch_op.drop_index(batch_op.f("ix_patients_name"))
        batch_op.drop_index(batch_op.f("ix_patients_date_of_birth"))
        batch_op.drop_index(batch_op.f("ix_patients_created_at"))
        batch_op.drop_index(batch_op.f("ix_patients_client_id"))
        batch_op.drop_index(batch_op.f("ix_patients_breed"))
        batch_op.drop_index(batch_op.f("ix_patients_active"))

    op.drop_table("patients")
    with op.batch_alter_table("client_phones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_client_phones_number"))
        batch_op.drop_index(batch_op.f("ix_client_phones_client_id"))

    op.drop_table("client_phones")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_staff_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_occurred_at"))
        batch_op.drop_index("ix_audit_log_entity")

    op.drop_table("audit_log")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_role"))
        batch_op.drop_index("ix_staff_name_lower")
        batch_op.drop_index(batch_op.f("ix_staff_name"))
        batch_op.drop_index(batch_op.f("ix_staff_active"))

    op.drop_table("staff")
    op.drop_table("rooms")
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clients_postal_code"))
        batch_op.drop_index("ix_clients_name_lower")
        batch_op.drop_index(batch_op.f("ix_clients_name"))
        batch_op.drop_index(batch_op.f("ix_clients_email"))
        batch_op.drop_index(batch_op.f("ix_clients_created_at"))
        batch_op.drop_index(batch_op.f("ix_clients_city"))
        batch_op.drop_index(batch_op.f("ix_clients_active"))

    op.drop_table("clients")
