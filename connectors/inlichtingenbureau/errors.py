"""Errors of the IB connector. Messages are for people: what went wrong, where (host only), what to do.

They never contain message bodies: signals carry BSNs.
"""

from __future__ import annotations

__all__ = ["IbError", "IbProtocolError", "IbRejected", "IbSecurityError", "IbUnavailable"]


class IbError(Exception):
    """Base class for everything the IB connector raises."""


class IbUnavailable(IbError):
    """Transient: network error, timeout, dropped connection, HTTP 5xx or a ``soap:Server`` fault.

    Retried by the client up to ``max_attempts``; when raised, the next run may simply try again.
    """


class IbRejected(IbError):
    """IB refused the request (``soap:Client`` fault or HTTP 4xx). Never retried: fix the request or config."""


class IbSecurityError(IbError):
    """TLS could not be set up or verified, or IB sent XML we refuse to parse (DTD, wrong encoding)."""


class IbProtocolError(IbError):
    """IB answered, but not with something this contract allows (wrong element, too large, not XML)."""
