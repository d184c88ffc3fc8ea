"""RIV preparation (week 91): assemble the re-integratieverslag of every case due within the lead time.

One task per batch of cases (`VANGNET_BATCH_SIZE`), never per case. The run publishes the table artifact
`riv-gaps` (case reference, due date, days left, missing part letters; never a BSN) and emits the event
`vangnet.riv.gaps` per case whose RIV is due within two weeks (or overdue) and still has gaps.
The lead time is `VANGNET_RIV_LEAD_WEEKS`.
"""

from __future__ import annotations

from datetime import date, datetime

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event

from flows import runtime
from flows.settings import Settings
from services.intake import DUTCH_TIME
from services.riv import DueRiv, DueRivBatch, prepare_due_rivs

GAPS_EVENT = "vangnet.riv.gaps"
ALERT_DAYS = 14
"""A RIV due within this many days that still has gaps raises `vangnet.riv.gaps`."""


@task(name="prepare-rivs", task_run_name="prepare-rivs-{batch_number}", cache_policy=NO_CACHE)
def prepare_task(batch_number: int, engine, today: date, lead_weeks: int, limit: int, after_id: int) -> DueRivBatch:
    return prepare_due_rivs(engine, today=today, lead_weeks=lead_weeks, limit=limit, after_id=after_id)


def _run_name() -> str:
    return f"riv-{datetime.now(DUTCH_TIME):%Y%m%d-%H%M%S}"


@flow(name="riv-preparation", flow_run_name=_run_name, persist_result=False)
def riv_preparation_flow(run_date: date | None = None) -> dict[str, int]:
    """Assemble the RIVs due within the lead time; list their gaps and alert on those due soon."""
    logger = get_run_logger()
    settings = Settings()
    today = run_date or datetime.now(DUTCH_TIME).date()
    engine = runtime.migrated_engine(settings)
    items: list[DueRiv] = []
    batch_number, after_id = 0, 0
    while True:
        batch_number += 1
        batch = prepare_task(batch_number, engine, today, settings.riv_lead_weeks, settings.batch_size, after_id)
        items.extend(batch.items)
        if len(batch.items) < settings.batch_size:
            break
        after_id = batch.last_id
    items.sort(key=lambda i: (i.due, i.case_ref))
    create_table_artifact(
        key="riv-gaps",
        table=[{"case_id": i.case_ref, "riv_datum": i.due.isoformat(), "dagen_over": i.days_left,
                "ontbrekend": ", ".join(i.gaps) or "-", "versie": i.version}
               for i in items] or [{"case_id": f"(geen RIV binnen {settings.riv_lead_weeks} weken)"}],
        description=f"Re-integratieverslagen uiterlijk binnen {settings.riv_lead_weeks} weken of te laat, met de "
                    f"ontbrekende onderdelen (art. 8 a-k); peildatum {today.isoformat()}",
    )
    urgent = [i for i in items if i.gaps and i.days_left <= ALERT_DAYS]
    for i in urgent:
        emit_event(event=GAPS_EVENT, resource={"prefect.resource.id": f"vangnet.case.{i.case_ref}"},
                   payload={"riv_datum": i.due.isoformat(), "dagen_over": i.days_left, "ontbrekend": list(i.gaps)})
    if urgent:
        logger.warning("%d RIVs due within %d days still miss parts; see the riv-gaps artifact.", len(urgent),
                       ALERT_DAYS)
    counts = {"due": len(items), "complete": sum(not i.gaps for i in items),
              "with_gaps": sum(bool(i.gaps) for i in items), "urgent": len(urgent),
              "versions_recorded": sum(i.recorded for i in items)}
    logger.info("RIVs: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))
    return counts
