"""Thin client for vangnet's provider invoice feed (``schemas/providers/openapi.yaml``).

Every request stays under ``settings.base_url`` (an invoice id that walks out with ``..`` raises
:class:`FeedRefusedUrl` before a request is made); redirects are not followed. Transient failures
are retried up to ``max_attempts``, status reports included (they carry an ``Idempotency-Key``).
Logs and errors name the feed, the endpoint path and the HTTP status / problem code; never the token
or a body.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import ssl
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from connectors.rest import (
    backoff_seconds, clean, loads_json, pinned_url, problem_code_title, read_limited, retry_after_seconds,
)
from connectors.tls import TlsFilesError, caused_by_tls, client_ssl_context

from .errors import FeedProtocolError, FeedRefusedUrl, FeedRejected, FeedTooLarge, FeedUnavailable, ProviderFeedError
from .settings import FeedSettings

__all__ = ["FeedItem", "FeedPage", "ProviderFeedClient", "Reason", "StatusReceipt"]

log = logging.getLogger(__name__)

MAX_JSON_BYTES = 5 * 1024 * 1024
STATUSES = ("received", "accepted", "rejected")
_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class FeedItem:
    """One invoice in the feed; ``sha256`` is the hex digest of its document."""

    id: str
    invoice_number: str
    received_at: datetime
    content_type: str
    sha256: str


@dataclass(frozen=True)
class FeedPage:
    """One page: its items, the cursor to ask for what follows, and whether more follows right now."""

    items: list[FeedItem]
    next_cursor: str
    has_more: bool


@dataclass(frozen=True)
class Reason:
    """Why an invoice was rejected: a stable ``code`` (rule id), a message, optionally the line id."""

    code: str
    message: str
    line: str | None = None


@dataclass(frozen=True)
class StatusReceipt:
    """The provider's answer to a status report (the same receipt again for a repeated key)."""

    invoice_id: str
    status: str
    report_id: str


class ProviderFeedClient:
    """List, download and report on one provider's invoices. Configuration in, typed data out; no business
    rules. ``transport`` replaces the network (``httpx.MockTransport`` in tests); TLS settings then do not apply."""

    def __init__(self, settings: FeedSettings, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        verify: ssl.SSLContext | bool = True if transport is not None else self._tls_context()
        self._http = httpx.Client(transport=transport, verify=verify, trust_env=False, follow_redirects=False,
                                  timeout=settings.timeout_seconds, headers={"User-Agent": "vangnet-provider-feed"})

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> ProviderFeedClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- operations ------------------------------------------------------------------------------
    def list_since(self, cursor: str | None, limit: int | None = None) -> FeedPage:
        """The page after ``cursor`` (None: from the first invoice), at most ``limit`` items."""
        query = {"limit": limit or self.settings.page_limit, **({"since": cursor} if cursor is not None else {})}
        raw = self._call("GET", f"invoices?{urlencode(query)}", accept="application/json")
        return self._page(raw)

    def iter_new(self, cursor: str | None) -> Iterator[tuple[FeedItem, str | None]]:
        """Every item after ``cursor``, page by page (one page in memory), each with the cursor to store once
        that item is safely handled: a restart from it misses nothing. That is the page's own start cursor
        (None: from the beginning) for all but its last item, ``next_cursor`` for the last; so a restart may
        list part of a page again, and the caller skips ids it already has."""
        while True:
            page = self.list_since(cursor, self.settings.page_limit)
            if page.has_more and (not page.items or page.next_cursor == cursor):
                raise FeedProtocolError(f"provider feed {self.settings.name} says more items follow but its cursor "
                                        "does not move; stopped to avoid a loop: ask the provider to check its feed")
            for i, item in enumerate(page.items):
                yield item, (page.next_cursor if i == len(page.items) - 1 else cursor)
            if not page.has_more:
                return
            cursor = page.next_cursor

    def download(self, item_id: str, *, sha256: str | None = None) -> bytes:
        """The document's bytes, refused above ``max_document_bytes`` (:class:`FeedTooLarge`). With ``sha256``
        (the feed item's) a document that does not match is fetched again, then :class:`FeedUnavailable`."""
        return self._call("GET", f"invoices/{_segment(item_id)}/document", accept="application/xml",
                          limit=self.settings.max_document_bytes, sha256=sha256)

    def report_status(self, item_id: str, status: str, reasons: Sequence[Reason | Mapping[str, str]] = (), *,
                      idempotency_key: str) -> StatusReceipt:
        """Report ``received`` / ``accepted`` / ``rejected`` (with reasons). A repeat with the same key and
        body records nothing new and answers the same receipt."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        if not isinstance(idempotency_key, str) or not _KEY.fullmatch(idempotency_key):
            raise ValueError("idempotency_key must be 1-255 printable ASCII characters without spaces")
        body = {"status": status, "reasons": [_reason(r) for r in reasons]}
        raw = self._call("POST", f"invoices/{_segment(item_id)}/status", accept="application/json",
                         body=json.dumps(body).encode(), key=idempotency_key)
        data = self._json(raw, "POST status")
        try:
            receipt = StatusReceipt(str(data["invoice_id"]), str(data["status"]), str(data["report_id"]))
        except (KeyError, TypeError):
            raise self._protocol("POST status", "a receipt without invoice_id, status or report_id") from None
        if receipt.invoice_id != item_id or receipt.status != status:
            raise self._protocol("POST status", "a receipt for another invoice or status; check the "
                                 "Idempotency-Key handling there")
        return receipt

    # -- answers ---------------------------------------------------------------------------------
    def _page(self, raw: bytes) -> FeedPage:
        data = self._json(raw, "GET invoices")
        try:
            items = [FeedItem(id=_text(i["id"]), invoice_number=_text(i["invoice_number"]),
                              received_at=_aware(i["received_at"]), content_type=_text(i["content_type"]),
                              sha256=_text(i["sha256"], _SHA256)) for i in data["items"]]
            page = FeedPage(items, _text(data["next_cursor"]), data["has_more"])
        except (KeyError, TypeError, ValueError) as exc:
            raise self._protocol("GET invoices", f"a page outside the contract ({type(exc).__name__})") from None
        if not isinstance(page.has_more, bool):
            raise self._protocol("GET invoices", "a page whose has_more is not true/false")
        return page

    def _json(self, raw: bytes, endpoint: str) -> Any:
        try:
            data = loads_json(raw)
        except ValueError:
            raise self._protocol(endpoint, "no JSON; check base_url") from None
        if not isinstance(data, dict):
            raise self._protocol(endpoint, "JSON that is not an object")
        return data

    def _protocol(self, endpoint: str, what: str) -> FeedProtocolError:
        return FeedProtocolError(f"provider feed {self.settings.name} answered {endpoint} with {what}")

    # -- plumbing --------------------------------------------------------------------------------
    def _tls_context(self) -> ssl.SSLContext:
        s = self.settings
        try:
            return client_ssl_context(ca_bundle=s.ca_bundle_path, client_cert=s.client_cert_path,
                                      client_key=s.client_key_path)
        except TlsFilesError as exc:
            raise ProviderFeedError(f"provider feed {s.name}: {exc}") from None

    def _call(self, method: str, target: str, *, accept: str, body: bytes | None = None, key: str | None = None,
              limit: int = MAX_JSON_BYTES, sha256: str | None = None) -> bytes:
        s = self.settings
        url, shown = pinned_url(s.base_url, target)
        if url is None:
            raise FeedRefusedUrl(f"refusing to call {shown}: only URLs under {s.base_url} are used for provider "
                                 f"feed {s.name}; check the invoice id, or base_url if the feed moved")
        endpoint = f"{method} {urlsplit(url).path}"
        headers = {"Accept": accept}
        if s.token is not None:
            headers["Authorization"] = f"Bearer {s.token.get_secret_value()}"
        if body is not None:
            headers["Content-Type"] = "application/json"
        if key is not None:
            headers["Idempotency-Key"] = key
        retrying = Retrying(
            retry=retry_if_exception_type(FeedUnavailable), stop=stop_after_attempt(s.max_attempts),
            wait=self._wait, reraise=True,
            before_sleep=lambda state: log.warning("provider feed %s: %s failed (attempt %d of %d), retrying: %s",
                                                   s.name, endpoint, state.attempt_number, s.max_attempts,
                                                   state.outcome.exception()))
        for attempt in retrying:
            with attempt:
                raw = self._send(method, url, body, headers, endpoint, limit)
                if sha256 is not None and hashlib.sha256(raw).hexdigest() != sha256:
                    raise FeedUnavailable(f"provider feed {s.name}: the document of {endpoint} does not match its "
                                          "sha256 (cut off or changed); try again later, or ask the provider")
                return raw
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, state: RetryCallState) -> float:
        s = self.settings
        exc = state.outcome.exception() if state.outcome else None
        return backoff_seconds(state.attempt_number, base=s.retry_backoff_seconds, cap=s.retry_max_backoff_seconds,
                               retry_after=exc.retry_after if isinstance(exc, FeedUnavailable) else None,
                               retry_after_cap=s.retry_after_cap_seconds)

    def _send(self, method: str, url: str, body: bytes | None, headers: dict[str, str], endpoint: str,
              limit: int) -> bytes:
        name, timeout = self.settings.name, self.settings.timeout_seconds
        try:
            with self._http.stream(method, url, content=body, headers=headers) as resp:
                raw = read_limited(resp, limit)
        except httpx.TimeoutException:
            raise FeedUnavailable(f"provider feed {name} did not answer {endpoint} within {timeout} s; "
                                  "try again later") from None
        except httpx.ConnectError as exc:
            if caused_by_tls(exc):
                raise ProviderFeedError(f"TLS with provider feed {name} failed for {endpoint}; check "
                                        "ca_bundle_path, the client certificate and the server certificate") from None
            raise FeedUnavailable(f"provider feed {name} refused the connection for {endpoint}; check base_url "
                                  "and that the feed is up, try again later") from None
        except httpx.TransportError as exc:
            if caused_by_tls(exc):  # TLS 1.3: a refused client certificate shows on the first read, not on connect
                raise ProviderFeedError(f"TLS with provider feed {name} failed for {endpoint}; check "
                                        "ca_bundle_path, the client certificate and the server certificate") from None
            raise FeedUnavailable(f"provider feed {name} dropped the connection during {endpoint} "
                                  f"({type(exc).__name__}); try again later") from None
        status = resp.status_code
        log.debug("provider feed %s: %s -> HTTP %d", name, endpoint, status)
        if raw is None:
            raise FeedTooLarge(f"provider feed {name} answered {endpoint} with more than {limit} bytes; refused "
                               "(raise max_document_bytes only if such documents are expected)")
        if 200 <= status < 300:
            ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
            wanted = ("application/xml", "text/xml") if "xml" in headers["Accept"] else ("application/json",)
            if ctype not in wanted:
                raise FeedProtocolError(f"provider feed {name} answered {endpoint} with Content-Type "
                                        f"{clean(ctype, 60) or 'none'} instead of {wanted[0]}; check base_url")
            return raw
        code, title = problem_code_title(raw)
        why = f"HTTP {status}" + (f", {code}" if code else "") + (f": {title}" if title else "")
        if status in (408, 429) or status >= 500:
            raise FeedUnavailable(f"provider feed {name} answered {endpoint} with {why}; try again later",
                                  retry_after=retry_after_seconds(resp.headers.get("Retry-After")))
        if 300 <= status < 400:
            raise FeedProtocolError(f"provider feed {name} redirected {endpoint} (HTTP {status}); redirects are "
                                    "not followed: set base_url to the feed's real address")
        todo = ("check the token and client certificate agreed with the provider" if status in (401, 403)
                else "not retried: check the request and the configuration")
        raise FeedRejected(f"provider feed {name} refused {endpoint} ({why}); {todo}", status=status, code=code,
                           title=title)


def _segment(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("an invoice id must be a non-empty string")
    return quote(value, safe="")


def _reason(reason: Reason | Mapping[str, str]) -> dict[str, str]:
    r = reason if isinstance(reason, Reason) else Reason(reason["code"], reason["message"], reason.get("line"))
    return {"code": r.code, "message": r.message, **({"line": r.line} if r.line is not None else {})}


def _text(value: Any, pattern: re.Pattern[str] | None = None) -> str:
    if not isinstance(value, str) or not value or (pattern is not None and not pattern.fullmatch(value)):
        raise ValueError("not a valid string")
    return value


def _aware(value: Any) -> datetime:
    when = datetime.fromisoformat(_text(value))
    if when.tzinfo is None:
        raise ValueError("date-time without offset")
    return when
