"""Notifications: staff members' in-app inboxes, clients' channel opt-outs, the SMS log.

Revision ID: 0011_notifications
Revises: 0010_job_event_link
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from purplecross_desktop.database.base import UTCDateTime

revision: str = "0011_notifications"
down_revision: str | None = "0010_job_event_link"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = (
    "appointment_confirmed",
    "appointment_cancelled",
    "appointment_reminder",
    "payment_received",
    "invoice_due",
    "prescription_ready",
    "report_ready",
    "system_alert",
)


def upgrade() -> None:
    op.create_table(
        "staff_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                *KINDS,
                name="notification_kind",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("important", sa.Boolean(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=240), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_staff_notifications_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_notifications")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_staff_notifications_dedupe_key")),
    )
    op.create_index(
        "ix_staff_notifications_inbox", "staff_notifications", ["staff_id", "read_at", "id"]
    )
    op.create_table(
        "client_channel_opt_outs",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "email",
                "sms",
                "in_app",
                name="opt_out_channel",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_client_channel_opt_outs_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("client_id", "channel", name=op.f("pk_client_channel_opt_outs")),
    )
    op.create_table(
        "sms_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=True),
        sa.Column("to", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("gateway", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("lease_owner", sa.String(length=60), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("gateway_response", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_log")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_sms_log_idempotency_key")),
    )
    op.create_index(op.f("ix_sms_log_job_id"), "sms_log", ["job_id"])
    op.create_index(op.f("ix_sms_log_created_at"), "sms_log", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sms_log_created_at"), table_name="sms_log")
    op.drop_index(op.f("ix_sms_log_job_id"), table_name="sms_log")
    op.drop_table("sms_log")
    op.drop_table("client_channel_opt_outs")
    op.drop_index("ix_staff_notifications_inbox", table_name="staff_notifications")
    op.drop_table("staff_notifications")
