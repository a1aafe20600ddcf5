"""Job guarantees: room for real host names, email send leases, rate-limit windows.

Revision ID: 0003_job_guarantees
Revises: 0002_jobs
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from purplecross_desktop.database.base import UTCDateTime

revision: str = "0003_job_guarantees"
down_revision: str | None = "0002_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, old length, new length): a host name may be 253 characters.
WIDER = (
    ("job", "worker_id", 80, 300),
    ("job", "outbox_claimed_by", 80, 340),
    ("job_event", "worker_id", 80, 300),
    ("job_worker", "id", 80, 300),
    ("job_worker", "host", 200, 255),
)


def upgrade() -> None:
    for table, column, old, new in WIDER:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column, existing_type=sa.String(length=old), type_=sa.String(length=new)
            )
    with op.batch_alter_table("email_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("lease_until", UTCDateTime(), nullable=True))
    op.create_table(
        "job_rate_window",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_job_rate_window")),
    )


def downgrade() -> None:
    op.drop_table("job_rate_window")
    with op.batch_alter_table("email_log", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
        batch_op.drop_column("lease_owner")
    for table, column, old, new in reversed(WIDER):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column, existing_type=sa.String(length=new), type_=sa.String(length=old)
            )
