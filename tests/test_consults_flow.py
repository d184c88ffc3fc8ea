"""The consult-lifecycle flow on a real local Prefect server against the arbodienst simulator: batched tasks,
the arbodienst's global concurrency limit, and an event per escalation."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from prefect_fixtures import events_named

import store
from test_consults_service import TODAY, start_arbo, taken_over_case

pytestmark = [pytest.mark.prefect, pytest.mark.slow]


@pytest.fixture
def home(local_home, monkeypatch):
    monkeypatch.setenv("VANGNET_BATCH_SIZE", "2")  # a few records already take several batches
    return local_home

def test_flow_is_skipped_without_an_arbodienst(prefect_server, home, monkeypatch):
    from flows.consults import consult_lifecycle_flow

    monkeypatch.delenv("VANGNET_ARBODIENST_BASE_URL", raising=False)
    taken_over_case(home)
    assert consult_lifecycle_flow(run_date=TODAY) == {}
    with store.session_scope(home) as s:
        assert store.list_consults(s) == []


def test_flow_books_in_batches_rebooks_and_escalates(prefect_server, home, monkeypatch):
    from flows.consults import consult_lifecycle_flow

    arbo = start_arbo(monkeypatch)
    monkeypatch.setenv("VANGNET_ARBODIENST_MAX_NO_SHOWS", "2")
    try:
        refs = [taken_over_case(home) for _ in range(3)]
        counts = consult_lifecycle_flow(run_date=TODAY)
        assert counts["planned"] == 3 and counts["booked"] == 3 and counts["late"] == 0
        assert arbo.sim.counts()["bookings"] == 3

        limit = httpx.get(f"{prefect_server}/v2/concurrency_limits/arbodienst:arbo-test", timeout=10).json()
        assert limit["limit"] == 1 and limit["active_slots"] == 0
        task_runs = httpx.post(f"{prefect_server}/task_runs/filter", json={}, timeout=10).json()
        assert sum(r["name"].startswith("book-consults") for r in task_runs) == 2  # 3 consults, batches of 2

        first = next(b for b in arbo.sim.bookings if b["case_ref"] == refs[0])
        arbo.sim.set_status(first["booking_id"], "NO_SHOW")
        counts = consult_lifecycle_flow(run_date=date(2027, 4, 29))
        assert counts["no_shows"] == 1 and counts["rebooked"] == 1 and counts["booked"] == 1
        second = arbo.sim.bookings[-1]
        assert second["case_ref"] == refs[0]
        arbo.sim.set_status(second["booking_id"], "NO_SHOW")
        counts = consult_lifecycle_flow(run_date=date(2027, 5, 11))
        assert counts["escalated"] == 1 and counts["booked"] == 0

        events = events_named(prefect_server, "vangnet.consult.escalated")
        assert [e["resource"]["prefect.resource.id"] for e in events] == [f"vangnet.case.{refs[0]}"]
        with store.session_scope(home) as s:
            assert store.get_case(s, refs[0]).status.value == "HANDMATIG"
    finally:
        arbo.client.close()
        arbo.server.stop()
