"""Loonkostensubsidie (LKS) periods: what the takeover decision weighs (domain.md §3).

An `LksPeriode` carries no BSN on purpose: the rules never need it, and a period can then be logged,
compared and put in an audit event without care. Whose period it is lives beside it: in the store
(`lks_periods.bsn`), in the import row (`mappings.lks_file.LksRegel`) or as the key of a lookup.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class LksBron(StrEnum):
    """Where a period was found."""

    REGISTRATIE = "REGISTRATIE"  # the gemeente's own LKS administration, imported from a file
    SUWINET = "SUWINET"  # GSDDossierReintegratie (ReIntegratievoorziening DatBRv/DatERv)


class LksPeriode(BaseModel):
    """One LKS grant: from `begin` to `einde` inclusive; `einde` None means it is still running.

    `gemeentecode` is the gemeente that granted it (not necessarily where the person lives now).
    `type_code` is Suwinet's CdTypeRvGsd when the period came from there.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    begin: date
    einde: date | None = None
    loonwaarde_pct: Decimal | None = Field(default=None, ge=0, le=100, max_digits=5, decimal_places=2)
    gemeentecode: str = Field(pattern=r"^\d{4}$")
    bron: LksBron
    type_code: str | None = Field(default=None, max_length=16)

    @model_validator(mode="after")
    def _einde_niet_voor_begin(self) -> LksPeriode:
        if self.einde is not None and self.einde < self.begin:
            raise ValueError(f"einde {self.einde} ligt voor begin {self.begin}")
        return self
