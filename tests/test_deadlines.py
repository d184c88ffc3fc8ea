"""Deadline monitor: which steps are overdue or due within 14 days, and its Prefect artifact and alerts."""

from __future__ import annotations

from datetime import date, datetime, timezone

import httpx
import pytest
from prefect_fixtures import events_named
from lxml import etree

import store
from mappings.ib_signal import fields_to_signal_element
from rules.deadlines import deadline
from services.deadlines import deadlines_on
from services.intake import process_inbox_batch

INTAKE = datetime(2027, 3, 1, 11, tzinfo=timezone.utc)  # the cases are taken in on 2027-03-01


def take_in(engine, records: list[dict]) -> None:
    with store.session_scope(engine) as s:
        for r in records:
            xml = etree.tostring(fields_to_signal_element(r), method="c14n", exclusive=True)
            store.add_raw(s, source="ib", payload=xml, received_at=INTAKE)
    process_inbox_batch(engine, source="ib", limit=100, today=date(2027, 3, 1))


def ziek(n: int, bsn: str, d: str) -> dict:
    return {"bericht_id": f"DL-{n}", "volgnummer": n, "soort": "ZIEKMELDING_VANGNETTER", "bsn": bsn,
            "gemeentecode": "0518", "eerste_ziektedag": d, "wettelijke_grondslag": "ZW_38_2"}


def test_deadline_rule():
    assert deadline("VN-1", "riv", date(2027, 3, 1), date(2027, 3, 4)).dagen_te_laat == 3
    assert not deadline("VN-1", "riv", date(2027, 3, 5), date(2027, 3, 4)).te_laat


def test_overdue_and_due_soon_of_open_cases_only(engine):
    # Case 1: D 2027-01-04 → probleemanalyse onverwijld at intake 03-01, plan van aanpak 03-15.
    # Case 2: D 2027-02-08 → probleemanalyse 03-22, plan van aanpak 04-05.
    # Case 3: like case 1 but closed by a betermelding: nothing of it may show.
    take_in(engine, [ziek(1, "999990019", "2027-01-04"), ziek(2, "999990020", "2027-02-08"),
                     ziek(3, "999990032", "2027-01-04"),
                     {"bericht_id": "DL-4", "volgnummer": 4, "soort": "BETERMELDING", "bsn": "999990032",
                      "gemeentecode": "0518", "datum_herstel": "2027-02-20"}])
    items = deadlines_on(engine, today=date(2027, 3, 10))
    got = {(d.case_ref, d.stap): d.dagen_te_laat for d in items}
    assert got == {("VN-000001", "riv_werkgever_opvragen"): 9, ("VN-000001", "probleemanalyse"): 9,
                   ("VN-000001", "plan_van_aanpak"): 0,
                   ("VN-000002", "riv_werkgever_opvragen"): 9, ("VN-000002", "probleemanalyse"): 0}
    assert [d.dagen_te_laat for d in items] == sorted((d.dagen_te_laat for d in items), reverse=True)

    with store.session_scope(engine) as s:  # the probleemanalyse of case 1 is done: it drops out
        case = store.get_case(s, "VN-000001")
        next(st for st in store.steps_for(s, case) if st.stap.value == "probleemanalyse").done_on = date(2027, 3, 8)
    assert ("VN-000001", "probleemanalyse") not in {(d.case_ref, d.stap) for d in deadlines_on(engine, today=date(2027, 3, 10))}


@pytest.mark.prefect
def test_monitor_flow_publishes_artifact_and_alerts(prefect_server, tmp_path, monkeypatch):
    from flows.monitor import deadline_monitor_flow

    monkeypatch.setenv("VANGNET_HOME", str(tmp_path))
    url = f"sqlite:///{tmp_path / 'vangnet.db'}"
    store.upgrade(url)
    engine = store.make_engine(url)
    take_in(engine, [ziek(1, "999990019", "2027-01-04"), ziek(2, "999990020", "2027-02-08")])
    assert deadline_monitor_flow(run_date=date(2027, 3, 10)) == {"due_soon": 2, "overdue": 3}

    artifact = httpx.post(f"{prefect_server}/artifacts/filter", timeout=10,
                          json={"artifacts": {"key": {"any_": ["wvp-deadlines"]}}}).json()[0]
    assert "VN-000001" in str(artifact["data"]) and "999990019" not in str(artifact["data"])
    events = events_named(prefect_server, "vangnet.wvp.step-overdue", at_least=3)
    assert sorted((e["resource"]["prefect.resource.id"], e["payload"]["stap"]) for e in events) == [
        ("vangnet.case.VN-000001", "probleemanalyse"), ("vangnet.case.VN-000001", "riv_werkgever_opvragen"),
        ("vangnet.case.VN-000002", "riv_werkgever_opvragen")]


def test_missing_provider_reports_overdue_and_due_soon(engine):
    from test_orders import REINTEGRATIE, open_case

    from services.orders import create_order, end_orders_for_closed_cases, record_report

    ref = open_case(engine)
    number = create_order(engine, case_ref=ref, contract=REINTEGRATIE, kind="traject", today=date(2027, 3, 15),
                          start=date(2027, 3, 15), traject="2e-spoor-6", by="x").order_number
    # Reports owed: START 2027-05-10, VOORTGANG 2027-05-15 and 2027-07-15, AFRONDING 2027-09-15.

    def reports_on(today):
        return {(d.case_ref, d.stap, d.order_number): d.dagen_te_laat for d in deadlines_on(engine, today=today)
                if d.stap.startswith("rapportage:")}

    assert reports_on(date(2027, 4, 25)) == {}  # START due 2027-05-10: beyond the 14-day horizon (05-09)
    assert reports_on(date(2027, 5, 1)) == {(ref, "rapportage:START", number): 0,  # due soon
                                            (ref, "rapportage:VOORTGANG", number): 0}
    assert reports_on(date(2027, 5, 20)) == {(ref, "rapportage:START", number): 10,  # overdue
                                             (ref, "rapportage:VOORTGANG", number): 5}
    items = deadlines_on(engine, today=date(2027, 5, 20))
    assert [d.datum for d in items] == sorted(d.datum for d in items)  # WVP steps and reports in one order
    assert all(d.order_number is None for d in items if not d.stap.startswith("rapportage:"))

    record_report(engine, number, "START", date(2027, 5, 10), date(2027, 5, 19), "casemanager-1")
    assert reports_on(date(2027, 5, 20)) == {(ref, "rapportage:VOORTGANG", number): 5}

    with store.session_scope(engine) as s:  # the case closes: its order ends and nothing of it shows
        store.close_case(s, store.get_case(s, ref), on=date(2027, 5, 21), reason="hersteld")
    end_orders_for_closed_cases(engine)
    assert reports_on(date(2027, 5, 22)) == {}


def test_report_deadline_keeps_the_step_fields():
    from rules.deadlines import report_deadline

    d = report_deadline("VN-000001", "OPD-0518-000001-01", "WIA", date(2027, 3, 1), date(2027, 3, 4))
    assert (d.stap, d.dagen_te_laat, d.te_laat, d.order_number, d.gemeente_verantwoordelijk) == (
        "rapportage:WIA", 3, True, "OPD-0518-000001-01", True)
    assert deadline("VN-1", "riv", date(2027, 3, 1), date(2027, 3, 4)).order_number is None
