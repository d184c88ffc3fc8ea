"""vangnet's own provider invoice-feed contract (OpenAPI 3.0.3), shipped as package data.

Providers have no common API for handing e-invoices to a gemeente, so vangnet owns this one
(``openapi.yaml``): list new invoices since a cursor, download the UBL, report a status back with an
``Idempotency-Key``. The connector (``connectors/providers``) speaks it; the simulator
(``simulators/providers.py``) validates every request against it.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["OPENAPI_PATH"]

OPENAPI_PATH = Path(__file__).resolve().parent / "openapi.yaml"
"""The contract file."""
