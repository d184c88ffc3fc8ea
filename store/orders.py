"""Orders (opdrachten) to providers and the reports owed under them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from schemas.orders import OrderStatus
from store.models import Case, Order, OrderKind, OrderReport


def get_order(session: Session, order_number: str) -> Order | None:
    """An order by its number; None when there is none."""
    return session.scalars(select(Order).where(Order.order_number == order_number)).one_or_none()


def list_orders(session: Session, *, case_id: int | None = None) -> list[Order]:
    """Orders (of one case, or all), by case and then order number."""
    stmt = select(Order).order_by(Order.case_id, Order.order_number)
    if case_id is not None:
        stmt = stmt.where(Order.case_id == case_id)
    return list(session.scalars(stmt))


def find_same_order(session: Session, *, case_id: int, provider_id: str, kind: OrderKind,
                    start_date: date) -> Order | None:
    """The order of this case for this provider, kind and start date (the idempotency key of an order)."""
    stmt = select(Order).where(Order.case_id == case_id, Order.provider_id == provider_id,
                               Order.kind == OrderKind(kind), Order.start_date == start_date).order_by(Order.id)
    return session.scalars(stmt).first()


def order_numbers_of_case(session: Session, case_id: int) -> list[str]:
    """Every order number of a case."""
    return list(session.scalars(select(Order.order_number).where(Order.case_id == case_id)))


def add_order(session: Session, reports: Iterable[tuple[str, date]] = (), **fields: Any) -> Order:
    """Insert an order (fields are Order columns) with its owed reports (kind, due date).

    Raises IntegrityError when the order number is taken; the insert runs in a SAVEPOINT so the
    surrounding transaction stays usable.
    """
    order = Order(**fields)
    with session.begin_nested():
        session.add(order)
        session.flush()
        session.add_all(OrderReport(order_id=order.id, kind=str(kind), due_date=due) for kind, due in reports)
        session.flush()
    return order


def reports_for(session: Session, order: Order) -> list[OrderReport]:
    """The reports owed under `order`, by due date."""
    stmt = select(OrderReport).where(OrderReport.order_id == order.id).order_by(OrderReport.due_date, OrderReport.kind)
    return list(session.scalars(stmt))


def get_report(session: Session, order: Order, kind: str, due_date: date) -> OrderReport | None:
    """One owed report of `order`."""
    stmt = select(OrderReport).where(OrderReport.order_id == order.id, OrderReport.kind == kind,
                                     OrderReport.due_date == due_date)
    return session.scalars(stmt).one_or_none()


def running_orders_of_closed_cases(session: Session) -> list[tuple[Order, Case]]:
    """Orders still LOPEND whose case is closed."""
    stmt = (select(Order, Case).join(Case, Case.id == Order.case_id)
            .where(Case.closed_on.is_not(None), Order.status == OrderStatus.LOPEND.value)
            .order_by(Order.id))
    return [(order, case) for order, case in session.execute(stmt)]


def drop_open_reports_after(session: Session, order: Order, after: date) -> int:
    """Remove the reports of `order` not received and due after `after`; returns how many."""
    result = session.execute(delete(OrderReport).where(
        OrderReport.order_id == order.id, OrderReport.received_on.is_(None), OrderReport.due_date > after))
    session.flush()
    return result.rowcount or 0

