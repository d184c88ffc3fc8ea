"""Configuration of one provider's invoice feed; the application's settings object builds these."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

__all__ = ["FeedSettings"]

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


class FeedSettings(BaseModel):
    """Where one provider's invoice feed is and how to authenticate (bearer token and/or mutual TLS).

    Paths point at PEM files; ``token`` is the only secret and has no default.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    """Short name of the feed, e.g. ``provider-voorbeeld``; used in messages and logs."""
    base_url: str
    """Root of the API, e.g. ``https://facturen.provider.example/api/v1/`` (a trailing ``/`` is added).
    Every call stays under it."""
    token: SecretStr | None = None
    """Bearer token agreed with the provider, when it uses one."""
    client_cert_path: Path | None = None
    """Our TLS client certificate (PEM), for mutual TLS; goes with ``client_key_path``."""
    client_key_path: Path | None = None
    ca_bundle_path: Path | None = None
    """When set, the server is verified against this bundle only (environment CA overrides are ignored)."""
    timeout_seconds: float = Field(default=15.0, gt=0)
    max_attempts: int = Field(default=3, ge=1, le=20)
    """Total tries for transient failures (1 = no retry)."""
    retry_backoff_seconds: float = Field(default=0.5, ge=0)
    """First wait between tries; doubles per try up to ``retry_max_backoff_seconds``."""
    retry_max_backoff_seconds: float = Field(default=8.0, ge=0)
    retry_after_cap_seconds: float = Field(default=30.0, ge=0)
    """A server's ``Retry-After`` is honoured up to this many seconds."""
    page_limit: int = Field(default=100, ge=1, le=500)
    """Items asked for per page by ``iter_new``."""
    max_document_bytes: int = Field(default=MAX_DOCUMENT_BYTES, ge=1024)
    """Largest document ``download`` accepts; a larger one is refused, not truncated."""

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be an http(s) URL with a host, got {value!r}")
        if parts.username or parts.password:
            raise ValueError("base_url must not contain credentials")
        if parts.query or parts.fragment:
            raise ValueError("base_url must not have a query or fragment")
        return value if value.endswith("/") else value + "/"

    @model_validator(mode="after")
    def _consistent(self) -> FeedSettings:
        if (self.client_cert_path is None) != (self.client_key_path is None):
            raise ValueError("client_cert_path and client_key_path go together: set both or neither")
        if self.token is not None and not self.token.get_secret_value().strip():
            raise ValueError("token must not be empty (leave it unset when the provider uses mutual TLS only)")
        return self
