"""The takeover decision: is this person a gemeentelijke vangnetter of this gemeente? (domain.md §3)

Pure: no store, no clock, no network. The rules, in the order they are applied:

1. Woongemeente: when the person lives elsewhere (`woongemeente` when known, else the signal's
   gemeentecode) the case goes to that gemeente: ANDERE_GEMEENTE (transfer, never drop).
2. Reference date (peildatum): `datum_einde_dienstverband`, else `eerste_ziektedag`.
   Window: [peildatum − 2 years, peildatum], both ends inclusive. Two calendar years back; from
   29 February that is 28 February (the earlier year has no 29th).
3. A period overlaps the window when begin ≤ window end and (einde is None or einde ≥ window start).
4. An overlapping period granted by this gemeente (any one of several suffices): OVERNAME.
5. Only periods granted by another gemeente overlap (granted before a move): HANDMATIG; whether this
   gemeente takes over is an open point (domain.md §10), so a person decides.
6. No LKS at all, although the signal says vangnetter: HANDMATIG (never discard; check the
   administration).
7. A period of this gemeente starts after the peildatum and none overlaps: HANDMATIG (LKS after the
   person left sick contradicts the signal; check the dates).
8. Periods of this gemeente exist but all ended before the window: GEEN_LKS.
9. Only periods of another gemeente, none overlapping: HANDMATIG (this gemeente never granted LKS;
   not ours to close on someone else's data).

Reasons are plain Dutch, name the dates and never contain a BSN (none comes in).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from schemas.case import Besluit
from schemas.lks import LksBron, LksPeriode

JAREN_TERUG = 2
_BRON_NAAM = {LksBron.REGISTRATIE: "registratie", LksBron.SUWINET: "Suwinet"}


@dataclass(frozen=True)
class Overnamebesluit:
    """The decision with its grounds.

    `lks_gevonden`: the periods the decision rests on, sorted: for OVERNAME the overlapping periods
    of this gemeente, for HANDMATIG (other gemeente) the overlapping periods of the other gemeente,
    for ANDERE_GEMEENTE every overlapping period; empty otherwise.
    """

    code: Besluit
    reden: str
    peildatum: date
    venster: tuple[date, date]
    lks_gevonden: tuple[LksPeriode, ...] = ()


def jaren_eerder(d: date, jaren: int = JAREN_TERUG) -> date:
    """`d` minus `jaren` calendar years; 29 February becomes 28 February when that year has no 29th."""
    try:
        return d.replace(year=d.year - jaren)
    except ValueError:  # only 29 February in a leap year lands on a day that doesn't exist
        return date(d.year - jaren, 2, 28)


def peildatum_van(eerste_ziektedag: date, datum_einde_dienstverband: date | None) -> date:
    """The reference date: the end of employment, or the first sick day when there is none."""
    return datum_einde_dienstverband or eerste_ziektedag


def venster_van(peildatum: date) -> tuple[date, date]:
    """The two years before the peildatum, both ends inclusive."""
    return jaren_eerder(peildatum), peildatum


def overlapt(periode: LksPeriode, venster: tuple[date, date]) -> bool:
    """True when the period has at least one day inside the window (boundaries inclusive)."""
    van, tot = venster
    return periode.begin <= tot and (periode.einde is None or periode.einde >= van)


def beslis_overname(
    *,
    eigen_gemeentecode: str,
    signaal_gemeentecode: str,
    eerste_ziektedag: date,
    datum_einde_dienstverband: date | None,
    lks: Sequence[LksPeriode],
    woongemeente: str | None = None,
) -> Overnamebesluit:
    """Decide the takeover of one ziekmelding (see the module docstring for the rules)."""
    peildatum = peildatum_van(eerste_ziektedag, datum_einde_dienstverband)
    venster = venster_van(peildatum)
    grond = _grond(peildatum, venster, eind_dienstverband=datum_einde_dienstverband is not None)
    perioden = sorted(lks, key=_volgorde)
    binnen = [p for p in perioden if overlapt(p, venster)]
    eigen_binnen = [p for p in binnen if p.gemeentecode == eigen_gemeentecode]
    ander_binnen = [p for p in binnen if p.gemeentecode != eigen_gemeentecode]
    eigen = [p for p in perioden if p.gemeentecode == eigen_gemeentecode]

    def besluit(code: Besluit, reden: str, gevonden: Iterable[LksPeriode] = ()) -> Overnamebesluit:
        return Overnamebesluit(code=code, reden=reden, peildatum=peildatum, venster=venster,
                               lks_gevonden=tuple(gevonden))

    woont_in = woongemeente if woongemeente is not None else signaal_gemeentecode
    if woont_in != eigen_gemeentecode:
        bron = "de bekende woongemeente" if woongemeente is not None else "het signaal"
        return besluit(Besluit.ANDERE_GEMEENTE, (
            f"Andere gemeente: volgens {bron} woont de persoon in gemeente {woont_in}, niet in {eigen_gemeentecode}. "
            f"De zaak wordt overgedragen aan gemeente {woont_in}, niet afgewezen."), binnen)

    if eigen_binnen:
        wat = "valt" if len(_samengevoegd(eigen_binnen)) == 1 else "vallen"
        return besluit(Besluit.OVERNAME, (
            f"Overname: LKS van deze gemeente ({eigen_gemeentecode}) {_perioden_tekst(eigen_binnen)} "
            f"{wat} in de twee jaar voor de {grond}."), eigen_binnen)

    if ander_binnen:
        codes = _gemeenten(ander_binnen)
        return besluit(Besluit.HANDMATIG, (
            f"Handmatig beoordelen: in de twee jaar voor de {grond} valt alleen LKS die gemeente {codes} "
            f"verleende: {_perioden_tekst(ander_binnen)}; mogelijk van voor een verhuizing. "
            f"Een medewerker moet beslissen of gemeente {eigen_gemeentecode} de re-integratie overneemt."),
            ander_binnen)

    if not perioden:
        return besluit(Besluit.HANDMATIG, (
            f"Handmatig beoordelen: het signaal meldt een vangnetter, maar er is geen LKS gevonden in de "
            f"registratie of in Suwinet ({grond}). Controleer de LKS-administratie; "
            "de zaak wordt niet afgewezen zonder die controle."))

    later = [p for p in eigen if p.begin > venster[1]]
    if later:
        return besluit(Besluit.HANDMATIG, (
            f"Handmatig beoordelen: LKS van deze gemeente ({eigen_gemeentecode}) begint pas op {later[0].begin}, "
            f"na de {grond}; dat past niet bij het signaal. Controleer de datums van de LKS en het signaal."))

    if eigen:
        laatste = max(p.einde for p in eigen)  # all ended: none is open-ended or later than the window
        return besluit(Besluit.GEEN_LKS, (
            f"Geen overname: de laatste LKS van deze gemeente ({eigen_gemeentecode}) eindigde op {laatste}, "
            f"meer dan twee jaar voor de {grond}."))

    laatste_ander = max((p.einde for p in perioden if p.einde is not None), default=None)
    einde_tekst = f"; de laatste eindigde op {laatste_ander}" if laatste_ander else ""
    return besluit(Besluit.HANDMATIG, (
        f"Handmatig beoordelen: er is alleen LKS gevonden die gemeente {_gemeenten(perioden)} verleende, "
        f"buiten de twee jaar voor de {grond}{einde_tekst}. Gemeente {eigen_gemeentecode} verleende geen LKS; "
        "een medewerker moet beslissen."))


def _grond(peildatum: date, venster: tuple[date, date], *, eind_dienstverband: bool) -> str:
    soort = "einde dienstverband" if eind_dienstverband else "eerste ziektedag; geen einde dienstverband bekend"
    return f"peildatum {peildatum} ({soort}), venster {venster[0]} t/m {venster[1]}"


def _volgorde(p: LksPeriode) -> tuple:
    return (p.begin, p.einde or date.max, p.gemeentecode, p.bron.value)


def _samengevoegd(perioden: Iterable[LksPeriode]) -> dict[tuple[str, date, date | None], list[LksBron]]:
    """Periods with the same gemeente and dates seen in several sources, as one entry."""
    samen: dict[tuple[str, date, date | None], list[LksBron]] = {}
    for p in perioden:
        bronnen = samen.setdefault((p.gemeentecode, p.begin, p.einde), [])
        if p.bron not in bronnen:
            bronnen.append(p.bron)
    return samen


def _perioden_tekst(perioden: Iterable[LksPeriode]) -> str:
    delen = []
    for (_, begin, einde), bronnen in _samengevoegd(perioden).items():
        looptijd = f"van {begin} t/m {einde}" if einde else f"vanaf {begin} (loopt nog)"
        delen.append(f"{looptijd} ({' en '.join(_BRON_NAAM[b] for b in bronnen)})")
    return "; ".join(delen)


def _gemeenten(perioden: Iterable[LksPeriode]) -> str:
    return " en ".join(sorted({p.gemeentecode for p in perioden}))
