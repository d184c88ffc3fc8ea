"""The intake flow on a real local Prefect server: batched tasks, counts, and the sequence-gap alert."""

from __future__ import annotations

from datetime import date, datetime, timezone

import httpx
import pytest
from prefect_fixtures import events_named

from flows.partners import demo_ib_environment
from simulators.certs import generate_test_pki, server_ssl_context
from simulators.harness import SimServer
from simulators.ib import IbSimulator, SimSecurity

pytestmark = [pytest.mark.prefect, pytest.mark.slow]


def ziekmelding(n: int, bsn: str) -> dict:
    return {"bericht_id": f"FL-{n}", "volgnummer": n, "soort": "ZIEKMELDING_VANGNETTER", "bsn": bsn,
            "gemeentecode": "0518", "eerste_ziektedag": "2027-01-04", "wettelijke_grondslag": "ZW_38_2"}


@pytest.fixture
def vangnet_home(tmp_path, monkeypatch):
    import store

    monkeypatch.setenv("VANGNET_HOME", str(tmp_path))
    monkeypatch.setenv("VANGNET_IB_PAGE_SIZE", "2")
    pki = generate_test_pki(tmp_path / "pki")
    for name, value in demo_ib_environment(pki).items():  # mutual TLS + 2W-be-S, as in production
        monkeypatch.setenv(name, value)
    store.upgrade(f"sqlite:///{tmp_path / 'vangnet.db'}")
    return pki


def test_intake_flow_pages_batches_and_gap_alert(prefect_server, vangnet_home):
    from flows.intake import intake_flow

    started = datetime.now(timezone.utc).isoformat()  # the server is shared: count only this test's task runs
    bsns = ["999990019", "999990020", "999990032", "999990044", "999990056"]
    sim = IbSimulator([ziekmelding(i + 1, b) for i, b in enumerate(bsns)] + [ziekmelding(9, "999990068")],
                      security=SimSecurity.from_pki(vangnet_home))
    with SimServer(sim, tls=server_ssl_context(vangnet_home)):
        counts = intake_flow(run_date=date(2027, 3, 1), ib_endpoint=sim.endpoint)
    assert counts["received"] == 6 and counts["cases_created"] == 6
    assert counts["pages"] == 3 and counts["sequence_gaps"] == 1  # 6 signals in pages of 2; 6..8 missing
    assert sim.acknowledged_upto == 9

    events = events_named(prefect_server, "vangnet.intake.sequence-gap")
    assert [(e["payload"]["first"], e["payload"]["last"]) for e in events] == [(6, 8)]
    task_runs = httpx.post(f"{prefect_server}/task_runs/filter", timeout=10,
                           json={"task_runs": {"start_time": {"after_": started}}}).json()
    assert sum(r["name"].startswith("pull-ib-page") for r in task_runs) == 3  # one task per page, not per signal
