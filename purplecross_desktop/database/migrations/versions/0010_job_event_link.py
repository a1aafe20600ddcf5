"""Jobs remember the durable event whose handler enqueued them.

Revision ID: 0010_job_event_link
Revises: 0009_email_lease_worker
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_job_event_link"
down_revision: str | None = "0009_email_lease_worker"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No batch mode: SQLite adds a nullable column and an index without rebuilding `job`.
    op.add_column("job", sa.Column("event_id", sa.BigInteger(), nullable=True))
    op.create_index("ix_job_event_id", "job", ["event_id"])


def downgrade() -> None:
    op.drop_index("ix_job_event_id", table_name="job")
    op.execute("ALTER TABLE job DROP COLUMN event_id")
