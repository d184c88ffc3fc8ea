"""vangnet case data → request bodies of the VNG ZGW Zaken API (1.5.x). Pure: no I/O, no clock.

Field names and limits follow the official OpenAPI file (components ``Zaak``, ``Status``, ``Rol``).
What a Zaken API shows to many eyes carries only the case reference: free texts are refused when they
hold a long number (a BSN, say) or a health word, because even "ziek" is health data (domain.md §8).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from stdnum.nl import bsn as elfproef

__all__ = [
    "IDENTIFICATIE_MAX",
    "OMSCHRIJVING_MAX",
    "TOELICHTING_MAX",
    "rol_body",
    "status_body",
    "zaak_body",
    "zaak_identificatie",
    "zaak_omschrijving",
]

IDENTIFICATIE_PREFIX = "VANGNET"
IDENTIFICATIE_MAX = 40
OMSCHRIJVING_MAX = 80
TOELICHTING_MAX = 1000
_ZONE = ZoneInfo("Europe/Amsterdam")

_GEMEENTECODE = re.compile(r"\d{4}")
_CASE_REF = re.compile(r"[A-Z0-9]+(?:-[A-Z0-9]+)*")
_NINE_DIGITS = re.compile(r"\d{9}")
_LONG_NUMBER = re.compile(r"\d{9,}")
# A guard, not a classifier: words that on their own reveal illness or medical matters.
_HEALTH_WORDS = re.compile(
    r"ziek|diagnos|medisch|medic|gezondheid|arbeidsongeschikt|burn-?out|"
    r"betermeld|herstelmeld|bedrijfsarts|letsel|psych",
    re.IGNORECASE,
)


def zaak_identificatie(case_ref: str, gemeentecode: str) -> str:
    """The zaak's ``identificatie`` for a case: ``VANGNET-<gemeentecode>-<case_ref>``, e.g.
    ``VANGNET-0518-VN-000012``. Deterministic, so a retry or restart finds the zaak it made before;
    different cases never share one (the gemeentecode has a fixed width). Only ``A-Z``, ``0-9`` and
    ``-``, at most 40 characters (the ZGW limit); a case ref that would not fit is refused, not cut."""
    if not isinstance(gemeentecode, str) or not _GEMEENTECODE.fullmatch(gemeentecode):
        raise ValueError("gemeentecode must be the 4-digit CBS code, e.g. '0518'")
    ref = case_ref.upper() if isinstance(case_ref, str) else ""
    if not _CASE_REF.fullmatch(ref):
        raise ValueError("case_ref must be letters, digits and single hyphens, e.g. 'VN-000012'")
    identificatie = f"{IDENTIFICATIE_PREFIX}-{gemeentecode}-{ref}"
    if len(identificatie) > IDENTIFICATIE_MAX:
        room = IDENTIFICATIE_MAX - len(IDENTIFICATIE_PREFIX) - 6
        raise ValueError(f"case_ref is too long for a zaak identificatie: at most {room} characters")
    return identificatie


def zaak_omschrijving(case_ref: str) -> str:
    """Neutral zaak description carrying only the case ref (no health words)."""
    return _text(f"Re-integratie vangnetter (Participatiewet), {case_ref}", "omschrijving", OMSCHRIJVING_MAX)


def zaak_body(*, identificatie: str, zaaktype: str, bronorganisatie: str, verantwoordelijke_organisatie: str,
              omschrijving: str, startdatum: date, registratiedatum: date, toelichting: str | None = None,
              vertrouwelijkheidaanduiding: str | None = None) -> dict[str, Any]:
    """Body for ``POST zaken``."""
    if not identificatie or len(identificatie) > IDENTIFICATIE_MAX:
        raise ValueError(f"identificatie must be 1 to {IDENTIFICATIE_MAX} characters")
    body: dict[str, Any] = {
        "identificatie": identificatie,
        "bronorganisatie": _rsin(bronorganisatie, "bronorganisatie"),
        "verantwoordelijkeOrganisatie": _rsin(verantwoordelijke_organisatie, "verantwoordelijkeOrganisatie"),
        "zaaktype": zaaktype,
        "omschrijving": _text(omschrijving, "omschrijving", OMSCHRIJVING_MAX),
        "startdatum": _date(startdatum, "startdatum"),
        "registratiedatum": _date(registratiedatum, "registratiedatum"),
    }
    if toelichting is not None:
        body["toelichting"] = _text(toelichting, "toelichting", TOELICHTING_MAX)
    if vertrouwelijkheidaanduiding is not None:
        body["vertrouwelijkheidaanduiding"] = vertrouwelijkheidaanduiding
    return body


def status_body(*, zaak_url: str, statustype: str, datum_status_gezet: datetime | date,
                toelichting: str | None = None) -> dict[str, Any]:
    """Body for ``POST statussen``. A plain date means midnight in Europe/Amsterdam; a datetime must
    carry its time zone."""
    body: dict[str, Any] = {
        "zaak": zaak_url,
        "statustype": statustype,
        "datumStatusGezet": _datetime(datum_status_gezet),
    }
    if toelichting is not None:
        body["statustoelichting"] = _text(toelichting, "statustoelichting", TOELICHTING_MAX)
    return body


def rol_body(*, zaak_url: str, roltype: str, bsn: str, roltoelichting: str) -> dict[str, Any]:
    """Body for ``POST rollen``: the vangnetter as a natuurlijk persoon, identified by BSN only.

    This is the one place a BSN goes to the Zaken API; keep the result out of logs and errors.
    """
    if not isinstance(bsn, str) or not _NINE_DIGITS.fullmatch(bsn) or not elfproef.is_valid(bsn):
        raise ValueError("bsn must be 9 digits passing the 11-proef")  # never echo the value
    return {
        "zaak": zaak_url,
        "betrokkeneType": "natuurlijk_persoon",
        "roltype": roltype,
        "roltoelichting": _text(roltoelichting, "roltoelichting", TOELICHTING_MAX),
        "betrokkeneIdentificatie": {"inpBsn": bsn},
    }


def _text(value: str, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field} must be a non-empty text")
    if len(value) > limit:
        raise ValueError(f"{field} is {len(value)} characters; the Zaken API allows at most {limit}")
    if _LONG_NUMBER.search(value):
        raise ValueError(f"{field} contains a number of 9 or more digits (a BSN?); use the case reference")
    if _HEALTH_WORDS.search(value):
        raise ValueError(f"{field} contains a word about health or illness; use neutral text and the case reference")
    return value


def _rsin(value: str, field: str) -> str:
    if not isinstance(value, str) or not _NINE_DIGITS.fullmatch(value):
        raise ValueError(f"{field} must be an RSIN of 9 digits")
    return value


def _date(value: date, field: str) -> str:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValueError(f"{field} must be a date (not a datetime)")
    return value.isoformat()


def _datetime(value: datetime | date) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("datumStatusGezet needs a time zone; pass an aware datetime or a date")
        return value.isoformat()
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=_ZONE).isoformat()
    raise ValueError("datumStatusGezet must be a date or datetime")
