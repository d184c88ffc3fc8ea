"""Errors of the Zaken API connector. Messages are for people: what went wrong, which endpoint, what to do.

They never contain request or response bodies or field values: a rol carries a BSN, and a server's
error text may echo what we sent. Only ZGW problem codes and field *names* are kept.
"""

from __future__ import annotations

__all__ = [
    "ZakenAuthError",
    "ZakenError",
    "ZakenProtocolError",
    "ZakenRefusedUrl",
    "ZakenRejected",
    "ZakenUnavailable",
]


class ZakenError(Exception):
    """Base class for everything the Zaken connector raises."""


class ZakenUnavailable(ZakenError):
    """Transient: timeout, connection error, HTTP 5xx or 429. Retried by the client up to ``max_attempts``.

    ``maybe_processed`` is True when the server may have handled the request before it failed (a read
    timeout, a dropped connection, a 500): such a POST of a status or rol is not repeated by the client,
    because the Zaken API has no key that would make the repeat harmless.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, maybe_processed: bool = True) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.maybe_processed = maybe_processed


class ZakenRejected(ZakenError):
    """The Zaken API refused the request (HTTP 4xx other than 401/403). Never retried: fix the data or
    configuration. ``code``/``title`` come from the ZGW problem answer; ``invalid_params`` holds
    ``(field name, error code)`` pairs, never the values."""

    def __init__(self, message: str, *, status: int, code: str | None = None, title: str | None = None,
                 invalid_params: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.title = title
        self.invalid_params = invalid_params

    @property
    def param_codes(self) -> set[str]:
        """The error codes in ``invalid_params``, e.g. ``{"identificatie-niet-uniek"}``."""
        return {code for _, code in self.invalid_params}


class ZakenAuthError(ZakenError):
    """HTTP 401/403: the JWT was refused or the client_id lacks the authorisation. Never retried."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class ZakenRefusedUrl(ZakenError):
    """A URL outside the configured ``base_url`` was refused before any request was made."""


class ZakenProtocolError(ZakenError):
    """The Zaken API answered, but not with something the contract allows (not JSON, no ``url``, too large)."""
