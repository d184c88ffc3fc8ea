"""Signal intake flow: pull IB pages into the inbox, process the inbox in batches, publish a summary.

Prefect sees one task per page and one per batch, never one per signal: per-signal state lives in our
store. Run names, parameters and artifacts carry counts and case references only.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event

from flows import limits, runtime
from flows.alerts import partner_unavailable
from flows.progress import BatchProgress
from flows.settings import Settings
from services import intake as intake_service
from services.intake import DUTCH_TIME, SOURCE_IB, BatchResult, PageResult
from services.reporting import case_summaries_page, count_cases
import store



@task(name="pull-ib-page", task_run_name="pull-ib-page-{page_number}", cache_policy=NO_CACHE)
def pull_ib_page(page_number: int, client, engine, page_size: int, now: datetime) -> PageResult:
    """Fetch one page after the cursor, store it raw with the cursor, acknowledge after the commit."""
    from connectors.inlichtingenbureau import IbUnavailable

    try:
        return intake_service.pull_page(client, engine, source=SOURCE_IB, page_size=page_size, now=now)
    except IbUnavailable as exc:
        partner_unavailable(limits.IB, type(exc).__name__)
        raise


@task(name="process-inbox-batch", task_run_name="process-inbox-batch-{batch_number}", cache_policy=NO_CACHE)
def process_inbox_batch(batch_number: int, engine, source: str, limit: int, today: date) -> BatchResult:
    """Parse, validate, deduplicate and apply one batch of inbox messages."""
    return intake_service.process_inbox_batch(engine, source=source, limit=limit, today=today)


QUARANTINED_EVENT = "vangnet.intake.quarantined"
"""Raised once per run that quarantined messages (payload: how many); alerts trigger on it."""


def _intake_run_name() -> str:
    return f"intake-{datetime.now(DUTCH_TIME):%Y%m%d-%H%M%S}"


@flow(name="signal-intake", flow_run_name=_intake_run_name, persist_result=False)
def intake_flow(run_date: date | None = None, ib_endpoint: str | None = None) -> dict[str, int]:
    """Pull every new IB signal and process the inbox. `run_date` sets the clock (scenarios, tests)."""
    settings = Settings()
    logger = get_run_logger()
    today = run_date or datetime.now(DUTCH_TIME).date()  # the one clock of this run
    now = datetime.now(timezone.utc) if run_date is None else datetime.combine(run_date, time(12), DUTCH_TIME)
    engine = runtime.migrated_engine(settings)
    client = runtime.ib_client(settings, endpoint=ib_endpoint)

    pages, gaps, received, new = 0, [], 0, 0
    with limits.partner_slot(limits.IB):
        while True:
            pages += 1
            limits.partner_pace(limits.IB)
            page = pull_ib_page(pages, client, engine, settings.ib_page_size, now)
            received, new, gaps = received + page.received, new + page.new, gaps + page.gaps
            if not page.more or page.received == 0:
                break
    for first, last in gaps:
        logger.warning("Sequence gap at IB: volgnummers %s-%s were never delivered; ask IB to resend them.", first, last)
        emit_event(event="vangnet.intake.sequence-gap", resource={"prefect.resource.id": f"vangnet.source.{SOURCE_IB}"},
                   payload={"first": first, "last": last})  # automations (alerts) trigger on this event

    totals = BatchResult()
    batch_number = 0
    with store.session_scope(engine) as session:
        backlog = store.inbox.count_new(session, SOURCE_IB)
    progress = BatchProgress("intake-progress", backlog, settings.batch_size, "inbox messages processed")
    while True:
        batch_number += 1
        batch = process_inbox_batch(batch_number, engine, SOURCE_IB, settings.batch_size, today)
        totals.add(batch)
        progress.advance(batch.claimed)
        if batch.claimed < settings.batch_size:
            break

    counts = {
        "pages": pages, "received": received, "new_messages": new, "signals_new": totals.signals_new,
        "duplicates": totals.duplicates, "quarantined": totals.quarantined, "parked": totals.parked,
        "cases_created": totals.cases_created, "sequence_gaps": len(gaps),
    }
    logger.info("Intake done: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))
    if totals.quarantined:
        logger.warning("%d messages were quarantined with a reason; a person must look at them.", totals.quarantined)
        emit_event(event=QUARANTINED_EVENT, resource={"prefect.resource.id": f"vangnet.source.{SOURCE_IB}"},
                   payload={"quarantined": totals.quarantined})
    publish_intake_artifacts(engine, counts)
    return counts


CASES_ARTIFACT_ROWS = 1000
"""The newest cases shown in `cases-wvp`: a regional centre holds far more than a table artifact should."""


def publish_intake_artifacts(engine, counts: dict[str, int]) -> None:
    """Counts of this run and the newest cases with their WVP dates: case references only, no personal data."""
    lines = ["| measure | count |", "|---|---|", *(f"| {k} | {v} |" for k, v in counts.items())]
    create_markdown_artifact(key="intake-summary", markdown="## Signal intake\n\n" + "\n".join(lines),
                             description="Counts of the last intake run")
    with store.session_scope(engine) as session:
        rows = [_artifact_row(summary) for summary in case_summaries_page(session, limit=CASES_ARTIFACT_ROWS)]
        total = count_cases(session)
    shown = f"the newest {len(rows)} of {total} cases" if total > len(rows) else "cases"
    create_table_artifact(key="cases-wvp", table=rows or [{"case_id": "(no cases yet)"}],
                          description=f"WVP due dates of {shown} (* = onverwijld); `vangnet cases list` pages")


def _artifact_row(summary: dict) -> dict[str, str]:
    row = {"case_id": summary["case_id"], "status": summary["status"]}
    for stap, termijn in summary["termijnen"].items():
        row[stap] = termijn["datum"] + (" *" if termijn["onverwijld"] else "")
    return row
