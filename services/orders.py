"""Orders (opdrachten) to the arbodienst and re-integration providers (domain.md §6).

- `create_order`: one order for a case, priced from the provider's contract as of the start date, with
  the reports the provider owes stored as `OrderReport` rows (the deadline monitor lists missing ones).
  Order number `OPD-<gemeentecode>-<case number>-<nn>`, nn counting per case (`rules.orders.order_number`);
  invoices find their order by it (BR-NL-2, domain.md §7).
- Idempotency: "the same request" is the same case + provider + kind + start date. Asking again with the
  same content returns the existing order (`created=False`); the same key with other hours, another
  traject or another end is refused (an additional order needs its own start date). The unique order
  number guards concurrent requests: a loser re-reads and returns the winner's order, or takes the next nn.
- `create_default_arbo_order`: after the takeover, the arbodienst's bedrijfsarts and casemanager on
  regiebasis (`DEFAULT_ARBO_HOURS`); one per case and provider, whatever day it is asked again.
- `end_orders_for_closed_cases`: orders of closed cases become BEEINDIGD on the case's closing date
  (or keep an earlier end); reports not received and due after that date are removed.
- `record_report`: a report came in. Every change is an audit event without personal data.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import store
from rules.orders import order_number, order_seq, report_obligations, request_problems, traject_end
from rules.tariffs import indexed_rates, rate_on, traject_price_on
from schemas.case import Besluit, Stap
from schemas.orders import (
    OrderDetail,
    OrderRequest,
    OrderStatus,
    OrderSummary,
    ProviderContract,
    ReportKind,
    ReportLine,
)
from store.models import CASE_REF_PREFIX, Case, Order, OrderKind, WvpStep

ACTOR = "vangnet/orders"
DEFAULT_ARBO_HOURS: dict[str, Decimal] = {"bedrijfsarts": Decimal("3"), "casemanager": Decimal("10")}
"""The default arbodienst order after takeover: the bedrijfsarts' fresh probleemanalyse with an FML
(consult, file study, report: about 3 hours) and the casemanager's plan van aanpak and coordination up
to the first herijking (about 10 hours). An assumption, not from the offers: change it here."""
_ATTEMPTS = 5


class OrderError(ValueError):
    """The order can't be made or changed; the message says why and what to do, in plain Dutch."""


def create_order(
    engine: Engine,
    *,
    case_ref: str,
    contract: ProviderContract,
    kind: str,
    today: date,
    start: date,
    end: date | None = None,
    hours: dict[str, Decimal] | None = None,
    traject: str | None = None,
    by: str,
) -> OrderSummary:
    """Order `kind` ("regie": `hours` per role; "traject": a fixed-price `traject`) from the contract's
    provider for a case, starting on `start`. Returns the order (also when it already existed)."""
    request = _request(case_ref, contract, kind, start, end, hours, traject)
    with store.session_scope(engine) as session:
        case = _case(session, case_ref)
        existing = store.find_same_order(session, case_id=case.id, provider_id=contract.provider_id,
                                         kind=OrderKind(request.kind), start_date=start)
        if existing is not None:
            return _same_or_refuse(existing, request, contract)
        problems = request_problems(
            case_ref=case.ref, contract=contract, kind=request.kind, start=start, end=end, hours=request.hours,
            traject=traject, case_opened_on=case.opened_on, case_closed_on=case.closed_on,
            taken_over=case.besluit is Besluit.OVERNAME, today=today)
        if problems:
            raise OrderError("; ".join(problems))
        return _insert(session, case, request, contract, by=by)


def create_default_arbo_order(engine: Engine, case_ref: str, contract: ProviderContract, today: date, by: str,
                              *, hours: dict[str, Decimal] | None = None) -> OrderSummary:
    """The arbodienst order after takeover: `DEFAULT_ARBO_HOURS` (or `hours`) on regiebasis from `today`.
    A case that already has a regie order with this provider gets that one back (`created=False`)."""
    with store.session_scope(engine) as session:
        case = _case(session, case_ref)
        for order in store.list_orders(session, case_id=case.id):
            if order.provider_id == contract.provider_id and order.kind is OrderKind.REGIE:
                return _summary(order, created=False)
    return create_order(engine, case_ref=case_ref, contract=contract, kind=OrderKind.REGIE.value, today=today,
                        start=today, hours=dict(hours or DEFAULT_ARBO_HOURS), by=by)


def end_orders_for_closed_cases(engine: Engine, *, by: str = ACTOR) -> list[str]:
    """End every running order of a closed case on the case's closing date; returns their numbers."""
    ended: list[str] = []
    with store.session_scope(engine) as session:
        for order, case in store.running_orders_of_closed_cases(session):
            einde = min(order.end_date, case.closed_on) if order.end_date else case.closed_on
            order.status = OrderStatus.BEEINDIGD.value
            order.end_date = einde
            dropped = store.drop_open_reports_after(session, order, einde)
            store.record_audit(session, actor=by, action="order.ended", case_id=case.id, details={
                "order_number": order.order_number, "provider_id": order.provider_id, "einde": einde.isoformat(),
                "reden": "zaak gesloten", "vervallen_rapportages": dropped})
            ended.append(order.order_number)
    return ended


def record_report(engine: Engine, order_number: str, kind: str, due_date: date, received_on: date, by: str,
                  *, today: date | None = None) -> ReportLine:
    """Record that the report of `kind` due on `due_date` came in on `received_on`. Recording the same
    date again changes nothing; another date for a report already received is refused."""
    try:
        soort = ReportKind(kind.strip().upper())
    except ValueError:
        raise OrderError(f"onbekende soort rapportage {kind!r}; kies uit: "
                         + ", ".join(k.value for k in ReportKind)) from None
    if today is not None and received_on > today:
        raise OrderError(f"de ontvangstdatum {received_on} ligt in de toekomst")
    with store.session_scope(engine) as session:
        order = _order(session, order_number)
        report = store.get_report(session, order, soort.value, due_date)
        if report is None:
            due = [r.due_date.isoformat() for r in store.reports_for(session, order) if r.kind == soort.value]
            raise OrderError(f"opdracht {order.order_number} heeft geen rapportage {soort.value} op {due_date}; "
                             f"wel op: {', '.join(due) or 'geen'}")
        if received_on < order.start_date:
            raise OrderError(f"de ontvangstdatum {received_on} ligt voor de start van de opdracht ({order.start_date})")
        if report.received_on is not None and report.received_on != received_on:
            raise OrderError(f"de rapportage {soort.value} van {due_date} is al ontvangen op {report.received_on}")
        if report.received_on is None:
            report.received_on = received_on
            store.record_audit(session, actor=by, action="order.report_received", case_id=order.case_id, details={
                "order_number": order.order_number, "soort": soort.value, "uiterlijk": due_date.isoformat(),
                "ontvangen_op": received_on.isoformat()})
        return ReportLine(kind=report.kind, due_date=report.due_date, received_on=report.received_on)


def list_orders(engine: Engine, case_ref: str | None = None) -> list[OrderSummary]:
    """Every order, or those of one case."""
    with store.session_scope(engine) as session:
        case_id = _case(session, case_ref).id if case_ref is not None else None
        return [_summary(order) for order in store.list_orders(session, case_id=case_id)]


def order_detail(engine: Engine, order_number: str) -> OrderDetail:
    """One order with its reports."""
    with store.session_scope(engine) as session:
        order = _order(session, order_number)
        reports = [ReportLine(kind=r.kind, due_date=r.due_date, received_on=r.received_on)
                   for r in store.reports_for(session, order)]
        return OrderDetail(order=_summary(order), reports=reports)


# -- helpers ------------------------------------------------------------------------------------------
def _request(case_ref, contract, kind, start, end, hours, traject) -> OrderRequest:
    try:
        return OrderRequest(case_ref=str(case_ref), provider_id=contract.provider_id, kind=str(kind).lower(),
                            start=start, end=end, hours=hours or None, traject=traject or None)
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise OrderError("ongeldige opdracht: " + "; ".join(problems)) from None


def _case(session: Session, case_ref: str) -> Case:
    case = store.get_case(session, case_ref)
    if case is None:
        raise OrderError(f"er is geen zaak {case_ref!r}; zie `vangnet cases list`")
    return case


def _order(session: Session, number: str) -> Order:
    order = store.get_order(session, number.strip())
    if order is None:
        raise OrderError(f"er is geen opdracht {number!r}; zie `vangnet orders list`")
    return order


def _content(request: OrderRequest, contract: ProviderContract) -> tuple[dict | None, Decimal | None, date | None]:
    """(budget hours, budget amount, end date) the request asks for."""
    if request.kind == OrderKind.TRAJECT.value:
        traject = contract.trajecten[request.traject]
        return None, traject_price_on(contract, request.traject, request.start), traject_end(request.start, traject.maanden)
    return dict(request.hours or {}), None, request.end


def _same_or_refuse(existing: Order, request: OrderRequest, contract: ProviderContract) -> OrderSummary:
    if existing.status != OrderStatus.LOPEND.value:
        raise OrderError(f"opdracht {existing.order_number} voor deze zaak, provider, soort en startdatum is al "
                         f"beëindigd op {existing.end_date}")
    if _matches(existing, request, contract):
        return _summary(existing, created=False)
    raise OrderError(
        f"er is al opdracht {existing.order_number} voor zaak {CASE_REF_PREFIX}{existing.case_id:06d} bij "
        f"{existing.provider_id}, soort {existing.kind.value}, start {existing.start_date}, met een andere inhoud; "
        "een aanvullende opdracht krijgt een eigen startdatum")


def _matches(existing: Order, request: OrderRequest, contract: ProviderContract) -> bool:
    """Whether `request` asks for exactly what `existing` (same idempotency key) holds."""
    if request.kind == OrderKind.TRAJECT.value:
        if request.traject not in contract.trajecten or request.hours:
            return False
        _, amount, end = _content(request, contract)
        return existing.budget_amount == amount and existing.end_date == end and request.end in (None, end)
    return (not request.traject and existing.end_date == request.end
            and _hours(existing.budget_hours) == dict(request.hours or {}))


def _insert(session: Session, case: Case, request: OrderRequest, contract: ProviderContract, *, by: str) -> OrderSummary:
    budget_hours, budget_amount, end = _content(request, contract)
    if request.kind == OrderKind.TRAJECT.value:
        rates = indexed_rates(contract, request.start.year)
    else:
        rates = {role: rate_on(contract, role, request.start) for role in budget_hours}
    owed = report_obligations(start=request.start, end=end, einde_wachttijd=_einde_wachttijd(session, case),
                              rules=contract.rapportages)
    fields = dict(case_id=case.id, provider_id=contract.provider_id, kind=OrderKind(request.kind),
                  roles={role: f"{rate:.2f}" for role, rate in rates.items()},
                  budget_hours={role: _hours_text(h) for role, h in budget_hours.items()} if budget_hours else None,
                  budget_amount=budget_amount, start_date=request.start, end_date=end,
                  status=OrderStatus.LOPEND.value)
    for _ in range(_ATTEMPTS):
        seqs = [order_seq(n) or 0 for n in store.order_numbers_of_case(session, case.id)]
        number = order_number(case.gemeentecode, case.id, max(seqs, default=0) + 1)
        try:
            order = store.add_order(session, reports=owed, order_number=number, **fields)
        except IntegrityError:  # a concurrent request took this number: maybe it was this very request
            existing = store.find_same_order(session, case_id=case.id, provider_id=contract.provider_id,
                                             kind=OrderKind(request.kind), start_date=request.start)
            if existing is not None:
                return _same_or_refuse(existing, request, contract)
            continue
        store.record_audit(session, actor=by, action="order.created", case_id=case.id, details={
            "order_number": number, "provider_id": contract.provider_id, "kind": request.kind,
            "start": request.start.isoformat(), "einde": end.isoformat() if end else None,
            "traject": request.traject, "uren": fields["budget_hours"],
            "bedrag": f"{budget_amount:.2f}" if budget_amount is not None else None,
            "tarieven": fields["roles"], "rapportages": len(owed)})
        return _summary(order, created=True)
    raise OrderError(f"het opdrachtnummer voor zaak {case.ref} kon niet worden bepaald (te veel gelijktijdige "
                     "opdrachten); probeer het opnieuw")


def _einde_wachttijd(session: Session, case: Case) -> date | None:
    stmt = select(WvpStep.wettelijke_datum).where(WvpStep.case_id == case.id, WvpStep.stap == Stap.EINDE_WACHTTIJD)
    return session.scalars(stmt).first()


def _hours(stored: dict | None) -> dict[str, Decimal]:
    return {role: Decimal(str(h)) for role, h in (stored or {}).items()}


def _hours_text(h: Decimal) -> str:
    return format(h.normalize(), "f")  # "3", "2.5": hours as the JSON column keeps them


def _summary(order: Order, *, created: bool = False) -> OrderSummary:
    return OrderSummary(
        order_number=order.order_number, case_ref=f"{CASE_REF_PREFIX}{order.case_id:06d}",
        provider_id=order.provider_id, kind=OrderKind(order.kind).value, status=order.status,
        start_date=order.start_date, end_date=order.end_date,
        roles={role: Decimal(str(rate)) for role, rate in order.roles.items()},
        budget_hours=_hours(order.budget_hours) if order.budget_hours is not None else None,
        budget_amount=order.budget_amount, created=created)
