"""lks periods

Revision ID: 0002_lks
Revises: 0001
Create Date: 2025-01-02

The LKS periods the takeover decision weighs: imported from the gemeente's own registration
(bron REGISTRATIE) or looked up in Suwinet GSDDossierReintegratie (bron SUWINET).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002_lks'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lks_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bsn', sa.String(length=9), nullable=False),
    sa.Column('gemeentecode', sa.String(length=4), nullable=False),
    sa.Column('begin', sa.Date(), nullable=False),
    sa.Column('einde', sa.Date(), nullable=True),
    sa.Column('loonwaarde_pct', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('bron', sa.String(length=16), nullable=False),
    sa.Column('type_code', sa.String(length=16), nullable=True),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lks_periods')),
    sa.UniqueConstraint('bsn', 'gemeentecode', 'begin', 'bron', name=op.f('uq_lks_periods_bsn_gemeentecode_begin_bron'))
    )


def downgrade() -> None:
    op.drop_table('lks_periods')
