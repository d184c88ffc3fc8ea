"""The management report as one HTML page, and its figures' numbers as markdown (Prefect artifacts).

The page needs nothing from outside its folder (no CDN, no fonts, works offline): inline CSS, the
charts as `figures/<key>.png` (an SVG next to each), one `<figure id="fig-<key>">` per chart with a
caption and a table of the same numbers. A tiny inline script marks on `<body>` how many images
loaded (`data-figures-loaded`) and the page height, for the headless-browser test. Only counts,
days and amounts: no case references, no personal data. Every text is escaped. No I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from html import escape
from typing import Any

from documents.charts import DPI, SIZE, TITLES
from rules.report_metrics import Period

CSS = """
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; font-size: 10pt; color: #1a1a1a;
       margin: 0 auto; padding: 1em 1.5em; max-width: 1400px; background: #fff; }
h1 { font-size: 18pt; margin: 0 0 .2em; }
.meta { color: #455a64; margin: 0 0 1em; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 1.2em; }
figure { margin: 0; border: 1px solid #cfd8dc; border-radius: 4px; padding: .6em; break-inside: avoid; }
figure img { width: 100%; height: auto; display: block; }
figcaption { font-size: 9pt; color: #37474f; margin: .4em 0; }
figcaption strong { color: #1a1a1a; }
table { border-collapse: collapse; font-size: 8.5pt; width: 100%; }
th, td { border: 1px solid #cfd8dc; padding: .1em .4em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #eceff1; }
footer { color: #607d8b; font-size: 8.5pt; margin-top: 1.5em; }
@media print { main { display: block; } figure { margin-bottom: 1em; page-break-inside: avoid; } }
"""

SCRIPT = """
window.addEventListener("load", function () {
  var loaded = Array.prototype.filter.call(document.images, function (img) {
    return img.complete && img.naturalWidth > 0;
  });
  document.body.dataset.figuresLoaded = String(loaded.length);
  document.body.dataset.pageHeight = String(document.documentElement.scrollHeight);
});
"""


def format_value(value: Any) -> str:
    """A table cell as people read it in Dutch: € 1.234,50 for money, 12,5 for a decimal, – for nothing."""
    if value is None:
        return "–"
    if isinstance(value, Decimal):
        sign = "-" if value < 0 else ""
        return f"{sign}€\u00a0" + f"{abs(value):,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


def markdown_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows (column -> value) as a markdown table; a line saying there is nothing when empty."""
    if not rows:
        return "_geen gegevens in deze periode_"
    columns = list(rows[0])

    def cells(values) -> str:
        return "| " + " | ".join(str(v).replace("|", "\\|") or " " for v in values) + " |"

    lines = [cells(columns), "|" + "|".join("---" for _ in columns) + "|"]
    lines += [cells(format_value(row.get(c)) for c in columns) for row in rows]
    return "\n".join(lines)


def caption(key: str, period: Period) -> str:
    """What a figure shows and how it was counted (the choices of `rules.report_metrics`)."""
    window = f"{period.trailing(12)[0].name} t/m {period.name}"
    return {
        "caseload": f"Zaken die op de laatste dag van de maand openstonden, met de zaken die in die maand zijn "
                    f"geopend en gesloten; {window}.",
        "lead-times": f"Dagen van de eerste ziektedag tot het signaal van UWV binnenkwam en tot het besluit tot "
                      f"overname, voor zaken ontvangen {window}. Na week 6 is de probleemanalyse onverwijld.",
        "wvp-steps": f"Stappen van de gemeente met een termijn in {period.name}, beoordeeld op de laatste dag van "
                     "de maand. 'Onverwijld': de termijn was bij binnenkomst van de zaak al verstreken.",
        "consults": f"Consulten met de bedrijfsarts in {period.name} (datum van de afspraak; zonder afspraak de "
                    "laatste wijziging). 'Overig': nog te boeken, geboekt of ter controle.",
        "costs": f"Opdrachten die in {period.name} liepen: hun budget (vast bedrag, of uren × tarief) tegen de "
                 "goedgekeurde facturen erop tot en met de maand (creditnota's tellen negatief).",
        "invoices": f"Facturen ontvangen in {period.name} naar hun huidige oordeel, met het gefactureerde bedrag "
                    "excl. btw.",
        "ladder": f"Zaken die in {period.name} liepen en een trede hebben: de trede op de dag vóór de maand tegen "
                  "die op de laatste dag, en hoeveel zaken op elke trede staan.",
    }[key]


def _table(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return "<p>geen gegevens in deze periode</p>"
    columns = list(rows[0])
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(format_value(row.get(c)))}</td>" for c in columns) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def report_html(period: Period, gemeente: str | None, figures: Mapping[str, Any], *, generated_on: date,
                images: Mapping[str, str], vectors: Mapping[str, str] | None = None) -> str:
    """The page. `figures` figure key -> metric (with `table()`), `images` key -> relative PNG path,
    `vectors` key -> relative SVG path (linked from the caption)."""
    width, height = int(SIZE[0] * DPI), int(SIZE[1] * DPI)
    where = f" · gemeente {escape(gemeente)}" if gemeente else ""
    parts = []
    for key, metric in figures.items():
        svg = f' <a href="{escape(vectors[key])}">(SVG)</a>' if vectors and key in vectors else ""
        parts.append(
            f'<figure id="fig-{escape(key)}"><img src="{escape(images[key])}" alt="{escape(TITLES[key])}" '
            f'width="{width}" height="{height}"><figcaption><strong>{escape(TITLES[key])}.</strong> '
            f"{escape(caption(key, period))}{svg}</figcaption>{_table(metric.table())}</figure>")
    title = f"Managementrapportage vangnetters — {period.name}"
    return (
        f'<!DOCTYPE html>\n<html lang="nl"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
        f"<style>{CSS}</style></head>\n<body><header><h1>{escape(title)}</h1>"
        f'<p class="meta">Periode {period.first.isoformat()} t/m {period.last.isoformat()}{where} · '
        f"gemaakt op {generated_on.isoformat()}</p></header>\n<main>\n" + "\n".join(parts) +
        "\n</main><footer>Alleen aantallen, dagen en bedragen: geen namen, BSN's of zaaknummers. "
        "Bron: vangnet.</footer>\n<script>" + SCRIPT + "</script></body></html>\n")
