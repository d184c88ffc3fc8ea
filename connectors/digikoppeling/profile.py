"""Digikoppeling WUS profiles and the settings one partner connection needs."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .namespaces import OIN_URI_PREFIX

__all__ = ["DigikoppelingProfile", "DigikoppelingSettings"]

_OIN_PATTERN = r"^\d{20}$"


class DigikoppelingProfile(str, Enum):
    """The WUS profiles we support. Both need two-sided TLS; 2W-be-S adds WS-Security signing."""

    BEST_EFFORT = "2W-be"
    """TLS only: WS-Addressing, no message signature."""
    BEST_EFFORT_SIGNED = "2W-be-S"
    """TLS plus signed requests and replies (Body, Timestamp, WS-Addressing headers)."""


class DigikoppelingSettings(BaseModel):
    """WS-Addressing and WS-Security settings for one partner. Paths point at PEM files.

    Key paths have no defaults: 2W-be-S refuses to start without our signing key and
    certificate and the partner's signing certificate.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    profile: DigikoppelingProfile = DigikoppelingProfile.BEST_EFFORT
    own_oin: str | None = Field(default=None, pattern=_OIN_PATTERN)
    """Our OIN (20 digits); sent as ``wsa:From`` ``http://www.logius.nl/oin/<oin>`` unless ``from_address`` is set."""
    receiver_oin: str | None = Field(default=None, pattern=_OIN_PATTERN)
    """The partner's OIN; when set, ``wsa:To`` is the endpoint with ``?OIN=<oin>``."""
    from_address: str | None = None
    """Explicit ``wsa:From`` address (absolute URI), overriding the OIN form."""
    signing_key_path: Path | None = None
    """Our unencrypted PEM RSA key for signing (2W-be-S). Keep it readable by this process only."""
    signing_cert_path: Path | None = None
    """Our signing certificate (PKIoverheid), sent in every signed request."""
    trusted_sender_cert_path: Path | None = None
    """The partner's signing certificate: replies must be signed with exactly this certificate."""
    timestamp_ttl_seconds: int = Field(default=300, ge=1, le=3600)
    """Lifetime of the Timestamp on our requests (Expires - Created)."""
    clock_skew_seconds: int = Field(default=60, ge=0, le=600)
    """Tolerated clock difference when checking the partner's Timestamp."""
    require_signature_confirmation: bool = True
    """2W-be-S replies must confirm our request's signature (WS-Security 1.1, Digikoppeling WB014)."""

    @field_validator("from_address")
    @classmethod
    def _absolute_uri(cls, value: str | None) -> str | None:
        if value is not None and not urlsplit(value).scheme:
            raise ValueError("from_address must be an absolute URI, e.g. http://www.logius.nl/oin/<oin>")
        return value

    @model_validator(mode="after")
    def _signing_files_match_profile(self) -> DigikoppelingSettings:
        files = {"signing_key_path": self.signing_key_path, "signing_cert_path": self.signing_cert_path,
                 "trusted_sender_cert_path": self.trusted_sender_cert_path}
        if self.signed:
            missing = [name for name, value in files.items() if value is None]
            if missing:
                raise ValueError(
                    f"Digikoppeling 2W-be-S signs every request and verifies every reply; set {', '.join(missing)} "
                    "(our signing key and certificate, and the partner's signing certificate)")
        elif any(value is not None for value in files.values()):
            raise ValueError("signing files are set but the profile is 2W-be (no signing); set profile='2W-be-S' "
                             "or remove signing_key_path, signing_cert_path and trusted_sender_cert_path")
        return self

    @property
    def signed(self) -> bool:
        """True for 2W-be-S."""
        return self.profile is DigikoppelingProfile.BEST_EFFORT_SIGNED

    @property
    def from_uri(self) -> str | None:
        """The ``wsa:From`` address, or None when neither ``from_address`` nor ``own_oin`` is set."""
        if self.from_address:
            return self.from_address
        return f"{OIN_URI_PREFIX}{self.own_oin}" if self.own_oin else None
