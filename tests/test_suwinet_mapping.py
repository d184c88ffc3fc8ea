"""mappings.suwinet: SuwiML dates and percentages, FWI, LKS periods and WV info (pure, no network)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from mappings.suwinet import (
    SuwiDate, SuwiMappingError, check_bsn, clean_text, format_percentage, format_suwi_date, fwi_tag, lks_perioden,
    parse_percentage, parse_suwi_date, read_reply, request_parameters, wv_info,
)
from schemas.suwinet import FWI_NAMESPACE, GSD_REINTEGRATIE, UWV_WERKNEMERSVERZEKERINGEN

BSN = "999990019"


def xml(text: str) -> etree._Element:
    return etree.fromstring(text)


def gsd_client(*voorzieningen: str, partij: str = "0518") -> etree._Element:
    rvs = "".join(f"<ReIntegratievoorziening>{rv}</ReIntegratievoorziening>" for rv in voorzieningen)
    return xml(f"<ClientSuwi><Burgerservicenr>{BSN}</Burgerservicenr><AtlRelatie>{rvs}<Bron><CdKolomSuwi>3"
               f"</CdKolomSuwi><CdPartijSuwi>{partij}</CdPartijSuwi></Bron></AtlRelatie></ClientSuwi>")


def response(service, inner: str) -> etree._Element:
    return xml(f'<s:{service.operation}Response xmlns:s="{service.namespace}" xmlns:fwi="{FWI_NAMESPACE}">'
               f"{inner}</s:{service.operation}Response>")


# -- dates -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected", "precision"), [
    ("20270104", SuwiDate(2027, 1, 4), "dag"),
    ("20270100", SuwiDate(2027, 1), "maand"),
    ("20270000", SuwiDate(2027), "jaar"),
    ("20270015", SuwiDate(2027), "jaar"),  # a day without a month means nothing
    ("20270231", SuwiDate(2027, 2), "maand"),  # schema-valid, not in the calendar: day unknown
    ("20230229", SuwiDate(2023, 2), "maand"),
    ("20240229", SuwiDate(2024, 2, 29), "dag"),
])
def test_suwi_dates(text, expected, precision):
    parsed = parse_suwi_date(text)
    assert parsed == expected and parsed.precision == precision and parsed.exact == (precision == "dag")


@pytest.mark.parametrize("text", [None, "00000000", "00000115"])
def test_unknown_suwi_dates_are_none(text):
    assert parse_suwi_date(text) is None


@pytest.mark.parametrize("text", ["2027-01-04", "2027010", "202701041", "20271301", "20270132", "2027O104", ""])
def test_malformed_suwi_dates_are_refused_without_echoing_them(text):
    with pytest.raises(SuwiMappingError, match="DatBRv is not a SuwiML date") as info:
        parse_suwi_date(text, element="DatBRv")
    assert text not in str(info.value) or not text


def test_partial_dates_give_their_first_and_last_possible_day():
    assert (SuwiDate(2024, 2).earliest(), SuwiDate(2024, 2).latest()) == (date(2024, 2, 1), date(2024, 2, 29))
    assert (SuwiDate(2027).earliest(), SuwiDate(2027).latest()) == (date(2027, 1, 1), date(2027, 12, 31))
    assert format_suwi_date(SuwiDate(2027, 1)) == "20270100" and format_suwi_date(None) == "00000000"


@given(st.dates(min_value=date(1, 1, 1)))
def test_every_date_round_trips_exactly(day):
    parsed = parse_suwi_date(format_suwi_date(day))
    assert parsed.exact and parsed.earliest() == parsed.latest() == day


@given(st.integers(1, 9999), st.integers(0, 12), st.integers(0, 31))
def test_any_schema_shaped_date_parses_to_a_consistent_range(year, month, day):
    parsed = parse_suwi_date(f"{year:04d}{month:02d}{day:02d}")
    assert parsed.earliest() <= parsed.latest()
    assert parsed.earliest().year == parsed.latest().year == year
    assert parse_suwi_date(format_suwi_date(parsed)) == parsed


# -- percentages -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("inner", "decimals", "expected"), [
    ("<Percentage>05500</Percentage>", 2, Decimal("55.00")),
    ("<CdPositiefNegatief>+</CdPositiefNegatief><Percentage>10000</Percentage>", 2, Decimal("100")),
    ("<CdPositiefNegatief>-</CdPositiefNegatief><Percentage>00250</Percentage>", 2, Decimal("-2.5")),
    ("<Percentage>00055</Percentage>", 0, Decimal("55")),
    ("<CdPositiefNegatief>+</CdPositiefNegatief>", 2, None),
])
def test_percentages(inner, decimals, expected):
    assert parse_percentage(xml(f"<P>{inner}</P>"), decimals=decimals) == expected


def test_malformed_percentage_is_refused():
    with pytest.raises(SuwiMappingError, match="5 digits"):
        parse_percentage(xml("<P><Percentage>55.00</Percentage></P>"))
    with pytest.raises(ValueError):
        format_percentage(1000)
    with pytest.raises(ValueError):
        format_percentage("55.001")


@given(st.decimals(min_value=0, max_value=Decimal("999.99"), places=2))
def test_percentages_round_trip(value):
    text = format_percentage(value)
    assert len(text) == 5 and parse_percentage(xml(f"<P><Percentage>{text}</Percentage></P>")) == value


# -- BSN, requests, cleaning -------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["12345678", "1234567890", "12345678a", "123456789", "000000000", 999990019, None])
def test_invalid_bsn_is_refused_without_echoing_it(bad):
    with pytest.raises(ValueError) as info:
        check_bsn(bad)
    assert str(bad) not in str(info.value)


def test_request_parameters_hold_the_bsn_only():
    assert request_parameters(BSN) == {"Burgerservicenr": BSN}


@pytest.mark.parametrize("text", ["Geen gegevens voor 999990019 gevonden", "bsn 9999 90 019", "nr 9999.90.019"])
def test_clean_text_masks_bsn_like_numbers(text):
    cleaned = clean_text(text)
    assert "<nummer>" in cleaned and "019" not in cleaned
    assert len(clean_text("x" * 500)) == 200


# -- replies -----------------------------------------------------------------------------------------
def test_reply_branches_and_fwi_without_bsn():
    tag = GSD_REINTEGRATIE.response_tag
    data = read_reply(response(GSD_REINTEGRATIE, f"<ClientSuwi><Burgerservicenr>{BSN}</Burgerservicenr>"
                               "</ClientSuwi>"), response_tag=tag, bsn=BSN)
    assert data.client_suwi is not None and not data.niets_gevonden and not data.is_fwi
    none = read_reply(response(GSD_REINTEGRATIE, "<fwi:NietsGevonden/>"), response_tag=tag)
    assert none.niets_gevonden and none.client_suwi is None and not none.is_fwi
    fwi = read_reply(response(GSD_REINTEGRATIE, f"<fwi:FWI><Fout><Code>X12</Code><Tekst>Persoon {BSN} geblokkeerd"
                              "</Tekst><Detail>bsn=" + BSN + "</Detail><Bron><DN>cn=bron</DN></Bron></Fout>"
                              "<Waarschuwing><Code>W1</Code><Tekst>let op</Tekst><Bron><DN>cn=b</DN></Bron>"
                              "</Waarschuwing></fwi:FWI>"), response_tag=tag)
    assert fwi.is_fwi and [(m.soort, m.code) for m in fwi.meldingen] == [("Fout", "X12"), ("Waarschuwing", "W1")]
    assert [m.code for m in fwi.fouten] == ["X12"]
    assert BSN not in repr(fwi.meldingen) and fwi.meldingen[0].omschrijving == "Persoon <nummer> geblokkeerd"


def test_reply_about_someone_else_or_outside_the_contract_is_refused():
    tag = UWV_WERKNEMERSVERZEKERINGEN.response_tag
    other = response(UWV_WERKNEMERSVERZEKERINGEN,
                     "<ClientSuwi><Burgerservicenr>111222333</Burgerservicenr></ClientSuwi>")
    with pytest.raises(SuwiMappingError, match="someone else") as info:
        read_reply(other, response_tag=tag, bsn=BSN)
    assert "111222333" not in str(info.value)
    with pytest.raises(SuwiMappingError, match="expected UWVPersoonsWvInfoResponse"):
        read_reply(response(GSD_REINTEGRATIE, "<fwi:NietsGevonden/>"), response_tag=tag)
    with pytest.raises(SuwiMappingError, match="none of"):
        read_reply(response(UWV_WERKNEMERSVERZEKERINGEN, "<Iets/>"), response_tag=tag)


# -- LKS periods -------------------------------------------------------------------------------------
def test_lks_periods_exact():
    client = gsd_client("<DatBRv>20250501</DatBRv><DatERv>20270115</DatERv><CdTypeRvGsd>LK</CdTypeRvGsd>"
                        "<Loonkostensubsidie><PercLoonwaardeTovWml><Percentage>05500</Percentage>"
                        "</PercLoonwaardeTovWml></Loonkostensubsidie>",
                        "<DatBRv>20270201</DatBRv><CdTypeRvGsd>JC</CdTypeRvGsd>")
    first, second = lks_perioden(client)
    assert (first.begin, first.einde, first.type_code, first.loonwaarde_pct, first.is_lks, first.gemeentecode,
            first.dates_approximate) == (date(2025, 5, 1), date(2027, 1, 15), "LK", Decimal("55.00"), True, "0518",
                                         False)
    assert (second.einde, second.is_lks, second.loonwaarde_pct) == (None, False, None)


@pytest.mark.parametrize(("codes", "expected"), [({"LK"}, [True, False]), ({"JC"}, [False, True]),
                                                 ({"LK", "JC"}, [True, True]), (set(), [False, False])])
def test_configured_type_codes_decide_is_lks(codes, expected):
    client = gsd_client("<DatBRv>20250501</DatBRv><CdTypeRvGsd>LK</CdTypeRvGsd>",
                        "<DatBRv>20250501</DatBRv><CdTypeRvGsd>JC</CdTypeRvGsd>")
    assert [p.is_lks for p in lks_perioden(client, lks_type_codes=codes)] == expected


@pytest.mark.parametrize(("begin", "einde", "expected_begin", "expected_einde"), [
    ("20240300", "20250000", date(2024, 3, 1), date(2025, 12, 31)),   # widened both ways
    ("20240000", "20250200", date(2024, 1, 1), date(2025, 2, 28)),
    ("00000000", "00000000", date.min, None),                          # unknown: open on both sides
])
def test_partial_lks_dates_widen_the_period_and_say_so(begin, einde, expected_begin, expected_einde):
    (period,) = lks_perioden(gsd_client(f"<DatBRv>{begin}</DatBRv><DatERv>{einde}</DatERv>"))
    assert (period.begin, period.einde, period.dates_approximate) == (expected_begin, expected_einde, True)
    assert period.type_code == "" and not period.is_lks


def test_lks_period_without_begin_is_outside_the_contract():
    with pytest.raises(SuwiMappingError, match="no DatBRv"):
        lks_perioden(gsd_client("<DatERv>20270115</DatERv>"))


# -- WV info -------------------------------------------------------------------------------------------
def wv_client(inner: str) -> etree._Element:
    return xml(f"<ClientSuwi><Burgerservicenr>{BSN}</Burgerservicenr>{inner}</ClientSuwi>")


def test_wv_info_reads_first_sick_day_and_benefit_relations():
    info = wv_info(wv_client(
        "<ArbeidsgeschiktheidClient><DatEersteAoDag>20150310</DatEersteAoDag></ArbeidsgeschiktheidClient>"
        "<ArbeidsgeschiktheidClient><DatEersteAoDag>20270104</DatEersteAoDag></ArbeidsgeschiktheidClient>"
        "<ArbeidsgeschiktheidClient/>"
        "<Uitkeringsverhouding><DatBUitkeringsverhouding>20270116</DatBUitkeringsverhouding>"
        "<DatEUitkeringsverhouding>20270301</DatEUitkeringsverhouding><OmsRedenEindeUitkeringsverh>Herstel"
        "</OmsRedenEindeUitkeringsverh><DatEMaximaleUitkeringsduur>20290103</DatEMaximaleUitkeringsduur>"
        "<SzWet><CdSzWet>ZW</CdSzWet></SzWet></Uitkeringsverhouding>"
        "<Uitkeringsverhouding><SzWet><CdSzWet>WW</CdSzWet></SzWet></Uitkeringsverhouding>"))
    assert info.eerste_ao_dag == date(2027, 1, 4) and not info.dates_approximate  # the most recent one
    zw, ww = info.uitkeringsverhoudingen
    assert (zw.begin, zw.einde, zw.reden_einde, zw.max_duur_einde, zw.wet_code, zw.is_zw, zw.dates_approximate) == (
        date(2027, 1, 16), date(2027, 3, 1), "Herstel", date(2029, 1, 3), "ZW", True, False)
    assert (ww.begin, ww.einde, ww.reden_einde, ww.is_zw) == (None, None, None, False)
    assert info.zw_uitkeringen == [zw]


def test_partial_wv_dates_are_conservative_for_their_use():
    info = wv_info(wv_client(
        "<ArbeidsgeschiktheidClient><DatEersteAoDag>20270100</DatEersteAoDag></ArbeidsgeschiktheidClient>"
        "<Uitkeringsverhouding><DatBUitkeringsverhouding>20270100</DatBUitkeringsverhouding>"
        "<DatEUitkeringsverhouding>20270300</DatEUitkeringsverhouding>"
        "<DatEMaximaleUitkeringsduur>20290000</DatEMaximaleUitkeringsduur>"
        "<SzWet><CdSzWet>ZW</CdSzWet></SzWet></Uitkeringsverhouding>"))
    assert (info.eerste_ao_dag, info.dates_approximate) == (date(2027, 1, 1), True)  # earliest: deadlines not late
    (zw,) = info.uitkeringsverhoudingen
    assert zw.begin == date(2027, 1, 1) and zw.einde == date(2027, 3, 31)  # ended: latest, never cut short
    assert zw.max_duur_einde == date(2029, 1, 1) and zw.dates_approximate  # a maximum: plan for the earliest


def test_unknown_first_sick_day_is_none_and_flagged():
    info = wv_info(wv_client("<ArbeidsgeschiktheidClient><DatEersteAoDag>00000000</DatEersteAoDag>"
                             "</ArbeidsgeschiktheidClient>"))
    assert (info.eerste_ao_dag, info.dates_approximate, info.uitkeringsverhoudingen) == (None, True, [])


@pytest.mark.parametrize(("codes", "expected"), [({"ZW"}, [True, False]), ({"WW"}, [False, True])])
def test_configured_wet_codes_decide_is_zw(codes, expected):
    info = wv_info(wv_client("<Uitkeringsverhouding><SzWet><CdSzWet>ZW</CdSzWet></SzWet></Uitkeringsverhouding>"
                             "<Uitkeringsverhouding><SzWet><CdSzWet>WW</CdSzWet></SzWet></Uitkeringsverhouding>"),
                   zw_wet_codes=codes)
    assert [u.is_zw for u in info.uitkeringsverhoudingen] == expected


def test_benefit_relation_without_law_code_is_outside_the_contract():
    with pytest.raises(SuwiMappingError, match="CdSzWet"):
        wv_info(wv_client("<Uitkeringsverhouding><SzWet/></Uitkeringsverhouding>"))


def test_fwi_tag():
    assert fwi_tag("NietsGevonden") == f"{{{FWI_NAMESPACE}}}NietsGevonden"
