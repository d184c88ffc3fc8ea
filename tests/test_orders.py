"""Orders to providers (services.orders) on SQLite and PostgreSQL: numbers, prices as of the start,
reports owed, re-runs, refusals, and ending orders when the case closes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

import store
from flows.runtime import DEMO_CONTRACTS
from mappings.provider_contract import load_contract
from rules.wvp import wvp_calendar
from schemas.case import Besluit, CaseStatus
from services.orders import (
    OrderError,
    create_default_arbo_order,
    create_order,
    end_orders_for_closed_cases,
    list_orders,
    order_detail,
    record_report,
)

ARBO = load_contract(DEMO_CONTRACTS / "arbodienst-demo.json")
REINTEGRATIE = load_contract(DEMO_CONTRACTS / "reintegratie-demo.json")
D_ZIEK = date(2027, 1, 4)  # end of wachttijd D + 728 = 2029-01-01, so the WIA report is due 2028-10-01
OPENED = date(2027, 3, 1)
BSN = "999990019"


def open_case(engine, *, bsn: str = BSN, besluit: Besluit | None = Besluit.OVERNAME) -> str:
    """A taken-over case of gemeente 0518 with its WVP calendar; returns its reference."""
    with store.session_scope(engine) as s:
        case = store.create_case(s, gemeentecode="0518", bsn=bsn, eerste_ziektedag=D_ZIEK, datum_ontvangst=OPENED,
                                 opened_on=OPENED, besluit=besluit, status=CaseStatus.OPEN)
        store.replace_steps(s, case, wvp_calendar(D_ZIEK, datum_ontvangst=OPENED))
        return case.ref


def reports(engine, number: str) -> list[tuple[str, date, date | None]]:
    return [(r.kind, r.due_date, r.received_on) for r in order_detail(engine, number).reports]


def audit(engine, ref: str, action: str) -> list[dict]:
    with store.session_scope(engine) as s:
        return [e.details for e in store.audit_for_case(s, store.get_case(s, ref).id) if e.action == action]


def test_regie_order_priced_as_of_the_start_year_and_a_rerun_makes_no_second(engine):
    ref = open_case(engine)
    request = dict(case_ref=ref, contract=ARBO, kind="regie", today=date(2027, 3, 2), start=date(2027, 3, 2),
                   hours={"bedrijfsarts": D("3"), "casemanager": D("10")}, by="inkoper-1")
    order = create_order(engine, **request)
    assert (order.order_number, order.created, order.status) == ("OPD-0518-000001-01", True, "LOPEND")
    # 2027 rates: 240.00 × 1.031 = 247.44, 125.00 × 1.031 = 128.875 → 128.88
    assert order.roles == {"bedrijfsarts": D("247.44"), "casemanager": D("128.88")}
    assert order.budget_hours == {"bedrijfsarts": D("3"), "casemanager": D("10")} and order.budget_amount is None
    assert order.value_excl_vat == D("2031.12")  # 3 × 247.44 + 10 × 128.88
    assert order.end_date is None and reports(engine, order.order_number) == []  # the arbodienst owes none

    again = create_order(engine, **request)
    assert (again.order_number, again.created) == ("OPD-0518-000001-01", False)
    assert [o.order_number for o in list_orders(engine, ref)] == ["OPD-0518-000001-01"]
    with pytest.raises(OrderError, match="al opdracht OPD-0518-000001-01 .* andere inhoud"):
        create_order(engine, **{**request, "hours": {"bedrijfsarts": D("5")}})

    more = create_order(engine, **{**request, "start": date(2027, 6, 1), "hours": {"casemanager": D("4.5")}})
    assert (more.order_number, more.roles) == ("OPD-0518-000001-02", {"casemanager": D("128.88")})

    created = audit(engine, ref, "order.created")
    assert len(created) == 2 and created[0] == {
        "order_number": "OPD-0518-000001-01", "provider_id": "kvk:90000001", "kind": "regie", "start": "2027-03-02",
        "einde": None, "traject": None, "uren": {"bedrijfsarts": "3", "casemanager": "10"}, "bedrag": None,
        "tarieven": {"bedrijfsarts": "247.44", "casemanager": "128.88"}, "rapportages": 0}
    assert BSN not in str(created)


def test_traject_order_fixed_price_end_and_reports_with_the_wia_report_from_the_case(engine):
    ref = open_case(engine)
    order = create_order(engine, case_ref=ref, contract=REINTEGRATIE, kind="traject", today=date(2028, 1, 5),
                         start=date(2028, 1, 10), traject="2e-spoor-12", by="inkoper-1")
    # 2028 price: 4800.00 × 1.031 = 4948.80, × 1.025 = 5072.52; rates 135 → 139.19 → 142.67, 115 → 118.57 → 121.53
    assert (order.budget_amount, order.budget_hours, order.end_date) == (D("5072.52"), None, date(2029, 1, 10))
    assert order.roles == {"arbeidsdeskundige": D("142.67"), "re-integratieconsulent": D("121.53")}
    assert reports(engine, order.order_number) == [
        ("START", date(2028, 3, 6), None),  # 2028-01-10 + 8 weeks (2028 is a leap year)
        ("VOORTGANG", date(2028, 3, 10), None), ("VOORTGANG", date(2028, 5, 10), None),
        ("VOORTGANG", date(2028, 7, 10), None), ("VOORTGANG", date(2028, 9, 10), None),
        ("WIA", date(2028, 10, 1), None),  # end of wachttijd 2029-01-01 − 3 months
        ("VOORTGANG", date(2028, 11, 10), None),
        ("AFRONDING", date(2029, 1, 10), None),
    ]
    again = create_order(engine, case_ref=ref, contract=REINTEGRATIE, kind="traject", today=date(2028, 1, 6),
                         start=date(2028, 1, 10), traject="2e-spoor-12", by="inkoper-2")
    assert (again.order_number, again.created) == (order.order_number, False)
    with pytest.raises(OrderError, match="andere inhoud"):
        create_order(engine, case_ref=ref, contract=REINTEGRATIE, kind="traject", today=date(2028, 1, 6),
                     start=date(2028, 1, 10), traject="2e-spoor-6", by="inkoper-2")


def test_refusals_say_why_and_make_nothing(engine):
    ref = open_case(engine)
    undecided = open_case(engine, bsn="999990020", besluit=None)
    base = dict(case_ref=ref, contract=REINTEGRATIE, kind="regie", today=date(2027, 3, 2), start=date(2027, 3, 2),
                hours={"arbeidsdeskundige": D("4")}, by="x")
    cases = [
        ({"case_ref": "VN-000099"}, "er is geen zaak 'VN-000099'"),
        ({"hours": {"bedrijfsarts": D("3")}}, "kvk:90000002 (Re-integratiebedrijf Demo B.V.) levert geen 'bedrijfsarts'"),
        ({"kind": "traject", "hours": None, "traject": "3e-spoor"}, "kent het traject '3e-spoor' niet"),
        ({"start": date(2027, 2, 28)}, "ligt voor de opening van zaak VN-000001 (2027-03-01)"),
        ({"case_ref": undecided}, "(nog) niet overgenomen"),
        ({"hours": {"arbeidsdeskundige": D("-1")}}, "groter dan 0"),
        ({"kind": "advies"}, "ongeldige opdracht: kind"),
    ]
    for overrides, reason in cases:
        with pytest.raises(OrderError) as caught:
            create_order(engine, **{**base, **overrides})
        assert reason in str(caught.value), str(caught.value)
    with store.session_scope(engine) as s:
        store.close_case(s, store.get_case(s, ref), on=date(2027, 3, 10), reason="hersteld")
    with pytest.raises(OrderError, match="zaak VN-000001 is gesloten op 2027-03-10"):
        create_order(engine, **{**base, "start": date(2027, 3, 11)})
    assert list_orders(engine) == []


def test_default_arbo_order_once_per_case(engine):
    ref = open_case(engine)
    first = create_default_arbo_order(engine, ref, ARBO, date(2027, 3, 2), "vangnet/takeover")
    assert (first.order_number, first.start_date, first.kind, first.created) == (
        "OPD-0518-000001-01", date(2027, 3, 2), "regie", True)
    assert first.budget_hours == {"bedrijfsarts": D("3"), "casemanager": D("10")}
    later = create_default_arbo_order(engine, ref, ARBO, date(2027, 3, 9), "vangnet/takeover")
    assert (later.order_number, later.created) == (first.order_number, False)
    with pytest.raises(OrderError, match="levert geen 'bedrijfsarts'"):  # not an arbodienst
        create_default_arbo_order(engine, ref, REINTEGRATIE, date(2027, 3, 2), "vangnet/takeover")


def test_the_orders_task_reads_only_taken_over_cases_without_the_arbodienst_order(engine, monkeypatch):
    from flows.orders import order_for_new_cases
    from services import orders as order_service

    done, todo = open_case(engine), open_case(engine, bsn="999990020")
    open_case(engine, bsn="999990032", besluit=Besluit.HANDMATIG)
    create_default_arbo_order(engine, done, ARBO, date(2027, 3, 2), "vangnet/takeover")
    asked: list[str] = []
    real = order_service.create_default_arbo_order
    monkeypatch.setattr(order_service, "create_default_arbo_order",
                        lambda engine, ref, *a, **kw: asked.append(ref) or real(engine, ref, *a, **kw))
    assert order_for_new_cases.fn(engine, ARBO, date(2027, 3, 3)) == 1
    assert asked == [todo]
    assert order_for_new_cases.fn(engine, ARBO, date(2027, 3, 4)) == 0 and asked == [todo]


def test_reports_received_and_orders_ended_when_the_case_closes(engine):
    ref = open_case(engine)
    other = open_case(engine, bsn="999990020")
    traject = create_order(engine, case_ref=ref, contract=REINTEGRATIE, kind="traject", today=date(2027, 3, 15),
                           start=date(2027, 3, 15), traject="2e-spoor-6", by="x")
    regie = create_default_arbo_order(engine, ref, ARBO, date(2027, 3, 2), "x")
    untouched = create_default_arbo_order(engine, other, ARBO, date(2027, 3, 2), "x")
    n = traject.order_number
    assert (traject.end_date, traject.budget_amount) == (date(2027, 9, 15), D("3608.50"))  # 3500 × 1.031
    assert [(k, d) for k, d, _ in reports(engine, n)] == [
        ("START", date(2027, 5, 10)), ("VOORTGANG", date(2027, 5, 15)), ("VOORTGANG", date(2027, 7, 15)),
        ("AFRONDING", date(2027, 9, 15))]  # no progress report on the end date; WIA (2028-10-01) is after it

    line = record_report(engine, n, "start", date(2027, 5, 10), date(2027, 5, 12), "casemanager-1", today=date(2027, 5, 12))
    assert (line.kind, line.received_on) == ("START", date(2027, 5, 12))
    record_report(engine, n, "START", date(2027, 5, 10), date(2027, 5, 12), "casemanager-1")  # same again: nothing
    for args, reason in [
        (("EIND", date(2027, 5, 10), date(2027, 5, 12)), "onbekende soort rapportage 'EIND'"),
        (("VOORTGANG", date(2027, 5, 10), date(2027, 5, 12)), "geen rapportage VOORTGANG op 2027-05-10; wel op: "
                                                              "2027-05-15, 2027-07-15"),
        (("START", date(2027, 5, 10), date(2027, 5, 13)), "al ontvangen op 2027-05-12"),
        (("VOORTGANG", date(2027, 5, 15), date(2027, 3, 1)), "voor de start van de opdracht"),
        (("VOORTGANG", date(2027, 5, 15), date(2027, 6, 1)), "in de toekomst"),
    ]:
        with pytest.raises(OrderError) as caught:
            record_report(engine, n, *args, "x", today=date(2027, 5, 20))
        assert reason in str(caught.value), str(caught.value)
    assert len(audit(engine, ref, "order.report_received")) == 1

    with store.session_scope(engine) as s:
        store.close_case(s, store.get_case(s, ref), on=date(2027, 7, 1), reason="hersteld")
    assert end_orders_for_closed_cases(engine) == [n, regie.order_number]
    assert end_orders_for_closed_cases(engine) == []  # once
    ended = order_detail(engine, n)
    assert (ended.order.status, ended.order.end_date) == ("BEEINDIGD", date(2027, 7, 1))
    assert reports(engine, n) == [("START", date(2027, 5, 10), date(2027, 5, 12)),
                                  ("VOORTGANG", date(2027, 5, 15), None)]  # due before closing: kept
    assert order_detail(engine, regie.order_number).order.end_date == date(2027, 7, 1)
    assert order_detail(engine, untouched.order_number).order.status == "LOPEND"
    with pytest.raises(OrderError, match="al beëindigd op 2027-07-01"):
        create_order(engine, case_ref=ref, contract=REINTEGRATIE, kind="traject", today=date(2027, 3, 15),
                     start=date(2027, 3, 15), traject="2e-spoor-6", by="x")
    assert audit(engine, ref, "order.ended")[0] == {
        "order_number": n, "provider_id": "kvk:90000002", "einde": "2027-07-01", "reden": "zaak gesloten",
        "vervallen_rapportages": 2}


def test_a_number_taken_meanwhile_is_retried_and_a_raced_same_request_is_returned(engine, monkeypatch):
    """Two requests at once read the same next nn; the unique order number lets one win. The loser takes
    the next number, or, when it was the same request, returns the winner's order."""
    import services.orders as orders

    ref = open_case(engine)
    first = create_default_arbo_order(engine, ref, ARBO, date(2027, 3, 2), "x")
    real_numbers, real_same = store.order_numbers_of_case, store.find_same_order
    calls = {"numbers": 0, "same": 0}

    def stale_numbers(session, case_id):  # the first read misses the order made "meanwhile"
        calls["numbers"] += 1
        return [] if calls["numbers"] == 1 else real_numbers(session, case_id)

    def stale_same(session, **key):
        calls["same"] += 1
        return None if calls["same"] == 1 else real_same(session, **key)

    monkeypatch.setattr(orders.store, "order_numbers_of_case", stale_numbers)
    other = create_order(engine, case_ref=ref, contract=REINTEGRATIE, kind="regie", today=date(2027, 3, 2),
                         start=date(2027, 3, 2), hours={"arbeidsdeskundige": D("4")}, by="x")
    assert (other.order_number, other.created) == ("OPD-0518-000001-02", True)

    calls["numbers"] = 0
    monkeypatch.setattr(orders.store, "find_same_order", stale_same)
    raced = create_order(engine, case_ref=ref, contract=ARBO, kind="regie", today=date(2027, 3, 2),
                         start=date(2027, 3, 2), hours={"bedrijfsarts": D("3"), "casemanager": D("10")}, by="x")
    assert (raced.order_number, raced.created) == (first.order_number, False)
    assert len(list_orders(engine, ref)) == 2
