"""The re-integratieverslag as one self-contained HTML page (print CSS, no scripts, no external files).

Every text is escaped with `html.escape`. Sections: a gaps summary (`id="ontbrekend"`), the parts a..k
(`id="deel-a"` .. `id="deel-k"`), then the sections without a letter. The output depends only on the
`Riv` (its generation date included) and the version/final label.
"""

from __future__ import annotations

from html import escape

from rules.riv import Content, Fact, Items, Riv, RivPart, Table, Text, dutch_date

CSS = """
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; font-size: 10.5pt; line-height: 1.4;
       color: #111; max-width: 48em; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 18pt; margin-bottom: .2em; }
h2 { font-size: 13pt; border-bottom: 1px solid #999; padding-bottom: .1em; margin-top: 1.4em; }
h3 { font-size: 11pt; margin: .8em 0 .2em; }
.meta { color: #444; }
dl { display: grid; grid-template-columns: 16em 1fr; gap: .15em 1em; margin: .4em 0; }
dt { font-weight: bold; } dd { margin: 0; }
table { border-collapse: collapse; width: 100%; margin: .4em 0; }
th, td { border: 1px solid #aaa; padding: .2em .4em; text-align: left; vertical-align: top; }
th { background: #eee; }
caption { text-align: left; font-weight: bold; padding: .2em 0; }
.gap { border-left: 4px solid #b00; padding-left: .8em; }
.gap .status { color: #b00; font-weight: bold; }
.notes { color: #555; font-size: 9.5pt; }
#ontbrekend { background: #fff4f4; border: 1px solid #d99; padding: .4em 1em; }
#ontbrekend.compleet { background: #f3fbf3; border-color: #9c9; }
.text { white-space: pre-wrap; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  section { page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  @page { size: A4; margin: 18mm 16mm; }
}
"""


def version_label(version: int | None, final: bool) -> str:
    """'versie 3 (definitief)' / 'versie 2 (concept)' / 'concept'."""
    state = "definitief" if final else "concept"
    return f"versie {version} ({state})" if version else state


def render_html(riv: Riv, *, version: int | None = None, final: bool = False) -> str:
    """The RIV as an HTML document (UTF-8 text)."""
    e = escape
    head = (f"Zaak {riv.case_ref} · gemeente {riv.gemeentecode} · {version_label(version, final)} · "
            f"opgesteld op {dutch_date(riv.generated_on)} · uiterlijk {dutch_date(riv.riv_due)}")
    out = [
        "<!DOCTYPE html>", '<html lang="nl">', "<head>", '<meta charset="utf-8">',
        f"<title>Re-integratieverslag {e(riv.case_ref)}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
        "<header>", "<h1>Re-integratieverslag</h1>",
        f'<p class="meta">{e(head)}</p>',
        '<p class="meta">Opgesteld door de gemeente voor de WIA-aanvraag van de vangnetter '
        "(Wet WIA art. 25 lid 3; inhoud volgens Regeling art. 8, onderdelen a tot en met k).</p>",
        "</header>",
        *_gaps_summary(riv),
    ]
    for part in riv.parts:
        out.extend(_part(part))
    for section in riv.sections:
        out.append(f'<section id="{e(section.key)}">')
        out.append(f"<h2>{e(section.title)}</h2>")
        out.extend(_content(section.content))
        out.append("</section>")
    out += [f'<footer class="meta"><p>{e(riv.case_ref)} · {e(version_label(version, final))} · '
            f"{dutch_date(riv.generated_on)}</p></footer>", "</body>", "</html>", ""]
    return "\n".join(out)


def _gaps_summary(riv: Riv) -> list[str]:
    if riv.complete:
        return ['<section id="ontbrekend" class="compleet"><h2>Volledigheid</h2>',
                "<p>Alle onderdelen a tot en met k van art. 8 zijn aanwezig.</p></section>"]
    out = ['<section id="ontbrekend">', f"<h2>Ontbrekende onderdelen ({len(riv.gaps)})</h2>", "<ul>"]
    for p in riv.gaps:
        out.append(f'<li><a href="#deel-{p.letter}">{p.letter}. {escape(p.title)}</a> — aan te leveren door: '
                   f"{escape(p.supplied_by or '-')}. {escape(p.hint or '')}</li>")
    out += ["</ul>", "</section>"]
    return out


def _part(part: RivPart) -> list[str]:
    e = escape
    out = [f'<section id="deel-{part.letter}" class="deel {"gap" if part.is_gap else "present"}">',
           f"<h2>{part.letter}. {e(part.title)}</h2>"]
    if part.is_gap:
        out.append(f'<p><span class="status">Ontbreekt.</span> Aan te leveren door: {e(part.supplied_by or "-")}. '
                   f"{e(part.hint or '')}</p>")
    out.extend(_content(part.content))
    if part.notes:
        out.append('<ul class="notes">' + "".join(f"<li>{e(n)}</li>" for n in part.notes) + "</ul>")
    out.append("</section>")
    return out


def _content(content: tuple[Content, ...]) -> list[str]:
    e = escape
    out: list[str] = []
    facts: list[Fact] = []

    def flush() -> None:
        if facts:
            out.append("<dl>" + "".join(f"<dt>{e(f.label)}</dt><dd>{e(f.value)}</dd>" for f in facts) + "</dl>")
            facts.clear()

    for item in content:
        if isinstance(item, Fact):
            facts.append(item)
            continue
        flush()
        if isinstance(item, Text):
            out.append(f"<h3>{e(item.heading)}</h3>" if item.heading != "-" else "")
            out.append(f'<p class="text">{e(item.text)}</p>')
        elif isinstance(item, Items):
            out.append(f"<h3>{e(item.heading)}</h3><ul>" + "".join(f"<li>{e(i)}</li>" for i in item.items) + "</ul>")
        elif isinstance(item, Table):
            head = "".join(f"<th>{e(h)}</th>" for h in item.headers)
            rows = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in item.rows)
            out.append(f"<table><caption>{e(item.caption)}</caption><thead><tr>{head}</tr></thead>"
                       f"<tbody>{rows}</tbody></table>")
    flush()
    return [line for line in out if line]
