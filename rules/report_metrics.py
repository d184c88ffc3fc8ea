"""The numbers behind the monthly management report, as pure functions over plain rows.

No I/O and no clock: the period is given. The rows carry internal ids, dates, statuses and amounts,
never a BSN, name or free text; the results hold only counts, days and amounts. Every metric is a
small frozen dataclass with `is_empty` and `table()`: rows (column -> value) for a markdown or HTML
table, in the order a reader expects. Values in a table are int, Decimal (cents), float (one decimal)
or str; `None` is shown as a dash by the renderers.

Choices (the report's captions repeat them):
- "over time" is the 12 months up to and including the period (`Period.trailing`);
- a case is open at a date when `opened_on <= date` and it was not closed on or before that date;
- WVP steps are judged at the period's last day for the steps **due in the period** that the gemeente
  must do; a step that was already overdue when the case came in (`onverwijld`) is its own category,
  because it could never be on time; a step of a case closed on or before its due date without it
  being done is left out (it stopped being needed);
- lead times are for cases **received in the trailing 12 months**; percentiles are nearest-rank;
- costs are for orders running in the period: their budget against the approved invoices on them
  received up to the period's end (and, separately, in the period);
- invoices and consults are counted in the period by the date they were received / held (or changed).
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from schemas.case import Stap
from schemas.dossier import TREDE_LABELS, Trede

CENT = Decimal("0.01")
MONTHS_NL = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
             "oktober", "november", "december")
_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")

Row = dict[str, Any]


# -- the period -------------------------------------------------------------------------------------

@dataclass(frozen=True, order=True)
class Period:
    """A calendar month, the unit of the report."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1900 <= self.year <= 9999:
            raise ValueError(f"{self.year:04d}-{self.month:02d} is geen maand; gebruik JJJJ-MM, bijvoorbeeld 2027-03")

    @classmethod
    def parse(cls, text: str) -> Period:
        """`2027-03` -> Period(2027, 3); ValueError (Dutch, naming the value) for anything else."""
        match = _PERIOD.match(text.strip())
        if not match:
            raise ValueError(f"{text!r} is geen maand; gebruik JJJJ-MM, bijvoorbeeld 2027-03")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, day: date) -> Period:
        """The month `day` falls in."""
        return cls(day.year, day.month)

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        return self.shift(1).first - timedelta(days=1)

    @property
    def label(self) -> str:
        """`2027-03` (keys, file and folder names)."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def name(self) -> str:
        """`maart 2027` (titles)."""
        return f"{MONTHS_NL[self.month - 1]} {self.year}"

    @property
    def short(self) -> str:
        """`mrt '27` (axis labels)."""
        return f"{MONTHS_NL[self.month - 1][:3]} '{self.year % 100:02d}"

    def shift(self, months: int) -> Period:
        """The month `months` later (negative: earlier)."""
        index = self.year * 12 + self.month - 1 + months
        return Period(index // 12, index % 12 + 1)

    def previous(self) -> Period:
        return self.shift(-1)

    def trailing(self, months: int = 12) -> tuple[Period, ...]:
        """The `months` months up to and including this one, oldest first."""
        return tuple(self.shift(-i) for i in range(months - 1, -1, -1))

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last


def _open_on(opened_on: date, closed_on: date | None, day: date) -> bool:
    return opened_on <= day and (closed_on is None or closed_on > day)


def _money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT)


# -- 1. caseload ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CaseRow:
    """A case as the report sees it (no BSN). `taken_over_on` is the date of the takeover decision
    (besluit OVERNAME), None when the gemeente did not take the case over."""

    case_id: int
    opened_on: date
    closed_on: date | None
    datum_ontvangst: date
    eerste_ziektedag: date | None
    taken_over_on: date | None = None


@dataclass(frozen=True)
class CaseloadMonth:
    """One month: cases open at its last day, opened in it, closed in it."""

    period: Period
    open_at_end: int
    new: int
    closed: int


@dataclass(frozen=True)
class Caseload:
    """Open cases at each month end, with new and closed cases per month, over the trailing months."""

    months: tuple[CaseloadMonth, ...]

    @property
    def is_empty(self) -> bool:
        return not any(m.open_at_end or m.new or m.closed for m in self.months)

    def table(self) -> list[Row]:
        return [{"maand": m.period.label, "lopend op maandeinde": m.open_at_end, "nieuw": m.new, "gesloten": m.closed}
                for m in self.months]


def caseload(cases: Iterable[CaseRow], period: Period, months: int = 12) -> Caseload:
    """Caseload over the `months` months up to `period`."""
    cases = list(cases)
    return Caseload(tuple(
        CaseloadMonth(
            period=p,
            open_at_end=sum(_open_on(c.opened_on, c.closed_on, p.last) for c in cases),
            new=sum(c.opened_on in p for c in cases),
            closed=sum(c.closed_on is not None and c.closed_on in p for c in cases),
        )
        for p in period.trailing(months)
    ))


# -- 2. lead times ----------------------------------------------------------------------------------

WEEK_BUCKETS: tuple[tuple[int, int | None], ...] = (
    (0, 2), (2, 4), (4, 6), (6, 8), (8, 13), (13, 26), (26, 52), (52, None))
"""Histogram buckets in weeks after the first sick day, [from, to). Week 6 is the probleemanalyse's
deadline (D + 42): a signal later than that makes it onverwijld."""


def bucket_label(bucket: tuple[int, int | None]) -> str:
    low, high = bucket
    return f"{low}–{high} wk" if high is not None else f"≥ {low} wk"


def nearest_rank(values: Iterable[int], pct: float) -> int | None:
    """The nearest-rank percentile (`pct` in (0, 100]) of `values`; None when there are none."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


@dataclass(frozen=True)
class LeadTimeSeries:
    """Days from the first sick day to an event, for the cases that had it."""

    name: str
    days: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.days)

    @property
    def median(self) -> float | None:
        return round(float(statistics.median(self.days)), 1) if self.days else None

    @property
    def p90(self) -> int | None:
        return nearest_rank(self.days, 90)

    def histogram(self) -> tuple[int, ...]:
        """Counts per `WEEK_BUCKETS` bucket (a negative lead time, a data error, counts in the first)."""
        counts = [0] * len(WEEK_BUCKETS)
        for d in self.days:
            weeks = max(d, 0) / 7
            index = next(i for i, (low, high) in enumerate(WEEK_BUCKETS) if high is None or weeks < high)
            counts[index] += 1
        return tuple(counts)


@dataclass(frozen=True)
class LeadTimes:
    """Lead times of the cases received in `window` (first and last month): to the signal and to takeover."""

    window: tuple[Period, Period]
    signal: LeadTimeSeries
    takeover: LeadTimeSeries

    @property
    def is_empty(self) -> bool:
        return not self.signal.days and not self.takeover.days

    def table(self) -> list[Row]:
        series = (self.signal, self.takeover)
        rows: list[Row] = [{"": bucket_label(b), **{s.name: s.histogram()[i] for s in series}}
                           for i, b in enumerate(WEEK_BUCKETS)]
        rows.append({"": "aantal zaken", **{s.name: s.count for s in series}})
        rows.append({"": "mediaan (dagen)", **{s.name: s.median for s in series}})
        rows.append({"": "90e percentiel (dagen)", **{s.name: s.p90 for s in series}})
        return rows


def lead_times(cases: Iterable[CaseRow], period: Period, months: int = 12) -> LeadTimes:
    """Days from `eerste_ziektedag` to the signal's arrival and to the takeover decision, for cases
    received in the `months` months up to `period` (cases without a first sick day are left out)."""
    window = period.trailing(months)
    start, end = window[0].first, period.last
    cohort = [c for c in cases if c.eerste_ziektedag is not None and start <= c.datum_ontvangst <= end]
    signal = tuple(sorted((c.datum_ontvangst - c.eerste_ziektedag).days for c in cohort))
    takeover = tuple(sorted((c.taken_over_on - c.eerste_ziektedag).days for c in cohort if c.taken_over_on))
    return LeadTimes((window[0], period), LeadTimeSeries("signaal", signal), LeadTimeSeries("overname", takeover))


# -- 3. WVP steps -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class StepRow:
    """One WVP step of a case: its due date (`datum`, after any art. 7 deviation) and when it was done."""

    stap: str
    datum: date
    done_on: date | None
    onverwijld: bool
    gemeente_verantwoordelijk: bool
    case_closed_on: date | None


STEP_CATEGORIES = ("op tijd", "te laat gedaan", "te laat, open", "onverwijld")
"""Column names of the WVP figure: on time, done late, overdue and still open at the period's end,
and overdue already at intake (whatever happened after)."""


@dataclass(frozen=True)
class StepOutcome:
    """Counts per category for one step."""

    stap: str
    counts: tuple[int, int, int, int]  # in STEP_CATEGORIES order

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class WvpSteps:
    """The gemeente's WVP steps due in `period`, per step, judged at the period's last day."""

    period: Period
    steps: tuple[StepOutcome, ...]

    @property
    def is_empty(self) -> bool:
        return not self.steps

    def totals(self) -> tuple[int, ...]:
        return tuple(sum(s.counts[i] for s in self.steps) for i in range(len(STEP_CATEGORIES)))

    def table(self) -> list[Row]:
        rows = [{"stap": s.stap, **dict(zip(STEP_CATEGORIES, s.counts)), "totaal": s.total} for s in self.steps]
        if rows:
            totals = self.totals()
            rows.append({"stap": "totaal", **dict(zip(STEP_CATEGORIES, totals)), "totaal": sum(totals)})
        return rows


def step_category(step: StepRow, as_of: date) -> int | None:
    """Index in STEP_CATEGORIES of a step due on or before `as_of`, or None when it does not count."""
    if not step.gemeente_verantwoordelijk:
        return None
    done = step.done_on if step.done_on is not None and step.done_on <= as_of else None
    if done is None and step.case_closed_on is not None and step.case_closed_on <= step.datum:
        return None
    if step.onverwijld:
        return 3
    if done is None:
        return 2
    return 0 if done <= step.datum else 1


def wvp_steps(steps: Iterable[StepRow], period: Period) -> WvpSteps:
    """Steps due in `period`, per step in calendar order, with how they went by the period's end."""
    counts: dict[str, list[int]] = {}
    for step in steps:
        if step.datum not in period:
            continue
        category = step_category(step, period.last)
        if category is not None:
            counts.setdefault(step.stap, [0] * len(STEP_CATEGORIES))[category] += 1
    order = {s.value: i for i, s in enumerate(Stap)}
    return WvpSteps(period, tuple(StepOutcome(stap, tuple(c)) for stap, c in
                                  sorted(counts.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))))


# -- 4. consults ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConsultRow:
    """A consult attempt: its status and the day it counts on (the appointment, else its last change)."""

    status: str
    on: date


CONSULT_GROUPS: dict[str, tuple[str, ...]] = {
    "gehouden": ("GEHOUDEN", "AFGEROND"),
    "niet verschenen": ("NO_SHOW",),
    "geannuleerd": ("GEANNULEERD", "GEANNULEERD_DOOR_ARBODIENST"),
}
OTHER = "overig"
"""Consults still to book or booked, or waiting for a person's check (store.consults.ConsultStatus)."""


@dataclass(frozen=True)
class Consults:
    """Bedrijfsarts consults of the period by outcome."""

    period: Period
    counts: dict[str, int]  # group -> count, in CONSULT_GROUPS order then OTHER

    @property
    def is_empty(self) -> bool:
        return not any(self.counts.values())

    @property
    def no_show_pct(self) -> float | None:
        """No-shows as a percentage of the consults that were held or missed."""
        base = self.counts["gehouden"] + self.counts["niet verschenen"]
        return round(100 * self.counts["niet verschenen"] / base, 1) if base else None

    def table(self) -> list[Row]:
        return [{"uitkomst": group, "aantal": n} for group, n in self.counts.items()]


def consults(rows: Iterable[ConsultRow], period: Period) -> Consults:
    """Count the consults that fall in `period` per outcome group."""
    group_of = {status: group for group, statuses in CONSULT_GROUPS.items() for status in statuses}
    tally = Counter(group_of.get(r.status, OTHER) for r in rows if r.on in period)
    return Consults(period, {group: tally.get(group, 0) for group in (*CONSULT_GROUPS, OTHER)})


# -- 5. cost per provider ---------------------------------------------------------------------------

@dataclass(frozen=True)
class OrderRow:
    """An order's budget: a fixed amount, or hours per role at the order's rates (role -> rate string)."""

    order_id: int
    provider_id: str
    start_date: date
    end_date: date | None
    budget_amount: Decimal | None
    budget_hours: Mapping[str, Any] | None
    roles: Mapping[str, Any]


@dataclass(frozen=True)
class InvoiceRow:
    """An invoice as the report sees it: verdict, amounts excl. VAT (negative for a credit note), received date."""

    supplier_id: str
    order_id: int | None
    verdict: str
    billed_amount: Decimal
    approved_amount: Decimal | None
    received_on: date


def order_budget(order: OrderRow) -> Decimal | None:
    """The order's budget: `budget_amount`, else the sum of hours x rate; None when it has neither."""
    if order.budget_amount is not None:
        return _money(order.budget_amount)
    if not order.budget_hours:
        return None
    total = Decimal(0)
    for role, hours in order.budget_hours.items():
        rate = order.roles.get(role)
        if rate is None:
            return None  # hours for a role without a rate: the budget is unknown, not zero
        total += Decimal(str(hours)) * Decimal(str(rate))
    return _money(total)


def approved_cost(invoice: InvoiceRow) -> Decimal:
    """What an invoice costs the gemeente: 0 unless APPROVED; a partial approval's amount; negative
    for a credit note."""
    if invoice.verdict != "APPROVED":
        return Decimal(0)
    if invoice.approved_amount is None:
        return _money(invoice.billed_amount)
    sign = -1 if invoice.billed_amount < 0 else 1
    return _money(sign * abs(invoice.approved_amount))


@dataclass(frozen=True)
class ProviderCost:
    """One provider: budget of its orders running in the period and what was approved on them."""

    provider: str
    orders: int
    budget: Decimal
    approved_to_date: Decimal
    approved_in_period: Decimal
    orders_without_budget: int

    @property
    def used_pct(self) -> float | None:
        return round(float(100 * self.approved_to_date / self.budget), 1) if self.budget else None


@dataclass(frozen=True)
class Costs:
    """Cost per provider against budget for the orders running in `period`."""

    period: Period
    providers: tuple[ProviderCost, ...]

    @property
    def is_empty(self) -> bool:
        return not self.providers

    def table(self) -> list[Row]:
        return [{"aanbieder": p.provider, "opdrachten": p.orders, "budget": p.budget,
                 "goedgekeurd t/m periode": p.approved_to_date, "waarvan in periode": p.approved_in_period,
                 "verbruikt %": p.used_pct, "zonder budget": p.orders_without_budget} for p in self.providers]


def costs(orders: Iterable[OrderRow], invoices: Iterable[InvoiceRow], period: Period,
          names: Mapping[str, str] | None = None) -> Costs:
    """Per provider (named by `names` where known): the budgets of its orders running in `period`
    against the approved invoices on those orders received up to the period's end."""
    names = names or {}
    running = {o.order_id: o for o in orders
               if o.start_date <= period.last and (o.end_date is None or o.end_date >= period.first)}
    per: dict[str, dict[str, Any]] = {}
    for o in running.values():
        p = per.setdefault(o.provider_id, {"orders": 0, "budget": Decimal(0), "to_date": Decimal(0),
                                           "in_period": Decimal(0), "no_budget": 0})
        budget = order_budget(o)
        p["orders"] += 1
        if budget is None:
            p["no_budget"] += 1
        else:
            p["budget"] += budget
    for inv in invoices:
        order = running.get(inv.order_id) if inv.order_id is not None else None
        if order is None or inv.received_on > period.last:
            continue
        amount = approved_cost(inv)
        per[order.provider_id]["to_date"] += amount
        if inv.received_on in period:
            per[order.provider_id]["in_period"] += amount
    return Costs(period, tuple(
        ProviderCost(names.get(pid, pid), p["orders"], _money(p["budget"]), _money(p["to_date"]),
                     _money(p["in_period"]), p["no_budget"])
        for pid, p in sorted(per.items(), key=lambda kv: names.get(kv[0], kv[0]))))


# -- 6. invoices per verdict ------------------------------------------------------------------------

VERDICT_LABELS = {"APPROVED": "goedgekeurd", "DISPUTED": "betwist", "REJECTED": "afgewezen"}


@dataclass(frozen=True)
class InvoiceVerdicts:
    """Invoices received in `period` by current verdict: count and invoiced amount excl. VAT."""

    period: Period
    counts: dict[str, int]  # label -> count, VERDICT_LABELS order then OTHER
    amounts: dict[str, Decimal]

    @property
    def is_empty(self) -> bool:
        return not any(self.counts.values())

    def table(self) -> list[Row]:
        return [{"oordeel": label, "aantal": n, "bedrag excl. btw": self.amounts[label]}
                for label, n in self.counts.items()]


def invoice_verdicts(invoices: Iterable[InvoiceRow], period: Period) -> InvoiceVerdicts:
    """Count the invoices received in `period` per verdict (APPROVED/DISPUTED/REJECTED, else overig)."""
    labels = (*VERDICT_LABELS.values(), OTHER)
    counts = dict.fromkeys(labels, 0)
    amounts = dict.fromkeys(labels, Decimal(0))
    for inv in invoices:
        if inv.received_on in period:
            label = VERDICT_LABELS.get(inv.verdict, OTHER)
            counts[label] += 1
            amounts[label] += inv.billed_amount
    return InvoiceVerdicts(period, counts, {k: _money(v) for k, v in amounts.items()})


# -- 7. ladder movement -----------------------------------------------------------------------------

@dataclass(frozen=True)
class LadderRow:
    """A trede recorded for a case from `since` on; `seq` orders entries with the same date (insert order)."""

    case_id: int
    trede: int
    since: date
    seq: int


MOVES = ("omhoog", "gelijk", "omlaag", "nieuw ingeschaald")


@dataclass(frozen=True)
class Ladder:
    """For the cases open during `period` that have a trede at its end: movement since its start
    (`moves`, MOVES order) and how many stand on each trede 0-9 at its end."""

    period: Period
    moves: dict[str, int]
    distribution: tuple[int, ...]

    @property
    def is_empty(self) -> bool:
        return not any(self.distribution)

    def table(self) -> list[Row]:
        rows: list[Row] = [{"": move, "aantal": n} for move, n in self.moves.items()]
        rows += [{"": f"trede {t.value}: {TREDE_LABELS[t]}", "aantal": self.distribution[t.value]} for t in Trede]
        return rows


def trede_on(entries: Iterable[LadderRow], day: date) -> int | None:
    """The trede in force on `day` (the latest entry since on or before it), None before any."""
    current = [e for e in entries if e.since <= day]
    return max(current, key=lambda e: (e.since, e.seq)).trede if current else None


def ladder(entries: Iterable[LadderRow], cases: Iterable[CaseRow], period: Period) -> Ladder:
    """Ladder movement in `period`: the trede on the day before it starts against the trede on its last day."""
    by_case: dict[int, list[LadderRow]] = {}
    for e in entries:
        by_case.setdefault(e.case_id, []).append(e)
    moves = dict.fromkeys(MOVES, 0)
    distribution = [0] * len(Trede)
    for case in cases:
        if not (case.opened_on <= period.last and (case.closed_on is None or case.closed_on >= period.first)):
            continue
        history = by_case.get(case.case_id, [])
        end = trede_on(history, period.last)
        if end is None or not 0 <= end < len(Trede):
            continue
        start = trede_on(history, period.first - timedelta(days=1))
        move = MOVES[3] if start is None else MOVES[0] if end > start else MOVES[2] if end < start else MOVES[1]
        moves[move] += 1
        distribution[end] += 1
    return Ladder(period, moves, tuple(distribution))
