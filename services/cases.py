"""What a valid signal does to the cases: open one per person, link repeats, compute the WVP dates.

This is the thin slice; the takeover decision (LKS check, woongemeente) and the other signal kinds
(betermelding, correctie, intrekking, ...) deepen it in later issues. Signals it can't apply yet are
parked, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

import store
from rules.wvp import wvp_calendar
from schemas.case import CaseStatus
from schemas.signal import SignaalSoort, Signal
from store.models import Case, SignalRow, SignalStatus

ACTOR = "vangnet/intake"
REDEN_NOG_TE_BEOORDELEN = "Ziekmelding ontvangen; de overnametoets (LKS in de twee jaar ervoor) volgt."


@dataclass(frozen=True)
class Applied:
    """What applying one signal did: the case it touched and whether that case is new."""

    case: Case | None
    case_created: bool
    parked: bool


def apply_signal(session: Session, row: SignalRow, signal: Signal, *, received_on: date) -> Applied:
    """Apply a stored, valid signal to the cases; `received_on` is the day it reached our inbox."""
    if signal.soort is not SignaalSoort.ZIEKMELDING_VANGNETTER:
        store.mark_signal(session, row, SignalStatus.GEPARKEERD)
        store.record_audit(session, actor=ACTOR, action="signal.parked",
                           details={"bericht_id": signal.bericht_id, "soort": signal.soort.value})
        return Applied(case=None, case_created=False, parked=True)

    case = store.find_active_case(session, signal.gemeentecode, signal.bsn)
    created = case is None
    if case is None:
        case = store.create_case(
            session,
            gemeentecode=signal.gemeentecode,
            bsn=signal.bsn,
            eerste_ziektedag=signal.eerste_ziektedag,
            datum_einde_dienstverband=signal.datum_einde_dienstverband,
            datum_melding=signal.datum_melding,
            datum_ontvangst=received_on,
            besluit=None,
            reden=REDEN_NOG_TE_BEOORDELEN,
            status=CaseStatus.OPEN,
            opened_on=received_on,
        )
        store.replace_steps(session, case, wvp_calendar(
            signal.eerste_ziektedag, datum_ontvangst=received_on, datum_melding=signal.datum_melding,
        ))
        store.record_audit(session, actor=ACTOR, action="case.opened", case_id=case.id,
                           details={"bericht_id": signal.bericht_id, "reden": REDEN_NOG_TE_BEOORDELEN})
    else:
        store.record_audit(session, actor=ACTOR, action="signal.linked", case_id=case.id,
                           details={"bericht_id": signal.bericht_id})
    store.link_signal(session, row, case)
    store.mark_signal(session, row, SignalStatus.VERWERKT)
    return Applied(case=case, case_created=created, parked=False)
