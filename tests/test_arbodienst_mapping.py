"""mappings.arbodienst: request bodies, parsing answers, no BSN where it does not belong."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mappings.arbodienst import (
    Booking,
    BookingStatus,
    MappingError,
    Person,
    Slot,
    booking_from_json,
    booking_request_body,
    check_idempotency_key,
    reschedule_body,
    slot_from_json,
    slots_from_json,
)
from schemas.arbodienst import OPENAPI_PATH
from simulators.arbodienst import OpenApiContract

BSN = "111222333"
CET = timezone(timedelta(hours=1))
CONTRACT = OpenApiContract(OPENAPI_PATH)


def body(**overrides):
    values = dict(consult_ref="VN-000012-PA-1", case_ref="VN-000012", doel="probleemanalyse",
                  slot_id="SL-20270301-0900", uiterste_datum=date(2027, 3, 10))
    return booking_request_body(**{**values, **overrides})


def test_booking_body_fits_the_contract():
    with_person = body(person=Person(BSN))
    assert with_person == {"consult_ref": "VN-000012-PA-1", "case_ref": "VN-000012", "doel": "probleemanalyse",
                           "slot_id": "SL-20270301-0900", "uiterste_datum": "2027-03-10", "persoon": {"bsn": BSN}}
    assert "persoon" not in body()
    for made in (with_person, body(doel="herbeoordeling")):
        assert CONTRACT.component_problems("BookingRequest", made) == []
    assert reschedule_body("SL-2") == {"slot_id": "SL-2"}
    assert CONTRACT.component_problems("RescheduleRequest", reschedule_body("SL-2")) == []


@pytest.mark.parametrize("overrides, field", [
    ({"case_ref": BSN}, "case_ref"), ({"case_ref": "vn-12"}, "case_ref"), ({"doel": "controle"}, "doel"),
    ({"slot_id": "../x"}, "slot_id"), ({"consult_ref": ""}, "consult_ref"),
    ({"uiterste_datum": datetime(2027, 3, 10)}, "uiterste_datum"), ({"person": BSN}, "person"),
])
def test_bad_request_data_is_refused_without_echoing_it(overrides, field):
    with pytest.raises(ValueError, match=field) as caught:
        body(**overrides)
    assert BSN not in str(caught.value)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_a_bsn_is_never_accepted_as_case_ref(digits):
    with pytest.raises(ValueError):
        body(case_ref=digits)


@given(st.from_regex(r"[A-Z]{1,10}-[0-9]{1,8}", fullmatch=True))
def test_every_case_ref_the_mapping_takes_fits_the_contract(case_ref):
    assert CONTRACT.component_problems("BookingRequest", body(case_ref=case_ref)) == []


def test_idempotency_keys():
    assert check_idempotency_key("VN-000012-probleemanalyse-1") == "VN-000012-probleemanalyse-1"
    for bad in ("", "met spatie", "x" * 256, "é", None):
        with pytest.raises(ValueError):
            check_idempotency_key(bad)


def test_answers_become_typed_data():
    slot = {"slot_id": "S2", "start": "2027-03-01T10:00:00+01:00", "regio": "r", "bedrijfsarts_id": "BA"}
    early = {**slot, "slot_id": "S1", "start": "2027-03-01T08:00:00Z"}
    assert slot_from_json(slot) == Slot("S2", datetime(2027, 3, 1, 10, tzinfo=CET), "r")
    assert [s.slot_id for s in slots_from_json({"slots": [slot, early]})] == ["S1", "S2"]
    booking = {"booking_id": "AB-1", "consult_ref": "C", "case_ref": "VN-000012", "slot_id": "S2",
               "start": "2027-03-01T10:00:00+01:00", "status": "NO_SHOW", "status_sinds": "2027-03-01T11:00:00+01:00"}
    assert booking_from_json(booking) == Booking("AB-1", "C", "S2", datetime(2027, 3, 1, 10, tzinfo=CET),
                                                 BookingStatus.NO_SHOW)


@pytest.mark.parametrize("data, message", [
    ([], "not a JSON object"), ({"slots": {}}, "not a list"), ({"slots": [{"slot_id": "S"}]}, "lacks 'start'"),
    ({"slots": [{"slot_id": "S", "start": "morgen", "regio": "r"}]}, "ISO 8601"),
    ({"slots": [{"slot_id": "", "start": "2027-03-01T10:00:00+01:00", "regio": "r"}]}, "slot_id"),
])
def test_malformed_slot_lists(data, message):
    with pytest.raises(MappingError, match=message):
        slots_from_json(data)


def test_unknown_status_is_a_mapping_error_without_the_value():
    with pytest.raises(MappingError) as caught:
        booking_from_json({"booking_id": "AB-1", "consult_ref": "C", "slot_id": "S", "status": BSN,
                           "start": "2027-03-01T10:00:00+01:00"})
    assert "status" in str(caught.value) and BSN not in str(caught.value)


def test_person_never_shows_the_bsn():
    person = Person(BSN)
    assert repr(person) == str(person) == "Person(bsn=<hidden>)" and person.bsn == BSN
    assert BSN not in repr({"p": person})
    for bad in ("12345678", "111222334", 111222333):
        with pytest.raises(ValueError) as caught:
            Person(bad)
        assert str(bad) not in str(caught.value)
