"""Order rules: month arithmetic, report obligations, order numbers and request checks (pure)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from rules.orders import (
    add_months,
    order_number,
    order_seq,
    report_obligations,
    request_problems,
    start_window,
    traject_end,
)
from schemas.orders import ProviderContract, ReportKind, ReportRules

RULES = ReportRules(start_weken=(6, 8), wia_maanden_voor_einde_wachttijd=3, voortgang_maanden=2, afronding=True)
S, W, V, A = ReportKind.START, ReportKind.WIA, ReportKind.VOORTGANG, ReportKind.AFRONDING


def test_month_arithmetic_clamps_to_the_last_day_of_the_month():
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)  # leap year
    assert add_months(date(2027, 8, 31), -6) == date(2027, 2, 28)
    assert add_months(date(2027, 12, 31), 2) == date(2028, 2, 29)  # across the year
    assert add_months(date(2027, 3, 15), 12) == date(2028, 3, 15)
    assert add_months(date(2028, 5, 29), -3) == date(2028, 2, 29)
    assert traject_end(date(2027, 8, 31), 6) == date(2028, 2, 29)


def test_traject_of_a_year_with_the_wia_report_inside():
    # D 2026-06-01 → end of wachttijd D + 728 = 2028-05-29; WIA report 3 months before: 2028-02-29.
    got = report_obligations(start=date(2027, 3, 15), end=date(2028, 3, 15), einde_wachttijd=date(2028, 5, 29),
                             rules=RULES)
    assert got == [
        (S, date(2027, 5, 10)),  # start + 8 weeks (56 days)
        (V, date(2027, 5, 15)), (V, date(2027, 7, 15)), (V, date(2027, 9, 15)), (V, date(2027, 11, 15)),
        (V, date(2028, 1, 15)),  # 2028-03-15 is the end date itself: no progress report on it
        (W, date(2028, 2, 29)),
        (A, date(2028, 3, 15)),
    ]
    assert start_window(date(2027, 3, 15), RULES) == (date(2027, 4, 26), date(2027, 5, 10))


def test_progress_reports_count_from_the_start_so_month_ends_do_not_drift():
    got = report_obligations(start=date(2027, 12, 31), end=date(2028, 9, 1), einde_wachttijd=None,
                             rules=ReportRules(voortgang_maanden=2))
    assert got == [(V, date(2028, 2, 29)), (V, date(2028, 4, 30)), (V, date(2028, 6, 30)), (V, date(2028, 8, 31))]


def test_open_ended_order_runs_to_the_end_of_the_wachttijd_and_has_no_closing_report():
    got = report_obligations(start=date(2027, 3, 15), end=None, einde_wachttijd=date(2027, 9, 1), rules=RULES)
    assert got == [(S, date(2027, 5, 10)), (V, date(2027, 5, 15)), (W, date(2027, 6, 1)), (V, date(2027, 7, 15))]
    assert report_obligations(start=date(2027, 3, 15), end=None, einde_wachttijd=None, rules=RULES) == [
        (S, date(2027, 5, 10))]


def test_only_reports_within_the_order():
    # Ends after a month: no start report (due 2027-04-26), no progress; WIA (2027-02-01) lies before the start.
    got = report_obligations(start=date(2027, 3, 1), end=date(2027, 4, 1), einde_wachttijd=date(2027, 5, 1), rules=RULES)
    assert got == [(A, date(2027, 4, 1))]
    assert report_obligations(start=date(2027, 3, 1), end=date(2028, 3, 1), einde_wachttijd=None,
                              rules=ReportRules()) == []
    with pytest.raises(ValueError, match="voor de startdatum"):
        report_obligations(start=date(2027, 3, 1), end=date(2027, 2, 1), einde_wachttijd=None, rules=RULES)


def test_order_numbers():
    assert order_number("0518", 12, 1) == "OPD-0518-000012-01"
    assert order_seq("OPD-0518-000012-07") == 7
    assert order_seq("OPD-0518-000012-123") == 123
    assert order_seq("INKOOP-42") is None


CONTRACT = ProviderContract.model_validate({
    "provider_id": "kvk:90000002", "naam": "Re-integratie Demo", "basisjaar": 2026, "btw_pct": "21.00",
    "rollen": {"arbeidsdeskundige": "135.00", "re-integratieconsulent": "115.00"},
    "trajecten": {"2e-spoor-6": {"prijs": "3500.00", "maanden": 6}}})


def problems(**overrides) -> list[str]:
    request = dict(case_ref="VN-000001", contract=CONTRACT, kind="regie", start=date(2027, 3, 1), end=None,
                   hours={"arbeidsdeskundige": D("4")}, traject=None, case_opened_on=date(2027, 2, 1),
                   case_closed_on=None, taken_over=True, today=date(2027, 3, 1))
    return request_problems(**{**request, **overrides})


def test_a_good_request_has_no_problems():
    assert problems() == []
    assert problems(kind="traject", hours=None, traject="2e-spoor-6") == []
    assert problems(kind="traject", hours=None, traject="2e-spoor-6", end=date(2027, 9, 1)) == []


@pytest.mark.parametrize("overrides, reason", [
    ({"case_closed_on": date(2027, 2, 20)}, "zaak VN-000001 is gesloten op 2027-02-20"),
    ({"taken_over": False}, "(nog) niet overgenomen"),
    ({"start": date(2027, 1, 31)}, "ligt voor de opening van zaak VN-000001 (2027-02-01)"),
    ({"start": date(2028, 3, 2)}, "meer dan een jaar na vandaag"),
    ({"case_opened_on": date(2025, 1, 1), "start": date(2025, 12, 31)}, "geldt vanaf 2026"),
    ({"end": date(2027, 3, 1)}, "moet na de startdatum"),
    ({"hours": {"bedrijfsarts": D("3")}}, "levert geen 'bedrijfsarts'; het contract kent: arbeidsdeskundige, "
                                          "re-integratieconsulent"),
    ({"hours": {"arbeidsdeskundige": D("0")}}, "groter dan 0"),
    ({"hours": None}, "geef bij een opdracht op regiebasis de uren per rol"),
    ({"traject": "2e-spoor-6"}, "regiebasis heeft geen traject"),
    ({"kind": "traject", "hours": None, "traject": "2e-spoor-12"}, "kent het traject '2e-spoor-12' niet; wel: 2e-spoor-6"),
    ({"kind": "traject", "hours": None}, "kies een traject"),
    ({"kind": "traject", "traject": "2e-spoor-6"}, "vaste prijs: geef geen uren"),
    ({"kind": "traject", "hours": None, "traject": "2e-spoor-6", "end": date(2027, 8, 31)},
     "volgt uit de looptijd (6 maanden): 2027-09-01"),
    ({"kind": "consult"}, "onbekende soort opdracht"),
])
def test_request_problems_say_what_is_wrong(overrides, reason):
    found = problems(**overrides)
    assert any(reason in p for p in found), found
