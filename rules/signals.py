"""Validation of an incoming signal's fields into a `Signal`, with reasons a person understands.

The reasons name the message (bericht_id) and the field, never the BSN or other personal values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from pydantic import ValidationError

from rules.identifiers import is_valid_bsn, is_valid_gemeentecode
from schemas.signal import SIGNAL_FIELDS, SignaalSoort, Signal

# Fields each kind of signal cannot do without (on top of bericht_id, volgnummer, soort, bsn, gemeentecode).
REQUIRED_BY_SOORT: dict[SignaalSoort, tuple[str, ...]] = {
    SignaalSoort.ZIEKMELDING_VANGNETTER: ("eerste_ziektedag", "wettelijke_grondslag"),
    SignaalSoort.BETERMELDING: ("datum_herstel",),
    SignaalSoort.EINDE_ZW: ("datum_einde_zw", "reden_einde"),
    SignaalSoort.EZWB_UITSLAG: ("ezwb_uitkomst",),
    SignaalSoort.VERHUIZING: ("nieuwe_gemeentecode",),
    SignaalSoort.CORRECTIE: ("verwijst_naar",),
    SignaalSoort.INTREKKING: ("verwijst_naar",),
}
_ALWAYS_REQUIRED = ("bericht_id", "volgnummer", "soort", "bsn", "gemeentecode")


class InvalidSignal(ValueError):
    """The signal can't be accepted; `reasons` lists every problem found, in plain Dutch."""

    def __init__(self, bericht_id: str | None, reasons: list[str]):
        self.bericht_id = bericht_id
        self.reasons = reasons
        label = f"bericht {bericht_id}" if bericht_id else "bericht zonder bericht_id"
        super().__init__(f"{label} afgekeurd: " + "; ".join(reasons))


def check_signal(fields: Mapping[str, object], *, today: date) -> Signal:
    """Turn raw canonical fields into a `Signal`, or raise `InvalidSignal` with every reason found."""
    bericht_id = _text(fields.get("bericht_id"))
    values = {name: _text(fields.get(name)) for name in SIGNAL_FIELDS}
    values = {name: value for name, value in values.items() if value is not None}
    reasons = [f"veld '{name}' ontbreekt" for name in _ALWAYS_REQUIRED if name not in values]
    unknown = sorted(set(fields) - set(SIGNAL_FIELDS))
    if unknown:
        reasons.append("onbekende velden: " + ", ".join(unknown))

    soort = values.get("soort")
    if soort is not None and soort not in SignaalSoort.__members__:
        reasons.append(f"onbekende soort '{soort[:40]}'")
    elif soort is not None:
        reasons += [
            f"veld '{name}' is verplicht bij {soort}"
            for name in REQUIRED_BY_SOORT[SignaalSoort(soort)]
            if name not in values
        ]
    if "bsn" in values and not is_valid_bsn(values["bsn"]):
        reasons.append("BSN voldoet niet aan de elfproef (of is geen 9 cijfers)")
    for name in ("gemeentecode", "nieuwe_gemeentecode"):
        if name in values and not is_valid_gemeentecode(values[name]):
            reasons.append(f"'{name}' is geen geldige CBS-gemeentecode van 4 cijfers")
    if reasons:
        raise InvalidSignal(bericht_id, reasons)

    try:
        signal = Signal.model_validate(values)
    except ValidationError as exc:
        raise InvalidSignal(bericht_id, [_describe(error) for error in exc.errors()]) from None
    reasons = _date_problems(signal, today)
    if reasons:
        raise InvalidSignal(bericht_id, reasons)
    return signal


def _date_problems(signal: Signal, today: date) -> list[str]:
    problems = []
    d = signal.eerste_ziektedag
    if d and d > today:
        problems.append(f"eerste_ziektedag {d} ligt in de toekomst")
    if d and signal.datum_melding and signal.datum_melding < d:
        problems.append(f"datum_melding {signal.datum_melding} ligt voor de eerste_ziektedag {d}")
    if signal.datum_melding and signal.datum_melding > today:
        problems.append(f"datum_melding {signal.datum_melding} ligt in de toekomst")
    return problems


def _describe(error: dict) -> str:
    # pydantic's messages are English and may echo the input; we name only the field and the rule.
    field = ".".join(str(part) for part in error.get("loc", ())) or "bericht"
    kind = error.get("type", "")
    if kind.startswith("date"):
        return f"veld '{field}' is geen geldige datum (verwacht JJJJ-MM-DD)"
    if kind.startswith("int"):
        return f"veld '{field}' is geen geheel getal"
    if kind == "enum":
        return f"veld '{field}' heeft een onbekende waarde"
    return f"veld '{field}' is ongeldig ({kind})"


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
