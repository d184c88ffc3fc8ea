"""Open WVP steps of active cases and missing provider reports, for the deadline monitor."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.orders import OrderStatus
from store.models import Case, Order, OrderReport, WvpStep


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


def missing_reports_due(session: Session, *, until: date,
                        batch_size: int = 5000) -> Iterator[tuple[int, str, str, date]]:
    """(case id, order number, report kind, due date) of every report not received, due on or before
    `until`, under a running order (not BEEINDIGD) of a case not closed; oldest due date first."""
    stmt = (
        select(Order.case_id, Order.order_number, OrderReport.kind, OrderReport.due_date)
        .join(Order, Order.id == OrderReport.order_id)
        .join(Case, Case.id == Order.case_id)
        .where(Case.closed_on.is_(None), Order.status == OrderStatus.LOPEND.value,
               OrderReport.received_on.is_(None), OrderReport.due_date <= until)
        .order_by(OrderReport.due_date, Order.case_id, Order.order_number, OrderReport.kind)
        .execution_options(yield_per=batch_size)
    )
    for case_id, number, kind, due in session.execute(stmt):
        yield case_id, number, kind, due
