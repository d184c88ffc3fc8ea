"""Intake services without Prefect: real IB simulator over HTTP, real store on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

import store
from connectors.inlichtingenbureau import IbClient, IbSettings
from services.intake import find_gaps, process_inbox_batch, pull_page
from simulators.harness import SimServer
from simulators.ib import IbSimulator
from store.models import InboxMessage, QuarantineRow, SignalRow

TODAY = date(2027, 3, 1)
NOW = datetime(2027, 3, 1, 11, 0, tzinfo=timezone.utc)
VALID_BSNS = ["999990019", "999990020", "999990032", "999990044", "999990056", "999990068"]


def ziekmelding(n: int, bsn: str, **extra) -> dict:
    return {"bericht_id": f"T-{n:04d}", "volgnummer": n, "soort": "ZIEKMELDING_VANGNETTER", "bsn": bsn,
            "gemeentecode": "0518", "eerste_ziektedag": "2027-01-04", "datum_melding": "2027-01-14",
            "wettelijke_grondslag": "ZW_38_2", **extra}


@pytest.fixture
def ib():
    sim = IbSimulator()
    with SimServer(sim) as server:
        client = IbClient(IbSettings(endpoint=sim.endpoint, max_attempts=2, retry_backoff_seconds=0))
        yield sim, server, client
        client.close()


def pull_all(client, engine, page_size=3):
    results = []
    while True:
        results.append(pull_page(client, engine, source="ib", page_size=page_size, now=NOW))
        if not results[-1].more or results[-1].received == 0:
            return results


def count(engine, model) -> int:
    with store.session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(model))


def test_every_signal_lands_once_and_cursor_survives_restart(ib, engine, db_url):
    sim, _, client = ib
    sim.add_signals([ziekmelding(i + 1, bsn) for i, bsn in enumerate(VALID_BSNS)])
    results = pull_all(client, engine)
    assert sum(r.new for r in results) == 6 and results[-1].cursor == 6
    assert sim.acknowledged_upto == 6

    restarted = store.make_engine(db_url)  # a new process: nothing in memory
    sim.add_signals([ziekmelding(7, "999990081")])
    later = pull_all(client, restarted)
    assert sum(r.received for r in later) == 1 and later[-1].cursor == 7

    batch = process_inbox_batch(restarted, source="ib", limit=100, today=TODAY)
    assert (batch.signals_new, batch.cases_created, batch.quarantined) == (7, 7, 0)
    assert process_inbox_batch(restarted, source="ib", limit=100, today=TODAY).claimed == 0
    assert count(restarted, SignalRow) == 7
    restarted.dispose()


def test_duplicates_and_repeats_create_nothing_twice(ib, engine):
    sim, _, client = ib
    sim.add_signals([ziekmelding(1, "999990019"), ziekmelding(2, "999990020"),
                     ziekmelding(3, "999990019", bericht_id="T-REPEAT")])  # same person again
    sim.set_faults(duplicate_next=1)
    pull_all(client, engine)
    batch = process_inbox_batch(engine, source="ib", limit=100, today=TODAY)
    assert count(engine, InboxMessage) == 3  # the duplicate delivery is the same bytes: one row
    assert batch.cases_created == 2 and batch.signals_new == 3
    with store.session_scope(engine) as s:
        first = store.find_active_case(s, "0518", "999990019")
        linked = s.scalars(select(SignalRow.bericht_id).where(SignalRow.case_id == first.id)).all()
    assert sorted(linked) == ["T-0001", "T-REPEAT"]


def test_bad_messages_are_quarantined_and_the_batch_goes_on(ib, engine):
    sim, _, client = ib
    sim.add_signals([ziekmelding(1, "999990021"), ziekmelding(2, "999990020"),
                     ziekmelding(3, "999990032", eerste_ziektedag="2027-02-30")])
    pull_all(client, engine)
    with store.session_scope(engine) as s:  # hostile XML straight into the inbox, as a file import would
        store.add_raw(s, source="ib", received_at=NOW,
                      payload=b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')
    batch = process_inbox_batch(engine, source="ib", limit=100, today=TODAY)
    assert (batch.claimed, batch.quarantined, batch.cases_created) == (4, 3, 1)
    with store.session_scope(engine) as s:
        reasons = {q.bericht_id: q.reason for q in store.list_quarantine(s)}
    assert "elfproef" in reasons["T-0001"] and "999990021" not in reasons["T-0001"]
    assert "geen geldige datum" in reasons["T-0003"]
    assert any("DTD" in r or "DOCTYPE" in r for b, r in reasons.items() if b is None)
    assert count(engine, QuarantineRow) == 3


def test_sequence_gap_is_reported(ib, engine):
    sim, _, client = ib
    sim.add_signals([ziekmelding(1, "999990019"), ziekmelding(2, "999990020"), ziekmelding(5, "999990032")])
    results = pull_all(client, engine, page_size=10)
    assert [gap for r in results for gap in r.gaps] == [(3, 4)]


def test_find_gaps():
    assert find_gaps(0, [1, 2, 3]) == []
    assert find_gaps(10, [12, 13, 17]) == [(11, 11), (14, 16)]
    assert find_gaps(5, []) == []


HOSTILE_PAYLOADS = {
    "external entity": b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><s>&x;</s>',
    "billion laughs": b'<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><l>&b;&b;</l>',
    "oversized": b"<Signaal>" + b"x" * (70 * 1024) + b"</Signaal>",
    "wrong encoding": '<?xml version="1.0" encoding="UTF-16"?><Signaal/>'.encode("utf-16"),
    "not xml": b"%PDF-1.7 this is not a signal",
    "deep nesting": b"<a>" * 5000 + b"</a>" * 5000,
    "wrong element": b'<Signaal xmlns="urn:other"><BerichtId>X</BerichtId></Signaal>',
}


def test_hostile_messages_are_quarantined_each_with_a_reason_and_the_batch_goes_on(engine):
    from mappings.ib_signal import fields_to_signal_element
    from lxml import etree

    good = [etree.tostring(fields_to_signal_element(ziekmelding(n, bsn)), method="c14n", exclusive=True)
            for n, bsn in ((1, "999990019"), (2, "999990020"))]
    with store.session_scope(engine) as s:
        store.add_raw(s, source="ib", payload=good[0], received_at=NOW)
        for payload in HOSTILE_PAYLOADS.values():
            store.add_raw(s, source="ib", payload=payload, received_at=NOW)
        store.add_raw(s, source="ib", payload=good[1], received_at=NOW)
    batch = process_inbox_batch(engine, source="ib", limit=100, today=TODAY)
    assert (batch.claimed, batch.cases_created, batch.quarantined) == (len(HOSTILE_PAYLOADS) + 2, 2, len(HOSTILE_PAYLOADS))
    with store.session_scope(engine) as s:
        reasons = [q.reason for q in store.list_quarantine(s)]
    assert len(reasons) == len(HOSTILE_PAYLOADS) and all(len(r) > 10 for r in reasons)
    assert not any("root:" in r or "interne fout" in r for r in reasons)  # refused on purpose, not by accident
