"""The vangnet state store: models, migrations and repository functions (plain functions taking a
Session). Only this package talks to the database; nothing here imports flows, connectors or Prefect.
"""

from __future__ import annotations

from store.audit import AuditAppendOnlyError, audit_for_case, record_audit
from store.cases import (
    add_steps,
    cases_for_person,
    close_case,
    create_case,
    find_active_case,
    flag_case,
    get_case,
    list_cases,
    parse_case_ref,
    reopen_case,
    replace_steps,
    steps_for,
)
from store.db import make_engine, make_sessionmaker, normalise_url, safe_url, session_scope, utcnow
from store.inbox import (
    add_raw,
    claim_inbox,
    get_cursor,
    list_quarantine,
    mark_inbox,
    quarantine,
    resolve_quarantine,
    set_cursor,
)
from store.lks import get_lks, lks_for_person, periode_from_row, replace_suwinet_lks, upsert_lks
from store.migrate import current_revision, head_revision, is_up_to_date, upgrade
from store.models import (
    AuditEvent,
    Base,
    Case,
    Consult,
    ConsultAdvice,
    ConsultPurpose,
    InboxMessage,
    InboxStatus,
    IntakeCursor,
    Invoice,
    InvoiceFinding,
    LksRecord,
    Order,
    OrderKind,
    OutboxItem,
    OutboxStatus,
    OrderReport,
    QuarantineRow,
    SignalRow,
    SignalStatus,
    WvpStep,
)
from store.outbox import claim_outbox, enqueue, mark_outbox_done, mark_outbox_failed
from store.signals import (
    add_signal,
    get_signal,
    link_signal,
    mark_signal,
    parked_signals,
    signal_from_row,
    signals_for_case,
    signals_referring_to,
)

__all__ = [
    "AuditAppendOnlyError", "AuditEvent", "Base", "Case", "Consult", "ConsultAdvice", "ConsultPurpose", "InboxMessage",
    "InboxStatus", "IntakeCursor", "Invoice", "InvoiceFinding", "LksRecord", "Order", "OrderKind",
    "OutboxItem", "OutboxStatus", "OrderReport", "QuarantineRow", "SignalRow", "SignalStatus", "WvpStep", "add_raw",
    "add_steps",
    "add_signal", "audit_for_case", "cases_for_person", "claim_inbox", "claim_outbox", "close_case",
    "create_case", "current_revision", "enqueue", "find_active_case", "flag_case", "get_case", "get_cursor",
    "get_lks", "get_signal", "head_revision", "is_up_to_date", "link_signal", "lks_for_person", "list_cases",
    "list_quarantine", "make_engine", "make_sessionmaker", "mark_inbox", "mark_outbox_done",
    "mark_outbox_failed", "mark_signal", "normalise_url", "parked_signals", "parse_case_ref",
    "periode_from_row", "quarantine", "record_audit", "reopen_case", "replace_steps", "replace_suwinet_lks",
    "resolve_quarantine", "safe_url", "session_scope", "set_cursor", "signal_from_row", "signals_for_case",
    "signals_referring_to", "steps_for", "upgrade", "upsert_lks", "utcnow",
]
from store.orders import (  # noqa: E402 - add-only block (orders)
    add_order,
    drop_open_reports_after,
    find_same_order,
    get_order,
    get_report,
    list_orders,
    order_numbers_of_case,
    reports_for,
    running_orders_of_closed_cases,
)

__all__ += [
    "add_order", "drop_open_reports_after", "find_same_order", "get_order", "get_report", "list_orders",
    "order_numbers_of_case", "reports_for", "running_orders_of_closed_cases",
]

from store.consults import (  # noqa: E402 - consult lifecycle (kept apart: add-only block)
    ConsultStatus,
    advice_for,
    booking_intent,
    cases_needing_probleemanalyse,
    claim_consults,
    consult_key,
    count_no_shows,
    create_consult,
    finished_without_step_done,
    list_consults,
    mark_consult_booked,
    next_attempt,
    record_booking_intent,
    set_consult_status,
    store_advice,
)

__all__ += [
    "ConsultStatus", "advice_for", "booking_intent", "cases_needing_probleemanalyse", "claim_consults", "consult_key",
    "count_no_shows", "create_consult", "finished_without_step_done", "list_consults", "mark_consult_booked",
    "next_attempt", "record_booking_intent", "set_consult_status", "store_advice",
]
