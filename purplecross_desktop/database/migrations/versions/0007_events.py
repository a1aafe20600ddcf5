"""Durable domain events: the event table, per-handler deliveries and handler watermarks.

Revision ID: 0007_events
Revises: 0006_front_desk
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from purplecross_desktop.database.base import UTCDateTime

revision: str = "0007_events"
down_revision: str | None = "0006_front_desk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "domain_event",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("workstation", sa.String(length=120), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domain_event")),
    )
    with op.batch_alter_table("domain_event", schema=None) as batch_op:
        batch_op.create_index("ix_domain_event_entity", ["entity", "entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_domain_event_name"), ["name"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_domain_event_recorded_at"), ["recorded_at"], unique=False
        )

    op.create_table(
        "event_handler_state",
        sa.Column("handler", sa.String(length=80), nullable=False),
        sa.Column("watermark", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("handler", name=op.f("pk_event_handler_state")),
    )
    op.create_table(
        "event_delivery",
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("handler", sa.String(length=80), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("job_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["domain_event.id"],
            name=op.f("fk_event_delivery_event_id_domain_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "handler", name=op.f("pk_event_delivery")),
    )
    with op.batch_alter_table("event_delivery", schema=None) as batch_op:
        batch_op.create_index("ix_event_delivery_handler_state", ["handler", "state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("event_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_event_delivery_handler_state")

    op.drop_table("event_delivery")
    op.drop_table("event_handler_state")
    with op.batch_alter_table("domain_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_domain_event_recorded_at"))
        batch_op.drop_index(batch_op.f("ix_domain_event_name"))
        batch_op.drop_index("ix_domain_event_entity")

    op.drop_table("domain_event")
