"""Configuration of the IB connector; the application's settings object builds one of these."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connectors.digikoppeling import DigikoppelingSettings
from schemas.ib import WSDL_PATH

__all__ = ["IbSettings"]


class IbSettings(BaseModel):
    """Where IB is and how to talk to it. Paths point at PEM files; nothing here is a secret itself."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    endpoint: str
    """SOAP endpoint URL (overrides the placeholder address in the WSDL)."""
    wsdl_path: Path = WSDL_PATH
    """Local WSDL; its XSD import is read from disk too, never fetched over the network."""
    timeout_seconds: float = Field(default=30.0, gt=0)
    client_cert_path: Path | None = None
    client_key_path: Path | None = None
    ca_bundle_path: Path | None = None
    """When set, the server is verified against this bundle only (environment CA overrides are ignored)."""
    max_attempts: int = Field(default=3, ge=1, le=20)
    """Total tries for transient failures (1 = no retry)."""
    retry_backoff_seconds: float = Field(default=0.5, ge=0)
    """First wait between tries; doubles per try up to ``retry_max_backoff_seconds``."""
    retry_max_backoff_seconds: float = Field(default=8.0, ge=0)
    max_message_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    """Largest response accepted; bigger answers are cut off and refused."""
    digikoppeling: DigikoppelingSettings = Field(default_factory=DigikoppelingSettings)
    """WUS profile: ``2W-be`` (default: WS-Addressing, no signing) or ``2W-be-S`` (every request signed,
    every reply verified against ``trusted_sender_cert_path``, IB's signing certificate)."""

    @field_validator("endpoint")
    @classmethod
    def _endpoint_is_http(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("endpoint must be an http(s) URL with a host, e.g. https://ib.example.nl/signalen")
        if parts.username or parts.password:
            raise ValueError("endpoint must not contain credentials; use client certificates")
        return value

    @model_validator(mode="after")
    def _cert_and_key_together(self) -> IbSettings:
        if (self.client_cert_path is None) != (self.client_key_path is None):
            raise ValueError("set both client_cert_path and client_key_path, or neither")
        return self

    @property
    def endpoint_host(self) -> str:
        """Host name only, for messages and logs."""
        return urlsplit(self.endpoint).hostname or "?"
