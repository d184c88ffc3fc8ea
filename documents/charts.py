"""The management report's charts: one matplotlib figure per metric, rendered to PNG and SVG bytes.

Agg backend, no pyplot state (one `Figure` per chart, freed when done), Dutch titles and labels, the
same colour for the same meaning on every chart (green good, orange late, red missed, grey other).
A metric without data still gives a chart saying so, so the page never has a hole. No I/O here.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402 - after choosing the backend

from rules.report_metrics import (  # noqa: E402
    MOVES,
    STEP_CATEGORIES,
    WEEK_BUCKETS,
    Caseload,
    Consults,
    Costs,
    InvoiceVerdicts,
    Ladder,
    LeadTimes,
    Period,
    WvpSteps,
    bucket_label,
)

EMPTY_TEXT = "geen gegevens in deze periode"
COLOURS = {
    "good": "#2e7d32", "late": "#ef6c00", "bad": "#c62828", "other": "#90a4ae", "main": "#1565c0",
    "second": "#6a1b9a", "budget": "#cfd8dc", "new": "#0097a7",
}
STEP_COLOURS = (COLOURS["good"], COLOURS["late"], COLOURS["bad"], COLOURS["other"])
TITLES = {
    "caseload": "Caseload: lopende zaken per maandeinde",
    "lead-times": "Doorlooptijd vanaf de eerste ziektedag",
    "wvp-steps": "WVP-stappen met een termijn in de maand",
    "consults": "Consulten bedrijfsarts",
    "costs": "Kosten per aanbieder tegen budget",
    "invoices": "Ontvangen facturen per oordeel",
    "ladder": "Re-integratieladder: beweging en stand",
}
SIZE = (6.4, 4.0)
DPI = 110


def _figure(title: str, *, panels: int = 1) -> tuple[Figure, list]:
    fig = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0].tolist()
    fig.suptitle(title, fontsize=12, fontweight="bold")
    for ax in axes:
        ax.spines[["top", "right"]].set_visible(False)
        ax.margins(y=0.12)  # room for the value labels above the highest bar
    return fig, axes


def _legend(fig: Figure, ax, columns: int) -> None:
    # Below the plot, so it never hides a bar or a label.
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=columns, fontsize=8,
               frameon=False)


def _decimal(value: float | None) -> str:
    return "–" if value is None else f"{value:g}".replace(".", ",")


def _empty(fig: Figure, ax) -> None:
    ax.axis("off")
    ax.text(0.5, 0.5, EMPTY_TEXT, ha="center", va="center", fontsize=13, color="#555",
            transform=ax.transAxes)


def _label_bars(ax, bars, fmt: Callable[[float], str] = lambda v: f"{v:g}") -> None:
    for bar in bars:
        height = bar.get_height()
        if height:
            ax.annotate(fmt(height), (bar.get_x() + bar.get_width() / 2, height), ha="center", va="bottom",
                        fontsize=8, xytext=(0, 2), textcoords="offset points")


def _integer_axis(axis) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _euro(value: float) -> str:
    return "€ " + f"{value:,.0f}".replace(",", ".")


def draw_caseload(metric: Caseload, period: Period) -> Figure:
    fig, (ax,) = _figure(TITLES["caseload"])
    if metric.is_empty:
        _empty(fig, ax)
        return fig
    x = range(len(metric.months))
    bars = ax.bar(x, [m.open_at_end for m in metric.months], color=COLOURS["main"], label="lopend op maandeinde")
    _label_bars(ax, bars)
    ax.plot(x, [m.new for m in metric.months], marker="o", color=COLOURS["good"], label="nieuw in de maand")
    ax.plot(x, [m.closed for m in metric.months], marker="s", color=COLOURS["other"], label="gesloten in de maand")
    ax.set_xticks(list(x), [m.period.short for m in metric.months], rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("aantal zaken")
    _integer_axis(ax.yaxis)
    _legend(fig, ax, 3)
    return fig


def draw_lead_times(metric: LeadTimes, period: Period) -> Figure:
    fig, (ax,) = _figure(TITLES["lead-times"])
    if metric.is_empty:
        _empty(fig, ax)
        return fig
    width = 0.4
    x = range(len(WEEK_BUCKETS))
    for offset, series, colour, what in ((-width / 2, metric.signal, COLOURS["main"], "tot signaal"),
                                         (width / 2, metric.takeover, COLOURS["second"], "tot overname")):
        label = f"{what} (n={series.count}, mediaan {_decimal(series.median)} d, p90 {_decimal(series.p90)} d)"
        _label_bars(ax, ax.bar([i + offset for i in x], series.histogram(), width, color=colour, label=label))
    ax.set_xticks(list(x), [bucket_label(b) for b in WEEK_BUCKETS], rotation=30, ha="right", fontsize=8)
    ax.set_xlabel("weken na de eerste ziektedag")
    ax.set_ylabel("aantal zaken")
    _integer_axis(ax.yaxis)
    _legend(fig, ax, 1)
    return fig


def draw_wvp_steps(metric: WvpSteps, period: Period) -> Figure:
    fig, (ax,) = _figure(f"{TITLES['wvp-steps']} ({period.name})")
    if metric.is_empty:
        _empty(fig, ax)
        return fig
    names = [s.stap.replace("_", " ") for s in metric.steps]
    left = [0] * len(names)
    for i, (category, colour) in enumerate(zip(STEP_CATEGORIES, STEP_COLOURS)):
        values = [s.counts[i] for s in metric.steps]
        ax.barh(names, values, left=left, color=colour, label=category)
        left = [a + b for a, b in zip(left, values)]
    ax.invert_yaxis()
    ax.set_xlabel("aantal stappen")
    _integer_axis(ax.xaxis)
    _legend(fig, ax, 4)
    return fig


def _verdict_bars(fig: Figure, ax, labels: Sequence[str], values: Sequence[int], colours: Sequence[str],
                  ylabel: str) -> None:
    _label_bars(ax, ax.bar(labels, values, color=colours))
    ax.set_ylabel(ylabel)
    _integer_axis(ax.yaxis)


def draw_consults(metric: Consults, period: Period) -> Figure:
    fig, (ax,) = _figure(f"{TITLES['consults']} ({period.name})")
    if metric.is_empty:
        _empty(fig, ax)
        return fig
    _verdict_bars(fig, ax, list(metric.counts), list(metric.counts.values()),
                  (COLOURS["good"], COLOURS["bad"], COLOURS["late"], COLOURS["other"]), "aantal consulten")
    if metric.no_show_pct is not None:
        ax.set_title(f"niet verschenen: {_decimal(metric.no_show_pct)}% van gehouden + gemist", fontsize=9)
    return fig


def draw_costs(metric: Costs, period: Period) -> Figure:
    fig, (ax,) = _figure(f"{TITLES['costs']} ({period.name})")
    if metric.is_empty:
        _empty(fig, ax)
        return fig
    names = [p.provider for p in metric.providers]
    y = range(len(names))
    height = 0.38
    ax.barh([i - height / 2 for i in y], [float(p.budget) for p in metric.providers], height,
            color=COLOURS["budget"], edgecolor="#78909c", label="budget lopende opdrachten")
    used = ax.barh([i + height / 2 for i in y], [float(p.approved_to_date) for p in metric.providers], height,
                   color=COLOURS["main"], label="goedgekeurd t/m de maand")
    for bar, p in zip(used, metric.providers):
        pct = f" ({_decimal(p.used_pct)}%)" if p.used_pct is not None else ""
        ax.annotate(_euro(float(p.approved_to_date)) + pct, (max(bar.get_width(), 0), bar.get_y() + height / 2),
                    va="center", fontsize=8, xytext=(3, 0), textcoords="offset points")
    ax.set_yticks(list(y), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("euro excl. btw")
    ax.xaxis.set_major_formatter(lambda v, _pos: _euro(v))
    _legend(fig, ax, 2)
    return fig


def draw_invoices(metric: InvoiceVerdicts, period: Period) -> Figure:
    fig, (ax,) = _figure(f"{TITLES['invoices']} ({period.name})")
    if metric.is_empty:
        _empty(fig, ax)
        return fig
    _verdict_bars(fig, ax, list(metric.counts), list(metric.counts.values()),
                  (COLOURS["good"], COLOURS["late"], COLOURS["bad"], COLOURS["other"]), "aantal facturen")
    return fig


def draw_ladder(metric: Ladder, period: Period) -> Figure:
    fig, (moves, treden) = _figure(f"{TITLES['ladder']} ({period.name})", panels=2)
    if metric.is_empty:
        _empty(fig, moves)
        treden.axis("off")
        return fig
    _label_bars(moves, moves.bar([m.replace(" ", "\n") for m in MOVES], list(metric.moves.values()),
                                 color=(COLOURS["good"], COLOURS["other"], COLOURS["bad"], COLOURS["new"])))
    moves.set_title("beweging in de maand", fontsize=9)
    moves.set_ylabel("aantal zaken")
    moves.tick_params(axis="x", labelsize=8)
    _integer_axis(moves.yaxis)
    _label_bars(treden, treden.bar(range(len(metric.distribution)), metric.distribution, color=COLOURS["main"]))
    treden.set_title("stand op de laatste dag", fontsize=9)
    treden.set_xticks(range(len(metric.distribution)))
    treden.set_xlabel("trede (0 zorg – 9 regulier werk)")
    _integer_axis(treden.yaxis)
    return fig


DRAW: dict[str, Callable] = {
    "caseload": draw_caseload, "lead-times": draw_lead_times, "wvp-steps": draw_wvp_steps,
    "consults": draw_consults, "costs": draw_costs, "invoices": draw_invoices, "ladder": draw_ladder,
}


def render_chart(key: str, metric: object, period: Period, *,
                 formats: Sequence[str] = ("png", "svg")) -> dict[str, bytes]:
    """The chart of figure `key` as bytes per format (`png`, `svg`); reproducible (no dates in the files)."""
    fig = DRAW[key](metric, period)
    out = {}
    for fmt in formats:
        buffer = io.BytesIO()
        metadata = {"Date": None} if fmt == "svg" else {"Software": None} if fmt == "png" else None
        # SVG text stays text (searchable, selectable, smaller) instead of glyph outlines.
        with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "vangnet"}):
            fig.savefig(buffer, format=fmt, metadata=metadata)
        out[fmt] = buffer.getvalue()
    return out
