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
    """TLS could not be set up or verified, IB sent XML we refuse to parse (DTD, wrong encoding), or a reply
    failed the Digikoppeling checks: unsigned, expired, tampered or signed with another certificate (2W-be-S),
    or not related to our request (wsa:RelatesTo/Action). Never retried: the reply is not used."""


class IbProtocolError(IbError):
    """IB answered, but not with something this contract allows (wrong element, too large, not XML)."""
