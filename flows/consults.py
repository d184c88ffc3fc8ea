"""Consult lifecycle flow: plan, cancel, follow up and book bedrijfsarts consults at the arbodienst.

One task per step and batch (never per consult). While its tasks talk to the arbodienst, a run holds a
slot of a Prefect global concurrency limit named after it (`arbodienst:<name>`, limit 1 unless an
operator changed it), so two runs never work one arbodienst at once, and paces its batch tasks with
`arbodienst:<name>:rate` (flows/limits.py). (One slot per run, not per task: each acquisition is a
round trip to the Prefect server.) An escalation (too many no-shows) is a
Prefect event `vangnet.consult.escalated` for alerting.

The arbodienst is configured with `VANGNET_ARBODIENST_*` (see flows/settings.py); without a base URL
the flow logs that and does nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event

from flows import limits, runtime
from flows.alerts import partner_unavailable
from flows.errors import VangnetError
from flows.settings import Settings
from services import consults as consult_service
from services.intake import DUTCH_TIME

ESCALATED_EVENT = "vangnet.consult.escalated"


def arbodienst_client(settings: Settings | None = None):
    """The arbodienst connector when a base URL is configured; None when not."""
    settings = settings or Settings()
    if not settings.arbodienst_base_url:
        return None
    from connectors.arbodienst import ArbodienstClient, ArbodienstSettings

    try:
        arbo = ArbodienstSettings(name=settings.arbodienst_name, base_url=settings.arbodienst_base_url,
                                  token=settings.arbodienst_token, regio=settings.arbodienst_regio,
                                  **runtime.timeout(settings))
    except ValueError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in getattr(exc, "errors", lambda: [])())
        hint = "Check the VANGNET_ARBODIENST_* variables, or unset VANGNET_ARBODIENST_BASE_URL."
        raise VangnetError(f"The arbodienst settings are incomplete or invalid: {fields or exc}", hint=hint) from None
    return ArbodienstClient(arbo)


def limit_name(client) -> str:
    """The Prefect global concurrency limit of this arbodienst."""
    return limits.arbodienst(client.settings.name)


@task(name="plan-consults", cache_policy=NO_CACHE)
def plan_task(engine, today: date, limit: int) -> consult_service.PlanResult:
    return consult_service.plan_consults(engine, today=today, limit=limit)


@task(name="cancel-consults-of-closed-cases", cache_policy=NO_CACHE)
def cancel_task(engine, client, limit: int) -> consult_service.CancelResult:
    return _noted(client, consult_service.cancel_for_closed_cases(engine, client, limit=limit))


@task(name="follow-up-consults", task_run_name="follow-up-consults-{batch_number}", cache_policy=NO_CACHE)
def follow_up_task(batch_number: int, engine, client, today: date, max_no_shows: int, limit: int,
                   after_id: int) -> consult_service.FollowUpResult:
    return _noted(client, consult_service.follow_up(engine, client, today=today, max_no_shows=max_no_shows,
                                                    limit=limit, after_id=after_id))


@task(name="book-consults", task_run_name="book-consults-{batch_number}", cache_policy=NO_CACHE)
def book_task(batch_number: int, engine, client, today: date, now: datetime, limit: int,
              after_id: int) -> consult_service.BookingResult:
    return _noted(client, consult_service.book_pending(engine, client, today=today, now=now, limit=limit,
                                                       after_id=after_id))


def _noted(client, result):
    """`result`, after telling operators when the arbodienst could not be reached."""
    if result.unavailable:
        partner_unavailable(limit_name(client), "ArbodienstUnavailable")
    return result


def _run_name() -> str:
    return f"consults-{datetime.now(DUTCH_TIME):%Y%m%d-%H%M%S}"


@flow(name="consult-lifecycle", flow_run_name=_run_name, persist_result=False)
def consult_lifecycle_flow(run_date: date | None = None) -> dict[str, int]:
    """Plan probleemanalyse consults, cancel those of closed cases, follow up booked ones, book pending ones."""
    logger = get_run_logger()
    settings = Settings()
    client = arbodienst_client(settings)
    if client is None:
        logger.info("No arbodienst configured (VANGNET_ARBODIENST_BASE_URL): no consults are booked.")
        return {}
    today = run_date or datetime.now(DUTCH_TIME).date()
    now = datetime.now(timezone.utc) if run_date is None else datetime.combine(run_date, time(12), DUTCH_TIME)
    engine = runtime.migrated_engine(settings)
    limit = settings.batch_size
    try:
        counts = _run(engine, client, settings, today, now, limit)
    finally:
        client.close()
    report(counts)
    return counts


def report(counts: dict[str, int]) -> None:
    """Log what a lifecycle run did; warn about what needs a person."""
    logger = get_run_logger()
    if counts["escalated"]:
        logger.warning("%d cases were handed to a person after repeated no-shows.", counts["escalated"])
    if counts["late"]:
        logger.warning("%d consults were booked after their deadline: no earlier slot was free.", counts["late"])
    if counts["unavailable"]:
        logger.warning("The arbodienst was unavailable; the rest waits for the next run.")
    logger.info("Consults: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))


def _run(engine, client, env: Settings, today: date, now: datetime, limit: int) -> dict[str, int]:
    planned = plan_task(engine, today, limit)
    with limits.partner_slot(limit_name(client)):
        return with_arbodienst(engine, client, env, today, now, limit, planned)


def with_arbodienst(engine, client, env: Settings, today: date, now: datetime, limit: int,
                    planned: consult_service.PlanResult, *, first_batches_paced: bool = False) -> dict[str, int]:
    """Cancel, follow up and book, in batches (tasks), pacing the arbodienst once per batch; the caller
    holds its slot. `first_batches_paced`: the caller's unit covers the cancellations and the first
    follow-up and booking batches as one group of sequential calls (as a page's unit covers its booking)."""

    def pace(batch: int) -> None:
        if not (first_batches_paced and batch == 1):
            limits.partner_pace(limit_name(client))

    pace(1)
    cancelled = cancel_task(engine, client, limit)
    counts = {"planned": len(planned.created), "cancelled": len(cancelled.cancelled), "advice_stored": 0,
              "steps_done": 0, "no_shows": 0, "rebooked": 0, "escalated": 0, "booked": 0, "late": 0, "no_slot": 0,
              "refused": len(cancelled.refused), "unavailable": int(cancelled.unavailable)}
    batch, after_id = 0, 0
    while True:
        batch += 1
        pace(batch)
        followed = follow_up_task(batch, engine, client, today, env.arbodienst_max_no_shows, limit, after_id)
        for name in ("advice_stored", "steps_done", "rebooked", "escalated", "refused"):
            counts[name] += len(getattr(followed, name))
        counts["no_shows"] += followed.no_shows
        for case_ref in followed.escalated:
            emit_event(event=ESCALATED_EVENT, resource={"prefect.resource.id": f"vangnet.case.{case_ref}"},
                       payload={"reden": "herhaald niet verschenen bij de bedrijfsarts",
                                "max_no_shows": env.arbodienst_max_no_shows})
        if followed.unavailable or followed.checked < limit:
            counts["unavailable"] += int(followed.unavailable)
            break
        after_id = followed.last_consult_id
    batch, after_id = 0, 0
    while not counts["unavailable"]:  # an unavailable arbodienst gets no booking requests this run
        batch += 1
        pace(batch)
        booked = book_task(batch, engine, client, today, now, limit, after_id)
        counts["booked"] += len(booked.booked)
        counts["late"] += len(booked.late)
        counts["no_slot"] += len(booked.no_slot)
        counts["refused"] += len(booked.refused)
        if booked.unavailable or booked.claimed < limit:
            counts["unavailable"] += int(booked.unavailable)
            break
        after_id = booked.last_consult_id
    return counts
