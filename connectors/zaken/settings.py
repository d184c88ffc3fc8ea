"""Configuration of the Zaken API connector; the application's settings object builds one of these."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from stdnum.nl import bsn as elfproef  # an RSIN passes the same 11-proef as a BSN

__all__ = ["ZakenSettings"]

_RSIN = re.compile(r"\d{9}")

Vertrouwelijkheid = Literal[
    "openbaar", "beperkt_openbaar", "intern", "zaakvertrouwelijk",
    "vertrouwelijk", "confidentieel", "geheim", "zeer_geheim",
]


def _http_url(value: str, what: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what} must be an http(s) URL with a host, got scheme {parts.scheme!r}")
    if parts.username or parts.password:
        raise ValueError(f"{what} must not contain credentials")
    return value


class ZakenSettings(BaseModel):
    """Where the gemeente's Zaken API is, how to authenticate, and the catalogue entries to use.

    The catalogue URLs (``zaaktype``, ``statustype_*``, ``roltype_betrokkene``) point into the gemeente's
    Catalogi API; they are sent as values and never fetched.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str
    """Root of the Zaken API, e.g. ``https://zaken.example.nl/zaken/api/v1/``. Every call stays under it."""
    client_id: str = Field(min_length=1)
    secret: SecretStr
    """Shared secret for the HS256 JWT (ZGW autorisaties). No default: secrets never have one."""
    user_id: str = "vangnet"
    user_representation: str = "vangnet"
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=3, ge=1, le=20)
    """Total tries for transient failures (1 = no retry)."""
    retry_backoff_seconds: float = Field(default=0.5, ge=0)
    """First wait between tries; doubles per try up to ``retry_max_backoff_seconds``."""
    retry_max_backoff_seconds: float = Field(default=8.0, ge=0)
    retry_after_cap_seconds: float = Field(default=30.0, ge=0)
    """A server's ``Retry-After`` is honoured up to this many seconds."""
    max_response_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    ca_bundle_path: Path | None = None
    """When set, the server is verified against this bundle only."""

    zaaktype: str
    statustype_intake: str
    """Status set when the zaak is registered."""
    statustype_einde: str
    """The zaaktype's end status: setting it closes the zaak (the Zaken API fills in ``einddatum``)."""
    roltype_betrokkene: str
    """Roltype for the vangnetter (a natuurlijk persoon)."""
    bronorganisatie: str
    """RSIN of the gemeente (9 digits, 11-proef)."""
    verantwoordelijke_organisatie: str
    """RSIN of the organisation handling the zaak; defaults to ``bronorganisatie``."""
    vertrouwelijkheidaanduiding: Vertrouwelijkheid | None = None
    """Set on every zaak when given; otherwise the zaaktype's default applies."""

    @model_validator(mode="before")
    @classmethod
    def _default_verantwoordelijke(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("verantwoordelijke_organisatie") is None and "bronorganisatie" in data:
            data = {**data, "verantwoordelijke_organisatie": data["bronorganisatie"]}
        return data

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        _http_url(value, "base_url")
        parts = urlsplit(value)
        if parts.query or parts.fragment:
            raise ValueError("base_url must not have a query or fragment")
        return value if value.endswith("/") else value + "/"

    @field_validator("zaaktype", "statustype_intake", "statustype_einde", "roltype_betrokkene")
    @classmethod
    def _catalogue_url(cls, value: str, info: Any) -> str:
        return _http_url(value, info.field_name)

    @field_validator("bronorganisatie", "verantwoordelijke_organisatie")
    @classmethod
    def _rsin(cls, value: str, info: Any) -> str:
        if not _RSIN.fullmatch(value) or not elfproef.is_valid(value):
            raise ValueError(f"{info.field_name} must be an RSIN: 9 digits passing the 11-proef")
        return value

    @model_validator(mode="after")
    def _secret_not_empty(self) -> ZakenSettings:
        if not self.secret.get_secret_value():
            raise ValueError("secret must not be empty")
        return self

    @property
    def host(self) -> str:
        """Host name only, for messages and logs."""
        return urlsplit(self.base_url).hostname or "?"
