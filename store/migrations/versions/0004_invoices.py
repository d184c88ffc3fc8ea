"""invoices as read and checked, their findings and exports; text cursors of feeds

Revision ID: 0004_invoices
Revises: 0003_advice_reports

The invoice tables of 0001 were placeholders nothing wrote to; they are replaced: one invoice per inbox
row (a second invoice with the same supplier + number is kept so it can be rejected as a duplicate),
the reading's totals and billed hours, the rules' verdict and a clerk's decision, and one export row
per approved invoice.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0004_invoices"
down_revision = "0003_advice_reports"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=12, scale=2)


def upgrade() -> None:
    op.drop_index("ix_invoice_findings_invoice_id", table_name="invoice_findings")
    op.drop_table("invoice_findings")
    op.drop_index("ix_invoices_order_number", table_name="invoices")
    op.drop_index("ix_invoices_inbox_id", table_name="invoices")
    op.drop_table("invoices")

    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inbox_id", sa.Integer(), nullable=False),
        sa.Column("source_ref", sa.String(length=300), nullable=True),
        sa.Column("document", sa.String(length=16), nullable=False),
        sa.Column("profile", sa.String(length=32), nullable=True),
        sa.Column("supplier_id", sa.String(length=64), nullable=False),
        sa.Column("invoice_number", sa.String(length=64), nullable=False),
        sa.Column("order_number", sa.String(length=64), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("type_code", sa.String(length=8), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_excl_vat", MONEY, nullable=False),
        sa.Column("total_vat", MONEY, nullable=False),
        sa.Column("total_incl_vat", MONEY, nullable=False),
        sa.Column("billed_hours", sa.JSON(), nullable=False),
        sa.Column("billed_amount", MONEY, nullable=False),
        sa.Column("billing_references", sa.JSON(), nullable=False),
        sa.Column("content_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("auto_verdict", sa.String(length=16), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("approved_amount", MONEY, nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["inbox_id"], ["inbox_messages.id"], name=op.f("fk_invoices_inbox_id_inbox_messages")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_invoices_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("inbox_id", name=op.f("uq_invoices_inbox_id")),
    )
    op.create_index("ix_invoices_supplier_id_invoice_number", "invoices", ["supplier_id", "invoice_number"])
    op.create_index(op.f("ix_invoices_order_number"), "invoices", ["order_number"])
    op.create_index(op.f("ix_invoices_order_id"), "invoices", ["order_id"])
    op.create_index(op.f("ix_invoices_content_fingerprint"), "invoices", ["content_fingerprint"])
    op.create_index(op.f("ix_invoices_verdict"), "invoices", ["verdict"])

    op.create_table(
        "invoice_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("line", sa.String(length=64), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_findings_invoice_id_invoices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_findings")),
    )
    op.create_index(op.f("ix_invoice_findings_invoice_id"), "invoice_findings", ["invoice_id"])

    op.create_table(
        "invoice_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("batch", sa.String(length=64), nullable=False),
        sa.Column("amount_excl_vat", MONEY, nullable=False),
        sa.Column("vat", MONEY, nullable=False),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_exports_invoice_id_invoices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_exports")),
        sa.UniqueConstraint("invoice_id", name=op.f("uq_invoice_exports_invoice_id")),
    )
    op.create_index(op.f("ix_invoice_exports_batch"), "invoice_exports", ["batch"])

    op.create_table(
        "feed_cursors",
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("cursor", sa.String(length=500), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_feed_cursors")),
    )


def downgrade() -> None:
    op.drop_table("feed_cursors")
    op.drop_index(op.f("ix_invoice_exports_batch"), table_name="invoice_exports")
    op.drop_table("invoice_exports")
    op.drop_index(op.f("ix_invoice_findings_invoice_id"), table_name="invoice_findings")
    op.drop_table("invoice_findings")
    for index in ("ix_invoices_verdict", "ix_invoices_content_fingerprint", "ix_invoices_order_id",
                  "ix_invoices_order_number", "ix_invoices_supplier_id_invoice_number"):
        op.drop_index(index, table_name="invoices")
    op.drop_table("invoices")
    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inbox_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.String(length=64), nullable=False),
        sa.Column("supplier_scheme", sa.String(length=8), nullable=True),
        sa.Column("invoice_number", sa.String(length=64), nullable=False),
        sa.Column("order_number", sa.String(length=64), nullable=True),
        sa.Column("type_code", sa.String(length=8), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_excl_vat", MONEY, nullable=False),
        sa.Column("total_vat", MONEY, nullable=False),
        sa.Column("total_incl_vat", MONEY, nullable=False),
        sa.Column("verdict", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["inbox_id"], ["inbox_messages.id"], name=op.f("fk_invoices_inbox_id_inbox_messages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("supplier_id", "invoice_number", name=op.f("uq_invoices_supplier_id_invoice_number")),
    )
    op.create_index(op.f("ix_invoices_inbox_id"), "invoices", ["inbox_id"])
    op.create_index(op.f("ix_invoices_order_number"), "invoices", ["order_number"])
    op.create_table(
        "invoice_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("line", sa.String(length=64), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_findings_invoice_id_invoices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_findings")),
    )
    op.create_index(op.f("ix_invoice_findings_invoice_id"), "invoice_findings", ["invoice_id"])
