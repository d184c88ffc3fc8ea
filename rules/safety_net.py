"""The Suwinet safety net (domain.md §4): what UWV's own data says that no signal told us.

Pure: from a case's known facts and what UWVPersoonsWvInfo returned, derive the canonical signals a
signal would have carried: a CORRECTIE when `DatEersteAoDag` differs from the case's first sick day,
an EINDE_ZW when the ZW benefit relation has ended. Their `bericht_id` is derived from the content,
so asking again with unchanged data yields the same signal (stored once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from schemas.signal import RedenEinde

# Keywords in UWV's free-text `OmsRedenEindeUitkeringsverh`, first match wins (lower case).
_REDEN_WOORDEN: tuple[tuple[str, RedenEinde], ...] = (
    ("herstel", RedenEinde.HERSTEL), ("hersteld", RedenEinde.HERSTEL), ("beter", RedenEinde.HERSTEL),
    ("overl", RedenEinde.OVERLIJDEN), ("maxim", RedenEinde.MAX_DUUR), ("104", RedenEinde.MAX_DUUR),
    ("wia", RedenEinde.WIA), ("ezwb", RedenEinde.EZWB), ("eerstejaars", RedenEinde.EZWB),
)


@dataclass(frozen=True)
class CaseFacts:
    """What we know of an open case (the BSN travels only inside the derived signal fields)."""

    case_id: int
    ref: str
    bsn: str
    gemeentecode: str
    eerste_ziektedag: date | None
    datum_melding: date | None
    datum_einde_dienstverband: date | None
    ziekmelding_bericht_id: str | None


@dataclass(frozen=True)
class ZwRelation:
    """One Ziektewet benefit relation as Suwinet reports it."""

    einde: date | None
    reden_einde: str | None


def reden_einde_van(omschrijving: str | None) -> RedenEinde:
    """UWV's free-text reason for the end of a benefit relation, as our code (OVERIG when unknown)."""
    text = (omschrijving or "").lower()
    return next((code for word, code in _REDEN_WOORDEN if word in text), RedenEinde.OVERIG)


def derived_signals(case: CaseFacts, *, eerste_ao_dag: date | None, zw: list[ZwRelation], today: date) -> list[dict]:
    """Canonical signal fields for each change Suwinet shows; empty when nothing changed."""
    signals = []
    base = {"volgnummer": 0, "bsn": case.bsn, "gemeentecode": case.gemeentecode}
    if eerste_ao_dag and case.eerste_ziektedag and eerste_ao_dag != case.eerste_ziektedag and case.ziekmelding_bericht_id:
        signals.append({
            **base, "bericht_id": f"SUWINET-{case.ref}-D-{eerste_ao_dag:%Y%m%d}", "soort": "CORRECTIE",
            "verwijst_naar": case.ziekmelding_bericht_id, "eerste_ziektedag": eerste_ao_dag,
            "datum_melding": case.datum_melding, "datum_einde_dienstverband": case.datum_einde_dienstverband,
        })
    ended = [r for r in zw if r.einde is not None and r.einde <= today]
    if zw and len(ended) == len(zw):  # every ZW relation has ended: the ZW benefit stopped
        last = max(ended, key=lambda r: r.einde)
        signals.append({
            **base, "bericht_id": f"SUWINET-{case.ref}-EINDE-{last.einde:%Y%m%d}", "soort": "EINDE_ZW",
            "datum_einde_zw": last.einde, "reden_einde": reden_einde_van(last.reden_einde).value,
        })
    return signals
