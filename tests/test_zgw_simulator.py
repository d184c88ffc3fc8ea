"""The ZGW Zaken API simulator over real HTTP (raw httpx): JWT, CRS headers, official-schema validation, state."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from simulators.harness import SimServer
from simulators.zgw import DEFAULT_OPENAPI, ZgwSimulator

REPO = Path(__file__).resolve().parents[1]
SECRET = "simulator-test-secret"
BSN = "111222333"  # passes the 11-proef; test data only
RSIN = "002220647"
ZAAKTYPE = "https://catalogi.example.nl/catalogi/api/v1/zaaktypen/1"
EIND = "https://catalogi.example.nl/catalogi/api/v1/statustypen/9"


@pytest.fixture(scope="module")
def openapi_path() -> Path:
    if not DEFAULT_OPENAPI.is_file():
        pytest.fail(f"official Zaken API OpenAPI file missing at {DEFAULT_OPENAPI}: the ZGW simulator validates "
                    "against it. Check out ../shared/contracts (see its MANIFEST.md) next to the repository.")
    return DEFAULT_OPENAPI


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(secret: str = SECRET, *, alg: str = "HS256", drop: str | None = None, **claims) -> str:
    body = {"iss": "vangnet", "iat": int(time.time()), "client_id": "vangnet", "user_id": "u",
            "user_representation": "U", **claims}
    body.pop(drop, None)
    signing_input = f"{b64(json.dumps({'alg': alg, 'typ': 'JWT'}).encode())}.{b64(json.dumps(body).encode())}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def headers(*, body: bool = True, **overrides) -> dict[str, str]:
    out = {"Authorization": f"Bearer {token()}", "Accept-Crs": "EPSG:4326"}
    if body:
        out.update({"Content-Crs": "EPSG:4326", "Content-Type": "application/json"})
    out.update(overrides)
    return {k: v for k, v in out.items() if v is not None}


def zaak(**overrides) -> dict:
    return {"identificatie": "VANGNET-0518-VN-000001", "bronorganisatie": RSIN, "verantwoordelijkeOrganisatie": RSIN,
            "zaaktype": ZAAKTYPE, "omschrijving": "Re-integratie vangnetter (Participatiewet), VN-000001",
            "startdatum": "2024-03-01", **overrides}


@pytest.fixture
def zgw(openapi_path):
    sim = ZgwSimulator({"vangnet": SECRET}, openapi_path=openapi_path, eind_statustypen={EIND}, page_size=2)
    with SimServer(sim, seed=1) as server, httpx.Client(base_url=sim.api_root, timeout=5) as http:
        yield sim, server, http


def test_valid_zaak_status_and_rol_are_stored(zgw):
    sim, _, http = zgw
    r = http.post("zaken", json=zaak(), headers=headers())
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["url"].startswith(sim.api_root) and r.headers["Location"] == created["url"]
    assert r.headers["API-version"] == "1.5.1" and r.headers["Content-Crs"] == "EPSG:4326"
    status = {"zaak": created["url"], "statustype": EIND, "datumStatusGezet": "2024-06-30T23:30:00Z"}
    assert http.post("statussen", json=status, headers=headers()).status_code == 201
    rol = {"zaak": created["url"], "betrokkeneType": "natuurlijk_persoon", "roltype": "https://c.example/rt/1",
           "roltoelichting": "Vangnetter", "betrokkeneIdentificatie": {"inpBsn": BSN}}
    assert http.post("rollen", json=rol, headers=headers()).status_code == 201
    assert sim.counts() == {"zaken": 1, "statussen": 1, "rollen": 1}
    stored = http.get(f"zaken/{created['uuid']}", headers=headers(body=False)).json()
    assert stored["einddatum"] == "2024-07-01"  # the end status closes the zaak (date in Europe/Amsterdam)
    assert stored["status"] and len(stored["rollen"]) == 1
    assert BSN not in repr(sim.events)


@pytest.mark.parametrize("change, name, code", [
    ({"zaaktype": None}, "zaaktype", "required"),
    ({"bronorganisatie": None}, "bronorganisatie", "required"),
    ({"omschrijving": "x" * 81}, "omschrijving", "max_length"),
    ({"toelichting": "x" * 1001}, "toelichting", "max_length"),
    ({"identificatie": "x" * 41}, "identificatie", "max_length"),
    ({"startdatum": "01-03-2024"}, "startdatum", "invalid"),
    ({"zaaktype": "not a url"}, "zaaktype", "invalid"),
    ({"vertrouwelijkheidaanduiding": "heel_geheim"}, "vertrouwelijkheidaanduiding", "invalid_choice"),
])
def test_bodies_breaking_the_official_schema_get_400(zgw, change, name, code):
    sim, _, http = zgw
    body = {k: v for k, v in {**zaak(), **change}.items() if v is not None}
    r = http.post("zaken", json=body, headers=headers())
    assert r.status_code == 400, r.text
    problem = r.json()
    assert r.headers["Content-Type"] == "application/problem+json"
    assert {"name": name, "code": code} in [{"name": p["name"], "code": p["code"]} for p in problem["invalidParams"]]
    assert sim.counts()["zaken"] == 0


def test_read_only_fields_are_ignored_and_nullable_accepted(zgw):
    _, _, http = zgw
    body = zaak(url="https://elsewhere/zaken/1", einddatum="2020-01-01", einddatumGepland=None, hoofdzaak=None)
    r = http.post("zaken", json=body, headers=headers())
    assert r.status_code == 201, r.text
    assert r.json()["url"] != "https://elsewhere/zaken/1" and r.json()["einddatum"] is None


def test_rol_is_checked_against_its_discriminated_schema_without_echoing_the_bsn(zgw):
    sim, _, http = zgw
    url = http.post("zaken", json=zaak(), headers=headers()).json()["url"]
    base = {"zaak": url, "roltype": "https://c.example/rt/1", "roltoelichting": "Vangnetter"}
    r = http.post("rollen", json={**base, "betrokkeneType": "natuurlijk_persoon",
                                  "betrokkeneIdentificatie": {"inpBsn": BSN + "0"}}, headers=headers())
    assert r.status_code == 400
    assert r.json()["invalidParams"][0]["name"] == "betrokkeneIdentificatie.inpBsn"
    assert BSN not in r.text
    r = http.post("rollen", json={**base, "betrokkeneType": "alien"}, headers=headers())
    assert r.status_code == 400 and r.json()["invalidParams"][0]["code"] == "invalid_choice"
    r = http.post("rollen", json={"zaak": url, "betrokkeneType": "natuurlijk_persoon"}, headers=headers())
    assert {p["name"] for p in r.json()["invalidParams"]} == {"roltype", "roltoelichting"}
    assert sim.counts()["rollen"] == 0
    assert BSN not in repr(sim.events)


def test_the_simulator_really_reads_the_configured_file(openapi_path, tmp_path):
    document = yaml.load(openapi_path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    document["components"]["schemas"]["Zaak"]["properties"]["omschrijving"]["maxLength"] = 200
    edited = tmp_path / "openapi.yaml"
    edited.write_text(yaml.dump(document, Dumper=yaml.CSafeDumper), encoding="utf-8")
    sim = ZgwSimulator({"vangnet": SECRET}, openapi_path=edited)
    with SimServer(sim):
        r = httpx.post(f"{sim.api_root}zaken", json=zaak(omschrijving="x" * 81), headers=headers())
    assert r.status_code == 201, r.text
    with pytest.raises(FileNotFoundError, match="official Zaken API OpenAPI file is missing"):
        ZgwSimulator({"vangnet": SECRET}, openapi_path=tmp_path / "missing.yaml")


@pytest.mark.parametrize("authorization", [
    None,
    "Basic dmFuZ25ldDp4",
    f"Bearer {token('wrong-secret')}",
    f"Bearer {token(alg='none')}",
    f"Bearer {token(client_id='someone-else')}",
    f"Bearer {token(drop='user_id')}",
    f"Bearer {token(drop='iat')}",
    f"Bearer {token(iat=int(time.time()) - 7200)}",
    f"Bearer {token(iat=int(time.time()) + 3600)}",
    "Bearer not.a.jwt",
])
def test_bad_or_missing_jwt_gets_401(zgw, authorization):
    sim, _, http = zgw
    r = http.post("zaken", json=zaak(), headers=headers(Authorization=authorization))
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
    assert sim.counts()["zaken"] == 0


def test_crs_headers_per_the_spec(zgw):
    sim, _, http = zgw
    assert http.post("zaken", json=zaak(), headers=headers(**{"Content-Crs": None})).status_code == 412
    assert http.post("zaken", json=zaak(), headers=headers(**{"Accept-Crs": None})).status_code == 412
    assert http.get("zaken", headers=headers(body=False, **{"Accept-Crs": None})).status_code == 412
    assert http.get("zaken", headers=headers(body=False, **{"Accept-Crs": "EPSG:28992"})).status_code == 406
    r = http.post("zaken", content=json.dumps(zaak()), headers=headers(**{"Content-Type": "text/plain"}))
    assert r.status_code == 415
    assert sim.counts()["zaken"] == 0
    # The spec asks no CRS headers for statussen (nothing geographic); an unknown zaak is what fails there.
    status = {"zaak": f"{sim.api_root}zaken/0c8f6a53-6f43-4b8c-9a1e-1f5d3c6b7a10", "statustype": EIND,
              "datumStatusGezet": "2024-06-30T12:00:00+02:00"}
    r = http.post("statussen", json=status, headers=headers(**{"Accept-Crs": None, "Content-Crs": None}))
    assert r.status_code == 400 and r.json()["invalidParams"][0]["code"] == "bad-url"


def test_identificatie_unique_per_bronorganisatie(zgw):
    sim, _, http = zgw
    assert http.post("zaken", json=zaak(), headers=headers()).status_code == 201
    r = http.post("zaken", json=zaak(), headers=headers())
    assert r.status_code == 400
    assert r.json()["invalidParams"] == [{"name": "identificatie", "code": "identificatie-niet-uniek",
                                          "reason": "Deze identificatie bestaat al binnen de bronorganisatie."}]
    other = {"bronorganisatie": "001234567", "verantwoordelijkeOrganisatie": "001234567"}
    assert http.post("zaken", json=zaak(**other), headers=headers()).status_code == 201
    assert sim.counts()["zaken"] == 2


def test_search_is_filtered_and_paginated(zgw):
    sim, _, http = zgw
    for n in range(1, 6):
        assert http.post("zaken", json=zaak(identificatie=f"VANGNET-0518-VN-{n:06d}"), headers=headers()).is_success
    page = http.get("zaken", params={"identificatie": "VANGNET-0518-VN-000003", "bronorganisatie": RSIN},
                    headers=headers(body=False)).json()
    assert page["count"] == 1 and page["next"] is None and page["previous"] is None
    assert page["results"][0]["identificatie"] == "VANGNET-0518-VN-000003"
    seen, url = [], f"{sim.api_root}zaken?bronorganisatie={RSIN}"
    while url:
        page = http.get(url, headers=headers(body=False)).json()
        assert page["count"] == 5
        seen += [z["identificatie"] for z in page["results"]]
        url = page["next"]
    assert seen == [f"VANGNET-0518-VN-{n:06d}" for n in range(1, 6)]
    assert http.get("zaken?page=9", headers=headers(body=False)).status_code == 404
    assert http.get("zaken/0c8f6a53-6f43-4b8c-9a1e-1f5d3c6b7a10", headers=headers(body=False)).status_code == 404
    assert http.get("resultaten", headers=headers(body=False)).status_code == 405  # in the spec, not simulated


def test_fault_knobs(zgw):
    sim, server, http = zgw
    server.set_faults(throttle_next=1, retry_after=7)
    r = http.post("zaken", json=zaak(), headers=headers())
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"
    server.set_faults(fail_after_commit_next=1)
    assert http.post("zaken", json=zaak(), headers=headers()).status_code == 500
    assert sim.counts()["zaken"] == 1  # stored, though the answer said otherwise
    assert http.post("zaken", json=zaak(), headers=headers()).status_code == 400  # so a repeat is a duplicate


def test_cli_serves_the_simulator(openapi_path):
    proc = subprocess.Popen([sys.executable, "-m", "simulators", "zgw", "--secret", SECRET, "--openapi",
                             str(openapi_path)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.poll() is not None else url
        r = httpx.post(f"{url}/zaken/api/v1/zaken", json=zaak(), headers=headers(), timeout=5)
        assert r.status_code == 201, r.text
    finally:
        proc.terminate()
        proc.wait(timeout=10)
