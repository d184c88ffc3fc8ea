"""Invoices as read and checked, their findings, clerks' decisions, exports and feed cursors."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from store._sql import insert_if_absent
from store.db import utcnow
from store.models import Case, FeedCursor, Invoice, InvoiceExport, InvoiceFinding, Order

APPROVED = "APPROVED"
DISPUTED = "DISPUTED"


def add_invoice(session: Session, findings: Iterable[dict[str, Any]] = (), **fields: Any) -> Invoice:
    """Insert an invoice (fields are Invoice columns) with its findings (InvoiceFinding columns)."""
    invoice = Invoice(**fields)
    session.add(invoice)
    session.flush()
    session.add_all(InvoiceFinding(invoice_id=invoice.id, **f) for f in findings)
    session.flush()
    return invoice


def get_invoice(session: Session, invoice_id: int) -> Invoice | None:
    """An invoice by id."""
    return session.get(Invoice, invoice_id)


def invoice_for_inbox(session: Session, inbox_id: int) -> Invoice | None:
    """The invoice read from an inbox message, if any."""
    return session.scalars(select(Invoice).where(Invoice.inbox_id == inbox_id)).one_or_none()


def findings_of(session: Session, invoice_id: int) -> list[InvoiceFinding]:
    """An invoice's findings in the order they were found."""
    return list(session.scalars(select(InvoiceFinding).where(InvoiceFinding.invoice_id == invoice_id)
                                .order_by(InvoiceFinding.id)))


def list_invoices(session: Session, *, verdict: str | None = None, limit: int | None = None) -> list[Invoice]:
    """Invoices, oldest first, optionally only those with `verdict`."""
    stmt = select(Invoice).order_by(Invoice.id)
    if verdict is not None:
        stmt = stmt.where(Invoice.verdict == verdict)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def stored_numbers(session: Session, supplier_id: str, invoice_numbers: Iterable[str]) -> frozenset[str]:
    """Which of these invoice numbers this supplier has stored (originals of a credit note, say)."""
    return frozenset(session.scalars(_STORED_NUMBERS, {"supplier": supplier_id, "numbers": list(invoice_numbers)}))


def same_number_stored(session: Session, supplier_id: str, invoice_number: str, fingerprint: str) -> bool:
    """True when this supplier already has a stored invoice with this number but other content."""
    stmt = select(func.count()).select_from(Invoice).where(
        Invoice.supplier_id == supplier_id, Invoice.invoice_number == invoice_number,
        Invoice.content_fingerprint != fingerprint)
    return session.scalar(stmt) > 0


def same_content_as(session: Session, supplier_id: str, invoice_number: str, fingerprint: str) -> str | None:
    """The number of a stored invoice of this supplier with the same content under another number."""
    stmt = select(Invoice.invoice_number).where(
        Invoice.supplier_id == supplier_id, Invoice.content_fingerprint == fingerprint,
        Invoice.invoice_number != invoice_number).order_by(Invoice.id).limit(1)
    return session.scalars(stmt).first()


# Statements of the per-invoice checks (`services.invoice_checks.assess`), built once: building and
# hashing a select costs SQLAlchemy several times what SQLite needs to run it.
_SAME_NUMBER = select(Invoice.id).where(
    Invoice.supplier_id == bindparam("supplier"), Invoice.invoice_number == bindparam("number"),
    Invoice.content_fingerprint != bindparam("fingerprint")).exists()
_SAME_CONTENT = select(Invoice.invoice_number).where(
    Invoice.supplier_id == bindparam("supplier"), Invoice.content_fingerprint == bindparam("fingerprint"),
    Invoice.invoice_number != bindparam("number")).order_by(Invoice.id).limit(1).scalar_subquery()
_DUPLICATES = select(_SAME_NUMBER, _SAME_CONTENT)
_ORDER_WITH_CASE = select(Order, Case.closed_on).outerjoin(Case, Case.id == Order.case_id)
_ORDER_BY_NUMBER = _ORDER_WITH_CASE.where(Order.order_number == bindparam("number"))
_ORDER_BY_ID = _ORDER_WITH_CASE.where(Order.id == bindparam("order_id"))
_APPROVED_AMOUNTS = (select(Invoice.billed_amount, Invoice.approved_amount, Invoice.billed_hours)
                     .where(Invoice.order_id == bindparam("order_id"), Invoice.verdict == APPROVED)
                     .order_by(Invoice.id))
_STORED_NUMBERS = select(Invoice.invoice_number).where(
    Invoice.supplier_id == bindparam("supplier"), Invoice.invoice_number.in_(bindparam("numbers", expanding=True)))


def duplicates_of(session: Session, supplier_id: str, invoice_number: str, fingerprint: str) -> tuple[bool, str | None]:
    """`same_number_stored` and `same_content_as` in one round trip (each part uses its own index)."""
    number_stored, content_as = session.execute(
        _DUPLICATES, {"supplier": supplier_id, "number": invoice_number, "fingerprint": fingerprint}).one()
    return bool(number_stored), content_as


def order_with_case_closed(session: Session, *, number: str | None = None,
                           order_id: int | None = None) -> tuple[Order, date | None] | None:
    """The order with this number (or id) and the date its case closed (None: open), in one query;
    None when there is no such order."""
    if number is not None:
        row = session.execute(_ORDER_BY_NUMBER, {"number": number}).one_or_none()
    else:
        row = session.execute(_ORDER_BY_ID, {"order_id": order_id}).one_or_none()
    return None if row is None else (row[0], row[1])


def order_of_invoice(session: Session, supplier_id: str, invoice_numbers: Iterable[str]) -> int | None:
    """The order id of the first stored invoice of this supplier with one of these numbers (and an order)."""
    stmt = (select(Invoice.order_id).where(Invoice.supplier_id == supplier_id,
                                           Invoice.invoice_number.in_(list(invoice_numbers)),
                                           Invoice.order_id.is_not(None)).order_by(Invoice.id).limit(1))
    return session.scalars(stmt).first()


def approved_on_order(session: Session, order_id: int) -> list[Invoice]:
    """The APPROVED invoices (and credit notes) on an order: what counts against its budget."""
    return list(session.scalars(select(Invoice).where(Invoice.order_id == order_id, Invoice.verdict == APPROVED)
                                .order_by(Invoice.id)))


def approved_amounts_on_order(session: Session, order_id: int) -> list[tuple[Decimal, Decimal | None, dict[str, Any]]]:
    """(billed_amount, approved_amount, billed_hours) of each APPROVED invoice on an order, oldest first:
    what `approved_on_order` gives for budgets, without loading whole invoices."""
    return [tuple(row) for row in session.execute(_APPROVED_AMOUNTS, {"order_id": order_id})]


def claim_disputed(session: Session, limit: int) -> list[Invoice]:
    """Up to `limit` DISPUTED invoices, oldest first, locked (SKIP LOCKED) until the transaction ends."""
    stmt = (select(Invoice).where(Invoice.verdict == DISPUTED).order_by(Invoice.id).limit(limit)
            .with_for_update(skip_locked=True))
    return list(session.scalars(stmt))


def claim_unexported(session: Session, limit: int) -> list[Invoice]:
    """Up to `limit` APPROVED invoices without an export row, locked (SKIP LOCKED)."""
    exported = select(InvoiceExport.invoice_id)
    stmt = (select(Invoice).where(Invoice.verdict == APPROVED, Invoice.id.not_in(exported))
            .order_by(Invoice.id).limit(limit).with_for_update(skip_locked=True))
    return list(session.scalars(stmt))


def add_export(session: Session, *, invoice_id: int, batch: str, amount_excl_vat: Decimal, vat: Decimal) -> bool:
    """Record an invoice as exported in `batch`; False when it already was (in any batch)."""
    return insert_if_absent(session, InvoiceExport, {
        "invoice_id": invoice_id, "batch": batch, "amount_excl_vat": amount_excl_vat, "vat": vat,
        "exported_at": utcnow(), "written_at": None}, ["invoice_id"])


def unwritten_batches(session: Session) -> list[str]:
    """Export batches whose booking files are not (known to be) on disk yet, oldest first."""
    stmt = (select(InvoiceExport.batch).where(InvoiceExport.written_at.is_(None)).group_by(InvoiceExport.batch)
            .order_by(func.min(InvoiceExport.id)))
    return list(session.scalars(stmt))


def batch_rows(session: Session, batch: str) -> list[tuple[InvoiceExport, Invoice]]:
    """The exports of a batch with their invoices, in invoice order."""
    stmt = (select(InvoiceExport, Invoice).join(Invoice, Invoice.id == InvoiceExport.invoice_id)
            .where(InvoiceExport.batch == batch).order_by(Invoice.id))
    return [(e, i) for e, i in session.execute(stmt)]


def mark_batch_written(session: Session, batch: str) -> None:
    """The batch's booking files are on disk."""
    now = utcnow()
    for export in session.scalars(select(InvoiceExport).where(InvoiceExport.batch == batch)):
        export.written_at = now
    session.flush()


def get_feed_cursor(session: Session, source: str) -> str | None:
    """The stored cursor of a feed; None before its first read."""
    row = session.get(FeedCursor, source)
    return row.cursor if row else None


def set_feed_cursor(session: Session, source: str, cursor: str) -> None:
    """Move a feed's cursor (in the transaction that stored what was read)."""
    row = session.get(FeedCursor, source)
    if row is None:
        session.add(FeedCursor(source=source, cursor=cursor))
    else:
        row.cursor = cursor
    session.flush()
