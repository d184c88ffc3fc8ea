"""Reconciling a provider's invoice with the order, the contract and earlier invoices (domain.md §7).

Pure rules: the store gathers what it knows into a `ReconcileContext`; `reconcile` says what is wrong,
`verdict` what follows. Every finding has a stable `Code`, a severity from `SEVERITY` and a message in
plain Dutch with the numbers and what to do. Money is `Decimal`, rounded half-up to cents (`CENT`).

Severity per code — FATAL rejects the invoice (the provider must send a new one), DISPUTE asks a person:
- ORDER_UNKNOWN (FATAL): no order number, or no order with that number. Without an order nothing can be
  paid (BR-NL-2); the provider resends with the gemeente's order number.
- ORDER_OTHER_PROVIDER (FATAL): the order belongs to another provider; only the contractor may bill it.
- SUPPLIER_UNKNOWN (FATAL): the supplier is not identified by KvK (0106) or OIN (0190), so no contract or
  order can be tied to it.
- PERIOD_OUTSIDE_ORDER (DISPUTE): work billed before the order's start or after its end. Monthly invoice
  periods often overlap an order's first or last month, so a person looks.
- PERIOD_AFTER_CASE_CLOSED (DISPUTE): a service period ends after the case closed; likewise often a
  whole-month period around a closing date. A period reported here is not reported again as ending after
  the order (whose end is the closing date).
- ROLE_NOT_IN_CONTRACT (DISPUTE): on a regie order a line whose role was not ordered (or is no role at
  all, e.g. "Reiskosten"); the item name may just be worded differently.
- RATE_MISMATCH (DISPUTE): a regie line's price per hour differs from the contract rate, or the line is
  not billed in hours (unit HUR).
- OVER_BUDGET_HOURS / OVER_BUDGET_AMOUNT (DISPUTE): more than ordered, counting approved invoices; the
  gemeente may accept extra work.
- LINE_ARITHMETIC, VAT_AMOUNT_WRONG, TOTALS_INCONSISTENT (FATAL): the invoice does not add up, so the
  amount to pay is not known; SI-UBL does not check line arithmetic, we do.
- VAT_RATE_WRONG (FATAL): a rate other than the contract's; VAT must be right on the invoice itself.
- DUPLICATE_NUMBER (FATAL): this supplier already used this number for another invoice (numbers are
  unique by law).
- DUPLICATE_CONTENT (DISPUTE): same content as a stored invoice under another number; usually a resend,
  but an invoice re-sent after being credited is legitimate.
- ORIGINAL_UNKNOWN (DISPUTE): a credit note or corrective (384) that names no known invoice of this
  supplier; a person links it (rejecting a credit note helps no one).
- CURRENCY_NOT_EUR (FATAL): contracts and payments are in euro.

Rule details:
- Order-dependent rules (periods, roles, rates, budgets) run only when the order is known, the supplier is
  identified and the order is the supplier's. Arithmetic, VAT, totals, duplicates and the original always
  run. For a credit note that names no order number the caller may resolve the order through the original.
- Service periods: the document period and every line period (a missing start or end is taken equal to the
  other). With no period at all nothing is said about periods and the issue date is the service date.
- Rates (regie only): the price per hour (`unit_price / base_quantity`) must equal the contract rate of the
  line's service year — the line period, else the document period, else the issue date; a period spanning
  New Year may use any of the years it covers. With a contract: `rules.tariffs.rate_on`; without one (or a
  role/year the contract has no rate for) the order's stored rate.
- Trajecten bill a fixed price: their lines are not checked for roles or rates, only the amount budget.
- OVER_BUDGET_HOURS (regie): approved hours + this invoice's hours per role (HUR lines) > ordered hours.
  OVER_BUDGET_AMOUNT: approved amount + this invoice's amount excl. VAT (BT-109) > `budget_amount`, which
  only trajecten have: a regie budget is in hours, and its value follows from hours × rate, both checked
  per line (an amount check there would also flag correctly indexed rates in a later year).
- Credit notes only lower what the gemeente owes: no period, role, rate or budget checks.
- A corrective (384) counts as an invoice (it adds to what was billed) and must name a known original.
- LINE_ARITHMETIC: round_half_up(quantity × price / base quantity + charges − allowances, 2) = line amount.
- VAT_RATE_WRONG (with a contract): grouped per wrong rate for the lines (a line without a rate counts as
  0 %), and per VAT subtotal.
- VAT_AMOUNT_WRONG: per subtotal |tax − round_half_up(taxable × rate / 100, 2)| ≤ 0.01 (one cent for other
  rounding methods; EN 16931's BR-CO-17 tolerates almost 1.00, too much for money the gemeente reclaims
  from the BTW-compensatiefonds); subtotal taxes add up to the VAT total exactly, and the taxable amounts
  to the total excl. VAT.
- TOTALS_INCONSISTENT: the four sums of EN 16931 (BR-CO-10, -13, -15, -16), exactly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from enum import StrEnum

from rules.tariffs import CENT, TariffError, rate_on
from schemas.invoices import Finding, Invoice, InvoiceLine, Severity, Source, TypeCode, Verdict
from schemas.orders import ProviderContract

__all__ = ["SEVERITY", "Billed", "Code", "OrderFacts", "ReconcileContext", "billed_by", "content_fingerprint",
           "reconcile", "verdict"]

HOUR = "HUR"
_ZERO = Decimal(0)
_HUNDRED = Decimal(100)
_VAT_TOLERANCE = CENT
_MAX_LISTED = 10
# Products of mapped numbers (15 + 12 digits each) need up to 54 digits: compute exactly, never round early.
_EXACT = Context(prec=60)


class Code(StrEnum):
    """Stable reconciliation finding codes (the value is the code)."""

    ORDER_UNKNOWN = "ORDER_UNKNOWN"
    ORDER_OTHER_PROVIDER = "ORDER_OTHER_PROVIDER"
    PERIOD_OUTSIDE_ORDER = "PERIOD_OUTSIDE_ORDER"
    PERIOD_AFTER_CASE_CLOSED = "PERIOD_AFTER_CASE_CLOSED"
    ROLE_NOT_IN_CONTRACT = "ROLE_NOT_IN_CONTRACT"
    RATE_MISMATCH = "RATE_MISMATCH"
    OVER_BUDGET_HOURS = "OVER_BUDGET_HOURS"
    OVER_BUDGET_AMOUNT = "OVER_BUDGET_AMOUNT"
    LINE_ARITHMETIC = "LINE_ARITHMETIC"
    VAT_RATE_WRONG = "VAT_RATE_WRONG"
    VAT_AMOUNT_WRONG = "VAT_AMOUNT_WRONG"
    TOTALS_INCONSISTENT = "TOTALS_INCONSISTENT"
    DUPLICATE_NUMBER = "DUPLICATE_NUMBER"
    DUPLICATE_CONTENT = "DUPLICATE_CONTENT"
    ORIGINAL_UNKNOWN = "ORIGINAL_UNKNOWN"
    CURRENCY_NOT_EUR = "CURRENCY_NOT_EUR"
    SUPPLIER_UNKNOWN = "SUPPLIER_UNKNOWN"


_F, _D = Severity.FATAL, Severity.DISPUTE
SEVERITY: dict[Code, Severity] = {
    Code.ORDER_UNKNOWN: _F, Code.ORDER_OTHER_PROVIDER: _F, Code.SUPPLIER_UNKNOWN: _F,
    Code.PERIOD_OUTSIDE_ORDER: _D, Code.PERIOD_AFTER_CASE_CLOSED: _D,
    Code.ROLE_NOT_IN_CONTRACT: _D, Code.RATE_MISMATCH: _D,
    Code.OVER_BUDGET_HOURS: _D, Code.OVER_BUDGET_AMOUNT: _D,
    Code.LINE_ARITHMETIC: _F, Code.VAT_RATE_WRONG: _F, Code.VAT_AMOUNT_WRONG: _F, Code.TOTALS_INCONSISTENT: _F,
    Code.DUPLICATE_NUMBER: _F, Code.DUPLICATE_CONTENT: _D, Code.ORIGINAL_UNKNOWN: _D,
    Code.CURRENCY_NOT_EUR: _F,
}
"""Which codes reject the invoice (FATAL) and which need a person (DISPUTE); reasons in the module docstring."""


@dataclass(frozen=True)
class OrderFacts:
    """What the store knows of the order the invoice refers to."""

    order_number: str
    provider_id: str
    kind: str  # "regie" | "traject"
    start: date
    end: date | None
    case_closed_on: date | None
    rates: dict[str, Decimal]
    """Role → hourly rate excl. VAT, indexed to the start year (as stored on the order)."""
    budget_hours: dict[str, Decimal] | None
    """Regie: ordered hours per role."""
    budget_amount: Decimal | None
    """Traject: the fixed price excl. VAT."""


@dataclass(frozen=True)
class Billed:
    """What earlier approved invoices on the same order billed, excl. VAT (credit notes subtract)."""

    hours: dict[str, Decimal] = field(default_factory=dict)
    amount: Decimal = _ZERO


@dataclass(frozen=True)
class ReconcileContext:
    """Everything `reconcile` needs besides the invoice, gathered by the store."""

    order: OrderFacts | None
    """None: no order with the invoice's order number."""
    contract: ProviderContract | None = None
    """The supplier's contract (indexed rates, VAT rate); None: the order's rates, no VAT-rate check."""
    billed: Billed = field(default_factory=Billed)
    same_number_stored: bool = False
    """Another stored invoice of this supplier has this invoice number (with other content)."""
    same_content_as: str | None = None
    """Number of a stored invoice of this supplier with the same `content_fingerprint`."""
    known_invoice_numbers: frozenset[str] = frozenset()
    """This supplier's stored invoice numbers (the originals a credit note or corrective may refer to)."""


def reconcile(invoice: Invoice, ctx: ReconcileContext) -> list[Finding]:
    """Everything wrong with `invoice` given `ctx`, in a fixed order (empty: nothing found)."""
    with localcontext(_EXACT):
        return _reconcile(invoice, ctx)


def _reconcile(invoice: Invoice, ctx: ReconcileContext) -> list[Finding]:
    out = _Out()
    if invoice.currency != "EUR":
        out.add(Code.CURRENCY_NOT_EUR, f"de factuur is in {invoice.currency}; de gemeente betaalt alleen in euro. "
                "Vraag de leverancier om een factuur in EUR.")
    order = _check_supplier_and_order(invoice, ctx, out)
    _check_duplicates(invoice, ctx, out)
    _check_original(invoice, ctx, out)
    if order is not None and not invoice.is_credit:
        _check_periods(invoice, order, out)
        if order.kind == "regie":
            _check_roles_and_rates(invoice, order, ctx.contract, out)
        _check_budget(invoice, order, ctx.billed, out)
    _check_lines(invoice, out)
    _check_vat(invoice, ctx.contract, out)
    _check_totals(invoice, out)
    return out.findings


def verdict(findings: Iterable[Finding]) -> Verdict:
    """REJECTED when any finding is FATAL, else DISPUTED when any needs a person, else APPROVED."""
    severities = {f.severity for f in findings}
    if Severity.FATAL in severities:
        return Verdict.REJECTED
    if Severity.DISPUTE in severities:
        return Verdict.DISPUTED
    return Verdict.APPROVED


def billed_by(invoice: Invoice) -> Billed:
    """What this invoice bills, signed (a credit note counts negative): hours per role on HUR lines and
    the amount excl. VAT (BT-109). The store sums these over the approved invoices of an order."""
    hours: dict[str, Decimal] = {}
    with localcontext(_EXACT):
        for line in invoice.lines:
            if line.role is not None and line.unit_code == HOUR:
                hours[line.role] = hours.get(line.role, _ZERO) + invoice.sign * line.quantity
        return Billed(hours=hours, amount=invoice.sign * invoice.totals.tax_exclusive)


def content_fingerprint(invoice: Invoice) -> str:
    """sha256 (hex) of what the invoice bills: supplier, document and type, order number, period, currency,
    originals referred to, lines (role or item, quantity, unit, price, amount, period; in any order) and
    totals. Not the invoice number, issue or due date: the same content re-sent under a new number gives the
    same fingerprint. Numbers count by value (6.5 = 6.50)."""
    with localcontext(_EXACT):
        return _fingerprint(invoice)


def _fingerprint(invoice: Invoice) -> str:
    lines = sorted([line.role or line.item_name.strip(), _num(line.quantity), line.unit_code, _num(line.unit_price),
                    _num(line.base_quantity), _num(line.line_amount), _iso(line.period_start), _iso(line.period_end)]
                   for line in invoice.lines)
    content = {
        "supplier": invoice.supplier_id or f"{invoice.supplier_scheme}:{invoice.supplier_identifier}",
        "document": invoice.document, "type": invoice.type_code, "order": invoice.order_number,
        "period": [_iso(invoice.period_start), _iso(invoice.period_end)], "currency": invoice.currency,
        "originals": sorted(invoice.billing_references), "lines": lines,
        "totals": {name: _num(value) for name, value in invoice.totals.model_dump().items()},
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class _Out:
    """Collects findings with their severity and source."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def add(self, code: Code, message: str, line: str | None = None) -> None:
        self.findings.append(Finding(code=code.value, severity=SEVERITY[code], source=Source.RECONCILE,
                                     message=message, line=line))


def _check_supplier_and_order(invoice: Invoice, ctx: ReconcileContext, out: _Out) -> OrderFacts | None:
    """Supplier and order checks; returns the order when the order-dependent rules can run."""
    if invoice.supplier_id is None:
        said = (f"de factuur noemt {invoice.supplier_scheme}:{invoice.supplier_identifier}"
                if invoice.supplier_identifier else "de factuur noemt geen identificatie met schemeID")
        out.add(Code.SUPPLIER_UNKNOWN, f"de leverancier is niet herkend aan een KvK-nummer (schemeID 0106, 8 cijfers) "
                f"of OIN (0190, 20 cijfers); {said}. Vraag de leverancier het KvK-nummer in "
                "cac:PartyLegalEntity/cbc:CompanyID te vermelden en de factuur opnieuw te sturen.")
    number = invoice.order_number
    if number is None:
        out.add(Code.ORDER_UNKNOWN, "de factuur noemt geen opdrachtnummer (cac:OrderReference/cbc:ID of "
                "cbc:BuyerReference); vraag de leverancier de factuur opnieuw te sturen met het opdrachtnummer "
                "van de gemeente.")
        return None
    if ctx.order is None:
        out.add(Code.ORDER_UNKNOWN, f"opdrachtnummer {number} is niet bekend; controleer het nummer en vraag de "
                "leverancier zo nodig de factuur opnieuw te sturen met het juiste opdrachtnummer.")
        return None
    if invoice.supplier_id is None:
        return None
    if ctx.order.provider_id != invoice.supplier_id:
        out.add(Code.ORDER_OTHER_PROVIDER, f"opdracht {number} is verstrekt aan {ctx.order.provider_id}, maar de "
                f"factuur komt van {invoice.supplier_id}; alleen de opdrachtnemer mag op deze opdracht factureren. "
                "Stuur de factuur terug.")
        return None
    return ctx.order


def _check_duplicates(invoice: Invoice, ctx: ReconcileContext, out: _Out) -> None:
    if ctx.same_number_stored:
        out.add(Code.DUPLICATE_NUMBER, f"er is al een andere factuur van deze leverancier met nummer "
                f"{invoice.invoice_number}; een factuurnummer mag maar één keer gebruikt worden. Stuur de factuur "
                "terug met het verzoek om een nieuw, uniek nummer.")
    if ctx.same_content_as is not None:
        out.add(Code.DUPLICATE_CONTENT, f"deze factuur heeft dezelfde inhoud (opdracht, periode, regels en bedragen) "
                f"als factuur {ctx.same_content_as}; ga na of het een dubbele factuur is voordat er betaald wordt.")


def _check_original(invoice: Invoice, ctx: ReconcileContext, out: _Out) -> None:
    if not (invoice.is_credit or invoice.type_code == TypeCode.CORRECTIVE):
        return
    what = "de creditnota" if invoice.is_credit else "de correctiefactuur (384)"
    refs = invoice.billing_references
    if not refs:
        out.add(Code.ORIGINAL_UNKNOWN, f"{what} noemt geen oorspronkelijke factuur "
                "(cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID); zoek uit bij welke factuur die hoort.")
    elif not any(ref in ctx.known_invoice_numbers for ref in refs):
        out.add(Code.ORIGINAL_UNKNOWN, f"{what} verwijst naar {', '.join(refs)}, maar geen daarvan is een bekende "
                "factuur van deze leverancier; zoek uit bij welke factuur die hoort.")


def _periods(invoice: Invoice) -> list[tuple[str | None, date, date]]:
    """(line id or None for the document, start, end) of every service period the invoice states."""
    found = []
    if invoice.period_start or invoice.period_end:
        found.append((None, *_bounds(invoice.period_start, invoice.period_end)))
    for line in invoice.lines:
        if line.period_start or line.period_end:
            found.append((line.line_id, *_bounds(line.period_start, line.period_end)))
    return found


def _bounds(start: date | None, end: date | None) -> tuple[date, date]:
    return start or end, end or start  # type: ignore[return-value]


def _check_periods(invoice: Invoice, order: OrderFacts, out: _Out) -> None:
    for line_id, start, end in _periods(invoice):
        what = "de factuurperiode" if line_id is None else f"regel {line_id}: de periode"
        after_close = order.case_closed_on is not None and end > order.case_closed_on
        if after_close:
            out.add(Code.PERIOD_AFTER_CASE_CLOSED, f"{what} ({start} t/m {end}) loopt na de sluiting van de zaak op "
                    f"{order.case_closed_on}; werk na die datum wordt niet betaald. Ga na of het werk daarvoor is "
                    "gedaan, of vraag een creditnota voor het deel daarna.", line_id)
        too_early = start < order.start
        too_late = order.end is not None and end > order.end and not after_close
        if too_early or too_late:
            out.add(Code.PERIOD_OUTSIDE_ORDER, f"{what} ({start} t/m {end}) valt buiten de looptijd van opdracht "
                    f"{order.order_number} ({order.start} t/m {order.end or 'open einde'}); ga na of dit werk besteld "
                    "was.", line_id)


def _service_years(invoice: Invoice, line: InvoiceLine) -> range:
    if line.period_start or line.period_end:
        start, end = _bounds(line.period_start, line.period_end)
    elif invoice.period_start or invoice.period_end:
        start, end = _bounds(invoice.period_start, invoice.period_end)
    else:
        start = end = invoice.issue_date
    return range(start.year, max(start.year, end.year) + 1)


def _contract_rates(order: OrderFacts, contract: ProviderContract | None, role: str, years: range) -> list[Decimal]:
    if contract is not None:
        try:
            return [rate_on(contract, role, date(year, 1, 1)) for year in years]
        except TariffError:
            pass  # the contract has no rate for this role or year: the order's rate is what was agreed
    return [order.rates[role]]


def _check_roles_and_rates(invoice: Invoice, order: OrderFacts, contract: ProviderContract | None,
                           out: _Out) -> None:
    ordered = ", ".join(sorted(order.rates)) or "geen"
    for line in invoice.lines:
        if line.role not in order.rates:
            if line.role is None:
                why = f"{_quote(line.item_name)} is geen rol"
            elif contract is None:
                why = f"{line.role} is niet besteld"
            elif line.role in contract.rollen:
                why = f"{line.role} staat in het contract maar is niet besteld"
            else:
                why = f"{line.role} komt niet voor in het contract en is niet besteld"
            out.add(Code.ROLE_NOT_IN_CONTRACT, f"regel {line.line_id}: {why} in opdracht {order.order_number} "
                    f"(besteld: {ordered}); op regiebasis worden alleen bestelde uren betaald. Ga na wat hier "
                    "gefactureerd wordt.", line.line_id)
            continue
        years = _service_years(invoice, line)
        rates = _contract_rates(order, contract, line.role, years)
        shown = " of ".join(f"{_eur(r)} ({y})" for r, y in zip(rates, years)) if len(rates) > 1 else _eur(rates[0])
        if line.unit_code != HOUR:
            out.add(Code.RATE_MISMATCH, f"regel {line.line_id}: {line.role} wordt gefactureerd per "
                    f"{line.unit_code or '(geen eenheid)'} in plaats van per uur (HUR); op regiebasis geldt een "
                    f"uurtarief van {shown}. Vraag een factuur in uren.", line.line_id)
        elif line.base_quantity != 0 and line.unit_price / line.base_quantity not in rates:
            price = line.unit_price / line.base_quantity
            out.add(Code.RATE_MISMATCH, f"regel {line.line_id}: {line.role} wordt gefactureerd tegen {_eur(price)} "
                    f"per uur, het contracttarief is {shown}. Vraag de leverancier om een creditnota en een "
                    "nieuwe factuur tegen het contracttarief.", line.line_id)


def _check_budget(invoice: Invoice, order: OrderFacts, billed: Billed, out: _Out) -> None:
    now = billed_by(invoice)
    if order.kind == "regie" and order.budget_hours is not None:
        for role, hours in now.hours.items():
            budget = order.budget_hours.get(role)
            before = billed.hours.get(role, _ZERO)
            if budget is not None and before + hours > budget:
                out.add(Code.OVER_BUDGET_HOURS, f"{role}: met deze factuur komt het totaal op {_num(before + hours)} "
                        f"uur ({_num(before)} eerder goedgekeurd + {_num(hours)} nu), besteld is {_num(budget)} uur in "
                        f"opdracht {order.order_number}. Beslis of het meerwerk betaald wordt, of vraag een "
                        "creditnota voor de uren erboven.")
    if order.budget_amount is not None and billed.amount + now.amount > order.budget_amount:
        out.add(Code.OVER_BUDGET_AMOUNT, f"met deze factuur komt opdracht {order.order_number} op "
                f"{_eur(billed.amount + now.amount)} excl. btw ({_eur(billed.amount)} eerder goedgekeurd + "
                f"{_eur(now.amount)} nu), de vaste prijs is {_eur(order.budget_amount)}. Beslis of het meerdere "
                "betaald wordt, of vraag een creditnota.")


def _check_lines(invoice: Invoice, out: _Out) -> None:
    for line in invoice.lines:
        if line.base_quantity == 0:
            out.add(Code.LINE_ARITHMETIC, f"regel {line.line_id}: de basishoeveelheid (cbc:BaseQuantity) is 0, "
                    "zodat het regelbedrag niet na te rekenen is; vraag een gecorrigeerde factuur.", line.line_id)
            continue
        expected = _cents(line.quantity * line.unit_price / line.base_quantity
                          + line.line_charges - line.line_allowances)
        if expected != line.line_amount:
            sum_ = f"{_num(line.quantity)} × {_eur(line.unit_price)}"
            if line.base_quantity != 1:
                sum_ += f" / {_num(line.base_quantity)}"
            if line.line_charges:
                sum_ += f" + {_eur(line.line_charges)} toeslag"
            if line.line_allowances:
                sum_ += f" − {_eur(line.line_allowances)} korting"
            out.add(Code.LINE_ARITHMETIC, f"regel {line.line_id}: {sum_} = {_eur(expected)}, maar het regelbedrag "
                    f"is {_eur(line.line_amount)}; vraag de leverancier om een gecorrigeerde factuur.", line.line_id)


def _check_vat(invoice: Invoice, contract: ProviderContract | None, out: _Out) -> None:
    if contract is not None:
        wrong: dict[Decimal, list[str]] = {}
        for line in invoice.lines:
            pct = line.vat_pct if line.vat_pct is not None else _ZERO
            if pct != contract.btw_pct:
                wrong.setdefault(pct, []).append(line.line_id)
        for pct, ids in wrong.items():
            which = f"regel {ids[0]} rekent" if len(ids) == 1 else f"regels {_listed(ids)} rekenen"
            out.add(Code.VAT_RATE_WRONG, f"{which} {_num(pct)}% btw, het contract {_num(contract.btw_pct)}%; vraag "
                    "de leverancier om een creditnota en een nieuwe factuur met het juiste btw-tarief.",
                    ids[0] if len(ids) == 1 else None)
        for sub in invoice.vat:
            pct = sub.pct if sub.pct is not None else _ZERO
            if pct != contract.btw_pct:
                out.add(Code.VAT_RATE_WRONG, f"de btw-specificatie {sub.category} rekent {_num(pct)}% over "
                        f"{_eur(sub.taxable_amount)}, het contract {_num(contract.btw_pct)}%; vraag een creditnota "
                        "en een nieuwe factuur met het juiste btw-tarief.")
    for sub in invoice.vat:
        pct = sub.pct if sub.pct is not None else _ZERO
        expected = _cents(sub.taxable_amount * pct / _HUNDRED)
        if abs(sub.tax_amount - expected) > _VAT_TOLERANCE:
            out.add(Code.VAT_AMOUNT_WRONG, f"de btw-specificatie {sub.category} {_num(pct)}%: {_num(pct)}% van "
                    f"{_eur(sub.taxable_amount)} is {_eur(expected)}, de factuur rekent {_eur(sub.tax_amount)}; vraag "
                    "een gecorrigeerde factuur.")
    taxes = sum((sub.tax_amount for sub in invoice.vat), _ZERO)
    if taxes != invoice.totals.tax_total:
        out.add(Code.VAT_AMOUNT_WRONG, f"de btw-specificaties tellen op tot {_eur(taxes)}, maar het btw-totaal is "
                f"{_eur(invoice.totals.tax_total)}; vraag een gecorrigeerde factuur.")
    taxable = sum((sub.taxable_amount for sub in invoice.vat), _ZERO)
    if invoice.vat and taxable != invoice.totals.tax_exclusive:
        out.add(Code.VAT_AMOUNT_WRONG, f"de btw-grondslagen tellen op tot {_eur(taxable)}, maar het totaal excl. btw "
                f"is {_eur(invoice.totals.tax_exclusive)}; over het verschil is geen btw berekend. Vraag een "
                "gecorrigeerde factuur.")


def _check_totals(invoice: Invoice, out: _Out) -> None:
    t = invoice.totals
    lines = sum((line.line_amount for line in invoice.lines), _ZERO)
    sums = [
        (lines, t.line_extension, f"de regelbedragen tellen op tot {_eur(lines)}, maar het totaal van de regels "
         f"(cbc:LineExtensionAmount) is {_eur(t.line_extension)}"),
        (t.line_extension - t.allowance_total + t.charge_total, t.tax_exclusive,
         f"{_eur(t.line_extension)} − {_eur(t.allowance_total)} korting + {_eur(t.charge_total)} toeslag = "
         f"{_eur(t.line_extension - t.allowance_total + t.charge_total)}, maar het totaal excl. btw is "
         f"{_eur(t.tax_exclusive)}"),
        (t.tax_exclusive + t.tax_total, t.tax_inclusive,
         f"{_eur(t.tax_exclusive)} excl. btw + {_eur(t.tax_total)} btw = {_eur(t.tax_exclusive + t.tax_total)}, "
         f"maar het totaal incl. btw is {_eur(t.tax_inclusive)}"),
        (t.tax_inclusive - t.prepaid + t.rounding, t.payable,
         f"{_eur(t.tax_inclusive)} incl. btw − {_eur(t.prepaid)} vooruitbetaald + {_eur(t.rounding)} afronding = "
         f"{_eur(t.tax_inclusive - t.prepaid + t.rounding)}, maar het te betalen bedrag is {_eur(t.payable)}"),
    ]
    for computed, stated, message in sums:
        if computed != stated:
            out.add(Code.TOTALS_INCONSISTENT, f"{message}; vraag de leverancier om een gecorrigeerde factuur.")


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _num(value: Decimal) -> str:
    """A number by value, without trailing zeros or exponent: 6.50 → '6.5', 1E+2 → '100'."""
    return "0" if value == 0 else format(value.normalize(), "f")


def _eur(value: Decimal) -> str:
    """An amount as people read it: two decimals unless it has more (so a difference never hides)."""
    text = f"{value:.2f}" if value == value.quantize(CENT) else _num(value)
    return f"€ {text}"


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _quote(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return f"'{text if len(text) <= limit else text[:limit - 1] + '…'}'"


def _listed(ids: list[str]) -> str:
    shown = ", ".join(ids[:_MAX_LISTED])
    return shown if len(ids) <= _MAX_LISTED else f"{shown} en {len(ids) - _MAX_LISTED} andere"
