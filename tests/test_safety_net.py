"""Suwinet safety net: a changed DatEersteAoDag and an ended ZW relation become the same events a signal
would, through the real Suwinet simulator (mutual TLS + 2W-be-S) and the real inbox; nothing twice."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from lxml import etree

import store
from flows.partners import demo_suwinet_environment
from flows.runtime import suwinet_client
from flows.settings import Settings
from mappings.ib_signal import fields_to_signal_element
from rules.safety_net import CaseFacts, ZwRelation, derived_signals, reden_einde_van
from services.intake import process_inbox_batch
from services.safety_net import check_batch
from simulators.certs import generate_test_pki, server_ssl_context
from simulators.harness import SimServer
from simulators.suwinet import SuwinetSimulator
from simulators.ib import SimSecurity

TODAY = date(2027, 3, 1)
NOW = datetime(2027, 3, 1, 11, tzinfo=timezone.utc)
BSN = "999990019"
FACTS = CaseFacts(case_id=1, ref="VN-000001", bsn=BSN, gemeentecode="0518", eerste_ziektedag=date(2027, 1, 4),
                  datum_melding=date(2027, 1, 14), datum_einde_dienstverband=None, ziekmelding_bericht_id="SN-1")


def test_rule_nothing_changed_nothing_derived():
    assert derived_signals(FACTS, eerste_ao_dag=date(2027, 1, 4), zw=[ZwRelation(None, None)], today=TODAY) == []
    assert derived_signals(FACTS, eerste_ao_dag=None, zw=[], today=TODAY) == []


def test_rule_future_end_is_not_an_end_yet():
    assert derived_signals(FACTS, eerste_ao_dag=None, zw=[ZwRelation(TODAY + timedelta(days=1), "Herstel")],
                           today=TODAY) == []


@pytest.mark.parametrize("text,code", [("Herstel", "HERSTEL"), ("Overlijden", "OVERLIJDEN"),
                                       ("Maximale uitkeringsduur bereikt", "MAX_DUUR"), (None, "OVERIG"),
                                       ("Toekenning WIA", "WIA"), ("iets anders", "OVERIG")])
def test_reason_mapping(text, code):
    assert reden_einde_van(text).value == code


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return generate_test_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def suwinet(pki, monkeypatch):
    sim = SuwinetSimulator([], {BSN: {"eerste_ao_dag": "2027-01-04"}}, security=SimSecurity.from_pki(pki))
    with SimServer(sim, tls=server_ssl_context(pki)):
        for name, value in demo_suwinet_environment(sim.reintegratie_endpoint, sim.werknemersverzekeringen_endpoint,
                                                    pki).items():
            monkeypatch.setenv(name, value)
        client = suwinet_client(Settings(_env_file=None))
        yield sim, client.werknemersverzekeringen


def open_case(engine):
    fields = {"bericht_id": "SN-1", "volgnummer": 1, "soort": "ZIEKMELDING_VANGNETTER", "bsn": BSN,
              "gemeentecode": "0518", "eerste_ziektedag": "2027-01-04", "datum_melding": "2027-01-14",
              "wettelijke_grondslag": "ZW_38_2"}
    with store.session_scope(engine) as s:
        store.add_raw(s, source="ib", received_at=NOW,
                      payload=etree.tostring(fields_to_signal_element(fields), method="c14n", exclusive=True))
    process_inbox_batch(engine, source="ib", limit=10, today=TODAY)


def case_state(engine):
    with store.session_scope(engine) as s:
        case = store.get_case(s, "VN-000001")
        steps = {st.stap.value: st.datum for st in store.steps_for(s, case)}
        return case.status.value, case.eerste_ziektedag, case.closed_on, steps


def test_changed_first_sick_day_corrects_the_case_once(suwinet, engine):
    sim, lookup = suwinet
    open_case(engine)
    assert check_batch(engine, lookup, gemeentecode="0518", after_id=0, limit=10, today=TODAY, now=NOW).derived == 0
    sim.update_wv(BSN, eerste_ao_dag="2026-12-28")
    result = check_batch(engine, lookup, gemeentecode="0518", after_id=0, limit=10, today=TODAY, now=NOW)
    assert (result.asked, result.derived, result.processed.signals_new) == (1, 1, 1)
    status, d, _, steps = case_state(engine)
    assert (status, d) == ("OPEN", date(2026, 12, 28))
    assert steps["herijking_1"] == date(2026, 12, 28) + timedelta(weeks=26)
    again = check_batch(engine, lookup, gemeentecode="0518", after_id=0, limit=10, today=TODAY, now=NOW)
    assert again.derived == 0 and again.processed.signals_new == 0  # asked again: nothing doubled


def test_ended_zw_relation_closes_the_case(suwinet, engine):
    sim, lookup = suwinet
    open_case(engine)
    sim.update_wv(BSN, einde_uitkering="2027-02-20", reden_einde="Herstel")
    result = check_batch(engine, lookup, gemeentecode="0518", after_id=0, limit=10, today=TODAY, now=NOW)
    assert result.derived == 1
    status, _, closed_on, _ = case_state(engine)
    assert (status, closed_on) == ("GESLOTEN", date(2027, 2, 20))
    assert check_batch(engine, lookup, gemeentecode="0518", after_id=0, limit=10, today=TODAY, now=NOW).asked == 0  # closed: not asked


def test_one_failing_lookup_does_not_stop_the_batch(engine):
    open_case(engine)

    def broken(bsn):
        raise RuntimeError("suwinet down")

    result = check_batch(engine, broken, gemeentecode="0518", after_id=0, limit=10, today=TODAY, now=NOW)
    assert (result.asked, result.failed, result.derived) == (1, 1, 0)


def test_cases_of_another_gemeente_are_not_looked_up(engine):
    open_case(engine)
    asked = []
    result = check_batch(engine, lambda bsn: asked.append(bsn), gemeentecode="0363", after_id=0, limit=10,
                         today=TODAY, now=NOW)
    assert result.asked == 0 and asked == []
