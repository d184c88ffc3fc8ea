"""The IB connector against the real IB simulator: HTTP, HTTPS with mutual TLS, and Digikoppeling 2W-be-S."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from connectors.inlichtingenbureau import (
    IbClient,
    IbProtocolError,
    IbRejected,
    IbSecurityError,
    IbSettings,
    IbUnavailable,
    RawSignal,
)
from connectors.digikoppeling import DigikoppelingSettings, read_addressing
from ib_helpers import assert_valid, header_counts, other_pki, pki, record, wait_for  # noqa: F401 - fixtures
from mappings.ib_signal import signal_element_to_fields
from mappings.safe_xml import parse_xml
from simulators.certs import server_ssl_context
from simulators.harness import SimServer
from simulators.ib import IbSimulator, SimSecurity

RECORDS = [record(n) for n in range(1, 26)]
REPO = Path(__file__).resolve().parents[1]
FAST = {"retry_backoff_seconds": 0.001, "retry_max_backoff_seconds": 0.01, "timeout_seconds": 2.0}


@pytest.fixture
def ib():
    sim = IbSimulator(RECORDS)
    with SimServer(sim, seed=1) as server:
        yield sim, server


def make_client(sim: IbSimulator, **overrides) -> IbClient:
    return IbClient(IbSettings(endpoint=sim.endpoint, **{**FAST, **overrides}))


def pull_all(client: IbClient, page_size: int = 10) -> tuple[list[RawSignal], int]:
    cursor, seen, pages = 0, [], 0
    while True:
        page = client.fetch_page(cursor, page_size)
        pages += 1
        seen += page.signals
        cursor = max([cursor, *(s.volgnummer for s in page.signals)])
        if not page.more:
            return seen, pages


def check_raw(signals: list[RawSignal], records: list[dict]) -> None:
    assert [s.volgnummer for s in signals] == [r["volgnummer"] for r in records]
    for raw, rec in zip(signals, records):
        element = parse_xml(raw.xml, max_bytes=10**6)
        assert_valid(element)
        assert raw.bericht_id == rec["bericht_id"]
        assert signal_element_to_fields(element) == {k: str(v) for k, v in rec.items()}


def test_pulls_all_pages_each_signal_exactly_once_and_acknowledges(ib):
    sim, server = ib
    with make_client(sim) as client:
        signals, pages = pull_all(client)
        assert pages == 3
        check_raw(signals, RECORDS)
        client.acknowledge(25)
    assert sim.acknowledged_upto == 25
    assert [op.name for op in sim.operations] == ["HaalSignalen"] * 3 + ["BevestigSignalen"]
    assert server.request_count(method="POST") == 4
    assert server.request_count(method="GET") == 0  # the WSDL came from disk


def test_page_reports_highest_available_and_more(ib):
    sim, _ = ib
    with make_client(sim) as client:
        page = client.fetch_page(20, 10)
        assert (len(page.signals), page.highest_available, page.more) == (5, 25, False)
        empty = client.fetch_page(25, 10)
        assert (empty.signals, empty.highest_available, empty.more) == ([], 25, False)


def test_503_is_retried_then_succeeds(ib):
    sim, server = ib
    server.set_faults(status_next=2, status_code=503)
    with make_client(sim, max_attempts=3) as client:
        assert len(client.fetch_page(0, 10).signals) == 10
    assert server.request_count() == 3


def test_persistent_503_gives_up_after_exactly_max_attempts(ib):
    sim, server = ib
    server.set_faults(status_next=100, status_code=503)
    with make_client(sim, max_attempts=4) as client, pytest.raises(IbUnavailable, match="HTTP 503") as info:
        client.fetch_page(0, 10)
    assert server.request_count() == 4
    assert "127.0.0.1" in str(info.value) and "/ib/signalen" not in str(info.value)


def test_soap_server_fault_is_transient(ib):
    sim, server = ib
    server.set_faults(soap_fault_next=1)
    with make_client(sim) as client:
        assert client.fetch_page(0, 5).signals
    assert server.request_count() == 2


def test_soap_client_fault_is_rejected_without_retry(ib):
    sim, server = ib
    server.set_faults(soap_fault_next=1, soap_fault_code="Client")
    with make_client(sim, max_attempts=5) as client, pytest.raises(IbRejected, match="soap:Client"):
        client.fetch_page(0, 10)
    assert server.request_count() == 1


def test_http_404_is_rejected_without_retry(ib):
    sim, server = ib
    settings = IbSettings(endpoint=f"{server.url}/wrong/path", max_attempts=3, **FAST)
    with IbClient(settings) as client, pytest.raises(IbRejected, match="HTTP 404"):
        client.acknowledge(1)
    assert server.request_count() == 1


def test_acknowledging_beyond_the_feed_is_rejected(ib):
    sim, server = ib
    with make_client(sim) as client, pytest.raises(IbRejected):
        client.acknowledge(99)
    assert sim.acknowledged_upto == 0


def test_timeout_is_unavailable_after_max_attempts(ib):
    sim, server = ib
    server.set_faults(hold_next=2, hold_seconds=1.5)
    with make_client(sim, max_attempts=2, timeout_seconds=0.3) as client:
        with pytest.raises(IbUnavailable, match="within 0.3 s"):
            client.fetch_page(0, 10)
    assert [e.fault for e in server.requests] == ["hold", "hold"]
    assert len(sim.operations) == 0


def test_dropped_connection_is_retried(ib):
    sim, server = ib
    server.set_faults(drop_next=1)
    with make_client(sim) as client:
        assert len(client.fetch_page(0, 10).signals) == 10
    assert [e.fault for e in server.requests] == ["drop", None]


def test_persistently_dropped_connection_is_unavailable(ib):
    sim, server = ib
    server.set_faults(drop_next=10)
    with make_client(sim, max_attempts=3) as client, pytest.raises(IbUnavailable, match="dropped the connection"):
        client.fetch_page(0, 10)
    assert server.request_count() == 3


def test_duplicate_delivery_and_gap_are_passed_on(ib):
    sim, server = ib
    with make_client(sim) as client:
        server.set_faults(duplicate_next=1)
        assert [s.volgnummer for s in client.fetch_page(0, 5).signals] == [1, 1, 2, 3, 4]
        server.set_faults(gap_next=1)
        assert [s.volgnummer for s in client.fetch_page(0, 5).signals] == [1, 3, 4, 5]


def test_bad_records_still_arrive_raw_and_stay_out_of_logs_and_reprs(caplog):
    records = [
        record(1),
        record(2, bsn="123456789"),  # fails the 11-proef but is XSD-valid
        record(3, bsn="12AB", eerste_ziektedag="2027-02-30", soort="ONBEKEND"),  # not even XSD-valid
        record(4),
    ]
    sim = IbSimulator(records)
    caplog.set_level(logging.DEBUG)
    with SimServer(sim) as server, make_client(sim) as client:
        server.set_faults(status_next=1)  # make the retry path log too
        page = client.fetch_page(0, 10)
    assert [s.volgnummer for s in page.signals] == [1, 2, 3, 4]
    fields = [signal_element_to_fields(parse_xml(s.xml, max_bytes=10**6)) for s in page.signals]
    assert fields[1]["bsn"] == "123456789"
    assert (fields[2]["bsn"], fields[2]["soort"]) == ("12AB", "ONBEKEND")
    assert "123456789" not in caplog.text and records[0]["bsn"] not in caplog.text
    assert "123456789" not in repr(page)


def test_unreadable_volgnummer_is_none_but_the_signal_is_kept():
    sim = IbSimulator([record(1), {**record(2), "bericht_id": ""}])
    # Bypass the simulator's integer check for the served text: patch one stored element.
    sim._signals[2].find("{urn:vangnet:ib:signalen:v1}Volgnummer").text = "twee"
    with SimServer(sim), make_client(sim) as client:
        page = client.fetch_page(0, 10)
    assert [(s.volgnummer, s.bericht_id) for s in page.signals] == [(1, "IB-00001"), (None, None)]


def test_response_larger_than_the_limit_is_refused(ib):
    sim, server = ib
    with make_client(sim, max_message_bytes=2048) as client, pytest.raises(IbProtocolError, match="over 2048 bytes"):
        client.fetch_page(0, 25)
    assert server.request_count() == 1


def test_invalid_arguments_fail_before_any_request(ib):
    sim, server = ib
    with make_client(sim) as client:
        for after, count in ((-1, 10), (0, 0), (0, 1001)):
            with pytest.raises(ValueError):
                client.fetch_page(after, count)
    assert server.request_count() == 0


def test_settings_validation():
    with pytest.raises(ValueError, match="http"):
        IbSettings(endpoint="ftp://ib.example.nl/x")
    with pytest.raises(ValueError, match="both"):
        IbSettings(endpoint="https://ib.example.nl/x", client_cert_path="/tmp/c.pem")
    assert IbSettings(endpoint="https://ib.example.nl:8443/x?y").endpoint_host == "ib.example.nl"


# -- HTTPS with mutual TLS -----------------------------------------------------------------------

@pytest.fixture
def ib_tls(pki):  # noqa: F811
    sim = IbSimulator(RECORDS)
    with SimServer(sim, tls=server_ssl_context(pki)) as server:
        yield sim, server


def tls_settings(sim: IbSimulator, pki, **overrides) -> IbSettings:  # noqa: F811
    values = {"endpoint": sim.endpoint, "ca_bundle_path": pki.ca_cert, "client_cert_path": pki.client_cert,
              "client_key_path": pki.client_key, **FAST, **overrides}
    return IbSettings(**values)


def test_mutual_tls_pull_and_acknowledge(ib_tls, pki, other_pki, monkeypatch):  # noqa: F811
    sim, server = ib_tls
    # Environment CA overrides must not matter when a bundle is configured.
    monkeypatch.setenv("SSL_CERT_FILE", str(other_pki.ca_cert))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other_pki.ca_cert))
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    assert sim.endpoint.startswith("https://")
    with IbClient(tls_settings(sim, pki)) as client:
        signals, _ = pull_all(client)
        check_raw(signals, RECORDS)
        client.acknowledge(25)
    assert sim.acknowledged_upto == 25


def test_untrusted_server_is_a_security_error_without_retry(ib_tls, pki, other_pki):  # noqa: F811
    sim, server = ib_tls
    with IbClient(tls_settings(sim, pki, ca_bundle_path=other_pki.ca_cert)) as client:
        with pytest.raises(IbSecurityError, match="CERTIFICATE_VERIFY_FAILED"):
            client.fetch_page(0, 10)
    assert server.request_count() == 0


def test_missing_client_certificate_never_reaches_the_service(ib_tls, pki):  # noqa: F811
    sim, server = ib_tls
    settings = tls_settings(sim, pki, client_cert_path=None, client_key_path=None, max_attempts=2)
    with IbClient(settings) as client, pytest.raises((IbSecurityError, IbUnavailable)):
        client.fetch_page(0, 10)
    assert server.request_count() == 0 and sim.operations == []
    assert wait_for(lambda: server.handshake_failures >= 1)


def test_unreadable_tls_files_are_a_security_error(tmp_path, ib_tls, pki):  # noqa: F811
    sim, _ = ib_tls
    with pytest.raises(IbSecurityError, match="client_cert_path"):
        IbClient(tls_settings(sim, pki, client_cert_path=tmp_path / "missing.pem"))


# -- Digikoppeling 2W-be-S (mutual TLS + signed messages) ------------------------------------------

OIN_US, OIN_IB = "00000001001234567000", "00000001009876543000"


@pytest.fixture
def ib_signed(pki):  # noqa: F811
    sim = IbSimulator(RECORDS, security=SimSecurity.from_pki(pki))
    with SimServer(sim, tls=server_ssl_context(pki)) as server:
        yield sim, server


def signed_settings(sim: IbSimulator, pki, *, digikoppeling=None, **overrides) -> IbSettings:  # noqa: F811
    dk = {"profile": "2W-be-S", "own_oin": OIN_US, "receiver_oin": OIN_IB,
          "signing_key_path": pki.client_sign_key, "signing_cert_path": pki.client_sign_cert,
          "trusted_sender_cert_path": pki.server_sign_cert, **(digikoppeling or {})}
    return tls_settings(sim, pki, digikoppeling=dk, **overrides)


def test_2w_be_s_pulls_all_pages_signed_each_signal_exactly_once(ib_signed, pki):  # noqa: F811
    sim, server = ib_signed
    with IbClient(signed_settings(sim, pki)) as client:
        signals, pages = pull_all(client, page_size=7)
        assert pages == 4
        check_raw(signals, RECORDS)
        client.acknowledge(25)
    assert sim.acknowledged_upto == 25
    assert [op.name for op in sim.operations] == ["HaalSignalen"] * 4 + ["BevestigSignalen"]
    assert server.request_count(method="POST") == 5
    message_ids = set()
    for raw in sim.received_envelopes:  # what actually went over the wire
        assert header_counts(raw) == {"Security": 1, "wsa:To": 1, "wsa:Action": 1, "wsa:MessageID": 1,
                                      "wsa:ReplyTo": 1, "wsa:From": 1}
        wsa = read_addressing(parse_xml(raw, max_bytes=10**6))
        assert wsa.to == f"{sim.endpoint}?OIN={OIN_IB}" and wsa.from_address == f"http://www.logius.nl/oin/{OIN_US}"
        message_ids.add(wsa.message_id)
    assert len(message_ids) == 5


def test_2w_be_requests_carry_each_wsa_header_once(ib):
    sim, _ = ib
    with make_client(sim) as client:
        client.fetch_page(0, 5)
    assert header_counts(sim.received_envelopes[-1]) == {"wsa:To": 1, "wsa:Action": 1, "wsa:MessageID": 1,
                                                         "wsa:ReplyTo": 1}


@pytest.mark.parametrize(("knob", "message"), [
    ("tamper_next", "does not verify"),
    ("unsigned_next", "unsigned"),
    ("expired_next", "expired"),
    ("wrong_cert_next", "not the configured sender certificate"),
])
def test_bad_signed_reply_is_a_security_error_after_one_request(ib_signed, pki, knob, message):  # noqa: F811
    sim, server = ib_signed
    server.set_faults(**{knob: 1})
    with IbClient(signed_settings(sim, pki, max_attempts=3)) as client:
        with pytest.raises(IbSecurityError, match=message) as info:
            client.fetch_page(0, 10)
        assert server.request_count() == 1  # not retried
        assert record(1)["bsn"] not in str(info.value)
        assert len(client.fetch_page(0, 10).signals) == 10  # the knob is spent: the next reply is fine


class _Replaying:
    """Wraps the simulator; answers the second SOAP request with the first (validly signed) reply."""

    def __init__(self, sim: IbSimulator) -> None:
        self.sim, self.first = sim, None

    def bind(self, base_url: str) -> None:
        self.sim.bind(base_url)

    def __call__(self, method, path, headers, body):
        status, out_headers, out_body = self.sim(method, path, headers, body)
        if method == "POST" and self.first is None:
            self.first = (status, out_headers, out_body)
        elif method == "POST":
            return self.first
        return status, out_headers, out_body


def test_replayed_signed_reply_is_a_security_error(pki):  # noqa: F811
    sim = IbSimulator(RECORDS, security=SimSecurity.from_pki(pki))
    with SimServer(_Replaying(sim), tls=server_ssl_context(pki)) as server:
        with IbClient(signed_settings(sim, pki, max_attempts=3)) as client:
            client.fetch_page(0, 10)
            with pytest.raises(IbSecurityError, match="confirm the signature of our request"):
                client.fetch_page(0, 10)
        assert server.request_count() == 2


def test_replayed_reply_without_signing_fails_on_relates_to(ib):
    sim, server = ib
    replay = _Replaying(sim)
    server.app = replay
    with make_client(sim, max_attempts=3) as client:
        client.fetch_page(0, 10)
        with pytest.raises(IbSecurityError, match="RelatesTo does not match"):
            client.fetch_page(0, 10)
    assert server.request_count() == 2


def test_unsigned_request_gets_a_client_fault(ib_signed, pki):  # noqa: F811
    sim, server = ib_signed
    with IbClient(tls_settings(sim, pki, max_attempts=3)) as client:  # 2W-be: no signature
        with pytest.raises(IbRejected, match="signature required"):
            client.fetch_page(0, 10)
    assert server.request_count() == 1 and sim.operations == []


def test_request_signed_with_an_untrusted_certificate_gets_a_client_fault(ib_signed, pki):  # noqa: F811
    sim, server = ib_signed
    wrong = {"signing_key_path": pki.untrusted_sign_key, "signing_cert_path": pki.untrusted_sign_cert}
    with IbClient(signed_settings(sim, pki, digikoppeling=wrong, max_attempts=3)) as client:
        with pytest.raises(IbRejected, match="signature invalid"):
            client.fetch_page(0, 10)
    assert server.request_count() == 1 and sim.operations == []


def test_2w_be_s_settings_are_validated(pki, tmp_path):  # noqa: F811
    with pytest.raises(ValueError, match="signing_key_path"):
        IbSettings(endpoint="https://ib.example.nl/x", digikoppeling={"profile": "2W-be-S"})
    assert not IbSettings(endpoint="https://ib.example.nl/x").digikoppeling.signed
    settings = IbSettings(endpoint="https://ib.example.nl/x", digikoppeling={
        "profile": "2W-be-S", "signing_key_path": tmp_path / "missing-key.pem",
        "signing_cert_path": pki.client_sign_cert, "trusted_sender_cert_path": pki.server_sign_cert})
    with pytest.raises(IbSecurityError, match="missing-key.pem"):
        IbClient(settings)


def test_wsse_is_refused_on_2w_be_s(ib_signed, pki):  # noqa: F811
    sim, _ = ib_signed
    with pytest.raises(ValueError, match="wsse"):
        IbClient(signed_settings(sim, pki), wsse=object())


def test_simulator_cli_serves_mutual_tls_and_2w_be_s(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(RECORDS[:3]), encoding="utf-8")
    tls_dir = tmp_path / "tls"
    proc = subprocess.Popen([sys.executable, "-m", "simulators", "ib", "--seed", str(seed), "--tls-dir", str(tls_dir)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("https://127.0.0.1:"), proc.stderr.read() if not url else url
        settings = IbSettings(
            endpoint=f"{url}/ib/signalen", ca_bundle_path=tls_dir / "ca.pem",
            client_cert_path=tls_dir / "client.pem", client_key_path=tls_dir / "client-key.pem",
            digikoppeling={"profile": "2W-be-S", "signing_key_path": tls_dir / "client-sign-key.pem",
                           "signing_cert_path": tls_dir / "client-sign.pem",
                           "trusted_sender_cert_path": tls_dir / "server-sign.pem"}, **FAST)
        with IbClient(settings) as client:
            assert [s.volgnummer for s in client.fetch_page(0, 10).signals] == [1, 2, 3]
        unsigned = settings.model_copy(update={"digikoppeling": DigikoppelingSettings()})
        with IbClient(unsigned) as client, pytest.raises(IbRejected, match="signature required"):
            client.fetch_page(0, 10)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
