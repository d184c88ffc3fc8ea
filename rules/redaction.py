"""Remove personal identifiers from free text before it is logged (domain.md §8).

`redact` replaces, in this order:

- e-mail addresses (`local@domain.tld`, the domain needs a dot) -> `<email>`;
- IBANs that pass the mod-97 check: 2 letters, 2 check digits and 11-30 letters/digits, written solid
  or in groups of 4 separated by single spaces, any letter case -> `<iban>`;
- BSNs that pass the 11-proef -> `<bsn>`, written as 9 solid digits (`123456782`) or grouped 4-2-3 or
  3-3-3 with one kind of separator: dot, hyphen or single space (`1234.56.782`, `123 456 782`).
  The digits must not touch other digits: a 9-digit run inside a longer number is not a BSN.

Numbers shaped like a BSN that fail the 11-proef (volgnummers, amounts) stay. A number that passes it
by chance is redacted too: for logs, losing a harmless number beats leaking a BSN.
Names and health data have no shape to find; keep them out of log messages in the first place.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rules.identifiers import is_valid_bsn

BSN_TOKEN = "<bsn>"
IBAN_TOKEN = "<iban>"
EMAIL_TOKEN = "<email>"

# The look-behinds anchor each match at the start of a run, so a long run that is no match costs one
# attempt, not one per character (no quadratic backtracking on 100 KB log lines).
# Addresses glued together (`a@b.nl+c@d.nl`) form one match: the second one's start is not at a run start.
_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]++@[\w-]++(?:\.[\w-]++)++(?:[\w.%+-]*+@[\w-]++(?:\.[\w-]++)++)*+")
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}[0-9]{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,4})?(?![A-Za-z0-9])"
)
_BSN = re.compile(r"(?<![0-9])(?:[0-9]{9}|[0-9]{4}([. -])[0-9]{2}\1[0-9]{3}|[0-9]{3}([. -])[0-9]{3}\2[0-9]{3})(?![0-9])")
_IBAN_LENGTHS = range(15, 35)
_NO_SEPARATORS = str.maketrans("", "", ". -")
_IBAN_LETTERS = {ord(c): str(10 + i) for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}  # A=10 ... Z=35


def redact(text: str) -> str:
    """`text` with e-mail addresses, valid IBANs and valid BSNs replaced by `<email>`, `<iban>`, `<bsn>`."""
    if "@" in text:
        text = _EMAIL.sub(EMAIL_TOKEN, text)
    if not any(d in text for d in "0123456789"):
        return text
    text = _replace_checked(_IBAN, text, _valid_iban_end, IBAN_TOKEN)
    redacted = _replace_checked(_BSN, text, _valid_bsn_end, BSN_TOKEN)
    if redacted is not text:  # an IBAN ending in a letter, glued to a BSN, shows its end only now
        redacted = _replace_checked(_IBAN, redacted, _valid_iban_end, IBAN_TOKEN)
    return redacted


def _replace_checked(
    pattern: re.Pattern[str], text: str, valid_end: Callable[[str], int | None], token: str
) -> str:
    """Replace the candidates of `pattern` for which `valid_end` finds a valid prefix.

    `valid_end(candidate)` returns the length of the part to replace, or None. A rejected candidate
    may hide a real one starting inside it (`AB12 NL91 ABNA ...`): search again one character on.
    """
    out: list[str] = []
    done = 0
    match = pattern.search(text)
    while match:
        end = valid_end(match.group())
        if end is None:
            match = pattern.search(text, match.start() + 1)
            continue
        out += [text[done:match.start()], token]
        done = match.start() + end
        match = pattern.search(text, done)
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


def _valid_bsn_end(candidate: str) -> int | None:
    return len(candidate) if is_valid_bsn(candidate.translate(_NO_SEPARATORS)) else None


def _valid_iban_end(candidate: str) -> int | None:
    # The regex is greedy: "BE68 5390 0754 7034 voor" swallows the next word. Try shorter ends at spaces.
    compact = candidate.replace(" ", "").upper()
    ends = [len(candidate)] + [i for i in range(len(candidate) - 1, 0, -1) if candidate[i] == " "]
    for end in ends:
        length = end - candidate.count(" ", 0, end)
        if length in _IBAN_LENGTHS and _mod97_ok(compact[:length]):
            return end
    return None


def is_valid_iban(value: str) -> bool:
    """True when `value` (spaces allowed, any case) is an IBAN-shaped string with a correct mod-97 check."""
    compact = value.replace(" ", "").upper()
    return (len(compact) in _IBAN_LENGTHS and compact.isascii() and compact.isalnum()
            and compact[:2].isalpha() and compact[2:4].isdigit() and _mod97_ok(compact))


def _mod97_ok(compact: str) -> bool:
    return int((compact[4:] + compact[:4]).translate(_IBAN_LETTERS)) % 97 == 1
