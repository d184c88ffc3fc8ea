"""Arbodienst booking API connector: free slots, bookings (idempotent), cancel / reschedule, the advice.

See README.md. The contract is vangnet's own: ``schemas/arbodienst/openapi.yaml``.
"""

from __future__ import annotations

from mappings.arbodienst import Booking, BookingStatus, Person, Slot

from .client import ArbodienstClient
from .errors import (
    ArbodienstAuthError,
    ArbodienstError,
    ArbodienstProtocolError,
    ArbodienstRefusedUrl,
    ArbodienstRejected,
    ArbodienstSlotTaken,
    ArbodienstUnavailable,
)
from .settings import ArbodienstSettings

__all__ = [
    "ArbodienstAuthError",
    "ArbodienstClient",
    "ArbodienstError",
    "ArbodienstProtocolError",
    "ArbodienstRefusedUrl",
    "ArbodienstRejected",
    "ArbodienstSettings",
    "ArbodienstSlotTaken",
    "ArbodienstUnavailable",
    "Booking",
    "BookingStatus",
    "Person",
    "Slot",
]
