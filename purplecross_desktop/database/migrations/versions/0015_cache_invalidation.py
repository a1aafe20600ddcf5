"""The cache's invalidation channel: invalidations a desk could not deliver to Redis.

Revision ID: 0015_cache_invalidation
Revises: 0013_webhooks
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from purplecross_desktop.database.base import UTCDateTime

revision: str = "0015_cache_invalidation"
down_revision: str | None = "0013_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cache_invalidation",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cache_invalidation")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("cache_invalidation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cache_invalidation_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("cache_invalidation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cache_invalidation_created_at"))
    op.drop_table("cache_invalidation")
