"""The canonical UWV/IB signal (domain.md §4): field names are the contract for files, simulators and tests."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class SignaalSoort(StrEnum):
    ZIEKMELDING_VANGNETTER = "ZIEKMELDING_VANGNETTER"
    BETERMELDING = "BETERMELDING"
    EINDE_ZW = "EINDE_ZW"
    EZWB_UITSLAG = "EZWB_UITSLAG"
    VERHUIZING = "VERHUIZING"
    CORRECTIE = "CORRECTIE"
    INTREKKING = "INTREKKING"


class WettelijkeGrondslag(StrEnum):
    ZW_38_2 = "ZW_38_2"
    ZW_38A_2 = "ZW_38A_2"
    ZW_38AB = "ZW_38AB"


class RedenEinde(StrEnum):
    HERSTEL = "HERSTEL"
    EZWB = "EZWB"
    MAX_DUUR = "MAX_DUUR"
    OVERLIJDEN = "OVERLIJDEN"
    WIA = "WIA"
    OVERIG = "OVERIG"


class EzwbUitkomst(StrEnum):
    ZW_LOOPT_DOOR = "ZW_LOOPT_DOOR"
    ZW_EINDIGT = "ZW_EINDIGT"


SIGNAL_FIELDS: tuple[str, ...] = (
    "bericht_id", "volgnummer", "soort", "bsn", "gemeentecode", "eerste_ziektedag",
    "datum_einde_dienstverband", "datum_melding", "wettelijke_grondslag",
    "werkgever_loonheffingennummer", "datum_herstel", "datum_einde_zw", "reden_einde",
    "ezwb_uitkomst", "ezwb_datum", "nieuwe_gemeentecode", "verwijst_naar",
)
"""Canonical field order, used by the XSD sequence, the mappings and the file formats."""


class Signal(BaseModel):
    """One validated signal. The BSN is kept out of repr/str so it can't leak into logs or tracebacks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bericht_id: str = Field(min_length=1, max_length=64)
    volgnummer: int = Field(ge=0)
    soort: SignaalSoort
    bsn: str = Field(repr=False, pattern=r"^\d{9}$")
    gemeentecode: str = Field(pattern=r"^\d{4}$")
    eerste_ziektedag: date | None = None
    datum_einde_dienstverband: date | None = None
    datum_melding: date | None = None
    wettelijke_grondslag: WettelijkeGrondslag | None = None
    werkgever_loonheffingennummer: str | None = Field(default=None, max_length=12)
    datum_herstel: date | None = None
    datum_einde_zw: date | None = None
    reden_einde: RedenEinde | None = None
    ezwb_uitkomst: EzwbUitkomst | None = None
    ezwb_datum: date | None = None
    nieuwe_gemeentecode: str | None = Field(default=None, pattern=r"^\d{4}$")
    verwijst_naar: str | None = Field(default=None, max_length=64)
