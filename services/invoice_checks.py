"""Assess one e-invoice: official validation, reading, reconciliation against the stored orders.

Shared by the invoice flow (which then stores the outcome) and `vangnet invoices check` (which only
prints it). Reads the store, never writes it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from einvoicing import ValidationResult
from mappings.ubl_invoice import InvoiceMappingError, read_invoice
from rules.reconciliation import (
    Billed,
    OrderFacts,
    ReconcileContext,
    billed_by,
    content_fingerprint,
    reconcile,
    verdict,
)
from schemas.invoices import Finding, Invoice, Severity, Source, Verdict
from schemas.orders import ProviderContract
from store import invoices as invoice_store
from store.models import Order

INVOICE_DOCUMENTS = ("Invoice", "CreditNote")
NEGATIVE_TOTAL = "NEGATIVE_TOTAL"
"""Finding code: an invoice (380) with a negative total, which must be a credit note instead."""
MAX_AMOUNT = Decimal(10) ** 10
"""Amounts from this size on do not fit the store (NUMERIC(12, 2)) and are refused."""
_LONG_NUMBER = re.compile(r"\d{9,}")


@dataclass
class Assessment:
    """What checking one document found. `invoice` is None when it could not be read as an invoice
    (then `unreadable` says why, and the document is quarantined)."""

    validation: ValidationResult
    findings: list[Finding] = field(default_factory=list)
    verdict: Verdict = Verdict.REJECTED
    invoice: Invoice | None = None
    order: Order | None = None
    fingerprint: str | None = None
    unreadable: str | None = None


def assess(session: Session, validation: ValidationResult, contracts: Mapping[str, ProviderContract]) -> Assessment:
    """Read and reconcile a validated document against the store (read-only)."""
    result = Assessment(validation=validation, findings=list(validation.findings))
    if validation.root is None or validation.document is None:  # not XML, or an unknown root: the finding says it
        result.unreadable = _masked(_first_fatal(validation.findings) or "het document is geen factuur of creditnota")
        return result
    if validation.document not in INVOICE_DOCUMENTS:  # another e-document (an Order): its own findings don't matter
        result.unreadable = f"het document is een {validation.document}, geen factuur of creditnota"
        return result
    try:
        invoice = read_invoice(validation.root)
        _check_storable(invoice)
    except InvoiceMappingError as exc:
        result.unreadable = _masked(f"de factuur kan niet gelezen worden: {exc}")
        result.findings.append(Finding(code="UNREADABLE", severity=Severity.FATAL, source=Source.XML,
                                       message=_masked(str(exc))))
        return result
    result.invoice = invoice
    result.fingerprint = content_fingerprint(invoice)
    order, case_closed_on = _find_order(session, invoice)
    result.order = order
    result.findings += reconcile(invoice, _context(session, invoice, order, case_closed_on, contracts,
                                                   result.fingerprint))
    if invoice.document == "Invoice" and invoice.totals.tax_exclusive < 0:
        result.findings.append(Finding(
            code=NEGATIVE_TOTAL, severity=Severity.FATAL, source=Source.RECONCILE,
            message=_masked(f"factuur {invoice.invoice_number[:40]} heeft een negatief totaal "
                            f"({invoice.totals.tax_exclusive} excl. btw); een terugbetaling is een creditnota (381) "
                            "die naar de oorspronkelijke factuur verwijst: vraag de leverancier daarom.")))
    result.verdict = verdict(result.findings)
    return result


def _check_storable(invoice: Invoice) -> None:
    """Amounts must fit the store's money columns (10 digits before the point): refuse, never round."""
    amounts = {"totaal excl. btw": invoice.totals.tax_exclusive, "btw": invoice.totals.tax_total,
               "totaal incl. btw": invoice.totals.tax_inclusive, "som van de regels": billed_by(invoice).amount}
    too_large = [name for name, value in amounts.items() if abs(value) >= MAX_AMOUNT]
    if too_large:
        raise InvoiceMappingError(f"{invoice.document} {invoice.invoice_number[:40]}: het bedrag "
                                  f"({', '.join(too_large)}) is tien miljard euro of meer; zo'n factuur wordt niet "
                                  "verwerkt, vraag de leverancier om een juiste factuur")


def _masked(text: str) -> str:
    """A reason without digit runs that could be a BSN (invoices carry none, a hostile one might)."""
    return _LONG_NUMBER.sub("<nummer>", text)


def _find_order(session: Session, invoice: Invoice) -> tuple[Order | None, date | None]:
    """The order the invoice names, and the closing date of its case. A credit note or correction often
    names only the invoice it corrects: then the order of that invoice."""
    found = invoice_store.order_with_case_closed(session, number=invoice.order_number) if invoice.order_number else None
    if found is None and invoice.billing_references and invoice.supplier_id:
        original = invoice_store.order_of_invoice(session, invoice.supplier_id, invoice.billing_references)
        if original is not None:
            found = invoice_store.order_with_case_closed(session, order_id=original)
    return found if found is not None else (None, None)


def _context(session: Session, invoice: Invoice, order: Order | None, case_closed_on: date | None,
             contracts: Mapping[str, ProviderContract], fingerprint: str) -> ReconcileContext:
    supplier = invoice.supplier_id or ""
    facts = _order_facts(order, case_closed_on) if order is not None else None
    contract = contracts.get(order.provider_id if order is not None else supplier)
    same_number, same_content = (invoice_store.duplicates_of(session, supplier, invoice.invoice_number, fingerprint)
                                 if supplier else (False, None))
    return ReconcileContext(
        order=facts,
        contract=contract,
        billed=billed_on(session, order) if order is not None else Billed(),
        same_number_stored=same_number,
        same_content_as=same_content,
        known_invoice_numbers=invoice_store.stored_numbers(session, supplier, invoice.billing_references)
        if supplier and invoice.billing_references else frozenset(),
    )


def _order_facts(order: Order, case_closed_on: date | None) -> OrderFacts:
    return OrderFacts(
        order_number=order.order_number,
        provider_id=order.provider_id,
        kind=str(order.kind),
        start=order.start_date,
        end=order.end_date,
        case_closed_on=case_closed_on,
        rates={role: Decimal(str(rate)) for role, rate in order.roles.items()},
        budget_hours={role: Decimal(str(h)) for role, h in order.budget_hours.items()} if order.budget_hours else None,
        budget_amount=order.budget_amount,
    )


def billed_on(session: Session, order: Order) -> Billed:
    """What earlier APPROVED invoices on `order` billed (credit notes subtract; a partial approval
    counts its approved amount and its hours pro rata)."""
    hours: dict[str, Decimal] = {}
    amount = Decimal("0.00")
    for billed_amount, approved_amount, billed_hours in invoice_store.approved_amounts_on_order(session, order.id):
        share = Decimal(1)
        billed = billed_amount
        if approved_amount is not None and billed_amount:
            share = approved_amount / abs(billed_amount)
            billed = approved_amount * (1 if billed_amount > 0 else -1)
        amount += billed
        for role, h in (billed_hours or {}).items():
            hours[role] = hours.get(role, Decimal(0)) + Decimal(str(h)) * share
    return Billed(hours=hours, amount=amount)


def _first_fatal(findings) -> str | None:
    for f in findings:
        if f.severity is Severity.FATAL:
            return f"{f.code}: {f.message}"
    return None
