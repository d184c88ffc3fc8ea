"""The gemeente's own LKS registration as a file (CSV or JSON) → LKS periods, checked row by row.

Formats (the same five fields either way; an optional `type_code` is kept, other columns ignored):
- CSV with header `bsn,begin,einde,loonwaarde_pct,gemeentecode`, `;` or `,` between fields (taken
  from the header line), dates `YYYY-MM-DD`, empty einde = still running, empty percentage = unknown;
  a decimal comma (`45,5`) and a trailing `%` are accepted in the percentage.
- JSON: a list of objects with those keys, or a scenario object `{"lks": [ ... ]}`.

Row numbers are what a person finds the row by: in a CSV the spreadsheet row (the header is row 1,
the first data row is row 2); in JSON the position in the list, starting at 1. Reasons name the row
and the field, never a value that could be a BSN. A file that can't be read at all raises
`LksFileError`; a bad row is reported and skipped.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from rules.identifiers import is_valid_bsn, is_valid_gemeentecode
from schemas.lks import LksBron, LksPeriode

KOLOMMEN = ("bsn", "begin", "einde", "loonwaarde_pct", "gemeentecode")
OPTIONELE_KOLOMMEN = ("type_code",)
MAX_FILE_BYTES = 20 * 1024 * 1024
_DATUM = re.compile(r"\d{4}-\d{2}-\d{2}")
_CENT = Decimal("0.01")


class LksFileError(ValueError):
    """The file as a whole can't be read (format, encoding, header); the message says what to fix."""


@dataclass(frozen=True)
class LksRegel:
    """One good row: the person's BSN (kept out of repr) and the period."""

    rij: int
    periode: LksPeriode
    bsn: str = field(repr=False)


@dataclass
class LksBestand:
    """A parsed file: good rows and rejected rows (row number, reason)."""

    formaat: str
    regels: list[LksRegel] = field(default_factory=list)
    afgekeurd: list[tuple[int, str]] = field(default_factory=list)

    @property
    def gelezen(self) -> int:
        """Data rows read (blank CSV lines not counted)."""
        return len(self.regels) + len(self.afgekeurd)


def parse_lks_file(data: bytes, *, filename: str) -> LksBestand:
    """Read a registration file; the format follows the file name (.csv/.json), else its content."""
    if len(data) > MAX_FILE_BYTES:
        raise LksFileError(f"het bestand is groter dan {MAX_FILE_BYTES} bytes; splits het op")
    text = _decode(data)
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    is_json = suffix == "json" or (suffix != "csv" and text.lstrip()[:1] in ("[", "{"))
    rows = _json_rows(text) if is_json else _csv_rows(text)
    bestand = LksBestand(formaat="json" if is_json else "csv")
    eerder: dict[tuple[str, str, date], int] = {}
    for rij, velden in rows:
        uitkomst = velden if isinstance(velden, str) else _regel(rij, velden)
        if isinstance(uitkomst, str):
            bestand.afgekeurd.append((rij, uitkomst))
            continue
        sleutel = (uitkomst.bsn, uitkomst.periode.gemeentecode, uitkomst.periode.begin)
        if sleutel in eerder:
            reden = f"dezelfde LKS-periode (persoon, gemeente, begin) staat al in rij {eerder[sleutel]}"
            bestand.afgekeurd.append((rij, reden))
            continue
        eerder[sleutel] = rij
        bestand.regels.append(uitkomst)
    return bestand


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # A Dutch Excel export is often Windows-1252; the fields we read are plain ASCII either way.
        return data.decode("cp1252", errors="replace")


def _csv_rows(text: str) -> list[tuple[int, dict[str, str | None] | str]]:
    lines = text.splitlines()
    kop_regel = next((line for line in lines if line.strip()), "")
    if not kop_regel:
        raise LksFileError("het bestand is leeg; verwacht een kopregel " + ",".join(KOLOMMEN))
    scheiding = ";" if kop_regel.count(";") > kop_regel.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=scheiding)
    rows: list[tuple[int, dict[str, str | None] | str]] = []
    kop: list[str] | None = None
    try:
        records = list(reader)
    except csv.Error as exc:  # a stray NUL byte or carriage return: a binary file, not a CSV export
        raise LksFileError(f"het bestand is geen leesbare CSV (rij {reader.line_num}: {exc})") from None
    for rij, record in enumerate(records, start=1):
        if not any(cell.strip() for cell in record):
            continue
        if kop is None:
            kop = [cell.strip().lower() for cell in record]
            _check_kop(kop)
            continue
        if len(record) != len(kop):
            rows.append((rij, f"de rij heeft {len(record)} velden, de kopregel {len(kop)}"))
            continue
        rows.append((rij, {name: (cell.strip() or None) for name, cell in zip(kop, record)}))
    return rows


def _check_kop(kop: list[str]) -> None:
    dubbel = sorted({name for name in kop if name and kop.count(name) > 1})
    if dubbel:
        raise LksFileError("kolommen staan dubbel in de kopregel: " + ", ".join(dubbel))
    missend = [name for name in KOLOMMEN if name not in kop]
    if missend:
        raise LksFileError(
            "kolommen ontbreken in de kopregel: " + ", ".join(missend) + "; verwacht: " + ",".join(KOLOMMEN)
        )


def _json_rows(text: str) -> list[tuple[int, dict[str, str | None] | str]]:
    try:
        doc = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise LksFileError(f"geen geldige JSON (regel {exc.lineno}, kolom {exc.colno})") from None
    except RecursionError:
        raise LksFileError("geen bruikbare JSON: te diep genest; verwacht een lijst van LKS-perioden") from None
    if isinstance(doc, dict):
        if not isinstance(doc.get("lks"), list):
            raise LksFileError("het JSON-object heeft geen lijst 'lks'; verwacht een lijst of {\"lks\": [...]}")
        doc = doc["lks"]
    if not isinstance(doc, list):
        raise LksFileError("verwacht een JSON-lijst van LKS-perioden of {\"lks\": [...]}")
    rows: list[tuple[int, dict[str, str | None] | str]] = []
    for rij, item in enumerate(doc, start=1):
        if not isinstance(item, dict):
            rows.append((rij, "het item is geen object met de velden " + ", ".join(KOLOMMEN)))
            continue
        fout = [name for name in KOLOMMEN + OPTIONELE_KOLOMMEN if name in item and _json_text(item[name]) is False]
        if fout:
            rows.append((rij, "; ".join(f"{name} heeft geen geldige waarde" for name in fout)))
            continue
        velden = {name: _json_text(item.get(name)) for name in KOLOMMEN + OPTIONELE_KOLOMMEN}
        rows.append((rij, velden))  # type: ignore[arg-type]  # no False left after the check above
    return rows


def _json_text(value: Any) -> str | None | bool:
    """A JSON scalar as text (None for null or ""); False for a value that can't be a field."""
    if value is None:
        return None
    if isinstance(value, bool) or isinstance(value, (list, dict)):
        return False
    text = str(value).strip()
    return text or None


def _regel(rij: int, velden: dict[str, str | None]) -> LksRegel | str:
    """The row as an LksRegel, or the reason(s) it is rejected."""
    problemen: list[str] = []
    bsn = velden.get("bsn")
    if bsn is None:
        problemen.append("bsn ontbreekt")
    elif not is_valid_bsn(bsn):
        problemen.append("BSN voldoet niet aan de elfproef (of is geen 9 cijfers)")
    begin = _datum(velden, "begin", problemen, verplicht=True)
    einde = _datum(velden, "einde", problemen, verplicht=False)
    pct = _percentage(velden.get("loonwaarde_pct"), problemen)
    gemeentecode = velden.get("gemeentecode")
    if gemeentecode is None:
        problemen.append("gemeentecode ontbreekt")
    elif not is_valid_gemeentecode(gemeentecode):
        problemen.append("gemeentecode is geen CBS-gemeentecode van 4 cijfers")
    type_code = velden.get("type_code")
    if type_code is not None and len(type_code) > 16:
        problemen.append("type_code is langer dan 16 tekens")
    if begin and einde and einde < begin:
        problemen.append(f"einde {einde} ligt voor begin {begin}")
    if problemen:
        return "; ".join(problemen)
    try:
        periode = LksPeriode(begin=begin, einde=einde, loonwaarde_pct=pct, gemeentecode=gemeentecode,
                             bron=LksBron.REGISTRATIE, type_code=type_code)
    except ValidationError as exc:  # the checks above should catch everything; name only the fields
        return "ongeldige velden: " + ", ".join(sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]}))
    return LksRegel(rij=rij, periode=periode, bsn=bsn)


def _datum(velden: dict[str, str | None], naam: str, problemen: list[str], *, verplicht: bool) -> date | None:
    text = velden.get(naam)
    if text is None:
        if verplicht:
            problemen.append(f"{naam} ontbreekt")
        return None
    try:
        if not _DATUM.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        problemen.append(f"{naam} is geen geldige datum (verwacht JJJJ-MM-DD)")
        return None


def _percentage(text: str | None, problemen: list[str]) -> Decimal | None:
    if text is None:
        return None
    text = text.removesuffix("%").strip()
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        pct = Decimal(text)
    except InvalidOperation:
        pct = None
    if pct is None or not pct.is_finite():
        problemen.append("loonwaarde_pct is geen getal")
        return None
    if not Decimal(0) <= pct <= Decimal(100):
        problemen.append("loonwaarde_pct moet tussen 0 en 100 liggen")
        return None
    if pct != pct.quantize(_CENT):
        problemen.append("loonwaarde_pct heeft meer dan 2 decimalen")
        return None
    return pct.quantize(_CENT)
