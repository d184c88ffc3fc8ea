"""The takeover date read back from the audit trail: the run's date (`besloten_op`), not the wall clock."""

from __future__ import annotations

from datetime import date, datetime, timezone

import store
from schemas.case import CaseStatus
from services.decisions import takeover_dates


def _case(session, bsn: str):
    return store.create_case(session, gemeentecode="0518", bsn=bsn, eerste_ziektedag=date(2027, 1, 4),
                             datum_ontvangst=date(2027, 2, 1), opened_on=date(2027, 2, 1), status=CaseStatus.OPEN)


def test_the_first_overname_decision_counts_with_its_run_date(engine):
    with store.session_scope(engine) as s:
        first, legacy, never = _case(s, "999990019"), _case(s, "999990020"), _case(s, "999990032")
        s.flush()
        for case, besluit, besloten_op in ((first, "HANDMATIG", "2027-02-01"), (first, "OVERNAME", "2027-02-03"),
                                           (first, "OVERNAME", "2027-03-01"), (never, "GEEN_LKS", "2027-02-01")):
            store.record_audit(s, actor="t", action="case.besluit", case_id=case.id,
                               details={"besluit": besluit, "besloten_op": besloten_op})
        # Written before `besloten_op` existed: the Dutch date of the event (23:30 UTC is the next day there).
        s.add(store.AuditEvent(actor="t", action="case.besluit", case_id=legacy.id, details={"besluit": "OVERNAME"},
                               at=datetime(2027, 2, 4, 23, 30, tzinfo=timezone.utc)))
        ids = (first.id, legacy.id, never.id)
    with store.session_scope(engine) as s:
        assert takeover_dates(s) == {ids[0]: date(2027, 2, 3), ids[1]: date(2027, 2, 5)}
        assert takeover_dates(s, [ids[1], ids[2]]) == {ids[1]: date(2027, 2, 5)}
