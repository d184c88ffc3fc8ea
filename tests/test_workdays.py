"""Dutch working days from the `holidays` NL calendar, checked against known 2027 dates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.workdays import add_workdays, holiday_name, is_workday, next_workday, workdays_between


@pytest.mark.parametrize("day", [
    date(2027, 1, 1),    # Nieuwjaarsdag (Friday)
    date(2027, 3, 26),   # Goede Vrijdag: a day off in holidays.NL
    date(2027, 3, 29),   # Tweede Paasdag
    date(2027, 4, 27),   # Koningsdag (Tuesday)
    date(2027, 5, 6),    # Hemelvaartsdag
    date(2027, 5, 17),   # Tweede Pinksterdag
])
def test_holidays_2027_are_no_workdays(day):
    assert day.weekday() < 5 and not is_workday(day) and holiday_name(day)


def test_ordinary_days_and_weekends():
    assert is_workday(date(2027, 4, 26)) and is_workday(date(2027, 4, 28))
    assert not is_workday(date(2027, 5, 8)) and not is_workday(date(2027, 5, 9))  # Saturday, Sunday
    assert is_workday(date(2027, 12, 24)) and holiday_name(date(2027, 12, 24)) is None


def test_bevrijdingsdag_only_in_lustrum_years():
    assert is_workday(date(2027, 5, 5))       # Wednesday, no day off in 2027
    assert not is_workday(date(2025, 5, 5))   # Monday, lustrum year
    assert holiday_name(date(2030, 5, 5)) is not None  # a Sunday in 2030; not moved to Monday
    assert is_workday(date(2030, 5, 6))


def test_koningsdag_moves_to_saturday_when_the_27th_is_a_sunday():
    assert holiday_name(date(2025, 4, 26)) is not None and holiday_name(date(2025, 4, 27)) is None


def test_add_workdays_skips_weekends_and_holidays():
    assert add_workdays(date(2027, 4, 26), 1) == date(2027, 4, 28)      # over Koningsdag
    assert add_workdays(date(2027, 5, 5), 1) == date(2027, 5, 7)        # over Hemelvaart
    assert add_workdays(date(2027, 5, 14), 1) == date(2027, 5, 18)      # weekend + 2e Pinksterdag
    assert add_workdays(date(2027, 3, 25), 1) == date(2027, 3, 30)      # Goede Vrijdag, Pasen
    assert add_workdays(date(2027, 4, 23), 5) == date(2027, 5, 3)       # Fri + 5 over Koningsdag
    assert add_workdays(date(2027, 5, 18), -1) == date(2027, 5, 14)
    assert add_workdays(date(2027, 5, 8), 0) == date(2027, 5, 8)
    assert add_workdays(date(2027, 12, 23), 2) == date(2027, 12, 27)    # Christmas 2027 is a weekend
    assert add_workdays(date(2026, 12, 24), 1) == date(2026, 12, 28)    # 25 and 26 Dec 2026: Fri, Sat


def test_next_workday():
    assert next_workday(date(2027, 5, 15)) == date(2027, 5, 18)
    assert next_workday(date(2027, 5, 18)) == date(2027, 5, 18)


def test_workdays_between():
    assert workdays_between(date(2027, 4, 26), date(2027, 4, 30)) == 3  # 28, 29, 30
    assert workdays_between(date(2027, 5, 3), date(2027, 5, 10)) == 4   # 4, 5, 7, 10 (6 Hemelvaart)
    assert workdays_between(date(2027, 5, 10), date(2027, 5, 3)) == -4
    assert workdays_between(date(2027, 5, 3), date(2027, 5, 3)) == 0


@given(st.dates(min_value=date(2024, 1, 1), max_value=date(2032, 12, 31)), st.integers(0, 40))
def test_add_and_between_are_inverse(d, n):
    end = add_workdays(d, n)
    assert workdays_between(d, end) == n
    assert n == 0 or is_workday(end)
    assert end - d >= timedelta(days=n)
