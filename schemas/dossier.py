"""The case dossier (Regeling art. 4): plan van aanpak, re-integratieladder, instruments, RIV parts.

Plain vocabularies and value types; the store keeps them, `rules.riv` assembles the RIV from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import IntEnum, StrEnum


class Trede(IntEnum):
    """The gemeente's re-integratieladder, 0 (needs care) to 9 (regular work, benefit ended).

    ASSUMPTION: the seeds only give the two ends; the steps in between follow the Divosa
    participatieladder, split where the vangnet practice distinguishes support and subsidy.
    """

    ZORG = 0
    GEISOLEERD = 1
    SOCIALE_CONTACTEN = 2
    GEORGANISEERDE_ACTIVITEITEN = 3
    ONBETAALD_WERK = 4
    BETAALD_WERK_MET_ONDERSTEUNING = 5
    BETAALD_WERK_MET_LKS = 6
    BETAALD_WERK_DEELS_UITKERING = 7
    REGULIER_WERK_NAZORG = 8
    REGULIER_WERK_UITKERING_BEEINDIGD = 9


TREDE_LABELS: dict[Trede, str] = {
    Trede.ZORG: "zorg nodig",
    Trede.GEISOLEERD: "geïsoleerd",
    Trede.SOCIALE_CONTACTEN: "sociale contacten buiten de deur",
    Trede.GEORGANISEERDE_ACTIVITEITEN: "deelname georganiseerde activiteiten",
    Trede.ONBETAALD_WERK: "onbetaald werk",
    Trede.BETAALD_WERK_MET_ONDERSTEUNING: "betaald werk met ondersteuning",
    Trede.BETAALD_WERK_MET_LKS: "betaald werk met loonkostensubsidie",
    Trede.BETAALD_WERK_DEELS_UITKERING: "betaald werk, deels uitkering",
    Trede.REGULIER_WERK_NAZORG: "regulier werk, nazorg",
    Trede.REGULIER_WERK_UITKERING_BEEINDIGD: "regulier werk, uitkering beëindigd",
}


class Instrument(StrEnum):
    """Re-integration instruments a case can use (domain.md §6)."""

    JOBCOACHING = "jobcoaching"
    PROEFPLAATSING = "proefplaatsing"
    NO_RISKPOLIS = "no_riskpolis"
    WERKPLEKAANPASSING = "werkplekaanpassing"
    LOONKOSTENSUBSIDIE = "loonkostensubsidie"
    SCHOLING = "scholing"
    ARBEIDSDESKUNDIG_ONDERZOEK = "arbeidsdeskundig_onderzoek"
    TWEEDE_SPOOR = "tweede_spoor"
    BESCHUT_WERK = "beschut_werk"


class EntryKind(StrEnum):
    """What a dossier entry records: the RIV parts no other record supplies (`rules.riv`)."""

    LAATSTE_ARBEID = "laatste_arbeid"
    OPLEIDING_VAARDIGHEDEN = "opleiding_vaardigheden"
    DUURZAAMHEID = "duurzaamheid"
    HERIJKING = "herijking"
    EVALUATIE = "evaluatie"
    PASSENDE_ARBEID = "passende_arbeid"
    MENING_VANGNETTER = "mening_vangnetter"
    OORDEEL_GEMEENTE = "oordeel_gemeente"


class Recipient(StrEnum):
    """Who gets a copy of the plan van aanpak (Regeling art. 5)."""

    VANGNETTER = "vangnetter"
    CONTACTPERSOON = "contactpersoon"


@dataclass(frozen=True)
class Activity:
    """One activity of a plan van aanpak: what, to which goal, by when."""

    activiteit: str
    doel: str
    streefdatum: date | None = None


@dataclass(frozen=True)
class PlanVersion:
    """One version of the plan van aanpak; version 1 is the plan, later versions are bijstellingen."""

    version: int
    agreed_on: date
    contact_person: str
    activities: tuple[Activity, ...]
    evaluation_moments: tuple[date, ...] = ()
    reason: str | None = None
    """The evaluation or assessment that gave cause (bijstellingen only)."""
    copies: dict[str, date] = field(default_factory=dict)
    """Recipient value -> date the copy was sent."""
