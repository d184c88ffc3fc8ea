"""Issue 3 acceptance at the intake level: mutual TLS + 2W-be-S signatures, faults, nothing lost or doubled.

The client is built from `VANGNET_IB_*` settings exactly as the intake flow builds it.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

import store
from connectors.inlichtingenbureau import IbSecurityError
from flows.partners import demo_ib_environment
from flows.runtime import build_ib_client
from flows.settings import Settings
from ib_helpers import record
from services.intake import SOURCE_IB, process_inbox_batch, pull_page
from simulators.certs import generate_test_pki, server_ssl_context
from simulators.harness import SimServer
from simulators.ib import IbSimulator, SimSecurity
from store.models import InboxMessage, SignalRow

NOW = datetime(2027, 3, 1, 11, tzinfo=timezone.utc)
TODAY = date(2027, 3, 1)
N = 12


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return generate_test_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def secure_ib(pki, monkeypatch):
    for name, value in demo_ib_environment(pki).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("VANGNET_IB_PAGE_SIZE", "5")
    sim = IbSimulator([record(i) for i in range(1, N + 1)], security=SimSecurity.from_pki(pki))
    with SimServer(sim, tls=server_ssl_context(pki)) as server:
        yield sim, server, lambda: build_ib_client(Settings(ib_max_attempts=3), endpoint=sim.endpoint)


def pull_all(client, engine):
    results = []
    while not results or (results[-1].more and results[-1].received):
        results.append(pull_page(client, engine, source=SOURCE_IB, page_size=5, now=NOW))
    return results


def counts(engine) -> tuple[int, int, int]:
    with store.session_scope(engine) as s:
        inbox = s.scalar(select(func.count()).select_from(InboxMessage))
        return inbox, s.scalar(select(func.count()).select_from(SignalRow)), store.get_cursor(s, SOURCE_IB)


def test_signed_pages_land_exactly_once_and_the_cursor_survives_a_restart(secure_ib, engine, db_url):
    sim, _, new_client = secure_ib
    client = new_client()
    first = pull_page(client, engine, source=SOURCE_IB, page_size=5, now=NOW)
    assert (first.new, first.cursor) == (5, 5) and sim.acknowledged_upto == 5
    client.close()

    restarted_engine, restarted_client = store.make_engine(db_url), new_client()  # a new process
    pull_all(restarted_client, restarted_engine)
    process_inbox_batch(restarted_engine, source=SOURCE_IB, limit=100, today=TODAY)
    assert counts(restarted_engine) == (N, N, N)
    assert [op.params for op in sim.operations if op.name == "HaalSignalen"][1]["VanafVolgnummer"] == 5
    restarted_client.close()
    restarted_engine.dispose()


@pytest.mark.parametrize("knob", ["tamper_next", "unsigned_next", "expired_next", "wrong_cert_next"])
def test_bad_signature_is_rejected_nothing_stored_and_nothing_lost(secure_ib, engine, knob):
    sim, server, new_client = secure_ib
    client = new_client()
    sim.set_faults(**{knob: 1})
    with pytest.raises(IbSecurityError):
        pull_page(client, engine, source=SOURCE_IB, page_size=5, now=NOW)
    assert counts(engine) == (0, 0, 0) and sim.acknowledged_upto == 0  # rejected whole, not acknowledged
    assert server.request_count(method="POST") == 1  # a security failure is never retried
    pull_all(client, engine)  # the next run gets everything
    assert counts(engine)[0] == N and sim.acknowledged_upto == N
    client.close()


@pytest.mark.parametrize("faults", [{"status_next": 2, "status_code": 503}, {"soap_fault_next": 2}])
def test_transient_failures_are_retried_and_stored_once(secure_ib, engine, faults):
    sim, server, new_client = secure_ib
    client = new_client()
    server.set_faults(**faults)
    pull_all(client, engine)
    assert counts(engine)[0] == N and counts(engine)[2] == N
    assert server.request_count(method="POST") >= len(range(0, N, 5)) + 2  # the retries really happened
    client.close()


def test_duplicate_delivery_and_replayed_page_are_stored_once(secure_ib, engine):
    sim, _, new_client = secure_ib
    client = new_client()
    sim.set_faults(duplicate_next=2)
    pull_all(client, engine)
    with store.session_scope(engine) as s:
        store.set_cursor(s, SOURCE_IB, 0)  # e.g. restored from an old backup: IB replays every page
    replay = pull_all(client, engine)
    assert sum(r.new for r in replay) == 0 and replay[-1].cursor == N
    batch = process_inbox_batch(engine, source=SOURCE_IB, limit=100, today=TODAY)
    assert (batch.signals_new, batch.cases_created) == (N, N)
    client.close()


def test_sequence_gap_is_reported_and_the_rest_is_kept(secure_ib, engine):
    sim, _, new_client = secure_ib
    client = new_client()
    sim.set_faults(gap_next=1)
    results = pull_all(client, engine)
    assert [gap for r in results for gap in r.gaps] == [(2, 2)]
    assert counts(engine)[0] == N - 1
    client.close()
