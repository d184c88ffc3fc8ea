"""Synthetic data for the invoice benchmark (case 3): a store with cases and orders, earlier approved
invoices on those orders, and a folder of UBL invoices to check against them.

Modelled on the corpus' `_synthetic/` examples: SI-UBL 2.0 and Peppol BIS 3 hourly invoices (HUR lines
per role), fixed-price traject instalments (C62), credit notes that name the invoice they correct (half
of them without an order number, so the order is found through the original), and a few 500-line
invoices. Every document is made by `simulators.ubl_factory.make_invoice`, so it passes the XSD and the
official rules; the mix also holds what reconciliation exists for (a rate above the contract, wrong
line arithmetic, a reused invoice number, an order that does not exist), so the reconciliation step
has real work: order look-up, tariffs, budgets against approved invoices, duplicates, originals.

No personal data: the cases get synthetic BSNs that pass the 11-proef; invoices carry none.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy.engine import Engine

import store
from flows.runtime import DEMO_CONTRACTS
from mappings.provider_contract import load_contracts
from rules.tariffs import rate_on, traject_price_on
from rules.wvp import wvp_calendar
from schemas.case import Besluit, CaseStatus
from schemas.orders import ProviderContract, provider_scheme
from services import invoices as invoice_service
from services.orders import create_order
from simulators.ubl_factory import Line, make_invoice
from rules.identifiers import synthetic_bsn

ARBO, REINT = "kvk:90000001", "kvk:90000002"
D_ZIEK, OPENED = date(2027, 1, 4), date(2027, 3, 1)
RECEIVED = datetime(2027, 3, 1, 9, tzinfo=timezone.utc)
TRAJECT = "2e-spoor-12"
# Ordered hours per order: generous, so most invoices fit and a few (the 500-line ones) go over budget.
ARBO_HOURS = {"bedrijfsarts": Decimal("60"), "casemanager": Decimal("200")}
REINT_HOURS = {"arbeidsdeskundige": Decimal("40"), "re-integratieconsulent": Decimal("300")}
LARGE_LINES = 500


@dataclass(frozen=True)
class OrderRef:
    number: str
    provider_id: str
    kind: str  # "regie" | "traject"
    roles: tuple[str, ...]


@dataclass
class InvoiceSet:
    """What `build` made: the store, the contracts and the invoice files (and what kind each is)."""

    engine: Engine
    url: str
    db_path: Path
    contracts: dict[str, ProviderContract]
    files: list[Path]
    kinds: dict[str, int] = field(default_factory=dict)
    lines: int = 0
    bytes: int = 0
    orders: int = 0
    seeded: int = 0

    @property
    def large(self) -> int:
        return self.kinds.get("large-500", 0)


bsn = synthetic_bsn


def build(workdir: Path, *, invoices: int, large: int, peppol: bool = True, seed: int = 9) -> InvoiceSet:
    """A migrated SQLite store in `workdir` with orders and earlier approved invoices, and `invoices`
    UBL files in `workdir/invoices` of which `large` have 500 lines. `peppol` False: SI-UBL only (one
    profile, so one stylesheet to compile: the smoke run)."""
    rng = random.Random(seed)
    db_path = (workdir / "invoices.db").resolve()
    url = f"sqlite:///{db_path}"
    store.upgrade(url)
    engine = store.make_engine(url)
    contracts = load_contracts(DEMO_CONTRACTS)
    orders = _orders(engine, contracts, cases=max(3, invoices // 20))
    seeds = _seed_invoices(engine, orders, contracts)
    out = workdir / "invoices"
    out.mkdir(parents=True, exist_ok=True)
    result = InvoiceSet(engine, url, db_path, contracts, [], orders=len(orders), seeded=len(seeds))
    plan = ["large-500"] * large + [_kind(rng) for _ in range(invoices - large)]
    if not peppol:
        plan = ["si-ubl-hourly" if kind == "peppol-hourly" else kind for kind in plan]
    rng.shuffle(plan)
    for i, kind in enumerate(plan, start=1):
        data, n_lines = _invoice(rng, i, kind, orders, seeds, contracts)
        path = out / f"inv-{i:05d}.xml"
        path.write_bytes(data)
        result.files.append(path)
        result.kinds[kind] = result.kinds.get(kind, 0) + 1
        result.lines += n_lines
        result.bytes += len(data)
    return result


# -- store -----------------------------------------------------------------------------------------

def _orders(engine: Engine, contracts: dict[str, ProviderContract], *, cases: int) -> list[OrderRef]:
    arbo, reint = contracts[ARBO], contracts[REINT]
    orders: list[OrderRef] = []
    for n in range(cases):
        with store.session_scope(engine) as s:
            case = store.create_case(s, gemeentecode="0518", bsn=bsn(n), eerste_ziektedag=D_ZIEK,
                                     datum_ontvangst=OPENED, opened_on=OPENED, besluit=Besluit.OVERNAME,
                                     status=CaseStatus.OPEN)
            store.replace_steps(s, case, wvp_calendar(D_ZIEK, datum_ontvangst=OPENED))
            ref = case.ref
        common = {"case_ref": ref, "kind": "regie", "today": OPENED, "start": OPENED, "by": "bench"}
        orders.append(_ref(create_order(engine, contract=arbo, hours=ARBO_HOURS, **common), ARBO_HOURS))
        orders.append(_ref(create_order(engine, contract=reint, hours=REINT_HOURS, **common), REINT_HOURS))
        if n % 2 == 0:
            summary = create_order(engine, contract=reint, **{**common, "kind": "traject"}, traject=TRAJECT)
            orders.append(OrderRef(summary.order_number, summary.provider_id, "traject", ()))
    return orders


def _ref(summary, hours: dict[str, Decimal]) -> OrderRef:
    return OrderRef(summary.order_number, summary.provider_id, "regie", tuple(sorted(hours)))


def _seed_invoices(engine: Engine, orders: list[OrderRef], contracts: dict[str, ProviderContract]) -> dict[str, str]:
    """One earlier invoice per order, checked and stored by the real pipeline (most are APPROVED):
    budgets then count them, credit notes refer to them, and a reused number is a duplicate.
    Returns order number → the seed invoice's number."""
    seeds: dict[str, str] = {}
    with store.session_scope(engine) as s:
        for n, order in enumerate(orders):
            number = f"S{n:05d}"
            contract = contracts[order.provider_id]
            period = (date(2027, 3, 1), date(2027, 3, 31))
            if order.kind == "traject":
                lines = [_termijn(contract, 1)]
            else:
                lines = [Line(role=role, hours=Decimal(4), rate=rate_on(contract, role, period[0]))
                         for role in order.roles]
            data = _make(order, contract, number, date(2027, 4, 1), period, lines)
            store.add_raw(s, source=invoice_service.SOURCE, payload=data, received_at=RECEIVED,
                          message_key=f"bench:seed:{n}")
            seeds[order.number] = number
    from einvoicing import Validator, default_rules_dir

    invoice_service.process_batch(engine, Validator(default_rules_dir()), contracts, limit=len(orders) + 1)
    return seeds


# -- invoices --------------------------------------------------------------------------------------

_KINDS = (  # kind, weight (percent)
    ("si-ubl-hourly", 47), ("peppol-hourly", 20), ("si-ubl-hourly-long", 5), ("traject", 12),
    ("creditnote", 8), ("rate-above-contract", 4), ("line-arithmetic", 2), ("number-reused", 1),
    ("order-unknown", 1),
)


def _kind(rng: random.Random) -> str:
    return rng.choices([k for k, _ in _KINDS], weights=[w for _, w in _KINDS])[0]


def _termijn(contract: ProviderContract, n: int) -> Line:
    half = (traject_price_on(contract, TRAJECT, OPENED) / 2).quantize(Decimal("0.01"))
    return Line(role="traject", name=f"Traject 2e spoor - termijn {n} (50%)", hours=Decimal(1), rate=half,
                unit="C62")


def _make(order: OrderRef, contract: ProviderContract, number: str, issued: date, period: tuple[date, date],
          lines: list[Line], **kw) -> bytes:
    _, kvk = provider_scheme(order.provider_id)
    kw.setdefault("order_number", order.number)
    return make_invoice(supplier_kvk=kvk, supplier_name=contract.naam, number=number, issue_date=issued,
                        period=period, lines=lines, **kw)


def _invoice(rng: random.Random, i: int, kind: str, orders: list[OrderRef], seeds: dict[str, str],
             contracts: dict[str, ProviderContract]) -> tuple[bytes, int]:
    regie = [o for o in orders if o.kind == "regie"]
    month = 4 + rng.randrange(8)  # April .. November 2027
    period = (date(2027, month, 1), date(2027, month + 1, 1).replace(day=1))
    period = (period[0], date.fromordinal(period[1].toordinal() - 1))
    issued = date.fromordinal(period[1].toordinal() + 1)
    number = f"B{i:05d}"
    profile = "peppol" if kind == "peppol-hourly" else "si-ubl"
    if kind == "traject":
        order = rng.choice([o for o in orders if o.kind == "traject"])
        return _make(order, contracts[order.provider_id], number, issued, period, [_termijn(contracts[order.provider_id], 2)]), 1
    if kind == "creditnote":
        order = rng.choice(regie)
        contract = contracts[order.provider_id]
        role = rng.choice(order.roles)
        line = Line(role=role, hours=Decimal(1), rate=rate_on(contract, role, date(2027, 3, 1)))
        # Half name the order, half only the invoice they correct (the order is found through it).
        return _make(order, contract, number, issued, (date(2027, 3, 1), date(2027, 3, 31)), [line],
                     credit_note=True, billing_reference=seeds[order.number],
                     order_number=order.number if i % 2 else None, buyer_reference="WI-REINT-2027"), 1
    order = rng.choice(regie)
    contract = contracts[order.provider_id]
    count = {"large-500": LARGE_LINES, "si-ubl-hourly-long": rng.randint(20, 60)}.get(kind, rng.randint(1, 8))
    lines = []
    for n in range(count):
        role = order.roles[n % len(order.roles)]
        rate = rate_on(contract, role, period[0])
        hours = Decimal(rng.randint(1, 16)) / 4 if kind == "large-500" else Decimal(rng.randint(1, 24)) / 2
        lines.append(Line(role=role, hours=hours, rate=rate))
    extra: dict = {"profile": profile}
    if kind == "rate-above-contract":
        lines[0] = Line(role=lines[0].role, hours=lines[0].hours, rate=lines[0].rate + Decimal("15.00"))
    elif kind == "line-arithmetic":
        lines[-1] = Line(role=lines[-1].role, hours=lines[-1].hours, rate=lines[-1].rate,
                         amount=lines[-1].line_amount + Decimal("10.00"))
    elif kind == "number-reused":
        number = seeds[order.number]
    elif kind == "order-unknown":
        extra["order_number"] = "OPD-0518-999999-99"
    return _make(order, contract, number, issued, period, lines, **extra), count
