"""Suwinet connector (BKWI): LKS periods (GSDDossierReintegratie) and ZW data (UWVDossierWerknemersverzekeringenGSD).

See README.md.
"""

from __future__ import annotations

from mappings.suwinet import FwiMelding, LksPeriode, Uitkeringsverhouding, WvInfo

from .client import SuwinetClient
from .errors import (
    SuwinetConfigError,
    SuwinetError,
    SuwinetProtocolError,
    SuwinetRejected,
    SuwinetSecurityError,
    SuwinetUnavailable,
)
from .settings import SuwinetSettings

__all__ = [
    "FwiMelding",
    "LksPeriode",
    "SuwinetClient",
    "SuwinetConfigError",
    "SuwinetError",
    "SuwinetProtocolError",
    "SuwinetRejected",
    "SuwinetSecurityError",
    "SuwinetSettings",
    "SuwinetUnavailable",
    "Uitkeringsverhouding",
    "WvInfo",
]
