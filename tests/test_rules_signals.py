"""Signal validation: every reason is given, in words a person understands, without the BSN."""

from datetime import date

import pytest
from hypothesis import given, strategies as st

from rules.identifiers import is_valid_bsn
from rules.signals import InvalidSignal, check_signal

TODAY = date(2027, 2, 1)
GOOD = {
    "bericht_id": "VB-0001", "volgnummer": "1", "soort": "ZIEKMELDING_VANGNETTER", "bsn": "999990019",
    "gemeentecode": "0518", "eerste_ziektedag": "2027-01-04", "datum_melding": "2027-01-14",
    "datum_einde_dienstverband": "2027-01-15", "wettelijke_grondslag": "ZW_38_2",
}


def bsn_checksum(digits: str) -> int:
    return sum(int(c) * w for c, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2, -1)))


@pytest.mark.parametrize("bsn,ok", [("999990019", True), ("999990021", False), ("111222333", True),
                                    ("000000000", False), ("12345678", False), ("12345678a", False)])
def test_bsn_11_proef(bsn, ok):
    assert is_valid_bsn(bsn) is ok


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_bsn_rule_agrees_with_definition(digits):
    total = bsn_checksum(digits)
    assert is_valid_bsn(digits) == (total % 11 == 0 and total != 0)


def test_good_signal_passes():
    signal = check_signal(GOOD, today=TODAY)
    assert signal.eerste_ziektedag == date(2027, 1, 4) and signal.volgnummer == 1
    assert "999990019" not in repr(signal) and "999990019" not in str(signal)


@pytest.mark.parametrize("change,fragment", [
    ({"bsn": "999990021"}, "elfproef"),
    ({"gemeentecode": "51"}, "gemeentecode"),
    ({"soort": "ONZIN"}, "onbekende soort"),
    ({"eerste_ziektedag": "2027-02-30"}, "geen geldige datum"),
    ({"eerste_ziektedag": "2027-03-01"}, "toekomst"),
    ({"datum_melding": "2027-01-01"}, "voor de eerste_ziektedag"),
    ({"eerste_ziektedag": None}, "verplicht bij ZIEKMELDING_VANGNETTER"),
    ({"bericht_id": None}, "'bericht_id' ontbreekt"),
    ({"volgnummer": "een"}, "geen geheel getal"),
    ({"extra": "x"}, "onbekende velden"),
])
def test_bad_signal_is_refused_with_a_reason_and_no_bsn(change, fragment):
    with pytest.raises(InvalidSignal) as caught:
        check_signal({**GOOD, **change}, today=TODAY)
    assert fragment in str(caught.value)
    assert "999990019" not in str(caught.value) and "999990021" not in str(caught.value)


def test_all_reasons_are_reported_at_once():
    with pytest.raises(InvalidSignal) as caught:
        check_signal({**GOOD, "bsn": "123", "gemeentecode": "x"}, today=TODAY)
    assert len(caught.value.reasons) == 2
