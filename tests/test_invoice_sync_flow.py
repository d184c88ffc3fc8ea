"""The invoice-sync flow on a real local Prefect server: invoices from the provider-feed simulator (with a
duplicate delivery and a flaky moment) and from the drop folder are checked in batches, approved ones
go to finance once, each provider hears the outcome, and the run publishes its reconciliation table."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal as D

import httpx
import pytest

from simulators.harness import SimServer
from simulators.providers import ProviderFeedSimulator
from simulators.ubl_factory import Line
from test_invoice_service import CASEMANAGER, RULES, order, ubl

pytestmark = [pytest.mark.prefect, pytest.mark.slow,
              pytest.mark.skipif(RULES is None, reason="the e-invoicing corpus is absent")]
TOKEN = "sync-test-token"


@pytest.fixture
def home(local_home, monkeypatch):
    monkeypatch.setenv("VANGNET_BATCH_SIZE", "2")  # a few records already take several batches
    return local_home

def test_sync_fetches_checks_exports_and_answers(prefect_server, home, tmp_path, monkeypatch):
    from flows.invoices import ARTIFACT_KEY, invoice_sync_flow

    started = datetime.now(timezone.utc).isoformat()  # the server is shared: count only this test's task runs
    number = order(home)
    sim = ProviderFeedSimulator(token=TOKEN)
    good = ubl("S-1", number, [Line(role="casemanager", hours=D("2"), rate=CASEMANAGER)])
    sim.set_faults(duplicate_next=1)
    sim.add_document(good, "S-1")
    sim.add_document(ubl("S-2", number, [Line(role="casemanager", hours=D("1"), rate=CASEMANAGER + 5)]), "S-2")
    sim.add_document(ubl("S-3", "OPD-0518-999999-01", [Line(role="casemanager", hours=D("1"), rate=CASEMANAGER)]),
                     "S-3")
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "s4.xml").write_bytes(ubl("S-4", number, [Line(role="casemanager", hours=D("3"), rate=CASEMANAGER)]))
    (drop / "broken.xml").write_bytes(b"<Invoice")
    with SimServer(sim) as server:
        monkeypatch.setenv("VANGNET_PROVIDER_FEEDS", json.dumps({"demo": sim.api_root}))
        monkeypatch.setenv("VANGNET_PROVIDER_FEED_TOKENS", json.dumps({"demo": TOKEN}))
        monkeypatch.setenv("VANGNET_INVOICE_DROP_DIR", str(drop))
        server.set_faults(fail_next=1)  # the first call fails once: retried within the connector
        counts = invoice_sync_flow(run_date=date(2027, 4, 2))
        again = invoice_sync_flow(run_date=date(2027, 4, 2))

    assert {k: counts[k] for k in ("received", "new", "duplicate", "quarantined", "APPROVED", "DISPUTED",
                                   "REJECTED")} == {"received": 6, "new": 5, "duplicate": 1, "quarantined": 1,
                                                    "APPROVED": 2, "DISPUTED": 1, "REJECTED": 1}
    assert (again["received"], again["APPROVED"], again["exported_batches"]) == (0, 0, 0)
    assert counts["exported_batches"] == 1
    exports = list((tmp_path / "exports").glob("boekingen-*.csv"))
    assert len(exports) == 1 and exports[0].read_text().count("\n") == 3  # header + S-1 + S-4
    ids: dict[str, str] = {}
    for item in sim.items:
        ids.setdefault(item["invoice_number"], item["id"])
    resent = [item["id"] for item in sim.items if item["invoice_number"] == "S-1"][1]
    assert sim.statuses(ids["S-1"]) == ["received", "accepted"]
    assert sim.statuses(resent) == ["received"]  # the same bytes again: one invoice, answered once
    assert sim.statuses(ids["S-2"]) == ["received"]  # disputed: waits for a clerk
    assert sim.statuses(ids["S-3"]) == ["received", "rejected"]
    rejected = next(r for r in sim.status_reports if r["invoice_id"] == ids["S-3"] and r["status"] == "rejected")
    assert "ORDER_UNKNOWN" in [reason["code"] for reason in rejected["reasons"]]
    assert sorted(p.name for p in (drop / "processed").iterdir()) == ["broken.xml", "s4.xml"]
    assert {p.name.rsplit(".", 2)[1] for p in (drop / "responses").iterdir()} == {"received", "accepted", "rejected"}

    artifact = httpx.post(f"{prefect_server}/artifacts/filter", timeout=10,
                          json={"artifacts": {"key": {"any_": [ARTIFACT_KEY]}}, "sort": "CREATED_DESC"}).json()
    table = json.loads(artifact[0]["data"]) if isinstance(artifact[0]["data"], str) else artifact[0]["data"]
    assert sorted(r["invoice"] for r in table) == ["S-1", "S-2", "S-3", "S-4"]
    assert {r["verdict"] for r in table} == {"APPROVED", "DISPUTED", "REJECTED"}
    progress = httpx.post(f"{prefect_server}/artifacts/filter", timeout=10,
                          json={"artifacts": {"key": {"any_": ["invoice-progress"]}}, "sort": "CREATED_DESC"}).json()
    assert progress and float(progress[0]["data"]) == 100.0  # 5 documents in batches of 2: a progress bar
    assert progress[0]["description"] == "invoices checked: 5 of 5"
    task_runs = httpx.post(f"{prefect_server}/task_runs/filter", timeout=10,
                           json={"task_runs": {"start_time": {"after_": started}}}).json()
    assert sum(r["name"].startswith("check-invoices") for r in task_runs) == 3 + 1  # 5 documents, batches of 2


def test_a_failing_feed_is_reported_and_the_drop_folder_still_processed(prefect_server, home, tmp_path, monkeypatch):
    from prefect_fixtures import events_named

    from flows.invoices import FEED_FAILED_EVENT, invoice_sync_flow

    number = order(home)
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "d1.xml").write_bytes(ubl("D-1", number, [Line(role="casemanager", hours=D("1"), rate=CASEMANAGER)]))
    sim = ProviderFeedSimulator(token=TOKEN)
    with SimServer(sim):
        monkeypatch.setenv("VANGNET_PROVIDER_FEEDS", json.dumps({"wrong-token": sim.api_root}))
        monkeypatch.setenv("VANGNET_PROVIDER_FEED_TOKENS", json.dumps({"wrong-token": "not-the-token"}))
        monkeypatch.setenv("VANGNET_INVOICE_DROP_DIR", str(drop))
        counts = invoice_sync_flow(run_date=date(2027, 4, 2))
    assert (counts["feed_errors"], counts["new"], counts["APPROVED"]) == (1, 1, 1)
    events = events_named(prefect_server, FEED_FAILED_EVENT)
    assert events and events[0]["resource"]["prefect.resource.id"] == "vangnet.invoice-feed.wrong-token"
    assert "not-the-token" not in json.dumps(events)
