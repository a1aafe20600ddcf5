"""Workflows: workflows, versions, runs and step results; what a workflow's writes carry.

``audit_log.via`` names the workflow run that made a change; ``domain_event`` records the
run and its depth, so a workflow cannot trigger itself for ever.

Revision ID: 0019_workflows
Revises: 0016_job_storage
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from purplecross_desktop.database.base import UTCDateTime

revision: str = "0019_workflows"
down_revision: str | None = "0016_job_storage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "workflow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("trigger_type", sa.String(length=12), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("checked_until", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow")),
        sa.UniqueConstraint("name", name=op.f("uq_workflow_name")),
    )
    op.create_table(
        "workflow_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflow.id"],
            name=op.f("fk_workflow_version_workflow_id_workflow"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_version")),
        sa.UniqueConstraint("workflow_id", "number", name=op.f("uq_workflow_version_workflow_id")),
    )
    op.create_index(
        op.f("ix_workflow_version_workflow_id"), "workflow_version", ["workflow_id"], unique=False
    )
    op.create_table(
        "workflow_run",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("workflow_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("pc", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("trigger_event_id", sa.BigInteger(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("deadline", UTCDateTime(), nullable=False),
        sa.Column("wake_at", UTCDateTime(), nullable=True),
        sa.Column("wait_event", sa.String(length=80), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["workflow_version.id"],
            name=op.f("fk_workflow_run_version_id_workflow_version"),
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflow.id"],
            name=op.f("fk_workflow_run_workflow_id_workflow"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_run")),
    )
    op.create_index(
        "ix_workflow_run_dedupe", "workflow_run", ["workflow_id", "dedupe_key"], unique=True
    )
    op.create_index("ix_workflow_run_status_wake", "workflow_run", ["status", "wake_at"])
    op.create_index("ix_workflow_run_status_deadline", "workflow_run", ["status", "deadline"])
    op.create_index(op.f("ix_workflow_run_status"), "workflow_run", ["status"])
    op.create_index(op.f("ix_workflow_run_wait_event"), "workflow_run", ["wait_event"])
    op.create_index(op.f("ix_workflow_run_workflow_id"), "workflow_run", ["workflow_id"])
    op.create_table(
        "workflow_step",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("run_id", BIG_ID, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("input", sa.JSON(), nullable=False),
        sa.Column("output", sa.JSON(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["workflow_run.id"],
            name=op.f("fk_workflow_step_run_id_workflow_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_step")),
    )
    op.create_index(
        "ix_workflow_step_run", "workflow_step", ["run_id", "seq", "attempt"], unique=True
    )
    # Nullable columns: SQLite adds them without rebuilding the tables.
    op.add_column("audit_log", sa.Column("via", sa.String(length=200), nullable=True))
    op.add_column("domain_event", sa.Column("workflow_run_id", sa.BigInteger(), nullable=True))
    op.add_column("domain_event", sa.Column("workflow_depth", sa.Integer(), nullable=True))


def downgrade() -> None:
    # Plain drops (SQLite 3.35+ drops an unindexed column in place): a batch rebuild of
    # audit_log would reflect staff, whose lower(name) index SQLAlchemy cannot reflect.
    op.drop_column("domain_event", "workflow_depth")
    op.drop_column("domain_event", "workflow_run_id")
    op.drop_column("audit_log", "via")
    op.drop_table("workflow_step")
    op.drop_table("workflow_run")
    op.drop_table("workflow_version")
    op.drop_table("workflow")
