"""Inlichtingenbureau (IB) connector: pull signals as raw XML, acknowledge them. See README.md."""

from __future__ import annotations

from .client import IbClient, RawSignal, SignalPage
from .errors import IbError, IbProtocolError, IbRejected, IbSecurityError, IbUnavailable
from .settings import IbSettings

__all__ = [
    "IbClient",
    "IbError",
    "IbProtocolError",
    "IbRejected",
    "IbSecurityError",
    "IbSettings",
    "IbUnavailable",
    "RawSignal",
    "SignalPage",
]
