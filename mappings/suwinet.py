"""Suwinet SuwiML XML <-> typed results (pure, no I/O): dates, percentages, FWI, LKS periods, WV info.

SuwiML dates (``Datum``) are ``YYYYMMDD`` strings with zeros for unknown parts. What vangnet does
with them (see :class:`SuwiDate`):

=================================  ===========================================================
``YYYYMMDD`` (a real day)          that day, exact
``YYYYMM00``                       month known: a partial date (``precision == "maand"``)
``YYYY0000``, ``YYYY00DD``         only the year known (a day without a month means nothing)
``YYYYMMDD`` not in the calendar   (e.g. ``20270231``) the day is treated as unknown: month
``00000000``, ``0000MMDD``         unknown: ``None`` (without a year a date can't be placed)
=================================  ===========================================================

A partial date becomes a ``date`` by the conservative choice for its use, and the result says so
(``dates_approximate=True``), so a person can check it:

- a **begin** (``DatBRv``, ``DatBUitkeringsverhouding``, ``DatEersteAoDag``) → the earliest possible
  day: periods get wider, and deadlines counted from the first sick day come earlier, not later;
- an **end that happened** (``DatERv``, ``DatEUitkeringsverhouding``) → the latest possible day: a
  period is never cut short, so LKS overlap is not missed and a case is not closed early;
- a **maximum end** (``DatEMaximaleUitkeringsduur``) → the earliest possible day (plan for it);
- unknown: an end or maximum → ``None`` (open); an unknown LKS begin → ``date.min`` (open start).

The code lists that give codes a meaning (which ``CdTypeRvGsd`` is loonkostensubsidie, which
``CdSzWet`` is the Ziektewet) are BKWI tables outside the schemas: callers pass them in, and the
defaults below are ASSUMPTIONS to be confirmed against BKWI's SuwiML code tables.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from lxml import etree

from schemas.suwinet import FWI_NAMESPACE

__all__ = [
    "DEFAULT_LKS_TYPE_CODES",
    "DEFAULT_PERCENTAGE_DECIMALS",
    "DEFAULT_ZW_WET_CODES",
    "FwiMelding",
    "LksPeriode",
    "SuwiDate",
    "SuwiMappingError",
    "SuwiReply",
    "Uitkeringsverhouding",
    "WvInfo",
    "check_bsn",
    "clean_text",
    "format_percentage",
    "format_suwi_date",
    "fwi_tag",
    "lks_perioden",
    "parse_percentage",
    "parse_suwi_date",
    "read_fout",
    "read_reply",
    "request_parameters",
    "wv_info",
]

DEFAULT_LKS_TYPE_CODES: frozenset[str] = frozenset({"LK"})
"""ASSUMPTION, not from BKWI: the ``CdTypeRvGsd`` value(s) meaning loonkostensubsidie. Configure the real code."""
DEFAULT_ZW_WET_CODES: frozenset[str] = frozenset({"ZW"})
"""ASSUMPTION (likely, unconfirmed): the ``CdSzWet`` value(s) meaning Ziektewet."""
DEFAULT_PERCENTAGE_DECIMALS = 2
"""ASSUMPTION: ``Percentage`` has 2 implied decimals (``05500`` = 55.00 %); the XSD does not say."""


class SuwiMappingError(ValueError):
    """An answer outside the SuwiML contract. Messages name elements, never their content."""


def fwi_tag(local: str) -> str:
    """Clark notation for an element in the FWI namespace (``FWI``, ``Fout``, ``NietsGevonden``)."""
    return f"{{{FWI_NAMESPACE}}}{local}"


# -- BSN and request ---------------------------------------------------------------------------------
def check_bsn(bsn: object) -> str:
    """Return ``bsn`` when it is 9 digits passing the 11-proef; ``ValueError`` (without the value) otherwise."""
    if not isinstance(bsn, str) or not re.fullmatch(r"[0-9]{9}", bsn):
        raise ValueError("a BSN must be a string of exactly 9 digits")
    total = sum(int(d) * w for d, w in zip(bsn, (9, 8, 7, 6, 5, 4, 3, 2, -1)))
    if total == 0 or total % 11:
        raise ValueError("the BSN fails the 11-proef (domain.md §8)")
    return bsn


def request_parameters(bsn: str) -> dict[str, str]:
    """The body of either request (``GSDReintegratieInfo`` / ``UWVPersoonsWvInfo``): the BSN only."""
    return {"Burgerservicenr": check_bsn(bsn)}


# -- dates and percentages ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SuwiDate:
    """A SuwiML date with possibly unknown month and/or day (the year is always known)."""

    year: int
    month: int | None = None
    day: int | None = None

    @property
    def precision(self) -> str:
        """``"dag"`` (exact), ``"maand"`` (day unknown) or ``"jaar"`` (month and day unknown)."""
        return "dag" if self.day else "maand" if self.month else "jaar"

    @property
    def exact(self) -> bool:
        return self.day is not None

    def earliest(self) -> date:
        """The first day it can be."""
        return date(self.year, self.month or 1, self.day or 1)

    def latest(self) -> date:
        """The last day it can be."""
        month = self.month or 12
        return date(self.year, month, self.day or calendar.monthrange(self.year, month)[1])


_DATUM = re.compile(r"[0-9]{8}")


def parse_suwi_date(text: str | None, *, element: str = "Datum") -> SuwiDate | None:
    """``YYYYMMDD`` (zeros for unknown parts) → :class:`SuwiDate`, or None when absent/unknown (see module doc)."""
    if text is None:
        return None
    text = text.strip()
    if not _DATUM.fullmatch(text) or int(text[4:6]) > 12 or int(text[6:8]) > 31:
        raise SuwiMappingError(f"{element} is not a SuwiML date (YYYYMMDD, zeros for unknown parts)")
    year, month, day = int(text[:4]), int(text[4:6]), int(text[6:8])
    if year == 0:
        return None
    if month == 0:
        return SuwiDate(year)
    if day == 0 or day > calendar.monthrange(year, month)[1]:
        return SuwiDate(year, month)
    return SuwiDate(year, month, day)


def format_suwi_date(value: date | SuwiDate | None) -> str:
    """A ``date`` or :class:`SuwiDate` as ``YYYYMMDD`` (zeros for unknown parts; None → ``00000000``)."""
    if value is None:
        return "00000000"
    if isinstance(value, date):
        return f"{value.year:04d}{value.month:02d}{value.day:02d}"  # not strftime: it drops leading zeros of years
    return f"{value.year:04d}{value.month or 0:02d}{value.day or 0:02d}"


def parse_percentage(perc: etree._Element | None, *, decimals: int = DEFAULT_PERCENTAGE_DECIMALS) -> Decimal | None:
    """A ``StandaardPerc`` (``CdPositiefNegatief``?, ``Percentage``?) → Decimal, None when there is no Percentage."""
    if perc is None:
        return None
    text = (perc.findtext("Percentage") or "").strip()
    if not text:
        return None
    if not re.fullmatch(r"[0-9]{5}", text):
        raise SuwiMappingError("Percentage is not 5 digits")
    value = Decimal(int(text)).scaleb(-decimals)
    return -value if (perc.findtext("CdPositiefNegatief") or "").strip() == "-" else value


def format_percentage(value: Decimal | int | str, *, decimals: int = DEFAULT_PERCENTAGE_DECIMALS) -> str:
    """A non-negative percentage as the 5-digit SuwiML ``Percentage`` (55 → ``05500`` with 2 decimals)."""
    scaled = Decimal(str(value)).scaleb(decimals)
    if scaled != scaled.to_integral_value() or not 0 <= scaled < 100_000:
        raise ValueError(f"percentage does not fit 5 digits with {decimals} decimals")
    return f"{int(scaled):05d}"


# -- FWI -----------------------------------------------------------------------------------------------
_NUMBER = re.compile(r"\d(?:[ .-]?\d){7,}")  # 8+ digits, maybe grouped: a BSN or other personal number


def clean_text(text: str | None, *, limit: int = 200) -> str:
    """Whitespace collapsed, digit runs that could be a BSN replaced by ``<nummer>``, length capped."""
    return _NUMBER.sub("<nummer>", " ".join((text or "").split()))[:limit]


@dataclass(frozen=True)
class FwiMelding:
    """One FWI entry: ``soort`` is ``Fout``, ``Waarschuwing`` or ``Informatie``. Texts are cleaned (no BSN)."""

    soort: str
    code: str
    omschrijving: str
    bron: str | None = None


def _melding(el: etree._Element, soort: str) -> FwiMelding:
    return FwiMelding(soort=soort, code=clean_text(el.findtext("Code"), limit=40),
                      omschrijving=clean_text(el.findtext("Tekst")),
                      bron=clean_text(el.findtext("Bron/DN")) or None)


def read_fout(el: etree._Element) -> FwiMelding:
    """An ``fwi:Fout`` (the SOAP fault detail of ``AanvraagNietOk``) → :class:`FwiMelding`; Detail is dropped."""
    return _melding(el, "Fout")


@dataclass(frozen=True)
class SuwiReply:
    """Which branch of the response choice arrived. ``client_suwi`` is set only for data."""

    client_suwi: etree._Element | None
    niets_gevonden: bool
    meldingen: tuple[FwiMelding, ...] = ()

    @property
    def fouten(self) -> tuple[FwiMelding, ...]:
        return tuple(m for m in self.meldingen if m.soort == "Fout")

    @property
    def is_fwi(self) -> bool:
        """An FWI block without data: an error answer."""
        return self.client_suwi is None and not self.niets_gevonden


def read_reply(payload: etree._Element, *, response_tag: str, bsn: str | None = None) -> SuwiReply:
    """Classify a ``...Response`` element: data (+ FWI), FWI only, or NietsGevonden.

    With ``bsn``, data about another person is refused (a misrouted answer must not be used).
    """
    if payload.tag != response_tag:
        raise SuwiMappingError(f"expected {etree.QName(response_tag).localname}, got {etree.QName(payload).localname}")
    client = payload.find("ClientSuwi")
    fwi = payload.find(fwi_tag("FWI"))
    meldingen = tuple(_melding(el, etree.QName(el).localname) for el in fwi.iterchildren(
        "Fout", "Waarschuwing", "Informatie")) if fwi is not None else ()
    if client is not None:
        if bsn is not None and (client.findtext("Burgerservicenr") or "").strip() != bsn:
            raise SuwiMappingError("ClientSuwi/Burgerservicenr is not the BSN asked for: the answer is about "
                                   "someone else and was not used")
        return SuwiReply(client, False, meldingen)
    if payload.find(fwi_tag("NietsGevonden")) is not None:
        return SuwiReply(None, True, meldingen)
    if fwi is not None:
        return SuwiReply(None, False, meldingen)
    raise SuwiMappingError("the answer has none of ClientSuwi, FWI or NietsGevonden")


# -- typed results -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class LksPeriode:
    """One ``ReIntegratievoorziening``. ``einde`` None = open; ``is_lks`` from the configured type codes."""

    begin: date
    einde: date | None
    type_code: str
    """``CdTypeRvGsd`` as received; empty when absent."""
    loonwaarde_pct: Decimal | None
    is_lks: bool
    gemeentecode: str | None = None
    """``AtlRelatie/Bron/CdPartijSuwi``: the registering party; for a gemeente assumed to be its CBS code."""
    dates_approximate: bool = False
    """True when begin or einde was partial or unknown and widened (see the module doc)."""


@dataclass(frozen=True)
class Uitkeringsverhouding:
    """One benefit relation; ``wet_code`` is ``SzWet/CdSzWet``, ``is_zw`` from the configured ZW codes."""

    begin: date | None
    einde: date | None
    reden_einde: str | None
    max_duur_einde: date | None
    wet_code: str
    is_zw: bool
    dates_approximate: bool = False


@dataclass(frozen=True)
class WvInfo:
    """``UWVPersoonsWvInfo`` data. ``eerste_ao_dag`` is the most recent known ``DatEersteAoDag``."""

    eerste_ao_dag: date | None
    uitkeringsverhoudingen: list[Uitkeringsverhouding] = field(default_factory=list)
    dates_approximate: bool = False
    """True when the chosen eerste_ao_dag was partial (earliest possible day taken)."""

    @property
    def zw_uitkeringen(self) -> list[Uitkeringsverhouding]:
        """The Ziektewet relations (by the configured codes)."""
        return [u for u in self.uitkeringsverhoudingen if u.is_zw]


def _date(el: etree._Element, name: str) -> tuple[SuwiDate | None, bool]:
    """(parsed date, approximate) for child ``name``; approximate when present but not exact."""
    text = el.findtext(name)
    parsed = parse_suwi_date(text, element=name)
    return parsed, text is not None and (parsed is None or not parsed.exact)


def lks_perioden(client_suwi: etree._Element, *, lks_type_codes: Iterable[str] = DEFAULT_LKS_TYPE_CODES,
                 percentage_decimals: int = DEFAULT_PERCENTAGE_DECIMALS) -> list[LksPeriode]:
    """Every ``AtlRelatie/ReIntegratievoorziening`` of a GSDReintegratieInfo ``ClientSuwi``, in document order."""
    codes = frozenset(lks_type_codes)
    result = []
    for relatie in client_suwi.iterfind("AtlRelatie"):
        partij = (relatie.findtext("Bron/CdPartijSuwi") or "").strip() or None
        for rv in relatie.iterfind("ReIntegratievoorziening"):
            if rv.find("DatBRv") is None:
                raise SuwiMappingError("a ReIntegratievoorziening has no DatBRv")
            begin, begin_approx = _date(rv, "DatBRv")
            einde, einde_approx = _date(rv, "DatERv")
            type_code = (rv.findtext("CdTypeRvGsd") or "").strip()
            result.append(LksPeriode(
                begin=begin.earliest() if begin else date.min,
                einde=einde.latest() if einde else None,
                type_code=type_code,
                loonwaarde_pct=parse_percentage(rv.find("Loonkostensubsidie/PercLoonwaardeTovWml"),
                                                decimals=percentage_decimals),
                is_lks=type_code in codes,
                gemeentecode=partij,
                dates_approximate=begin_approx or einde_approx,
            ))
    return result


def wv_info(client_suwi: etree._Element, *, zw_wet_codes: Iterable[str] = DEFAULT_ZW_WET_CODES) -> WvInfo:
    """A UWVPersoonsWvInfo ``ClientSuwi`` → :class:`WvInfo` (other children, e.g. WerkloosheidClient, ignored)."""
    codes = frozenset(zw_wet_codes)
    ao_days = [_date(ag, "DatEersteAoDag") for ag in client_suwi.iterfind("ArbeidsgeschiktheidClient")]
    known = [(d.earliest(), approx) for d, approx in ao_days if d is not None]
    eerste, eerste_approx = max(known, key=lambda pair: pair[0]) if known else (None, any(a for _, a in ao_days))
    relations = []
    for uv in client_suwi.iterfind("Uitkeringsverhouding"):
        wet = (uv.findtext("SzWet/CdSzWet") or "").strip()
        if not wet:
            raise SuwiMappingError("an Uitkeringsverhouding has no SzWet/CdSzWet")
        begin, begin_approx = _date(uv, "DatBUitkeringsverhouding")
        einde, einde_approx = _date(uv, "DatEUitkeringsverhouding")
        maximum, max_approx = _date(uv, "DatEMaximaleUitkeringsduur")
        reden = clean_text(uv.findtext("OmsRedenEindeUitkeringsverh"), limit=100) or None
        relations.append(Uitkeringsverhouding(
            begin=begin.earliest() if begin else None,
            einde=einde.latest() if einde else None,
            reden_einde=reden,
            max_duur_einde=maximum.earliest() if maximum else None,
            wet_code=wet,
            is_zw=wet in codes,
            dates_approximate=begin_approx or einde_approx or max_approx,
        ))
    return WvInfo(eerste_ao_dag=eerste, uitkeringsverhoudingen=relations, dates_approximate=eerste_approx)
