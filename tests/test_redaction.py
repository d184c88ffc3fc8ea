"""`redact` (rules/redaction.py) and the logging filter built on it (flows/logs.py)."""

from __future__ import annotations

import io
import logging
import string
import time

import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from flows.logs import QUIET_LOGGERS, RedactingFilter, install_redaction
from rules.identifiers import is_valid_bsn
from rules.redaction import is_valid_iban, redact

BSN = "999990019"
IBAN = "NL91ABNA0417164300"
EMAIL = "j.de-vries+test@gemeente.example.nl"

pytestmark = pytest.mark.redaction


def test_test_values_are_valid():
    assert is_valid_bsn(BSN) and is_valid_iban(IBAN)
    assert not is_valid_bsn("123456789") and not is_valid_iban("NL91ABNA0417164301")


@pytest.mark.parametrize("text, expected", [
    (f"BSN {BSN} ok", "BSN <bsn> ok"),
    ("BSN 1234.56.782, 123 456 782 and 123-456-782", "BSN <bsn>, <bsn> and <bsn>"),
    (f"bsn={BSN};x{BSN}y", "bsn=<bsn>;x<bsn>y"),
    ("volgnummer 123456789 stays", "volgnummer 123456789 stays"),  # fails the 11-proef
    (f"part of a longer number: 1{BSN} {BSN}0 12.{BSN}", f"part of a longer number: 1{BSN} {BSN}0 12.<bsn>"),
    ("mixed separators 1234.56-782 stay", "mixed separators 1234.56-782 stay"),
    (f"IBAN {IBAN}.", "IBAN <iban>."),
    ("nl91 abna 0417 1643 00 and GB82 WEST 1234 5698 7654 32", "<iban> and <iban>"),
    ("BE68 5390 0754 7034 voor de huur", "<iban> voor de huur"),  # the next word is no part of it
    ("AB12 NL91ABNA0417164300", "AB12 <iban>"),  # a false start does not hide the real one
    ("NL91ABNA0417164301 wrong check digits", "NL91ABNA0417164301 wrong check digits"),
    (f"mail {EMAIL}.", "mail <email>."),
    (f"Jan <{EMAIL}>", "Jan <<email>>"),
    ("a@b.nl+c@d.nl and user@localhost", "<email> and user@localhost"),
    (f"{BSN}@example.nl", "<email>"),
    (f"{BSN}{IBAN}", "<bsn><iban>"),
    ("no identifiers: 12 items, 3.5%, code 0518", "no identifiers: 12 items, 3.5%, code 0518"),
])
def test_redact(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "1" * 100_000,
    "a" * 100_000 + "@",
    "a." * 50_000 + "@",
    "x@" + "b." * 50_000,
    "123456789 " * 10_000,
    "111 222 333 " * 9_000,
    "AB12 CDEF " * 10_000,
    f"case 42 for {BSN} at {EMAIL} paid to {IBAN}; " * 1_500,
])
def test_redact_is_fast_on_long_lines(text):
    start = time.perf_counter()
    redact(text)
    assert time.perf_counter() - start < 2.0  # quadratic backtracking would take minutes


# --- properties --------------------------------------------------------------------------------------

_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2)


@st.composite
def valid_bsns(draw) -> str:
    head = draw(st.lists(st.integers(0, 9), min_size=8, max_size=8))
    last = sum(d * w for d, w in zip(head, _WEIGHTS)) % 11  # the 11-proef: sum - last ≡ 0 (mod 11)
    bsn = "".join(map(str, head)) + str(last)
    if last == 10 or not is_valid_bsn(bsn):
        reject()
    return bsn


@st.composite
def valid_ibans(draw) -> str:
    country = draw(st.text(string.ascii_uppercase, min_size=2, max_size=2))
    bban = draw(st.text(string.ascii_uppercase + string.digits, min_size=11, max_size=30))
    check = 98 - int((bban + country + "00").translate({ord(c): str(ord(c) - 55) for c in string.ascii_uppercase})) % 97
    iban = f"{country}{check:02d}{bban}"
    if draw(st.booleans()):
        iban = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    return iban


emails = st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,15}@[a-z0-9-]{1,10}\.(nl|com|example\.org)", fullmatch=True)
# Text rich in the characters that matter, so the properties meet near-misses, not only noise.
tricky_text = st.text(st.sampled_from("0123456789 .-_+@<>abzNLBE\n"), max_size=80) | st.text(max_size=80)
boundary = st.sampled_from([" ", ", ", ": ", "=", "\n", "(", "x", "BSN "])


@given(before=tricky_text, left=boundary, bsn=valid_bsns(), right=boundary, after=tricky_text,
       form=st.sampled_from(["{}", "{}{}{}{}.{}{}.{}{}{}", "{}{}{} {}{}{} {}{}{}", "{}{}{}-{}{}{}-{}{}{}"]))
def test_any_valid_bsn_in_text_is_gone(before, left, bsn, right, after, form):
    written = form.format(bsn) if form == "{}" else form.format(*bsn)
    if written in before or written in after or (before + left)[-1:].isdigit() or (right + after)[:1].isdigit():
        return  # the BSN would be part of a longer number: not a BSN by definition
    assert written not in redact(before + left + written + right + after)


@given(before=tricky_text, iban=valid_ibans(), after=tricky_text)
def test_any_valid_iban_in_text_is_gone(before, iban, after):
    if iban in before or iban in after:
        return
    assert iban not in redact(f"{before} {iban} {after}")


@given(before=tricky_text, email=emails, after=tricky_text)
def test_any_email_in_text_is_gone(before, email, after):
    assert email not in redact(f"{before} {email} {after}") or email in before + after


pieces = st.lists(tricky_text | valid_bsns() | valid_ibans() | emails | st.sampled_from(["<bsn>", "<iban>", "<email>"]),
                  max_size=8)


@settings(max_examples=500)
@given(parts=pieces, glue=st.sampled_from(["", " ", ".", "@", "-"]))
def test_redact_is_idempotent(parts, glue):
    once = redact(glue.join(parts))
    assert redact(once) == once


@given(st.text(st.characters(blacklist_categories=("Nd", "Cs"), blacklist_characters="@")))
def test_text_without_digits_or_at_sign_is_unchanged(text):
    assert redact(text) == text


# --- the logging filter ------------------------------------------------------------------------------

@pytest.fixture
def logged():
    """A logger writing through the filter into a buffer; returns (logger, buffer)."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("vangnet.test.redaction")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(handler)
    yield logger, buffer
    logger.removeHandler(handler)


def test_filter_redacts_arguments_and_fstrings(logged):
    logger, buffer = logged
    logger.info("case %s: bsn %s, iban %s", 42, BSN, IBAN)
    logger.warning(f"case 43: mail {EMAIL} bsn {BSN}")
    logger.info("%(who)s wrote", {"who": EMAIL})
    assert buffer.getvalue().splitlines() == [
        "INFO case 42: bsn <bsn>, iban <iban>",
        "WARNING case 43: mail <email> bsn <bsn>",
        "INFO <email> wrote",
    ]


def test_filter_redacts_exceptions_and_stacks(logged):
    logger, buffer = logged
    try:
        raise ValueError(f"no case for {BSN} ({EMAIL})")
    except ValueError:
        logger.exception("lookup failed for case 44")
    logger.warning("where am I? %s", "999990019", stack_info=True)  # the stack shows this very line
    out = buffer.getvalue()
    assert BSN not in out and EMAIL not in out
    assert "ERROR lookup failed for case 44\nTraceback (most recent call last):" in out
    assert "ValueError: no case for <bsn> (<email>)" in out
    assert "Stack (most recent call last):" in out and '"<bsn>", stack_info=True' in out


def test_filter_leaves_no_raw_exception_for_other_formatters(logged):
    logger, _ = logged
    records: list[logging.LogRecord] = []
    sink = logging.Handler()
    sink.emit = records.append  # type: ignore[method-assign]
    logger.addHandler(sink)  # after the redacting handler, like a JSON or error-reporting handler
    try:
        try:
            raise KeyError(BSN)
        except KeyError:
            logger.exception("failed")
    finally:
        logger.removeHandler(sink)
    (record,) = records
    assert record.exc_info is None and "KeyError: '<bsn>'" in record.exc_text and record.args == ()


def test_filter_never_raises_or_drops(logged):
    logger, buffer = logged
    logger.info("two %s %s", BSN)  # wrong argument count: logged anyway, nothing raised at the caller
    assert BSN not in buffer.getvalue() and "log arguments did not fit" in buffer.getvalue()


@pytest.fixture
def restore_logging():
    """Undo install_redaction's global changes so other tests see logging as they left it."""
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    handlers = {h for lg in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
                if isinstance(lg, logging.Logger) for h in lg.handlers}
    filters = {h: list(h.filters) for h in handlers}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    for handler, before in filters.items():
        handler.filters[:] = before


def test_install_redaction_covers_existing_handlers_once(restore_logging):
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    logger = logging.getLogger("vangnet.test.install")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        install_redaction()
        install_redaction()
        logger.warning("bsn %s", BSN)
    finally:
        logger.removeHandler(handler)
    assert buffer.getvalue() == "bsn <bsn>\n"
    assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
    assert all(logging.getLogger(name).level == logging.WARNING for name in QUIET_LOGGERS)
