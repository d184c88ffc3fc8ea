"""ZIEKMELDING_VANGNETTER: open a case per person with the WVP calendar, or link to the case it belongs to."""

from __future__ import annotations

from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import store
from rules.signal_effects import illness_period
from rules.wvp import wvp_calendar
from schemas.case import CaseStatus
from schemas.signal import Signal
from services.signal_handling.common import Applied, audit, done, person_cases
from store.models import Case, SignalRow

REDEN_NOG_TE_BEOORDELEN = "Ziekmelding ontvangen; de overnametoets (LKS in de twee jaar ervoor) volgt."


def apply_ziekmelding(session: Session, row: SignalRow, signal: Signal, *, received_on: date) -> Applied:
    """A repeat for a person with an active case links to it; a first sick day inside a closed period
    links to that closed case; otherwise a new case opens. Its D is the first day of an earlier
    period when this one starts less than 4 weeks after that period's recovery (ZW 29(5))."""
    case, closed = person_cases(session, signal.gemeentecode, signal.bsn)
    if case is not None:
        audit(session, "signal.linked", row, case)
        return done(session, row, case, "linked")

    period = illness_period(signal.eerste_ziektedag, closed)
    if period.same_case is not None:
        case = session.get(Case, period.same_case)
        audit(session, "signal.linked", row, case, eerste_ziektedag=signal.eerste_ziektedag,
              reden="de eerste ziektedag valt in deze al gesloten ziekteperiode; de zaak blijft gesloten")
        return done(session, row, case, "linked")

    try:
        case = store.create_case(
            session,
            gemeentecode=signal.gemeentecode,
            bsn=signal.bsn,
            eerste_ziektedag=period.eerste_ziektedag,
            datum_einde_dienstverband=signal.datum_einde_dienstverband,
            datum_melding=signal.datum_melding,
            datum_ontvangst=received_on,
            besluit=None,
            reden=REDEN_NOG_TE_BEOORDELEN,
            status=CaseStatus.OPEN,
            opened_on=received_on,
        )
    except IntegrityError:
        # Another worker opened this person's case at the same moment: this one is a repeat.
        case = store.find_active_case(session, signal.gemeentecode, signal.bsn)
        if case is None:
            raise
        audit(session, "signal.linked", row, case)
        return done(session, row, case, "linked")

    store.add_steps(session, case, wvp_calendar(
        period.eerste_ziektedag, datum_ontvangst=received_on, datum_melding=signal.datum_melding,
    ))
    audit(session, "case.opened", row, case, reden=REDEN_NOG_TE_BEOORDELEN, eerste_ziektedag=period.eerste_ziektedag)
    if period.samengeteld_met:
        refs = [session.get(Case, case_id).ref for case_id in period.samengeteld_met]
        audit(session, "case.samengeteld", row, case, vorige_zaken=refs,
              eerste_ziektedag=(signal.eerste_ziektedag, period.eerste_ziektedag),
              reden=(f"minder dan 4 weken na herstel in {refs[-1]} opnieuw ziek: de perioden tellen als één "
                     f"(ZW 29(5)); D is {period.eerste_ziektedag}"))
    applied = done(session, row, case, "opened")
    return Applied(case=case, case_created=True, parked=False, effect=applied.effect)
