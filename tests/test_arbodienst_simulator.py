"""The arbodienst simulator: checks against our OpenAPI file, answers that fit it, control API, admin, CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import httpx
import pytest
import yaml

from mappings.arbodienst import BookingStatus
from schemas.arbodienst import BASE_PATH, OPENAPI_PATH
from simulators.arbodienst import FUNCTIONAL_FIELDS, MEDICAL_FIELDS, ArbodienstSimulator, OpenApiContract
from simulators.harness import SimServer

TOKEN = "sim-token"
BSN = "111222333"
MONDAY = date(2027, 3, 1)
ROOT = Path(__file__).resolve().parents[1]
BODY = {"consult_ref": "VN-000012-PA-1", "case_ref": "VN-000012", "doel": "probleemanalyse",
        "slot_id": "SL-20270301-0900", "uiterste_datum": "2027-03-10", "persoon": {"bsn": BSN}}


@pytest.fixture
def running():
    sim = ArbodienstSimulator(token=TOKEN, start_date=MONDAY, days=7,
                              clock=lambda: datetime(2027, 2, 20, 9, tzinfo=timezone.utc))
    with SimServer(sim) as server, httpx.Client(base_url=sim.api_root, headers={"Authorization": f"Bearer {TOKEN}"},
                                                  trust_env=False) as http:
        yield sim, server, http


def post(http: httpx.Client, path: str, body: object = None, key: str = "k-1") -> httpx.Response:
    content = None if body is None else json.dumps(body)
    headers = {"Idempotency-Key": key} | ({"Content-Type": "application/json"} if body is not None else {})
    return http.post(path, content=content, headers=headers)


# -- the contract file -----------------------------------------------------------------------------------
def test_the_contract_file_is_complete_and_consistent():
    doc = yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
    assert doc["openapi"] == "3.0.3" and doc["servers"] == [{"url": BASE_PATH}]
    refs: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            refs.extend([node["$ref"]] if "$ref" in node else [])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    contract = OpenApiContract(OPENAPI_PATH)
    for ref in refs:  # every $ref resolves
        assert contract.deref({"$ref": ref}) is not None, ref
    operations = {(m.upper(), p): op for p, item in doc["paths"].items() for m, op in item.items() if m != "parameters"}
    assert set(operations) == {("GET", "/slots"), ("POST", "/bookings"), ("GET", "/bookings/{booking_id}"),
                               ("POST", "/bookings/{booking_id}/cancel"), ("POST", "/bookings/{booking_id}/reschedule"),
                               ("GET", "/bookings/{booking_id}/advies")}
    for (method, path), op in operations.items():
        assert "401" in op["responses"] and "429" in op["responses"], (method, path)
        names = [contract.deref(p)["name"] for p in op.get("parameters", [])]
        assert ("Idempotency-Key" in names) == (method == "POST"), (method, path)
    assert "409" in operations[("POST", "/bookings")]["responses"]
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "A token agreed with the arbodienst, per gemeente."}
    advies = doc["components"]["schemas"]["Advies"]["properties"]
    marked = {n for n, p in advies.items() if "medical — must be dropped by the receiver" in p.get("description", "")}
    assert marked == set(MEDICAL_FIELDS) and set(advies) == set(MEDICAL_FIELDS) | set(FUNCTIONAL_FIELDS)
    assert doc["components"]["schemas"]["BookingStatus"]["enum"] == [s.value for s in BookingStatus]


def test_every_answer_of_a_lifecycle_fits_the_contract(running):
    sim, _, http = running
    contract = sim.contract
    checks = []

    def check(template, method, response):
        checks.append((template, method, response.status_code,
                       contract.response_problems(template, method, response.status_code, response.json())))

    check("/slots", "get", http.get("slots", params={"van": "2027-03-01", "tot": "2027-03-05"}))
    check("/bookings", "post", post(http, "bookings", BODY))
    check("/bookings", "post", post(http, "bookings", BODY))  # replay
    check("/bookings", "post", post(http, "bookings", {**BODY, "slot_id": "SL-20270301-1000"}))  # key reused
    check("/bookings", "post", post(http, "bookings", BODY, key="k-2"))  # slot taken
    check("/bookings/{booking_id}/advies", "get", http.get("bookings/AB-000001/advies"))
    check("/bookings/{booking_id}/reschedule", "post",
          post(http, "bookings/AB-000001/reschedule", {"slot_id": "SL-20270302-1000"}, key="k-3"))
    sim.hold_all_due(datetime(2027, 3, 3, tzinfo=timezone.utc))
    check("/bookings/{booking_id}", "get", http.get("bookings/AB-000001"))
    check("/bookings/{booking_id}/advies", "get", http.get("bookings/AB-000001/advies"))
    check("/bookings/{booking_id}/cancel", "post", post(http, "bookings/AB-000001/cancel", key="k-4"))
    check("/bookings/{booking_id}", "get", http.get("bookings/AB-999999"))
    check("/bookings/{booking_id}", "get", httpx.get(sim.api_root + "bookings/AB-000001", trust_env=False))
    assert [(c[2], c[3]) for c in checks] == [(200, []), (201, []), (201, []), (422, []), (409, []), (404, []),
                                              (200, []), (200, []), (200, []), (422, []), (404, []), (401, [])]


@pytest.mark.parametrize("change, field", [
    ({"doel": "controle"}, "doel"),
    ({"case_ref": BSN}, "case_ref"),  # a BSN where the case ref belongs
    ({"uiterste_datum": "10-03-2027"}, "uiterste_datum"),
    ({"persoon": {"bsn": "12345"}}, "persoon.bsn"),
    ({"persoon": {"bsn": BSN, "naam": "Jan"}}, "persoon"),
    ({"extra": 1}, "body"),
    ({"slot_id": None}, "slot_id"),
])
def test_invalid_bodies_get_400_naming_the_field_not_the_value(running, change, field):
    sim, _, http = running
    body = {k: v for k, v in {**BODY, **change}.items() if v is not None}
    response = post(http, "bookings", body)
    problem = response.json()
    assert response.status_code == 400 and problem["code"] == "ongeldig-verzoek"
    assert problem["detail"].startswith(field) or f"; {field}" in problem["detail"]
    assert BSN not in response.text and "Jan" not in response.text and "controle" not in response.text
    assert sim.counts()["bookings"] == 0


def test_parameters_and_headers_are_checked_against_the_file(running):
    sim, _, http = running
    assert http.get("slots", params={"van": "2027-03-01"}).json()["detail"] == "tot (query): verplicht"
    assert http.get("slots", params={"van": "1-3-2027", "tot": "2027-03-01"}).status_code == 400
    no_key = http.post("bookings", json=BODY)
    assert no_key.status_code == 400 and no_key.json()["detail"] == "Idempotency-Key (header): verplicht"
    assert http.post("bookings", content=json.dumps(BODY), headers={"Idempotency-Key": "k", "Content-Type":
                                                                    "text/plain"}).status_code == 415
    assert http.get("bookings/AB%20001").status_code == 400  # path parameter pattern
    assert http.delete("bookings/AB-000001").status_code == 405 and http.get("nergens").status_code == 404
    assert post(http, "bookings", {**BODY, "persoon": {"bsn": "111222334"}}).json()["detail"] == \
        "persoon.bsn: voldoet niet aan de 11-proef"
    assert sim.counts()["bookings"] == 0


def test_the_simulator_follows_the_file_it_is_given(tmp_path):
    """Proof that validation comes from the OpenAPI file: a copy that allows another doel accepts it."""
    doc = yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
    doc["components"]["schemas"]["BookingRequest"]["properties"]["doel"]["enum"].append("controle")
    changed = tmp_path / "openapi.yaml"
    changed.write_text(yaml.safe_dump(doc), encoding="utf-8")
    answers = {}
    for name, path in (("ours", OPENAPI_PATH), ("changed", changed)):
        with SimServer(ArbodienstSimulator(openapi_path=path, start_date=MONDAY, days=7)) as server:
            answers[name] = post(httpx.Client(base_url=f"{server.url}{BASE_PATH}/", trust_env=False), "bookings",
                                 {**BODY, "doel": "controle"}).status_code
    assert answers == {"ours": 400, "changed": 201}
    with pytest.raises(FileNotFoundError, match="openapi_path"):
        ArbodienstSimulator(openapi_path=tmp_path / "missing.yaml")


# -- state and control -----------------------------------------------------------------------------------
def test_generated_slots_are_working_days_nine_to_four():
    sim = ArbodienstSimulator(start_date=date(2027, 2, 27), days=9, regio="noord")  # Saturday .. next Sunday
    days = sorted({s["slot_id"][3:11] for s in sim.slots})
    assert days == ["20270301", "20270302", "20270303", "20270304", "20270305"]
    monday = [s for s in sim.slots if s["slot_id"].startswith("SL-20270301")]
    assert [s["start"][11:16] for s in monday] == [f"{h:02d}:00" for h in range(9, 17)]
    assert {s["regio"] for s in sim.slots} == {"noord"} and monday[0]["start"] == "2027-03-01T09:00:00+01:00"
    assert ArbodienstSimulator(start_date=date(2027, 2, 27), days=9, regio="noord").slots == sim.slots


def test_given_slots_are_checked_and_ordered():
    sim = ArbodienstSimulator(slots=[
        {"slot_id": "B", "start": datetime(2027, 3, 2, 9, tzinfo=timezone.utc)},
        {"slot_id": "A", "start": "2027-03-01T09:00:00+01:00", "regio": "zuid", "bedrijfsarts_id": "BA-9"}])
    assert [s["slot_id"] for s in sim.slots] == ["A", "B"] and sim.slots[1]["regio"] == "default"
    with pytest.raises(ValueError, match="start"):
        ArbodienstSimulator(slots=[{"slot_id": "C", "start": "2027-03-01T09:00:00"}])  # no offset


def test_status_changes_by_the_arbodienst(running):
    sim, _, http = running
    post(http, "bookings", BODY)
    post(http, "bookings", {**BODY, "slot_id": "SL-20270301-1000", "consult_ref": "C2"}, key="k-2")
    assert sim.set_status("AB-000001", "NO_SHOW")["status"] == "NO_SHOW"
    assert http.get("bookings/AB-000001/advies").json()["code"] == "advies-nog-niet-beschikbaar"
    assert post(http, "bookings/AB-000001/cancel", key="c-1").json()["code"] == "booking-niet-annuleerbaar"
    assert post(http, "bookings/AB-000001/reschedule", {"slot_id": "SL-20270303-0900"}, key="r-1").json()["code"] \
        == "booking-niet-verzetbaar"
    sim.set_status("AB-000002", BookingStatus.GEANNULEERD_DOOR_ARBODIENST)
    cancelled = post(http, "bookings/AB-000002/cancel", key="c-2")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "GEANNULEERD_DOOR_ARBODIENST"
    assert sim.counts() == {"bookings": 2, "replays": 0, "conflicts": 0, "geboekt": 0, "gehouden": 0, "no_show": 1,
                            "geannuleerd": 0, "geannuleerd_door_arbodienst": 1}
    assert sim.hold_all_due(datetime(2030, 1, 1, tzinfo=timezone.utc)) == []
    with pytest.raises(ValueError):
        sim.set_status("AB-000001", "WEG")
    with pytest.raises(ValueError):
        sim.set_status("AB-404", "GEHOUDEN")
    with pytest.raises(ValueError):
        sim.take_slot("SL-nope")
    with pytest.raises(ValueError):
        sim.hold_all_due(datetime(2030, 1, 1))


def test_hold_all_due_holds_only_what_has_started(running):
    sim, _, http = running
    post(http, "bookings", BODY)
    post(http, "bookings", {**BODY, "slot_id": "SL-20270305-1500", "consult_ref": "C2"}, key="k-2")
    assert sim.hold_all_due(datetime(2027, 3, 1, 8, 0, tzinfo=timezone.utc)) == ["AB-000001"]  # 09:00 CET
    assert sim.advice_for("AB-000001")["datum_consult"] == "2027-03-01" and sim.advice_for("AB-000002") is None
    assert sim.bookings[0]["status"] == "GEHOUDEN" and sim.bookings[1]["status"] == "GEBOEKT"


def test_admin_endpoints_for_out_of_process_control(running):
    sim, server, http = running
    admin = httpx.Client(base_url=server.url, trust_env=False)  # no token: admin paths are the harness's
    assert admin.post("/__arbo/take-slot", json={"slot_id": "SL-20270301-0900"}).status_code == 200
    assert post(http, "bookings", BODY).status_code == 409
    assert post(http, "bookings", {**BODY, "slot_id": "SL-20270301-1000"}).status_code == 201
    assert admin.get("/__arbo/advies/AB-000001").status_code == 404
    held = admin.post("/__arbo/hold-due", json={"until": "2027-03-01T12:00:00+01:00"}).json()
    assert held == {"gehouden": ["AB-000001"]}
    assert admin.get("/__arbo/advies/AB-000001").json()["diagnose"] == "burn-out"
    assert admin.post("/__arbo/status", json={"booking_id": "AB-000001", "status": "NO_SHOW"}).json()["status"] == \
        "NO_SHOW"
    state = admin.get("/__arbo").json()
    assert state["counts"]["bookings"] == 1 and state["counts"]["conflicts"] == 1 and BSN not in json.dumps(state)
    assert admin.post("/__arbo/status", json={"booking_id": "AB-000001", "status": "WEG"}).status_code == 400
    assert admin.post("/__arbo/hold-due", json={"until": "2027-03-01T12:00:00"}).status_code == 400
    assert admin.post("/__faults", json={"throttle_next": 1, "retry_after": 2}).status_code == 200
    throttled = http.get("slots", params={"van": "2027-03-01", "tot": "2027-03-01"})
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "2"
    assert server.requests[-1].status == 429 and all(not r.path.startswith("/__") for r in server.requests)


def test_events_and_logs_hold_no_bodies(running, caplog):
    sim, _, http = running
    caplog.set_level("DEBUG")
    post(http, "bookings", BODY)
    sim.hold_all_due(datetime(2027, 3, 2, tzinfo=timezone.utc))
    http.get("bookings/AB-000001/advies")
    text = caplog.text + repr(sim.events) + json.dumps(sim.bookings)
    assert BSN not in text and "burn-out" not in text and TOKEN not in text
    assert sim.received_bsn("AB-000001") == BSN


# -- command line ----------------------------------------------------------------------------------------
def test_cli_serves_and_stops(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "simulators", "arbodienst", "--token", TOKEN,
                             "--start-date", "2027-03-01", "--days", "7"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.poll() is not None else url
        with httpx.Client(base_url=f"{url}{BASE_PATH}/", headers={"Authorization": f"Bearer {TOKEN}"},
                          trust_env=False) as http:
            slots = http.get("slots", params={"van": "2027-03-01", "tot": "2027-03-01"}).json()["slots"]
            assert len(slots) == 8
            assert httpx.get(f"{url}{BASE_PATH}/slots?van=2027-03-01&tot=2027-03-01", trust_env=False).status_code \
                == 401
        assert httpx.get(f"{url}/__arbo", trust_env=False).json()["counts"]["bookings"] == 0
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
