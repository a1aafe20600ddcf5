"""Reminders get a unique dedupe key, so concurrent scanners create each reminder once.

Revision ID: 0008_reminder_keys
Revises: 0007_events
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_reminder_keys"
down_revision: str | None = "0007_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No batch mode: SQLite adds a column and a unique index without rebuilding the table.
    op.add_column("reminders", sa.Column("dedupe_key", sa.String(length=160), nullable=True))
    op.create_index("ix_reminders_dedupe_key", "reminders", ["dedupe_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_reminders_dedupe_key", table_name="reminders")
    # SQLite 3.35+ drops a column in place; batch mode would rebuild the table and, through
    # its foreign keys, reflect `clients`, whose lower(name) index it cannot reflect.
    op.execute("ALTER TABLE reminders DROP COLUMN dedupe_key")
