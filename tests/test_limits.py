"""Partner limits (flows/limits.py) on a real local Prefect server: created once with their defaults and
never overwritten, a slot held exactly while inside, runs serialised, a backlog paced, and the intake
flow leaving `ib` and `ib:rate` behind with no slot taken."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import date, datetime, timezone

import httpx
import pytest

import test_intake_flow
from flows import limits
from test_intake_flow import ziekmelding

vangnet_home = test_intake_flow.vangnet_home  # the fixture: IB simulator PKI and settings

pytestmark = pytest.mark.prefect


def unique(prefix: str = "x-test") -> str:
    """A limit name no other test uses: the server lives for the whole session."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def read_limit(api: str, name: str) -> dict | None:
    response = httpx.get(f"{api}/v2/concurrency_limits/{name}", timeout=10)
    return None if response.status_code == 404 else response.raise_for_status().json()


def delete_limit(api: str, name: str) -> None:
    httpx.delete(f"{api}/v2/concurrency_limits/{name}", timeout=10)


def test_names_and_defaults():
    assert limits.rate_name(limits.arbodienst("acme")) == "arbodienst:acme:rate"
    assert limits.defaults_for("invoice-feed:demo") == limits.DEFAULTS[limits.INVOICE_FEED]
    assert (limits.defaults_for("zgw").concurrency, limits.defaults_for("zgw").per_second) == (2, 10)
    assert limits.defaults_for("ib").burst == 2 and limits.defaults_for("unknown").concurrency == 1


def test_partner_limit_names_follow_the_configuration():
    from flows.settings import Settings

    settings = Settings(zgw_base_url="https://zaken.example/api/v1", arbodienst_base_url="https://arbo.example",
                        arbodienst_name="acme", provider_feeds={"demo": "https://feed.example"})
    assert limits.partner_limit_names(settings) == [
        "ib", "ib:rate", "zgw", "zgw:rate", "arbodienst:acme", "arbodienst:acme:rate",
        "invoice-feed:demo", "invoice-feed:demo:rate"]


def test_ensure_limit_creates_once_and_leaves_a_tuned_limit_alone(prefect_server):
    name = unique()
    assert limits.ensure_limit(name, 3, per_second=1.5) is True
    made = read_limit(prefect_server, name)
    assert (made["limit"], made["slot_decay_per_second"], made["active_slots"]) == (3, 1.5, 0)

    httpx.patch(f"{prefect_server}/v2/concurrency_limits/{name}", json={"limit": 7, "slot_decay_per_second": 0.5},
                timeout=10).raise_for_status()  # an operator tunes it in the UI
    assert limits.ensure_limit(name, 3, per_second=1.5) is False
    tuned = read_limit(prefect_server, name)
    assert (tuned["limit"], tuned["slot_decay_per_second"]) == (7, 0.5)


def test_partner_slot_holds_one_slot_while_inside(prefect_server):
    name = unique()
    with limits.partner_slot(name):
        inside = read_limit(prefect_server, name)
    after = read_limit(prefect_server, name)
    assert (inside["limit"], inside["active_slots"]) == (1, 1)  # created with the careful default
    assert after["active_slots"] == 0


def test_partner_slot_is_freed_when_the_section_fails(prefect_server):
    name = unique()
    with pytest.raises(ConnectionError), limits.partner_slot(name):
        raise ConnectionError("partner down")
    assert read_limit(prefect_server, name)["active_slots"] == 0


def test_two_runs_on_one_slot_take_turns(prefect_server):
    name = unique()
    limits.ensure_limit(name, 1)
    spans: list[tuple[float, float]] = []

    def run() -> None:
        with limits.partner_slot(name):
            start = time.monotonic()
            time.sleep(0.5)
            spans.append((start, time.monotonic()))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(spans) == 2
    first, second = sorted(spans)
    assert first[1] <= second[0]  # the second started only after the first had left
    assert read_limit(prefect_server, name)["active_slots"] == 0


def test_partner_pace_spreads_a_backlog_over_time(prefect_server):
    name, calls, burst, per_second = unique(), 10, 2, 5.0
    limits.ensure_limit(limits.rate_name(name), burst, per_second=per_second)
    start = time.monotonic()
    for _ in range(calls):
        limits.partner_pace(name)
    elapsed = time.monotonic() - start
    # At most `burst` + floor(rate * t) units pass in t seconds; only a loose lower bound, so it cannot flake.
    assert elapsed >= 0.75 * (calls - burst) / per_second


def test_partner_pace_recreates_a_deleted_rate_limit(prefect_server):
    name = unique()
    limits.partner_pace(name)
    delete_limit(prefect_server, limits.rate_name(name))
    limits.partner_pace(name)  # the process remembered it; it heals instead of failing the run
    made = read_limit(prefect_server, limits.rate_name(name))
    assert (made["limit"], made["slot_decay_per_second"]) == (limits.FALLBACK.burst, limits.FALLBACK.per_second)


def test_fetch_feed_calls_before_page_once_per_page(tmp_path):
    import store
    from connectors.providers.client import FeedItem, FeedPage
    from services import invoices

    class TwoPages:
        def list_since(self, cursor, limit):
            n = int(cursor or 0) + 1
            item = FeedItem(id=f"i{n}", invoice_number=f"F-{n}", received_at=datetime.now(timezone.utc),
                            content_type="application/xml", sha256="")
            return FeedPage(items=[item], next_cursor=str(n), has_more=n < 2)

        def download(self, item_id, *, sha256):
            return f"<Invoice>{item_id}</Invoice>".encode()

    url = f"sqlite:///{tmp_path / 'vangnet.db'}"
    store.upgrade(url)
    engine = store.make_engine(url)
    paced: list[int] = []
    try:
        result = invoices.fetch_feed(engine, TwoPages(), "pace", now=datetime.now(timezone.utc),
                                     before_page=lambda: paced.append(1))
    finally:
        engine.dispose()
    assert (result.new, len(paced)) == (2, 2)


@pytest.mark.slow
def test_intake_flow_leaves_its_limits_behind_free(prefect_server, vangnet_home):
    from flows.intake import intake_flow
    from simulators.certs import server_ssl_context
    from simulators.harness import SimServer
    from simulators.ib import IbSimulator, SimSecurity

    for name in ("ib", "ib:rate"):  # made by the flow itself, not by an earlier test
        delete_limit(prefect_server, name)
    pages_before = page_task_runs(prefect_server)
    sim = IbSimulator([ziekmelding(i + 1, bsn) for i, bsn in enumerate(["999990019", "999990020", "999990032"])],
                      security=SimSecurity.from_pki(vangnet_home))
    with SimServer(sim, tls=server_ssl_context(vangnet_home)):
        state = intake_flow(run_date=date(2027, 3, 1), ib_endpoint=sim.endpoint, return_state=True)
    try:
        counts = state.result()
        assert counts["pages"] == 2 and counts["received"] == 3
        assert_ib_limits_free(prefect_server)
    finally:
        forget_run(prefect_server, state.state_details.flow_run_id, pages_before)


def assert_ib_limits_free(api: str) -> None:
    slot, rate = read_limit(api, "ib"), read_limit(api, "ib:rate")
    assert (slot["limit"], slot["active_slots"]) == (1, 0)
    assert (rate["limit"], rate["slot_decay_per_second"]) == (2, 2.0)
    deadline = time.monotonic() + 10
    while rate["active_slots"] and time.monotonic() < deadline:  # the pages' units decay at 2/s
        time.sleep(0.2)
        rate = read_limit(api, "ib:rate")
    assert rate["active_slots"] == 0


def page_task_runs(api: str) -> int:
    task_runs = httpx.post(f"{api}/task_runs/filter", json={}, timeout=10).json()
    return sum(r["name"].startswith("pull-ib-page") for r in task_runs)


def forget_run(api: str, flow_run_id, pages_before: int) -> None:
    """Delete this test's run and its task runs: test_intake_flow counts every `pull-ib-page` on the server."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:  # task runs are recorded asynchronously: delete until none is left
        httpx.delete(f"{api}/flow_runs/{flow_run_id}", timeout=10)
        if page_task_runs(api) == pages_before:
            return
        time.sleep(0.3)
    raise AssertionError("this test's task runs are still on the server")
