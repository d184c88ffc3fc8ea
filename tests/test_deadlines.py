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
