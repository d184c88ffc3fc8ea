"""Our Suwinet contract subset against the official BKWI WSDL/XSD (read from ../shared/contracts, never copied).

(a) every request the client sends is valid against the official BodyAction.xsd;
(b) every answer the simulator sends (data, partial dates, warnings, NietsGevonden, FWI, AanvraagNietOk)
    is valid against the official BodyReaction.xsd (fault details against FWI.xsd);
(c) answers built to the full official schema (every optional element filled) are read by the client.
Negative controls show each check can fail. Missing official files FAIL these tests, never skip them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import zeep
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from connectors.suwinet import SuwinetClient, SuwinetRejected
from ib_helpers import pki  # noqa: F401 - fixture
from mappings.safe_xml import parse_xml
from mappings.suwinet import fwi_tag
from schemas.suwinet import FWI_NAMESPACE, GSD_REINTEGRATIE, SERVICES, UWV_WERKNEMERSVERZEKERINGEN, SuwinetService
from simulators.certs import server_ssl_context
from simulators.harness import SimServer
from simulators.suwinet import SimSecurity, SuwinetSimulator
from test_suwinet_support import (  # noqa: F401 - suwinet is a fixture
    BSN, BSN_PARTIAL, BSN_UNKNOWN, LKS, WV, assert_official, contracts_dir, official_dir, official_errors,
    plain_settings, signed_settings, suwinet,
)

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSAW_ACTION = "{http://www.w3.org/2006/05/addressing/wsdl}Action"
WSAM_ACTION = "{http://www.w3.org/2007/05/addressing/metadata}Action"


def body_child(raw: bytes) -> etree._Element:
    (child,) = parse_xml(raw, max_bytes=10**7).find(f"{{{SOAP_ENV}}}Body")
    return child


def test_missing_official_contracts_fail_with_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setenv("VANGNET_CONTRACTS_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(pytest.fail.Exception, match="official Suwinet WSDL/XSD files are missing"):
        contracts_dir()


# -- the WSDLs -----------------------------------------------------------------------------------------
def wsdl_facts(path) -> dict:
    """Namespace, operation, messages' elements, actions and binding of a (one-operation) WSDL."""
    doc = etree.parse(str(path), etree.XMLParser(no_network=True, resolve_entities=False))
    root = doc.getroot()
    ns = root.get("targetNamespace")
    messages = {m.get("name"): m.find(f"{{{WSDL}}}part").get("element").split(":")[1]
                for m in root.iterfind(f"{{{WSDL}}}message")}
    (op,) = root.iterfind(f"{{{WSDL}}}portType/{{{WSDL}}}operation")
    parts = {p.tag.split("}")[1]: p for p in op}
    (binding,) = root.iterfind(f"{{{WSDL}}}binding")
    return {
        "namespace": ns, "operation": op.get("name"), "binding": binding.get("name"),
        "port_type": root.find(f"{{{WSDL}}}portType").get("name"),
        "elements": {kind: messages[parts[kind].get("message").split(":")[1]] for kind in ("input", "output", "fault")},
        "actions": {kind: parts[kind].get(WSAW_ACTION) for kind in ("input", "output", "fault")},
        "soap_action": binding.find(f"{{{WSDL}}}operation/{{http://schemas.xmlsoap.org/wsdl/soap/}}operation")
        .get("soapAction"),
    }


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_our_wsdl_matches_the_official_one(service: SuwinetService):
    ours, official = wsdl_facts(service.wsdl_path), wsdl_facts(official_dir(service) / f"{service.name}.wsdl")
    assert ours == official
    doc = etree.parse(str(service.wsdl_path))
    for el in doc.iter(f"{{{WSDL}}}input", f"{{{WSDL}}}output", f"{{{WSDL}}}fault"):
        if el.get(WSAW_ACTION):
            assert el.get(WSAM_ACTION) == el.get(WSAW_ACTION)  # what zeep and read_wsdl_actions read


class _OfflineTransport(zeep.Transport):
    def load(self, url: str) -> bytes:
        assert not url.startswith(("http:", "https:")), f"tried to fetch {url}"
        return super().load(url)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_zeep_loads_our_wsdl_offline(service: SuwinetService):
    client = zeep.Client(str(service.wsdl_path), transport=_OfflineTransport(cache=None))
    operation = client.wsdl.bindings[service.binding_qname]._operations[service.operation]
    assert operation.input.body.qname == service.request_tag
    assert operation.output.body.qname == service.response_tag


# -- (a) requests ----------------------------------------------------------------------------------------
def eleven_proof(prefix: int) -> str | None:
    digits = f"{prefix:08d}"
    check = sum(int(d) * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2))) % 11
    return digits + str(check) if check < 10 and int(digits + str(check)) else None


@pytest.fixture(scope="module")
def zeep_services():
    services = {}
    for service in SERVICES:
        client = zeep.Client(str(service.wsdl_path), transport=_OfflineTransport(cache=None))
        services[service] = (client, client.create_service(service.binding_qname, "https://suwinet.invalid/x"))
    return services


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 99_999_999).map(eleven_proof).filter(bool), st.sampled_from(SERVICES))
def test_every_request_zeep_builds_from_our_wsdl_is_officially_valid(zeep_services, bsn, service):
    client, proxy = zeep_services[service]
    envelope = client.create_message(proxy, service.operation, Burgerservicenr=bsn)
    (payload,) = envelope.find(f"{{{SOAP_ENV}}}Body")
    assert_official(payload, service, "BodyAction")


def test_requests_the_client_sent_over_2w_be_s_are_officially_valid(pki):  # noqa: F811
    sim = SuwinetSimulator(LKS, WV, security=SimSecurity.from_pki(pki))
    with SimServer(sim, tls=server_ssl_context(pki)), SuwinetClient(signed_settings(sim, pki)) as client:
        client.reintegratie_info(BSN)
        client.werknemersverzekeringen(BSN)
        client.werknemersverzekeringen(BSN_UNKNOWN)
    received = sim.received_envelopes
    assert len(received) == 3
    for raw in received:
        payload = body_child(raw)
        service = GSD_REINTEGRATIE if payload.tag == GSD_REINTEGRATIE.request_tag else UWV_WERKNEMERSVERZEKERINGEN
        assert_official(payload, service, "BodyAction")


def test_the_official_request_check_can_fail():
    bad = etree.fromstring(f'<s:GSDReintegratieInfo xmlns:s="{GSD_REINTEGRATIE.namespace}">'
                           "<Burgerservicenr>12345</Burgerservicenr></s:GSDReintegratieInfo>")
    assert official_errors(bad, GSD_REINTEGRATIE, "BodyAction") is not None
    qualified = etree.fromstring(f'<s:UWVPersoonsWvInfo xmlns:s="{UWV_WERKNEMERSVERZEKERINGEN.namespace}">'
                                 f"<s:Burgerservicenr>{BSN}</s:Burgerservicenr></s:UWVPersoonsWvInfo>")
    assert official_errors(qualified, UWV_WERKNEMERSVERZEKERINGEN, "BodyAction") is not None


# -- (b) answers -----------------------------------------------------------------------------------------
def check_sent(sim: SuwinetSimulator) -> dict[str, int]:
    """Validate every answer the simulator sent; count them per kind."""
    kinds: dict[str, int] = {}
    for raw in sim.sent_envelopes:
        payload = body_child(raw)
        if payload.tag == f"{{{SOAP_ENV}}}Fault":
            (fout,) = payload.find("detail")
            service = GSD_REINTEGRATIE  # FWI.xsd is the same file in both services
            assert_official(fout, service, "FWI")
            kind = "AanvraagNietOk"
        else:
            service = GSD_REINTEGRATIE if payload.tag == GSD_REINTEGRATIE.response_tag else UWV_WERKNEMERSVERZEKERINGEN
            assert_official(payload, service, "BodyReaction")
            kind = etree.QName(payload[0]).localname + ("+FWI" if len(payload) == 2 else "")
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def test_every_answer_the_simulator_sends_is_officially_valid(suwinet):  # noqa: F811
    sim, server = suwinet
    with SuwinetClient(plain_settings(sim, max_attempts=1)) as client:
        for bsn in (BSN, BSN_PARTIAL, BSN_UNKNOWN):
            client.reintegratie_info(bsn)
            client.werknemersverzekeringen(bsn)
        server.set_faults(warning_next=2)
        client.reintegratie_info(BSN)
        client.werknemersverzekeringen(BSN)
        for knob in ({"fwi_next": 1}, {"fout_fault_next": 1}):
            for call in (client.reintegratie_info, client.werknemersverzekeringen):
                server.set_faults(**knob)
                with pytest.raises(SuwinetRejected):
                    call(BSN)
    assert check_sent(sim) == {"ClientSuwi": 4, "NietsGevonden": 2, "ClientSuwi+FWI": 2, "FWI": 2,
                               "AanvraagNietOk": 2}


def test_signed_answers_are_officially_valid_too(pki):  # noqa: F811
    sim = SuwinetSimulator(LKS, WV, security=SimSecurity.from_pki(pki))
    with SimServer(sim, tls=server_ssl_context(pki)), SuwinetClient(signed_settings(sim, pki)) as client:
        assert client.reintegratie_info(BSN) and client.werknemersverzekeringen(BSN_PARTIAL)
    assert check_sent(sim) == {"ClientSuwi": 2}


def test_the_official_answer_check_can_fail(suwinet):  # noqa: F811
    sim, _ = suwinet
    with SuwinetClient(plain_settings(sim)) as client:
        client.reintegratie_info(BSN)
    payload = body_child(sim.sent_envelopes[-1])
    assert official_errors(payload, GSD_REINTEGRATIE, "BodyReaction") is None
    payload.find(".//Percentage").text = "55.00"
    assert "Percentage" in official_errors(payload, GSD_REINTEGRATIE, "BodyReaction")
    payload.find(".//Percentage").text = "05500"
    payload.find(".//Bron").getparent().remove(payload.find(".//Bron"))  # AtlRelatie/Bron is required
    assert official_errors(payload, GSD_REINTEGRATIE, "BodyReaction") is not None


# -- (c) full official answers are read ----------------------------------------------------------------
def full_gsd_answer(bsn: str) -> etree._Element:
    """Every optional element of the official GSDReintegratieInfoResponse filled in."""
    return etree.fromstring(f"""
<s:GSDReintegratieInfoResponse xmlns:s="{GSD_REINTEGRATIE.namespace}" xmlns:fwi="{FWI_NAMESPACE}">
  <ClientSuwi>
    <Burgerservicenr>{bsn}</Burgerservicenr><Voornamen>Jan Pieter</Voornamen><Voorletters>JP</Voorletters>
    <Voorvoegsel>van</Voorvoegsel><SignificantDeelVanDeAchternaam>Dijk</SignificantDeelVanDeAchternaam>
    <Geslacht>1</Geslacht><Geboortedat>19800500</Geboortedat>
    <Bron><CdKolomSuwi>3</CdKolomSuwi><CdPartijSuwi>0518</CdPartijSuwi><CdVestigingSuwi>0001</CdVestigingSuwi></Bron>
    <AtlRelatie>
      <Arbeidsvermogen><CdArbeidsvermogen>01</CdArbeidsvermogen></Arbeidsvermogen>
      <DoelReintegratievoorziening><CdDoelRv>2</CdDoelRv></DoelReintegratievoorziening>
      <ReIntegratievoorziening>
        <RegistratienrRvGsd>RV-2025-000117</RegistratienrRvGsd><DatBRv>20250501</DatBRv><DatERv>20270115</DatERv>
        <CdTypeRvGsd>LK</CdTypeRvGsd><OmsRv>Loonkostensubsidie art. 10d</OmsRv>
        <Loonkostensubsidie><PercLoonwaardeTovWml><CdPositiefNegatief>+</CdPositiefNegatief>
          <Percentage>05500</Percentage></PercLoonwaardeTovWml></Loonkostensubsidie>
      </ReIntegratievoorziening>
      <ReIntegratievoorziening><DatBRv>20240300</DatBRv><CdTypeRvGsd>JC</CdTypeRvGsd><OmsRv>Jobcoach</OmsRv>
      </ReIntegratievoorziening>
      <Bron><CdKolomSuwi>3</CdKolomSuwi><CdPartijSuwi>0518</CdPartijSuwi><CdVestigingSuwi>0001</CdVestigingSuwi></Bron>
    </AtlRelatie>
    <AtlRelatie><Bron><CdKolomSuwi>3</CdKolomSuwi><CdPartijSuwi>0363</CdPartijSuwi></Bron></AtlRelatie>
  </ClientSuwi>
  <fwi:FWI><Informatie><Code>I-1</Code><Tekst>Gegevens van 1 bron</Tekst><Detail>extra</Detail>
    <Bron><DN>cn=gsd,o=gemeente</DN></Bron></Informatie></fwi:FWI>
</s:GSDReintegratieInfoResponse>""")


def full_uwv_answer(bsn: str) -> etree._Element:
    """Every optional element of the official UWVPersoonsWvInfoResponse filled in."""
    periode = """<Uitkeringsperiode><DatBUitkeringsperiode>20270116</DatBUitkeringsperiode>
        <DatEUitkeringsperiode>20270131</DatEUitkeringsperiode>
        <RedenMaatregelMbtUitkeringUwv><DatBMaatregelMbtUitkering>20270120</DatBMaatregelMbtUitkering>
          <DatEMaatregelMbtUitkering>20270125</DatEMaatregelMbtUitkering>
          <PercKortingUitkering><Percentage>01000</Percentage></PercKortingUitkering>
          <CdRedenMaatregelMbtUitkeringUwv>12</CdRedenMaatregelMbtUitkeringUwv></RedenMaatregelMbtUitkeringUwv>
        <BrutoUitkeringsbedrag><CdMunteenheid>EUR</CdMunteenheid><WaardeBedr>123456</WaardeBedr>
          <CdUitkeringsperiode>2</CdUitkeringsperiode><DatBBrutoUitkeringsbedr>20270116</DatBBrutoUitkeringsbedr>
          <DatEBrutoUitkeringsbedr>20270131</DatEBrutoUitkeringsbedr></BrutoUitkeringsbedrag></Uitkeringsperiode>"""
    return etree.fromstring(f"""
<s:UWVPersoonsWvInfoResponse xmlns:s="{UWV_WERKNEMERSVERZEKERINGEN.namespace}" xmlns:fwi="{FWI_NAMESPACE}">
  <ClientSuwi>
    <Burgerservicenr>{bsn}</Burgerservicenr>
    <ArbeidsgeschiktheidClient><CdArbeidsongeschiktheidsklasse>7</CdArbeidsongeschiktheidsklasse>
      <DatBAoKlasse>20160101</DatBAoKlasse><DatEersteAoDag>20150310</DatEersteAoDag></ArbeidsgeschiktheidClient>
    <ArbeidsgeschiktheidClient><DatEersteAoDag>20270104</DatEersteAoDag></ArbeidsgeschiktheidClient>
    <WerkloosheidClient><DatEersteWerkloosheidsdag>20200101</DatEersteWerkloosheidsdag>
      <OmsRedenWerkloosheid>Reorganisatie</OmsRedenWerkloosheid></WerkloosheidClient>
    <AanvraagUitkering><DatAanvraagUitkering>20270110</DatAanvraagUitkering><SzWet><CdSzWet>ZW</CdSzWet></SzWet>
      <AanvraagWw><DatAanvraagUitkering>20200105</DatAanvraagUitkering></AanvraagWw>
      <BeslissingOpAanvraagUitkering><CdBeslissingOpAanvraagUitkering>01</CdBeslissingOpAanvraagUitkering>
        <DatDagtekeningBeslisOpAanvrUitk>20270114</DatDagtekeningBeslisOpAanvrUitk></BeslissingOpAanvraagUitkering>
    </AanvraagUitkering>
    <Uitkeringsverhouding>
      <DatBUitkeringsverhouding>20270116</DatBUitkeringsverhouding>
      <DatEUitkeringsverhouding>20270300</DatEUitkeringsverhouding>
      <OmsRedenEindeUitkeringsverh>Hersteld</OmsRedenEindeUitkeringsverh>
      <DatEMaximaleUitkeringsduur>20290103</DatEMaximaleUitkeringsduur>
      <AantWerkurenPerWeekGrondslagUitk>3200</AantWerkurenPerWeekGrondslagUitk>
      <SzWet><CdSzWet>ZW</CdSzWet></SzWet>
      <SectorBeroepsEnBedrijfsleven><CdSector>033</CdSector><NaamSector>Zorg</NaamSector>
        <PartijSuwi><CdPartijSuwi>0001</CdPartijSuwi><NaamPartijSuwi>UWV</NaamPartijSuwi>
          <KolomSuwi><CdKolomSuwi>1</CdKolomSuwi><NaamKolomSuwi>UWV</NaamKolomSuwi>
            <NaamKolomSuwiVerkort>UWV</NaamKolomSuwiVerkort></KolomSuwi></PartijSuwi></SectorBeroepsEnBedrijfsleven>
      <SpecifiekeGegevensWwUitkering><DatELoongerelateerdeUitkeringWw>20210101</DatELoongerelateerdeUitkeringWw>
        <DatEVervolguitkeringWw>20220101</DatEVervolguitkeringWw></SpecifiekeGegevensWwUitkering>
      {periode}
    </Uitkeringsverhouding>
    <Uitkeringsverhouding><SzWet><CdSzWet>WW</CdSzWet></SzWet></Uitkeringsverhouding>
  </ClientSuwi>
</s:UWVPersoonsWvInfoResponse>""")


def test_full_official_answers_are_read_over_2w_be_s(pki):  # noqa: F811
    gsd, uwv = full_gsd_answer(BSN), full_uwv_answer(BSN)
    assert_official(gsd, GSD_REINTEGRATIE, "BodyReaction")
    assert_official(uwv, UWV_WERKNEMERSVERZEKERINGEN, "BodyReaction")
    sim = SuwinetSimulator(security=SimSecurity.from_pki(pki))
    with SimServer(sim, tls=server_ssl_context(pki)), SuwinetClient(signed_settings(sim, pki)) as client:
        sim.queue_payload(gsd)
        lks, jobcoach = client.reintegratie_info(BSN)
        sim.queue_payload(uwv)
        info = client.werknemersverzekeringen(BSN)
    assert (lks.begin, lks.einde, lks.type_code, lks.loonwaarde_pct, lks.is_lks, lks.gemeentecode) == (
        date(2025, 5, 1), date(2027, 1, 15), "LK", Decimal("55.00"), True, "0518")
    assert (jobcoach.begin, jobcoach.is_lks, jobcoach.dates_approximate) == (date(2024, 3, 1), False, True)
    assert info.eerste_ao_dag == date(2027, 1, 4)
    zw, ww = info.uitkeringsverhoudingen
    assert (zw.begin, zw.einde, zw.reden_einde, zw.max_duur_einde, zw.is_zw) == (
        date(2027, 1, 16), date(2027, 3, 31), "Hersteld", date(2029, 1, 3), True)
    assert (ww.wet_code, ww.is_zw) == ("WW", False)


def test_official_fwi_answer_is_an_error_with_its_code(suwinet):  # noqa: F811
    sim, _ = suwinet
    answer = etree.fromstring(f'<s:UWVPersoonsWvInfoResponse xmlns:s="{UWV_WERKNEMERSVERZEKERINGEN.namespace}" '
                              f'xmlns:fwi="{FWI_NAMESPACE}"><fwi:FWI><Fout><Code>BKWI-17</Code><Tekst>Bron {BSN} niet '
                              "beschikbaar</Tekst><Bron><DN>cn=uwv</DN></Bron></Fout></fwi:FWI>"
                              "</s:UWVPersoonsWvInfoResponse>")
    assert_official(answer, UWV_WERKNEMERSVERZEKERINGEN, "BodyReaction")
    assert answer.find(fwi_tag("FWI")) is not None
    sim.queue_payload(answer)
    with SuwinetClient(plain_settings(sim)) as client, pytest.raises(SuwinetRejected, match="BKWI-17") as info:
        client.werknemersverzekeringen(BSN)
    assert [(f.code, f.omschrijving) for f in info.value.fouten] == [("BKWI-17", "Bron <nummer> niet beschikbaar")]
    assert BSN not in str(info.value)
