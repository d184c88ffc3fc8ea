"""The Zaken API connector against the ZGW simulator over real HTTP: end to end, retries, pinning, privacy."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from datetime import date, datetime, timezone

import httpx
import pytest

from connectors.zaken import (
    Zaak,
    ZakenAuthError,
    ZakenClient,
    ZakenRefusedUrl,
    ZakenRejected,
    ZakenSettings,
    ZakenUnavailable,
)
from connectors.zaken import auth as zaken_auth
from mappings.zgw import zaak_identificatie, zaak_omschrijving
from simulators.harness import SimServer
from simulators.zgw import DEFAULT_OPENAPI, ZgwSimulator

SECRET = "connector-test-secret"
BSN = "111222333"  # passes the 11-proef; test data only
CAT = "https://catalogi.example.nl/catalogi/api/v1"
IDENT = zaak_identificatie("VN-000012", "0518")
FAST = {"retry_backoff_seconds": 0.001, "retry_max_backoff_seconds": 0.01, "timeout_seconds": 2.0}


@pytest.fixture(scope="module")
def openapi_path():
    if not DEFAULT_OPENAPI.is_file():
        pytest.fail(f"official Zaken API OpenAPI file missing at {DEFAULT_OPENAPI}: the ZGW simulator validates "
                    "against it. Check out ../shared/contracts (see its MANIFEST.md) next to the repository.")
    return DEFAULT_OPENAPI


class Recorder:
    """Wraps the simulator app to keep each request's headers (the simulator itself never keeps them)."""

    def __init__(self, app):
        self.app, self.headers = app, []

    def bind(self, base_url):
        self.app.bind(base_url)

    def set_faults(self, **knobs):
        self.app.set_faults(**knobs)

    def __call__(self, method, path, headers, body):
        self.headers.append((method, dict(headers)))
        return self.app(method, path, headers, body)


@pytest.fixture
def zgw(openapi_path):
    sim = ZgwSimulator({"vangnet": SECRET}, openapi_path=openapi_path, eind_statustypen={f"{CAT}/statustypen/9"})
    recorder = Recorder(sim)
    with SimServer(recorder, seed=1) as server:
        yield sim, server, recorder


def settings_for(base_url: str, **overrides) -> ZakenSettings:
    values = dict(base_url=base_url, client_id="vangnet", secret=SECRET, user_id="vangnet-test",
                  user_representation="vangnet (test)", zaaktype=f"{CAT}/zaaktypen/1",
                  statustype_intake=f"{CAT}/statustypen/1", statustype_einde=f"{CAT}/statustypen/9",
                  roltype_betrokkene=f"{CAT}/roltypen/1", bronorganisatie="002220647", **FAST)
    return ZakenSettings(**{**values, **overrides})


def client(sim: ZgwSimulator, **overrides) -> ZakenClient:
    return ZakenClient(settings_for(sim.api_root, **overrides))


def create(c: ZakenClient, ident: str = IDENT) -> Zaak:
    return c.create_zaak(ident, omschrijving=zaak_omschrijving("VN-000012"), startdatum=date(2024, 3, 1),
                         registratiedatum=date(2024, 3, 4), toelichting="Geregistreerd door vangnet")


def decode(jwt: str, secret: str) -> tuple[dict, dict]:
    """Independent HS256 check (not the connector's code)."""
    head, claims, sig = jwt.split(".")
    expected = hmac.new(secret.encode(), f"{head}.{claims}".encode(), hashlib.sha256).digest()
    assert hmac.compare_digest(expected, base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
    parse = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return parse(head), parse(claims)


def test_end_to_end_zaak_status_rol_and_close(zgw):
    sim, server, _ = zgw
    with client(sim) as c:
        zaak = create(c)
        assert zaak.identificatie == IDENT and zaak.url == f"{sim.api_root}zaken/{zaak.uuid}"
        status_url = c.set_status(zaak.url, c.settings.statustype_intake, date(2024, 3, 4), "Zaak geregistreerd")
        rol_url = c.add_rol_natuurlijk_persoon(zaak.url, c.settings.roltype_betrokkene, BSN, "Vangnetter VN-000012")
        end_url = c.close_zaak(zaak.url, datum=datetime(2024, 9, 1, 10, tzinfo=timezone.utc), toelichting="Afgerond")
        assert c.get_zaak(zaak.url) == zaak
        assert c.find_zaak(IDENT) == zaak and c.find_zaak("VANGNET-0518-VN-999999") is None
    assert status_url.startswith(f"{sim.api_root}statussen/") and end_url.startswith(f"{sim.api_root}statussen/")
    assert rol_url.startswith(f"{sim.api_root}rollen/")
    assert sim.counts() == {"zaken": 1, "statussen": 2, "rollen": 1}
    stored = sim.zaken[0]
    assert stored["einddatum"] == "2024-09-01" and stored["status"] == end_url
    assert stored["omschrijving"] == "Re-integratie vangnetter (Participatiewet), VN-000012"
    assert sim.rollen[0]["betrokkeneIdentificatie"] == {"inpBsn": BSN}
    assert all(e.status in (200, 201) for e in sim.events)  # every body passed the official-schema check
    assert server.request_count() == 7


def test_every_request_has_a_fresh_zgw_jwt_and_crs_headers(zgw, monkeypatch):
    sim, _, recorder = zgw
    clock = iter(range(1_700_000_000, 1_800_000_000, 5))
    monkeypatch.setattr(zaken_auth.time, "time", lambda: float(next(clock)))
    with client(sim, user_id="u-42", user_representation="Vangnet robot") as c:
        zaak = create(c)
        c.set_status(zaak.url, c.settings.statustype_intake, date(2024, 3, 4), "Zaak geregistreerd")
        c.get_zaak(zaak.url)
    iats = []
    for method, headers in recorder.headers:
        scheme, _, jwt = headers["Authorization"].partition(" ")
        head, claims = decode(jwt, SECRET)
        assert scheme == "Bearer" and head == {"alg": "HS256", "typ": "JWT"}
        assert claims["iss"] == claims["client_id"] == "vangnet"
        assert (claims["user_id"], claims["user_representation"]) == ("u-42", "Vangnet robot")
        iats.append(claims["iat"])
        assert headers["Accept-Crs"] == "EPSG:4326"
        if method == "POST":
            assert headers["Content-Crs"] == "EPSG:4326" and headers["Content-Type"] == "application/json"
        else:
            assert "Content-Crs" not in headers and "Content-Type" not in headers
    assert len(iats) == 3 and len(set(iats)) == 3


def test_missing_crs_headers_get_412_from_the_simulator(zgw):
    sim, _, _ = zgw
    with client(sim) as c:
        auth = c._headers(with_body=True)
    body = {"bronorganisatie": "002220647", "verantwoordelijkeOrganisatie": "002220647",
            "zaaktype": f"{CAT}/zaaktypen/1", "startdatum": "2024-03-01"}
    for missing in ("Accept-Crs", "Content-Crs"):
        r = httpx.post(f"{sim.api_root}zaken", json=body, headers={k: v for k, v in auth.items() if k != missing})
        assert r.status_code == 412, missing
    assert sim.counts()["zaken"] == 0


def test_wrong_secret_is_an_auth_error_and_not_retried(zgw):
    sim, server, _ = zgw
    with client(sim, secret="not-the-secret") as c, pytest.raises(ZakenAuthError) as info:
        create(c)
    assert info.value.status == 401 and "client_id and secret" in str(info.value)
    assert "not-the-secret" not in str(info.value)
    assert server.request_count() == 1 and sim.counts()["zaken"] == 0


def test_duplicate_create_returns_the_same_zaak(zgw):
    sim, _, _ = zgw
    with client(sim) as c:
        first = create(c)
    with client(sim) as c:  # a restart
        second = create(c)
    assert first == second and sim.counts()["zaken"] == 1


def test_503_twice_then_success_makes_one_zaak(zgw):
    sim, server, _ = zgw
    server.set_faults(status_next=2, status_code=503)
    with client(sim, max_attempts=3) as c:
        create(c)
    assert server.request_count(method="POST") == 3 and sim.counts()["zaken"] == 1


def test_persistent_503_gives_unavailable_after_exactly_max_attempts(zgw):
    sim, server, _ = zgw
    server.set_faults(status_probability=1.0, status_code=503)
    with client(sim, max_attempts=4) as c, pytest.raises(ZakenUnavailable) as info:
        create(c)
    assert server.request_count() == 4 and sim.counts()["zaken"] == 0
    assert "/zaken/api/v1/zaken" in str(info.value) and "try again later" in str(info.value)


@pytest.mark.parametrize("fault", [{"drop_next": 1}, {"hold_next": 1, "hold_seconds": 2},
                                   {"fail_after_commit_next": 1}])
def test_lost_answers_on_create_never_make_a_second_zaak(zgw, fault):
    sim, server, _ = zgw
    server.set_faults(**fault)
    with client(sim, timeout_seconds=0.5) as c:
        zaak = create(c)
    assert sim.counts()["zaken"] == 1 and sim.zaken[0]["url"] == zaak.url


def test_status_post_that_may_have_been_stored_is_not_repeated(zgw):
    sim, server, _ = zgw
    with client(sim) as c:
        zaak = create(c)
        server.set_faults(fail_after_commit_next=1)
        with pytest.raises(ZakenUnavailable, match="may have been stored"):
            c.set_status(zaak.url, c.settings.statustype_intake, date(2024, 3, 4), "Zaak geregistreerd")
        assert server.request_count(method="POST", path="/zaken/api/v1/statussen") == 1
        server.set_faults(status_next=2, status_code=503)  # 503: not handled, so safe to repeat
        c.set_status(zaak.url, c.settings.statustype_intake, date(2024, 3, 5), "Zaak geregistreerd")
    assert sim.counts()["statussen"] == 2


def test_retry_after_is_honoured_up_to_the_cap(zgw):
    sim, server, _ = zgw
    server.set_faults(throttle_next=1, retry_after=1)
    with client(sim, retry_after_cap_seconds=5) as c:
        create(c)
    first, second = server.requests[:2]
    assert first.status == 429 and second.started - first.started >= 0.9
    server.set_faults(throttle_next=1, retry_after=3600)
    started = time.monotonic()
    with client(sim, retry_after_cap_seconds=0.2) as c:
        create(c, "VANGNET-0518-VN-000013")
    assert time.monotonic() - started < 2 and sim.counts()["zaken"] == 2


def test_rejection_carries_codes_and_field_names_and_is_not_retried(zgw):
    sim, server, _ = zgw
    with client(sim) as c:
        zaak = create(c)
        with pytest.raises(ZakenRejected) as info:
            c.set_status(zaak.url, "not a url", date(2024, 3, 4), "Zaak geregistreerd")
    assert info.value.status == 400 and info.value.code == "invalid"
    assert info.value.invalid_params == (("statustype", "invalid"),)
    assert "POST /zaken/api/v1/statussen" in str(info.value) and "not a url" not in str(info.value)
    assert server.request_count(method="POST", path="/zaken/api/v1/statussen") == 1


@pytest.mark.parametrize("make_url", [
    lambda root: "https://zaken.elders.nl/zaken/api/v1/zaken/1",
    lambda root: root.replace("http://", "https://") + "zaken/1",
    lambda root: root.replace("127.0.0.1:", "127.0.0.1:1") + "zaken/1",
    lambda root: root.replace("/zaken/api/v1/", "/admin/zaken/1"),
    lambda root: root + "../../../admin",
    lambda root: root + "zaken/%2e%2e/%2e%2e/admin",
    lambda root: root.replace("http://", "http://user:pw@") + "zaken/1",
    lambda root: "//evil.example/zaken/api/v1/zaken/1",
    lambda root: "/admin",
])
def test_urls_outside_base_url_are_refused_before_any_request(zgw, make_url):
    sim, server, _ = zgw
    url = make_url(sim.api_root)
    with client(sim) as c:
        with pytest.raises(ZakenRefusedUrl):
            c.get_zaak(url)
        with pytest.raises(ZakenRefusedUrl):
            c.set_status(url, c.settings.statustype_intake, date(2024, 3, 4), "Zaak geregistreerd")
        with pytest.raises(ZakenRefusedUrl):
            c.add_rol_natuurlijk_persoon(url, c.settings.roltype_betrokkene, BSN, "Vangnetter")
    assert server.requests == []


def test_server_links_outside_base_url_are_not_followed():
    """A Zaken API whose ``next`` link or zaak URL points elsewhere: refused after the one request."""

    def app(method, path, headers, body):
        if method == "GET":
            page = {"count": 2, "previous": None, "results": [],
                    "next": "https://evil.example/zaken/api/v1/zaken?page=2"}
            return 200, {"Content-Type": "application/json"}, json.dumps(page).encode()
        zaak = {"url": "https://evil.example/zaken/api/v1/zaken/1", "uuid": "1", "identificatie": IDENT}
        return 201, {"Content-Type": "application/json"}, json.dumps(zaak).encode()

    with SimServer(app) as server:
        with ZakenClient(settings_for(f"{server.url}/zaken/api/v1/")) as c:
            with pytest.raises(ZakenRefusedUrl):
                c.find_zaak(IDENT)
            assert server.request_count() == 1
            with pytest.raises(ZakenRefusedUrl):
                create(c)
        assert server.request_count() == 2


def test_no_bsn_or_secret_in_errors_or_logs(zgw, caplog):
    sim, server, _ = zgw
    caplog.set_level(logging.DEBUG)
    errors: list[Exception] = []
    with client(sim) as c:
        zaak = create(c)
        server.set_faults(status_next=1, status_code=503)
        c.add_rol_natuurlijk_persoon(zaak.url, c.settings.roltype_betrokkene, BSN, "Vangnetter VN-000012")
        for fault, roltype in (({}, "not a url"), ({"fail_after_commit_next": 1}, c.settings.roltype_betrokkene)):
            server.set_faults(**fault)
            with pytest.raises((ZakenRejected, ZakenUnavailable)) as info:
                c.add_rol_natuurlijk_persoon(zaak.url, roltype, BSN, "Vangnetter VN-000012")
            errors.append(info.value)
        with pytest.raises(ValueError) as info:
            c.add_rol_natuurlijk_persoon(zaak.url, c.settings.roltype_betrokkene, BSN[:-1] + "4", "Vangnetter")
        errors.append(info.value)
        assert BSN not in repr(c.settings) and SECRET not in repr(c.settings)
    assert [type(e) for e in errors] == [ZakenRejected, ZakenUnavailable, ValueError]
    assert sim.counts()["rollen"] == 2
    assert "retrying" in caplog.text  # the 503 was logged, so the log really was captured
    for text in [caplog.text, repr(sim.events), repr(server.requests), *map(str, errors), *map(repr, errors)]:
        assert BSN not in text and BSN[:-1] not in text and SECRET not in text


def test_settings_validate_and_keep_the_secret_hidden():
    with pytest.raises(ValueError, match="secret"):
        settings_for("https://zaken.example.nl/zaken/api/v1/", secret="")
    with pytest.raises(ValueError, match="RSIN"):
        settings_for("https://zaken.example.nl/zaken/api/v1/", bronorganisatie="123456789")
    with pytest.raises(ValueError, match="base_url"):
        settings_for("ftp://zaken.example.nl/")
    s = settings_for("https://zaken.example.nl/zaken/api/v1")
    assert s.base_url == "https://zaken.example.nl/zaken/api/v1/"
    assert s.verantwoordelijke_organisatie == s.bronorganisatie
    assert SECRET not in repr(s) and SECRET not in str(s.model_dump())
    fields = set(ZakenSettings.model_fields)
    assert ZakenSettings.model_fields["secret"].is_required() and "secret" in fields
