"""The invoice-review flow on a real local Prefect server: each DISPUTED invoice pauses the run with a
form; the answers given through the Prefect API (as the UI does) are applied and audited, a wrong answer
is refused without stopping the run, and nobody answering leaves the rest DISPUTED."""

from __future__ import annotations

import threading
import time
from decimal import Decimal as D

import httpx
import pytest

import store
from test_invoice_service import BEDRIJFSARTS, CASEMANAGER, RULES, check, deliver, order, ubl
from simulators.ubl_factory import Line

pytestmark = [pytest.mark.prefect, pytest.mark.slow,
              pytest.mark.skipif(RULES is None, reason="the e-invoicing corpus is absent")]


@pytest.fixture
def home(local_home):
    return local_home

def paused_run(api: str, flow_run_id: str | None, timeout: float = 60) -> dict:
    """Wait until the review run is paused (again) and return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = httpx.post(f"{api}/flow_runs/filter", timeout=10, json={
            "flow_runs": {"state": {"type": {"any_": ["PAUSED"]}}}}).json()
        runs = [r for r in runs if flow_run_id is None or r["id"] == flow_run_id]
        if runs:
            return runs[0]
        time.sleep(0.3)
    raise AssertionError("the review flow never paused")


def test_review_flow_applies_the_clerks_answers(prefect_server, home):
    from prefect.flow_runs import resume_flow_run

    from flows.invoices import invoice_review_flow
    from services.invoices import open_disputes
    from store import invoices as invoice_store

    from einvoicing import Validator

    number = order(home)
    deliver(home, *(ubl(f"R-{n}", number, [Line(role="bedrijfsarts", hours=D("1"), rate=BEDRIJFSARTS + n)])
                    for n in (1, 2, 3)))
    check(home, Validator(RULES))
    assert len(open_disputes(home)) == 3

    outcome: dict = {}
    runner = threading.Thread(target=lambda: outcome.update(invoice_review_flow(limit=10, timeout_seconds=60)))
    runner.start()
    run = paused_run(prefect_server, None)
    key = run["state"]["state_details"]["run_input_keyset"]["description"]
    description = httpx.get(f"{prefect_server}/flow_runs/{run['id']}/input/{key}", timeout=10)
    assert description.status_code == 200 and "R-1" in description.text and "RATE_MISMATCH" in description.text
    resume_flow_run(run["id"], run_input={"decision": "approve", "reason": ""})
    paused_run(prefect_server, run["id"])
    resume_flow_run(run["id"], run_input={"decision": "partial", "reason": "", "amount_excl_vat": "100"})  # no reason
    paused_run(prefect_server, run["id"])
    resume_flow_run(run["id"], run_input={"decision": "partial", "reason": "afgesproken tarief",
                                          "amount_excl_vat": "247.44"})
    runner.join(timeout=60)
    assert outcome == {"approve": 1, "reject": 0, "partial": 1, "refused": 1, "waiting": 0}
    with store.session_scope(home) as s:
        rows = {i.invoice_number: i for i in invoice_store.list_invoices(s)}
        assert (rows["R-1"].verdict, rows["R-1"].decision) == ("APPROVED", "approve")
        assert rows["R-2"].verdict == "DISPUTED"  # the refused answer changed nothing
        assert (rows["R-3"].verdict, rows["R-3"].approved_amount) == ("APPROVED", D("247.44"))
        assert rows["R-3"].decided_by.startswith("prefect-ui:")


def test_nobody_answering_leaves_the_invoices_disputed(prefect_server, home):
    from einvoicing import Validator
    from flows.invoices import invoice_review_flow
    from services.invoices import open_disputes

    number = order(home)
    deliver(home, ubl("T-1", number, [Line(role="casemanager", hours=D("1"), rate=CASEMANAGER + 1)]))
    check(home, Validator(RULES))
    counts = invoice_review_flow(limit=10, timeout_seconds=3)
    assert counts["waiting"] == 1 and counts["approve"] == 0
    assert [d["invoice"] for d in open_disputes(home)] == ["T-1"]
