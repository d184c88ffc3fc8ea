"""Daily deadline monitor: steps due in the next 14 days and overdue ones, as a table artifact and alerts."""

from __future__ import annotations

from datetime import date, datetime

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event

from flows import runtime
from flows.settings import Settings
from services.deadlines import MOST_OVERDUE, DeadlineOverview, deadline_overview
from services.intake import DUTCH_TIME

ARTIFACT_ROWS = MOST_OVERDUE
"""The table artifact shows the most overdue steps up to this many; the markdown artifact counts the rest."""
EVENT_LIMIT = 100
"""An overdue-step event for at most this many (most overdue) steps per run; one more event counts the rest."""


@task(name="collect-deadlines", cache_policy=NO_CACHE)
def collect_deadlines(engine, today: date) -> DeadlineOverview:
    return deadline_overview(engine, today=today, top=ARTIFACT_ROWS)


def _monitor_run_name() -> str:
    return f"deadlines-{datetime.now(DUTCH_TIME):%Y%m%d-%H%M%S}"


@flow(name="wvp-deadline-monitor", flow_run_name=_monitor_run_name, persist_result=False)
def deadline_monitor_flow(run_date: date | None = None) -> dict[str, int]:
    """List the WVP steps needing attention; raise an alert (event) per overdue step.

    A large backlog (a quarter of a million steps at a million cases) must not flood Prefect: the table
    artifact holds the ARTIFACT_ROWS most overdue steps and a markdown artifact the counts; an event is
    emitted for the EVENT_LIMIT most overdue steps and one more event counts the overdue steps beyond them.
    """
    logger = get_run_logger()
    today = run_date or datetime.now(DUTCH_TIME).date()
    engine = runtime.migrated_engine(Settings())
    found = collect_deadlines(engine, today)  # counts, and the most overdue first
    shown, total = found.most_overdue, found.overdue + found.due_soon
    create_table_artifact(
        key="wvp-deadlines",
        table=[{"case_id": d.case_ref, "stap": d.stap, "datum": d.datum.isoformat(), "dagen_te_laat": d.dagen_te_laat,
                "door": "gemeente" if d.gemeente_verantwoordelijk else "UWV", "opdracht": d.order_number or ""}
               for d in shown]
        or [{"case_id": "(niets binnen 14 dagen)"}],
        description=f"WVP-stappen te laat of binnen 14 dagen, peildatum {today.isoformat()}"
        + (f" (de {len(shown)} meest te late van {total})" if len(shown) < total else ""),
    )
    create_markdown_artifact(key="wvp-deadlines-summary", markdown=_summary_markdown(today, found),
                             description=f"Deadline monitor: aantallen, peildatum {today.isoformat()}")
    alerted = [d for d in shown[:EVENT_LIMIT] if d.te_laat]
    for d in alerted:
        emit_event(event="vangnet.wvp.step-overdue", resource={"prefect.resource.id": f"vangnet.case.{d.case_ref}"},
                   payload={"stap": d.stap, "datum": d.datum.isoformat(), "dagen_te_laat": d.dagen_te_laat})
    if found.overdue > len(alerted):
        emit_event(event="vangnet.wvp.steps-overdue-not-alerted", resource={"prefect.resource.id": "vangnet.monitor"},
                   payload={"overdue": found.overdue, "alerted": len(alerted),
                            "not_alerted": found.overdue - len(alerted)})
    if found.overdue:
        logger.warning("%d WVP steps are overdue; see the wvp-deadlines artifact.", found.overdue)
    return {"due_soon": found.due_soon, "overdue": found.overdue}


def _summary_markdown(today: date, found: DeadlineOverview) -> str:
    total, shown = found.overdue + found.due_soon, len(found.most_overdue)
    lines = [f"## Deadline monitor {today.isoformat()}", "", "| | aantal |", "|---|---|",
             f"| te laat | {found.overdue} |", f"| binnen 14 dagen | {found.due_soon} |",
             f"| in de tabel wvp-deadlines | {shown} |"]
    if shown < total:
        lines += ["", f"De tabel toont de {shown} meest te late; {total - shown} meer staan niet in de tabel."]
    if found.overdue > EVENT_LIMIT:
        lines.append(f"Een melding (event) ging uit voor de {EVENT_LIMIT} meest te late stappen; "
                     f"{found.overdue - EVENT_LIMIT} te late stappen kregen geen eigen melding.")
    return "\n".join(lines)
