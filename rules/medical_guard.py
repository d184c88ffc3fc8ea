"""The medical-data guard (pure): what of a bedrijfsarts' advice the gemeente may store (domain.md §8).

A gemeente may hold functional limitations and capacities, the expected duration, the degree of
incapacity and advised adjustments, never a diagnosis or its cause. The guard is a whitelist: a field
survives only when its name is known AND its value has the expected shape; everything else is dropped.
The result names what was dropped, never the dropped content.

Names in `dropped` come from a fixed vocabulary, because a field name sent to us is itself text from
outside and may carry health data (a key like "hernia_l5"): the known medical fields by their name
(`diagnose`, ...), every other unknown field as `onbekend_veld`, a wrong value as its field name, a
nested drop as `functionele_mogelijkheden.onbekende_rubriek` or `beperkingen[2]`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

GUARD_VERSION = "mg-1"

MEDICAL_FIELDS = frozenset({"diagnose", "oorzaak", "behandeling", "medicatie", "toelichting_arts"})
"""Fields the arbodienst may send that are medical: never stored, named when dropped."""

UNKNOWN_FIELD = "onbekend_veld"
UNKNOWN_RUBRIC = "functionele_mogelijkheden.onbekende_rubriek"

TYPE_PROFIEL = frozenset({"FML", "IZP"})
"""Functionele MogelijkhedenLijst or Inzetbaarheidsprofiel."""

RUBRIEKEN = frozenset({
    # The six rubrieken of the FML (also used for an IZP).
    "persoonlijk_functioneren",
    "sociaal_functioneren",
    "aanpassing_fysieke_omgeving",
    "dynamische_handelingen",
    "statische_houdingen",
    "werktijden",
})
MOGELIJKHEDEN = frozenset({"normaal", "beperkt", "sterk beperkt", "geen mogelijkheden"})

MAX_TEXT = 200
"""Longest list item kept: longer free text may hide medical detail."""
MAX_ITEMS = 50
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")

ALLOWED_FIELDS = frozenset({
    "booking_id", "consult_ref", "case_ref", "datum_consult", "type_profiel", "functionele_mogelijkheden",
    "beperkingen", "verwachte_duur", "arbeidsongeschiktheid_pct", "advies_aanpassingen",
})


@dataclass(frozen=True)
class GuardResult:
    """What may be stored (`kept`, JSON-ready), what was dropped (names only) and the guard's version."""

    kept: dict[str, Any]
    dropped: tuple[str, ...]
    version: str = GUARD_VERSION


def guard_advice(doc: Mapping[str, Any]) -> GuardResult:
    """Keep only the allowed fields of an advice document, each checked for shape; drop the rest."""
    if not isinstance(doc, Mapping):
        return GuardResult({}, (UNKNOWN_FIELD,))
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in doc.items():
        if key in MEDICAL_FIELDS:
            dropped.append(key)
        elif not isinstance(key, str) or key not in ALLOWED_FIELDS:
            dropped.append(UNKNOWN_FIELD)
        else:
            ok, clean = _CHECKS[key](key, value, dropped)
            if ok:
                kept[key] = clean
            else:
                dropped.append(key)
    return GuardResult(kept, tuple(dropped))


def _ref(_key: str, value: Any, _dropped: list[str]) -> tuple[bool, Any]:
    return (True, value) if isinstance(value, str) and _REF.match(value) else (False, None)


def _datum(_key: str, value: Any, _dropped: list[str]) -> tuple[bool, Any]:
    if not isinstance(value, str) or len(value) != 10:
        return False, None
    try:
        return True, date.fromisoformat(value).isoformat()
    except ValueError:
        return False, None


def _type_profiel(_key: str, value: Any, _dropped: list[str]) -> tuple[bool, Any]:
    return (True, value) if isinstance(value, str) and value in TYPE_PROFIEL else (False, None)


def _rubrieken(key: str, value: Any, dropped: list[str]) -> tuple[bool, Any]:
    if not isinstance(value, Mapping):
        return False, None
    clean: dict[str, str] = {}
    for rubriek, mogelijkheid in value.items():
        if not isinstance(rubriek, str) or rubriek not in RUBRIEKEN:
            dropped.append(UNKNOWN_RUBRIC)
        elif isinstance(mogelijkheid, str) and mogelijkheid in MOGELIJKHEDEN:
            clean[rubriek] = mogelijkheid
        else:
            dropped.append(f"{key}.{rubriek}")
    return True, clean


def _short_texts(key: str, value: Any, dropped: list[str]) -> tuple[bool, Any]:
    if not isinstance(value, (list, tuple)):
        return False, None
    clean: list[str] = []
    for i, item in enumerate(value):
        text = item.strip() if isinstance(item, str) else None
        if text and len(text) <= MAX_TEXT and len(clean) < MAX_ITEMS and text.isprintable():
            clean.append(text)
        else:
            dropped.append(f"{key}[{i}]")
    return True, clean


def _short_text(_key: str, value: Any, _dropped: list[str]) -> tuple[bool, Any]:
    if isinstance(value, str) and value.strip() and len(value.strip()) <= MAX_TEXT and value.isprintable():
        return True, value.strip()
    return False, None


def _pct(_key: str, value: Any, _dropped: list[str]) -> tuple[bool, Any]:
    # Out of range is dropped, not clamped: clamping would store a degree the arts never gave.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False, None
    if isinstance(value, float) and not math.isfinite(value):
        return False, None
    if not 0 <= value <= 100:
        return False, None
    return True, int(value) if float(value).is_integer() else round(float(value), 1)


_CHECKS = {
    "booking_id": _ref,
    "consult_ref": _ref,
    "case_ref": _ref,
    "datum_consult": _datum,
    "type_profiel": _type_profiel,
    "functionele_mogelijkheden": _rubrieken,
    "beperkingen": _short_texts,
    "verwachte_duur": _short_text,
    "arbeidsongeschiktheid_pct": _pct,
    "advies_aanpassingen": _short_texts,
}
assert set(_CHECKS) == ALLOWED_FIELDS
