"""The whole daily chain as one parent flow: intake → Suwinet safety net → takeover → zaken → orders →
bedrijfsarts consults → provider invoices → deadlines.

Each step is its own (sub)flow run, so operators see and re-run them separately in the Prefect UI.
"""

from __future__ import annotations

from datetime import date, datetime

from prefect import flow

from flows.consults import consult_lifecycle_flow
from flows.intake import intake_flow
from flows.invoices import invoice_sync_flow
from flows.monitor import deadline_monitor_flow
from flows.orders import orders_flow
from flows.safety_net import safety_net_flow
from flows.takeover import takeover_flow
from flows.zaken import zaken_flow
from services.intake import DUTCH_TIME


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
def pipeline_flow(run_date: date | None = None, ib_endpoint: str | None = None) -> dict[str, dict]:
    """Run every step once with one clock (`run_date`, default today in the Netherlands)."""
    today = run_date or datetime.now(DUTCH_TIME).date()
    return {
        "intake": intake_flow(run_date=today, ib_endpoint=ib_endpoint),
        "safety_net": safety_net_flow(run_date=today),
        "takeover": takeover_flow(run_date=today),
        "zaken": zaken_flow(run_date=today),
        "orders": orders_flow(run_date=today),
        "consults": consult_lifecycle_flow(run_date=today),
        "invoices": invoice_sync_flow(run_date=today),
        "deadlines": deadline_monitor_flow(run_date=today),
    }
