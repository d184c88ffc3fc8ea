"""indexes for the deadline monitor and the paged case list at scale

Revision ID: 0006_indexes
Revises: 0005_dossier

The monitor asks every day for the steps not done that are due on or before today + 14 days. At a
million cases (11 million steps) that was a full scan of wvp_steps joined to cases; a partial index on
the steps not done, ordered by due date and holding every column the monitor reads, turns it into a
range scan that reads only the index. `cases list --status` pages by status, newest first.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0006_indexes"
down_revision = "0005_dossier"
branch_labels = None
depends_on = None

NOT_DONE = sa.text("done_on IS NULL")


def upgrade() -> None:
    op.create_index("ix_wvp_steps_open_due", "wvp_steps", ["datum", "case_id", "stap", "gemeente_verantwoordelijk"],
                    unique=False, sqlite_where=NOT_DONE, postgresql_where=NOT_DONE)
    op.create_index("ix_cases_status_id", "cases", ["status", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_cases_status_id", table_name="cases")
    op.drop_index("ix_wvp_steps_open_due", table_name="wvp_steps", sqlite_where=NOT_DONE, postgresql_where=NOT_DONE)
