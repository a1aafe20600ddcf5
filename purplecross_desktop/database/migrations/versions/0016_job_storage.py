"""Job rows cost fewer index writes; large job data (attachments) gets a table of its own.

The indexes of columns that are NULL in most job rows (record links, the causing event,
the worker, the finish time) become partial (``WHERE col IS NOT NULL``): an enqueue then
writes 5 index entries instead of 12. ``job_blob`` holds an email's attachments once,
outside the job's args.

Revision ID: 0016_job_storage
Revises: 0015_cache_invalidation
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_job_storage"
down_revision: str | None = "0015_cache_invalidation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: jobs.models.SPARSE_INDEXED when this migration was written.
SPARSE = (
    "finished_at",
    "worker_id",
    "client_id",
    "patient_id",
    "appointment_id",
    "invoice_id",
    "event_id",
)


def upgrade() -> None:
    # Indexes are dropped and created in place: no table rebuild on SQLite.
    for column in SPARSE:
        op.drop_index(f"ix_job_{column}", table_name="job")
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            f"ix_job_{column}", "job", [column], sqlite_where=where, postgresql_where=where
        )
    op.create_table(
        "job_blob",
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["job.id"], name=op.f("fk_job_blob_job_id_job"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", "digest", name=op.f("pk_job_blob")),
    )


def downgrade() -> None:
    op.drop_table("job_blob")
    for column in SPARSE:
        op.drop_index(f"ix_job_{column}", table_name="job")
        op.create_index(f"ix_job_{column}", "job", [column])
