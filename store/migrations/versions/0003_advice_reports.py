"""consult advice and order reports

Revision ID: 0003_advice_reports
Revises: 0002_lks

The bedrijfsarts' advice as kept after the medical-data guard, and the reports a provider owes under
an order (the deadline monitor lists the missing ones).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0003_advice_reports"
down_revision = "0002_lks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consult_advice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consult_id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("advice", sa.JSON(), nullable=False),
        sa.Column("dropped_fields", sa.Integer(), nullable=False),
        sa.Column("guard_version", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["consult_id"], ["consults.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("consult_id"),
    )
    op.create_table(
        "order_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id", "kind", "due_date"),
    )
    op.create_index(op.f("ix_order_reports_order_id"), "order_reports", ["order_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_order_reports_order_id"), table_name="order_reports")
    op.drop_table("order_reports")
    op.drop_table("consult_advice")
