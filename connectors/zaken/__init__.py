"""VNG ZGW Zaken API connector: register one zaak per case, set its statuses, add the vangnetter's rol.

See README.md.
"""

from __future__ import annotations

from .client import Zaak, ZakenClient
from .errors import (
    ZakenAuthError,
    ZakenError,
    ZakenProtocolError,
    ZakenRefusedUrl,
    ZakenRejected,
    ZakenUnavailable,
)
from .settings import ZakenSettings

__all__ = [
    "Zaak",
    "ZakenAuthError",
    "ZakenClient",
    "ZakenError",
    "ZakenProtocolError",
    "ZakenRefusedUrl",
    "ZakenRejected",
    "ZakenSettings",
    "ZakenUnavailable",
]
