"""Open WVP steps of active cases and missing provider reports, for the deadline monitor."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, String, func, select, type_coerce
from sqlalchemy.orm import Session

from schemas.orders import OrderStatus
from store.models import Case, Order, OrderReport, WvpStep

_STEPS, _CASES = WvpStep.__table__.c, Case.__table__.c


def _open_steps_query(until: date):
    # Core columns and the step as plain text: at a million cases the answer has ~250,000 rows, and the
    # ORM's per-row processing (and the enum's) cost more than the query itself.
    return (
        select(_STEPS.case_id, type_coerce(_STEPS.stap, String), _STEPS.datum, _STEPS.gemeente_verantwoordelijk)
        .join(Case.__table__, _CASES.id == _STEPS.case_id)
        .where(_CASES.closed_on.is_(None), _STEPS.done_on.is_(None), _STEPS.datum <= until)
    )


def _connection(session: Session) -> Connection:
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # The planner overestimates these rows (it cannot see that steps not done lie mostly in the future)
        # and would JIT-compile the query: ~0.5 s of compiling for a query that runs in less.
        conn.exec_driver_sql("SET LOCAL jit = off")
    return conn


def open_steps_due(session: Session, *, until: date, limit: int | None = None) -> list[tuple[int, str, date, bool]]:
    """(case id, stap, due date, gemeente responsible) of every step not done, due on or before `until`,
    of cases not closed; oldest due date first; at most `limit` when given.

    One query answered in one go: a server-side cursor (streaming) would keep PostgreSQL from running it
    in parallel. The index ix_wvp_steps_open_due (steps not done, by date) answers it from the index."""
    stmt = _open_steps_query(until).order_by(_STEPS.datum, _STEPS.case_id).limit(limit)
    return _connection(session).execute(stmt).all()  # type: ignore[return-value]  # rows unpack as tuples


def count_open_steps_due(session: Session, *, until: date, overdue_before: date) -> tuple[int, int]:
    """(all, overdue) counts of the steps open_steps_due lists; overdue: due before `overdue_before`."""
    sub = _open_steps_query(until).subquery()
    stmt = select(func.count(), func.count().filter(sub.c.datum < overdue_before))
    total, overdue = _connection(session).execute(stmt).one()
    return total, overdue


def _reports_query(until: date):
    return (
        select(Order.case_id, Order.order_number, OrderReport.kind, OrderReport.due_date)
        .join(Order, Order.id == OrderReport.order_id)
        .join(Case, Case.id == Order.case_id)
        .where(Case.closed_on.is_(None), Order.status == OrderStatus.LOPEND.value,
               OrderReport.received_on.is_(None), OrderReport.due_date <= until)
    )


def missing_reports_due(session: Session, *, until: date,
                        limit: int | None = None) -> list[tuple[int, str, str, date]]:
    """(case id, order number, report kind, due date) of every report not received, due on or before
    `until`, under a running order (not BEEINDIGD) of a case not closed; oldest due date first; at most
    `limit` when given."""
    stmt = _reports_query(until).order_by(
        OrderReport.due_date, Order.case_id, Order.order_number, OrderReport.kind).limit(limit)
    return session.execute(stmt).all()  # type: ignore[return-value]


def count_missing_reports_due(session: Session, *, until: date, overdue_before: date) -> tuple[int, int]:
    """(all, overdue) counts of the reports missing_reports_due lists; overdue: due before `overdue_before`."""
    sub = _reports_query(until).subquery()
    total, overdue = session.execute(select(func.count(), func.count().filter(sub.c.due_date < overdue_before))).one()
    return total, overdue
