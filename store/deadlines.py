"""Open WVP steps of active cases, for the deadline monitor."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Case, WvpStep


def open_steps_due(session: Session, *, until: date, batch_size: int = 5000) -> Iterator[tuple[int, str, date, bool]]:
    """(case id, stap, due date, gemeente responsible) of every step not done, due on or before `until`,
    of cases not closed; oldest due date first. Streams in batches so memory stays flat."""
    stmt = (
        select(WvpStep.case_id, WvpStep.stap, WvpStep.datum, WvpStep.gemeente_verantwoordelijk)
        .join(Case, Case.id == WvpStep.case_id)
        .where(Case.closed_on.is_(None), WvpStep.done_on.is_(None), WvpStep.datum <= until)
        .order_by(WvpStep.datum, WvpStep.case_id)
        .execution_options(yield_per=batch_size)
    )
    for case_id, stap, datum, gemeente in session.execute(stmt):
        yield case_id, stap.value if hasattr(stap, "value") else str(stap), datum, gemeente
