"""Checks on Dutch identifiers that schemas can't express (domain.md §8)."""

from __future__ import annotations

import re

_BSN_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)
_NINE_DIGITS = re.compile(r"\d{9}")
_GEMEENTECODE = re.compile(r"\d{4}")


def is_valid_bsn(value: str) -> bool:
    """True when `value` is 9 digits passing the 11-proef (weighted sum divisible by 11, not 0)."""
    if not isinstance(value, str) or not _NINE_DIGITS.fullmatch(value):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value, _BSN_WEIGHTS))
    return total != 0 and total % 11 == 0


def bsn_check_digit(prefix: int) -> int | None:
    """The last digit that makes the 8 digits of `prefix` a valid BSN; None when no digit does."""
    digits = f"{prefix:08d}"
    total = sum(int(digit) * weight for digit, weight in zip(digits, _BSN_WEIGHTS))
    last = total % 11
    return last if last < 10 and total - last != 0 else None


def synthetic_bsn(n: int) -> str:
    """The n-th (roughly) 9-digit number passing the 11-proef: deterministic test, simulator and benchmark
    data, never looked up anywhere."""
    prefix = 10_000_000 + n * 7
    while (check := bsn_check_digit(prefix)) is None:
        prefix += 1
    return f"{prefix:08d}{check}"


def is_valid_gemeentecode(value: str) -> bool:
    """True for a 4-digit CBS gemeentecode other than 0000."""
    return isinstance(value, str) and bool(_GEMEENTECODE.fullmatch(value)) and value != "0000"
