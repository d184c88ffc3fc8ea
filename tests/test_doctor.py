"""`vangnet doctor`: every check against real things on this machine (a SQLite store, PEM files made here,
simulators on 127.0.0.1, rule and contract folders in a temp dir); no network beyond 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sqlite3
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

import einvoicing
import store
from flows.cli_doctor import doctor_app
from flows.settings import Settings
from services import doctor
from services.doctor import Endpoint, check_certificates, check_rules, has_failures, probe, rule_files, run_checks
from simulators.certs import generate_test_pki, server_ssl_context
from simulators.harness import SimServer
from simulators.providers import ProviderFeedSimulator

ZGW_SECRET = "zgw-jwt-secret-7f3a9c1e"
ARBO_TOKEN = "arbo-token-52b8d0aa"
FEED_TOKEN = "feed-token-e41c77f2"
DB_PASSWORD = "db-password-90ac13"


# -- fixtures ----------------------------------------------------------------------------------------------
@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 that refuses connections (bound, never listening) for the whole test."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def home(tmp_path, monkeypatch, closed_port) -> Path:
    """A clean environment: no VANGNET_* variables, no .env, state in tmp, no Prefect server."""
    for name in list(os.environ):
        if name.startswith("VANGNET_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VANGNET_HOME", str(tmp_path / "var"))
    monkeypatch.setenv("VANGNET_PREFECT_API_URL", f"http://127.0.0.1:{closed_port}/api")
    return tmp_path


@pytest.fixture
def migrated(home) -> str:
    url = f"sqlite:///{home / 'var' / 'vangnet.db'}"
    store.upgrade(url)
    return url


def by_name(checks) -> dict:
    named = {c.name: c for c in checks}
    assert len(named) == len(checks), "check names must be unique"
    return named


def invoke(*args: str):
    return CliRunner().invoke(doctor_app, list(args))


def pem_pair(directory: Path, name: str, *, days: int, start_days: int = -1, key_for: Path | None = None,
             key_mode: int = 0o600) -> tuple[Path, Path]:
    """A self-signed EC certificate valid from now+start_days to now+days, and its key (or another key)."""
    now = dt.datetime.now(dt.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now + dt.timedelta(days=start_days))
            .not_valid_after(now + dt.timedelta(days=days)).sign(key, hashes.SHA256()))
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(key_mode)
    return cert_path, key_path


# -- a clean installation -----------------------------------------------------------------------------------
def test_a_clean_home_with_a_migrated_database_has_no_failure(migrated):
    checks = by_name(run_checks())
    assert not has_failures(checks.values()), [c for c in checks.values() if c.status == "fail"]
    assert checks["settings"].status == "ok"
    assert checks["database"].status == "ok" and "vangnet.db" in checks["database"].detail
    assert checks["database schema"].status == "ok" and store.head_revision() in checks["database schema"].detail
    assert checks["gemeentecode"].status == "warn" and "VANGNET_GEMEENTECODE" in checks["gemeentecode"].fix
    assert checks["partner IB"].status == "skip" and "VANGNET_IB_ENDPOINT" in checks["partner IB"].fix
    assert checks["zaaksysteem (ZGW) settings"].status == "skip"
    assert checks["certificates"].status == "skip"
    assert checks["partner Prefect API"].status == "warn"
    assert checks["provider contracts"].status == "warn"  # the demo contracts
    assert checks["e-invoicing rules"].status in ("ok", "warn")  # the shared corpus, when this machine has it


def test_the_cli_exits_0_without_failures_and_prints_a_table_or_json(migrated):
    table = invoke()
    assert table.exit_code == 0, table.output
    assert "database schema" in table.output and "Ready, with warnings" in table.output
    as_json = invoke("--json")
    assert as_json.exit_code == 0
    rows = json.loads(as_json.output)
    assert {"name", "status", "detail", "fix"} == set(rows[0]) and {r["status"] for r in rows} <= {"ok", "warn", "skip"}


# -- settings -----------------------------------------------------------------------------------------------
def test_an_invalid_variable_is_named_without_its_value_and_the_other_checks_still_run(migrated, monkeypatch):
    monkeypatch.setenv("VANGNET_IB_PAGE_SIZE", "0")
    monkeypatch.setenv("VANGNET_PROVIDER_FEED_TOKENS", '{"reintegratie": "' + FEED_TOKEN + '"')  # broken JSON
    checks = by_name(run_checks())
    settings = checks["settings"]
    assert settings.status == "fail"
    assert "VANGNET_IB_PAGE_SIZE" in settings.detail and "VANGNET_PROVIDER_FEED_TOKENS" in settings.detail
    assert checks["database schema"].status == "ok"  # the rest ran, with defaults for the bad ones
    result = invoke("--json")
    assert result.exit_code == 1 and FEED_TOKEN not in result.output


def test_an_invalid_gemeentecode_fails(migrated, monkeypatch):
    monkeypatch.setenv("VANGNET_GEMEENTECODE", "GM0363")
    assert by_name(run_checks())["gemeentecode"].status == "fail"


def test_a_zgw_base_url_without_secret_fails_and_with_everything_set_is_ok(migrated, monkeypatch):
    monkeypatch.setenv("VANGNET_ZGW_BASE_URL", "https://zaken.example.nl/zaken/api/v1/")
    check = doctor.check_zgw(Settings())
    assert check.status == "fail" and "VANGNET_ZGW_SECRET" in check.detail and "VANGNET_ZGW_SECRET" in check.fix
    catalogue = "https://catalogi.example.nl/catalogi/api/v1"
    for name, value in {"SECRET": ZGW_SECRET, "CLIENT_ID": "vangnet", "ZAAKTYPE": f"{catalogue}/zaaktypen/1",
                        "STATUSTYPE_INTAKE": f"{catalogue}/statustypen/1",
                        "STATUSTYPE_EINDE": f"{catalogue}/statustypen/2",
                        "ROLTYPE_BETROKKENE": f"{catalogue}/roltypen/1", "BRONORGANISATIE": "002220647"}.items():
        monkeypatch.setenv(f"VANGNET_ZGW_{name}", value)
    check = doctor.check_zgw(Settings())
    assert check.status == "ok", check


def test_ib_on_2w_be_s_needs_its_signing_files(home):
    settings = Settings(ib_endpoint="https://ib.example.nl/signalen", ib_client_cert=home / "c.pem",
                        ib_client_key=home / "k.pem", ib_ca_bundle=home / "ca.pem")
    check = doctor.check_digikoppeling(settings, "ib")
    assert check.status == "fail"
    for variable in ("VANGNET_IB_SIGNING_KEY", "VANGNET_IB_SIGNING_CERT", "VANGNET_IB_SENDER_CERT"):
        assert variable in check.detail


def test_arbodienst_without_token_and_a_feed_without_token_warn(home):
    settings = Settings(arbodienst_base_url="https://arbo.example.nl/api/v1/",
                        provider_feeds={"reintegratie": "https://feed.example.nl/api/v1/"})
    assert doctor.check_arbodienst(settings).status == "warn"
    [feed] = doctor.check_feeds(settings)
    assert feed.status == "warn" and "VANGNET_PROVIDER_FEED_TOKENS" in feed.fix


def test_the_research_key_is_optional_but_must_be_usable_when_set(home, tmp_path):
    assert doctor.check_research_key(Settings()).status == "skip"
    short = doctor.check_research_key(Settings(research_key="kort"))
    assert short.status == "fail" and "kort" not in short.detail + short.fix
    missing = doctor.check_research_key(Settings(research_key_file=tmp_path / "nope.key"))
    assert missing.status == "fail" and "VANGNET_RESEARCH_KEY_FILE" in missing.fix
    (tmp_path / "research.key").write_text("0123456789abcdef0123\n")
    ok = doctor.check_research_key(Settings(research_key_file=tmp_path / "research.key"))
    assert (ok.status, ok.detail) == ("ok", "set (20 bytes)")
    assert "0123456789abcdef0123" in doctor.configured_secrets(Settings(research_key="0123456789abcdef0123"))


# -- database -----------------------------------------------------------------------------------------------
def test_a_missing_database_fails_with_db_upgrade_and_is_not_created(home):
    checks = by_name(run_checks())
    assert checks["database"].status == "fail" and "vangnet db upgrade" in checks["database"].fix
    assert not (home / "var" / "vangnet.db").exists()


@pytest.mark.parametrize("revision", [None, "0003_advice_reports"])
def test_an_unmigrated_or_old_database_fails_with_db_upgrade(home, revision):
    path = home / "var" / "vangnet.db"
    url = f"sqlite:///{path}"
    if revision is None:
        path.parent.mkdir(parents=True)
        sqlite3.connect(path).close()
    else:
        store.upgrade(url, revision)
    checks = by_name(run_checks())
    assert checks["database"].status == "ok"
    schema = checks["database schema"]
    assert schema.status == "fail" and schema.fix == "Run `vangnet db upgrade`."
    if revision:
        assert revision in schema.detail and store.head_revision() in schema.detail


# -- certificates -------------------------------------------------------------------------------------------
def test_a_valid_certificate_with_its_key_is_ok(home):
    cert, key = pem_pair(home, "client", days=400)
    [check] = check_certificates(Settings(ib_client_cert=cert, ib_client_key=key))
    assert check.status == "ok" and "CN=client" in check.detail and "key matches" in check.detail


def test_an_expired_certificate_fails(home):
    cert, key = pem_pair(home, "client", days=-2, start_days=-30)
    [check] = check_certificates(Settings(ib_client_cert=cert, ib_client_key=key))
    assert check.status == "fail" and "expired on" in check.detail and "Renew" in check.fix


def test_a_certificate_expiring_within_30_days_warns_with_the_date(home):
    cert, _ = pem_pair(home, "ib-signing", days=10)
    [check] = check_certificates(Settings(ib_sender_cert=cert))
    ends = x509.load_pem_x509_certificate(cert.read_bytes()).not_valid_after_utc
    assert check.status == "warn" and f"{ends:%Y-%m-%d}" in check.detail and "in 9 days" in check.detail


def test_expiry_is_judged_at_now(home):
    cert, key = pem_pair(home, "client", days=400)
    settings = Settings(ib_client_cert=cert, ib_client_key=key)
    soon = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=390)
    assert check_certificates(settings, now=soon)[0].status == "warn"
    assert check_certificates(settings, now=soon + dt.timedelta(days=20))[0].status == "fail"


def test_a_key_that_does_not_belong_to_the_certificate_fails(home):
    cert, _ = pem_pair(home, "client", days=400)
    _, other_key = pem_pair(home, "other", days=400)
    [check] = check_certificates(Settings(suwinet_client_cert=cert, suwinet_client_key=other_key))
    assert check.status == "fail" and "does not belong" in check.detail and "VANGNET_SUWINET_CLIENT_KEY" in check.fix
    assert "PRIVATE KEY" not in check.detail + check.fix


def test_a_key_readable_by_others_warns(home):
    cert, key = pem_pair(home, "client", days=400, key_mode=0o644)
    [check] = check_certificates(Settings(ib_client_cert=cert, ib_client_key=key))
    assert check.status == "warn" and "chmod 600" in check.fix


def test_a_missing_file_and_a_file_without_a_certificate_fail(home):
    (home / "garbage.pem").write_text("not a certificate")
    settings = Settings(ib_ca_bundle=home / "absent.pem", ib_sender_cert=home / "garbage.pem")
    checks = by_name(check_certificates(settings))
    assert checks["certificate VANGNET_IB_CA_BUNDLE"].status == "fail"
    assert "does not exist" in checks["certificate VANGNET_IB_CA_BUNDLE"].detail
    assert checks["certificate VANGNET_IB_SENDER_CERT"].status == "fail"
    assert "no PEM certificate" in checks["certificate VANGNET_IB_SENDER_CERT"].detail


def test_a_certificate_not_valid_yet_fails(home):
    cert, _ = pem_pair(home, "future", days=400, start_days=3)
    for settings in (Settings(ib_sender_cert=cert), Settings(ib_ca_bundle=cert)):
        [check] = check_certificates(settings)
        assert check.status == "fail" and "not valid before" in check.detail


def test_a_ca_bundle_with_an_expired_certificate_warns(home):
    good, _ = pem_pair(home, "good-ca", days=400)
    old, _ = pem_pair(home, "old-ca", days=-1, start_days=-30)
    bundle = home / "bundle.pem"
    bundle.write_bytes(good.read_bytes() + old.read_bytes())
    [check] = check_certificates(Settings(ib_ca_bundle=bundle))
    assert check.status == "warn" and "1 of 2" in check.detail


# -- partners -----------------------------------------------------------------------------------------------
@pytest.fixture
def feed_server():
    sim = ProviderFeedSimulator(token=FEED_TOKEN, seed=1)
    with SimServer(sim, seed=1) as server:
        yield sim, server


def test_a_partner_on_a_closed_port_fails_with_host_and_port(migrated, monkeypatch, closed_port):
    monkeypatch.setenv("VANGNET_ARBODIENST_BASE_URL", f"http://127.0.0.1:{closed_port}/api/v1/")
    check = by_name(run_checks(timeout=1.0))["partner arbodienst"]
    assert check.status == "fail" and f"127.0.0.1:{closed_port}" in check.detail
    assert "firewall/VPN" in check.fix and "VANGNET_ARBODIENST_BASE_URL" in check.fix


def test_a_running_simulator_is_reachable_and_gets_no_business_call(migrated, monkeypatch, feed_server):
    sim, server = feed_server
    monkeypatch.setenv("VANGNET_PROVIDER_FEEDS", json.dumps({"reintegratie": sim.api_root}))
    monkeypatch.setenv("VANGNET_PROVIDER_FEED_TOKENS", json.dumps({"reintegratie": FEED_TOKEN}))
    checks = by_name(run_checks())
    assert checks["invoice feed reintegratie"].status == "ok"
    check = checks["partner invoice feed reintegratie"]
    assert check.status == "ok" and f"127.0.0.1:{server.port} answered HTTP" in check.detail
    assert [r.method for r in server.requests] == ["HEAD"]


def test_mutual_tls_with_the_configured_files_and_without_them(tmp_path, feed_server):
    sim, _ = feed_server
    pki = generate_test_pki(tmp_path / "pki")
    with SimServer(sim, tls=server_ssl_context(pki)) as tls_server:
        url = f"{tls_server.url}/signalen"
        full = Endpoint("partner IB", url, "VANGNET_IB_ENDPOINT", ca_bundle=pki.ca_cert, client_cert=pki.client_cert,
                        client_key=pki.client_key, tls_prefix="ib")
        ok = probe(full, timeout=2.0)
        assert ok.status == "ok" and "TLS" in ok.detail
        no_client_cert = probe(Endpoint("partner IB", url, "VANGNET_IB_ENDPOINT", ca_bundle=pki.ca_cert,
                                        tls_prefix="ib"), timeout=2.0)
        assert no_client_cert.status == "fail" and "VANGNET_IB_CLIENT_CERT" in no_client_cert.fix
        untrusted = probe(Endpoint("partner IB", url, "VANGNET_IB_ENDPOINT", client_cert=pki.client_cert,
                                   client_key=pki.client_key, tls_prefix="ib"), timeout=2.0)
        assert untrusted.status == "fail" and "not trusted" in untrusted.detail
        assert "VANGNET_IB_CA_BUNDLE" in untrusted.fix


def test_a_partner_that_accepts_but_never_answers_is_a_warning_within_the_timeout():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/api/v1/"
        check = probe(Endpoint("partner arbodienst", url, "VANGNET_ARBODIENST_BASE_URL"), timeout=0.3)
    assert check.status == "warn" and "no HTTP answer" in check.detail


# -- e-invoicing rules --------------------------------------------------------------------------------------
def rules_folder(root: Path, *, leave_out: str | None = None, content: str = "") -> Path:
    for relative in rule_files():
        if relative != leave_out:
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            (root / relative).write_text(content)
    return root


def test_a_rules_folder_missing_one_stylesheet_fails_naming_it(home, monkeypatch):
    missing = einvoicing.PROFILES[0].stylesheets[0]
    monkeypatch.setenv("VANGNET_EINVOICE_RULES_DIR", str(rules_folder(home / "rules", leave_out=missing)))
    check = by_name(run_checks())["e-invoicing rules"]
    assert check.status == "fail" and missing in check.detail and "1 of" in check.detail


def test_complete_rules_are_ok_and_deep_compiles_them(home):
    rules = rules_folder(home / "rules", content="<not-a-stylesheet/>")
    assert check_rules(Settings(einvoice_rules_dir=rules)).status == "ok"
    deep = check_rules(Settings(einvoice_rules_dir=rules), deep=True)
    assert deep.status == "fail" and "do not compile" in deep.detail


def test_no_rules_folder_warns_and_a_configured_missing_one_fails(home, monkeypatch):
    monkeypatch.setattr(einvoicing, "default_rules_dir", lambda: None)
    absent = check_rules(Settings())
    assert absent.status == "warn" and "VANGNET_EINVOICE_RULES_DIR" in absent.fix
    assert check_rules(Settings(einvoice_rules_dir=home / "nowhere")).status == "fail"


# -- provider contracts -------------------------------------------------------------------------------------
def test_a_broken_contract_file_fails_with_the_contract_error(home, migrated, monkeypatch):
    folder = home / "contracts"
    folder.mkdir()
    (folder / "kapot.json").write_text('{"provider_id": "kvk:12345678",')
    monkeypatch.setenv("VANGNET_PROVIDER_CONTRACTS_DIR", str(folder))
    check = by_name(run_checks())["provider contracts"]
    assert check.status == "fail" and "kapot.json" in check.detail and "geen geldige JSON" in check.detail


def test_the_arbodienst_contract_must_be_in_the_contracts_folder(home):
    assert by_name(doctor.check_contracts(Settings(arbodienst_contract="arbodienst-demo")))[
        "arbodienst contract"].status == "ok"
    check = by_name(doctor.check_contracts(Settings(arbodienst_contract="kvk:12345678")))["arbodienst contract"]
    assert check.status == "fail" and "VANGNET_ARBODIENST_CONTRACT" in check.fix


# -- secrets and isolation ----------------------------------------------------------------------------------
def test_secrets_never_appear_in_the_output(home, monkeypatch, closed_port):
    dead = f"http://127.0.0.1:{closed_port}"
    monkeypatch.setenv("VANGNET_DATABASE_URL", f"postgresql://vangnet:{DB_PASSWORD}@127.0.0.1:{closed_port}/vangnet")
    monkeypatch.setenv("VANGNET_ZGW_BASE_URL", f"{dead}/zaken/api/v1/")
    monkeypatch.setenv("VANGNET_ZGW_SECRET", ZGW_SECRET)
    monkeypatch.setenv("VANGNET_ARBODIENST_BASE_URL", f"{dead}/arbo/api/v1/")
    monkeypatch.setenv("VANGNET_ARBODIENST_TOKEN", ARBO_TOKEN)
    monkeypatch.setenv("VANGNET_PROVIDER_FEEDS", json.dumps({"reintegratie": f"{dead}/feed/api/v1/"}))
    monkeypatch.setenv("VANGNET_PROVIDER_FEED_TOKENS", json.dumps({"reintegratie": FEED_TOKEN, "typo": ARBO_TOKEN}))
    for args in ((), ("--json",)):
        result = invoke(*args, "--timeout", "1")
        assert result.exit_code == 1  # the database and the partners are down
        for secret in (ZGW_SECRET, ARBO_TOKEN, FEED_TOKEN, DB_PASSWORD):
            assert secret not in result.output
    database = by_name(run_checks(timeout=1.0))["database"]
    assert database.status == "fail" and "***" in database.detail  # the URL, password masked


def test_redact_masks_every_secret_in_detail_and_fix():
    [check] = doctor.redact([doctor.Check("x", "fail", f"got {ZGW_SECRET}", f"not {ARBO_TOKEN}")],
                            [ZGW_SECRET, ARBO_TOKEN])
    assert check.detail == "got ***" and check.fix == "not ***"


def test_one_check_crashing_does_not_stop_the_others(migrated, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError(f"boom {ZGW_SECRET}")

    monkeypatch.setattr(doctor, "check_database", broken)
    checks = by_name(run_checks())
    crashed = checks["database"]
    assert crashed.status == "fail" and "RuntimeError" in crashed.detail and ZGW_SECRET not in crashed.detail
    assert "partner IB" in checks and "e-invoicing rules" in checks and "provider contracts" in checks


def test_log_redaction_config_is_checked(tmp_path):
    from services.doctor import check_log_redaction

    assert check_log_redaction().status == "ok"
    broken = tmp_path / "logging.yml"
    broken.write_text("version: 1\nfilters: {redact: {'()': flows.logs.RedactingFilter}}\n"
                      "handlers: {console: {class: logging.StreamHandler, filters: [redact]}, "
                      "api: {class: logging.StreamHandler}}\n", encoding="utf-8")
    check = check_log_redaction(broken)
    assert (check.status, check.detail) == ("fail", "handlers without the redact filter: api")
    assert check_log_redaction(tmp_path / "absent.yml").status == "fail"
