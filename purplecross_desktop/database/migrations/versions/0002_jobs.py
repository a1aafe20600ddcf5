"""The job registry: jobs, their timeline, workers, paused queues and the email log.

Revision ID: 0002_jobs
Revises: 0001_clinic
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from purplecross_desktop.database.base import UTCDateTime

revision: str = "0002_jobs"
down_revision: str | None = "0001_clinic"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "email_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.String(length=250), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=True),
        sa.Column("to", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("template", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("server_response", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_log")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_email_log_idempotency_key")),
    )
    with op.batch_alter_table("email_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_email_log_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_email_log_job_id"), ["job_id"], unique=False)

    op.create_table(
        "job",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("queue", sa.String(length=40), nullable=False),
        sa.Column("task", sa.String(length=120), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("kwargs", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("repeatable", sa.Boolean(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("broker_epoch", sa.String(length=40), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("outbox_claimed_by", sa.String(length=80), nullable=True),
        sa.Column("outbox_claimed_at", UTCDateTime(), nullable=True),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("enqueued_at", UTCDateTime(), nullable=False),
        sa.Column("next_run_at", UTCDateTime(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("wait_ms", sa.Float(), nullable=True),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("progress_message", sa.String(length=200), nullable=False),
        sa.Column("result_summary", sa.Text(), nullable=True),
        sa.Column("error_class", sa.String(length=200), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("traceback", sa.Text(), nullable=True),
        sa.Column("worker_id", sa.String(length=80), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_job_idempotency_key")),
    )
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.create_index("ix_job_appointment_id", ["appointment_id"], unique=False)
        batch_op.create_index("ix_job_client_id", ["client_id"], unique=False)
        batch_op.create_index("ix_job_enqueued_at", ["enqueued_at"], unique=False)
        batch_op.create_index("ix_job_finished_at", ["finished_at"], unique=False)
        batch_op.create_index("ix_job_invoice_id", ["invoice_id"], unique=False)
        batch_op.create_index("ix_job_patient_id", ["patient_id"], unique=False)
        batch_op.create_index("ix_job_queue_state", ["queue", "state"], unique=False)
        batch_op.create_index("ix_job_state_seq", ["state", "seq"], unique=False)
        batch_op.create_index("ix_job_worker_id", ["worker_id"], unique=False)

    op.create_table(
        "job_paused_queue",
        sa.Column("queue", sa.String(length=40), nullable=False),
        sa.Column("paused_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("queue", name=op.f("pk_job_paused_queue")),
    )
    op.create_table(
        "job_worker",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("queues", sa.JSON(), nullable=False),
        sa.Column("concurrency", sa.JSON(), nullable=False),
        sa.Column("embedded", sa.Boolean(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("last_heartbeat", UTCDateTime(), nullable=False),
        sa.Column("stopped_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_worker")),
    )
    with op.batch_alter_table("job_worker", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_job_worker_last_heartbeat"), ["last_heartbeat"], unique=False
        )

    op.create_table(
        "job_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("queue", sa.String(length=40), nullable=True),
        sa.Column("worker_id", sa.String(length=80), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["job.id"], name=op.f("fk_job_event_job_id_job"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_event")),
    )
    with op.batch_alter_table("job_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_event_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_job_event_job_id"), ["job_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("job_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_event_job_id"))
        batch_op.drop_index(batch_op.f("ix_job_event_at"))

    op.drop_table("job_event")
    with op.batch_alter_table("job_worker", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_worker_last_heartbeat"))

    op.drop_table("job_worker")
    op.drop_table("job_paused_queue")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_index("ix_job_worker_id")
        batch_op.drop_index("ix_job_state_seq")
        batch_op.drop_index("ix_job_queue_state")
        batch_op.drop_index("ix_job_patient_id")
        batch_op.drop_index("ix_job_invoice_id")
        batch_op.drop_index("ix_job_finished_at")
        batch_op.drop_index("ix_job_enqueued_at")
        batch_op.drop_index("ix_job_client_id")
        batch_op.drop_index("ix_job_appointment_id")

    op.drop_table("job")
    with op.batch_alter_table("email_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_log_job_id"))
        batch_op.drop_index(batch_op.f("ix_email_log_created_at"))

    op.drop_table("email_log")
