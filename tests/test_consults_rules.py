"""Slot choice and the no-show rule (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

import pytest

from rules.booking import DUTCH_TIME, SlotChoice, choose_slot, local_date, rebook_allowed


@dataclass(frozen=True)
class S:
    slot_id: str
    start: datetime


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=DUTCH_TIME)


EARLIEST = at(date(2027, 4, 26), 0)  # Monday before Koningsdag


def test_earliest_slot_on_a_working_day_within_the_deadline():
    slots = [S("c", at(date(2027, 4, 28))), S("koningsdag", at(date(2027, 4, 27))), S("past", at(date(2027, 4, 23))),
             S("zaterdag", at(date(2027, 4, 24))), S("b", at(date(2027, 4, 29)))]
    choice = choose_slot(slots, earliest=EARLIEST, latest_date=date(2027, 4, 30))
    assert choice == SlotChoice(slots[0], True)


def test_no_slot_before_the_deadline_gives_the_first_after_it_marked_late():
    slots = [S("late2", at(date(2027, 5, 10))), S("late1", at(date(2027, 5, 7)))]
    choice = choose_slot(slots, earliest=EARLIEST, latest_date=date(2027, 5, 3))
    assert choice.slot.slot_id == "late1" and choice.on_time is False


def test_deadline_day_itself_is_on_time_in_dutch_time():
    # 23:30 UTC on 2 May is 01:30 on 3 May in Amsterdam: a Monday, and after a deadline of 2 May
    slot = S("x", datetime(2027, 5, 2, 23, 30, tzinfo=timezone.utc))
    assert local_date(slot.start) == date(2027, 5, 3)
    assert choose_slot([slot], earliest=EARLIEST, latest_date=date(2027, 5, 3)).on_time
    assert not choose_slot([slot], earliest=EARLIEST, latest_date=date(2027, 5, 2)).on_time


def test_onverwijld_takes_the_first_possible_slot_and_skip_works():
    slots = [S("a", at(date(2027, 6, 1))), S("b", at(date(2027, 6, 2)))]
    assert choose_slot(slots, earliest=EARLIEST, latest_date=None) == SlotChoice(slots[0], True)
    assert choose_slot(slots, earliest=EARLIEST, latest_date=None, skip={"a"}).slot.slot_id == "b"
    assert choose_slot(slots, earliest=EARLIEST, latest_date=None, skip={"a", "b"}) is None
    assert choose_slot([], earliest=EARLIEST, latest_date=None) is None


def test_earliest_is_a_moment_not_a_day():
    slots = [S("morning", at(date(2027, 4, 26), 8)), S("noon", at(date(2027, 4, 26), 12))]
    assert choose_slot(slots, earliest=at(date(2027, 4, 26), 10), latest_date=None).slot.slot_id == "noon"


def test_naive_slot_times_are_refused():
    with pytest.raises(ValueError, match="naive"):
        choose_slot([S("n", datetime(2027, 5, 3, 9))], earliest=EARLIEST, latest_date=None)


@pytest.mark.parametrize("no_shows,maximum,allowed", [(1, 2, True), (2, 2, False), (3, 2, False), (1, 1, False)])
def test_rebook_allowed(no_shows, maximum, allowed):
    assert rebook_allowed(no_shows, maximum) is allowed
