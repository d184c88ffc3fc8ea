"""Errors of the provider feed connector. Messages are for people: which feed, what went wrong, what to do.

They never contain the token, a request or response body or a server's ``detail`` text (which may
echo what we sent); only the HTTP status and the problem ``code``/``title``, cleaned.
"""

from __future__ import annotations

__all__ = ["FeedProtocolError", "FeedRefusedUrl", "FeedRejected", "FeedTooLarge", "FeedUnavailable",
           "ProviderFeedError"]


class ProviderFeedError(Exception):
    """Base class for everything the provider feed connector raises. A TLS failure (untrusted server,
    unreadable certificate files) is a plain ``ProviderFeedError``."""


class FeedUnavailable(ProviderFeedError):
    """Transient: timeout, connection error, HTTP 5xx, 408 or 429, or a document that did not match its
    ``sha256`` (a cut-off transfer). Already retried up to ``max_attempts`` times; try again later (a
    status report with the same ``Idempotency-Key``). ``retry_after`` is the server's last ``Retry-After``."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FeedRejected(ProviderFeedError):
    """The provider refused the request (HTTP 4xx, 401/403 included). Never retried: fix the data or the
    configuration. ``code``/``title`` come from the problem answer."""

    def __init__(self, message: str, *, status: int, code: str | None = None, title: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.title = title


class FeedProtocolError(ProviderFeedError):
    """The provider answered, but not as the contract says (not JSON, missing fields, a redirect, a cursor
    that does not move)."""


class FeedTooLarge(FeedProtocolError):
    """An answer larger than allowed (``max_document_bytes`` for documents); refused, never truncated."""


class FeedRefusedUrl(ProviderFeedError):
    """A URL outside the configured ``base_url`` was refused before any request was made."""
