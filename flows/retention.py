"""Retention flow: anonymise cases closed longer than the retention term (services.retention), weekly.

One task per batch of `VANGNET_BATCH_SIZE` candidate cases; the terms come from
`VANGNET_RETENTION_YEARS` and `VANGNET_RETENTION_WIA_YEARS`. The run's only parameter is the date; the
markdown artifact `retention-summary` holds counts only (no case references, no BSN).
"""

from __future__ import annotations

from datetime import date, datetime

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows import runtime
from flows.settings import Settings
from rules.booking import DUTCH_TIME
from services.retention import RetentionResult, anonymise_due_cases


@task(name="anonymise-due-cases", task_run_name="anonymise-due-cases-{batch_number}", cache_policy=NO_CACHE)
def anonymise_task(batch_number: int, engine, today: date, years: int, wia_years: int, limit: int,
                   after_id: int) -> RetentionResult:
    return anonymise_due_cases(engine, today=today, years=years, wia_years=wia_years, limit=limit, after_id=after_id)


def _run_name() -> str:
    return f"retention-{datetime.now(DUTCH_TIME):%Y%m%d-%H%M%S}"


@flow(name="retention", flow_run_name=_run_name, persist_result=False)
def retention_flow(run_date: date | None = None) -> dict[str, int]:
    """Anonymise every due case, batch by batch; publish the counts as `retention-summary`."""
    logger = get_run_logger()
    settings = Settings()
    today = run_date or datetime.now(DUTCH_TIME).date()
    engine = runtime.migrated_engine(settings)
    total = RetentionResult()
    batch_number, after_id = 0, 0
    while True:
        batch_number += 1
        batch = anonymise_task(batch_number, engine, today, settings.retention_years, settings.retention_wia_years,
                               settings.batch_size, after_id)
        total.add(batch)
        if batch.claimed < settings.batch_size:
            break
        after_id = batch.last_case_id
    counts = {"anonymised": total.anonymised, "wia_term": total.wia_term, "kept": total.kept, **total.removed}
    create_markdown_artifact(key="retention-summary", markdown=_summary(today, settings, counts),
                             description=f"Bewaartermijn, peildatum {today.isoformat()}")
    logger.info("Retention: %d cases anonymised, %d closed cases not yet due.", total.anonymised, total.kept)
    return counts


def _summary(today: date, settings: Settings, counts: dict[str, int]) -> str:
    lines = [f"# Bewaartermijn {today.isoformat()}", "",
             f"Termijn {settings.retention_years} jaar na sluiten, {settings.retention_wia_years} jaar als een "
             "WIA-aanvraag volgde.", "", "| wat | aantal |", "|---|---|"]
    labels = {"anonymised": "zaken geanonimiseerd", "wia_term": "  waarvan met de WIA-termijn",
              "kept": "oudere gesloten zaken nog binnen de WIA-termijn"}
    lines += [f"| {labels.get(name, name)} | {n} |" for name, n in counts.items()]
    return "\n".join(lines) + "\n"
