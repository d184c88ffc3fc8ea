"""Shared pieces of the REST connectors (Zaken API, arbodienst, provider feeds): settings, a base URL that is never left, bounded
reads, Retry-After and back-off, and server text made safe for messages. Each connector raises its own
errors around these."""

from __future__ import annotations

import json
import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Self
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator


class RestSettings(BaseModel):
    """Where one partner's REST API is and how to reach it (bearer token and/or mutual TLS), with the
    retry budget. Each connector's settings add their own fields. Paths point at PEM files; ``token`` is
    the only secret and has no default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    """Short name, e.g. ``arbodienst-demo``; used in messages, logs and Prefect concurrency limit names."""
    base_url: str
    """Root of the API, e.g. ``https://partner.example.nl/api/v1/`` (a trailing ``/`` is added). Every call
    stays under it."""
    token: SecretStr | None = None
    """Bearer token agreed with the partner, when it uses one."""
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

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be an http(s) URL with a host, got scheme {parts.scheme!r}")
        if parts.username or parts.password:
            raise ValueError("base_url must not contain credentials")
        if parts.query or parts.fragment:
            raise ValueError("base_url must not have a query or fragment")
        return value if value.endswith("/") else value + "/"

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.client_cert_path is None) != (self.client_key_path is None):
            raise ValueError("client_cert_path and client_key_path go together: set both or neither")
        if self.token is not None and not self.token.get_secret_value().strip():
            raise ValueError("token must not be empty (leave it unset when the partner uses mutual TLS only)")
        return self


def loads_json(raw: bytes | str) -> Any:
    """``json.loads`` that raises only ``ValueError`` for a body that is not usable JSON, also for one
    nested so deep that the parser runs out of stack (a ``RecursionError`` otherwise)."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def clean(text: Any, limit: int = 120) -> str:
    """Server text for messages: long digit runs (possible BSNs) masked, whitespace collapsed, capped."""
    return re.sub(r"\d{9,}", "<number>", " ".join(str(text).split()))[:limit]


def _port(parts: Any) -> int | None:
    return parts.port or {"http": 80, "https": 443}.get(parts.scheme)


def pinned_url(base_url: str, target: str) -> tuple[str | None, str]:
    """(`target` as a URL under `base_url`, or None when it leaves it; the URL as shown in messages).

    `target` may be relative to base_url or absolute (a URL the server handed us). Refused: another
    scheme, host or port, credentials in the URL, backslashes, a path outside base_url, dot segments.
    """
    parts = urlsplit(target)
    url = target if parts.scheme or parts.netloc else urljoin(base_url, target)
    p, base = urlsplit(url), urlsplit(base_url)
    try:
        same_origin = (p.scheme, p.hostname, _port(p)) == (base.scheme, base.hostname, _port(base))
        port = f":{p.port}" if p.port else ""
    except ValueError:  # an unparsable port
        same_origin, port = False, ""
    shown = clean(f"{p.scheme}://{p.hostname or ''}{port}{p.path}", 200)
    # a dot segment also when decoded, written with a backslash (IIS) or with a ;parameter (Tomcat, Jetty)
    segments = [seg.split(";", 1)[0] for path in (p.path, parts.path)
                for seg in unquote(path).replace("\\", "/").split("/")]
    ok = (same_origin and not p.username and not p.password and "\\" not in url
          and p.path.startswith(base.path) and not any(seg in (".", "..") for seg in segments))
    return (urlunsplit((p.scheme, p.netloc, p.path, p.query, "")) if ok else None), shown


def read_limited(resp: httpx.Response, limit: int) -> bytes | None:
    """The body of a streamed response, or None when it is (or says it is) larger than `limit` bytes."""
    declared = resp.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    content = bytearray()
    for chunk in resp.iter_bytes():
        content += chunk
        if len(content) > limit:
            return None
    return bytes(content)


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(when.tzinfo)).total_seconds())


def backoff_seconds(attempt: int, *, base: float, cap: float, retry_after: float | None, retry_after_cap: float) -> float:
    """Exponential back-off for `attempt` (1-based), stretched to the server's Retry-After (capped)."""
    backoff = min(base * 2 ** (attempt - 1), cap)
    if retry_after is not None:
        return max(backoff, min(retry_after, retry_after_cap))
    return backoff


def problem_code_title(raw: bytes) -> tuple[str | None, str | None]:
    """``code`` and ``title`` of an RFC 7807 problem answer (cleaned); ``detail`` is never read (it may
    quote what was sent)."""
    try:
        data = loads_json(raw)
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    code, title = data.get("code"), data.get("title")
    return (clean(code, 80) if code else None), (clean(title) if title else None)
