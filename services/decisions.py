"""When a case was taken over, read back from the audit trail (the report and the research export share it).

The decision's audit event carries `besloten_op`, the run date the decision was taken on (the one clock of
the run, which a scenario or the demo sets). Events written before that field existed fall back to the
Dutch calendar date of the event itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from rules.booking import local_date
from schemas.case import Besluit
from store.models import AuditEvent

DECISION = "case.besluit"


def takeover_dates(session: Session, case_ids: Iterable[int] | None = None) -> dict[int, date]:
    """Case id -> date of its first OVERNAME decision (for the given cases, or all)."""
    # Only the one field: the rest of the details (the decision's reasoning) is not read.
    stmt = (select(AuditEvent.case_id, AuditEvent.at, AuditEvent.details["besloten_op"].as_string())
            .where(AuditEvent.action == DECISION, AuditEvent.case_id.is_not(None),
                   AuditEvent.details["besluit"].as_string() == Besluit.OVERNAME.value)
            .order_by(AuditEvent.at, AuditEvent.id))
    if case_ids is not None:
        stmt = stmt.where(AuditEvent.case_id.in_(list(case_ids)))
    out: dict[int, date] = {}
    for case_id, at, decided in session.execute(stmt):
        if case_id not in out:
            out[case_id] = date.fromisoformat(decided) if decided else local_date(at)
    return out
