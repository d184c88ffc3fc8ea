"""Errors of the Suwinet connector. Messages say what went wrong, where (host only) and what to do.

They never contain a BSN or message bodies; FWI texts are cleaned before they get here.
"""

from __future__ import annotations

from mappings.suwinet import FwiMelding

__all__ = ["SuwinetConfigError", "SuwinetError", "SuwinetProtocolError", "SuwinetRejected", "SuwinetSecurityError",
           "SuwinetUnavailable"]


class SuwinetError(Exception):
    """Base class for everything the Suwinet connector raises.

    ``fouten`` holds the FWI entries (code + cleaned omschrijving) when Suwinet sent any.
    """

    def __init__(self, message: str, *, fouten: tuple[FwiMelding, ...] = ()) -> None:
        super().__init__(message)
        self.fouten = fouten


class SuwinetUnavailable(SuwinetError):
    """Transient: network error, timeout, HTTP 5xx, ``soap:Server`` fault, or an FWI code configured as
    transient (``fwi_retry_codes``). Retried up to ``max_attempts``; a later run may simply try again."""


class SuwinetRejected(SuwinetError):
    """The request was refused: an invalid BSN (never sent), a ``soap:Client`` fault, HTTP 4xx, or an FWI
    error answer. Never retried: fix the request or the configuration, or ask BKWI about the FWI code."""


class SuwinetSecurityError(SuwinetError):
    """TLS failed, the answer was XML we refuse to parse, or it failed the Digikoppeling checks (unsigned,
    expired, tampered, wrong certificate, not related to our request). Never retried."""


class SuwinetProtocolError(SuwinetError):
    """Suwinet answered with something outside the contract (wrong element, bad date, too large, someone
    else's data). Not retried: the answer is not used."""


class SuwinetConfigError(SuwinetError):
    """The operation's endpoint is not configured (e.g. WV polling is switched off for this gemeente)."""
