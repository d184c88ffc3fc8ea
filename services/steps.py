"""What people record on a case's WVP steps: a step done, an art. 7 deviation (bijstellingen of the
plan van aanpak: services.dossier).

Each is an audit event (the dossier of Regeling art. 4) with who, when and why.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.engine import Engine

import store
from rules.wvp import wvp_calendar
from schemas.case import Stap
from store.models import Case, WvpStep

# Regeling art. 7: only the terms of art. 3 (probleemanalyse), 5 (plan van aanpak) and 6 (herijkingen)
# may be deviated from, with reasons, after consulting the vangnetter.
DEVIATABLE = (Stap.PROBLEEMANALYSE, Stap.PLAN_VAN_AANPAK, Stap.HERIJKING_1, Stap.HERIJKING_2, Stap.HERIJKING_3)


class StepError(ValueError):
    """The request can't be recorded; the message says why and what to do."""


def _case_and_step(session, case_ref: str, stap: Stap) -> tuple[Case, WvpStep]:
    case = store.get_case(session, case_ref)
    if case is None:
        raise StepError(f"er is geen zaak {case_ref!r}; zie `vangnet cases list`")
    step = next((s for s in store.steps_for(session, case) if s.stap is stap), None)
    if step is None:
        raise StepError(f"zaak {case.ref} heeft geen stap {stap.value}")
    return case, step


def mark_done(engine: Engine, case_ref: str, stap: Stap, *, on: date, by: str, today: date) -> None:
    """Record that a step happened on `on`. A probleemanalyse moves the plan-van-aanpak deadline to
    14 days after its real date (Regeling art. 5)."""
    if on > today:
        raise StepError(f"de datum {on} ligt in de toekomst; registreer een stap als hij gedaan is")
    with store.session_scope(engine) as session:
        case, step = _case_and_step(session, case_ref, stap)
        step.done_on = on
        if stap is Stap.PROBLEEMANALYSE and case.eerste_ziektedag:
            store.replace_steps(session, case, wvp_calendar(
                case.eerste_ziektedag, datum_ontvangst=case.datum_ontvangst, datum_melding=case.datum_melding,
                probleemanalyse_gedaan=on,
            ))
        store.record_audit(session, actor=by, action="step.done", case_id=case.id,
                           details={"stap": stap.value, "gedaan_op": on.isoformat()})


def record_deviation(engine: Engine, case_ref: str, stap: Stap, *, new_date: date, reason: str,
                     consulted_on: date, by: str, today: date) -> None:
    """Art. 7: move a step's date, with the reason and the date the vangnetter was consulted."""
    if stap not in DEVIATABLE:
        raise StepError(f"van de termijn van {stap.value} mag niet worden afgeweken (art. 7 geldt voor art. 3, 5 en 6)")
    if not reason.strip():
        raise StepError("een afwijking (art. 7) moet gemotiveerd worden: geef --reden")
    if consulted_on > today:
        raise StepError(f"het overleg met de vangnetter ({consulted_on}) kan niet in de toekomst liggen")
    with store.session_scope(engine) as session:
        case, step = _case_and_step(session, case_ref, stap)
        old = step.datum
        step.datum, step.deviation_reason, step.deviation_consulted_on = new_date, reason.strip(), consulted_on
        store.record_audit(session, actor=by, action="step.deviation", case_id=case.id, details={
            "stap": stap.value, "oud": old.isoformat(), "nieuw": new_date.isoformat(), "reden": reason.strip(),
            "overlegd_op": consulted_on.isoformat(),
        })
