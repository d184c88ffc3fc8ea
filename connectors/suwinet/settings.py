"""Configuration of the Suwinet connector; the application's settings object builds one of these."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connectors.digikoppeling import DigikoppelingSettings
from mappings.suwinet import DEFAULT_LKS_TYPE_CODES, DEFAULT_PERCENTAGE_DECIMALS, DEFAULT_ZW_WET_CODES

__all__ = ["SuwinetSettings"]


class SuwinetSettings(BaseModel):
    """Where the two Suwinet services are, how to reach them, and the code lists that give codes a meaning.

    Paths point at PEM files; nothing here is a secret itself. Leave an endpoint unset to switch that
    service off (domain.md §10: WV polling may not be allowed for every gemeente).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    reintegratie_endpoint: str | None = None
    """GSDDossierReintegratie-v0200 URL, e.g. ``https://broker.prd.suwi.net/suwibroker/soap/<service>-v0200``."""
    werknemersverzekeringen_endpoint: str | None = None
    """UWVDossierWerknemersverzekeringenGSD-v0200 URL."""
    timeout_seconds: float = Field(default=30.0, gt=0)
    client_cert_path: Path | None = None
    client_key_path: Path | None = None
    ca_bundle_path: Path | None = None
    """When set, the server is verified against this bundle only (environment CA overrides are ignored)."""
    max_attempts: int = Field(default=3, ge=1, le=20)
    """Total tries for transient failures (1 = no retry)."""
    retry_backoff_seconds: float = Field(default=0.5, ge=0)
    retry_max_backoff_seconds: float = Field(default=8.0, ge=0)
    max_message_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    digikoppeling: DigikoppelingSettings = Field(default_factory=DigikoppelingSettings)
    """WUS profile (BKWI requires 2W-be-S): our signing key/cert and BKWI's signing certificate."""

    lks_type_codes: frozenset[str] = DEFAULT_LKS_TYPE_CODES
    """``CdTypeRvGsd`` values that mean loonkostensubsidie. Default ``{"LK"}`` is an ASSUMPTION: set BKWI's code."""
    zw_wet_codes: frozenset[str] = DEFAULT_ZW_WET_CODES
    """``CdSzWet`` values that mean Ziektewet. Default ``{"ZW"}`` is an ASSUMPTION (likely, unconfirmed)."""
    percentage_decimals: int = Field(default=DEFAULT_PERCENTAGE_DECIMALS, ge=0, le=4)
    """Implied decimals of the 5-digit ``Percentage``. Default 2 (``05500`` = 55.00 %) is an ASSUMPTION."""
    fwi_retry_codes: frozenset[str] = frozenset()
    """FWI ``Code``s meaning "source temporarily unavailable": raised as SuwinetUnavailable and retried.
    Default empty (BKWI's FWI code list is not public here): every FWI error is SuwinetRejected."""

    @field_validator("reintegratie_endpoint", "werknemersverzekeringen_endpoint")
    @classmethod
    def _endpoint_is_http(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("a Suwinet endpoint must be an http(s) URL with a host, "
                             "e.g. https://broker.tst.suwi.net/suwibroker/soap/GSDDossierReintegratie-v0200")
        if parts.username or parts.password:
            raise ValueError("a Suwinet endpoint must not contain credentials; use client certificates")
        return value

    @field_validator("lks_type_codes")
    @classmethod
    def _type_codes(cls, value: frozenset[str]) -> frozenset[str]:
        if any(len(code) != 2 for code in value):
            raise ValueError("lks_type_codes are CdTypeRvGsd values: exactly 2 characters each")
        return value

    @field_validator("zw_wet_codes")
    @classmethod
    def _wet_codes(cls, value: frozenset[str]) -> frozenset[str]:
        if any(not re.fullmatch(r"\D{1,5}", code) for code in value):
            raise ValueError("zw_wet_codes are CdSzWet values: 1 to 5 non-digit characters each")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SuwinetSettings:
        if (self.client_cert_path is None) != (self.client_key_path is None):
            raise ValueError("set both client_cert_path and client_key_path, or neither")
        if self.reintegratie_endpoint is None and self.werknemersverzekeringen_endpoint is None:
            raise ValueError("set reintegratie_endpoint and/or werknemersverzekeringen_endpoint")
        return self
