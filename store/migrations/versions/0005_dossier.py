"""the case dossier: plan van aanpak versions and copies, ladder, instruments, entries, RIV documents

Revision ID: 0005_dossier
Revises: 0004_invoices

Everything the re-integratieverslag (Regeling art. 8) and the management report read that no earlier
table holds, and `cases.anonymised_on` for the retention flow.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0005_dossier"
down_revision = "0004_invoices"
branch_labels = None
depends_on = None

TABLES = ("plan_copies", "plans_van_aanpak", "ladder_entries", "case_instruments", "dossier_entries", "riv_documents")


def _case_table(name: str, *columns: sa.Column, unique: tuple[str, ...] = ()) -> None:
    constraints = [sa.UniqueConstraint(*unique)] if unique else []
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        *columns,
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        *constraints,
    )
    op.create_index(op.f(f"ix_{name}_case_id"), name, ["case_id"], unique=False)


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("anonymised_on", sa.Date(), nullable=True))
    _case_table(
        "plans_van_aanpak",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("agreed_on", sa.Date(), nullable=False),
        sa.Column("contact_person", sa.String(length=100), nullable=False),
        sa.Column("activities", sa.JSON(), nullable=False),
        sa.Column("evaluation_moments", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        unique=("case_id", "version"),
    )
    op.create_table(
        "plan_copies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=16), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans_van_aanpak.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "recipient"),
    )
    op.create_index(op.f("ix_plan_copies_plan_id"), "plan_copies", ["plan_id"], unique=False)
    _case_table("ladder_entries", sa.Column("trede", sa.Integer(), nullable=False),
                sa.Column("since", sa.Date(), nullable=False))
    _case_table("case_instruments", sa.Column("instrument", sa.String(length=32), nullable=False),
                sa.Column("started_on", sa.Date(), nullable=False), sa.Column("ended_on", sa.Date(), nullable=True))
    _case_table("dossier_entries", sa.Column("kind", sa.String(length=32), nullable=False),
                sa.Column("entry_date", sa.Date(), nullable=False), sa.Column("text", sa.Text(), nullable=False))
    _case_table(
        "riv_documents",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("generated_on", sa.Date(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("gaps", sa.JSON(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        unique=("case_id", "version"),
    )


def downgrade() -> None:
    for name in TABLES:
        if name == "plan_copies":
            op.drop_index(op.f("ix_plan_copies_plan_id"), table_name=name)
        else:
            op.drop_index(op.f(f"ix_{name}_case_id"), table_name=name)
        op.drop_table(name)
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("anonymised_on")
