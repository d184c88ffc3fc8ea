"""IB mapping (Signaal XML <-> canonical fields) and the safe XML parser."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings, strategies as st
from lxml import etree

from ib_helpers import assert_valid, record
from mappings.ib_signal import (
    FIELD_TO_ELEMENT,
    IB_NAMESPACE,
    SIGNAAL_TAG,
    SignalStructureError,
    fields_to_signal_element,
    ib_tag,
    signal_element_to_fields,
)
from mappings.safe_xml import UnsafeXmlError, XmlSyntaxError, parse_xml
from schemas.signal import SIGNAL_FIELDS, EzwbUitkomst, RedenEinde, Signal, SignaalSoort, WettelijkeGrondslag

LIMIT = 1024 * 1024


def reparse(element: etree._Element) -> etree._Element:
    return parse_xml(etree.tostring(element, encoding="UTF-8", xml_declaration=True), max_bytes=LIMIT)


# -- mapping -------------------------------------------------------------------------------------

def test_element_names_follow_canonical_order():
    assert tuple(FIELD_TO_ELEMENT) == SIGNAL_FIELDS
    el = fields_to_signal_element({f: "x" for f in SIGNAL_FIELDS})
    assert [etree.QName(c).localname for c in el] == list(FIELD_TO_ELEMENT.values())


def test_round_trip_of_a_plain_record_is_valid_against_the_xsd():
    rec = record(7)
    el = fields_to_signal_element(rec)
    assert el.tag == SIGNAAL_TAG
    assert el.findtext(ib_tag("Burgerservicenr")) == rec["bsn"]
    assert_valid(el)
    assert signal_element_to_fields(reparse(el)) == {k: str(v) for k, v in rec.items()}


def test_signal_model_dump_maps_with_typed_values():
    signal = Signal(**record(3, eerste_ziektedag=date(2027, 1, 4)))
    el = fields_to_signal_element(signal.model_dump())
    assert el.findtext(ib_tag("EersteZiektedag")) == "2027-01-04"
    assert el.findtext(ib_tag("Soort")) == "ZIEKMELDING_VANGNETTER"
    assert el.find(ib_tag("DatumHerstel")) is None  # None means absent
    assert_valid(el)
    assert Signal(**signal_element_to_fields(reparse(el))) == signal


def test_bad_values_are_mapped_not_judged():
    rec = record(1, bsn="123456789", eerste_ziektedag="2027-02-30", soort="ONZIN")
    fields = signal_element_to_fields(reparse(fields_to_signal_element(rec)))
    assert fields["bsn"] == "123456789" and fields["eerste_ziektedag"] == "2027-02-30"
    assert fields["soort"] == "ONZIN"


def test_text_is_kept_exactly_and_comments_inside_a_leaf_are_ignored():
    xml = (f'<Signaal xmlns="{IB_NAMESPACE}"><BerichtId> a<!-- c -->b </BerichtId>'
           '<Volgnummer/></Signaal>').encode()
    assert signal_element_to_fields(parse_xml(xml, max_bytes=LIMIT)) == {"bericht_id": " ab ", "volgnummer": ""}


@pytest.mark.parametrize("xml, problem", [
    (f'<Other xmlns="{IB_NAMESPACE}"/>', "expected element"),
    ('<Signaal><BerichtId>x</BerichtId></Signaal>', "expected element"),
    (f'<Signaal xmlns="{IB_NAMESPACE}"><Naam>x</Naam></Signaal>', "unexpected element"),
    (f'<Signaal xmlns="{IB_NAMESPACE}" xmlns:o="urn:other"><o:BerichtId>x</o:BerichtId></Signaal>',
     "unexpected element"),
    (f'<Signaal xmlns="{IB_NAMESPACE}"><Volgnummer>1</Volgnummer><Volgnummer>2</Volgnummer></Signaal>',
     "more than once"),
    (f'<Signaal xmlns="{IB_NAMESPACE}"><BerichtId><BerichtId>x</BerichtId></BerichtId></Signaal>',
     "must not contain"),
])
def test_structure_errors(xml, problem):
    with pytest.raises(SignalStructureError, match=problem):
        signal_element_to_fields(parse_xml(xml.encode(), max_bytes=LIMIT))


def test_unknown_field_names_are_refused():
    with pytest.raises(ValueError, match="unknown signal field"):
        fields_to_signal_element({**record(1), "bsnn": "1"})


# XML 1.0 characters; \r is excluded because XML parsers normalise line ends by design.
xml_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00",
                           min_codepoint=0x09).filter(lambda c: c in "\t\n" or c >= " "),
    max_size=20,
).filter(lambda s: all(c in "\t\n" or " " <= c <= "\ud7ff" or "\ue000" <= c <= "\ufffd" or c > "\uffff"
                       for c in s))


@given(st.fixed_dictionaries({}, optional={name: xml_text for name in SIGNAL_FIELDS}))
@settings(max_examples=150, deadline=None)
def test_any_text_record_round_trips(fields):
    el = fields_to_signal_element(fields)
    assert signal_element_to_fields(el) == fields
    assert signal_element_to_fields(reparse(el)) == fields


dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
maybe = lambda s: st.none() | s  # noqa: E731
signals = st.builds(
    Signal,
    bericht_id=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=64),
    volgnummer=st.integers(min_value=0, max_value=2**63 - 1),
    soort=st.sampled_from(SignaalSoort),
    bsn=st.from_regex(r"[0-9]{9}", fullmatch=True),
    gemeentecode=st.from_regex(r"[0-9]{4}", fullmatch=True),
    eerste_ziektedag=maybe(dates), datum_einde_dienstverband=maybe(dates), datum_melding=maybe(dates),
    wettelijke_grondslag=maybe(st.sampled_from(WettelijkeGrondslag)),
    werkgever_loonheffingennummer=maybe(st.from_regex(r"[0-9A-Z]{1,12}", fullmatch=True)),
    datum_herstel=maybe(dates), datum_einde_zw=maybe(dates),
    reden_einde=maybe(st.sampled_from(RedenEinde)), ezwb_uitkomst=maybe(st.sampled_from(EzwbUitkomst)),
    ezwb_datum=maybe(dates), nieuwe_gemeentecode=maybe(st.from_regex(r"[0-9]{4}", fullmatch=True)),
    verwijst_naar=maybe(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=64)),
)


@given(signals)
@settings(max_examples=100, deadline=None)
def test_signal_round_trips_and_is_valid_against_the_xsd(signal):
    el = fields_to_signal_element(signal.model_dump())
    assert_valid(el)
    assert Signal(**signal_element_to_fields(reparse(el))) == signal


# -- safe parser ---------------------------------------------------------------------------------

def test_parses_plain_utf8_with_or_without_declaration_and_bom():
    for data in (b"<a>\xc3\xa9</a>", b'<?xml version="1.0" encoding="UTF-8"?><a>x</a>',
                 b"\xef\xbb\xbf<?xml version='1.0' encoding='utf-8'?><a><!-- kept --></a>"):
        assert parse_xml(data, max_bytes=LIMIT).tag == "a"
    root = parse_xml(b"<a><!-- kept --></a>", max_bytes=LIMIT)
    assert isinstance(root[0], etree._Comment)


def test_rejects_xxe_without_reading_the_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    xml = (f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY xxe SYSTEM "file://{secret}">]>'
           "<a>&xxe;</a>").encode()
    with pytest.raises(UnsafeXmlError, match="DOCTYPE") as info:
        parse_xml(xml, max_bytes=LIMIT)
    assert "TOPSECRET" not in str(info.value)


def test_rejects_billion_laughs_quickly():
    entities = "".join(f'<!ENTITY l{i} "{"&l%d;" % (i - 1) * 10}">' for i in range(1, 10))
    xml = f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY l0 "lol">{entities}]><a>&l9;</a>'.encode()
    with pytest.raises(UnsafeXmlError, match="DOCTYPE"):
        parse_xml(xml, max_bytes=LIMIT)


@pytest.mark.parametrize("xml", [
    b"<!DOCTYPE a><a/>",
    b'<!DOCTYPE a SYSTEM "http://127.0.0.1:9/evil.dtd"><a/>',
    b'<!DOCTYPE a PUBLIC "-//X//Y" "evil.dtd"><a/>',
    b'<!DOCTYPE a [<!ATTLIST a b CDATA "c">]><a/>',
])
def test_rejects_any_doctype(xml):
    with pytest.raises(UnsafeXmlError, match="DOCTYPE"):
        parse_xml(xml, max_bytes=LIMIT)


def test_rejects_oversized_payloads_before_parsing():
    data = b"<a>" + b"x" * 2000 + b"</a>"
    with pytest.raises(UnsafeXmlError, match="over the limit of 1000 bytes"):
        parse_xml(data, max_bytes=1000)
    assert parse_xml(data, max_bytes=len(data)).tag == "a"


@pytest.mark.parametrize("data", [
    b'<?xml version="1.0" encoding="ISO-8859-1"?><a>\xe9</a>',
    b"<?xml version='1.0' encoding='windows-1252'?><a/>",
    '<?xml version="1.0" encoding="UTF-16"?><a/>'.encode("utf-16"),
    "<a/>".encode("utf-16-le"),
])
def test_rejects_other_encodings(data):
    with pytest.raises(UnsafeXmlError, match="UTF-8"):
        parse_xml(data, max_bytes=LIMIT)


@pytest.mark.parametrize("data", [b"", b"   ", b"not xml", b"<a>", b"<a></b>", b'{"json": true}',
                                  b"<a>&undefined;</a>", b"<a>\xff\xfe</a>"])
def test_rejects_non_xml_with_a_syntax_error(data):
    with pytest.raises(XmlSyntaxError):
        parse_xml(data, max_bytes=LIMIT)


def test_refuses_str_input():
    with pytest.raises(TypeError):
        parse_xml("<a/>", max_bytes=LIMIT)  # type: ignore[arg-type]
