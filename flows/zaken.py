"""Zaak flow: perform the queued zaak effects (create, status, rol, close) at the zaaksysteem."""

from __future__ import annotations

from datetime import date, datetime

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows import limits, runtime
from flows.alerts import partner_unavailable
from flows.settings import Settings
from services import zaken as zaken_service
from services.intake import DUTCH_TIME


@task(name="perform-zaak-effects", cache_policy=NO_CACHE)
def perform_zaak_effects(engine, client, today: date, limit: int) -> zaken_service.ZakenResult:
    zaken_service.queue_closures(engine)
    result = zaken_service.process_zaken_outbox(engine, client, today=today, limit=limit)
    if result.unavailable:
        partner_unavailable(limits.ZGW, result.unavailable, result.failed)
    return result


def _run_name() -> str:
    return f"zaken-{datetime.now(DUTCH_TIME):%Y%m%d-%H%M%S}"


@flow(name="zaak-registration", flow_run_name=_run_name, persist_result=False)
def zaken_flow(run_date: date | None = None) -> dict[str, int]:
    """Register zaken for taken-over cases and close those of closed cases; skipped without a zaaksysteem."""
    settings = Settings()
    logger = get_run_logger()
    client = runtime.zaken_client(settings)
    if client is None:
        logger.info("No zaaksysteem configured (VANGNET_ZGW_BASE_URL): zaak effects stay queued.")
        return {}
    today = run_date or datetime.now(DUTCH_TIME).date()
    engine = runtime.migrated_engine(settings)
    with limits.partner_slot(limits.ZGW):
        limits.partner_pace(limits.ZGW)  # the run's one batch of effects
        result = perform_zaak_effects(engine, client, today, settings.batch_size)
    if result.failed:
        logger.warning("%d zaak effects failed; see the outbox (last_error) and the zaaksysteem.", result.failed)
    return {**result.done, "failed": result.failed}
