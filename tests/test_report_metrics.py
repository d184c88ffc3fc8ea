"""The management report's numbers (rules.report_metrics) on hand-built rows: every expected count is the
number of rows built for that outcome, every boundary is tested from both sides."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from rules.report_metrics import (
    STEP_CATEGORIES,
    WEEK_BUCKETS,
    CaseRow,
    ConsultRow,
    InvoiceRow,
    LadderRow,
    OrderRow,
    Period,
    StepRow,
    approved_cost,
    caseload,
    consults,
    costs,
    invoice_verdicts,
    ladder,
    lead_times,
    nearest_rank,
    order_budget,
    trede_on,
    wvp_steps,
)

MARCH = Period(2027, 3)
D = date.fromisoformat


def case(case_id=1, opened="2027-01-10", closed=None, received=None, d=None, taken_over=None) -> CaseRow:
    return CaseRow(case_id=case_id, opened_on=D(opened), closed_on=D(closed) if closed else None,
                   datum_ontvangst=D(received or opened), eerste_ziektedag=D(d) if d else None,
                   taken_over_on=D(taken_over) if taken_over else None)


# -- period -----------------------------------------------------------------------------------------
def test_period_parses_bounds_and_steps_over_years():
    assert Period.parse("2027-03") == MARCH and Period.parse(" 2028-02 ").last == date(2028, 2, 29)
    assert (MARCH.first, MARCH.last, MARCH.label, MARCH.name) == (date(2027, 3, 1), date(2027, 3, 31), "2027-03",
                                                                    "maart 2027")
    assert Period(2027, 1).previous() == Period(2026, 12) and Period(2026, 12).shift(1) == Period(2027, 1)
    window = MARCH.trailing(12)
    assert len(window) == 12 and window[0] == Period(2026, 4) and window[-1] == MARCH
    assert date(2027, 3, 31) in MARCH and date(2027, 4, 1) not in MARCH and date(2027, 2, 28) not in MARCH
    assert Period.containing(date(2027, 4, 2)).previous() == MARCH


@pytest.mark.parametrize("text", ["2027-13", "2027-00", "2027-3", "maart", "2027/03", ""])
def test_period_refuses_what_is_not_a_month(text):
    with pytest.raises(ValueError, match="geen maand"):
        Period.parse(text)


# -- caseload ---------------------------------------------------------------------------------------
def test_caseload_counts_open_at_month_end_new_and_closed():
    rows = [
        case(1, opened="2027-01-31"),                        # open at end of Jan, Feb, Mar
        case(2, opened="2027-02-01", closed="2027-02-28"),   # closed on Feb's last day: not open then
        case(3, opened="2027-02-15", closed="2027-03-01"),   # open at end of Feb only
        case(4, opened="2027-03-31"),                        # opened on the last day: open at end of Mar
        case(5, opened="2027-04-01"),                        # after the period
        case(6, opened="2026-01-01", closed="2026-12-31"),   # closed before the window shown
    ]
    months = caseload(rows, MARCH, months=3).months
    assert [m.period.label for m in months] == ["2027-01", "2027-02", "2027-03"]
    assert [m.open_at_end for m in months] == [1, 2, 2]
    assert [m.new for m in months] == [1, 2, 1]
    assert [m.closed for m in months] == [0, 1, 1]


def test_caseload_of_nothing_is_empty_but_has_every_month():
    result = caseload([], MARCH)
    assert result.is_empty and len(result.table()) == 12
    assert result.table()[-1] == {"maand": "2027-03", "lopend op maandeinde": 0, "nieuw": 0, "gesloten": 0}


# -- lead times -------------------------------------------------------------------------------------
def test_nearest_rank_percentile():
    assert nearest_rank([], 90) is None
    assert nearest_rank([5], 90) == 5
    assert nearest_rank(range(1, 11), 90) == 9      # ceil(9.0) = 9th of 10
    assert nearest_rank(range(1, 12), 90) == 10     # ceil(9.9) = 10th of 11
    assert nearest_rank([3, 1, 2], 50) == 2


def test_lead_times_buckets_by_week_from_both_sides_of_each_edge():
    received = date(2027, 3, 15)
    days = [0, 13, 14, 41, 42, 55, 56, 90, 91, 181, 182, 363, 364, 500]
    rows = [CaseRow(i, received, None, received, received - timedelta(n), None) for i, n in enumerate(days)]
    result = lead_times(rows, MARCH)
    # edges in days: 14, 28, 42, 56, 91, 182, 364
    assert result.signal.histogram() == (2, 1, 1, 2, 2, 2, 2, 2)
    assert len(WEEK_BUCKETS) == 8 and sum(result.signal.histogram()) == len(days)
    assert result.signal.count == 14 and result.takeover.count == 0


def test_lead_times_only_for_cases_received_in_the_window_with_a_first_sick_day():
    rows = [
        case(1, received="2026-04-01", d="2026-03-02", taken_over="2026-04-03"),  # window's first day: in
        case(2, received="2026-03-31", d="2026-03-02", taken_over="2026-04-01"),  # day before: out
        case(3, received="2027-03-31", d="2027-03-01"),                          # last day, not taken over
        case(4, received="2027-04-01", d="2027-03-01", taken_over="2027-04-01"),  # after the period: out
        case(5, received="2026-12-01", d=None, taken_over="2026-12-02"),          # no first sick day: out
        case(6, received="2026-12-01", d="2026-11-01", taken_over="2026-12-10"),
    ]
    result = lead_times(rows, MARCH)
    assert result.signal.days == (30, 30, 30)  # 2026-03-02 -> 04-01, 2027-03-01 -> 03-31, 2026-11-01 -> 12-01
    assert result.takeover.days == (32, 39)  # case 1: 2026-03-02 -> 04-03; case 6: 11-01 -> 12-10
    assert result.signal.median == 30.0 and result.takeover.median == 35.5
    assert result.signal.p90 == 30 and result.takeover.p90 == 39
    assert result.window == (Period(2026, 4), MARCH)


def test_lead_times_table_has_buckets_then_count_median_p90():
    rows = [case(1, received="2027-03-10", d="2027-03-01", taken_over="2027-03-20")]
    table = lead_times(rows, MARCH).table()
    assert [r[""] for r in table[-3:]] == ["aantal zaken", "mediaan (dagen)", "90e percentiel (dagen)"]
    assert table[0] == {"": "0–2 wk", "signaal": 1, "overname": 0} and table[1]["overname"] == 1  # 19 d
    assert table[-2] == {"": "mediaan (dagen)", "signaal": 9.0, "overname": 19.0}
    assert lead_times([], MARCH).is_empty and lead_times([], MARCH).table()[-1]["signaal"] is None


# -- WVP steps --------------------------------------------------------------------------------------
def step(stap="probleemanalyse", due="2027-03-15", done=None, onverwijld=False, gemeente=True, closed=None):
    return StepRow(stap, D(due), D(done) if done else None, onverwijld, gemeente, D(closed) if closed else None)


def test_each_step_outcome_is_counted_once_in_its_category():
    built = {
        "op tijd": [step(done="2027-03-15"), step(done="2027-03-01"), step(done="2027-02-20")],
        "te laat gedaan": [step(done="2027-03-16"), step(done="2027-03-31")],
        "te laat, open": [step(), step(done="2027-04-01"), step(due="2027-03-01", closed="2027-03-20")],
        "onverwijld": [step(onverwijld=True, done="2027-03-15"), step(onverwijld=True)],
    }
    left_out = [
        step(gemeente=False),                                # UWV's step
        step(closed="2027-03-15"),                           # case closed on the due date, not done
        step(closed="2027-03-01"),                           # case closed before it was due
        step(due="2027-02-28"), step(due="2027-04-01"),      # outside the period
    ]
    result = wvp_steps([s for rows in built.values() for s in rows] + left_out, MARCH)
    assert dict(zip(STEP_CATEGORIES, result.totals())) == {k: len(v) for k, v in built.items()}
    assert [s.stap for s in result.steps] == ["probleemanalyse"]


def test_a_done_step_of_a_closed_case_still_counts():
    result = wvp_steps([step(done="2027-03-10", closed="2027-03-12")], MARCH)
    assert result.totals() == (1, 0, 0, 0)


def test_steps_come_in_calendar_order_with_a_total_row():
    rows = [step("herijking_1"), step("plan_van_aanpak", done="2027-03-01"), step("riv_werkgever_opvragen",
                                                                                    onverwijld=True)]
    table = wvp_steps(rows, MARCH).table()
    assert [r["stap"] for r in table] == ["riv_werkgever_opvragen", "plan_van_aanpak", "herijking_1", "totaal"]
    assert table[-1] == {"stap": "totaal", "op tijd": 1, "te laat gedaan": 0, "te laat, open": 1, "onverwijld": 1,
                         "totaal": 3}
    assert wvp_steps([], MARCH).is_empty and wvp_steps([], MARCH).table() == []


# -- consults ---------------------------------------------------------------------------------------
def test_consults_grouped_by_outcome_within_the_period():
    built = {"gehouden": ["GEHOUDEN", "AFGEROND", "AFGEROND"], "niet verschenen": ["NO_SHOW"],
             "geannuleerd": ["GEANNULEERD", "GEANNULEERD_DOOR_ARBODIENST"],
             "overig": ["TE_BOEKEN", "GEBOEKT", "CONTROLEREN", "IETS_NIEUWS"]}
    rows = [ConsultRow(status, date(2027, 3, 1 + i))
            for statuses in built.values() for i, status in enumerate(statuses)]
    rows += [ConsultRow("GEHOUDEN", date(2027, 2, 28)), ConsultRow("NO_SHOW", date(2027, 4, 1))]
    result = consults(rows, MARCH)
    assert result.counts == {k: len(v) for k, v in built.items()}
    assert result.no_show_pct == 25.0  # 1 of 3 held + 1 missed
    assert result.table()[1] == {"uitkomst": "niet verschenen", "aantal": 1}
    assert consults([], MARCH).is_empty and consults([], MARCH).no_show_pct is None


# -- costs ------------------------------------------------------------------------------------------
def order(order_id=1, provider="kvk:1", start="2027-01-01", end=None, amount=None, hours=None, roles=None):
    return OrderRow(order_id, provider, D(start), D(end) if end else None,
                    Decimal(amount) if amount else None, hours, roles or {"casemanager": "125.00"})


def invoice(order_id=1, verdict="APPROVED", billed="100.00", approved=None, received="2027-03-10", supplier="kvk:1"):
    return InvoiceRow(supplier, order_id, verdict, Decimal(billed), Decimal(approved) if approved else None,
                      D(received))


def test_order_budget_is_the_amount_else_hours_times_rate():
    assert order_budget(order(amount="4500")) == Decimal("4500.00")
    assert order_budget(order(amount="100", hours={"casemanager": "10"})) == Decimal("100.00")
    hours = {"bedrijfsarts": "1.5", "casemanager": "6"}
    roles = {"bedrijfsarts": "240.00", "casemanager": "125.00"}
    assert order_budget(order(hours=hours, roles=roles)) == Decimal("1110.00")  # 360 + 750
    assert order_budget(order(hours={"arbeidsdeskundige": "3"})) is None       # no rate for the role
    assert order_budget(order()) is None


def test_approved_cost_counts_partial_approvals_and_credit_notes():
    assert approved_cost(invoice(billed="250.00")) == Decimal("250.00")
    assert approved_cost(invoice(billed="500.00", approved="375.00")) == Decimal("375.00")
    assert approved_cost(invoice(billed="-125.00")) == Decimal("-125.00")
    assert approved_cost(invoice(billed="-300.00", approved="100.00")) == Decimal("-100.00")
    assert approved_cost(invoice(verdict="DISPUTED")) == 0 and approved_cost(invoice(verdict="REJECTED")) == 0


def test_costs_per_provider_for_running_orders():
    orders = [
        order(1, "kvk:1", amount="1000"),
        order(2, "kvk:1", start="2026-01-01", end="2027-03-01", amount="500"),    # ends on the 1st: running
        order(3, "kvk:1", start="2026-01-01", end="2027-02-28", amount="9999"),   # ended before: out
        order(4, "kvk:2", start="2027-03-31"),                                    # starts last day, no budget
        order(5, "kvk:2", start="2027-04-01", amount="9999"),                     # starts after: out
    ]
    invoices = [
        invoice(1, billed="200.00", received="2027-02-01"),   # to date only
        invoice(1, billed="300.00"),                          # to date and in the period
        invoice(2, billed="-50.00", received="2027-03-31"),   # credit note
        invoice(2, verdict="DISPUTED", billed="70.00"),       # not approved
        invoice(1, billed="999.00", received="2027-04-01"),   # after the period
        invoice(3, billed="999.00"),                          # order not running
        invoice(None, billed="999.00"),                       # no order
        invoice(4, billed="40.00", supplier="kvk:2"),
    ]
    result = costs(orders, invoices, MARCH, {"kvk:1": "Arbo B", "kvk:2": "Aanbieder A"})
    assert [(p.provider, p.orders, p.budget, p.approved_to_date, p.approved_in_period, p.orders_without_budget)
            for p in result.providers] == [
        ("Aanbieder A", 1, Decimal("0.00"), Decimal("40.00"), Decimal("40.00"), 1),
        ("Arbo B", 2, Decimal("1500.00"), Decimal("450.00"), Decimal("250.00"), 0),
    ]
    assert result.providers[1].used_pct == 30.0 and result.providers[0].used_pct is None
    assert costs([], invoices, MARCH).is_empty


# -- invoices ---------------------------------------------------------------------------------------
def test_invoices_per_verdict_received_in_the_period():
    rows = [invoice(verdict="APPROVED", billed="100.00"), invoice(verdict="APPROVED", billed="-40.00"),
            invoice(verdict="DISPUTED", billed="70.00"), invoice(verdict="REJECTED", billed="10.00"),
            invoice(verdict="REJECTED", billed="20.00"), invoice(verdict="REJECTED", billed="30.00"),
            invoice(verdict="ONBEKEND", billed="5.00"),
            invoice(verdict="APPROVED", received="2027-02-28"), invoice(verdict="APPROVED", received="2027-04-01")]
    result = invoice_verdicts(rows, MARCH)
    assert result.counts == {"goedgekeurd": 2, "betwist": 1, "afgewezen": 3, "overig": 1}
    assert result.amounts == {"goedgekeurd": Decimal("60.00"), "betwist": Decimal("70.00"),
                              "afgewezen": Decimal("60.00"), "overig": Decimal("5.00")}
    assert result.table()[2] == {"oordeel": "afgewezen", "aantal": 3, "bedrag excl. btw": Decimal("60.00")}
    assert invoice_verdicts([], MARCH).is_empty


# -- ladder -----------------------------------------------------------------------------------------
def test_trede_on_takes_the_latest_entry_and_the_later_insert_on_one_day():
    entries = [LadderRow(1, 3, D("2027-01-01"), 1), LadderRow(1, 5, D("2027-03-05"), 3),
               LadderRow(1, 4, D("2027-03-05"), 2)]
    assert trede_on(entries, D("2026-12-31")) is None
    assert trede_on(entries, D("2027-03-04")) == 3
    assert trede_on(entries, D("2027-03-05")) == 5


def test_ladder_movement_and_distribution():
    cases = [case(i, opened="2026-06-01") for i in range(1, 7)]
    cases += [case(7, opened="2026-01-01", closed="2027-02-28"), case(8, opened="2027-04-01")]
    entries = [
        LadderRow(1, 2, D("2026-07-01"), 1), LadderRow(1, 4, D("2027-03-10"), 2),    # up
        LadderRow(2, 5, D("2027-02-28"), 3), LadderRow(2, 3, D("2027-03-01"), 4),    # down (from the day before)
        LadderRow(3, 3, D("2026-12-01"), 5),                                         # same
        LadderRow(4, 1, D("2027-03-31"), 6),                                         # new
        LadderRow(5, 6, D("2027-04-01"), 7),                                         # after: no trede yet
        LadderRow(7, 9, D("2027-01-01"), 8), LadderRow(8, 9, D("2027-03-01"), 9),    # cases not in March
    ]
    result = ladder(entries, cases, MARCH)
    assert result.moves == {"omhoog": 1, "gelijk": 1, "omlaag": 1, "nieuw ingeschaald": 1}
    assert result.distribution == (0, 1, 0, 2, 1, 0, 0, 0, 0, 0)
    table = result.table()
    assert table[0] == {"": "omhoog", "aantal": 1} and len(table) == 4 + 10
    assert table[4 + 3] == {"": "trede 3: deelname georganiseerde activiteiten", "aantal": 2}
    assert ladder([], cases, MARCH).is_empty
