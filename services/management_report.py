"""The monthly management report: read the store, let `rules.report_metrics` count, write the page.

The queries select only the columns the counts need (ids, dates, statuses, amounts), bounded by the
period where the column allows; never a BSN, name or free text. The takeover date is the first
`case.besluit` audit event that decided OVERNAME (the case's `opened_on` when there is none, e.g.
for cases from before the audit trail).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.engine import Engine

import store
from rules.booking import local_date
from rules.report_metrics import (
    Caseload,
    CaseRow,
    ConsultRow,
    Consults,
    Costs,
    InvoiceRow,
    InvoiceVerdicts,
    Ladder,
    LadderRow,
    LeadTimes,
    OrderRow,
    Period,
    StepRow,
    WvpSteps,
    caseload,
    consults,
    costs,
    invoice_verdicts,
    ladder,
    lead_times,
    wvp_steps,
)
from schemas.case import Besluit
from services.decisions import takeover_dates
from store.models import Case, Consult, Invoice, LadderEntry, Order, WvpStep

TRAILING_MONTHS = 12
FIGURES = ("caseload", "lead-times", "wvp-steps", "consults", "costs", "invoices", "ladder")
"""The report's figures in page order; also the artifact keys (`report-<figure>`) and HTML ids (`fig-<figure>`)."""


@dataclass(frozen=True)
class ManagementReport:
    """Everything the page and the artifacts show for one month."""

    period: Period
    gemeente: str | None
    caseload: Caseload
    lead_times: LeadTimes
    wvp_steps: WvpSteps
    consults: Consults
    costs: Costs
    invoices: InvoiceVerdicts
    ladder: Ladder

    def figures(self) -> dict[str, object]:
        """Figure key -> its metric, in `FIGURES` order."""
        metrics = (self.caseload, self.lead_times, self.wvp_steps, self.consults, self.costs, self.invoices,
                   self.ladder)
        return dict(zip(FIGURES, metrics))


def _utc(day, days: int = 0) -> datetime:
    # Padded by a day on each side by the callers: the exact Dutch date is decided in Python.
    return datetime.combine(day + timedelta(days=days), time(0), UTC)


def build_report(engine: Engine, period: Period, *, gemeente: str | None = None,
                 provider_names: Mapping[str, str] | None = None) -> ManagementReport:
    """The report for `period`; `gemeente` for the title (default: the one gemeentecode of the cases),
    `provider_names` provider id -> name (from the contracts) for the cost figure."""
    window_start = period.trailing(TRAILING_MONTHS)[0].first
    with store.session_scope(engine) as session:
        taken_over = takeover_dates(session)
        cases = [
            CaseRow(case_id=cid, opened_on=opened, closed_on=closed, datum_ontvangst=ontvangst, eerste_ziektedag=d,
                    taken_over_on=taken_over.get(cid, opened)
                    if besluit is Besluit.OVERNAME else None)
            for cid, opened, closed, ontvangst, d, besluit in session.execute(
                select(Case.id, Case.opened_on, Case.closed_on, Case.datum_ontvangst, Case.eerste_ziektedag,
                       Case.besluit)
                .where(or_(Case.opened_on <= period.last, Case.datum_ontvangst <= period.last),
                       or_(Case.closed_on.is_(None), Case.closed_on >= window_start - timedelta(days=1))))
        ]
        steps = [StepRow(stap.value, datum, done, onverwijld, gemeente_, closed)
                 for stap, datum, done, onverwijld, gemeente_, closed in session.execute(
                     select(WvpStep.stap, WvpStep.datum, WvpStep.done_on, WvpStep.onverwijld,
                            WvpStep.gemeente_verantwoordelijk, Case.closed_on)
                     .join(Case, Case.id == WvpStep.case_id)
                     .where(WvpStep.datum >= period.first, WvpStep.datum <= period.last))]
        start, end = _utc(period.first, -1), _utc(period.last, 2)
        consult_rows = [ConsultRow(status, local_date(slot or changed))
                        for status, slot, changed in session.execute(
                            select(Consult.status, Consult.slot_start, Consult.updated_at)
                            .where(or_(Consult.slot_start.between(start, end),
                                       Consult.slot_start.is_(None) & Consult.updated_at.between(start, end))))]
        orders = [OrderRow(*row) for row in session.execute(
            select(Order.id, Order.provider_id, Order.start_date, Order.end_date, Order.budget_amount,
                   Order.budget_hours, Order.roles)
            .where(Order.start_date <= period.last, or_(Order.end_date.is_(None), Order.end_date >= period.first)))]
        running = [o.order_id for o in orders]
        invoices = [InvoiceRow(supplier, order_id, verdict, billed, approved, local_date(created))
                    for supplier, order_id, verdict, billed, approved, created in session.execute(
                        select(Invoice.supplier_id, Invoice.order_id, Invoice.verdict, Invoice.billed_amount,
                               Invoice.approved_amount, Invoice.created_at)
                        .where(Invoice.created_at < end,
                               or_(Invoice.created_at >= start, Invoice.order_id.in_(running))))]
        entries = [LadderRow(*row) for row in session.execute(
            select(LadderEntry.case_id, LadderEntry.trede, LadderEntry.since, LadderEntry.id)
            .where(LadderEntry.since <= period.last))]
        if gemeente is None:
            codes = session.scalars(select(Case.gemeentecode).distinct().limit(2)).all()
            gemeente = codes[0] if len(codes) == 1 else None
    return ManagementReport(
        period=period, gemeente=gemeente,
        caseload=caseload(cases, period, TRAILING_MONTHS),
        lead_times=lead_times(cases, period, TRAILING_MONTHS),
        wvp_steps=wvp_steps(steps, period),
        consults=consults(consult_rows, period),
        costs=costs(orders, invoices, period, provider_names),
        invoices=invoice_verdicts(invoices, period),
        ladder=ladder(entries, cases, period),
    )


def write_report(report: ManagementReport, out_dir: Path, *, generated_on: date) -> Path:
    """Write `index.html` and `figures/<key>.png` + `.svg` into `out_dir` (made when missing; files are
    replaced whole, so a reader never sees half a page). Returns the page's path."""
    from documents.charts import render_chart
    from documents.report_html import report_html

    figures_dir = out_dir / "figures"
    figures_dir.mkdir(parents=True, exist_ok=True)
    images, vectors = {}, {}
    for key, metric in report.figures().items():
        for fmt, data in render_chart(key, metric, report.period).items():
            _write(figures_dir / f"{key}.{fmt}", data)
        images[key], vectors[key] = f"figures/{key}.png", f"figures/{key}.svg"
    page = report_html(report.period, report.gemeente, report.figures(), generated_on=generated_on,
                       images=images, vectors=vectors)
    index = out_dir / "index.html"
    _write(index, page.encode("utf-8"))
    return index


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
