"""Invoice flows: sync (fetch → validate + reconcile → export → answer the providers) and review.

`invoice-sync` reads every configured provider feed (`VANGNET_PROVIDER_FEEDS`) and the drop folder
(`VANGNET_INVOICE_DROP_DIR`), checks the new invoices in batches (one task per batch, never per
invoice), exports the approved ones to finance and sends the providers their status messages. Its
artifact `invoice-reconciliation` is the table of this run's invoices (number, provider, amount,
verdict, finding codes: no personal data). A feed that fails is logged and raises the Prefect event
`vangnet.invoices.feed-failed`; the other sources are still processed.

`invoice-review` shows each DISPUTED invoice to a clerk in the Prefect UI: the run pauses with a form
(approve, reject with a reason, or approve part of it); the decision is applied and audited. A run
nobody answers within `VANGNET_INVOICE_REVIEW_TIMEOUT` seconds stops and leaves the rest DISPUTED;
`vangnet invoices review` does the same from the command line.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Literal

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event
from prefect.context import get_run_context
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from pydantic import Field

import store
from flows import limits, runtime
from flows.progress import BatchProgress
from flows.settings import Settings
from services import invoices as invoice_service
from services.intake import DUTCH_TIME

ARTIFACT_KEY = "invoice-reconciliation"
FEED_FAILED_EVENT = "vangnet.invoices.feed-failed"
QUARANTINED_EVENT = "vangnet.invoices.quarantined"


class InvoiceReview(RunInput):
    """The clerk's form for one disputed invoice."""

    decision: Literal["approve", "reject", "partial"] = Field(
        default="approve", description="approve: pay in full; reject: send back; partial: pay only the amount below")
    reason: str = Field(default="", max_length=500,
                        description="Required for reject and partial: the provider sees it. No personal data.")
    amount_excl_vat: Decimal | None = Field(default=None, ge=0, description="For partial: amount excl. VAT to pay.")


@task(name="fetch-invoice-feed", task_run_name="fetch-invoice-feed-{feed}", cache_policy=NO_CACHE)
def fetch_task(engine, client, feed: str, now: datetime) -> invoice_service.IntakeResult:
    return invoice_service.fetch_feed(engine, client, feed, now=now,
                                      before_page=lambda: limits.partner_pace(limits.invoice_feed(feed)))


@task(name="take-invoice-drop-folder", cache_policy=NO_CACHE)
def drop_task(engine, folder, now: datetime) -> invoice_service.IntakeResult:
    return invoice_service.take_drop_folder(engine, folder, now=now)


@task(name="check-invoices", task_run_name="check-invoices-{batch_number}", cache_policy=NO_CACHE)
def check_task(batch_number: int, engine, validator, contracts, limit: int) -> invoice_service.ProcessResult:
    return invoice_service.process_batch(engine, validator, contracts, limit=limit)


@task(name="export-invoices", cache_policy=NO_CACHE)
def export_task(engine, out_dir, now: datetime) -> int:
    return len(invoice_service.export_approved(engine, out_dir, now=now)) // 2


@task(name="answer-providers", cache_policy=NO_CACHE)
def answer_task(engine, clients, drop_dir) -> invoice_service.DeliveryResult:
    return invoice_service.deliver_statuses(engine, clients, drop_dir)


def _sync_name() -> str:
    return f"invoices-{datetime.now(DUTCH_TIME):%Y%m%d-%H%M%S}"


def _review_name() -> str:
    return f"invoice-review-{datetime.now(DUTCH_TIME):%Y%m%d-%H%M%S}"


@flow(name="invoice-sync", flow_run_name=_sync_name, persist_result=False)
def invoice_sync_flow(run_date: date | None = None) -> dict[str, int]:
    """Fetch, check, export and answer: one pass over every configured source."""
    logger = get_run_logger()
    settings = Settings()
    now = datetime.now(timezone.utc) if run_date is None else datetime.combine(run_date, time(12), DUTCH_TIME)
    engine = runtime.migrated_engine(settings)
    validator = runtime.invoice_validator(settings)
    if not validator.has_rules:
        logger.warning("No e-invoicing rules configured (VANGNET_EINVOICE_RULES_DIR): only structural checks run.")
    clients = runtime.feed_clients(settings)
    counts = {"received": 0, "new": 0, "duplicate": 0, "skipped": 0, "quarantined": 0,
              "APPROVED": 0, "DISPUTED": 0, "REJECTED": 0, "exported_batches": 0, "answers": 0}
    try:
        for feed, client in clients.items():
            fetched = _fetch_or_report(engine, client, feed, now, logger)
            if fetched is None:
                counts["feed_errors"] = counts.get("feed_errors", 0) + 1
            else:
                _add(counts, fetched)
        folder = runtime.drop_folder(settings)
        if folder is not None:
            _add(counts, drop_task(engine, folder, now))
        rows = _check_all(engine, validator, runtime.provider_contracts(settings), settings.batch_size, counts)
        counts["exported_batches"] = export_task(engine, runtime.finance_export_dir(settings), now)
        answered = answer_task(engine, clients, settings.invoice_drop_dir)
        counts["answers"] = answered.sent
    finally:
        for client in clients.values():
            client.close()
    if rows:
        create_table_artifact(key=ARTIFACT_KEY, table=rows,
                              description=f"Invoices checked in this run ({len(rows)}); no personal data.")
    if counts["quarantined"]:
        emit_event(event=QUARANTINED_EVENT, resource={"prefect.resource.id": "vangnet.source.invoices"},
                   payload={"quarantined": counts["quarantined"]})
    if counts["DISPUTED"]:
        logger.warning("%d invoices wait for a clerk: run the invoice-review flow or `vangnet invoices review`.",
                       counts["DISPUTED"])
    if answered.failed or answered.unroutable:
        logger.warning("%d status messages to providers failed (retried next run), %d have no route back.",
                       answered.failed, answered.unroutable)
    logger.info("Invoices: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))
    return counts


def _fetch_or_report(engine, client, feed: str, now: datetime, logger) -> invoice_service.IntakeResult | None:
    """Fetch one feed; a feed that fails is logged and signalled (event), the other sources carry on."""
    from connectors.providers import ProviderFeedError

    try:
        with limits.partner_slot(limits.invoice_feed(feed)):
            return fetch_task(engine, client, feed, now)
    except ProviderFeedError as exc:
        logger.error("Invoice feed %s failed; what was stored stays, the rest waits for the next run: %s", feed, exc)
        emit_event(event=FEED_FAILED_EVENT, resource={"prefect.resource.id": f"vangnet.invoice-feed.{feed}"},
                   payload={"error": type(exc).__name__})
        return None


def _add(counts: dict[str, int], fetched: invoice_service.IntakeResult) -> None:
    counts["received"] += fetched.received
    counts["new"] += fetched.new
    counts["duplicate"] += fetched.duplicate
    counts["skipped"] += len(fetched.skipped)


def _check_all(engine, validator, contracts, limit: int, counts: dict[str, int]) -> list[dict]:
    rows: list[dict] = []
    batch = 0
    with store.session_scope(engine) as session:
        backlog = store.inbox.count_new(session, invoice_service.SOURCE)
    progress = BatchProgress("invoice-progress", backlog, limit, "invoices checked")
    while True:
        batch += 1
        result = check_task(batch, engine, validator, contracts, limit)
        progress.advance(result.processed)
        for verdict, n in result.verdicts.items():
            counts[verdict] += n
        counts["quarantined"] += result.quarantined
        rows += result.rows
        if result.processed < limit:
            return rows


@flow(name="invoice-review", flow_run_name=_review_name, persist_result=False)
def invoice_review_flow(limit: int = 20, timeout_seconds: int | None = None) -> dict[str, int]:
    """Ask a clerk, invoice by invoice, to decide the DISPUTED ones (pauses the run with a form)."""
    logger = get_run_logger()
    settings = Settings()
    engine = runtime.migrated_engine(settings)
    timeout = settings.invoice_review_timeout if timeout_seconds is None else timeout_seconds
    run_id = get_run_context().flow_run.id
    counts = {"approve": 0, "reject": 0, "partial": 0, "refused": 0, "waiting": 0}
    disputes = invoice_service.open_disputes(engine, limit)
    for n, dispute in enumerate(disputes):
        form = InvoiceReview.with_initial_data(description=review_markdown(dispute), decision="approve")
        try:
            answer = pause_flow_run(wait_for_input=form, timeout=timeout, poll_interval=2,
                                    key=f"invoice-{dispute['id']}")
        except FlowPauseTimeout:
            counts["waiting"] = len(disputes) - n
            logger.warning("Nobody decided within %d s; %d invoices stay DISPUTED.", timeout, counts["waiting"])
            break
        try:
            invoice_service.decide(engine, dispute["id"], answer.decision, by=f"prefect-ui:{run_id}"[:64],
                                   reason=answer.reason, amount=answer.amount_excl_vat)
            counts[answer.decision] += 1
        except invoice_service.InvoiceDecisionError as exc:
            counts["refused"] += 1
            logger.warning("Decision on invoice %s not applied: %s", dispute["invoice"], exc)
    logger.info("Review: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))
    return counts


def review_markdown(dispute: dict) -> str:
    """The text above the form: the invoice and why it needs a person (no personal data)."""
    lines = [f"### Invoice {dispute['invoice']} from {dispute['provider']}",
             f"Order **{dispute['order'] or '(none)'}**, amount excl. VAT **{dispute['amount_excl_vat']}**, "
             f"incl. VAT {dispute['amount']}.", "", "| code | severity | line | finding |", "|---|---|---|---|"]
    for f in dispute["findings"]:
        message = str(f["message"]).replace("|", "/")
        lines.append(f"| {f['code']} | {f['severity']} | {f['line'] or ''} | {message} |")
    return "\n".join(lines)
