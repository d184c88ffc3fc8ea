"""Dutch working days (pure): Monday to Friday, minus the public holidays of `holidays.NL`.

The calendar is the `holidays` package's NL calendar, not our own list. In the installed version that
means: Nieuwjaarsdag, Goede Vrijdag, Eerste en Tweede Paasdag, Koningsdag (27 April, 26 April when the
27th is a Sunday), Hemelvaartsdag, Eerste en Tweede Pinksterdag, Eerste en Tweede Kerstdag, and
Bevrijdingsdag (5 May) only in lustrum years (2025, 2030, ...), as most collective agreements do.
Note that this is not the list of the Algemene termijnenwet (which has 5 May every year and no Goede
Vrijdag); the legal WVP deadlines are calendar dates (rules.wvp) and do not use this module. It is for
working with providers: when an arbodienst works, and "N working days" of lead time.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.NL(years=year))


def holiday_name(d: date) -> str | None:
    """The holiday's name (English, as `holidays` gives it) when `d` is a Dutch public holiday, else None."""
    return holidays.NL(years=d.year).get(d)


def is_workday(d: date) -> bool:
    """True for Monday to Friday that is not a Dutch public holiday."""
    return d.weekday() < 5 and d not in _holidays(d.year)


def next_workday(d: date) -> date:
    """`d` itself when it is a working day, else the first working day after it."""
    while not is_workday(d):
        d += timedelta(days=1)
    return d


def add_workdays(d: date, n: int) -> date:
    """The date `n` working days after `d` (before it when n < 0); `d` itself is not counted.

    add_workdays(friday, 1) is the next Monday (when that is no holiday); add_workdays(d, 0) is `d`.
    """
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    while remaining:
        d += timedelta(days=step)
        if is_workday(d):
            remaining -= 1
    return d


def workdays_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end`; negative when `end` lies before `start`.

    The inverse of add_workdays for n >= 0: workdays_between(d, add_workdays(d, n)) == n.
    """
    if end < start:
        return -workdays_between(end, start)
    count, d = 0, start
    while d < end:
        d += timedelta(days=1)
        count += is_workday(d)
    return count
