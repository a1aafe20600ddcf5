"""The email send lease names the worker that holds it, so a dead holder's lease is freed.

Revision ID: 0009_email_lease_worker
Revises: 0008_reminder_keys
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_email_lease_worker"
down_revision: str | None = "0008_reminder_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: jobs.models.WORKER_ID_LENGTH when this migration was written.
WORKER_ID_LENGTH = 300


def upgrade() -> None:
    # A plain ADD COLUMN: no table rebuild on SQLite.
    op.add_column(
        "email_log", sa.Column("lease_worker", sa.String(length=WORKER_ID_LENGTH), nullable=True)
    )


def downgrade() -> None:
    # SQLite 3.35+ drops a column in place; batch mode would rebuild the table.
    op.execute("ALTER TABLE email_log DROP COLUMN lease_worker")
