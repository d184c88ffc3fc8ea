"""vangnet's own arbodienst booking contract (OpenAPI 3.0.3), shipped as package data.

No arbodienst publishes a common booking API, so vangnet owns this one (``openapi.yaml``): slots,
bookings with an ``Idempotency-Key``, cancel / reschedule, and the bedrijfsarts' advice document.
The connector (``connectors/arbodienst``) speaks it; the simulator (``simulators/arbodienst.py``)
validates every request against it.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ARBODIENST_DIR", "BASE_PATH", "OPENAPI_PATH"]

ARBODIENST_DIR = Path(__file__).resolve().parent
OPENAPI_PATH = ARBODIENST_DIR / "openapi.yaml"
"""The contract file."""
BASE_PATH = "/api/v1"
"""Path prefix of every operation (the ``servers`` entry of the contract)."""
