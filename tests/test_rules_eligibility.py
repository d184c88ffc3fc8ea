"""The takeover decision (domain.md §3) as pure rules: every boundary worked out by hand, plus properties."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings, strategies as st
from pydantic import ValidationError

from rules.eligibility import beslis_overname, jaren_eerder, overlapt, peildatum_van, venster_van
from schemas.case import Besluit
from schemas.lks import LksBron, LksPeriode

EIGEN, ANDER = "0518", "0344"
D = date(2025, 5, 12)  # eerste ziektedag
EINDE_DV = date(2025, 6, 30)  # einde dienstverband: the peildatum
VAN, TOT = date(2023, 6, 30), date(2025, 6, 30)  # its window, by hand


def lks(begin: date, einde: date | None = None, gemeente: str = EIGEN, bron: LksBron = LksBron.REGISTRATIE,
        pct: str | None = "45") -> LksPeriode:
    return LksPeriode(begin=begin, einde=einde, gemeentecode=gemeente, bron=bron,
                      loonwaarde_pct=Decimal(pct) if pct else None)


def beslis(*perioden: LksPeriode, einde_dv: date | None = EINDE_DV, d: date = D, signaal: str = EIGEN,
           woongemeente: str | None = None):
    return beslis_overname(eigen_gemeentecode=EIGEN, signaal_gemeentecode=signaal, eerste_ziektedag=d,
                           datum_einde_dienstverband=einde_dv, lks=list(perioden), woongemeente=woongemeente)


# --- reference date and window -----------------------------------------------------------------


def test_peildatum_is_einde_dienstverband_else_eerste_ziektedag():
    assert peildatum_van(D, EINDE_DV) == EINDE_DV
    assert peildatum_van(D, None) == D
    b = beslis(einde_dv=EINDE_DV)
    assert (b.peildatum, b.venster) == (EINDE_DV, (VAN, TOT))
    b = beslis(einde_dv=None)
    assert (b.peildatum, b.venster) == (D, (date(2023, 5, 12), D))


@pytest.mark.parametrize(("peildatum", "start"), [
    (date(2028, 2, 29), date(2026, 2, 28)),  # leap day: the earlier year has no 29 February
    (date(2026, 2, 28), date(2024, 2, 28)),  # not the 29th, although 2024 had one
    (date(2026, 3, 1), date(2024, 3, 1)),
    (date(2025, 1, 1), date(2023, 1, 1)),
    (date(2025, 12, 31), date(2023, 12, 31)),
])
def test_window_is_two_calendar_years_back(peildatum: date, start: date):
    assert venster_van(peildatum) == (start, peildatum)


def test_jaren_eerder_keeps_29_february_when_the_year_has_one():
    assert jaren_eerder(date(2024, 2, 29), 4) == date(2020, 2, 29)
    assert jaren_eerder(date(2024, 2, 29), 1) == date(2023, 2, 28)


# --- window boundaries (inclusive both ends) -----------------------------------------------------


@pytest.mark.parametrize(("einde", "code"), [
    (VAN - timedelta(days=1), Besluit.GEEN_LKS),  # 2023-06-29: the day before the window
    (VAN, Besluit.OVERNAME),  # 2023-06-30: ends exactly on the window start: counts
    (VAN + timedelta(days=1), Besluit.OVERNAME),
])
def test_lks_ending_around_the_window_start(einde: date, code: Besluit):
    assert beslis(lks(date(2020, 1, 1), einde)).code is code


@pytest.mark.parametrize(("begin", "code"), [
    (TOT - timedelta(days=1), Besluit.OVERNAME),
    (TOT, Besluit.OVERNAME),  # starts on the peildatum itself: counts
    (TOT + timedelta(days=1), Besluit.HANDMATIG),  # starts after it: does not overlap
])
def test_lks_starting_around_the_window_end(begin: date, code: Besluit):
    assert beslis(lks(begin, begin + timedelta(days=200))).code is code
    assert beslis(lks(begin, None)).code is code  # open-ended the same


def test_lks_starting_after_the_peildatum_does_not_count_and_goes_to_a_person():
    b = beslis(lks(date(2025, 7, 1), None))
    assert b.code is Besluit.HANDMATIG and b.lks_gevonden == ()
    assert "begint pas op 2025-07-01" in b.reden and "peildatum 2025-06-30" in b.reden
    assert "Controleer de datums" in b.reden


def test_window_from_eerste_ziektedag_when_there_is_no_end_of_employment():
    # Window [2023-05-12, 2025-05-12]
    assert beslis(lks(date(2020, 1, 1), date(2023, 5, 12)), einde_dv=None).code is Besluit.OVERNAME
    assert beslis(lks(date(2020, 1, 1), date(2023, 5, 11)), einde_dv=None).code is Besluit.GEEN_LKS
    # The same LKS against the end of employment 2025-06-30: window from 2023-06-30, too old.
    assert beslis(lks(date(2020, 1, 1), date(2023, 5, 12))).code is Besluit.GEEN_LKS
    b = beslis(lks(date(2020, 1, 1), date(2023, 5, 11)), einde_dv=None)
    assert "eerste ziektedag; geen einde dienstverband bekend" in b.reden


@pytest.mark.parametrize(("peildatum", "einde", "code"), [
    (date(2028, 2, 29), date(2026, 2, 27), Besluit.GEEN_LKS),
    (date(2028, 2, 29), date(2026, 2, 28), Besluit.OVERNAME),
    (date(2026, 2, 28), date(2024, 2, 27), Besluit.GEEN_LKS),
    (date(2026, 2, 28), date(2024, 2, 28), Besluit.OVERNAME),
    (date(2026, 3, 1), date(2024, 2, 29), Besluit.GEEN_LKS),
    (date(2026, 3, 1), date(2024, 3, 1), Besluit.OVERNAME),
])
def test_leap_day_boundaries(peildatum: date, einde: date, code: Besluit):
    assert beslis(lks(date(2019, 1, 1), einde), einde_dv=peildatum, d=peildatum - timedelta(days=30)).code is code


def test_open_ended_lks_that_began_long_ago_counts():
    b = beslis(lks(date(2015, 3, 1), None))
    assert b.code is Besluit.OVERNAME
    assert "vanaf 2015-03-01 (loopt nog)" in b.reden


# --- the outcomes and their reasons --------------------------------------------------------------


def test_overname_names_the_period_source_and_window():
    b = beslis(lks(date(2022, 1, 1), date(2024, 12, 31)))
    assert b.code is Besluit.OVERNAME
    assert b.reden == (
        "Overname: LKS van deze gemeente (0518) van 2022-01-01 t/m 2024-12-31 (registratie) valt in de twee jaar "
        "voor de peildatum 2025-06-30 (einde dienstverband), venster 2023-06-30 t/m 2025-06-30."
    )
    assert b.lks_gevonden == (lks(date(2022, 1, 1), date(2024, 12, 31)),)


def test_several_periods_one_overlapping_suffices_and_is_the_one_named():
    oud = lks(date(2016, 1, 1), date(2018, 12, 31))
    recent = lks(date(2023, 1, 1), date(2024, 1, 31), bron=LksBron.SUWINET)
    b = beslis(recent, oud)
    assert b.code is Besluit.OVERNAME
    assert b.lks_gevonden == (recent,)
    assert "van 2023-01-01 t/m 2024-01-31 (Suwinet) valt" in b.reden and "2016" not in b.reden


def test_several_overlapping_periods_are_all_named_in_order():
    a, b_ = lks(date(2024, 1, 1), None), lks(date(2022, 1, 1), date(2023, 12, 31))
    b = beslis(a, b_)
    assert b.code is Besluit.OVERNAME and b.lks_gevonden == (b_, a)
    assert "van 2022-01-01 t/m 2023-12-31 (registratie); vanaf 2024-01-01 (loopt nog) (registratie) vallen" in b.reden


def test_same_period_in_registration_and_suwinet_is_named_once():
    reg = lks(date(2022, 1, 1), date(2024, 12, 31))
    suw = lks(date(2022, 1, 1), date(2024, 12, 31), bron=LksBron.SUWINET)
    b = beslis(reg, suw)
    assert b.code is Besluit.OVERNAME and len(b.lks_gevonden) == 2
    assert "(registratie en Suwinet) valt" in b.reden and b.reden.count("2022-01-01") == 1


def test_geen_lks_gives_the_last_end_date_and_the_window():
    b = beslis(lks(date(2016, 1, 1), date(2019, 3, 31)), lks(date(2020, 1, 1), date(2021, 8, 15)))
    assert b.code is Besluit.GEEN_LKS and b.lks_gevonden == ()
    assert b.reden == (
        "Geen overname: de laatste LKS van deze gemeente (0518) eindigde op 2021-08-15, meer dan twee jaar voor de "
        "peildatum 2025-06-30 (einde dienstverband), venster 2023-06-30 t/m 2025-06-30."
    )


def test_no_lks_at_all_goes_to_a_person_never_discarded():
    b = beslis()
    assert b.code is Besluit.HANDMATIG and b.lks_gevonden == ()
    assert "geen LKS gevonden in de registratie of in Suwinet" in b.reden
    assert "Controleer de LKS-administratie" in b.reden
    assert "venster 2023-06-30 t/m 2025-06-30" in b.reden


def test_only_another_gemeentes_lks_overlaps_goes_to_a_person():
    ander = lks(date(2022, 1, 1), date(2024, 6, 30), gemeente=ANDER)
    b = beslis(ander)
    assert b.code is Besluit.HANDMATIG and b.lks_gevonden == (ander,)
    assert "gemeente 0344 verleende" in b.reden and "van 2022-01-01 t/m 2024-06-30" in b.reden
    assert "medewerker moet beslissen of gemeente 0518" in b.reden


def test_other_gemeentes_overlap_beats_our_own_old_lks():
    b = beslis(lks(date(2015, 1, 1), date(2017, 1, 1)), lks(date(2023, 1, 1), None, gemeente=ANDER))
    assert b.code is Besluit.HANDMATIG and "gemeente 0344" in b.reden


def test_our_own_overlap_beats_another_gemeentes():
    eigen, ander = lks(date(2024, 1, 1), None), lks(date(2022, 1, 1), date(2023, 12, 31), gemeente=ANDER)
    b = beslis(eigen, ander)
    assert b.code is Besluit.OVERNAME and b.lks_gevonden == (eigen,) and "0344" not in b.reden


def test_only_another_gemeentes_old_lks_goes_to_a_person():
    b = beslis(lks(date(2015, 1, 1), date(2019, 5, 31), gemeente=ANDER))
    assert b.code is Besluit.HANDMATIG
    assert "gemeente 0344 verleende" in b.reden and "de laatste eindigde op 2019-05-31" in b.reden
    assert "Gemeente 0518 verleende geen LKS" in b.reden


def test_other_gemeente_in_the_signal_is_transferred_first():
    b = beslis(lks(date(2024, 1, 1), None), signaal=ANDER)
    assert b.code is Besluit.ANDERE_GEMEENTE
    assert "woont de persoon in gemeente 0344, niet in 0518" in b.reden
    assert "overgedragen aan gemeente 0344" in b.reden and "volgens het signaal" in b.reden
    assert b.peildatum == EINDE_DV  # still recorded


def test_known_woongemeente_wins_over_the_signal():
    b = beslis(lks(date(2024, 1, 1), None), woongemeente=ANDER)
    assert b.code is Besluit.ANDERE_GEMEENTE and "de bekende woongemeente" in b.reden
    # Signal addressed elsewhere, but the person is known to live here: our decision.
    assert beslis(lks(date(2024, 1, 1), None), signaal=ANDER, woongemeente=EIGEN).code is Besluit.OVERNAME


def test_lks_periode_refuses_einde_before_begin_and_bad_values():
    with pytest.raises(ValidationError):
        lks(date(2024, 1, 2), date(2024, 1, 1))
    with pytest.raises(ValidationError):
        lks(date(2024, 1, 1), pct="100.01")
    with pytest.raises(ValidationError):
        LksPeriode(begin=date(2024, 1, 1), gemeentecode="518", bron=LksBron.SUWINET)
    single_day = lks(date(2024, 1, 1), date(2024, 1, 1))
    assert overlapt(single_day, (date(2024, 1, 1), date(2024, 1, 1)))


# --- properties ----------------------------------------------------------------------------------

DATES = st.dates(date(2016, 1, 1), date(2030, 12, 31))


@st.composite
def perioden(draw, gemeenten=(EIGEN, ANDER)) -> LksPeriode:
    begin = draw(DATES)
    lengte = draw(st.one_of(st.none(), st.integers(0, 1500)))
    return LksPeriode(begin=begin, einde=None if lengte is None else begin + timedelta(days=lengte),
                      gemeentecode=draw(st.sampled_from(gemeenten)), bron=draw(st.sampled_from(list(LksBron))))


@st.composite
def zaken(draw) -> dict:
    d = draw(st.dates(date(2019, 1, 1), date(2028, 12, 31)))
    einde_dv = draw(st.one_of(st.none(), st.integers(0, 400).map(lambda n: d + timedelta(days=n))))
    return {"d": d, "einde_dv": einde_dv, "lks": draw(st.lists(perioden(), max_size=5))}


def run(zaak: dict, extra: list[LksPeriode] = (), **kw):
    return beslis(*zaak["lks"], *extra, einde_dv=zaak["einde_dv"], d=zaak["d"], **kw)


@settings(max_examples=150)
@given(perioden(), DATES)
def test_overlap_is_sharing_at_least_one_day(p: LksPeriode, peildatum: date):
    van, tot = venster_van(peildatum)
    einde = p.einde or date(2100, 1, 1)
    brute = any(p.begin <= van + timedelta(days=i) <= einde for i in range((tot - van).days + 1))
    assert overlapt(p, (van, tot)) is brute


@given(zaken(), st.randoms())
def test_order_of_the_periods_does_not_matter(zaak: dict, rnd):
    shuffled = list(zaak["lks"])
    rnd.shuffle(shuffled)
    assert run(zaak) == run({**zaak, "lks": shuffled})


@given(zaken(), st.integers(-2000, 2000))
def test_shifting_every_date_alike_keeps_the_decision_unless_a_leap_day_changes_the_window(zaak: dict, n: int):
    shift = timedelta(days=n)
    moved = {"d": zaak["d"] + shift, "einde_dv": zaak["einde_dv"] and zaak["einde_dv"] + shift,
             "lks": [p.model_copy(update={"begin": p.begin + shift, "einde": p.einde and p.einde + shift})
                     for p in zaak["lks"]]}
    before, after = run(zaak), run(moved)
    lengte = lambda b: (b.venster[1] - b.venster[0]).days  # noqa: E731
    assume(lengte(before) == lengte(after))  # 730 or 731 days depending on 29 February
    assert after.code is before.code
    assert len(after.lks_gevonden) == len(before.lks_gevonden)


@st.composite
def rond_venster(draw, venster: tuple[date, date], *, binnen: bool, gemeenten=(EIGEN, ANDER)) -> LksPeriode:
    """A period that overlaps the window (binnen) or lies wholly before or after it."""
    van, tot = venster
    gemeente, bron = draw(st.sampled_from(gemeenten)), draw(st.sampled_from(list(LksBron)))
    if binnen:
        begin = van + timedelta(days=draw(st.integers(-1500, (tot - van).days)))
        einde = draw(st.one_of(st.none(), st.integers(max(0, (van - begin).days), 1500)
                               .map(lambda n: begin + timedelta(days=n))))
    elif draw(st.booleans()):  # wholly before
        einde = van - timedelta(days=draw(st.integers(1, 1500)))
        begin = einde - timedelta(days=draw(st.integers(0, 1500)))
    else:  # wholly after
        begin = tot + timedelta(days=draw(st.integers(1, 1500)))
        einde = draw(st.one_of(st.none(), st.integers(0, 1500).map(lambda n: begin + timedelta(days=n))))
    return LksPeriode(begin=begin, einde=einde, gemeentecode=gemeente, bron=bron)


@given(zaken(), st.data())
def test_adding_a_period_outside_the_window_never_undoes_an_overname(zaak: dict, data):
    venster = run(zaak).venster
    zaak = {**zaak, "lks": [*zaak["lks"], data.draw(rond_venster(venster, binnen=True, gemeenten=(EIGEN,)))]}
    before = run(zaak)
    assert before.code is Besluit.OVERNAME
    extra = data.draw(rond_venster(venster, binnen=False))
    assert not overlapt(extra, venster)
    after = run(zaak, [extra])
    assert after.code is Besluit.OVERNAME and after.lks_gevonden == before.lks_gevonden


@given(zaken(), st.data())
def test_adding_an_overlapping_period_of_ours_always_gives_overname(zaak: dict, data):
    extra = data.draw(rond_venster(run(zaak).venster, binnen=True, gemeenten=(EIGEN,)))
    assert overlapt(extra, run(zaak).venster)
    assert run(zaak, [extra]).code is Besluit.OVERNAME


@given(zaken(), st.sampled_from([ANDER, "0363"]))
def test_living_elsewhere_is_always_a_transfer(zaak: dict, elders: str):
    assert run(zaak, signaal=elders).code is Besluit.ANDERE_GEMEENTE
    assert run(zaak, woongemeente=elders).code is Besluit.ANDERE_GEMEENTE


@given(zaken())
def test_each_code_rests_on_what_it_says(zaak: dict):
    b = run(zaak)
    binnen = [p for p in zaak["lks"] if overlapt(p, b.venster)]
    eigen_binnen = [p for p in binnen if p.gemeentecode == EIGEN]
    if b.code is Besluit.OVERNAME:
        assert eigen_binnen and set(b.lks_gevonden) == set(eigen_binnen)
    elif b.code is Besluit.GEEN_LKS:
        eigen = [p for p in zaak["lks"] if p.gemeentecode == EIGEN]
        assert not binnen and eigen and all(p.einde is not None and p.einde < b.venster[0] for p in eigen)
    else:
        assert b.code is Besluit.HANDMATIG and not eigen_binnen
    # Every reason names the peildatum and both ends of the window.
    for d in (b.peildatum, *b.venster):
        assert d.isoformat() in b.reden
