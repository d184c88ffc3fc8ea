"""Arbodienst booking API JSON (``schemas/arbodienst/openapi.yaml``) ↔ typed data. Pure: no I/O, no clock.

Answers become :class:`Slot` and :class:`Booking`; requests are built by :func:`booking_request_body`
and :func:`reschedule_body`. The case is referred to by its case ref (``VN-000012``), never a BSN; a
BSN travels only inside :class:`Person` in the booking body. Errors name fields, never values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from stdnum.nl import bsn as elfproef

__all__ = [
    "DOELEN",
    "Booking",
    "BookingStatus",
    "MappingError",
    "Person",
    "Slot",
    "booking_from_json",
    "booking_request_body",
    "check_idempotency_key",
    "reschedule_body",
    "slot_from_json",
    "slots_from_json",
]

DOELEN = ("probleemanalyse", "herbeoordeling")
"""Allowed ``doel`` values of a booking."""

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_CASE_REF = re.compile(r"[A-Z]{1,10}-[0-9]{1,8}")
_KEY = re.compile(r"[\x21-\x7E]{1,255}")


class MappingError(ValueError):
    """JSON from the arbodienst that does not fit the contract; the message names the field, not its value."""


class BookingStatus(StrEnum):
    """Status of a booking at the arbodienst."""

    GEBOEKT = "GEBOEKT"
    """Booked; the consult is still to come."""
    GEHOUDEN = "GEHOUDEN"
    """The consult took place; the advice follows."""
    NO_SHOW = "NO_SHOW"
    """The person did not come."""
    GEANNULEERD = "GEANNULEERD"
    """Cancelled by us."""
    GEANNULEERD_DOOR_ARBODIENST = "GEANNULEERD_DOOR_ARBODIENST"
    """Cancelled by the arbodienst (e.g. the bedrijfsarts is unavailable): book again."""


@dataclass(frozen=True)
class Slot:
    """A free consult slot."""

    slot_id: str
    start: datetime
    """Timezone-aware start of the consult."""
    regio: str


@dataclass(frozen=True)
class Booking:
    """A booking as the arbodienst knows it."""

    booking_id: str
    consult_ref: str
    slot_id: str
    start: datetime
    status: BookingStatus


@dataclass(frozen=True)
class Person:
    """The vangnetter's identity for the booking body. ``repr`` and ``str`` never show the BSN."""

    bsn: str = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.bsn, str) or not re.fullmatch(r"\d{9}", self.bsn) or not elfproef.is_valid(self.bsn):
            raise ValueError("Person.bsn must be a BSN: 9 digits passing the 11-proef")

    def __repr__(self) -> str:
        return "Person(bsn=<hidden>)"

    __str__ = __repr__


# -- requests ---------------------------------------------------------------------------------------
def _id(value: Any, name: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise ValueError(f"{name} must be 1-128 letters, digits, '.', '_', ':' or '-' (starting with a letter "
                         "or digit)")
    return value


def check_idempotency_key(key: Any) -> str:
    """``key`` when it is a usable ``Idempotency-Key`` (1-255 printable ASCII characters, no spaces)."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError("idempotency_key must be 1-255 printable ASCII characters without spaces")
    return key


def booking_request_body(*, consult_ref: str, case_ref: str, doel: str, slot_id: str, uiterste_datum: date,
                         person: Person | None = None) -> dict[str, Any]:
    """Body of ``POST /bookings``. ``case_ref`` is the case reference (``VN-000012``), never a BSN."""
    if not isinstance(case_ref, str) or not _CASE_REF.fullmatch(case_ref):
        raise ValueError("case_ref must be a case reference like 'VN-000012' (never a BSN)")
    if doel not in DOELEN:
        raise ValueError(f"doel must be one of {', '.join(DOELEN)}")
    if not isinstance(uiterste_datum, date) or isinstance(uiterste_datum, datetime):
        raise ValueError("uiterste_datum must be a date")
    if person is not None and not isinstance(person, Person):
        raise ValueError("person must be a Person")
    body: dict[str, Any] = {
        "consult_ref": _id(consult_ref, "consult_ref"),
        "case_ref": case_ref,
        "doel": doel,
        "slot_id": _id(slot_id, "slot_id"),
        "uiterste_datum": uiterste_datum.isoformat(),
    }
    if person is not None:
        body["persoon"] = {"bsn": person.bsn}
    return body


def reschedule_body(slot_id: str) -> dict[str, Any]:
    """Body of ``POST /bookings/{booking_id}/reschedule``."""
    return {"slot_id": _id(slot_id, "slot_id")}


# -- answers ----------------------------------------------------------------------------------------
def _field(data: Any, name: str, what: str) -> Any:
    if not isinstance(data, dict):
        raise MappingError(f"{what} is not a JSON object")
    if name not in data:
        raise MappingError(f"{what} lacks '{name}'")
    return data[name]


def _text(data: Any, name: str, what: str) -> str:
    value = _field(data, name, what)
    if not isinstance(value, str) or not value:
        raise MappingError(f"{what} field '{name}' is not a non-empty string")
    return value


def _ident(data: Any, name: str, what: str) -> str:
    value = _text(data, name, what)
    if not _ID.fullmatch(value):  # it goes into our requests and URLs again: the contract's Id only
        raise MappingError(f"{what} field '{name}' is not an id (letters, digits, '.', '_', ':', '-')")
    return value


def _instant(data: Any, name: str, what: str) -> datetime:
    value = _text(data, name, what)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise MappingError(f"{what} field '{name}' is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise MappingError(f"{what} field '{name}' has no UTC offset")
    return parsed


def slot_from_json(data: Any) -> Slot:
    """One ``Slot`` object of the contract."""
    return Slot(slot_id=_ident(data, "slot_id", "slot"), start=_instant(data, "start", "slot"),
                regio=_text(data, "regio", "slot"))


def slots_from_json(payload: Any) -> list[Slot]:
    """The answer of ``GET /slots`` (``{"slots": [...]}``), ordered by start."""
    items = _field(payload, "slots", "slot list")
    if not isinstance(items, list):
        raise MappingError("slot list field 'slots' is not a list")
    return sorted((slot_from_json(item) for item in items), key=lambda s: (s.start, s.slot_id))


def booking_from_json(data: Any) -> Booking:
    """A ``Booking`` object of the contract."""
    raw_status = _text(data, "status", "booking")
    try:
        status = BookingStatus(raw_status)
    except ValueError:
        raise MappingError("booking field 'status' has a value outside the contract") from None
    return Booking(booking_id=_ident(data, "booking_id", "booking"), consult_ref=_ident(data, "consult_ref", "booking"),
                   slot_id=_ident(data, "slot_id", "booking"), start=_instant(data, "start", "booking"),
                   status=status)
