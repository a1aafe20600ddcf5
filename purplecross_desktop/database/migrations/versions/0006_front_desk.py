"""Front desk: the price list, line discounts and price list links, cash tendered.

Revision ID: 0006_front_desk
Revises: 0005_staff_sign_in
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from purplecross_desktop.database.base import UTCDateTime

revision: str = "0006_front_desk"
down_revision: str | None = "0005_staff_sign_in"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(precision=12, scale=2)
RATE = sa.Numeric(precision=5, scale=4)
# SQLite batch mode reflects the table; following its foreign keys would reflect `clients`,
# whose lower(name) index SQLAlchemy cannot reflect (a warning, an error in the tests).
NO_FK_REFLECTION = {"resolve_fks": False}


def upgrade() -> None:
    op.create_table(
        "price_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "service",
                "product",
                name="kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("unit_price", MONEY, nullable=False),
        sa.Column("tax_rate", RATE, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_price_items_unit_price_not_negative")),
        sa.CheckConstraint(
            "tax_rate >= 0 AND tax_rate <= 1", name=op.f("ck_price_items_tax_rate_fraction")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_items")),
        sa.UniqueConstraint("name", name=op.f("uq_price_items_name")),
    )
    with op.batch_alter_table("price_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_price_items_active"), ["active"], unique=False)
        batch_op.create_index(batch_op.f("ix_price_items_kind"), ["kind"], unique=False)

    with op.batch_alter_table(
        "invoice_lines", schema=None, reflect_kwargs=NO_FK_REFLECTION
    ) as batch_op:
        batch_op.add_column(sa.Column("discount_rate", RATE, server_default="0", nullable=False))
        batch_op.add_column(sa.Column("discount_amount", MONEY, server_default="0", nullable=False))
        batch_op.add_column(sa.Column("price_item_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_invoice_lines_price_item_id"), ["price_item_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_invoice_lines_price_item_id_price_items"),
            "price_items",
            ["price_item_id"],
            ["id"],
        )

    with op.batch_alter_table("invoices", schema=None, reflect_kwargs=NO_FK_REFLECTION) as batch_op:
        batch_op.add_column(sa.Column("discount", MONEY, server_default="0", nullable=False))

    with op.batch_alter_table("payments", schema=None, reflect_kwargs=NO_FK_REFLECTION) as batch_op:
        batch_op.add_column(sa.Column("tendered", MONEY, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None, reflect_kwargs=NO_FK_REFLECTION) as batch_op:
        batch_op.drop_column("tendered")
    with op.batch_alter_table("invoices", schema=None, reflect_kwargs=NO_FK_REFLECTION) as batch_op:
        batch_op.drop_column("discount")
    with op.batch_alter_table(
        "invoice_lines", schema=None, reflect_kwargs=NO_FK_REFLECTION
    ) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_invoice_lines_price_item_id_price_items"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_invoice_lines_price_item_id"))
        batch_op.drop_column("price_item_id")
        batch_op.drop_column("discount_amount")
        batch_op.drop_column("discount_rate")
    with op.batch_alter_table("price_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_price_items_kind"))
        batch_op.drop_index(batch_op.f("ix_price_items_active"))
    op.drop_table("price_items")
