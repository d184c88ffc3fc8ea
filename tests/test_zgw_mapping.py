"""mappings.zgw: the zaak identificatie and the Zaken API bodies, checked against the official OpenAPI file."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mappings.zgw import (
    rol_body,
    status_body,
    zaak_body,
    zaak_identificatie,
    zaak_omschrijving,
)
from simulators.zgw import DEFAULT_OPENAPI, OpenApiSchemas

BSN = "111222333"  # passes the 11-proef; test data only
ZAAK_URL = "https://zaken.example.nl/zaken/api/v1/zaken/0c8f6a53-6f43-4b8c-9a1e-1f5d3c6b7a10"
ALLOWED = re.compile(r"[A-Z0-9-]+")


@pytest.fixture(scope="module")
def official() -> OpenApiSchemas:
    if not DEFAULT_OPENAPI.is_file():
        pytest.fail(f"official Zaken API OpenAPI file missing at {DEFAULT_OPENAPI}: these tests check our bodies "
                    "against it. Check out ../shared/contracts (see its MANIFEST.md) next to the repository.")
    return OpenApiSchemas(DEFAULT_OPENAPI)


def make_zaak_body(**overrides):
    fields = dict(identificatie=zaak_identificatie("VN-000012", "0518"), zaaktype="https://catalogi.example.nl/zt/1",
                  bronorganisatie="002220647", verantwoordelijke_organisatie="002220647",
                  omschrijving=zaak_omschrijving("VN-000012"), startdatum=date(2024, 3, 1),
                  registratiedatum=date(2024, 3, 4))
    return zaak_body(**{**fields, **overrides})


def test_identificatie_example():
    assert zaak_identificatie("VN-000012", "0518") == "VANGNET-0518-VN-000012"
    assert zaak_identificatie("vn-000012", "0518") == "VANGNET-0518-VN-000012"


refs = st.from_regex(r"VN-[0-9]{6,20}", fullmatch=True)
codes = st.from_regex(r"[0-9]{4}", fullmatch=True)


@given(ref=refs, code=codes, other_ref=refs, other_code=codes)
def test_identificatie_is_deterministic_short_allowed_and_distinct(ref, code, other_ref, other_code):
    ident = zaak_identificatie(ref, code)
    assert ident == zaak_identificatie(ref, code)
    assert len(ident) <= 40 and ALLOWED.fullmatch(ident)
    assert ref in ident and code in ident
    if (ref, code) != (other_ref, other_code):
        assert zaak_identificatie(other_ref, other_code) != ident


@given(ref=st.text(max_size=60), code=st.text(max_size=6))
def test_identificatie_never_too_long_or_odd(ref, code):
    try:
        ident = zaak_identificatie(ref, code)
    except ValueError:
        return
    assert len(ident) <= 40 and ALLOWED.fullmatch(ident)


@pytest.mark.parametrize("ref, code", [("VN-000012", "518"), ("VN-000012", "05a8"), ("VN 12", "0518"),
                                       ("VN--12", "0518"), ("", "0518"), ("VN-" + "1" * 25, "0518")])
def test_identificatie_refuses_bad_input(ref, code):
    with pytest.raises(ValueError):
        zaak_identificatie(ref, code)


def test_zaak_body_matches_the_official_schema(official):
    body = make_zaak_body(toelichting="Geregistreerd door vangnet voor VN-000012")
    assert body == {
        "identificatie": "VANGNET-0518-VN-000012", "bronorganisatie": "002220647",
        "verantwoordelijkeOrganisatie": "002220647", "zaaktype": "https://catalogi.example.nl/zt/1",
        "omschrijving": "Re-integratie vangnetter (Participatiewet), VN-000012",
        "startdatum": "2024-03-01", "registratiedatum": "2024-03-04",
        "toelichting": "Geregistreerd door vangnet voor VN-000012",
    }
    assert official.invalid_params("Zaak", body) == []
    assert official.invalid_params("Zaak", {**body, "omschrijving": "x" * 81})  # the check can fail


def test_status_and_rol_bodies_match_the_official_schema(official):
    status = status_body(zaak_url=ZAAK_URL, statustype="https://catalogi.example.nl/st/1",
                         datum_status_gezet=date(2024, 3, 4), toelichting="Zaak geregistreerd")
    assert status["datumStatusGezet"] == "2024-03-04T00:00:00+01:00"  # midnight Europe/Amsterdam
    assert official.invalid_params("Status", status) == []
    rol = rol_body(zaak_url=ZAAK_URL, roltype="https://catalogi.example.nl/rt/1", bsn=BSN,
                   roltoelichting="Vangnetter VN-000012")
    assert rol == {"zaak": ZAAK_URL, "betrokkeneType": "natuurlijk_persoon",
                   "roltype": "https://catalogi.example.nl/rt/1", "roltoelichting": "Vangnetter VN-000012",
                   "betrokkeneIdentificatie": {"inpBsn": BSN}}
    assert official.invalid_params("Rol", rol) == []


def test_omschrijving_is_neutral_and_carries_the_ref():
    text = zaak_omschrijving("VN-000012")
    assert "VN-000012" in text and "ziek" not in text.lower() and len(text) <= 80


@pytest.mark.parametrize("text", ["Vangnetter 111222333", "Ziek uit dienst", "Na ziekmelding", "Diagnose volgt",
                                  "x" * 1001, "   "])
def test_free_texts_refuse_bsns_health_words_and_overlength(text):
    with pytest.raises(ValueError) as info:
        make_zaak_body(toelichting=text)
    assert "111222333" not in str(info.value)


def test_omschrijving_over_80_refused():
    with pytest.raises(ValueError, match="at most 80"):
        make_zaak_body(omschrijving="Re-integratie " + "a" * 70)


def test_status_datetime_needs_a_time_zone():
    aware = datetime(2024, 3, 4, 9, 30, tzinfo=timezone.utc)
    body = status_body(zaak_url=ZAAK_URL, statustype="https://c.example/st/1", datum_status_gezet=aware)
    assert body["datumStatusGezet"] == "2024-03-04T09:30:00+00:00"
    with pytest.raises(ValueError, match="time zone"):
        status_body(zaak_url=ZAAK_URL, statustype="https://c.example/st/1", datum_status_gezet=datetime(2024, 3, 4))


@pytest.mark.parametrize("bsn", ["111222334", "12345678", "1112223330", "000000000", 111222333])
def test_rol_refuses_a_bad_bsn_without_echoing_it(bsn):
    with pytest.raises(ValueError) as info:
        rol_body(zaak_url=ZAAK_URL, roltype="https://c.example/rt/1", bsn=bsn, roltoelichting="Vangnetter")
    assert str(bsn) not in str(info.value)
