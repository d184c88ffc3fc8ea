"""Choosing a bedrijfsarts slot and when to book again (pure).

A slot counts on the Dutch calendar date of its start (Europe/Amsterdam), so a consult at 08:30 local
time is on that day even though it is the day before in some other zone.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from rules.workdays import is_workday

DUTCH_TIME = ZoneInfo("Europe/Amsterdam")


class SlotLike(Protocol):
    """What the choice needs of a slot (connectors.arbodienst.Slot has it)."""

    slot_id: str
    start: datetime


@dataclass(frozen=True)
class SlotChoice:
    """The chosen slot; `on_time` is False when it lies after the deadline (no slot met it)."""

    slot: SlotLike
    on_time: bool


def local_date(moment: datetime) -> date:
    """The Dutch calendar date of a timezone-aware moment."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: slot times must be timezone-aware")
    return moment.astimezone(DUTCH_TIME).date()


def choose_slot(
    slots: Iterable[SlotLike], *, earliest: datetime, latest_date: date | None, skip: Collection[str] = ()
) -> SlotChoice | None:
    """The earliest slot on a working day, starting at or after `earliest`, not in `skip`.

    With a deadline (`latest_date`) the slot must be on or before it; when none is, the earliest slot
    after it is returned with on_time=False (a late consult beats none). Without a deadline (an
    onverwijld probleemanalyse: as soon as possible) the first possible slot is on time.
    None when there is no usable slot at all.
    """
    usable = sorted(
        (s for s in slots if s.slot_id not in skip and is_workday(local_date(s.start)) and s.start >= earliest),
        key=lambda s: (s.start, s.slot_id),
    )
    if not usable:
        return None
    first = usable[0]
    if latest_date is None:
        return SlotChoice(first, True)
    return SlotChoice(first, local_date(first.start) <= latest_date)


def rebook_allowed(no_shows: int, max_no_shows: int) -> bool:
    """After `no_shows` no-shows (the one just seen included), may we book again?

    With max_no_shows=2: after the first no-show we book again, after the second a person takes over.
    """
    return no_shows < max_no_shows
