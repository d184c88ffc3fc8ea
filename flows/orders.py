"""Orders flow: the arbodienst order after takeover, and ending the orders of closed cases."""

from __future__ import annotations

from datetime import date, datetime

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import select

import store
from flows import runtime
from flows.settings import Settings
from schemas.case import Besluit
from services import orders as order_service
from services.intake import DUTCH_TIME
from store.models import Case, Order, OrderKind

ACTOR = "vangnet/opdrachten"


@task(name="order-arbodienst-for-new-cases", cache_policy=NO_CACHE)
def order_for_new_cases(engine, contract, today: date) -> int:
    """One default arbodienst order per taken-over open case without one (idempotent: an existing order is
    kept). Only cases still lacking the order are read, so a run costs what is new, not every open case."""
    ordered = select(Order.id).where(Order.case_id == Case.id, Order.provider_id == contract.provider_id,
                                     Order.kind == OrderKind.REGIE)
    with store.session_scope(engine) as session:
        refs = [c.ref for c in session.scalars(
            select(Case).where(Case.closed_on.is_(None), Case.besluit == Besluit.OVERNAME, ~ordered.exists())
            .order_by(Case.id))]
    return sum(order_service.create_default_arbo_order(engine, ref, contract, today, ACTOR).created for ref in refs)


@task(name="end-orders-of-closed-cases", cache_policy=NO_CACHE)
def end_orders(engine) -> int:
    return len(order_service.end_orders_for_closed_cases(engine, by=ACTOR))


def _run_name() -> str:
    return f"orders-{datetime.now(DUTCH_TIME):%Y%m%d-%H%M%S}"


@flow(name="provider-orders", flow_run_name=_run_name, persist_result=False)
def orders_flow(run_date: date | None = None) -> dict[str, int]:
    """Order the arbodienst's bedrijfsarts and casemanager for new cases; end orders of closed cases."""
    settings = Settings()
    today = run_date or datetime.now(DUTCH_TIME).date()
    engine = runtime.migrated_engine(settings)
    contract = runtime.arbodienst_contract(settings)
    created = order_for_new_cases(engine, contract, today) if contract else 0
    if contract is None:
        get_run_logger().info("No arbodienst contract configured (VANGNET_ARBODIENST_CONTRACT): no orders made.")
    return {"orders_created": created, "orders_ended": end_orders(engine)}
