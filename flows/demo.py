"""The demo: the whole chain on embedded defaults, against a real local Prefect server.

The demo scenario's LKS registration is imported; the IB, Suwinet, zaaksysteem and arbodienst simulators
run as real servers on 127.0.0.1 (mutual TLS and Digikoppeling 2W-be-S where the real partners use them);
the pipeline flow pulls the signals, decides each takeover, registers the zaken, orders the arbodienst,
books the bedrijfsarts consults and lists the deadlines. Then the providers invoice their orders (through
the invoice-feed simulator): one invoice of each kind is approved, disputed or rejected.
The store is the persistent one under `var/`, so a second run shows that nothing is doubled.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import store
from flows.partners import running_partners
from flows.settings import Settings
from services.invoices import table_row
from services.lks import import_lks
from simulators.demo_invoices import demo_invoices
from store.invoices import findings_of, list_invoices

DEMO_SCENARIO = Path(__file__).resolve().parent.parent / "simulators" / "data" / "demo.json"


@dataclass
class DemoResult:
    counts: dict[str, Any]
    cases: list[dict[str, Any]]
    quarantine: list[dict[str, Any]]
    deadlines: list[dict[str, Any]]
    consults: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    invoices: list[dict[str, Any]]
    prefect_ui: str
    report_index: str = ""
    dossier_case: str | None = None
    run_date: str = ""


def record_demo_dossier(engine, spec: dict[str, Any] | None, today: date) -> str | None:
    """Record the scenario's `dossier` section for the case of its `bericht_id` (once: a second demo run
    finds the plan and adds nothing). Returns the case reference."""
    from schemas.dossier import Activity, EntryKind, Instrument, Recipient, Trede
    from services import dossier

    if not spec:
        return None
    with store.session_scope(engine) as session:
        signal = store.get_signal(session, spec["bericht_id"])
        case = store.get_case(session, signal.case_id) if signal and signal.case_id else None
        if case is None or dossier.plan_history(session, case.id):
            return case.ref if case else None
        ref = case.ref
    day = date.fromisoformat
    plan, by = spec["plan"], "demo-casemanager"
    dossier.record_plan(engine, ref, agreed_on=day(plan["op"]), contact_person=plan["contactpersoon"],
                        activities=[Activity(a, g, day(t) if t else None) for a, g, t in plan["activiteiten"]],
                        evaluation_moments=[day(d) for d in plan["evaluaties"]], by=by, today=today)
    for recipient, sent in plan.get("afschriften", {}).items():
        dossier.record_copy(engine, ref, recipient=Recipient(recipient), sent_on=day(sent), by=by, today=today)
    for trede, since in spec.get("trede", []):
        dossier.set_trede(engine, ref, trede=Trede(trede), since=day(since), by=by, today=today)
    for instrument, start in spec.get("instrumenten", []):
        dossier.start_instrument(engine, ref, Instrument(instrument), started_on=day(start), by=by, today=today)
    for kind, on, text in spec.get("items", []):
        dossier.add_entry(engine, ref, EntryKind(kind), entry_date=day(on), text=text, by=by, today=today)
    return ref


def run_demo(settings: Settings, scenario: Path, step: Callable[[str], None]) -> DemoResult:
    """Run the demo; `step` is told each phase (the CLI turns it into a progress bar).

    The caller must have pointed Prefect at the local server (flows.prefect_server) before this runs.
    """
    from flows.invoices import invoice_sync_flow
    from flows.report import management_report_flow
    from flows.pipeline import pipeline_flow  # imports prefect: only after the environment is set
    from flows.runtime import provider_contracts
    from services.deadlines import deadlines_on
    from services.intake import DUTCH_TIME
    from services.orders import list_orders
    from services.reporting import all_case_summaries
    from store.consults import list_consults

    data = json.loads(scenario.read_text(encoding="utf-8"))
    run_date = date.fromisoformat(data["vandaag"])
    url = settings.resolved_database_url
    engine = store.make_engine(url)
    step("Importing the gemeente's LKS registration")
    import_lks(engine, json.dumps({"lks": data.get("lks", [])}).encode(), filename=scenario.name)
    step("Starting the IB, Suwinet and zaaksysteem simulators (mutual TLS, 2W-be-S)")
    with tempfile.TemporaryDirectory(prefix="vangnet-demo-") as tmp, \
            running_partners(data, Path(tmp), database_url=url) as partners:
        step("Running the pipeline flow (intake → safety net → takeover → zaken → orders → consults → deadlines)")
        counts = pipeline_flow(run_date=run_date, ib_endpoint=partners.ib_endpoint)
        step("Providers invoice their orders: fetching, validating (SI-UBL 2.0) and reconciling the invoices")
        for number, document in demo_invoices(list_orders(engine), provider_contracts(Settings()), run_date):
            partners.invoice_feed.add_document(document, number)
        counts["invoices"] = invoice_sync_flow(run_date=run_date)
    step("The casemanager records the plan van aanpak, trede, instrument and RIV entries of one case")
    dossier_case = record_demo_dossier(engine, data.get("dossier"), run_date)
    step("Writing the management report of the demo month (charts; an artifact per figure)")
    report = management_report_flow(period=f"{run_date:%Y-%m}")
    with store.session_scope(engine) as session:
        cases = all_case_summaries(session)
        quarantined = [{"bericht_id": q.bericht_id, "reden": q.reason} for q in store.list_quarantine(session)]
        consults = [{"case": f"VN-{c.case_id:06d}", "purpose": c.purpose.value, "status": c.status,
                     "slot": f"{c.slot_start.astimezone(DUTCH_TIME):%Y-%m-%d %H:%M}" if c.slot_start else "", "attempt": c.attempt}
                    for c in list_consults(session)]
    orders = [o.model_dump() for o in list_orders(engine)]
    with store.session_scope(engine) as session:
        invoices = [{"id": inv.id, **table_row(inv, (f.code for f in findings_of(session, inv.id)))}
                    for inv in list_invoices(session)]
    deadlines = [vars(d) for d in deadlines_on(engine, today=run_date)]
    engine.dispose()
    ui = settings.resolved_prefect_api_url.removesuffix("/api")
    return DemoResult(counts=counts, cases=cases, quarantine=quarantined, deadlines=deadlines, consults=consults,
                      orders=orders, invoices=invoices, prefect_ui=ui, report_index=str(report["index"]),
                      dossier_case=dossier_case, run_date=run_date.isoformat())
