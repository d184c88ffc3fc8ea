"""indexes the signal core needs at a backlog of 100,000 signals

Revision ID: 0007_signal_core_indexes
Revises: 0006_indexes

Each new ziekmelding looks up the person's closed cases (illness periods less than four weeks apart
count as one) and each signal looks for parked signals that referred to it. Without these indexes both
were full table scans per signal, so a backlog cost O(N²) (bench case 1).
"""

from __future__ import annotations

from alembic import op


revision = "0007_signal_core_indexes"
down_revision = "0006_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_gemeentecode_bsn", "cases", ["gemeentecode", "bsn"], unique=False)
    op.create_index("ix_signals_status", "signals", ["status"], unique=False)
    op.create_index("ix_signals_verwijst_naar", "signals", ["verwijst_naar"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_signals_verwijst_naar", table_name="signals")
    op.drop_index("ix_signals_status", table_name="signals")
    op.drop_index("ix_cases_gemeentecode_bsn", table_name="cases")
