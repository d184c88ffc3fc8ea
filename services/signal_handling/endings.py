"""BETERMELDING, EINDE_ZW, EZWB_UITSLAG and VERHUIZING: close, transfer or note on the active case."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from rules.signal_effects import EffectKind, ending_effect
from schemas.case import CaseStatus
from schemas.signal import Signal
from services.signal_handling.common import Applied, audit, close, done, facts, flag, park, person_cases
from store.models import Case, SignalRow


def apply_ending(session: Session, row: SignalRow, signal: Signal, *, received_on: date) -> Applied:
    """Apply an ending signal (or a correction standing in for one: `signal.soort` is the kind it acts as)."""
    active, closed = person_cases(session, signal.gemeentecode, signal.bsn)
    effect = ending_effect(signal, facts(active) if active else None, closed, received_on=received_on)
    if effect.kind is EffectKind.PARK:
        return park(session, row, effect.reason)
    case = session.get(Case, effect.case_id)
    if effect.kind is EffectKind.NOTE:
        audit(session, "signal.noted", row, case, reden=effect.reason)
        return done(session, row, case, "noted", link=effect.link)
    if effect.kind is EffectKind.FLAG:
        flag(session, row, case, effect.reason)
        return done(session, row, case, "flagged")
    action = "case.transferred" if effect.status is CaseStatus.OVERGEDRAGEN else "case.closed"
    close(session, row, case, status=effect.status, on=effect.on, reason=effect.reason, action=action)
    return done(session, row, case, "closed")
