"""Recording what happened on the WVP steps: done, art. 7 deviations, with the audit trail (bijstellingen: test_dossier)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

import store
from schemas.case import CaseStatus, Stap
from rules.wvp import wvp_calendar
from services.steps import StepError, mark_done, record_deviation

D = date(2027, 1, 4)
TODAY = date(2027, 3, 1)


@pytest.fixture
def case_ref(engine):
    with store.session_scope(engine) as s:
        case = store.create_case(s, gemeentecode="0518", bsn="999990019", eerste_ziektedag=D, datum_ontvangst=date(2027, 2, 1),
                                 opened_on=date(2027, 2, 1), status=CaseStatus.OPEN)
        store.replace_steps(s, case, wvp_calendar(D, datum_ontvangst=date(2027, 2, 1)))
        return case.ref


def steps(engine, ref):
    with store.session_scope(engine) as s:
        case = store.get_case(s, ref)
        return {st.stap: st for st in store.steps_for(s, case)}, store.audit_for_case(s, case.id)


def test_probleemanalyse_done_moves_plan_van_aanpak(engine, case_ref):
    mark_done(engine, case_ref, Stap.PROBLEEMANALYSE, on=date(2027, 2, 10), by="casemanager-1", today=TODAY)
    st, audit = steps(engine, case_ref)
    assert st[Stap.PROBLEEMANALYSE].done_on == date(2027, 2, 10)
    assert st[Stap.PLAN_VAN_AANPAK].datum == date(2027, 2, 24)  # 14 days after the real date, not after D+42
    assert audit[-1].action == "step.done" and audit[-1].actor == "casemanager-1"


def test_deviation_needs_reason_and_consultation_and_survives_a_recompute(engine, case_ref):
    with pytest.raises(StepError, match="gemotiveerd"):
        record_deviation(engine, case_ref, Stap.HERIJKING_1, new_date=date(2027, 8, 1), reason=" ",
                         consulted_on=TODAY, by="x", today=TODAY)
    with pytest.raises(StepError, match="art. 7"):
        record_deviation(engine, case_ref, Stap.RIV, new_date=date(2028, 12, 1), reason="r", consulted_on=TODAY,
                         by="x", today=TODAY)
    with pytest.raises(StepError, match="toekomst"):
        record_deviation(engine, case_ref, Stap.HERIJKING_1, new_date=date(2027, 8, 1), reason="r",
                         consulted_on=TODAY + timedelta(days=1), by="x", today=TODAY)
    record_deviation(engine, case_ref, Stap.HERIJKING_1, new_date=date(2027, 8, 1), reason="opname in juli",
                     consulted_on=date(2027, 2, 26), by="casemanager-1", today=TODAY)
    mark_done(engine, case_ref, Stap.PROBLEEMANALYSE, on=date(2027, 2, 10), by="cm", today=TODAY)  # recomputes
    st, audit = steps(engine, case_ref)
    h1 = st[Stap.HERIJKING_1]
    assert (h1.datum, h1.wettelijke_datum) == (date(2027, 8, 1), D + timedelta(weeks=26))
    assert (h1.deviation_reason, h1.deviation_consulted_on) == ("opname in juli", date(2027, 2, 26))
    deviation = next(e for e in audit if e.action == "step.deviation")
    assert deviation.details == {"stap": "herijking_1", "oud": "2027-07-05", "nieuw": "2027-08-01",
                                 "reden": "opname in juli", "overlegd_op": "2027-02-26"}


def test_unknown_case_is_a_clear_error(engine):
    with pytest.raises(StepError, match="geen zaak"):
        mark_done(engine, "VN-999999", Stap.RIV, on=TODAY, by="x", today=TODAY)
