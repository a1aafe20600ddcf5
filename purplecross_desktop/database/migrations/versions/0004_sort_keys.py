"""Sort keys beside the names people sort by: clients, patients and staff get ``name_key``.

``name_key = fold_text(name)`` (case- and accent-insensitive, compared by code point), so
the grids sort names the same way in memory, on SQLite and on PostgreSQL. Existing rows
are filled here, in batches, with the same Python function the app uses.

Revision ID: 0004_sort_keys
Revises: 0003_job_guarantees
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from purplecross_desktop.database.text_order import SORT_KEY_TYPE, fold_text

revision: str = "0004_sort_keys"
down_revision: str | None = "0003_job_guarantees"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("clients", "patients", "staff")
BATCH = 5000


def upgrade() -> None:
    # Plain ALTER TABLE, not batch mode: SQLite can add a NOT NULL column with a default in
    # place, and rebuilding the tables would drop their lower(name) expression indexes.
    conn = op.get_bind()
    for table in TABLES:
        op.add_column(
            table,
            sa.Column("name_key", SORT_KEY_TYPE, nullable=False, server_default=sa.text("''")),
        )
        rows = sa.table(table, sa.column("id", sa.Integer), sa.column("name", sa.String))
        keys = sa.table(table, sa.column("id", sa.Integer), sa.column("name_key", sa.Text))
        update = (
            sa.update(keys)
            .where(keys.c.id == sa.bindparam("row_id"))
            .values(name_key=sa.bindparam("key"))
        )
        last = 0
        while True:
            batch = conn.execute(
                sa.select(rows.c.id, rows.c.name)
                .where(rows.c.id > last)
                .order_by(rows.c.id)
                .limit(BATCH)
            ).all()
            if not batch:
                break
            conn.execute(update, [{"row_id": i, "key": fold_text(n or "")} for i, n in batch])
            last = batch[-1][0]
        op.create_index(op.f(f"ix_{table}_name_key"), table, ["name_key"], unique=False)


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(op.f(f"ix_{table}_name_key"), table_name=table)
        # SQLite 3.35+ drops a column in place (batch mode would rebuild the table).
        op.execute(f"ALTER TABLE {table} DROP COLUMN name_key")
