"""Errors of the arbodienst connector. Messages are for people: what went wrong, which endpoint, what to do.

They never contain request or response bodies or field values: a booking body may carry a BSN, an
advice is health data, and a server's error text may echo what we sent. Only problem codes and
titles are kept (with long digit runs masked).
"""

from __future__ import annotations

__all__ = [
    "ArbodienstAuthError",
    "ArbodienstError",
    "ArbodienstProtocolError",
    "ArbodienstRefusedUrl",
    "ArbodienstRejected",
    "ArbodienstSlotTaken",
    "ArbodienstUnavailable",
]


class ArbodienstError(Exception):
    """Base class for everything the arbodienst connector raises."""


class ArbodienstUnavailable(ArbodienstError):
    """Transient: timeout, connection error, HTTP 5xx, 408 or 429. The client already retried it up to
    ``max_attempts`` times (every POST carries an ``Idempotency-Key``, so repeats are harmless);
    try again later with the same key. ``retry_after`` is the server's last ``Retry-After`` in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ArbodienstSlotTaken(ArbodienstError):
    """HTTP 409 ``slot-bezet``: the slot is no longer free. Never retried: list slots and pick another."""

    def __init__(self, message: str, *, slot_id: str | None = None) -> None:
        super().__init__(message)
        self.slot_id = slot_id


class ArbodienstRejected(ArbodienstError):
    """The arbodienst refused the request (HTTP 4xx other than 401/403 and ``slot-bezet``). Never retried:
    fix the data or configuration. ``code``/``title`` come from the problem answer."""

    def __init__(self, message: str, *, status: int, code: str | None = None, title: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.title = title


class ArbodienstAuthError(ArbodienstError):
    """HTTP 401/403: the token or client certificate was refused. Never retried."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class ArbodienstRefusedUrl(ArbodienstError):
    """A URL outside the configured ``base_url`` was refused before any request was made."""


class ArbodienstProtocolError(ArbodienstError):
    """The arbodienst answered, but not with something the contract allows (not JSON, missing fields)."""
