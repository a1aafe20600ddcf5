"""Staff sign-in: the practice manager role and the time of each staff member's last sign-in.

Revision ID: 0005_staff_sign_in
Revises: 0004_sort_keys
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from purplecross_desktop.database.base import UTCDateTime

revision: str = "0005_staff_sign_in"
down_revision: str | None = "0004_sort_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = ("front_desk", "veterinarian", "admin")
NEW_ROLES = ("front_desk", "veterinarian", "practice_manager", "admin")


def _without_name_index() -> None:
    # SQLite's batch mode copies the table and cannot carry an index on an expression
    # over: drop it first, build it again afterwards (both backends, same result).
    op.drop_index("ix_staff_name_lower", table_name="staff")


def _with_name_index() -> None:
    op.create_index("ix_staff_name_lower", "staff", [sa.text("lower(name)")], unique=False)


def upgrade() -> None:
    _without_name_index()
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_staff_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_staff_role"), sa.column("role").in_(NEW_ROLES))
        batch_op.add_column(sa.Column("last_sign_in_at", UTCDateTime(), nullable=True))
    _with_name_index()


def downgrade() -> None:
    # A practice manager becomes front desk: the old schema has no such role.
    op.execute("UPDATE staff SET role = 'front_desk' WHERE role = 'practice_manager'")
    _without_name_index()
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("last_sign_in_at")
        batch_op.drop_constraint(op.f("ck_staff_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_staff_role"), sa.column("role").in_(OLD_ROLES))
    _with_name_index()
