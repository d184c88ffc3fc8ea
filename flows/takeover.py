"""Takeover flow: decide, in batches, whether the gemeente takes over each new case (domain.md §3)."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import date, datetime

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows import limits, runtime
from flows.alerts import partner_unavailable
from flows.errors import VangnetError
from flows.settings import Settings
from services.intake import DUTCH_TIME


@task(name="decide-takeover-batch", task_run_name="decide-takeover-batch-{batch_number}", cache_policy=NO_CACHE)
def decide_batch(batch_number: int, engine, gemeentecode: str, today: date, limit: int, lks_lookup, after_id: int):
    from services.takeover import decide_pending

    result = decide_pending(engine, eigen_gemeentecode=gemeentecode, today=today, limit=limit, lks_lookup=lks_lookup,
                            after_id=after_id)
    if result.lookup_failed:
        partner_unavailable(limits.SUWINET, result.lookup_error or "onbekend", len(result.lookup_failed))
    return result


def _run_name() -> str:
    return f"takeover-{datetime.now(DUTCH_TIME):%Y%m%d-%H%M%S}"


@flow(name="takeover-decision", flow_run_name=_run_name, persist_result=False)
def takeover_flow(run_date: date | None = None) -> dict[str, int]:
    """Decide every case still without a decision: OVERNAME, GEEN_LKS, ANDERE_GEMEENTE or HANDMATIG."""
    settings = Settings()
    require_gemeentecode(settings)
    today = run_date or datetime.now(DUTCH_TIME).date()
    engine = runtime.migrated_engine(settings)
    lookup = runtime.suwinet_lks_lookup(settings)
    with limits.partner_slot(limits.SUWINET) if lookup else nullcontext():
        totals = decide_all(engine, settings, today, lookup)
    log_totals(totals)
    return totals


def require_gemeentecode(settings: Settings) -> None:
    """The takeover decision needs to know which gemeente we are."""
    if not settings.gemeentecode:
        raise VangnetError("No gemeentecode is configured: the takeover decision needs to know which gemeente we are.",
                           hint="Set VANGNET_GEMEENTECODE to the CBS code of your gemeente, e.g. 0518.")


def log_totals(totals: dict[str, int]) -> None:
    get_run_logger().info("Takeover decisions: %s", ", ".join(f"{k}={v}" for k, v in sorted(totals.items())) or "none")


def decide_all(engine, settings: Settings, today: date, lookup, *, first_paced: bool = False) -> dict[str, int]:
    """Decide every undecided case, batch by batch (tasks), pacing Suwinet once per batch; the caller holds
    the Suwinet slot. `first_paced`: the caller has already paced the first batch."""
    totals: dict[str, int] = {}
    batch_number, after_id = 0, 0
    while True:  # walk the undecided cases once, by id: a case whose lookup failed waits for the next run
        batch_number += 1
        if lookup and not (first_paced and batch_number == 1):
            limits.partner_pace(limits.SUWINET)
        result = decide_batch(batch_number, engine, settings.gemeentecode, today, settings.batch_size, lookup, after_id)
        for code, count in result.by_code.items():
            totals[code] = totals.get(code, 0) + count
        if result.claimed < settings.batch_size or result.last_case_id is None:
            return totals
        after_id = result.last_case_id
