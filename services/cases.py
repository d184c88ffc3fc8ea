"""What a valid signal does to the cases: the entry point `apply_signal` used by intake.

The work lives in `services.signal_handling` (one module per group of signal kinds); this module
keeps the import path `services.cases.apply_signal` stable.
"""

from __future__ import annotations

from services.signal_handling import ACTOR, REDEN_NOG_TE_BEOORDELEN, Applied, apply_signal, replay_parked

__all__ = ["ACTOR", "REDEN_NOG_TE_BEOORDELEN", "Applied", "apply_signal", "replay_parked"]
