"""The demo's provider invoices: made for the orders the demo run created, so that checking them shows
each verdict once (nothing here is personal data; invoice numbers are deterministic, so a second demo
run delivers the same bytes and nothing is doubled).

| invoice | made to | expected verdict |
|---|---|---|
| `<provider>-<nn>-1` | casemanager hours at the contracted (indexed) rate | APPROVED |
| `<provider>-<nn>-2` | bedrijfsarts hours at a rate above the contract | DISPUTED (RATE_MISMATCH) |
| `<provider>-<nn>-3` | a line whose amount is not quantity × price | REJECTED (LINE_ARITHMETIC) |
| `<provider>-X-4` | an order number the gemeente never issued | REJECTED (ORDER_UNKNOWN) |
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from rules.tariffs import rate_on
from schemas.orders import ProviderContract, OrderSummary, provider_scheme
from simulators.ubl_factory import Line, make_invoice


def demo_invoices(orders: Iterable[OrderSummary], contracts: dict[str, ProviderContract],
                  issue_date: date) -> list[tuple[str, bytes]]:
    """(invoice number, UBL) for the first regie order of each provider with a contract."""
    out: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    for order in orders:
        contract = contracts.get(order.provider_id)
        if contract is None or order.provider_id in seen or not order.budget_hours or order.kind != "regie":
            continue
        seen.add(order.provider_id)
        out += _for_order(order, contract, issue_date)
    return out


def _for_order(order: OrderSummary, contract: ProviderContract, issue_date: date) -> list[tuple[str, bytes]]:
    _, kvk = provider_scheme(order.provider_id)
    roles = sorted(order.budget_hours or {})
    first, last = roles[0], roles[-1]
    period = (order.start_date, max(order.start_date, issue_date))
    prefix = f"F{kvk[-4:]}-{order.order_number[-9:]}"

    def invoice(n: int, lines: list[Line], number_order: str | None = None) -> tuple[str, bytes]:
        number = f"{prefix}-{n}"
        return number, make_invoice(supplier_kvk=kvk, supplier_name=contract.naam, number=number,
                                    issue_date=issue_date, order_number=number_order or order.order_number,
                                    period=period, lines=lines)

    rate_first = rate_on(contract, first, period[0])
    rate_last = rate_on(contract, last, period[0])
    return [
        invoice(1, [Line(role=last, hours=Decimal("2"), rate=rate_last)]),
        invoice(2, [Line(role=first, hours=Decimal("1.5"), rate=rate_first + Decimal("20.00"))]),
        invoice(3, [Line(role=last, hours=Decimal("1"), rate=rate_last, amount=rate_last + Decimal("10.00"))]),
        invoice(4, [Line(role=last, hours=Decimal("1"), rate=rate_last)], number_order="OPD-0000-999999-99"),
    ]
