"""initial schema

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Enum columns are plain VARCHARs on purpose (see store.types.str_enum). audit_events is
append-only: a trigger refuses UPDATE and DELETE on both PostgreSQL and SQLite.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

AUDIT_APPEND_ONLY = "audit_events is append-only (Regeling procesgang art. 4): UPDATE and DELETE are refused"

PG_AUDIT_FUNCTION = f"""
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{AUDIT_APPEND_ONLY}' USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def _create_audit_guard() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_AUDIT_FUNCTION)
        for verb in ("update", "delete"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{verb} BEFORE {verb.upper()} ON audit_events "
                "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
            )
        # TRUNCATE bypasses row triggers.
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
        )
    else:
        for verb in ("update", "delete"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{verb} BEFORE {verb.upper()} ON audit_events "
                f"BEGIN SELECT RAISE(ABORT, '{AUDIT_APPEND_ONLY}'); END"
            )


def _drop_audit_guard() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in ("update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_events_no_{name} ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    else:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_events_no_{verb}")


def upgrade() -> None:
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gemeentecode', sa.String(length=4), nullable=False),
    sa.Column('bsn', sa.String(length=9), nullable=False),
    sa.Column('eerste_ziektedag', sa.Date(), nullable=True),
    sa.Column('datum_einde_dienstverband', sa.Date(), nullable=True),
    sa.Column('datum_melding', sa.Date(), nullable=True),
    sa.Column('datum_ontvangst', sa.Date(), nullable=False),
    sa.Column('besluit', sa.String(length=32), nullable=True),
    sa.Column('reden', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('zaak_identificatie', sa.String(length=40), nullable=True),
    sa.Column('zaak_url', sa.String(length=1000), nullable=True),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('closed_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases'))
    )
    op.create_index('uq_cases_active_person', 'cases', ['gemeentecode', 'bsn'], unique=True, sqlite_where=sa.text('closed_on IS NULL'), postgresql_where=sa.text('closed_on IS NULL'))
    op.create_table('inbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('message_key', sa.String(length=128), nullable=True),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox_messages')),
    sa.UniqueConstraint('source', 'content_sha256', name=op.f('uq_inbox_messages_source_content_sha256'))
    )
    op.create_index(op.f('ix_inbox_messages_source_status_received_at'), 'inbox_messages', ['source', 'status', 'received_at'], unique=False)
    op.create_table('intake_cursors',
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('last_volgnummer', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('source', name=op.f('pk_intake_cursors'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_audit_events_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    op.create_index(op.f('ix_audit_events_case_id'), 'audit_events', ['case_id'], unique=False)
    _create_audit_guard()
    op.create_table('consults',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('latest_date', sa.Date(), nullable=True),
    sa.Column('slot_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('booking_ref', sa.String(length=128), nullable=True),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_consults_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consults')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_consults_idempotency_key'))
    )
    op.create_index(op.f('ix_consults_case_id'), 'consults', ['case_id'], unique=False)
    op.create_table('invoices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inbox_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.String(length=64), nullable=False),
    sa.Column('supplier_scheme', sa.String(length=8), nullable=True),
    sa.Column('invoice_number', sa.String(length=64), nullable=False),
    sa.Column('order_number', sa.String(length=64), nullable=True),
    sa.Column('type_code', sa.String(length=8), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total_excl_vat', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('total_vat', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('total_incl_vat', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('verdict', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['inbox_id'], ['inbox_messages.id'], name=op.f('fk_invoices_inbox_id_inbox_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('supplier_id', 'invoice_number', name=op.f('uq_invoices_supplier_id_invoice_number'))
    )
    op.create_index(op.f('ix_invoices_inbox_id'), 'invoices', ['inbox_id'], unique=False)
    op.create_index(op.f('ix_invoices_order_number'), 'invoices', ['order_number'], unique=False)
    op.create_table('orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('order_number', sa.String(length=64), nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('budget_hours', sa.JSON(), nullable=True),
    sa.Column('budget_amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_orders_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('order_number', name=op.f('uq_orders_order_number'))
    )
    op.create_index(op.f('ix_orders_case_id'), 'orders', ['case_id'], unique=False)
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('effect', sa.String(length=64), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_outbox_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_idempotency_key'))
    )
    op.create_index(op.f('ix_outbox_case_id'), 'outbox', ['case_id'], unique=False)
    op.create_index(op.f('ix_outbox_effect_status'), 'outbox', ['effect', 'status'], unique=False)
    op.create_table('quarantine',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inbox_id', sa.Integer(), nullable=False),
    sa.Column('bericht_id', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['inbox_id'], ['inbox_messages.id'], name=op.f('fk_quarantine_inbox_id_inbox_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarantine'))
    )
    op.create_index(op.f('ix_quarantine_inbox_id'), 'quarantine', ['inbox_id'], unique=False)
    op.create_table('signals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inbox_id', sa.Integer(), nullable=False),
    sa.Column('bericht_id', sa.String(length=64), nullable=False),
    sa.Column('volgnummer', sa.BigInteger(), nullable=False),
    sa.Column('soort', sa.String(length=32), nullable=False),
    sa.Column('bsn', sa.String(length=9), nullable=False),
    sa.Column('gemeentecode', sa.String(length=4), nullable=False),
    sa.Column('eerste_ziektedag', sa.Date(), nullable=True),
    sa.Column('datum_einde_dienstverband', sa.Date(), nullable=True),
    sa.Column('datum_melding', sa.Date(), nullable=True),
    sa.Column('wettelijke_grondslag', sa.String(length=16), nullable=True),
    sa.Column('werkgever_loonheffingennummer', sa.String(length=12), nullable=True),
    sa.Column('datum_herstel', sa.Date(), nullable=True),
    sa.Column('datum_einde_zw', sa.Date(), nullable=True),
    sa.Column('reden_einde', sa.String(length=16), nullable=True),
    sa.Column('ezwb_uitkomst', sa.String(length=16), nullable=True),
    sa.Column('ezwb_datum', sa.Date(), nullable=True),
    sa.Column('nieuwe_gemeentecode', sa.String(length=4), nullable=True),
    sa.Column('verwijst_naar', sa.String(length=64), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_signals_case_id_cases')),
    sa.ForeignKeyConstraint(['inbox_id'], ['inbox_messages.id'], name=op.f('fk_signals_inbox_id_inbox_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signals')),
    sa.UniqueConstraint('bericht_id', name=op.f('uq_signals_bericht_id'))
    )
    op.create_index(op.f('ix_signals_case_id'), 'signals', ['case_id'], unique=False)
    op.create_index(op.f('ix_signals_inbox_id'), 'signals', ['inbox_id'], unique=False)
    op.create_table('wvp_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('stap', sa.String(length=32), nullable=False),
    sa.Column('datum', sa.Date(), nullable=False),
    sa.Column('wettelijke_datum', sa.Date(), nullable=False),
    sa.Column('onverwijld', sa.Boolean(), nullable=False),
    sa.Column('gemeente_verantwoordelijk', sa.Boolean(), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.Column('deviation_reason', sa.Text(), nullable=True),
    sa.Column('deviation_consulted_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_wvp_steps_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wvp_steps')),
    sa.UniqueConstraint('case_id', 'stap', name=op.f('uq_wvp_steps_case_id_stap'))
    )
    op.create_table('invoice_findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('line', sa.String(length=64), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_invoice_findings_invoice_id_invoices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_findings'))
    )
    op.create_index(op.f('ix_invoice_findings_invoice_id'), 'invoice_findings', ['invoice_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_invoice_findings_invoice_id'), table_name='invoice_findings')
    op.drop_table('invoice_findings')
    op.drop_table('wvp_steps')
    op.drop_index(op.f('ix_signals_inbox_id'), table_name='signals')
    op.drop_index(op.f('ix_signals_case_id'), table_name='signals')
    op.drop_table('signals')
    op.drop_index(op.f('ix_quarantine_inbox_id'), table_name='quarantine')
    op.drop_table('quarantine')
    op.drop_index(op.f('ix_outbox_effect_status'), table_name='outbox')
    op.drop_index(op.f('ix_outbox_case_id'), table_name='outbox')
    op.drop_table('outbox')
    op.drop_index(op.f('ix_orders_case_id'), table_name='orders')
    op.drop_table('orders')
    op.drop_index(op.f('ix_invoices_order_number'), table_name='invoices')
    op.drop_index(op.f('ix_invoices_inbox_id'), table_name='invoices')
    op.drop_table('invoices')
    op.drop_index(op.f('ix_consults_case_id'), table_name='consults')
    op.drop_table('consults')
    _drop_audit_guard()
    op.drop_index(op.f('ix_audit_events_case_id'), table_name='audit_events')
    op.drop_table('audit_events')
    op.drop_table('intake_cursors')
    op.drop_index(op.f('ix_inbox_messages_source_status_received_at'), table_name='inbox_messages')
    op.drop_table('inbox_messages')
    op.drop_index('uq_cases_active_person', table_name='cases', sqlite_where=sa.text('closed_on IS NULL'), postgresql_where=sa.text('closed_on IS NULL'))
    op.drop_table('cases')
