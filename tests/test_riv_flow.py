"""The riv-preparation flow on a real local Prefect server: one task per batch, the `riv-gaps` artifact (case
references, due dates, missing part letters; never a BSN) and `vangnet.riv.gaps` for RIVs due within two weeks."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from prefect_fixtures import events_named

from test_riv import BSN, D, RIV_DUE, TODAY, fill_dossier, open_case

pytestmark = [pytest.mark.prefect, pytest.mark.slow]

GAPS = "b, c, e, f, g, h, i, j, k"


@pytest.fixture
def home(local_home, monkeypatch):
    monkeypatch.setenv("VANGNET_BATCH_SIZE", "2")  # a few records already take several batches
    monkeypatch.setenv("VANGNET_RIV_LEAD_WEEKS", "6")
    return local_home

def test_flow_lists_gaps_and_alerts_on_rivs_due_soon(prefect_server, home):
    from flows.riv import riv_preparation_flow

    due = open_case(home)                                                   # 31 days left, gaps
    overdue = open_case(home, d=D - timedelta(weeks=6), bsn="999990020")    # 11 days late, gaps
    complete = open_case(home, d=D - timedelta(weeks=3), bsn="999990032")   # 10 days left, nothing missing
    fill_dossier(home, complete)
    open_case(home, d=D + timedelta(weeks=7), bsn="999990044")              # beyond the lead time

    counts = riv_preparation_flow(run_date=TODAY)
    assert counts == {"due": 3, "complete": 1, "with_gaps": 2, "urgent": 1, "versions_recorded": 3}

    artifact = httpx.post(f"{prefect_server}/artifacts/filter", timeout=10,
                          json={"artifacts": {"key": {"any_": ["riv-gaps"]}}, "sort": "CREATED_DESC"}).json()[0]
    assert BSN not in str(artifact) and "999990020" not in str(artifact)
    rows = json.loads(artifact["data"]) if isinstance(artifact["data"], str) else artifact["data"]
    assert [(r["case_id"], r["riv_datum"], r["dagen_over"], r["ontbrekend"]) for r in rows] == [
        (overdue, (RIV_DUE - timedelta(weeks=6)).isoformat(), -11, GAPS),
        (complete, (RIV_DUE - timedelta(weeks=3)).isoformat(), 10, "-"),
        (due, RIV_DUE.isoformat(), 31, GAPS),
    ]

    task_runs = httpx.post(f"{prefect_server}/task_runs/filter", json={}, timeout=10).json()
    assert sorted(r["name"] for r in task_runs if r["name"].startswith("prepare-rivs")) == [
        "prepare-rivs-1", "prepare-rivs-2"]  # 3 cases in batches of 2

    events = events_named(prefect_server, "vangnet.riv.gaps")
    assert [(e["resource"]["prefect.resource.id"], e["payload"]["ontbrekend"], e["payload"]["dagen_over"])
            for e in events] == [(f"vangnet.case.{overdue}", GAPS.split(", "), -11)]
    assert BSN not in json.dumps(events)

    assert riv_preparation_flow(run_date=TODAY)["versions_recorded"] == 0  # nothing changed: nothing recorded
