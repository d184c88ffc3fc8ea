"""The Suwinet connector against the Suwinet simulator: mutual TLS + 2W-be-S, NietsGevonden, FWI, retries, privacy."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from datetime import date
from decimal import Decimal

import httpx
import pytest
from lxml import etree

from connectors.suwinet import (
    LksPeriode, SuwinetClient, SuwinetConfigError, SuwinetProtocolError, SuwinetRejected, SuwinetSecurityError,
    SuwinetSettings, SuwinetUnavailable, Uitkeringsverhouding, WvInfo,
)
from ib_helpers import header_counts, pki, valid_bsn  # noqa: F401 - pki is a fixture
from mappings.safe_xml import parse_xml
from mappings.suwinet import FwiMelding
from schemas.suwinet import GSD_REINTEGRATIE, UWV_WERKNEMERSVERZEKERINGEN
from simulators.certs import server_ssl_context
from simulators.harness import SimServer
from simulators.suwinet import SimSecurity, SuwinetSimulator
from test_suwinet_support import (  # noqa: F401 - suwinet is a fixture
    BSN, BSN_PARTIAL, BSN_UNKNOWN, FAST, LKS, OIN_BKWI, REPO, WV, plain_settings, signed_settings, suwinet,
)

LKS_0518 = LksPeriode(begin=date(2025, 5, 1), einde=date(2027, 1, 15), type_code="LK",
                      loonwaarde_pct=Decimal("55.00"), is_lks=True, gemeentecode="0518")
OTHER_0363 = LksPeriode(begin=date(2021, 3, 1), einde=date(2022, 2, 28), type_code="XX",
                        loonwaarde_pct=Decimal("42.50"), is_lks=False, gemeentecode="0363")
ZW = Uitkeringsverhouding(begin=date(2027, 1, 4), einde=date(2027, 3, 1), reden_einde="Herstel",
                          max_duur_einde=date(2029, 1, 3), wet_code="ZW", is_zw=True)


@pytest.fixture
def signed(pki):  # noqa: F811
    sim = SuwinetSimulator(LKS, WV, security=SimSecurity.from_pki(pki))
    with SimServer(sim, tls=server_ssl_context(pki)) as server:
        yield sim, server


# -- the main path: mutual TLS + Digikoppeling 2W-be-S ---------------------------------------------------
def test_both_operations_over_mutual_tls_and_2w_be_s(signed, pki):  # noqa: F811
    sim, server = signed
    assert sim.reintegratie_endpoint.startswith("https://")
    with SuwinetClient(signed_settings(sim, pki)) as client:
        assert client.reintegratie_info(BSN) == [LKS_0518, OTHER_0363]
        assert client.werknemersverzekeringen(BSN) == WvInfo(eerste_ao_dag=date(2027, 1, 4),
                                                             uitkeringsverhoudingen=[ZW])
        assert client.reintegratie_info(BSN_UNKNOWN) == []  # NietsGevonden
        assert client.werknemersverzekeringen(BSN_UNKNOWN) is None
    assert sim.operation_counts() == {"GSDReintegratieInfo": 2, "UWVPersoonsWvInfo": 2}
    assert server.request_count(method="POST") == 4 and server.request_count(method="GET") == 0  # WSDL from disk
    for raw in sim.received_envelopes:
        assert header_counts(raw) == {"Security": 1, "wsa:To": 1, "wsa:Action": 1, "wsa:MessageID": 1,
                                      "wsa:ReplyTo": 1, "wsa:From": 1}
        to = parse_xml(raw, max_bytes=10**6).findtext(".//{http://www.w3.org/2005/08/addressing}To")
        assert to.endswith(f"-v0200?OIN={OIN_BKWI}")


def test_partial_dates_arrive_widened_and_flagged(signed, pki):  # noqa: F811
    sim, _ = signed
    with SuwinetClient(signed_settings(sim, pki)) as client:
        (period,) = client.reintegratie_info(BSN_PARTIAL)
        info = client.werknemersverzekeringen(BSN_PARTIAL)
    assert (period.begin, period.einde, period.dates_approximate, period.loonwaarde_pct) == (
        date(2024, 3, 1), date(2025, 12, 31), True, None)
    assert (info.eerste_ao_dag, info.dates_approximate) == (date(2027, 1, 1), True)
    assert info.uitkeringsverhoudingen[0].einde == date(2027, 3, 31)


@pytest.mark.parametrize("knob", ["tamper_next", "unsigned_next", "expired_next", "wrong_cert_next"])
def test_bad_signed_reply_is_a_security_error_without_retry(signed, pki, knob):  # noqa: F811
    sim, server = signed
    server.set_faults(**{knob: 1})
    with SuwinetClient(signed_settings(sim, pki, max_attempts=3)) as client:
        with pytest.raises(SuwinetSecurityError, match="refused") as info:
            client.werknemersverzekeringen(BSN)
        assert server.request_count() == 1 and BSN not in str(info.value)
        assert client.werknemersverzekeringen(BSN) is not None  # the knob is spent


def test_unsigned_request_is_refused_by_a_2w_be_s_service(signed, pki):  # noqa: F811
    sim, server = signed
    settings = signed_settings(sim, pki, digikoppeling={})  # TLS only, profile 2W-be
    with SuwinetClient(settings) as client, pytest.raises(SuwinetRejected, match="signature required"):
        client.reintegratie_info(BSN)
    assert server.request_count() == 1 and sim.operations == []


def test_untrusted_server_is_a_security_error(signed, pki, tmp_path):  # noqa: F811
    from simulators.certs import generate_test_pki

    other = generate_test_pki(tmp_path / "other")
    sim, server = signed
    with SuwinetClient(signed_settings(sim, pki, ca_bundle_path=other.ca_cert)) as client:
        with pytest.raises(SuwinetSecurityError, match="CERTIFICATE_VERIFY_FAILED"):
            client.reintegratie_info(BSN)
    assert server.request_count() == 0


# -- FWI and faults -----------------------------------------------------------------------------------
def test_fwi_error_is_rejected_with_its_code_and_not_retried(suwinet):  # noqa: F811
    sim, server = suwinet
    server.set_faults(fwi_next=1, fwi_code="GSD-042", fwi_tekst=f"Geen toegang tot dossier {BSN}")
    with SuwinetClient(plain_settings(sim, max_attempts=3)) as client:
        with pytest.raises(SuwinetRejected, match="GSD-042") as info:
            client.reintegratie_info(BSN)
    assert server.request_count() == 1
    assert info.value.fouten == (FwiMelding("Fout", "GSD-042", "Geen toegang tot dossier <nummer>",
                                            "cn=suwinet-simulator,o=vangnet"),)
    assert BSN not in str(info.value)


def test_fwi_codes_configured_as_transient_are_retried(suwinet):  # noqa: F811
    sim, server = suwinet
    server.set_faults(fwi_next=2, fwi_code="BRON-NB")
    with SuwinetClient(plain_settings(sim, max_attempts=3, fwi_retry_codes={"BRON-NB"})) as client:
        assert client.werknemersverzekeringen(BSN).eerste_ao_dag == date(2027, 1, 4)
        assert server.request_count() == 3
        server.set_faults(fwi_next=5)
        with pytest.raises(SuwinetUnavailable, match="BRON-NB"):
            client.werknemersverzekeringen(BSN)
    assert server.request_count() == 6


def test_aanvraag_niet_ok_fault_carries_the_fwi_fout(suwinet):  # noqa: F811
    sim, server = suwinet
    server.set_faults(fout_fault_next=1, fout_fault_code="Client", fwi_code="AUT-001")
    with SuwinetClient(plain_settings(sim, max_attempts=3)) as client:
        with pytest.raises(SuwinetRejected, match="AUT-001") as info:
            client.werknemersverzekeringen(BSN)
        assert server.request_count() == 1 and info.value.fouten[0].code == "AUT-001"
        server.set_faults(fout_fault_next=1, fout_fault_code="Server")
        assert client.werknemersverzekeringen(BSN) is not None  # soap:Server: retried
    assert server.request_count() == 3


def test_data_with_a_warning_is_used_and_the_code_logged(suwinet, caplog):  # noqa: F811
    sim, server = suwinet
    server.set_faults(warning_next=1)
    caplog.set_level(logging.INFO, logger="connectors.suwinet")
    with SuwinetClient(plain_settings(sim)) as client:
        assert client.reintegratie_info(BSN) == [LKS_0518, OTHER_0363]
    assert "Waarschuwing SIM-W-001" in caplog.text


def test_data_with_an_fwi_error_is_not_used(suwinet):  # noqa: F811
    sim, _ = suwinet
    answer = etree.fromstring(
        f'<s:GSDReintegratieInfoResponse xmlns:s="{GSD_REINTEGRATIE.namespace}" '
        'xmlns:fwi="http://bkwi.nl/SuwiML/FWI/v0205"><ClientSuwi><Burgerservicenr>' + BSN + "</Burgerservicenr>"
        "</ClientSuwi><fwi:FWI><Fout><Code>DEEL-1</Code><Tekst>Bron niet bereikbaar</Tekst><Bron><DN>cn=x</DN>"
        "</Bron></Fout></fwi:FWI></s:GSDReintegratieInfoResponse>")
    sim.queue_payload(answer)
    with SuwinetClient(plain_settings(sim)) as client, pytest.raises(SuwinetRejected, match="incomplete"):
        client.reintegratie_info(BSN)


def test_answer_about_someone_else_is_not_used(suwinet):  # noqa: F811
    sim, _ = suwinet
    other = valid_bsn(777)
    sim.queue_payload(etree.fromstring(
        f'<s:UWVPersoonsWvInfoResponse xmlns:s="{UWV_WERKNEMERSVERZEKERINGEN.namespace}"><ClientSuwi>'
        f"<Burgerservicenr>{other}</Burgerservicenr></ClientSuwi></s:UWVPersoonsWvInfoResponse>"))
    with SuwinetClient(plain_settings(sim)) as client:
        with pytest.raises(SuwinetProtocolError, match="someone else") as info:
            client.werknemersverzekeringen(BSN)
    assert other not in str(info.value) and BSN not in str(info.value)


def test_503_is_retried_then_succeeds(suwinet):  # noqa: F811
    sim, server = suwinet
    server.set_faults(status_next=2, status_code=503)
    with SuwinetClient(plain_settings(sim, max_attempts=3)) as client:
        assert client.reintegratie_info(BSN)[0] == LKS_0518
    assert server.request_count() == 3


def test_persistent_503_gives_up_after_exactly_max_attempts(suwinet):  # noqa: F811
    sim, server = suwinet
    server.set_faults(status_next=100, status_code=503)
    with SuwinetClient(plain_settings(sim, max_attempts=4)) as client:
        with pytest.raises(SuwinetUnavailable, match="HTTP 503") as info:
            client.werknemersverzekeringen(BSN)
    assert server.request_count() == 4 and "127.0.0.1" in str(info.value)


def test_soap_client_fault_is_rejected_without_retry(suwinet):  # noqa: F811
    sim, server = suwinet
    server.set_faults(soap_fault_next=1, soap_fault_code="Client")
    with SuwinetClient(plain_settings(sim, max_attempts=5)) as client:
        with pytest.raises(SuwinetRejected, match="soap:Client"):
            client.reintegratie_info(BSN)
    assert server.request_count() == 1


def test_timeout_and_dropped_connection_are_transient(suwinet):  # noqa: F811
    sim, server = suwinet
    server.set_faults(hold_next=1, hold_seconds=1.0, drop_next=1)
    with SuwinetClient(plain_settings(sim, max_attempts=3, timeout_seconds=0.3)) as client:
        assert client.werknemersverzekeringen(BSN) is not None
    assert [e.fault for e in server.requests] == ["drop", "hold", None]


def test_wrong_path_is_rejected_without_retry(suwinet):  # noqa: F811
    sim, server = suwinet
    settings = plain_settings(sim, reintegratie_endpoint=f"{server.url}/wrong", max_attempts=3)
    with SuwinetClient(settings) as client, pytest.raises(SuwinetRejected, match="HTTP 404"):
        client.reintegratie_info(BSN)
    assert server.request_count() == 1


# -- configuration ---------------------------------------------------------------------------------------
def test_configured_code_lists_decide_is_lks_and_is_zw(suwinet):  # noqa: F811
    sim, _ = suwinet
    settings = plain_settings(sim, lks_type_codes={"XX"}, zw_wet_codes={"WAZO"})
    with SuwinetClient(settings) as client:
        assert [p.is_lks for p in client.reintegratie_info(BSN)] == [False, True]
        assert [u.is_zw for u in client.werknemersverzekeringen(BSN).uitkeringsverhoudingen] == [False]
    with SuwinetClient(plain_settings(sim, percentage_decimals=3)) as client:
        assert client.reintegratie_info(BSN)[0].loonwaarde_pct == Decimal("5.500")


def test_settings_are_validated_and_defaults_are_the_documented_assumptions():
    defaults = SuwinetSettings(reintegratie_endpoint="https://broker.tst.suwi.net/x")
    assert (defaults.lks_type_codes, defaults.zw_wet_codes, defaults.percentage_decimals) == (
        frozenset({"LK"}), frozenset({"ZW"}), 2)
    assert defaults.fwi_retry_codes == frozenset() and not defaults.digikoppeling.signed
    for kwargs, message in (({}, "reintegratie_endpoint and/or"),
                            ({"reintegratie_endpoint": "ftp://x/y"}, "http"),
                            ({"reintegratie_endpoint": "https://u:p@x/y"}, "credentials"),
                            ({"reintegratie_endpoint": "https://x/y", "lks_type_codes": {"LKS"}}, "2 characters"),
                            ({"reintegratie_endpoint": "https://x/y", "zw_wet_codes": {"Z1"}}, "non-digit"),
                            ({"reintegratie_endpoint": "https://x/y", "client_cert_path": "/c.pem"}, "both")):
        with pytest.raises(ValueError, match=message):
            SuwinetSettings(**kwargs)


def test_switched_off_service_is_a_config_error(suwinet):  # noqa: F811
    sim, server = suwinet
    with SuwinetClient(SuwinetSettings(reintegratie_endpoint=sim.reintegratie_endpoint, **FAST)) as client:
        with pytest.raises(SuwinetConfigError, match="UWVDossierWerknemersverzekeringenGSD is not configured"):
            client.werknemersverzekeringen(BSN)
    assert server.request_count() == 0


def test_unusable_signing_key_fails_at_start(pki, tmp_path):  # noqa: F811
    settings = SuwinetSettings(reintegratie_endpoint="https://x.example/y", digikoppeling={
        "profile": "2W-be-S", "signing_key_path": tmp_path / "missing-key.pem",
        "signing_cert_path": pki.client_sign_cert, "trusted_sender_cert_path": pki.server_sign_cert})
    with pytest.raises(SuwinetSecurityError, match="missing-key.pem"):
        SuwinetClient(settings)


# -- privacy -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["12345678", "12345678X", "123456789", " 999990019"])
def test_invalid_bsn_is_never_sent_nor_echoed(suwinet, bad):  # noqa: F811
    sim, server = suwinet
    with SuwinetClient(plain_settings(sim)) as client, pytest.raises(SuwinetRejected, match="not sent") as info:
        client.reintegratie_info(bad)
    assert server.request_count() == 0 and bad.strip() not in str(info.value)


def test_bsn_never_in_logs_or_errors(suwinet, caplog):  # noqa: F811
    sim, server = suwinet
    caplog.set_level(logging.DEBUG)  # every logger: ours, zeep, httpx, httpcore, the simulator harness
    errors = []
    with SuwinetClient(plain_settings(sim, max_attempts=2, fwi_retry_codes={"R"})) as client:
        client.reintegratie_info(BSN)
        client.werknemersverzekeringen(BSN_PARTIAL)
        server.set_faults(status_next=1, warning_next=1)
        client.werknemersverzekeringen(BSN)
        for knobs in ({"fwi_next": 2, "fwi_code": "R", "fwi_tekst": f"bsn {BSN} onbekend"},
                      {"fout_fault_next": 1, "fwi_code": "X", "fwi_tekst": f"dossier {BSN} geblokkeerd"},
                      {"soap_fault_next": 2, "soap_fault_code": "Server"}):
            server.set_faults(**knobs)
            with pytest.raises((SuwinetRejected, SuwinetUnavailable)) as info:
                client.reintegratie_info(BSN)
            errors.append(info.value)
    assert len(caplog.records) > 5  # the check below saw real log output
    for bsn in (BSN, BSN_PARTIAL):
        assert bsn not in caplog.text
        for error in errors:
            assert bsn not in str(error) and bsn not in repr(error.fouten)


# -- runtime data and the CLI -------------------------------------------------------------------------------
def test_first_sick_day_changes_between_polls(suwinet):  # noqa: F811
    sim, server = suwinet
    with SuwinetClient(plain_settings(sim)) as client:
        assert client.werknemersverzekeringen(BSN).eerste_ao_dag == date(2027, 1, 4)
        sim.update_wv(BSN, eerste_ao_dag="2026-12-14")
        info = client.werknemersverzekeringen(BSN)
        assert info.eerste_ao_dag == date(2026, 12, 14) and info.uitkeringsverhoudingen[0].reden_einde == "Herstel"
        response = httpx.post(f"{server.url}/__suwinet/wv", json={BSN_UNKNOWN: {"eerste_ao_dag": "20270200"}})
        assert response.status_code == 200 and BSN_UNKNOWN not in response.text
        info = client.werknemersverzekeringen(BSN_UNKNOWN)
        assert (info.eerste_ao_dag, info.dates_approximate) == (date(2027, 2, 1), True)
        sim.remove_wv(BSN)
        assert client.werknemersverzekeringen(BSN) is None
        sim.add_lks([{"bsn": BSN_UNKNOWN, "begin": "2026-01-01", "gemeentecode": "0599", "loonwaarde_pct": 30}])
        assert client.reintegratie_info(BSN_UNKNOWN)[0].gemeentecode == "0599"


def test_wsdl_and_schemas_are_served_with_this_servers_address(suwinet):  # noqa: F811
    sim, server = suwinet
    for endpoint, service in ((sim.reintegratie_endpoint, GSD_REINTEGRATIE),
                              (sim.werknemersverzekeringen_endpoint, UWV_WERKNEMERSVERZEKERINGEN)):
        wsdl = etree.fromstring(httpx.get(f"{endpoint}?wsdl").content)
        assert wsdl.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address").get("location") == endpoint
        xsd = httpx.get(endpoint.rsplit("/", 1)[0] + "/" + service.xsd_path.name)
        assert xsd.status_code == 200 and xsd.content == service.xsd_path.read_bytes()
    assert httpx.get(f"{server.url}/elders").status_code == 404 and sim.operations == []


def test_bad_seed_data_is_refused_on_load():
    for record, message in (({"bsn": BSN, "begin": "2027-02-30", "gemeentecode": "0518"}, "not a real date"),
                            ({"bsn": BSN, "begin": "2027-01-01"}, "gemeentecode"),
                            ({"bsn": BSN, "begin": "2027-01-01", "gemeentecode": "0518", "loonwaarde_pct": 1000},
                             "5 digits")):
        with pytest.raises(ValueError, match=message):
            SuwinetSimulator([record])
    with pytest.raises(ValueError, match="unknown suwinet_wv field"):
        SuwinetSimulator(wv={BSN: {"eerste_ziektedag": "2027-01-01"}})


def test_shipped_seed_loads_and_answers():
    from simulators.suwinet import load_suwinet_seed

    lks, wv = load_suwinet_seed(REPO / "simulators" / "data" / "suwinet.json")
    sim = SuwinetSimulator(lks, wv)
    with SimServer(sim), SuwinetClient(plain_settings(sim)) as client:
        assert [p.is_lks for p in client.reintegratie_info("999990020")] == [True, False]
        assert client.reintegratie_info("999990056") == []
        assert client.werknemersverzekeringen("999990032").zw_uitkeringen[0].reden_einde == "Herstel"


def test_simulator_cli_serves_both_services_over_mutual_tls_and_2w_be_s(tmp_path):
    seed = tmp_path / "scenario.json"
    seed.write_text(json.dumps({"vandaag": "2027-02-01", "lks": LKS, "suwinet_wv": WV, "signalen": []}),
                    encoding="utf-8")
    tls = tmp_path / "tls"
    proc = subprocess.Popen([sys.executable, "-m", "simulators", "suwinet", "--seed", str(seed), "--tls-dir", str(tls)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("https://127.0.0.1:"), proc.stderr.read() if not url else url
        settings = SuwinetSettings(
            reintegratie_endpoint=f"{url}/suwibroker/soap/GSDDossierReintegratie-v0200",
            werknemersverzekeringen_endpoint=f"{url}/suwibroker/soap/UWVDossierWerknemersverzekeringenGSD-v0200",
            ca_bundle_path=tls / "ca.pem", client_cert_path=tls / "client.pem", client_key_path=tls / "client-key.pem",
            digikoppeling={"profile": "2W-be-S", "signing_key_path": tls / "client-sign-key.pem",
                           "signing_cert_path": tls / "client-sign.pem",
                           "trusted_sender_cert_path": tls / "server-sign.pem"}, **FAST)
        with SuwinetClient(settings) as client:
            assert client.reintegratie_info(BSN) == [LKS_0518, OTHER_0363]
            assert client.werknemersverzekeringen(BSN).eerste_ao_dag == date(2027, 1, 4)
            assert client.werknemersverzekeringen(BSN_UNKNOWN) is None
    finally:
        proc.terminate()
        proc.wait(timeout=10)
