"""Digikoppeling 2W-be-S: WS-Security signing and verification, WS-Addressing, settings (no network)."""

from __future__ import annotations

import base64
import copy
import datetime as dt

import pytest
import xmlsec
from lxml import etree
from pydantic import ValidationError

from connectors.digikoppeling import (
    AddressingError,
    DigikoppelingProfile,
    DigikoppelingSettings,
    InvalidSignatureError,
    OperationActions,
    SecurityConfigError,
    SecurityError,
    SecurityHeaderError,
    TimestampError,
    UnsignedMessageError,
    UnsignedPartError,
    UntrustedCertificateError,
    WusPlugin,
    add_addressing,
    add_reply_addressing,
    check_reply,
    read_addressing,
    read_wsdl_actions,
    sign_envelope,
    to_address,
    verify_envelope,
)
from connectors.digikoppeling.namespaces import (
    DS,
    EXC_C14N,
    RSA_SHA256,
    SHA256,
    SOAP11,
    WSA,
    WSA_ANONYMOUS,
    WSSE,
    WSU,
    WSU_ID,
    X509V3,
    q,
)
from ib_helpers import other_pki, pki  # noqa: F401 - fixtures
from schemas.ib import ACTIONS, WSDL_PATH

BSN = "111222333"  # stands for personal content: must never show up in an error
OIN_US, OIN_IB = "00000001001234567000", "00000001009876543000"
NOW = dt.datetime(2030, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
ACTION = ACTIONS["HaalSignalen"]
WSA_PARTS = ("To", "Action", "MessageID", "ReplyTo", "From")


def request_envelope() -> etree._Element:
    """A request as zeep builds it, including zeep's own wsa headers (which must be replaced)."""
    return etree.fromstring(
        f'<soap-env:Envelope xmlns:soap-env="{SOAP11}"><soap-env:Header xmlns:wsa="{WSA}">'
        f"<wsa:Action>{ACTION}</wsa:Action><wsa:MessageID>urn:uuid:zeep</wsa:MessageID><wsa:To>https://x</wsa:To>"
        f'</soap-env:Header><soap-env:Body><ns0:HaalSignalen xmlns:ns0="urn:vangnet:ib:signalen:v1">'
        f"<ns0:VanafVolgnummer>0</ns0:VanafVolgnummer><ns0:Bsn>{BSN}</ns0:Bsn></ns0:HaalSignalen>"
        f"</soap-env:Body></soap-env:Envelope>".encode())


def signed(pki, *, key=None, cert=None, now=NOW, ttl=300) -> etree._Element:  # noqa: F811
    env = request_envelope()
    add_addressing(env, action=ACTION, to=to_address("https://ib.example.nl/s", OIN_IB),
                   from_address=f"http://www.logius.nl/oin/{OIN_US}")
    sign_envelope(env, key_path=key or pki.client_sign_key, cert_path=cert or pki.client_sign_cert,
                  timestamp_ttl_seconds=ttl, now=now)
    return wire(env)


def wire(env: etree._Element) -> etree._Element:
    """Serialise and parse again, as the receiver sees it."""
    return etree.fromstring(etree.tostring(env, xml_declaration=True, encoding="utf-8"))


def verify(env, pki, *, now=NOW, skew=60):  # noqa: F811
    return verify_envelope(env, trusted_cert_path=pki.client_sign_cert, now=now, clock_skew_seconds=skew)


def header(env) -> etree._Element:
    return env.find(q(SOAP11, "Header"))


def security(env) -> etree._Element:
    return header(env).find(q(WSSE, "Security"))


def body(env) -> etree._Element:
    return env.find(q(SOAP11, "Body"))


def rejected(exc_type, env, pki, **kw) -> SecurityError:  # noqa: F811
    with pytest.raises(exc_type) as info:
        verify(wire(env), pki, **kw)
    assert BSN not in str(info.value) and OIN_US not in str(info.value)
    return info.value


# -- signing ------------------------------------------------------------------------------------
def test_round_trip_signs_every_required_part_with_the_digikoppeling_algorithms(pki):  # noqa: F811
    env = signed(pki)
    result = verify(env, pki)
    assert result.created == NOW and result.signature_value and result.confirmations == ()

    sec = security(env)
    assert sec.get(q(SOAP11, "mustUnderstand")) == "1"
    assert header(env).index(sec) == 0
    token = sec.find(q(WSSE, "BinarySecurityToken"))
    assert token.get("ValueType") == X509V3 and token.get("EncodingType").endswith("#Base64Binary")
    assert base64.b64decode(token.text) == _der(pki.client_sign_cert)
    ts = sec.find(q(WSU, "Timestamp"))
    assert ts.findtext(q(WSU, "Created")) == "2030-05-01T12:00:00.000Z"
    assert ts.findtext(q(WSU, "Expires")) == "2030-05-01T12:05:00.000Z"

    signed_info = sec.find(f"{q(DS, 'Signature')}/{q(DS, 'SignedInfo')}")
    assert signed_info.find(q(DS, "CanonicalizationMethod")).get("Algorithm") == EXC_C14N
    assert signed_info.find(q(DS, "SignatureMethod")).get("Algorithm") == RSA_SHA256
    refs = signed_info.findall(q(DS, "Reference"))
    for ref in refs:
        assert [t.get("Algorithm") for t in ref.iterfind(f"{q(DS, 'Transforms')}/{q(DS, 'Transform')}")] == [EXC_C14N]
        assert ref.find(q(DS, "DigestMethod")).get("Algorithm") == SHA256
    wsa = {etree.QName(h).localname: h for h in header(env) if h.tag.startswith(f"{{{WSA}}}")}
    assert sorted(wsa) == sorted(WSA_PARTS)  # zeep's three were replaced, not duplicated
    expected = {body(env).get(WSU_ID), ts.get(WSU_ID), *(h.get(WSU_ID) for h in wsa.values())}
    assert {r.get("URI")[1:] for r in refs} == expected and len(refs) == 7
    key_info = sec.find(f"{q(DS, 'Signature')}/{q(DS, 'KeyInfo')}")
    str_ref = key_info.find(f"{q(WSSE, 'SecurityTokenReference')}/{q(WSSE, 'Reference')}")
    assert str_ref.get("URI") == f"#{token.get(WSU_ID)}"


def test_signature_verifies_with_plain_xmlsec_too(pki):  # noqa: F811
    """Independent of our verifier: a standard XML-DSig check with the certificate's key."""
    env = signed(pki)
    xmlsec.tree.add_ids(env, ["Id"])
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_file(str(pki.client_sign_cert), xmlsec.KeyFormat.CERT_PEM)
    ctx.verify(security(env).find(q(DS, "Signature")))


def test_signing_twice_is_refused(pki):  # noqa: F811
    env = signed(pki)
    with pytest.raises(ValueError, match="already has a wsse:Security"):
        sign_envelope(env, key_path=pki.client_sign_key, cert_path=pki.client_sign_cert)


# -- verification failures ----------------------------------------------------------------------
def test_modified_body_is_rejected(pki):  # noqa: F811
    env = signed(pki)
    body(env).find(".//{urn:vangnet:ib:signalen:v1}VanafVolgnummer").text = "7"
    rejected(InvalidSignatureError, env, pki)


def test_modified_wsa_action_is_rejected(pki):  # noqa: F811
    env = signed(pki)
    header(env).find(q(WSA, "Action")).text = ACTIONS["BevestigSignalen"]
    rejected(InvalidSignatureError, env, pki)


def test_modified_timestamp_is_rejected(pki):  # noqa: F811
    env = signed(pki, now=NOW - dt.timedelta(hours=2))
    security(env).find(f"{q(WSU, 'Timestamp')}/{q(WSU, 'Expires')}").text = "2030-05-01T13:00:00Z"
    rejected(InvalidSignatureError, env, pki)


def test_removed_timestamp_is_rejected(pki):  # noqa: F811
    env = signed(pki)
    security(env).remove(security(env).find(q(WSU, "Timestamp")))
    rejected(TimestampError, env, pki)


def test_expired_timestamp_is_rejected(pki):  # noqa: F811
    env = signed(pki, now=NOW - dt.timedelta(seconds=300 + 61))
    assert "expired" in str(rejected(TimestampError, env, pki))
    verify(signed(pki, now=NOW - dt.timedelta(seconds=300 + 59)), pki)  # inside the skew: accepted


def test_timestamp_created_in_the_future_beyond_skew_is_rejected(pki):  # noqa: F811
    env = signed(pki, now=NOW + dt.timedelta(seconds=61))
    assert "future" in str(rejected(TimestampError, env, pki))
    verify(signed(pki, now=NOW + dt.timedelta(seconds=59)), pki)  # inside the skew: accepted


def test_certificate_other_than_the_trusted_sender_is_rejected(pki):  # noqa: F811
    # Issued by the same CA: a valid chain is not enough, the sender's certificate is pinned.
    env = signed(pki, key=pki.untrusted_sign_key, cert=pki.untrusted_sign_cert)
    assert "not the configured sender certificate" in str(rejected(UntrustedCertificateError, env, pki))


def test_our_own_certificate_is_not_trusted_as_the_sender(pki):  # noqa: F811
    env = signed(pki, key=pki.server_sign_key, cert=pki.server_sign_cert)
    rejected(UntrustedCertificateError, env, pki)


def test_trusted_token_with_a_signature_by_another_key_is_rejected(pki):  # noqa: F811
    env = signed(pki, key=pki.untrusted_sign_key, cert=pki.untrusted_sign_cert)
    token = security(env).find(q(WSSE, "BinarySecurityToken"))
    token.text = base64.b64encode(_der(pki.client_sign_cert)).decode()  # pretend to be the trusted sender
    rejected(InvalidSignatureError, env, pki)


def test_unsigned_message_is_rejected(pki):  # noqa: F811
    env = request_envelope()
    add_addressing(env, action=ACTION, to="https://ib.example.nl/s")
    rejected(UnsignedMessageError, env, pki)
    env = signed(pki)
    security(env).remove(security(env).find(q(DS, "Signature")))
    rejected(UnsignedMessageError, env, pki)


@pytest.mark.parametrize("reuse_id", [False, True], ids=["new-body", "new-body-same-id"])
def test_signature_wrapping_is_rejected(pki, reuse_id):  # noqa: F811
    """Move the signed Body into a header and put a forged Body in its place."""
    env = signed(pki)
    original = body(env)
    wrapper = etree.SubElement(header(env), "{urn:attacker}Wrapper")
    env.remove(original)
    wrapper.append(original)
    forged = etree.SubElement(env, q(SOAP11, "Body"))
    if reuse_id:
        forged.set(WSU_ID, original.get(WSU_ID))
    etree.SubElement(forged, "{urn:vangnet:ib:signalen:v1}HaalSignalen").text = "forged"
    error = rejected((UnsignedPartError, SecurityHeaderError), env, pki)
    assert ("soap:Body is not covered" in str(error)) or ("exactly one element" in str(error))


def test_wrapping_the_timestamp_is_rejected(pki):  # noqa: F811
    env = signed(pki, now=NOW - dt.timedelta(hours=1))
    old = security(env).find(q(WSU, "Timestamp"))
    wrapper = etree.SubElement(security(env), "{urn:attacker}Wrapper")
    wrapper.append(old)
    fresh = etree.SubElement(security(env), q(WSU, "Timestamp"))
    etree.SubElement(fresh, q(WSU, "Created")).text = "2030-05-01T12:00:00Z"
    rejected(UnsignedPartError, env, pki)


def test_injected_unsigned_wsa_header_is_rejected(pki):  # noqa: F811
    env = signed(pki)
    etree.SubElement(header(env), q(WSA, "RelatesTo")).text = "urn:uuid:injected"
    assert "wsa:RelatesTo header is not covered" in str(rejected(UnsignedPartError, env, pki))


def test_reference_dropped_from_signed_info_is_rejected(pki):  # noqa: F811
    env = signed(pki)
    signed_info = security(env).find(f"{q(DS, 'Signature')}/{q(DS, 'SignedInfo')}")
    signed_info.remove(signed_info.findall(q(DS, "Reference"))[-1])  # the last wsa header
    rejected(UnsignedPartError, env, pki)


def test_weaker_algorithm_is_refused(pki):  # noqa: F811
    env = signed(pki)
    method = security(env).find(f"{q(DS, 'Signature')}/{q(DS, 'SignedInfo')}/{q(DS, 'SignatureMethod')}")
    method.set("Algorithm", "http://www.w3.org/2000/09/xmldsig#rsa-sha1")
    rejected(SecurityHeaderError, env, pki)


def test_two_security_headers_are_refused(pki):  # noqa: F811
    env = signed(pki)
    header(env).append(copy.deepcopy(security(env)))
    rejected(SecurityHeaderError, env, pki)


# -- addressing ---------------------------------------------------------------------------------
def test_addressing_headers_each_once_with_ids():
    env = request_envelope()
    message_id = add_addressing(env, action=ACTION, to=to_address("https://ib.example.nl/s?v=1", OIN_IB),
                                from_address=f"http://www.logius.nl/oin/{OIN_US}")
    got = read_addressing(env)
    assert got.to == f"https://ib.example.nl/s?v=1&OIN={OIN_IB}"
    assert (got.action, got.message_id, got.reply_to) == (ACTION, message_id, WSA_ANONYMOUS)
    assert got.from_address == f"http://www.logius.nl/oin/{OIN_US}" and message_id.startswith("urn:uuid:")
    names = [etree.QName(h).localname for h in header(env)]
    assert sorted(names) == sorted(WSA_PARTS)
    assert all(h.get(WSU_ID) for h in header(env))
    assert to_address("https://x/s") == "https://x/s"


def test_reply_must_relate_to_our_message_and_carry_the_response_action():
    reply = etree.fromstring(f'<s:Envelope xmlns:s="{SOAP11}"><s:Body/></s:Envelope>'.encode())
    add_reply_addressing(reply, action=ACTION + "Response", relates_to="urn:uuid:ours")
    check_reply(reply, message_id="urn:uuid:ours", action=ACTION + "Response")
    assert read_addressing(reply).to == WSA_ANONYMOUS
    with pytest.raises(AddressingError, match="does not match the MessageID"):
        check_reply(reply, message_id="urn:uuid:other", action=ACTION + "Response")
    with pytest.raises(AddressingError, match="wsa:Action"):
        check_reply(reply, message_id="urn:uuid:ours", action=ACTION)
    header(reply).append(copy.deepcopy(header(reply).find(q(WSA, "RelatesTo"))))
    with pytest.raises(AddressingError, match="more than one wsa:RelatesTo"):
        check_reply(reply, message_id="urn:uuid:ours", action=ACTION + "Response")
    bare = etree.fromstring(f'<s:Envelope xmlns:s="{SOAP11}"><s:Body/></s:Envelope>'.encode())
    with pytest.raises(AddressingError, match="no wsa:RelatesTo"):
        check_reply(bare, message_id="urn:uuid:ours", action=ACTION + "Response")


def test_wsdl_actions_are_read_from_the_contract():
    actions = read_wsdl_actions(WSDL_PATH)
    assert actions == {name: OperationActions(action, action + "Response") for name, action in ACTIONS.items()}


# -- settings and start-up ----------------------------------------------------------------------
def test_settings_default_is_2w_be_without_signing():
    settings = DigikoppelingSettings()
    assert settings.profile is DigikoppelingProfile.BEST_EFFORT and not settings.signed
    assert settings.from_uri is None
    assert DigikoppelingSettings(own_oin=OIN_US).from_uri == f"http://www.logius.nl/oin/{OIN_US}"


def test_settings_2w_be_s_requires_all_signing_files(pki):  # noqa: F811
    with pytest.raises(ValidationError, match="signing_key_path, signing_cert_path, trusted_sender_cert_path"):
        DigikoppelingSettings(profile="2W-be-S")
    with pytest.raises(ValidationError, match="trusted_sender_cert_path"):
        DigikoppelingSettings(profile="2W-be-S", signing_key_path=pki.client_sign_key,
                              signing_cert_path=pki.client_sign_cert)
    with pytest.raises(ValidationError, match="profile is 2W-be"):
        DigikoppelingSettings(signing_key_path=pki.client_sign_key)
    with pytest.raises(ValidationError, match="own_oin"):
        DigikoppelingSettings(own_oin="123")


@pytest.mark.parametrize("case", ["ec-key", "mismatched-key", "missing-trusted"])
def test_plugin_refuses_unusable_signing_files_at_start(pki, tmp_path, case):  # noqa: F811
    files = {"signing_key_path": pki.client_sign_key, "signing_cert_path": pki.client_sign_cert,
             "trusted_sender_cert_path": pki.server_sign_cert}
    if case == "ec-key":
        files.update(signing_key_path=pki.client_key, signing_cert_path=pki.client_cert)
    elif case == "mismatched-key":
        files.update(signing_key_path=pki.server_sign_key)
    else:
        files.update(trusted_sender_cert_path=tmp_path / "missing.pem")
    settings = DigikoppelingSettings(profile="2W-be-S", **files)
    with pytest.raises(SecurityConfigError):
        WusPlugin(settings, actions=read_wsdl_actions(WSDL_PATH))


def _der(path) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    return x509.load_pem_x509_certificate(path.read_bytes()).public_bytes(Encoding.DER)


def test_plugin_signs_requests_and_checks_the_reply_once(pki):  # noqa: F811
    from types import SimpleNamespace

    settings = DigikoppelingSettings(profile="2W-be-S", own_oin=OIN_US, signing_key_path=pki.client_sign_key,
                                     signing_cert_path=pki.client_sign_cert,
                                     trusted_sender_cert_path=pki.server_sign_cert)
    plugin = WusPlugin(settings, actions=read_wsdl_actions(WSDL_PATH))
    request, _ = plugin.egress(request_envelope(), {}, SimpleNamespace(name="HaalSignalen"),
                               {"address": "https://ib.example.nl/s"})
    received = verify_envelope(wire(request), trusted_cert_path=pki.client_sign_cert)  # what the server does

    def reply(confirmation):
        env = etree.fromstring(f'<s:Envelope xmlns:s="{SOAP11}"><s:Body/></s:Envelope>'.encode())
        add_reply_addressing(env, action=ACTION + "Response", relates_to=read_addressing(request).message_id)
        sign_envelope(env, key_path=pki.server_sign_key, cert_path=pki.server_sign_cert,
                      signature_confirmation=confirmation)
        return wire(env)

    assert plugin.check_response(reply(received.signature_value)).operation == "HaalSignalen"
    with pytest.raises(AddressingError, match="no request is in flight"):
        plugin.check_response(reply(received.signature_value))  # the same reply twice
    plugin.egress(request_envelope(), {}, SimpleNamespace(name="HaalSignalen"), {"address": "https://ib.example.nl/s"})
    with pytest.raises(SecurityError, match="does not confirm the signature"):
        plugin.check_response(reply(None))
