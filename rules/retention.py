"""Retention (domain.md §8): when a closed case's personal data must go, as pure functions.

A case is due once it has been closed for longer than the retention term: `retention_years` calendar
years (default two), or `retention_wia_years` (default seven) when a WIA application followed, since
the WIA/WGA assessment can still ask for the gemeente's re-integration file. The longer of the two
applies, so a configuration that sets the WIA term shorter cannot shorten retention.

"A WIA application followed" is read from the case's own records: its WVP step `wia_aanvraag` is
recorded as done, or UWV reported the end of the Ziektewet with reason WIA. (The gemeente learns of
the application from the vangnetter or UWV; both end up in one of these.)

"Longer than N years": a case closed on 10 March 2025 with a two-year term is kept through 10 March
2027 and due from 11 March 2027. Calendar years: 29 February plus a year is 28 February.
"""

from __future__ import annotations

from datetime import date, timedelta


def add_years(d: date, years: int) -> date:
    """`d` moved by whole calendar years; 29 February becomes 28 February in a non-leap year."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February -> a year without one
        return d.replace(year=d.year + years, day=28)


def wia_followed(*, wia_aanvraag_done: bool, zw_ended_for_wia: bool) -> bool:
    """Whether the longer (WIA) term applies."""
    return wia_aanvraag_done or zw_ended_for_wia


def term_years(*, wia: bool, years: int, wia_years: int) -> int:
    """The retention term in years for a case (the longer one when a WIA application followed)."""
    return max(years, wia_years) if wia else years


def due_on(closed_on: date, *, wia: bool, years: int, wia_years: int) -> date:
    """The first day the case may no longer hold personal data."""
    return add_years(closed_on, term_years(wia=wia, years=years, wia_years=wia_years)) + timedelta(days=1)


def is_due(closed_on: date | None, today: date, *, wia: bool, years: int, wia_years: int) -> bool:
    """True when the case is closed and its retention term has passed on `today`."""
    return closed_on is not None and today >= due_on(closed_on, wia=wia, years=years, wia_years=wia_years)


def candidate_before(today: date, years: int) -> date:
    """Every case due on `today` (under any term of at least `years`) closed before this date.

    A cheap filter for the database; `is_due` decides. A calendar year has at least 365 days (the
    29 February clamp loses at most the leap day), so closed_on + `years` years >= closed_on + 365 *
    `years` days, and due means that date lies before `today`.
    """
    return today - timedelta(days=365 * years)
