"""The whole daily chain as one parent flow: intake → Suwinet safety net → takeover → zaken → orders →
bedrijfsarts consults → provider invoices → deadlines.

Each step is its own (sub)flow run, so operators see and re-run them separately in the Prefect UI.

Stage by stage, a signal picked up on the first IB page waits for the whole backlog to pass every stage
before its consult is booked. `micro_batch=K` trades a little throughput for latency instead: every IB
page of K signals goes through intake → takeover → zaak → order → consult before the next page is
pulled, as tasks of this run (a subflow per stage per page would cost ~1 s each: flow-run creation
and the heartbeat thread's shutdown). The run holds each partner's concurrency slot once for the loop
and paces each partner once per page. Leftovers of earlier runs (undecided cases, queued zaak effects,
missing orders, follow-up and cancellation of booked consults) are "page 0": the same tasks as the
takeover, zaken, orders and consult flows, before the first IB page, under the same slots. The safety
net, invoices and deadlines run as the usual subflows after the loop.
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import date, datetime, time, timezone

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event
from sqlalchemy import select

import store
from flows import consults as consult_flows
from flows import limits, runtime
from flows import takeover as takeover_flows
from flows.consults import arbodienst_client, book_task, consult_lifecycle_flow, limit_name, plan_task
from flows.intake import QUARANTINED_EVENT, intake_flow, process_inbox_batch, publish_intake_artifacts, pull_ib_page
from flows.invoices import invoice_sync_flow
from flows.monitor import deadline_monitor_flow
from flows.orders import ACTOR as ORDERS_ACTOR
from flows.orders import end_orders, order_for_new_cases, orders_flow
from flows.safety_net import safety_net_flow
from flows.settings import Settings
from flows.takeover import decide_batch, takeover_flow
from flows.zaken import perform_zaak_effects, zaken_flow
from schemas.case import Besluit
from services import orders as order_service
from services.intake import DUTCH_TIME, SOURCE_IB, BatchResult
from store.models import Case


def _run_name() -> str:
    return f"pipeline-{datetime.now(DUTCH_TIME):%Y%m%d-%H%M%S}"


def _casework_name() -> str:
    return f"casework-{datetime.now(DUTCH_TIME):%Y%m%d-%H%M%S}"


@flow(name="casework", flow_run_name=_casework_name, persist_result=False)
def casework_flow(run_date: date | None = None) -> dict[str, dict]:
    """What follows the intake, as often as the intake runs: takeover decisions → zaken → orders."""
    today = run_date or datetime.now(DUTCH_TIME).date()
    return {
        "takeover": takeover_flow(run_date=today),
        "zaken": zaken_flow(run_date=today),
        "orders": orders_flow(run_date=today),
    }


@flow(name="vangnet-pipeline", flow_run_name=_run_name, persist_result=False)
def pipeline_flow(run_date: date | None = None, ib_endpoint: str | None = None,
                  micro_batch: int | None = None) -> dict[str, dict]:
    """Run every step once with one clock (`run_date`, default today in the Netherlands).

    Without `run_date` the intake stamps what it receives with the real time; with it, with noon of that
    day (scenarios, tests). `micro_batch`: take IB pages of that many signals through the chain one by one
    (see the module docstring); unset: stage by stage over the whole backlog.
    """
    today = run_date or datetime.now(DUTCH_TIME).date()
    if micro_batch:
        return _micro_batched(run_date, today, ib_endpoint, micro_batch)
    return {
        "intake": intake_flow(run_date=run_date, ib_endpoint=ib_endpoint),
        "safety_net": safety_net_flow(run_date=today),
        "takeover": takeover_flow(run_date=today),
        "zaken": zaken_flow(run_date=today),
        "orders": orders_flow(run_date=today),
        "consults": consult_lifecycle_flow(run_date=today),
        "invoices": invoice_sync_flow(run_date=today),
        "deadlines": deadline_monitor_flow(run_date=today),
    }


@task(name="order-arbodienst-for-cases", task_run_name="order-arbodienst-for-cases-{batch_number}",
      cache_policy=NO_CACHE)
def order_for_cases(batch_number: int, engine, contract, today: date, case_ids: list[int]) -> int:
    """The default arbodienst order for those of `case_ids` that are taken over and open (idempotent)."""
    if not case_ids:
        return 0
    with store.session_scope(engine) as session:
        refs = [c.ref for c in session.scalars(select(Case).where(
            Case.id.in_(case_ids), Case.closed_on.is_(None), Case.besluit == Besluit.OVERNAME).order_by(Case.id))]
    return sum(order_service.create_default_arbo_order(engine, ref, contract, today, ORDERS_ACTOR).created
               for ref in refs)


def _add(totals: dict[str, int], counts: dict[str, int] | None) -> None:
    for key, value in (counts or {}).items():
        if isinstance(value, int):
            totals[key] = totals.get(key, 0) + value


def _micro_batched(run_date: date | None, today: date, ib_endpoint: str | None, size: int) -> dict[str, dict]:
    logger = get_run_logger()
    settings = Settings()
    takeover_flows.require_gemeentecode(settings)
    engine = runtime.migrated_engine(settings)
    ib = runtime.ib_client(settings, endpoint=ib_endpoint)
    lookup = runtime.suwinet_lks_lookup(settings)
    zgw = runtime.zaken_client(settings)
    contract = runtime.arbodienst_contract(settings)
    arbo = arbodienst_client(settings)
    pages, received, new, gaps, totals = 0, 0, 0, [], BatchResult()
    partners = [limits.IB] + ([limits.SUWINET] if lookup else []) + (
        [limits.ZGW] if zgw else []) + ([limit_name(arbo)] if arbo else [])
    with ExitStack() as held:
        if arbo:
            held.callback(arbo.close)
        held.enter_context(limits.partner_slots(*partners))  # one slot each for the whole loop
        pacer = held.enter_context(limits.Pacer(*partners))  # one unit each per page, taken ahead
        pacer.wait()  # page 0, one group of calls per partner: what earlier runs left (its IB unit goes unused)
        takeover, zaken, orders, consults = _leftovers(engine, settings, run_date, today, lookup, zgw, contract, arbo)
        while True:
            pages += 1
            pacer.wait()
            page = pull_ib_page(pages, ib, engine, size, _clock(run_date))
            received, new, gaps = received + page.received, new + page.new, gaps + page.gaps
            claimed = 0
            while True:  # this page's messages (and any left NEW by an earlier run)
                batch = process_inbox_batch(pages, engine, SOURCE_IB, settings.batch_size, today)
                totals.add(batch)
                claimed += batch.claimed
                if batch.claimed < settings.batch_size:
                    break
            if claimed:
                _casework_of_page(pages, engine, settings, run_date, today, lookup, zgw, contract, arbo,
                                  takeover, zaken, orders, consults)
            if not page.more or page.received == 0:
                break
    for first, last in gaps:
        logger.warning("Sequence gap at IB: volgnummers %s-%s were never delivered; ask IB to resend them.", first, last)
        emit_event(event="vangnet.intake.sequence-gap", resource={"prefect.resource.id": f"vangnet.source.{SOURCE_IB}"},
                   payload={"first": first, "last": last})
    intake = {"pages": pages, "received": received, "new_messages": new, "signals_new": totals.signals_new,
              "duplicates": totals.duplicates, "quarantined": totals.quarantined, "parked": totals.parked,
              "cases_created": totals.cases_created, "sequence_gaps": len(gaps)}
    logger.info("Intake done (micro-batches of %d): %s", size, ", ".join(f"{k}={v}" for k, v in intake.items()))
    if totals.quarantined:
        logger.warning("%d messages were quarantined with a reason; a person must look at them.", totals.quarantined)
        emit_event(event=QUARANTINED_EVENT, resource={"prefect.resource.id": f"vangnet.source.{SOURCE_IB}"},
                   payload={"quarantined": totals.quarantined})
    publish_intake_artifacts(engine, intake)
    return {
        "intake": intake, "safety_net": safety_net_flow(run_date=today), "takeover": takeover, "zaken": zaken,
        "orders": orders, "consults": consults, "invoices": invoice_sync_flow(run_date=today),
        "deadlines": deadline_monitor_flow(run_date=today),
    }


def _leftovers(engine, settings: Settings, run_date: date | None, today: date, lookup, zgw, contract,
               arbo) -> tuple[dict, dict, dict, dict]:
    """Page 0: what earlier runs left (undecided cases, queued zaak effects, missing and ending orders,
    consults to cancel, follow up or book), as tasks of this run under the slots it holds, paced as one
    page: later batches of a step pace themselves. The same steps as the takeover, zaken, orders and
    consult flows, without a subflow run each (~1 s apiece)."""
    logger = get_run_logger()
    takeover = takeover_flows.decide_all(engine, settings, today, lookup, first_paced=True)
    takeover_flows.log_totals(takeover)
    zaken: dict[str, int] = {}
    if zgw is not None:
        done = perform_zaak_effects(engine, zgw, today, settings.batch_size)
        zaken = {**done.done, "failed": done.failed}
        if done.failed:
            logger.warning("%d zaak effects failed; see the outbox (last_error) and the zaaksysteem.", done.failed)
    orders = {"orders_created": order_for_new_cases(engine, contract, today) if contract else 0,
              "orders_ended": end_orders(engine)}
    consults: dict[str, int] = {}
    if arbo is not None:
        planned = plan_task(engine, today, settings.batch_size)
        consults = consult_flows.with_arbodienst(engine, arbo, settings, today, _clock(run_date),
                                                 settings.batch_size, planned, first_batches_paced=True)
        consult_flows.report(consults)
    return takeover, zaken, orders, consults


def _casework_of_page(number: int, engine, settings: Settings, run_date: date | None, today: date, lookup, zgw,
                      contract, arbo,
                      takeover: dict, zaken: dict, orders: dict, consults: dict) -> None:
    """Takeover → zaak → order → consult for the cases of one page (tasks of the pipeline run)."""
    decided_ids: list[int] = []
    if settings.gemeentecode:
        after_id = 0
        while True:  # the undecided cases: this page's (leftovers were decided before the loop)
            if lookup and after_id:  # the page's first batch was paced with the page
                limits.partner_pace(limits.SUWINET)
            result = decide_batch(number, engine, settings.gemeentecode, today, settings.batch_size, lookup, after_id)
            _add(takeover, result.by_code)
            decided_ids += _ids_of(result.case_refs)
            if result.claimed < settings.batch_size or result.last_case_id is None:
                break
            after_id = result.last_case_id
    if zgw is not None:  # paced with the page
        done = perform_zaak_effects(engine, zgw, today, settings.batch_size)
        _add(zaken, {**done.done, "failed": done.failed})
    if contract is not None:
        _add(orders, {"orders_created": order_for_cases(number, engine, contract, today, decided_ids)})
    if arbo is not None:
        planned = plan_task(engine, today, settings.batch_size)
        _add(consults, {"planned": len(planned.created)})
        after_id = 0
        while True:
            if after_id:  # the page's first batch was paced with the page
                limits.partner_pace(limit_name(arbo))
            now = _clock(run_date)
            booked = book_task(number, engine, arbo, today, now, settings.batch_size, after_id)
            _add(consults, {"booked": len(booked.booked), "late": len(booked.late), "no_slot": len(booked.no_slot),
                            "refused": len(booked.refused), "unavailable": int(booked.unavailable)})
            if booked.unavailable or booked.claimed < settings.batch_size:
                break
            after_id = booked.last_consult_id


def _clock(run_date: date | None) -> datetime:
    """The time the intake and booking steps go by: now, or noon of `run_date` (as their flows do)."""
    return datetime.now(timezone.utc) if run_date is None else datetime.combine(run_date, time(12), DUTCH_TIME)


def _ids_of(case_refs: list[str]) -> list[int]:
    from store.cases import CASE_REF_PREFIX

    return [int(ref.removeprefix(CASE_REF_PREFIX)) for ref in case_refs]
