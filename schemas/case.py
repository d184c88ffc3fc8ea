"""Case-side domain types: the takeover decision, the WVP steps and their due dates."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Besluit(StrEnum):
    """Outcome of the takeover decision (domain.md §3)."""

    OVERNAME = "OVERNAME"
    GEEN_LKS = "GEEN_LKS"
    ANDERE_GEMEENTE = "ANDERE_GEMEENTE"
    HANDMATIG = "HANDMATIG"


class CaseStatus(StrEnum):
    OPEN = "OPEN"
    HANDMATIG = "HANDMATIG"
    OVERGEDRAGEN = "OVERGEDRAGEN"
    GESLOTEN = "GESLOTEN"
    INGETROKKEN = "INGETROKKEN"


class Stap(StrEnum):
    """WVP steps (domain.md §5), in calendar order. The value is the key used in files and output."""

    RIV_WERKGEVER = "riv_werkgever_opvragen"
    """Not a WVP deadline: at intake, ask the vangnetter for the ex-employer's re-integratieverslag."""
    PROBLEEMANALYSE = "probleemanalyse"
    PLAN_VAN_AANPAK = "plan_van_aanpak"
    HERIJKING_1 = "herijking_1"
    EZWB_VENSTER = "ezwb_venster"
    HERIJKING_2 = "herijking_2"
    HERIJKING_3 = "herijking_3"
    UWV_WIA_BRIEF = "uwv_wia_brief"
    RIV = "riv"
    WIA_AANVRAAG = "wia_aanvraag"
    EINDE_WACHTTIJD = "einde_wachttijd"


class Termijn(BaseModel):
    """One step's deadline.

    `wettelijke_datum` is the date the law gives; `datum` is when it must happen now. They differ only
    when the step is `onverwijld`: its legal date had already passed (or, for the probleemanalyse, UWV's
    report or the signal came after D+42) when the case was taken in, so it is due at intake.
    """

    model_config = ConfigDict(frozen=True)

    stap: Stap
    datum: date
    wettelijke_datum: date
    onverwijld: bool
    gemeente_verantwoordelijk: bool = True
    tot: date | None = None
    """End of a window (the EZWb runs from week 44 to week 52); None for a single deadline."""
