"""Acceptance of the scale-out: Prefect server on a real PostgreSQL, a process work pool with two workers,
our store on PostgreSQL, the IB simulator (mutual TLS + 2W-be-S) and a provider invoice feed. A few hundred
signals and invoices are processed exactly once (our store and the simulators' requests agree), both
workers do work, and killing one worker mid-batch loses and doubles nothing."""

from __future__ import annotations

import json
import time
from datetime import date
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

import store
from flows.partners import demo_ib_environment
from flows.scaleout import Gemeente, down, kill_worker, up, worker_flow_runs
from flows.settings import Settings
from ib_helpers import record
from simulators.certs import generate_test_pki, server_ssl_context
from simulators.harness import SimServer
from simulators.ib import IbSimulator, SimSecurity
from simulators.providers import ProviderFeedSimulator
from simulators.ubl_factory import Line, make_invoice
from store.models import InboxMessage, InboxStatus, SignalRow

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.prefect]
SIGNALS, INVOICES, TOKEN = 240, 60, "scaleout-feed-token"


def invoice(n: int) -> bytes:
    return make_invoice(number=f"SO-{n:04d}", issue_date=date(2027, 4, 1), order_number=f"OPD-0518-{900000 + n}-01",
                        period=(date(2027, 3, 1), date(2027, 3, 31)),
                        lines=[Line("casemanager", Decimal(n % 5 + 1), Decimal("128.88"))])


def run_deployment(api: str, name: str, gemeente: str = "0518") -> str:
    deployment = httpx.get(f"{api}/deployments/name/{name}/{name}-{gemeente}", timeout=10).json()
    return httpx.post(f"{api}/deployments/{deployment['id']}/create_flow_run", json={}, timeout=10).json()["id"]


def wait_done(api: str, run_ids: list[str], timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        runs = httpx.post(f"{api}/flow_runs/filter", timeout=10, json={"flow_runs": {"id": {"any_": run_ids}}}).json()
        states = {r["id"]: r["state_type"] for r in runs}
        if all(s in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") for s in states.values()):
            return states
        if time.monotonic() > deadline:
            return states
        time.sleep(1)


def counts(engine) -> dict[str, int]:
    with store.session_scope(engine) as s:
        def n(stmt):
            return s.scalar(stmt)
        return {
            "signals": n(select(func.count()).select_from(SignalRow)),
            "distinct_signals": n(select(func.count(func.distinct(SignalRow.bericht_id)))),
            "ib_new": n(select(func.count()).select_from(InboxMessage).where(
                InboxMessage.source == "ib", InboxMessage.status == InboxStatus.NEW)),
            "invoices": n(select(func.count()).select_from(store.Invoice)),
            "invoice_inbox": n(select(func.count()).select_from(InboxMessage).where(InboxMessage.source == "invoices")),
            "invoice_new": n(select(func.count()).select_from(InboxMessage).where(
                InboxMessage.source == "invoices", InboxMessage.status == InboxStatus.NEW)),
            "quarantined": n(select(func.count()).select_from(store.QuarantineRow)),
        }


def test_two_workers_on_postgres_process_everything_exactly_once_even_when_one_is_killed(pg_url, tmp_path):
    pki = generate_test_pki(tmp_path / "pki")
    # Deployment runs use today's date: the signals must lie in the past.
    dates = {"eerste_ziektedag": "2026-10-05", "datum_einde_dienstverband": "2026-10-16", "datum_melding": "2026-10-15"}
    ib = IbSimulator([record(n, **dates) for n in range(1, SIGNALS + 1)], security=SimSecurity.from_pki(pki))
    feed = ProviderFeedSimulator(token=TOKEN)
    for n in range(1, INVOICES + 1):
        feed.add_document(invoice(n), f"SO-{n:04d}")
    settings = Settings(home=tmp_path / "home")
    with SimServer(ib, tls=server_ssl_context(pki)), SimServer(feed):
        gemeente = Gemeente("0518", env={
            **demo_ib_environment(pki), "VANGNET_IB_ENDPOINT": ib.endpoint, "VANGNET_IB_PAGE_SIZE": "40",
            "VANGNET_BATCH_SIZE": "20", "VANGNET_PROVIDER_FEEDS": json.dumps({"so": feed.api_root}),
            "VANGNET_PROVIDER_FEED_TOKENS": json.dumps({"so": TOKEN})})
        state = up(settings, gemeenten=[gemeente], workers=2, port=_free_port(), pg_url=pg_url, paused=True,
                   worker_limit=2, poll_seconds=1, database_prefix=_prefix())
        try:
            engine = store.make_engine(gemeente_url(state))
            api = state.api_url
            first = [run_deployment(api, "signal-intake") for _ in range(3)]
            first += [run_deployment(api, "invoice-sync") for _ in range(2)]
            deadline = time.monotonic() + 120
            while counts(engine)["signals"] < SIGNALS // 4 and time.monotonic() < deadline:
                time.sleep(0.2)
            kill_worker(state, "vangnet-0518-worker-1")  # mid-batch: its uncommitted work rolls back
            second = [run_deployment(api, "signal-intake") for _ in range(2)]
            second += [run_deployment(api, "invoice-sync") for _ in range(2)]
            states = wait_done(api, second, timeout=240)
            assert set(states.values()) == {"COMPLETED"}, states
            final = counts(engine)
            shared = worker_flow_runs(state)
        finally:
            down(settings)
    assert final == {"signals": SIGNALS, "distinct_signals": SIGNALS, "ib_new": 0, "invoices": INVOICES,
                     "invoice_inbox": INVOICES, "invoice_new": 0, "quarantined": 0}
    assert all(n > 0 for n in shared.values()), shared  # both workers ran flow runs
    assert ib.acknowledged_upto == SIGNALS  # IB was told every signal arrived, and our store has each once
    per_item: dict[str, list[str]] = {}
    for report in feed.status_reports:
        per_item.setdefault(report["invoice_id"], []).append(report["status"])
    assert len(per_item) == INVOICES
    assert all(statuses == ["received", "rejected"] for statuses in per_item.values()), per_item  # each once


def gemeente_url(state) -> str:
    return state.gemeenten[0]["database_url"]


def _prefix() -> str:
    import uuid

    return f"t{uuid.uuid4().hex[:8]}_"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_gemeenten_share_the_installation_but_no_data(pg_url, tmp_path):
    pki = generate_test_pki(tmp_path / "pki")
    dates = {"eerste_ziektedag": "2026-10-05", "datum_einde_dienstverband": "2026-10-16", "datum_melding": "2026-10-15"}
    sims = {code: IbSimulator([record(n + offset, gemeentecode=code, **dates) for n in range(1, 21)],
                              security=SimSecurity.from_pki(pki))
            for code, offset in (("0518", 0), ("0363", 1000))}
    settings = Settings(home=tmp_path / "home")
    with SimServer(sims["0518"], tls=server_ssl_context(pki)), SimServer(sims["0363"], tls=server_ssl_context(pki)):
        gemeenten = [Gemeente(code, env={**demo_ib_environment(pki), "VANGNET_IB_ENDPOINT": sim.endpoint})
                     for code, sim in sims.items()]
        state = up(settings, gemeenten=gemeenten, workers=1, port=_free_port(), pg_url=pg_url, paused=True,
                   poll_seconds=1, database_prefix=_prefix())
        try:
            pools = {w.rsplit("-worker-", 1)[0] for w in state.workers}
            assert pools == {"vangnet-0518", "vangnet-0363"}
            runs = [run_deployment(state.api_url, "signal-intake", code) for code in sims]
            assert set(wait_done(state.api_url, runs, timeout=180).values()) == {"COMPLETED"}
            seen = {}
            for g in state.gemeenten:
                engine = store.make_engine(g["database_url"])
                with store.session_scope(engine) as s:
                    seen[g["code"]] = set(s.scalars(select(SignalRow.gemeentecode)))
                    seen[g["code"] + "-count"] = s.scalar(select(func.count()).select_from(SignalRow))
                engine.dispose()
        finally:
            down(settings)
    assert seen == {"0518": {"0518"}, "0518-count": 20, "0363": {"0363"}, "0363-count": 20}
