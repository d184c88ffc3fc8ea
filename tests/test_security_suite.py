"""Issue 10, the security checklist in one place: every item, where it is proven, and the checks that were missing.

1. Connections without a client certificate, or with one from an unknown CA, are refused; our clients refuse
   a server from an unknown CA or with the wrong host name.
   - generic harness: test_simulator_harness.py::test_https_with_mutual_tls
   - IB: test_ib_connector.py::test_missing_client_certificate_never_reaches_the_service,
     ::test_untrusted_server_is_a_security_error_without_retry, ::test_unreadable_tls_files_are_a_security_error
   - Suwinet: test_suwinet_connector.py::test_untrusted_server_is_a_security_error
   - arbodienst: test_arbodienst_connector.py::test_over_https_with_mutual_tls; provider feed:
     test_provider_feed.py::test_over_https_with_mutual_tls; doctor: test_doctor.py::test_mutual_tls_with_the_
     configured_files_and_without_them
   - here, for every mutual-TLS partner (IB, Suwinet, arbodienst, provider feed) over the real simulators:
     test_partner_refuses_a_client_without_an_accepted_certificate, test_a_refused_client_certificate_is_a_tls_
     error_not_an_outage, and for every partner (ZGW too) test_our_client_refuses_an_untrusted_or_misnamed_server
2. Tampered, unsigned or expired SOAP is rejected (and nothing is stored).
   - unit: test_digikoppeling_security.py (modified body/action/timestamp, removed/expired/future timestamp,
     unsigned, wrong or own certificate, signature wrapping, injected wsa header, dropped reference, weak
     algorithm, two Security headers, missing SignatureConfirmation)
   - over the wire, IB: test_ib_connector.py::test_bad_signed_reply_is_a_security_error_after_one_request,
     ::test_replayed_signed_reply_is_a_security_error, ::test_unsigned_request_gets_a_client_fault,
     ::test_request_signed_with_an_untrusted_certificate_gets_a_client_fault; intake, nothing stored and
     nothing acknowledged: test_intake_secure.py::test_bad_signature_is_rejected_nothing_stored_and_nothing_lost
   - over the wire, Suwinet: test_suwinet_connector.py::test_bad_signed_reply_is_a_security_error_without_retry,
     ::test_unsigned_request_is_refused_by_a_2w_be_s_service
   - here: test_a_bad_suwinet_reply_changes_no_case (takeover and safety net store and decide nothing),
     test_a_reply_under_an_expired_partner_certificate_is_refused (IB and Suwinet)
3. The ZGW and arbodienst clients refuse URLs outside their base URL.
   - test_zgw_connector.py::test_urls_outside_base_url_are_refused_before_any_request,
     ::test_server_links_outside_base_url_are_not_followed; test_arbodienst_connector.py::test_urls_outside_
     base_are_refused_before_sending, ::test_base_url_with_a_path_prefix_is_pinned; provider feed:
     test_provider_feed.py::test_urls_outside_the_base_url_are_refused_before_sending
   - here: test_zgw_client_refuses_more_url_tricks (server-side path normalisation tricks)
4. Secrets and tokens never appear in logs, exceptions, `vangnet doctor` output or Prefect parameters.
   - test_zgw_connector.py::test_no_bsn_or_secret_in_errors_or_logs, ::test_settings_validate_and_keep_the_secret_
     hidden; test_arbodienst_connector.py::test_no_bsn_token_or_advice_in_logs_or_errors, ::test_person_and_
     settings_hide_their_secrets; test_provider_feed.py::test_the_token_is_never_in_errors_or_logs;
     test_research_export.py::test_cli_refuses_a_short_key, ::test_cli_writes_the_files_and_prints_no_pseudonym;
     test_doctor.py::test_secrets_never_appear_in_the_output, ::test_redact_masks_every_secret_in_detail_and_fix;
     test_logging_redaction.py (flow logs redacted on the way to the Prefect API)
   - here: test_failing_partner_calls_never_show_a_credential (ZGW JWT, bearer tokens: logs, errors, reprs,
     tracebacks), test_settings_reprs_hide_every_secret, test_doctor_masks_every_secret_setting,
     test_doctor_output_holds_no_secret, test_partner_url_credentials_stay_out_of_errors,
     test_the_database_password_stays_out_of_errors_logs_and_crash_log, test_no_flow_parameter_can_carry_a_secret.
     Private key passwords: none exist; keys are unencrypted PEM, mode 0600 (doctor fails an encrypted key:
     test_doctor.py, `_key_problem`).
5. The simulators' test certificates are generated, not committed.
   - here: test_no_private_key_or_certificate_is_in_the_repository, test_every_test_pki_is_fresh_short_lived_
     and_private, test_generated_pki_folders_are_never_committed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import socket
import subprocess
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from sqlalchemy import func, select
from typer.testing import CliRunner

import store
from connectors.arbodienst import ArbodienstClient, ArbodienstSettings
from connectors.arbodienst.errors import ArbodienstError, ArbodienstUnavailable
from connectors.inlichtingenbureau import IbClient, IbSecurityError, IbSettings
from connectors.inlichtingenbureau.errors import IbError, IbUnavailable
from connectors.providers import FeedSettings, ProviderFeedClient
from connectors.providers.errors import FeedUnavailable, ProviderFeedError
from connectors.suwinet import SuwinetClient, SuwinetSecurityError, SuwinetSettings, SuwinetUnavailable
from connectors.suwinet.errors import SuwinetError
from connectors.zaken import ZakenClient, ZakenSettings
from connectors.zaken.errors import ZakenError, ZakenRefusedUrl, ZakenUnavailable
from flows import runtime
from flows.errors import VangnetError
from flows.partners import demo_suwinet_environment
from flows.settings import Settings
from ib_helpers import other_pki, pki, record, valid_bsn, wait_for  # noqa: F401 - pki, other_pki are fixtures
from mappings.ib_signal import fields_to_signal_element
from schemas.case import Besluit
from schemas.lks import LksBron, LksPeriode
from services.doctor import Check, configured_secrets, redact
from services.intake import process_inbox_batch
from services.safety_net import check_batch
from services.takeover import decide_pending
from simulators.arbodienst import ArbodienstSimulator
from simulators.certs import TestPki, generate_test_pki, server_ssl_context
from simulators.harness import SimServer
from simulators.ib import IbSimulator, SimSecurity
from simulators.providers import ProviderFeedSimulator
from simulators.suwinet import SuwinetSimulator
from simulators.wus import SECURITY_KNOBS
from simulators.zgw import DEFAULT_OPENAPI as ZGW_OPENAPI
from simulators.zgw import ZgwSimulator
from store.models import Case, InboxMessage

REPO = Path(__file__).resolve().parents[1]
FAST = {"retry_backoff_seconds": 0.001, "retry_max_backoff_seconds": 0.01, "timeout_seconds": 3.0, "max_attempts": 3}
CAT = "https://catalogi.example.nl/catalogi/api/v1"
ZGW_CLIENT = {"client_id": "vangnet", "zaaktype": f"{CAT}/zaaktypen/1", "statustype_intake": f"{CAT}/statustypen/1",
              "statustype_einde": f"{CAT}/statustypen/9", "roltype_betrokkene": f"{CAT}/roltypen/1",
              "bronorganisatie": "002220647"}
MONDAY = dt.date(2027, 3, 1)


@pytest.fixture(scope="module")
def misnamed_pki(tmp_path_factory) -> TestPki:
    """A PKI whose server certificate is for partner.example.nl, not for 127.0.0.1 where the server runs."""
    return generate_test_pki(tmp_path_factory.mktemp("misnamed-pki"), hosts=("partner.example.nl",))


@pytest.fixture
def sqlite_engine(tmp_path):
    url = f"sqlite:///{tmp_path / 'vangnet.db'}"
    store.upgrade(url)
    engine = store.make_engine(url)
    yield engine
    engine.dispose()


# == 1. mutual TLS with the real simulators =========================================================================
@dataclass(frozen=True)
class Partner:
    """A partner simulator and one real operation of our connector for it, with the TLS files as given."""

    name: str
    app: Callable[[], Any]
    call: Callable[[Any, dict[str, Path | None]], object]
    error: type[Exception]
    """The connector's TLS/security error."""
    transient: type[Exception]
    """The connector's 'try again later' error: a certificate problem must never end up here."""


def _tls(ca: Path | None, cert: Path | None, key: Path | None) -> dict[str, Path | None]:
    return {"ca_bundle_path": ca, "client_cert_path": cert, "client_key_path": key}


def _ib(app: IbSimulator, tls: dict) -> object:
    with IbClient(IbSettings(endpoint=app.endpoint, **tls, **FAST)) as client:
        return client.fetch_page(0, 5)


def _suwinet(app: SuwinetSimulator, tls: dict) -> object:
    settings = SuwinetSettings(reintegratie_endpoint=app.reintegratie_endpoint,
                               werknemersverzekeringen_endpoint=app.werknemersverzekeringen_endpoint, **tls, **FAST)
    with SuwinetClient(settings) as client:
        return client.reintegratie_info(valid_bsn(901))


def _arbodienst(app: ArbodienstSimulator, tls: dict) -> object:
    with ArbodienstClient(ArbodienstSettings(name="arbo-sec", base_url=app.api_root, **tls, **FAST)) as client:
        return client.list_slots(MONDAY, MONDAY)


def _feed(app: ProviderFeedSimulator, tls: dict) -> object:
    with ProviderFeedClient(FeedSettings(name="feed-sec", base_url=app.api_root, **tls, **FAST)) as client:
        return client.list_since(None)


def _zgw(app: ZgwSimulator, tls: dict) -> object:
    # ZGW authenticates with a JWT, not with a client certificate
    with _zgw_client(app.api_root, "zgw-sec-secret", ca_bundle_path=tls["ca_bundle_path"]) as client:
        return client.find_zaak("ZAAK-1")


def _zgw_client(base_url: str, secret: str, **overrides) -> ZakenClient:
    return ZakenClient(ZakenSettings(base_url=base_url, secret=secret, **ZGW_CLIENT, **{**FAST, **overrides}))


IB = Partner("ib", lambda: IbSimulator([record(1)]), _ib, IbSecurityError, IbUnavailable)
SUWINET = Partner("suwinet", lambda: SuwinetSimulator([], {}), _suwinet, SuwinetSecurityError, SuwinetUnavailable)
ARBODIENST = Partner("arbodienst", lambda: ArbodienstSimulator(start_date=MONDAY, days=3), _arbodienst,
                     ArbodienstError, ArbodienstUnavailable)
FEED = Partner("provider-feed", lambda: ProviderFeedSimulator(seed=1), _feed, ProviderFeedError, FeedUnavailable)
ZGW = Partner("zgw", lambda: ZgwSimulator({"vangnet": "zgw-sec-secret"}, openapi_path=ZGW_OPENAPI), _zgw,
              ZakenError, ZakenUnavailable)
MUTUAL = [pytest.param(p, id=p.name) for p in (IB, SUWINET, ARBODIENST, FEED)]


def _client_files(case: str, pki: TestPki, other: TestPki) -> dict[str, Path | None]:  # noqa: F811
    if case == "no-client-cert":
        return _tls(pki.ca_cert, None, None)
    return _tls(pki.ca_cert, other.client_cert, other.client_key)  # "unknown-ca": a certificate nobody issued here


@pytest.mark.parametrize("case", ["no-client-cert", "unknown-ca"])
@pytest.mark.parametrize("partner", MUTUAL)
def test_partner_refuses_a_client_without_an_accepted_certificate(partner, case, pki, other_pki):  # noqa: F811
    app = partner.app()
    with SimServer(app, tls=server_ssl_context(pki)) as server:
        partner.call(app, _tls(pki.ca_cert, pki.client_cert, pki.client_key))  # the right files get in
        assert server.request_count() == 1
        with pytest.raises(partner.error):
            partner.call(app, _client_files(case, pki, other_pki))
        assert wait_for(lambda: server.handshake_failures >= 1)
        assert server.request_count() == 1  # refused at the handshake: the app never saw a request


@pytest.mark.parametrize("case", ["no-client-cert", "unknown-ca"])
@pytest.mark.parametrize("partner", [
    pytest.param(IB, id="ib"), pytest.param(SUWINET, id="suwinet"),
    pytest.param(ARBODIENST, id="arbodienst"),
    pytest.param(FEED, id="provider-feed"),
])
def test_a_refused_client_certificate_is_a_tls_error_not_an_outage(partner, case, pki, other_pki):  # noqa: F811
    """TLS 1.3 refuses a client certificate after the client's handshake is done: the alert arrives on the first
    read. It must still say "TLS, check the certificate", once, not "try again later" max_attempts times."""
    app = partner.app()
    with SimServer(app, tls=server_ssl_context(pki)) as server:
        with pytest.raises(partner.error) as caught:
            partner.call(app, _client_files(case, pki, other_pki))
        assert not isinstance(caught.value, partner.transient) and "TLS" in str(caught.value)
        assert wait_for(lambda: server.handshake_failures >= 1)
        assert not wait_for(lambda: server.handshake_failures > 1, timeout=0.2)  # tried once, not retried


@pytest.mark.parametrize("case", ["unknown-ca", "wrong-host"])
@pytest.mark.parametrize("partner", [*MUTUAL, pytest.param(ZGW, id="zgw")])
def test_our_client_refuses_an_untrusted_or_misnamed_server(partner, case, pki, other_pki, misnamed_pki):  # noqa: F811
    served_by = pki if case == "unknown-ca" else misnamed_pki
    # unknown-ca: we trust another CA; wrong-host: we trust the server's CA, but its certificate names another host
    trusted = other_pki.ca_cert if case == "unknown-ca" else misnamed_pki.ca_cert
    app = partner.app()
    with SimServer(app, tls=server_ssl_context(served_by, require_client_cert=partner is not ZGW)) as server:
        with pytest.raises(partner.error) as caught:
            partner.call(app, _tls(trusted, served_by.client_cert, served_by.client_key))
        assert not isinstance(caught.value, partner.transient) and "TLS" in str(caught.value)
        assert server.request_count() == 0
        if partner in (IB, SUWINET):  # the SOAP connectors say why
            assert ("mismatch" if case == "wrong-host" else "CERTIFICATE_VERIFY_FAILED") in str(caught.value)
        if case == "unknown-ca":  # control: trusting the right CA gets in (wrong-host: see the test below)
            partner.call(app, _tls(served_by.ca_cert, served_by.client_cert, served_by.client_key))
            assert server.request_count() == 1


def test_the_misnamed_certificate_differs_only_in_its_name(pki, misnamed_pki):  # noqa: F811
    """Control for wrong-host: both server certificates come from the same generator, trusted via their own CA;
    only the names differ, so the refusal above is about the name."""
    def names(p: TestPki) -> tuple[list, list]:
        cert = x509.load_pem_x509_certificate(p.server_cert.read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        return san.get_values_for_type(x509.DNSName), [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]

    assert names(misnamed_pki) == (["partner.example.nl"], [])
    assert names(pki) == (["localhost"], ["127.0.0.1"])


# == 2. signed SOAP from the wire ====================================================================================
BSN = valid_bsn(777)
LKS_SEED = [{"bsn": BSN, "begin": "2025-06-01", "einde": "2026-05-31", "loonwaarde_pct": 50, "gemeentecode": "0518"}]
WV_SEED = {BSN: {"eerste_ao_dag": "2026-12-28"}}  # differs from the case's first sick day: a correction on success
EARLIER = LksPeriode(begin=dt.date(2020, 1, 1), einde=dt.date(2020, 12, 31), loonwaarde_pct=None, type_code=None,
                     gemeentecode="0518", bron=LksBron.SUWINET)
NOW = dt.datetime(2027, 3, 1, 11, tzinfo=dt.timezone.utc)
TODAY = dt.date(2027, 3, 2)


def _open_case(engine) -> int:
    fields = {"bericht_id": "SEC-1", "volgnummer": 1, "soort": "ZIEKMELDING_VANGNETTER", "bsn": BSN,
              "gemeentecode": "0518", "eerste_ziektedag": "2027-01-04", "datum_einde_dienstverband": "2027-01-29",
              "datum_melding": "2027-01-14", "wettelijke_grondslag": "ZW_38_2"}
    with store.session_scope(engine) as s:
        store.add_raw(s, source="ib", received_at=NOW, message_key="SEC-1",
                      payload=etree.tostring(fields_to_signal_element(fields), method="c14n", exclusive=True))
    assert process_inbox_batch(engine, source="ib", limit=10, today=NOW.date()).cases_created == 1
    with store.session_scope(engine) as s:
        store.replace_suwinet_lks(s, BSN, [EARLIER])  # what Suwinet said before: must survive a bad answer
        return store.find_active_case(s, "0518", BSN).id


def _state(engine, case_id: int) -> tuple:
    with store.session_scope(engine) as s:
        case = s.get(Case, case_id)
        inbox = s.scalar(select(func.count()).select_from(InboxMessage).where(InboxMessage.source == "suwinet"))
        failures = [e.details["fout"] for e in store.audit_for_case(s, case_id)
                    if e.action == "case.lks_opvraging_mislukt"]
        return case.besluit, case.eerste_ziektedag, store.lks_for_person(s, BSN), inbox, failures


@pytest.mark.parametrize("knob", SECURITY_KNOBS)
def test_a_bad_suwinet_reply_changes_no_case(knob, pki, sqlite_engine, caplog):  # noqa: F811
    """A tampered, unsigned, expired or wrongly signed Suwinet answer is no answer: the takeover does not decide
    (and does not read it as NietsGevonden, which would wipe the person's LKS), the safety net derives nothing."""
    caplog.set_level(logging.DEBUG)
    case_id = _open_case(sqlite_engine)
    sim = SuwinetSimulator(LKS_SEED, WV_SEED, security=SimSecurity.from_pki(pki))
    with SimServer(sim, tls=server_ssl_context(pki)) as server:
        env = demo_suwinet_environment(sim.reintegratie_endpoint, sim.werknemersverzekeringen_endpoint, pki)
        settings = Settings(_env_file=None, gemeentecode="0518",
                            **{name.removeprefix("VANGNET_").lower(): value for name, value in env.items()})
        lks_lookup, wv = runtime.suwinet_lks_lookup(settings), runtime.suwinet_client(settings)
        before = _state(sqlite_engine, case_id)

        server.set_faults(**{knob: 1})
        takeover = decide_pending(sqlite_engine, eigen_gemeentecode="0518", today=TODAY, limit=10,
                                  lks_lookup=lks_lookup)
        server.set_faults(**{knob: 1})
        net = check_batch(sqlite_engine, wv.werknemersverzekeringen, gemeentecode="0518", after_id=0, limit=10,
                          today=TODAY, now=NOW)
        assert (takeover.decided, len(takeover.lookup_failed), net.failed, net.derived) == (0, 1, 1, 0)
        assert server.request_count(method="POST") == 2  # one answer each, refused, not asked again
        assert _state(sqlite_engine, case_id) == (*before[:4], ["SuwinetSecurityError"])

        # Control: the same lookups with honest answers do decide and correct, so the checks above could fail.
        assert decide_pending(sqlite_engine, eigen_gemeentecode="0518", today=TODAY, limit=10,
                              lks_lookup=lks_lookup).decided == 1
        assert check_batch(sqlite_engine, wv.werknemersverzekeringen, gemeentecode="0518", after_id=0, limit=10,
                           today=TODAY, now=NOW).derived == 1
        besluit, eerste, lks, inbox, _ = _state(sqlite_engine, case_id)
        assert (besluit, eerste, inbox) == (Besluit.OVERNAME, dt.date(2026, 12, 28), 1) and EARLIER not in lks
        wv.close()
    assert BSN not in caplog.text


def _expired_signing_pair(directory: Path) -> tuple[Path, Path]:
    """An RSA signing certificate (and key) that expired yesterday."""
    now = dt.datetime.now(dt.timezone.utc)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "expired partner signing")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=400))
            .not_valid_after(now - dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "expired-sign.pem", directory / "expired-sign-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.mark.parametrize("partner", ["ib", "suwinet"])
def test_a_reply_under_an_expired_partner_certificate_is_refused(partner, pki, tmp_path):  # noqa: F811
    """Pinning the partner's signing certificate does not make it valid for ever."""
    expired_cert, expired_key = _expired_signing_pair(tmp_path)
    security = SimSecurity(signing_key=expired_key, signing_cert=expired_cert,
                           trusted_client_cert=pki.client_sign_cert)
    dk = {"profile": "2W-be-S", "signing_key_path": pki.client_sign_key, "signing_cert_path": pki.client_sign_cert,
          "trusted_sender_cert_path": expired_cert}
    tls = _tls(pki.ca_cert, pki.client_cert, pki.client_key)
    if partner == "ib":
        app = IbSimulator([record(1)], security=security)
        error: type[Exception] = IbError

        def call():
            with IbClient(IbSettings(endpoint=app.endpoint, digikoppeling=dk, **tls, **FAST)) as client:
                return client.fetch_page(0, 5)
    else:
        app, error = SuwinetSimulator([], {}, security=security), SuwinetError

        def call():
            with SuwinetClient(SuwinetSettings(reintegratie_endpoint=app.reintegratie_endpoint, digikoppeling=dk,
                                               **tls, **FAST)) as client:
                return client.reintegratie_info(BSN)
    with SimServer(app, tls=server_ssl_context(pki)) as server:
        with pytest.raises(error, match="expired on") as caught:
            call()
        assert "renewed certificate" in str(caught.value) and BSN not in str(caught.value)
        assert server.request_count(method="POST") == 1  # a security failure is not retried


# == 3. URLs outside the base URL ====================================================================================
@pytest.mark.parametrize("make_url", [
    pytest.param(lambda root: root + "zaken/%2e%2e/%2e%2e/%2e%2e/admin", id="encoded-dots"),
    pytest.param(lambda root: root + "zaken/1/..%2f..%2f..%2fadmin", id="encoded-slash"),
    pytest.param(lambda root: root.replace("/zaken/api/v1/", "/zaken/api/v1\\..\\..\\admin"), id="backslash"),
    pytest.param(lambda root: root.replace("http://", "https://") + "zaken/1", id="other-scheme"),
    pytest.param(lambda root: root.replace("127.0.0.1", "localhost") + "zaken/1", id="other-host-name"),
    pytest.param(lambda root: root.replace("http://", "http://127.0.0.1@") + "zaken/1", id="userinfo"),
    pytest.param(lambda root: root.replace("http://127.0.0.1:", "http://127.0.0.1:1@evil.example:"), id="at-host"),
    pytest.param(lambda root: root.replace("/zaken/api/v1/", "/ZAKEN/api/v1/") + "zaken/1", id="path-case"),
    pytest.param(lambda root: root + "zaken/..;/..;/..;/admin", id="dot-dot-semicolon"),  # Tomcat/Jetty/Spring
    pytest.param(lambda root: root + "%2e%2e%5c%2e%2e%5cadmin", id="encoded-backslash"),  # IIS
])
def test_zgw_client_refuses_more_url_tricks(make_url):
    """Absolute URLs come from the Zaken API and from our store; none of these may leave base_url."""
    sim = ZgwSimulator({"vangnet": "zgw-sec-secret"}, openapi_path=ZGW_OPENAPI)
    with SimServer(sim) as server:
        url = make_url(sim.api_root)
        with _zgw_client(sim.api_root, "zgw-sec-secret") as client, pytest.raises(ZakenRefusedUrl):
            client.get_zaak(url)
        assert server.requests == []


# == 4. secrets ======================================================================================================
class HeaderRecorder:
    """Wraps a simulator app to keep the Authorization header each request carried (for the leak check)."""

    def __init__(self, app) -> None:
        self.app, self.credentials = app, set()

    def bind(self, base_url: str) -> None:
        self.app.bind(base_url)

    def set_faults(self, **knobs) -> None:
        self.app.set_faults(**knobs)

    def __call__(self, method, path, headers, body):
        value = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        if value:
            self.credentials.add(value.split(" ", 1)[-1])
        return self.app(method, path, headers, body)


GOOD, WRONG = "good-credential-4f1c9e", "wrong-credential-88aa07"


def _rest_partner(name: str):
    """(app, client factory, operation, operation with an id that leaves base_url) for a bearer/JWT partner."""
    if name == "zgw":
        app = ZgwSimulator({"vangnet": GOOD}, openapi_path=ZGW_OPENAPI)
        return (app, lambda root, secret: _zgw_client(root, secret), lambda c: c.find_zaak("ZAAK-1"),
                lambda c: c.get_zaak("https://evil.example/zaken/api/v1/zaken/1"))
    if name == "arbodienst":
        app = ArbodienstSimulator(token=GOOD, start_date=MONDAY, days=3)
        return (app, lambda root, token: ArbodienstClient(ArbodienstSettings(name="arbo-sec", base_url=root,
                                                                             token=token, **FAST)),
                lambda c: c.list_slots(MONDAY, MONDAY), lambda c: c.get_booking("../../__arbo"))
    app = ProviderFeedSimulator(token=GOOD, seed=1)
    return (app, lambda root, token: ProviderFeedClient(FeedSettings(name="feed-sec", base_url=root, token=token,
                                                                     **FAST)),
            lambda c: c.list_since(None), lambda c: c.download("../../__providers"))


@pytest.mark.parametrize("name", ["zgw", "arbodienst", "provider-feed"])
def test_failing_partner_calls_never_show_a_credential(name, caplog):
    """Wrong credentials, a retried 503, a URL outside base_url, an unreachable partner: neither the configured
    secret nor any bearer value that went over the wire (the ZGW JWT included) is in a log record, an error, its
    repr or its traceback, or in the settings' repr."""
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx, httpcore, tenacity, the harness
    app, make_client, operation, outside = _rest_partner(name)
    recorder = HeaderRecorder(app)
    errors: list[BaseException] = []
    texts: list[str] = []
    with SimServer(recorder) as server:
        root = app.api_root
        for secret, faults, call in ((WRONG, {}, operation), (GOOD, {"status_next": 1, "status_code": 503}, operation),
                                     (GOOD, {}, outside), (GOOD, {"status_next": 9, "status_code": 503}, operation)):
            server.set_faults(**faults)
            with make_client(root, secret) as client:
                try:
                    call(client)
                except Exception as exc:  # noqa: BLE001 - collected and checked below
                    errors.append(exc)
                texts += [repr(client.settings), str(client.settings)]
            server.reset_faults()
    with socket.socket() as sock:  # a closed port: nobody answers
        sock.bind(("127.0.0.1", 0))
        dead = root.replace(root.split("/")[2], f"127.0.0.1:{sock.getsockname()[1]}")
        with make_client(dead, GOOD) as client:
            try:
                operation(client)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
    assert len(errors) == 4 and len(recorder.credentials) >= 2  # wrong and good (ZGW: a fresh JWT per request)
    assert "retrying" in caplog.text  # the 503s were logged: the log really was captured
    texts += [caplog.text, *map(str, errors), *map(repr, errors),
              *("".join(traceback.format_exception(e)) for e in errors)]
    leaked = [s for s in (GOOD, WRONG, *recorder.credentials) for text in texts if s in text]
    assert leaked == [], f"credential in a log, error or repr: {leaked[:1]}"
    assert "eyJ" not in "".join(texts)  # no JWT (base64 of '{"') anywhere


SECRET_SETTINGS = {
    "zgw_secret": "zgw-setting-secret-5d2e",
    "arbodienst_token": "arbo-setting-token-71b0",
    "provider_feed_tokens": {"reintegratie": "feed-setting-token-c3a8"},
    "alert_webhook_url": "https://hooks.example/services/T0K3N-in-the-url-9f",
    "alert_webhook_token": "webhook-setting-token-0b6d",
    "research_key": "research-setting-key-2f3c9a",
    "database_url": "postgresql://vangnet:db-setting-password-e81c@127.0.0.1:9/vangnet",
}


def _secret_text(field: str) -> str:
    value = SECRET_SETTINGS[field]
    if field == "database_url":
        return "db-setting-password-e81c"
    return next(iter(value.values())) if isinstance(value, dict) else value


def test_the_secret_settings_table_is_complete():
    """Every SecretStr setting is listed above (a new secret setting must join these checks)."""
    secret_typed = {name for name, field in Settings.model_fields.items() if "SecretStr" in str(field.annotation)}
    assert secret_typed <= set(SECRET_SETTINGS), sorted(secret_typed - set(SECRET_SETTINGS))


@pytest.mark.parametrize("field", [
    pytest.param(f, id=f) for f in SECRET_SETTINGS])
def test_settings_reprs_hide_every_secret(field):
    """A Settings object in a traceback with locals, a debugger or a log line must not show a secret."""
    settings = Settings(_env_file=None, **{field: SECRET_SETTINGS[field]})
    secret = _secret_text(field)
    assert secret not in repr(settings) and secret not in str(settings)


@pytest.mark.parametrize("field", list(SECRET_SETTINGS))
def test_doctor_masks_every_secret_setting(field):
    settings = Settings(_env_file=None, **{field: SECRET_SETTINGS[field]})
    assert _secret_text(field) in configured_secrets(settings)


@pytest.fixture
def clean_home(tmp_path, monkeypatch) -> Path:
    import os

    for name in list(os.environ):
        if name.startswith("VANGNET_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VANGNET_HOME", str(tmp_path / "var"))
    return tmp_path


def test_doctor_output_holds_no_secret(clean_home, monkeypatch):
    """Every secret-bearing setting configured at once, partners and database down, one feed URL with credentials
    and the wrong scheme (its error quotes the URL): neither the table nor the JSON shows a secret."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
        env = {"VANGNET_DATABASE_URL": SECRET_SETTINGS["database_url"].replace(":9/", f":{dead.rsplit(':', 1)[1]}/"),
               "VANGNET_PREFECT_API_URL": f"{dead}/api",
               "VANGNET_ZGW_BASE_URL": f"{dead}/zaken/api/v1/", "VANGNET_ZGW_SECRET": SECRET_SETTINGS["zgw_secret"],
               "VANGNET_ARBODIENST_BASE_URL": f"{dead}/arbo/api/v1/",
               "VANGNET_ARBODIENST_TOKEN": SECRET_SETTINGS["arbodienst_token"],
               "VANGNET_PROVIDER_FEEDS": json.dumps({"reintegratie": f"{dead}/feed/api/v1/",
                                                     "oud": "ftp://feeduser:feed-url-password-93@127.0.0.1/feed/"}),
               "VANGNET_PROVIDER_FEED_TOKENS": json.dumps(SECRET_SETTINGS["provider_feed_tokens"]),
               "VANGNET_ALERT_WEBHOOK_URL": SECRET_SETTINGS["alert_webhook_url"],
               "VANGNET_ALERT_WEBHOOK_TOKEN": SECRET_SETTINGS["alert_webhook_token"],
               "VANGNET_RESEARCH_KEY": "kort-geheim-7",  # too short: its check fails and says why
               }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        from flows.cli_doctor import doctor_app

        outputs = [CliRunner().invoke(doctor_app, [*args, "--timeout", "1"]) for args in ((), ("--json",))]
    checks = {c["name"]: c for c in json.loads(outputs[1].output)}
    assert checks["database"]["status"] == "fail" and checks["research key"]["status"] == "fail"
    assert checks["invoice feed oud"]["status"] == "fail"
    secrets = [_secret_text(f) for f in SECRET_SETTINGS] + ["kort-geheim-7", "feed-url-password-93"]
    for result in outputs:
        assert result.exit_code == 1
        assert [s for s in secrets if s in result.output] == []


def test_doctor_masks_the_password_of_any_url_it_quotes():
    """Second line of defence: a message quoting a URL with credentials (a validator echoing its input) is masked."""
    [check] = redact([Check("x", "fail", "got 'ftp://feeduser:pw-91@feed.nl/' and https://h.nl/p?a=b:c@d",
                            "use postgresql://u:p@ss@db/x")], [])
    assert check.detail == "got 'ftp://feeduser:***@feed.nl/' and https://h.nl/p?a=b:c@d"
    assert check.fix == "use postgresql://u:***@db/x"


@pytest.mark.parametrize("build", [
    pytest.param(lambda url: runtime.feed_clients(Settings(_env_file=None, provider_feeds={"f": url})),
                 id="provider-feed"),
    pytest.param(lambda url: runtime.zaken_client(Settings(_env_file=None, zgw_base_url=url, zgw_secret="zz-secret")),
                 id="zgw"),
    pytest.param(lambda url: __import__("flows.consults", fromlist=["x"]).arbodienst_client(
        Settings(_env_file=None, arbodienst_base_url=url)), id="arbodienst"),
    pytest.param(lambda url: runtime.build_ib_client(Settings(_env_file=None), endpoint=url), id="ib"),
    pytest.param(lambda url: runtime.suwinet_client(Settings(_env_file=None, suwinet_wv_endpoint=url)), id="suwinet"),
])
@pytest.mark.parametrize("url", ["https://bob:pw-4d1x@partner.nl/api/", "ftp://bob:pw-4d1x@partner.nl/api/"],
                         ids=["https", "ftp"])  # short: pydantic cuts the middle out of long values it quotes
def test_partner_url_credentials_stay_out_of_errors(build, url):
    """A partner URL with a password in it is refused, and the refusal does not repeat the password."""
    with pytest.raises(VangnetError) as caught:
        build(url)
    assert "pw-4d1x" not in f"{caught.value.message} {caught.value.hint}"


def test_the_database_password_stays_out_of_errors_logs_and_crash_log(clean_home, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        password = "db-pass-word-6c0e"
        monkeypatch.setenv("VANGNET_DATABASE_URL", f"postgresql://vangnet:{password}@127.0.0.1:"
                                                   f"{sock.getsockname()[1]}/vangnet")
        from flows import cli

        texts = []
        for args in (["db", "upgrade"], ["cases", "list"]):
            result = CliRunner().invoke(cli.app, args)
            assert result.exit_code != 0 and result.exception is not None
            texts += [result.output, str(result.exception), repr(result.exception),
                      "".join(traceback.format_exception(result.exception))]
        monkeypatch.setattr(sys, "argv", ["vangnet", "cases", "list"])
        with pytest.raises(SystemExit):
            cli.main()  # the last-resort handler writes the traceback to a crash log
    crash_log = clean_home / "var" / "logs" / "crash.log"
    texts += [crash_log.read_text(encoding="utf-8"), caplog.text]
    assert "OperationalError" in texts[-2]  # the failure really happened and was written down
    assert [t for t in texts if password in t] == []


def test_no_flow_parameter_can_carry_a_secret():
    """Prefect stores flow parameters and shows them in the UI: they are dates, numbers and plain strings, none
    named like a credential; deployments set none."""
    import importlib

    from prefect import Flow

    from flows.deployments import deployment_specs, runner_deployments

    flows = []
    for module in ("consults", "intake", "invoices", "monitor", "orders", "pipeline", "report", "retention", "riv",
                   "safety_net", "takeover", "zaken"):
        flows += [obj for obj in vars(importlib.import_module(f"flows.{module}")).values() if isinstance(obj, Flow)]
    assert len({f.name for f in flows}) >= 13
    credential = re.compile(r"secret|token|key|pass|cred|auth|cert|settings|client|bsn", re.IGNORECASE)
    for flow in flows:
        for name, spec in flow.parameters.properties.items():
            assert not credential.search(name), f"{flow.name}: parameter {name}"
            assert json.dumps(spec).count('"type"') >= 1 and '"format": "password"' not in json.dumps(spec)
    settings = Settings(_env_file=None, **SECRET_SETTINGS)
    for deployment in runner_deployments(settings):
        assert deployment.parameters == {} and not deployment.job_variables
    assert all(spec.entrypoint for spec in deployment_specs(settings))


# == 5. test certificates are generated, not committed ===============================================================
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\s+[A-Za-z0-9+/=\s]{40,}-----END \1-----")
_KEY_SUFFIXES = (".pem", ".key", ".crt", ".cer", ".der", ".p12", ".pfx", ".jks", ".csr", ".p7b", ".keystore")


def _repo_files() -> list[str]:
    """Tracked files plus untracked ones that are not ignored (what `git add -A` would commit)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout
    return [name for name in listed.decode().split("\0") if name]


def _looks_like_key_material(data: bytes) -> bool:
    if _PEM_BLOCK.search(data):
        return True
    if b"\0" not in data[:8192]:
        return False
    for load in (x509.load_der_x509_certificate, lambda d: serialization.load_der_private_key(d, password=None)):
        try:
            load(data)
            return True
        except (ValueError, TypeError):
            pass
    return False


def test_the_key_material_detector_works(pki):  # noqa: F811
    """The check below could fail: it spots PEM and DER keys and certificates, not a message quoting the marker."""
    key = pki.client_key.read_bytes()
    der = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes()).public_bytes(serialization.Encoding.DER)
    assert all(map(_looks_like_key_material, (key, pki.client_cert.read_bytes(), der)))
    assert not _looks_like_key_material(b'"a PEM file (-----BEGIN CERTIFICATE" "-----)"')


def test_no_private_key_or_certificate_is_in_the_repository():
    files = _repo_files()
    assert "simulators/certs.py" in files and len(files) > 100
    named = [f for f in files if f.lower().endswith(_KEY_SUFFIXES)]
    assert named == [], f"key or certificate files in the repository: {named}"
    found = []
    for name in files:
        path = REPO / name
        if path.is_file() and _looks_like_key_material(path.read_bytes()):
            found.append(name)
    assert found == [], f"PEM/DER key material committed (generate it with simulators/certs.py instead): {found}"


def test_every_test_pki_is_fresh_short_lived_and_private(tmp_path):
    first, second = generate_test_pki(tmp_path / "one"), generate_test_pki(tmp_path / "two")

    def public(path: Path) -> bytes:
        return x509.load_pem_x509_certificate(path.read_bytes()).public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    for field in ("ca_cert", "server_cert", "client_cert", "client_sign_cert", "server_sign_cert",
                  "untrusted_sign_cert"):
        assert public(getattr(first, field)) != public(getattr(second, field)), field
    for pki_ in (first, second):
        written = {p.name for p in pki_.directory.iterdir()}
        assert written == {getattr(pki_, f).name for f in vars(pki_) if f != "directory"}  # nothing else, nowhere else
        for key in (pki_.server_key, pki_.client_key, pki_.client_sign_key, pki_.server_sign_key,
                    pki_.untrusted_sign_key):
            assert key.stat().st_mode & 0o777 == 0o600 and b"ENCRYPTED" not in key.read_bytes()
        ca = x509.load_pem_x509_certificate(pki_.ca_cert.read_bytes())
        assert ca.not_valid_after_utc - ca.not_valid_before_utc < dt.timedelta(days=3)  # throwaway, never long-lived


def test_generated_pki_folders_are_never_committed():
    """The simulators' CLI writes where --tls-dir says, the demo and scenarios into a temporary folder, the
    default state folder var/ is ignored by git."""
    paths = ["var/pki/ca.pem", "var/tls/client-key.pem", "var/scenario/pki/server-key.pem"]
    ignored = subprocess.run(["git", "check-ignore", *paths], cwd=REPO, capture_output=True, text=True).stdout
    assert ignored.split() == paths
    for module in ("flows/demo.py", "flows/scenario.py"):
        source = (REPO / module).read_text(encoding="utf-8")
        assert "tempfile.TemporaryDirectory" in source and "running_partners(" in source, module
    assert "generate_test_pki(workdir" in (REPO / "flows/partners.py").read_text(encoding="utf-8")
