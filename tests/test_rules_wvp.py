"""WVP calendar: dates worked out by hand from domain.md §5, plus property tests on its invariants."""

from datetime import date, timedelta

from hypothesis import given, strategies as st

from rules.wvp import eerste_ziektedag_van, wvp_calendar
from schemas.case import Stap

D = date(2027, 1, 4)


def by_stap(termijnen):
    return {t.stap: t for t in termijnen}


def test_calendar_on_time_matches_the_law():
    cal = by_stap(wvp_calendar(D, datum_ontvangst=date(2027, 2, 1), datum_melding=date(2027, 1, 14)))
    expected = {
        Stap.RIV_WERKGEVER: date(2027, 2, 1),  # asked for at intake
        Stap.PROBLEEMANALYSE: date(2027, 2, 15),  # D + 42
        Stap.PLAN_VAN_AANPAK: date(2027, 3, 1),  # + 14
        Stap.HERIJKING_1: date(2027, 7, 5),  # week 26
        Stap.HERIJKING_2: date(2028, 1, 3),  # week 52
        Stap.HERIJKING_3: date(2028, 7, 3),  # week 78
        Stap.UWV_WIA_BRIEF: date(2028, 9, 18),  # week 89
        Stap.RIV: date(2028, 10, 2),  # week 91
        Stap.WIA_AANVRAAG: date(2028, 10, 16),  # week 93
        Stap.EINDE_WACHTTIJD: date(2029, 1, 1),  # week 104
        Stap.EZWB_VENSTER: date(2027, 11, 8),  # week 44
    }
    assert {stap: t.datum for stap, t in cal.items()} == expected
    assert not any(t.onverwijld for t in cal.values())
    assert cal[Stap.EZWB_VENSTER].tot == date(2028, 1, 3)
    assert not cal[Stap.UWV_WIA_BRIEF].gemeente_verantwoordelijk


def test_late_melding_makes_probleemanalyse_onverwijld_at_intake():
    # UWV's report lies after D+42 although the signal itself comes in on day 50.
    intake = D + timedelta(days=50)
    cal = by_stap(wvp_calendar(D, datum_ontvangst=intake, datum_melding=D + timedelta(days=43)))
    pa = cal[Stap.PROBLEEMANALYSE]
    assert pa.onverwijld and pa.datum == intake and pa.wettelijke_datum == D + timedelta(days=42)
    assert cal[Stap.PLAN_VAN_AANPAK].datum == intake + timedelta(days=14)


def test_melding_late_but_signal_early_is_still_onverwijld():
    # datum_melding after D+42 can only happen with an arrival after it, but the rule names both.
    cal = by_stap(wvp_calendar(D, datum_ontvangst=D + timedelta(days=44), datum_melding=D + timedelta(days=44)))
    assert cal[Stap.PROBLEEMANALYSE].onverwijld


def test_exactly_day_42_is_not_late():
    cal = by_stap(wvp_calendar(D, datum_ontvangst=D + timedelta(days=42), datum_melding=D + timedelta(days=42)))
    assert not cal[Stap.PROBLEEMANALYSE].onverwijld
    assert cal[Stap.PROBLEEMANALYSE].datum == D + timedelta(days=42)


def test_steps_past_at_intake_are_due_at_intake_never_in_the_past():
    intake = D + timedelta(weeks=60)
    cal = by_stap(wvp_calendar(D, datum_ontvangst=intake))
    for stap in (Stap.HERIJKING_1, Stap.HERIJKING_2, Stap.PROBLEEMANALYSE):
        assert cal[stap].onverwijld and cal[stap].datum == intake
    assert not cal[Stap.HERIJKING_3].onverwijld and cal[Stap.HERIJKING_3].datum == D + timedelta(weeks=78)


def test_plan_van_aanpak_moves_with_the_real_probleemanalyse():
    cal = by_stap(wvp_calendar(D, datum_ontvangst=D + timedelta(days=10), probleemanalyse_gedaan=D + timedelta(days=30)))
    assert cal[Stap.PLAN_VAN_AANPAK].datum == D + timedelta(days=44)


@given(
    d=st.dates(min_value=date(2017, 1, 1), max_value=date(2035, 12, 31)),
    delay=st.integers(min_value=0, max_value=800),
    melding_delay=st.integers(min_value=0, max_value=800),
)
def test_calendar_invariants(d, delay, melding_delay):
    intake = d + timedelta(days=delay)
    melding = d + timedelta(days=min(melding_delay, delay))
    cal = wvp_calendar(d, datum_ontvangst=intake, datum_melding=melding)
    assert [t.stap for t in cal] == list(Stap)
    for t in cal:
        assert t.datum >= intake or not t.onverwijld
        assert t.datum >= t.wettelijke_datum
        assert t.onverwijld == (t.datum != t.wettelijke_datum) or t.stap in (Stap.PROBLEEMANALYSE,)
        if t.wettelijke_datum < intake:
            assert t.onverwijld and t.datum == intake
    by = by_stap(cal)
    assert by[Stap.PLAN_VAN_AANPAK].datum == by[Stap.PROBLEEMANALYSE].datum + timedelta(days=14)
    assert by[Stap.EINDE_WACHTTIJD].wettelijke_datum - d == timedelta(days=728)


def test_periods_less_than_four_weeks_apart_count_as_one():
    first = date(2027, 1, 4)
    # recovered 2027-02-01, ill again 27 days later: one period, D stays the first day
    assert eerste_ziektedag_van([(first, date(2027, 2, 1)), (date(2027, 2, 28), None)]) == first
    # 28 days later: a new period
    assert eerste_ziektedag_van([(first, date(2027, 2, 1)), (date(2027, 3, 1), None)]) == date(2027, 3, 1)
    # order of input doesn't matter; three linked periods
    periods = [(date(2027, 3, 10), None), (first, date(2027, 2, 1)), (date(2027, 2, 20), date(2027, 3, 1))]
    assert eerste_ziektedag_van(periods) == first
