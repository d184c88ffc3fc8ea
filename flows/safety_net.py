"""Nightly Suwinet safety net: changes UWV knows of (first sick day, end of ZW) become signals."""

from __future__ import annotations

from datetime import date, datetime, time, timezone

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows import limits, runtime
from flows.settings import Settings
from services import safety_net
from services.intake import DUTCH_TIME


@task(name="suwinet-check-batch", task_run_name="suwinet-check-batch-{batch_number}", cache_policy=NO_CACHE)
def check_batch(batch_number: int, engine, lookup, gemeentecode: str, after_id: int, limit: int, today: date,
                now: datetime):
    return safety_net.check_batch(engine, lookup, gemeentecode=gemeentecode, after_id=after_id, limit=limit,
                                  today=today, now=now)


def _run_name() -> str:
    return f"suwinet-safety-net-{datetime.now(DUTCH_TIME):%Y%m%d-%H%M%S}"


@flow(name="suwinet-safety-net", flow_run_name=_run_name, persist_result=False)
def safety_net_flow(run_date: date | None = None) -> dict[str, int]:
    """Ask UWVDossierWerknemersverzekeringenGSD about every open case, in batches (switchable)."""
    settings = Settings()
    logger = get_run_logger()
    if not settings.suwinet_safety_net or not settings.suwinet_wv_endpoint or not settings.gemeentecode:
        logger.info("Suwinet safety net is off (needs VANGNET_SUWINET_SAFETY_NET, _WV_ENDPOINT and VANGNET_GEMEENTECODE).")
        return {}
    today = run_date or datetime.now(DUTCH_TIME).date()
    now = datetime.now(timezone.utc) if run_date is None else datetime.combine(run_date, time(12), DUTCH_TIME)
    engine = runtime.migrated_engine(settings)
    client = runtime.suwinet_client(settings)
    with limits.partner_slot(limits.SUWINET):
        totals = _check_all(engine, client, settings, today, now)
    if totals["failed"]:
        logger.warning("%d Suwinet look-ups failed; those cases are asked again next run.", totals["failed"])
    logger.info("Suwinet safety net: %s", ", ".join(f"{k}={v}" for k, v in totals.items()))
    return totals


def _check_all(engine, client, settings: Settings, today: date, now: datetime) -> dict[str, int]:
    totals = {"asked": 0, "not_found": 0, "failed": 0, "derived_signals": 0, "cases_closed_or_corrected": 0}
    after_id, batch_number = 0, 0
    while True:
        batch_number += 1
        limits.partner_pace(limits.SUWINET)
        result = check_batch(batch_number, engine, client.werknemersverzekeringen, settings.gemeentecode, after_id,
                             settings.batch_size, today, now)
        totals["asked"] += result.asked
        totals["not_found"] += result.not_found
        totals["failed"] += result.failed
        totals["derived_signals"] += result.derived
        totals["cases_closed_or_corrected"] += result.processed.signals_new
        if result.asked < settings.batch_size:
            return totals
        after_id = result.last_case_id
