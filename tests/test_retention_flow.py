"""The retention flow on a real local Prefect server: one task per batch, a counts-only artifact, no BSN."""

from __future__ import annotations

import httpx
import pytest

import store
from test_retention import BSN, TODAY, build_world, where_is

pytestmark = [pytest.mark.prefect, pytest.mark.slow]


@pytest.fixture
def home(local_home, monkeypatch):
    monkeypatch.setenv("VANGNET_BATCH_SIZE", "2")  # a few records already take several batches
    monkeypatch.setenv("VANGNET_RETENTION_YEARS", "2")
    monkeypatch.setenv("VANGNET_RETENTION_WIA_YEARS", "7")
    return local_home

def test_flow_anonymises_in_batches_and_reports_counts_only(prefect_server, home):
    from flows.retention import retention_flow

    build_world(home)
    counts = retention_flow(run_date=TODAY)
    assert (counts["anonymised"], counts["kept"], counts["wia_term"]) == (2, 2, 0)
    assert counts["lks_perioden"] == 1 and counts["dossieritems"] == 1
    assert where_is(home, BSN["due"]) == []

    task_runs = httpx.post(f"{prefect_server}/task_runs/filter", json={}, timeout=10).json()
    assert sum(r["name"].startswith("anonymise-due-cases-") for r in task_runs) == 3  # 4 candidates, batches of 2

    artifacts = httpx.post(f"{prefect_server}/artifacts/filter", timeout=10,
                           json={"artifacts": {"key": {"any_": ["retention-summary"]}}}).json()
    assert artifacts, "no retention-summary artifact"
    text = artifacts[-1]["data"]
    assert "| zaken geanonimiseerd | 2 |" in text and "| lks_perioden | 1 |" in text
    assert "| oudere gesloten zaken nog binnen de WIA-termijn | 2 |" in text

    again = retention_flow(run_date=TODAY)
    assert again["anonymised"] == 0 and again["kept"] == 2

    flow_runs = httpx.post(f"{prefect_server}/flow_runs/filter", json={}, timeout=10).json()
    runs = [r for r in flow_runs if r["name"].startswith("retention-")]
    assert len(runs) >= 2 and all(r["state_type"] == "COMPLETED" for r in runs)
    with store.session_scope(home) as s:
        refs = [c.ref for c in store.list_cases(s)]
    haystack = "\n".join([text, httpx.post(f"{prefect_server}/flow_runs/filter", json={}, timeout=10).text,
                          httpx.post(f"{prefect_server}/task_runs/filter", json={}, timeout=10).text,
                          httpx.post(f"{prefect_server}/logs/filter", json={}, timeout=10).text])
    assert [b for b in BSN.values() if b in haystack] == []
    assert not any(ref in text for ref in refs)  # the artifact has counts, not even case references
