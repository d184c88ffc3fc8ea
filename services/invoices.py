"""Provider invoices from intake to finance (domain.md §7), one function per step, no Prefect.

1. `fetch_feed` / `take_drop_folder`: every document is stored raw in the inbox (source `invoices`)
   before anything else; the same bytes twice are one message. A feed's cursor moves in the transaction
   that stored its page; the provider hears `received` (through the outbox).
2. `process_batch`: claim NEW inbox rows, validate with the official rules, read, reconcile, store the
   invoice with its findings and verdict. Unreadable documents are quarantined with a reason. The
   provider hears `accepted` (APPROVED) or `rejected` with the findings (REJECTED); a DISPUTED invoice
   waits for a clerk.
3. `decide`: a clerk approves, rejects (with reason) or approves part of a DISPUTED invoice; audited.
4. `export_approved`: approved invoices go to finance as booking files (one row per invoice, exactly once).
5. `deliver_statuses`: the outbox of status messages to the providers (feed API, or a response file in
   the drop folder).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

import store
from einvoicing import Validator
from mappings.finance_export import booking_row, to_csv, to_json
from rules.reconciliation import billed_by
from schemas.invoices import Finding, Severity, Source, Verdict
from schemas.orders import ProviderContract
from services.invoice_checks import Assessment, assess
from store import invoices as invoice_store
from store.models import InboxStatus, Invoice

SOURCE = "invoices"
ACTOR = "vangnet/facturen"
STATUS_EFFECT = "invoice.status"
CENT = Decimal("0.01")


class InvoiceDecisionError(ValueError):
    """A clerk's decision can't be applied; the message says why and what to do."""


@dataclass
class IntakeResult:
    """Counts of one intake run (feed or drop folder)."""

    received: int = 0
    new: int = 0
    duplicate: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ProcessResult:
    """Counts of one processing batch, and a row per invoice for the reconciliation table."""

    verdicts: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def processed(self) -> int:
        return sum(self.verdicts.values()) + self.quarantined


# -- 1. intake -------------------------------------------------------------------------------------

def fetch_feed(engine: Engine, client, feed: str, *, now: datetime, page_size: int = 100,
               max_pages: int = 100, before_page: Callable[[], None] | None = None) -> IntakeResult:
    """Read a provider feed from its stored cursor; each page is stored with its cursor in one transaction.
    `before_page` is called before each page is requested (the caller's pacing; it may block)."""
    result = IntakeResult()
    cursor_key = f"feed:{feed}"
    with store.session_scope(engine) as session:
        cursor = invoice_store.get_feed_cursor(session, cursor_key)
    for _ in range(max_pages):
        if before_page is not None:
            before_page()
        page = client.list_since(cursor, page_size)
        documents = [(item, *_download(client, item)) for item in page.items]
        with store.session_scope(engine) as session:
            for item, data, refused in documents:
                if refused is None:
                    _store_raw(session, data, f"feed:{feed}:{item.id}", now, result)
                else:
                    _store_refused(session, feed, item, refused, now, result)
            if page.next_cursor:
                invoice_store.set_feed_cursor(session, cursor_key, page.next_cursor)
        cursor = page.next_cursor or cursor
        if not page.has_more or not page.items:
            break
    return result


def _download(client, item) -> tuple[bytes | None, str | None]:
    """(the document, None), or (None, why) when this one item can't be fetched safely (a hostile id,
    too large, refused). A feed that is down raises: the whole page waits for the next run."""
    from connectors.providers import FeedUnavailable, ProviderFeedError

    try:
        return client.download(item.id, sha256=item.sha256), None
    except FeedUnavailable:
        raise
    except ProviderFeedError as exc:
        return None, str(exc)


def _store_refused(session, feed: str, item, why: str, now: datetime, result: IntakeResult) -> None:
    """Keep a listed document we could not fetch as what was listed, quarantined with the reason: the
    cursor moves past it, so this row is where a person finds it."""
    from connectors.rest import clean

    listed = {"feed": feed, "id": item.id, "invoice_number": item.invoice_number, "sha256": item.sha256}
    row, created = store.add_raw(session, source=SOURCE, payload=json.dumps(listed).encode("utf-8"),
                                 received_at=now, content_type="application/json")
    result.received += 1
    shown = clean(item.id, 60)
    result.skipped.append((f"feed:{feed}:{shown}", why))
    if created:
        reason = f"document {shown} van feed {feed} is niet opgehaald: {why}"
        store.quarantine(session, inbox_id=row.id, reason=reason)
        store.mark_inbox(session, row, InboxStatus.QUARANTINED, reason)


def take_drop_folder(engine: Engine, folder, *, now: datetime) -> IntakeResult:
    """Store every file in the drop folder, then move it to `processed/` (after the commit)."""
    result = IntakeResult()
    for file in folder.scan():
        with store.session_scope(engine) as session:
            _store_raw(session, file.data, f"drop:{file.name}", now, result)
        folder.mark_done(file, "processed")
    result.skipped = list(folder.skipped)
    return result


def _store_raw(session, data: bytes, ref: str, now: datetime, result: IntakeResult) -> None:
    result.received += 1
    _, created = store.add_raw(session, source=SOURCE, payload=data, received_at=now, message_key=ref)
    if created:
        result.new += 1
    else:
        result.duplicate += 1
    _queue_status(session, ref, "received", [])


# -- 2. processing ---------------------------------------------------------------------------------

def process_batch(engine: Engine, validator: Validator, contracts: Mapping[str, ProviderContract], *,
                  limit: int) -> ProcessResult:
    """Check up to `limit` NEW invoices (one transaction, rows locked) and store the outcomes."""
    result = ProcessResult()
    with store.session_scope(engine) as session:
        for message in store.claim_inbox(session, SOURCE, limit):
            try:
                with session.begin_nested():
                    _process_one(session, message, validator, contracts, result)
            except (OperationalError, InterfaceError):
                raise  # the database, not the document, is in trouble: fail the batch, retry it whole
            except Exception as exc:  # noqa: BLE001 - quarantine, don't crash; the type says enough
                reason = f"interne fout bij verwerken ({type(exc).__name__}); meld dit aan beheer"
                store.quarantine(session, inbox_id=message.id, reason=reason)
                store.mark_inbox(session, message, InboxStatus.QUARANTINED, reason)
                result.quarantined += 1
    return result


def _process_one(session, message, validator: Validator, contracts, result: ProcessResult) -> None:
    ref = message.message_key
    checked = assess(session, validator.validate(message.payload, name=None), contracts)
    if checked.invoice is None:
        store.quarantine(session, inbox_id=message.id, reason=checked.unreadable or "onleesbaar")
        store.mark_inbox(session, message, InboxStatus.QUARANTINED, checked.unreadable)
        _queue_status(session, ref, "rejected", checked.findings)
        result.quarantined += 1
        return
    invoice = _store_invoice(session, message, checked)
    store.mark_inbox(session, message, InboxStatus.PROCESSED)
    if checked.verdict is Verdict.APPROVED:
        _queue_status(session, ref, "accepted", [])
    elif checked.verdict is Verdict.REJECTED:
        _queue_status(session, ref, "rejected", checked.findings)
    result.verdicts[checked.verdict.value] = result.verdicts.get(checked.verdict.value, 0) + 1
    result.rows.append(table_row(invoice, [f.code for f in checked.findings]))


def _store_invoice(session, message, checked: Assessment) -> Invoice:
    inv = checked.invoice
    billed = billed_by(inv)
    return invoice_store.add_invoice(
        session,
        findings=[finding_columns(f) for f in checked.findings],
        inbox_id=message.id, source_ref=message.message_key, document=inv.document,
        profile=checked.validation.profile, supplier_id=inv.supplier_id or _raw_supplier(inv),
        invoice_number=inv.invoice_number[:64], order_number=(inv.order_number or None) and inv.order_number[:64],
        order_id=checked.order.id if checked.order is not None else None, type_code=inv.type_code[:8],
        issue_date=inv.issue_date, period_start=inv.period_start, period_end=inv.period_end,
        currency=inv.currency[:3], total_excl_vat=inv.totals.tax_exclusive, total_vat=inv.totals.tax_total,
        total_incl_vat=inv.totals.tax_inclusive,
        billed_hours={role: str(h) for role, h in billed.hours.items()}, billed_amount=billed.amount,
        billing_references=list(inv.billing_references), content_fingerprint=checked.fingerprint,
        auto_verdict=checked.verdict.value, verdict=checked.verdict.value,
    )


def _raw_supplier(inv) -> str:
    if inv.supplier_scheme or inv.supplier_identifier:
        return f"{inv.supplier_scheme or '?'}:{inv.supplier_identifier or '?'}"[:64]
    return "onbekend"


def finding_columns(f: Finding) -> dict[str, Any]:
    """A finding as InvoiceFinding columns."""
    return {"code": f.code[:64], "severity": f.severity.value, "source": f.source.value,
            "line": (f.line or None) and f.line[:64], "message": f.message, "location": f.location}


def table_row(invoice: Invoice, codes: Iterable[str]) -> dict[str, Any]:
    """One row of the reconciliation table (no personal data: invoices carry none)."""
    return {"invoice": invoice.invoice_number, "provider": invoice.supplier_id,
            "order": invoice.order_number or "", "amount": str(invoice.total_incl_vat),
            "verdict": invoice.verdict, "findings": ", ".join(sorted(set(codes)))}


# -- 3. review -------------------------------------------------------------------------------------

def decide(engine: Engine, invoice_id: int, decision: str, *, by: str, reason: str | None = None,
           amount: Decimal | None = None) -> Invoice:
    """Apply a clerk's decision on a DISPUTED invoice: `approve`, `reject` (reason required) or
    `partial` (approve `amount` excl. VAT, reason required)."""
    if decision not in ("approve", "reject", "partial"):
        raise InvoiceDecisionError(f"onbekende beslissing {decision!r}: kies approve, reject of partial")
    if decision in ("reject", "partial") and not (reason and reason.strip()):
        raise InvoiceDecisionError("geef een reden: de leverancier krijgt die te zien")
    with store.session_scope(engine) as session:
        invoice = invoice_store.get_invoice(session, invoice_id)
        if invoice is None:
            raise InvoiceDecisionError(f"factuur {invoice_id} bestaat niet; zie `vangnet invoices list`")
        if invoice.verdict != Verdict.DISPUTED:
            raise InvoiceDecisionError(f"factuur {invoice_id} ({invoice.invoice_number}) is al {invoice.verdict}; "
                                       "alleen een betwiste (DISPUTED) factuur wacht op een beslissing")
        if decision == "partial":
            full = abs(invoice.total_excl_vat)
            if amount is None or not (Decimal(0) < amount < full):
                raise InvoiceDecisionError(f"een gedeeltelijke goedkeuring heeft een bedrag tussen 0 en {full} "
                                           f"(excl. btw) van factuur {invoice.invoice_number}")
            invoice.approved_amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
        invoice.verdict = Verdict.REJECTED.value if decision == "reject" else Verdict.APPROVED.value
        invoice.decision, invoice.decision_reason = decision, (reason or "").strip() or None
        invoice.decided_by, invoice.decided_at = by[:64], store.utcnow()
        store.record_audit(session, actor=by[:64], action=f"invoice.{decision}", details={
            "invoice_id": invoice.id, "invoice_number": invoice.invoice_number, "supplier": invoice.supplier_id,
            "amount": str(invoice.approved_amount) if invoice.approved_amount is not None else None})
        if decision == "reject":
            reasons = [Finding(code="REVIEW_REJECTED", severity=Severity.FATAL, source=Source.RECONCILE,
                               message=invoice.decision_reason)]
            _queue_status(session, invoice.source_ref, "rejected", reasons)
        else:
            _queue_status(session, invoice.source_ref, "accepted", [])
        session.flush()
        session.expunge(invoice)
        return invoice


# -- 4. export -------------------------------------------------------------------------------------

def export_approved(engine: Engine, out_dir: Path, *, now: datetime, limit: int = 1000) -> list[Path]:
    """Hand approved, not yet exported invoices to finance; returns the booking files written.

    The export rows (one per invoice, unique) are committed first, then the batch's CSV and JSON are
    written atomically; a batch whose files were not written (crash) is written again on the next run
    under the same name, so finance never gets an invoice twice.
    """
    with store.session_scope(engine) as session:
        invoices = invoice_store.claim_unexported(session, limit)
        if invoices:
            batch = f"{now:%Y%m%dT%H%M%S}-{invoices[0].id}"
            for inv in invoices:
                excl, vat = _booked_amounts(inv)
                invoice_store.add_export(session, invoice_id=inv.id, batch=batch, amount_excl_vat=excl, vat=vat)
    written: list[Path] = []
    with store.session_scope(engine) as session:
        for batch in invoice_store.unwritten_batches(session):
            rows = [booking_row(export, inv) for export, inv in invoice_store.batch_rows(session, batch)]
            written += _write_batch(out_dir, batch, rows)
            invoice_store.mark_batch_written(session, batch)
    return written


def _booked_amounts(inv: Invoice) -> tuple[Decimal, Decimal]:
    sign = -1 if inv.billed_amount < 0 else 1
    if inv.approved_amount is None:
        return sign * abs(inv.total_excl_vat), sign * abs(inv.total_vat)
    share = inv.approved_amount / abs(inv.total_excl_vat) if inv.total_excl_vat else Decimal(0)
    vat = (abs(inv.total_vat) * share).quantize(CENT, rounding=ROUND_HALF_UP)
    return sign * inv.approved_amount, sign * vat


def _write_batch(out_dir: Path, batch: str, rows: list[dict[str, str]]) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix, data in ((".csv", to_csv(rows)), (".json", to_json(batch, rows))):
        path = out_dir / f"boekingen-{batch}{suffix}"
        tmp = path.with_suffix(suffix + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        paths.append(path)
    return paths


# -- 5. status messages to providers ---------------------------------------------------------------

def _queue_status(session, ref: str | None, status: str, findings: Iterable[Finding]) -> None:
    if not ref:
        return
    reasons = [{"code": f.code[:80], "message": f.message[:1000], **({"line": f.line[:64]} if f.line else {})}
               for f in findings if f.severity is not Severity.WARNING]
    if status == "rejected" and not reasons:
        reasons = [{"code": "REJECTED", "message": "de factuur is afgewezen; neem contact op met de gemeente"}]
    store.enqueue(session, effect=STATUS_EFFECT, idempotency_key=f"{STATUS_EFFECT}:{ref}:{status}"[:200],
                  payload={"ref": ref, "status": status, "reasons": reasons[:200]})


@dataclass
class DeliveryResult:
    """Counts of one status delivery run."""

    sent: int = 0
    failed: int = 0
    unroutable: int = 0


def deliver_statuses(engine: Engine, feed_clients: Mapping[str, Any], drop_dir: Path | None, *,
                     limit: int = 500) -> DeliveryResult:
    """Send queued status messages: to the feed the invoice came from, or as a JSON response file in
    the drop folder's `responses/` (where a Peppol access point or the provider picks it up)."""
    result = DeliveryResult()
    for _ in range(limit):
        with store.session_scope(engine) as session:
            items = store.claim_outbox(session, STATUS_EFFECT, 1)
            if not items:
                break
            item = items[0]
            channel, _, rest = item.payload["ref"].partition(":")
            try:
                if channel == "feed":
                    feed, _, item_id = rest.partition(":")
                    client = feed_clients.get(feed)
                    if client is None:
                        raise LookupError(f"feed {feed!r} is niet (meer) ingesteld; zet VANGNET_PROVIDER_FEEDS")
                    client.report_status(item_id, item.payload["status"], item.payload["reasons"],
                                         idempotency_key=item.idempotency_key)
                elif channel == "drop" and drop_dir is not None:
                    _write_response(drop_dir, rest, item.payload)
                else:
                    raise LookupError(f"geen weg terug naar de leverancier voor {channel!r}")
            except LookupError as exc:
                store.mark_outbox_failed(session, item, str(exc), max_attempts=1)
                result.unroutable += 1
            except Exception as exc:  # noqa: BLE001 - a partner failure is counted and retried next run
                store.mark_outbox_failed(session, item, f"{type(exc).__name__}: {exc}")
                result.failed += 1
                break
            else:
                store.mark_outbox_done(session, item)
                result.sent += 1
    return result


def _write_response(drop_dir: Path, name: str, payload: dict[str, Any]) -> None:
    responses = drop_dir / "responses"
    responses.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(name).name)
    path = responses / f"{safe}.{payload['status']}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"document": name, **payload}, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def open_disputes(engine: Engine, limit: int = 100) -> list[dict[str, Any]]:
    """DISPUTED invoices with their findings, for a clerk (no personal data)."""
    with store.session_scope(engine) as session:
        out = []
        for inv in invoice_store.list_invoices(session, verdict=Verdict.DISPUTED.value, limit=limit):
            row = table_row(inv, [])
            row["id"] = inv.id
            row["amount_excl_vat"] = str(inv.total_excl_vat)
            row["findings"] = [{"code": f.code, "severity": f.severity, "line": f.line, "message": f.message}
                               for f in invoice_store.findings_of(session, inv.id)]
            out.append(row)
        return out
