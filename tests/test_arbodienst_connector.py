"""The arbodienst connector against the arbodienst simulator over real HTTP(S): booking lifecycle,
idempotency, retries, Retry-After, pinning, mutual TLS and privacy."""

from __future__ import annotations

import json
import logging
import time
from datetime import date, datetime, timedelta, timezone

import httpx
import pytest
from pydantic import ValidationError

from connectors.arbodienst import (
    ArbodienstAuthError,
    ArbodienstClient,
    ArbodienstError,
    ArbodienstProtocolError,
    ArbodienstRefusedUrl,
    ArbodienstRejected,
    ArbodienstSettings,
    ArbodienstSlotTaken,
    ArbodienstUnavailable,
    Booking,
    BookingStatus,
    Person,
    Slot,
)
from simulators.arbodienst import MEDICAL_FIELDS, ArbodienstSimulator
from simulators.certs import generate_test_pki, server_ssl_context
from simulators.harness import SimServer

TOKEN = "arbo-test-token-7f3a"
BSN = "111222333"  # passes the 11-proef; test data only
MONDAY = date(2027, 3, 1)
CLOCK = datetime(2027, 2, 20, 10, 0, tzinfo=timezone.utc)
FAST = {"retry_backoff_seconds": 0.001, "retry_max_backoff_seconds": 0.01, "timeout_seconds": 2.0}


class Recorder:
    """Wraps the simulator app to keep each request's method, path and headers."""

    def __init__(self, app):
        self.app, self.seen = app, []

    def bind(self, base_url):
        self.app.bind(base_url)

    def set_faults(self, **knobs):
        self.app.set_faults(**knobs)

    def __call__(self, method, path, headers, body):
        if not path.startswith("/__"):
            self.seen.append((method, path, dict(headers), body))
        return self.app(method, path, headers, body)


@pytest.fixture
def arbo():
    sim = ArbodienstSimulator(token=TOKEN, start_date=MONDAY, days=14, clock=lambda: CLOCK)
    recorder = Recorder(sim)
    with SimServer(recorder, seed=1) as server:
        yield sim, server, recorder


def settings_for(base_url: str, **overrides) -> ArbodienstSettings:
    return ArbodienstSettings(**{"name": "arbodienst-test", "base_url": base_url, "token": TOKEN, **FAST,
                                 **overrides})


def client(sim: ArbodienstSimulator, **overrides) -> ArbodienstClient:
    return ArbodienstClient(settings_for(sim.api_root, **overrides))


def book(c: ArbodienstClient, slot_id: str = "SL-20270301-0900", key: str = "VN-000012-pa-1", **overrides) -> Booking:
    values = dict(consult_ref="VN-000012-PA-1", case_ref="VN-000012", doel="probleemanalyse", slot_id=slot_id,
                  uiterste_datum=date(2027, 3, 10), idempotency_key=key, person=Person(BSN))
    return c.book(**{**values, **overrides})


def posts(server: SimServer, path: str = "/api/v1/bookings") -> int:
    return server.request_count(method="POST", path=path)


# -- the happy path --------------------------------------------------------------------------------------
def test_list_slots_free_ordered_and_in_the_region(arbo):
    sim, server, recorder = arbo
    with client(sim) as c:
        slots = c.list_slots(MONDAY, MONDAY + timedelta(days=1))
        assert len(slots) == 16 and all(isinstance(s, Slot) for s in slots)
        assert [s.start for s in slots] == sorted(s.start for s in slots)
        assert slots[0] == Slot("SL-20270301-0900", datetime(2027, 3, 1, 8, 0, tzinfo=timezone.utc), "default")
        assert slots[0].start.utcoffset() == timedelta(hours=1)  # Europe/Amsterdam in March
        assert c.list_slots(MONDAY, MONDAY, regio="noord") == []
        sim.take_slot("SL-20270301-0900")
        assert [s.slot_id for s in c.list_slots(MONDAY, MONDAY)][0] == "SL-20270301-1000"
        with pytest.raises(ValueError):
            c.list_slots(MONDAY, MONDAY - timedelta(days=1))
    method, path, headers, _ = recorder.seen[0]
    assert (method, path) == ("GET", "/api/v1/slots?regio=default&van=2027-03-01&tot=2027-03-02")
    assert headers["Authorization"] == f"Bearer {TOKEN}" and "Idempotency-Key" not in headers


def test_book_get_and_the_bsn_only_in_the_body(arbo):
    sim, server, recorder = arbo
    with client(sim) as c:
        booking = book(c)
        assert booking == Booking("AB-000001", "VN-000012-PA-1", "SL-20270301-0900",
                                  datetime(2027, 3, 1, 9, tzinfo=timezone(timedelta(hours=1))), BookingStatus.GEBOEKT)
        assert c.get_booking(booking.booking_id) == booking
        assert "SL-20270301-0900" not in [s.slot_id for s in c.list_slots(MONDAY, MONDAY)]
    assert sim.received_bsn("AB-000001") == BSN
    assert sim.bookings[0]["case_ref"] == "VN-000012" and sim.bookings[0]["status_sinds"] == CLOCK.isoformat()
    method, path, headers, body = recorder.seen[0]
    assert (method, path, headers["Idempotency-Key"]) == ("POST", "/api/v1/bookings", "VN-000012-pa-1")
    assert json.loads(body) == {"consult_ref": "VN-000012-PA-1", "case_ref": "VN-000012", "doel": "probleemanalyse",
                                "slot_id": "SL-20270301-0900", "uiterste_datum": "2027-03-10",
                                "persoon": {"bsn": BSN}}
    for _, path, headers, _ in recorder.seen:  # never in a path, query or header
        assert BSN not in path and all(BSN not in v for v in headers.values())


def test_booking_without_person_sends_no_persoon(arbo):
    sim, _, recorder = arbo
    with client(sim) as c:
        book(c, person=None, doel="herbeoordeling")
    assert "persoon" not in json.loads(recorder.seen[0][3]) and sim.received_bsn("AB-000001") is None


# -- idempotency -----------------------------------------------------------------------------------------
def test_same_key_twice_is_one_booking(arbo):
    sim, server, _ = arbo
    with client(sim) as c:
        first, second = book(c), book(c)
    assert first == second
    assert sim.counts()["bookings"] == 1 and sim.counts()["replays"] == 1
    assert sim.requests_with_key("VN-000012-pa-1") == 2 and posts(server) == 2


def test_lost_answer_after_commit_is_retried_into_the_same_booking(arbo):
    sim, server, _ = arbo
    server.set_faults(fail_after_commit_next=1)  # stored, then 503: the answer got lost
    with client(sim) as c:
        booking = book(c)
    assert booking.booking_id == "AB-000001" and sim.counts()["bookings"] == 1
    assert sim.requests_with_key("VN-000012-pa-1") == 2
    assert [r.status for r in server.requests] == [503, 201]


def test_dropped_connection_is_retried_into_one_booking(arbo):
    sim, server, _ = arbo
    server.set_faults(drop_next=1)
    with client(sim) as c:
        book(c)
    assert sim.counts()["bookings"] == 1 and posts(server) == 2
    assert [r.fault for r in server.requests] == ["drop", None]


def test_same_key_other_body_is_refused(arbo):
    sim, server, _ = arbo
    with client(sim) as c:
        book(c)
        with pytest.raises(ArbodienstRejected) as caught:
            book(c, slot_id="SL-20270301-1000")
    assert caught.value.status == 422 and caught.value.code == "idempotency-key-hergebruikt"
    assert sim.counts()["bookings"] == 1 and posts(server) == 2  # 4xx: not retried


def test_a_failed_booking_does_not_bind_its_key(arbo):
    sim, _, _ = arbo
    sim.take_slot("SL-20270301-0900")
    with client(sim) as c:
        with pytest.raises(ArbodienstSlotTaken):
            book(c)
        assert book(c, slot_id="SL-20270301-1000").slot_id == "SL-20270301-1000"  # same key, other slot


# -- 409, retries, Retry-After ----------------------------------------------------------------------------
def test_slot_taken_raises_after_one_request(arbo):
    sim, server, _ = arbo
    sim.take_slot("SL-20270301-0900")
    with client(sim) as c, pytest.raises(ArbodienstSlotTaken) as caught:
        book(c)
    assert caught.value.slot_id == "SL-20270301-0900" and posts(server) == 1
    assert not isinstance(caught.value, (ArbodienstRejected, ArbodienstUnavailable))
    assert sim.counts()["bookings"] == 0 and sim.counts()["conflicts"] == 1


def test_503_twice_then_success(arbo):
    sim, server, _ = arbo
    server.set_faults(status_next=2, status_code=503)
    with client(sim) as c:
        assert book(c).status is BookingStatus.GEBOEKT
    assert [r.status for r in server.requests] == [503, 503, 201] and sim.counts()["bookings"] == 1


def test_429_retry_after_is_waited_for(arbo):
    sim, server, _ = arbo
    server.set_faults(throttle_next=1, retry_after=1)
    with client(sim) as c:
        started = time.monotonic()
        slots = c.list_slots(MONDAY, MONDAY)
        elapsed = time.monotonic() - started
    first, second = server.requests
    assert len(slots) == 8 and (first.status, second.status) == (429, 200)
    assert 0.95 <= second.started - first.started < 1.6 and elapsed < 2.0


def test_retry_after_is_capped(arbo):
    sim, server, _ = arbo
    server.set_faults(throttle_next=1, retry_after=30)
    with client(sim, retry_after_cap_seconds=0.2) as c:
        started = time.monotonic()
        c.list_slots(MONDAY, MONDAY)
    assert 0.15 <= time.monotonic() - started < 1.0


def test_persistent_503_gives_up_after_max_attempts(arbo):
    sim, server, _ = arbo
    server.set_faults(status_next=100, status_code=503)
    with client(sim, max_attempts=4) as c, pytest.raises(ArbodienstUnavailable) as caught:
        book(c)
    assert posts(server) == 4 and "HTTP 503" in str(caught.value)
    with client(sim, max_attempts=1) as c, pytest.raises(ArbodienstUnavailable):
        c.get_booking("AB-000001")
    assert server.request_count(method="GET") == 1


def test_timeout_is_unavailable_and_retried(arbo):
    sim, server, _ = arbo
    server.set_faults(hold_next=1, hold_seconds=2)
    with client(sim, timeout_seconds=0.3) as c:
        assert len(c.list_slots(MONDAY, MONDAY)) == 8
    assert [r.fault for r in server.requests] == ["hold", None]


@pytest.mark.parametrize("token", ["wrong-token", None])
def test_wrong_or_missing_token_is_an_auth_error(arbo, token):
    sim, server, _ = arbo
    with client(sim, token=token) as c, pytest.raises(ArbodienstAuthError) as caught:
        book(c)
    assert caught.value.status == 401 and posts(server) == 1 and sim.counts()["bookings"] == 0
    assert "wrong-token" not in str(caught.value)


# -- pinning ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("booking_id", [".", "..", "../../__arbo", "../slots", "AB-1/../../../x"])
def test_urls_outside_base_are_refused_before_sending(arbo, booking_id):
    sim, server, recorder = arbo
    with client(sim) as c:
        for call in (lambda: c.get_booking(booking_id), lambda: c.get_advice(booking_id),
                     lambda: c.cancel(booking_id, idempotency_key="k-1"),
                     lambda: c.reschedule(booking_id, slot_id="SL-20270301-1000", idempotency_key="k-2")):
            with pytest.raises(ArbodienstRefusedUrl):
                call()
    assert server.requests == [] and recorder.seen == []


def test_base_url_with_a_path_prefix_is_pinned():
    c = ArbodienstClient(settings_for("https://arbo.example.nl/tenant-a/api/v1"))
    assert c.settings.base_url == "https://arbo.example.nl/tenant-a/api/v1/"
    for target in ("https://arbo.example.nl/tenant-b/api/v1/slots", "http://arbo.example.nl/tenant-a/api/v1/slots",
                   "https://arbo.example.nl:8443/tenant-a/api/v1/slots", "https://evil.example/tenant-a/api/v1/",
                   "https://user:pw@arbo.example.nl/tenant-a/api/v1/slots", "../../x"):
        with pytest.raises(ArbodienstRefusedUrl):
            c._pinned(target)
    assert c._pinned("bookings/AB-1") == "https://arbo.example.nl/tenant-a/api/v1/bookings/AB-1"
    c.close()


# -- cancel, reschedule, advice --------------------------------------------------------------------------
def test_cancel_twice_is_fine_and_frees_the_slot(arbo):
    sim, server, _ = arbo
    with client(sim) as c:
        booking = book(c)
        first = c.cancel(booking.booking_id, idempotency_key="cancel-1")
        again = c.cancel(booking.booking_id, idempotency_key="cancel-1")  # same key: a replay
        other = c.cancel(booking.booking_id, idempotency_key="cancel-2")  # new key: still the same result
        assert first == again == other and first.status is BookingStatus.GEANNULEERD
        assert c.list_slots(MONDAY, MONDAY)[0].slot_id == "SL-20270301-0900"
    assert posts(server, "/api/v1/bookings/AB-000001/cancel") == 3 and sim.counts()["geannuleerd"] == 1


def test_reschedule_moves_the_booking_and_409_leaves_it(arbo):
    sim, server, _ = arbo
    with client(sim) as c:
        booking = book(c)
        moved = c.reschedule(booking.booking_id, slot_id="SL-20270302-1400", idempotency_key="move-1")
        assert (moved.booking_id, moved.slot_id, moved.status) == ("AB-000001", "SL-20270302-1400",
                                                                   BookingStatus.GEBOEKT)
        assert moved.start == datetime(2027, 3, 2, 13, tzinfo=timezone.utc)
        free = {s.slot_id for s in c.list_slots(MONDAY, MONDAY + timedelta(days=1))}
        assert "SL-20270301-0900" in free and "SL-20270302-1400" not in free
        sim.take_slot("SL-20270303-0900")
        with pytest.raises(ArbodienstSlotTaken):
            c.reschedule(booking.booking_id, slot_id="SL-20270303-0900", idempotency_key="move-2")
        assert c.get_booking(booking.booking_id) == moved
    assert posts(server, "/api/v1/bookings/AB-000001/reschedule") == 2


def test_advice_is_none_until_held_then_the_full_document(arbo):
    sim, server, _ = arbo
    with client(sim) as c:
        booking = book(c)
        assert c.get_advice(booking.booking_id) is None
        assert server.request_count(path="/api/v1/bookings/AB-000001/advies") == 1  # a 404 is not retried
        assert sim.hold_all_due(datetime(2027, 3, 1, 12, tzinfo=timezone.utc)) == ["AB-000001"]
        assert c.get_booking(booking.booking_id).status is BookingStatus.GEHOUDEN
        advice = c.get_advice(booking.booking_id)
    assert advice == sim.advice_for("AB-000001")
    assert advice["case_ref"] == "VN-000012" and advice["functionele_mogelijkheden"]["werktijden"] == "beperkt"
    assert set(MEDICAL_FIELDS) <= set(advice) and advice["diagnose"] == "burn-out"  # the guard must strip these


def test_unknown_booking_is_rejected_not_none(arbo):
    sim, _, _ = arbo
    with client(sim) as c:
        for call in (lambda: c.get_booking("AB-999999"), lambda: c.get_advice("AB-999999")):
            with pytest.raises(ArbodienstRejected) as caught:
                call()
            assert (caught.value.status, caught.value.code) == (404, "booking-onbekend")


# -- privacy ---------------------------------------------------------------------------------------------
def test_no_bsn_token_or_advice_in_logs_or_errors(arbo, caplog):
    sim, server, _ = arbo
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    server.set_faults(status_next=1, status_code=503)
    with client(sim) as c:
        booking = book(c)
        for call in (lambda: book(c, slot_id="SL-20270301-1000"),  # 422, key reused
                     lambda: book(c, slot_id="SL-20270301-0900", key="other-key")):  # 409
            try:
                call()
            except ArbodienstError as exc:
                errors.append(exc)
        sim.hold_all_due(datetime(2027, 3, 2, tzinfo=timezone.utc))
        advice = c.get_advice(booking.booking_id)
    server.set_faults(status_next=5, status_code=500)
    with client(sim, max_attempts=2) as c:
        try:
            book(c, key="third-key", slot_id="SL-20270301-1100")
        except ArbodienstError as exc:
            errors.append(exc)
    assert [type(e) for e in errors] == [ArbodienstRejected, ArbodienstSlotTaken, ArbodienstUnavailable]
    text = caplog.text + "\n".join(str(e) for e in errors) + "\n".join(repr(e) for e in errors)
    secrets = [BSN, TOKEN, *(str(advice[f]) for f in ("diagnose", "oorzaak", "behandeling", "toelichting_arts")),
               advice["medicatie"][0], advice["beperkingen"][0]]
    assert [s for s in secrets if s in text] == []
    assert any("POST /api/v1/bookings" in r.getMessage() for r in caplog.records)  # logging did happen


def test_person_and_settings_hide_their_secrets():
    person = Person(BSN)
    assert BSN not in repr(person) and BSN not in str(person) and BSN not in repr([person])
    with pytest.raises(ValueError) as caught:
        Person("111222334")  # fails the 11-proef
    assert "111222334" not in str(caught.value)
    settings = settings_for("https://arbo.example.nl/api/v1")
    assert TOKEN not in repr(settings) and TOKEN not in str(settings.model_dump())


def test_settings_are_checked():
    with pytest.raises(ValidationError):
        settings_for("ftp://arbo.example.nl/")
    with pytest.raises(ValidationError):
        settings_for("https://arbo.example.nl/api/v1/?x=1")
    with pytest.raises(ValidationError):
        settings_for("https://arbo.example.nl/", client_cert_path="/tmp/c.pem")  # key missing
    with pytest.raises(ValidationError):
        settings_for("https://arbo.example.nl/", name="with space")
    settings = settings_for("https://arbo.example.nl/api/v1")
    with pytest.raises(ValidationError):
        settings.name = "other"  # frozen
    defaults = ArbodienstSettings(name="a", base_url="https://arbo.example.nl/api/v1/")
    assert (defaults.token, defaults.regio, defaults.timeout_seconds, defaults.max_attempts) == \
        (None, "default", 15.0, 3)


# -- mutual TLS ------------------------------------------------------------------------------------------
def test_over_https_with_mutual_tls(tmp_path):
    pki = generate_test_pki(tmp_path / "pki")
    sim = ArbodienstSimulator(start_date=MONDAY, days=7)  # no bearer token: the client certificate authenticates
    with SimServer(sim, tls=server_ssl_context(pki)) as server:
        assert sim.api_root.startswith("https://")
        tls = dict(ca_bundle_path=pki.ca_cert, client_cert_path=pki.client_cert, client_key_path=pki.client_key)
        with client(sim, token=None, **tls) as c:
            booking = book(c)
            assert c.get_booking(booking.booking_id) == booking
        with client(sim, token=None, ca_bundle_path=pki.ca_cert, max_attempts=1) as c, \
                pytest.raises(ArbodienstError):
            c.list_slots(MONDAY, MONDAY)  # no client certificate
        with client(sim, token=None, max_attempts=1, **{**tls, "ca_bundle_path": None}) as c, \
                pytest.raises(ArbodienstError) as caught:
            c.list_slots(MONDAY, MONDAY)  # the server's CA is not trusted
        assert "TLS" in str(caught.value) and not isinstance(caught.value, ArbodienstUnavailable)
    assert sim.counts()["bookings"] == 1 and server.handshake_failures >= 1


def test_unreadable_tls_files_are_reported(tmp_path):
    missing = tmp_path / "missing.pem"
    with pytest.raises(ArbodienstError, match="client_cert_path"):
        ArbodienstClient(settings_for("https://arbo.example.nl/api/v1/", client_cert_path=missing,
                                      client_key_path=missing))


# -- answers outside the contract (mock transport) ----------------------------------------------------------
def test_answers_outside_the_contract_are_protocol_errors():
    answers = iter([
        httpx.Response(200, text="<html>login</html>"),
        httpx.Response(200, json={"slots": [{"slot_id": "S1", "start": "2027-03-01T09:00:00", "regio": "x"}]}),
        httpx.Response(200, json={"booking_id": "AB-2", "consult_ref": "C", "slot_id": "S", "status": "GEBOEKT",
                                  "start": "2027-03-01T09:00:00+01:00"}),
        httpx.Response(409, json={"code": "iets-anders", "title": "Conflict"}),
        httpx.Response(302, headers={"Location": "https://elders.example/"}),
    ])
    transport = httpx.MockTransport(lambda request: next(answers))
    with ArbodienstClient(settings_for("https://arbo.example.nl/api/v1/"), transport=transport) as c:
        with pytest.raises(ArbodienstProtocolError, match="no JSON"):
            c.list_slots(MONDAY, MONDAY)
        with pytest.raises(ArbodienstProtocolError, match="UTC offset"):
            c.list_slots(MONDAY, MONDAY)
        with pytest.raises(ArbodienstProtocolError, match="another booking"):
            c.get_booking("AB-1")
        with pytest.raises(ArbodienstRejected) as caught:
            c.cancel("AB-1", idempotency_key="k")
        assert (caught.value.status, caught.value.code) == (409, "iets-anders")
        with pytest.raises(ArbodienstProtocolError, match="redirect"):
            c.get_booking("AB-1")
        with pytest.raises(ValueError, match="idempotency_key"):
            c.cancel("AB-1", idempotency_key="with space")
