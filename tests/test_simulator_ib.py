"""The IB simulator over real HTTP: contract files, SOAP answers valid against our XSD, IB fault knobs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from lxml import etree

from ib_helpers import assert_valid, record
from mappings.ib_signal import ib_tag, signal_element_to_fields
from mappings.safe_xml import parse_xml
from schemas.ib import ACTIONS, IB_NAMESPACE
from simulators.harness import SimServer
from simulators.ib import IbSimulator, load_signal_records

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
REPO = Path(__file__).resolve().parents[1]


def envelope(body: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{SOAP}" xmlns:ib="{IB_NAMESPACE}">'
            f"<s:Body>{body}</s:Body></s:Envelope>").encode()


def haal(after: int, max_count: int) -> bytes:
    return envelope(f"<ib:HaalSignalen><ib:VanafVolgnummer>{after}</ib:VanafVolgnummer>"
                    f"<ib:MaxAantal>{max_count}</ib:MaxAantal></ib:HaalSignalen>")


@pytest.fixture
def ib():
    sim = IbSimulator([record(n) for n in range(1, 8)])
    with SimServer(sim) as server:
        yield sim, server


def post(sim: IbSimulator, data: bytes, action: str = ACTIONS["HaalSignalen"]) -> httpx.Response:
    return httpx.post(sim.endpoint, content=data,
                      headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'})


def payload_of(response: httpx.Response) -> etree._Element:
    env = parse_xml(response.content, max_bytes=10**6)
    return env.find(f"{{{SOAP}}}Body")[0]


def faultcode(response: httpx.Response) -> str:
    assert response.status_code == 500
    return payload_of(response).findtext("faultcode")


def test_serves_wsdl_with_its_own_address_and_the_xsd(ib):
    sim, server = ib
    wsdl = httpx.get(sim.wsdl_url)
    assert wsdl.status_code == 200
    doc = parse_xml(wsdl.content, max_bytes=10**6)
    address = doc.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address.get("location") == f"{server.url}/ib/signalen"
    xsd = httpx.get(f"{server.url}/ib/ib-signalen.xsd")
    assert xsd.status_code == 200
    etree.XMLSchema(parse_xml(xsd.content, max_bytes=10**6))  # a usable schema


def test_zeep_can_load_the_served_wsdl(ib):
    import zeep

    sim, _ = ib
    client = zeep.Client(sim.wsdl_url)
    assert set(client.service._operations) == {"HaalSignalen", "BevestigSignalen"}


def test_pages_are_valid_against_the_xsd_and_follow_the_cursor(ib):
    sim, _ = ib
    first = payload_of(post(sim, haal(0, 3)))
    assert_valid(first)
    assert [int(s.findtext(ib_tag("Volgnummer"))) for s in first.iter(ib_tag("Signaal"))] == [1, 2, 3]
    assert first.findtext(ib_tag("HoogsteVolgnummer")) == "7"
    assert first.findtext(ib_tag("Meer")) == "true"
    last = payload_of(post(sim, haal(5, 10)))
    assert_valid(last)
    assert [s.findtext(ib_tag("Volgnummer")) for s in last.iter(ib_tag("Signaal"))] == ["6", "7"]
    assert last.findtext(ib_tag("Meer")) == "false"
    empty = payload_of(post(sim, haal(7, 10)))
    assert_valid(empty)
    assert empty.find(ib_tag("Signaal")) is None
    assert [op.params for op in sim.operations] == [
        {"VanafVolgnummer": 0, "MaxAantal": 3}, {"VanafVolgnummer": 5, "MaxAantal": 10},
        {"VanafVolgnummer": 7, "MaxAantal": 10}]


def test_acknowledge_keeps_the_highest_and_refuses_beyond_the_feed(ib):
    sim, _ = ib
    ack = lambda n: post(sim, envelope(  # noqa: E731
        f"<ib:BevestigSignalen><ib:TotEnMetVolgnummer>{n}</ib:TotEnMetVolgnummer></ib:BevestigSignalen>"),
        ACTIONS["BevestigSignalen"])
    response = payload_of(ack(5))
    assert_valid(response)
    assert response.findtext(ib_tag("BevestigdTotEnMet")) == "5"
    assert payload_of(ack(3)).findtext(ib_tag("BevestigdTotEnMet")) == "5"
    assert faultcode(ack(99)) == "soap:Client"
    assert sim.acknowledged_upto == 5


@pytest.mark.parametrize("data", [
    b"not xml",
    b'<!DOCTYPE x [<!ENTITY e "e">]><x/>',
    haal(0, 0),      # MaxAantal below 1
    haal(0, 1001),   # above 1000
    haal(-1, 10),
    envelope("<ib:Onbekend/>"),
    envelope(""),
    b'<?xml version="1.0" encoding="ISO-8859-1"?><x/>',
])
def test_bad_requests_get_a_soap_client_fault(ib, data):
    sim, _ = ib
    assert faultcode(post(sim, data)) == "soap:Client"
    assert sim.operations == []


def test_wrong_soap_version_and_content_type(ib):
    sim, _ = ib
    soap12 = b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>'
    assert faultcode(post(sim, soap12)) == "soap:VersionMismatch"
    r = httpx.post(sim.endpoint, content=haal(0, 1), headers={"Content-Type": "application/json"})
    assert faultcode(r) == "soap:Client"
    assert httpx.get(sim.endpoint).status_code == 405
    assert httpx.post(sim.endpoint.replace("/ib/signalen", "/nope"), content=haal(0, 1)).status_code == 404


def test_forced_soap_fault(ib):
    sim, server = ib
    server.set_faults(soap_fault_next=1)
    fault = post(sim, haal(0, 1))
    assert faultcode(fault) == "soap:Server"
    assert_valid_fault = parse_xml(fault.content, max_bytes=10**6)  # well-formed SOAP 1.1 fault
    assert assert_valid_fault.find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault/faultstring") is not None
    assert post(sim, haal(0, 1)).status_code == 200
    server.set_faults(soap_fault_next=1, soap_fault_code="Client")
    assert faultcode(post(sim, haal(0, 1))) == "soap:Client"
    with pytest.raises(ValueError):
        server.set_faults(soap_fault_code="Other")


def test_duplicate_delivery_and_sequence_gap(ib):
    sim, server = ib
    server.set_faults(duplicate_next=1)
    page = payload_of(post(sim, haal(0, 4)))
    assert [s.findtext(ib_tag("Volgnummer")) for s in page.iter(ib_tag("Signaal"))] == ["1", "1", "2", "3"]
    assert_valid(page)
    server.set_faults(gap_next=1)
    page = payload_of(post(sim, haal(0, 4)))
    assert [s.findtext(ib_tag("Volgnummer")) for s in page.iter(ib_tag("Signaal"))] == ["1", "3", "4"]
    page = payload_of(post(sim, haal(0, 4)))  # knobs are used up
    assert [s.findtext(ib_tag("Volgnummer")) for s in page.iter(ib_tag("Signaal"))] == ["1", "2", "3", "4"]


def test_records_are_served_unvalidated_and_numbers_can_be_added_at_runtime(ib):
    sim, server = ib
    bad = record(8, bsn="123456789", eerste_ziektedag="2027-02-30")
    sim.add_signals([bad, {k: v for k, v in record(0).items() if k != "volgnummer"}])
    r = httpx.post(f"{server.url}/__signals", json=[record(20)])
    assert r.json() == {"highest": 20}
    page = payload_of(post(sim, haal(7, 10)))
    signals = [signal_element_to_fields(s) for s in page.iter(ib_tag("Signaal"))]
    assert [s["volgnummer"] for s in signals] == ["8", "9", "20"]
    assert signals[0]["bsn"] == "123456789" and signals[0]["eerste_ziektedag"] == "2027-02-30"
    with pytest.raises(ValueError, match="already"):
        sim.add_signals([record(8)])
    with pytest.raises(ValueError, match="integer volgnummer"):
        sim.add_signals([{**record(1), "volgnummer": "abc"}])
    assert httpx.post(f"{server.url}/__signals", json=[record(21), record(20)]).status_code == 400
    assert sim.highest == 20  # all or nothing
    assert httpx.get(f"{server.url}/__ib").json()["highest"] == 20


def test_load_signal_records_reads_json_scenario_and_jsonl(tmp_path):
    recs = [record(1), record(2)]
    (tmp_path / "a.json").write_text(json.dumps(recs))
    (tmp_path / "b.json").write_text(json.dumps({"vandaag": "2027-02-01", "signalen": recs}, indent=2))
    (tmp_path / "c.jsonl").write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    for name in ("a.json", "b.json", "c.jsonl"):
        assert load_signal_records(tmp_path / name) == recs
    (tmp_path / "d.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="expected"):
        load_signal_records(tmp_path / "d.json")


def test_command_line_prints_its_url_first(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps([record(1), record(2, bsn="123456789")]))
    proc = subprocess.Popen([sys.executable, "-m", "simulators", "ib", "--seed", str(seed), "--port", "0"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        page = payload_of(httpx.post(f"{url}/ib/signalen", content=haal(0, 10),
                                     headers={"Content-Type": "text/xml"}, timeout=5))
        assert len(page.findall(ib_tag("Signaal"))) == 2
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
