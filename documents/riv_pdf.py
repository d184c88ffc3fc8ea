"""The re-integratieverslag as PDF (fpdf2, pure Python), from the same `Riv` structure as the HTML.

Font: DejaVu Sans when its TTF files are on the machine (under /usr/share/fonts), so every character
prints; otherwise the PDF core font Helvetica, which knows only latin-1: other characters are replaced
(dashes and quotes by their ASCII look-alikes, accented letters by the letter, anything else by '?').
The output depends only on the `Riv` (its generation date is also the PDF's creation date) and the
version label: no clock is read.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, time, timezone
from functools import lru_cache
from pathlib import Path
from typing import Literal

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from documents.riv_html import version_label
from rules.riv import Content, Fact, Items, Riv, RivPart, Table, Text, dutch_date

FONT_DIRS = (Path("/usr/share/fonts"),)
LINE = 5.0
_ASCII = str.maketrans({"‘": "'", "’": "'", "‚": ",", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-",
                        "−": "-", "…": "...", "•": "-", "€": "EUR", "\u00a0": " ", "\u2009": " ", "\u202f": " "})


@lru_cache(maxsize=1)
def unicode_font() -> tuple[Path, Path] | None:
    """DejaVu Sans regular and bold, when installed; None otherwise."""
    for base in FONT_DIRS:
        if not base.is_dir():
            continue
        regular = sorted(base.rglob("DejaVuSans.ttf"))
        bold = sorted(base.rglob("DejaVuSans-Bold.ttf"))
        if regular and bold:
            return regular[0], bold[0]
    return None


def latin1(text: str) -> str:
    """`text` in characters the core fonts can print."""
    text = text.translate(_ASCII)
    out = []
    for ch in text:
        try:
            ch.encode("latin-1")
            out.append(ch)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
            out.append(base if base and base.isprintable() else "?")
    return "".join(out)


class _Pdf(FPDF):
    def __init__(self, footer_text: str, clean) -> None:
        super().__init__(format="A4")
        self._footer_text, self._clean = footer_text, clean

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.font_family, "", 8)
        self.cell(0, 5, self._clean(f"{self._footer_text} - pagina {self.page_no()}/{{nb}}"), align="C")


def render_pdf(riv: Riv, *, version: int | None = None, final: bool = False,
               font: Literal["auto", "core"] = "auto", compress: bool = True) -> bytes:
    """The RIV as PDF bytes. `font="core"` forces Helvetica (latin-1); `compress=False` leaves the page
    streams readable (tests)."""
    fonts = unicode_font() if font == "auto" else None
    clean = (lambda s: s) if fonts else latin1
    label = version_label(version, final)
    pdf = _Pdf(f"Re-integratieverslag {riv.case_ref} - {label}", clean)
    pdf.set_compression(compress)
    pdf.set_creation_date(datetime.combine(riv.generated_on, time(12), timezone.utc))
    pdf.set_title(clean(f"Re-integratieverslag {riv.case_ref}"))
    pdf.set_creator("vangnet")
    pdf.set_producer("vangnet (fpdf2)")
    pdf.set_lang("nl-NL")
    if fonts:
        pdf.add_font("DejaVu", "", str(fonts[0]))
        pdf.add_font("DejaVu", "B", str(fonts[1]))
        family = "DejaVu"
    else:
        family = "Helvetica"
    pdf.set_auto_page_break(True, margin=18)
    pdf.set_margins(18, 16, 18)
    pdf.add_page()
    w = _Writer(pdf, family, clean)
    w.title("Re-integratieverslag")
    w.plain(f"Zaak {riv.case_ref} - gemeente {riv.gemeentecode} - {label} - opgesteld op "
            f"{dutch_date(riv.generated_on)} - uiterlijk {dutch_date(riv.riv_due)}", size=9)
    w.plain("Opgesteld door de gemeente voor de WIA-aanvraag van de vangnetter (Wet WIA art. 25 lid 3; inhoud "
            "volgens Regeling art. 8, onderdelen a tot en met k).", size=9)
    w.gaps(riv)
    for part in riv.parts:
        w.part(part)
    for section in riv.sections:
        w.heading(section.title)
        w.content(section.content)
    return bytes(pdf.output())


class _Writer:
    def __init__(self, pdf: _Pdf, family: str, clean) -> None:
        self.pdf, self.family, self.clean = pdf, family, clean

    def _font(self, bold: bool = False, size: float = 10) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)

    def _lines(self, text: str, *, bold: bool = False, size: float = 10, indent: float = 0) -> None:
        self._font(bold, size)
        self.pdf.set_x(self.pdf.l_margin + indent)
        self.pdf.multi_cell(0, LINE * size / 10, self.clean(text), align="L", new_x=XPos.LMARGIN,
                            new_y=YPos.NEXT)

    def title(self, text: str) -> None:
        self._lines(text, bold=True, size=18)
        self.pdf.ln(1)

    def plain(self, text: str, size: float = 10) -> None:
        self._lines(text, size=size)

    def heading(self, text: str) -> None:
        pdf = self.pdf
        if pdf.get_y() > pdf.h - 45:  # keep a heading with the start of its section
            pdf.add_page()
        pdf.ln(3)
        self._font(True, 12)
        pdf.start_section(self.clean(text))
        self._lines(text, bold=True, size=12)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(1.5)

    def gaps(self, riv: Riv) -> None:
        if riv.complete:
            self.heading("Volledigheid")
            self.plain("Alle onderdelen a tot en met k van art. 8 zijn aanwezig.")
            return
        self.heading(f"Ontbrekende onderdelen ({len(riv.gaps)})")
        for p in riv.gaps:
            self._lines(f"{p.letter}. {p.title}", bold=True)
            self._lines(f"Aan te leveren door: {p.supplied_by or '-'}. {p.hint or ''}", size=9, indent=5)

    def part(self, part: RivPart) -> None:
        self.heading(f"{part.letter}. {part.title}")
        if part.is_gap:
            self.pdf.set_text_color(170, 0, 0)
            self._lines("Ontbreekt.", bold=True)
            self.pdf.set_text_color(0, 0, 0)
            self._lines(f"Aan te leveren door: {part.supplied_by or '-'}. {part.hint or ''}", size=9)
        self.content(part.content)
        if part.notes:
            self.pdf.set_text_color(90, 90, 90)
            for note in part.notes:
                self._lines(f"- {note}", size=8.5)
            self.pdf.set_text_color(0, 0, 0)

    def content(self, content: tuple[Content, ...]) -> None:
        facts: list[Fact] = []
        for item in content:
            if isinstance(item, Fact):
                facts.append(item)
                continue
            self._facts(facts)
            facts = []
            if isinstance(item, Text):
                if item.heading != "-":
                    self._lines(item.heading, bold=True)
                self._lines(item.text)
                self.pdf.ln(1)
            elif isinstance(item, Items):
                self._lines(item.heading, bold=True)
                for entry in item.items:
                    self._lines(f"- {entry}", indent=3)
                self.pdf.ln(1)
            elif isinstance(item, Table):
                self._table(item)
        self._facts(facts)

    def _facts(self, facts: list[Fact]) -> None:
        if not facts:
            return
        self._font(size=10)
        with self.pdf.table(col_widths=(35, 65), borders_layout="NONE", first_row_as_headings=False,
                            text_align="LEFT", line_height=LINE, padding=0.6) as table:
            for f in facts:
                row = table.row()
                row.cell(self.clean(f.label), style=FontFace(emphasis="BOLD"))
                row.cell(self.clean(f.value))
        self.pdf.ln(1)

    def _table(self, item: Table) -> None:
        self._lines(item.caption, bold=True, size=10)
        self._font(size=9)
        if not item.rows:
            self._lines("(geen)", size=9)
            return
        with self.pdf.table(text_align="LEFT", line_height=LINE * 0.9, padding=0.8,
                            headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235))) as table:
            head = table.row()
            for h in item.headers:
                head.cell(self.clean(h))
            for cells in item.rows:
                row = table.row()
                for c in cells:
                    row.cell(self.clean(c))
        self.pdf.ln(1.5)
