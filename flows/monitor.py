"""Daily deadline monitor: steps due in the next 14 days and overdue ones, as a table artifact and alerts."""

from __future__ import annotations

from datetime import date, datetime

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event

from flows import runtime
from flows.settings import Settings
from rules.deadlines import Deadline
from services.deadlines import deadlines_on
from services.intake import DUTCH_TIME


@task(name="collect-deadlines", cache_policy=NO_CACHE)
def collect_deadlines(engine, today: date) -> list[Deadline]:
    return deadlines_on(engine, today=today)


def _monitor_run_name() -> str:
    return f"deadlines-{datetime.now(DUTCH_TIME):%Y%m%d-%H%M%S}"


@flow(name="wvp-deadline-monitor", flow_run_name=_monitor_run_name, persist_result=False)
def deadline_monitor_flow(run_date: date | None = None) -> dict[str, int]:
    """List the WVP steps needing attention; raise an alert (event) per overdue step."""
    logger = get_run_logger()
    today = run_date or datetime.now(DUTCH_TIME).date()
    engine = runtime.migrated_engine(Settings())
    items = collect_deadlines(engine, today)
    overdue = [d for d in items if d.te_laat]
    create_table_artifact(
        key="wvp-deadlines",
        table=[{"case_id": d.case_ref, "stap": d.stap, "datum": d.datum.isoformat(), "dagen_te_laat": d.dagen_te_laat,
                "door": "gemeente" if d.gemeente_verantwoordelijk else "UWV", "opdracht": d.order_number or ""}
               for d in items]
        or [{"case_id": "(niets binnen 14 dagen)"}],
        description=f"WVP-stappen te laat of binnen 14 dagen, peildatum {today.isoformat()}",
    )
    for d in overdue:
        emit_event(event="vangnet.wvp.step-overdue", resource={"prefect.resource.id": f"vangnet.case.{d.case_ref}"},
                   payload={"stap": d.stap, "datum": d.datum.isoformat(), "dagen_te_laat": d.dagen_te_laat})
    if overdue:
        logger.warning("%d WVP steps are overdue; see the wvp-deadlines artifact.", len(overdue))
    return {"due_soon": len(items) - len(overdue), "overdue": len(overdue)}
