"""The WVP calendar of a gemeentelijke vangnetter (domain.md §5), as pure functions.

Convention: "week n" or "n weeks after D" is the date D + 7n days.
A step whose legal date lies before the day the case was taken in is `onverwijld`: it is due at
intake, never on a date in the past. The probleemanalyse is also onverwijld when UWV's report or the
signal came after D + 42 (Regeling art. 3).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from schemas.case import Stap, Termijn

PROBLEEMANALYSE_DAGEN = 42
PLAN_VAN_AANPAK_DAGEN = 14
SAMENTELLEN_BINNEN_DAGEN = 28  # ZW 29(5): periods less than 4 weeks apart count as one

# Steps that are a fixed number of weeks after D, with whether the gemeente must act (False: UWV does).
_WEKEN_NA_D: tuple[tuple[Stap, int, bool], ...] = (
    (Stap.HERIJKING_1, 26, True),
    (Stap.HERIJKING_2, 52, True),
    (Stap.HERIJKING_3, 78, True),
    (Stap.UWV_WIA_BRIEF, 89, False),
    (Stap.RIV, 91, True),
    (Stap.WIA_AANVRAAG, 93, True),
    (Stap.EINDE_WACHTTIJD, 104, False),
)
EZWB_VAN_WEEK, EZWB_TOT_WEEK = 44, 52


def week(d: date, n: int) -> date:
    """The date of 'week n' after D: D + 7n days."""
    return d + timedelta(weeks=n)


def wvp_calendar(
    eerste_ziektedag: date,
    *,
    datum_ontvangst: date,
    datum_melding: date | None = None,
    probleemanalyse_gedaan: date | None = None,
) -> list[Termijn]:
    """Every WVP step for illness starting on `eerste_ziektedag`, seen from intake on `datum_ontvangst`.

    `probleemanalyse_gedaan` is the real date of the probleemanalyse once it happened: the plan van
    aanpak is due 14 days after it (Regeling art. 5) instead of after the planned date.
    """
    d = eerste_ziektedag
    pa_wettelijk = d + timedelta(days=PROBLEEMANALYSE_DAGEN)
    pa_laat = datum_ontvangst > pa_wettelijk or (datum_melding is not None and datum_melding > pa_wettelijk)
    probleemanalyse = Termijn(
        stap=Stap.PROBLEEMANALYSE,
        datum=max(datum_ontvangst, pa_wettelijk) if pa_laat else pa_wettelijk,
        wettelijke_datum=pa_wettelijk,
        onverwijld=pa_laat,
    )
    pva_basis = probleemanalyse_gedaan or probleemanalyse.datum
    termijnen = [
        # The ex-employer's re-integratieverslag is asked for at intake; the probleemanalyse builds on it.
        Termijn(stap=Stap.RIV_WERKGEVER, datum=datum_ontvangst, wettelijke_datum=datum_ontvangst, onverwijld=False),
        probleemanalyse,
        _termijn(Stap.PLAN_VAN_AANPAK, pva_basis + timedelta(days=PLAN_VAN_AANPAK_DAGEN), datum_ontvangst),
    ]
    for stap, weken, gemeente in _WEKEN_NA_D:
        termijnen.append(_termijn(stap, week(d, weken), datum_ontvangst, gemeente))
    ezwb_tot = week(d, EZWB_TOT_WEEK)
    ezwb = _termijn(Stap.EZWB_VENSTER, week(d, EZWB_VAN_WEEK), datum_ontvangst, gemeente=False)
    termijnen.append(ezwb.model_copy(update={"tot": ezwb_tot}))
    volgorde = list(Stap)
    return sorted(termijnen, key=lambda t: volgorde.index(t.stap))


def _termijn(stap: Stap, wettelijk: date, datum_ontvangst: date, gemeente: bool = True) -> Termijn:
    te_laat = wettelijk < datum_ontvangst
    return Termijn(
        stap=stap,
        datum=datum_ontvangst if te_laat else wettelijk,
        wettelijke_datum=wettelijk,
        onverwijld=te_laat,
        gemeente_verantwoordelijk=gemeente,
    )


def eerste_ziektedag_van(perioden: Iterable[tuple[date, date | None]]) -> date:
    """D for the latest period of illness: periods less than 4 weeks apart count as one (ZW 29(5)).

    `perioden` are (first sick day, day of recovery or None while still ill). The gap between two
    periods is counted from the recovery day to the next first sick day.
    """
    ordered = sorted(perioden, key=lambda p: p[0])
    if not ordered:
        raise ValueError("er is geen ziekteperiode opgegeven")
    begin, vorige_einde = ordered[0]
    for start, einde in ordered[1:]:
        if vorige_einde is not None and (start - vorige_einde).days >= SAMENTELLEN_BINNEN_DAGEN:
            begin, vorige_einde = start, einde
        elif einde is None or vorige_einde is None:
            vorige_einde = einde
        else:
            vorige_einde = max(einde, vorige_einde)
    return begin
