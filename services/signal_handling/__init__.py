"""How each kind of UWV/IB signal changes the cases (domain.md §4).

The decisions are pure functions in `rules.signal_effects`; these modules look up the facts, do the
store work and write the audit trail. None of it creates a second active case or drops a signal:
what can't act yet is parked (GEPARKEERD) and replayed when the signal it waits for arrives.
"""

from __future__ import annotations

from services.signal_handling.common import ACTOR, Applied
from services.signal_handling.dispatch import apply_signal, replay_parked
from services.signal_handling.ziekmelding import REDEN_NOG_TE_BEOORDELEN

__all__ = ["ACTOR", "REDEN_NOG_TE_BEOORDELEN", "Applied", "apply_signal", "replay_parked"]
