"""Property-based tests (hypothesis) for the mappings that had none, and more for the WVP calendar (issue 10).

Round trips (to the wire and back gives the same domain value), amounts that keep their cents, and
arbitrary text or bytes that never break what is produced nor make a parser fail in any other way
than its own documented error, with messages that never echo a BSN.
Already covered elsewhere: ib_signal (test_ib_mapping), UBL invoice lines (test_ubl_invoice_mapping),
SuwiML dates and percentages (test_suwinet_mapping), case refs (test_arbodienst_mapping), zaak
identificatie (test_zgw_mapping), calendar basics (test_rules_wvp).
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from lxml import etree

from rules.identifiers import is_valid_bsn, synthetic_bsn

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

bsns = st.integers(min_value=0, max_value=50_000).map(synthetic_bsn)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31))
# Text an XML 1.0 document can hold (no control characters, no surrogates).
xml_text = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
                   max_size=60)
cents = st.decimals(min_value=Decimal("-999999.99"), max_value=Decimal("999999.99"), places=2,
                    allow_nan=False, allow_infinity=False)
_NINE = re.compile(r"\d{9}")


# -- mappings.safe_xml: any bytes give an element or UnsafeXmlError, never a BSN in the message ----------
@FAST
@given(st.one_of(st.binary(max_size=300), xml_text.map(lambda t: f"<a>{t}</a>".encode()),
                 st.tuples(bsns, bsns).map(lambda p: f"<B{p[0]}>x</B{p[1]}>".encode())))
def test_safe_xml_parses_or_refuses_and_never_echoes_a_bsn(data):
    from mappings.safe_xml import UnsafeXmlError, parse_xml

    try:
        parse_xml(data, max_bytes=10_000)
    except UnsafeXmlError as exc:
        assert not _NINE.search(str(exc)), str(exc)


# -- mappings.zgw -----------------------------------------------------------------------------------------
@FAST
@given(omschrijving=xml_text, toelichting=st.none() | xml_text, start=days, registratie=days)
def test_zaak_body_round_trips_through_json_or_refuses_the_text(omschrijving, toelichting, start, registratie):
    from mappings.zgw import zaak_body

    try:
        body = zaak_body(identificatie="VANGNET-0518-VN-000001", zaaktype="https://c.example/zaaktypen/1",
                         bronorganisatie="002220647", verantwoordelijke_organisatie="002220647",
                         omschrijving=omschrijving, startdatum=start, registratiedatum=registratie,
                         toelichting=toelichting)
    except ValueError as exc:
        assert not _NINE.search(str(exc))  # the message names the field and the rule, never the text
        return
    assert json.loads(json.dumps(body)) == body
    assert body["omschrijving"] == omschrijving and body.get("toelichting") == toelichting  # never altered
    assert date.fromisoformat(body["startdatum"]) == start
    assert date.fromisoformat(body["registratiedatum"]) == registratie
    for text in (omschrijving, toelichting or ""):
        assert not re.search(r"\d{9}", text)  # a BSN-like number never reaches the Zaken API


@FAST
@given(day=days, hour=st.integers(0, 23), aware=st.booleans())
def test_status_moment_round_trips_to_the_same_instant(day, hour, aware):
    from mappings.zgw import status_body

    zone = ZoneInfo("Europe/Amsterdam")
    when = datetime.combine(day, time(hour), tzinfo=zone) if aware else day
    body = status_body(zaak_url="https://z.example/zaken/1", statustype="https://c.example/st/1",
                       datum_status_gezet=when)
    expected = when if aware else datetime.combine(day, time(0), tzinfo=zone)
    assert datetime.fromisoformat(body["datumStatusGezet"]) == expected


@FAST
@given(st.text(alphabet="0123456789", min_size=0, max_size=12) | bsns)
def test_rol_body_takes_only_a_valid_bsn_and_never_echoes_one(bsn):
    from mappings.zgw import rol_body

    try:
        body = rol_body(zaak_url="https://z.example/zaken/1", roltype="https://c.example/rt/1", bsn=bsn,
                        roltoelichting="Vangnetter")
    except ValueError as exc:
        assert not is_valid_bsn(bsn) and not _NINE.search(str(exc))
        return
    assert is_valid_bsn(bsn) and json.loads(json.dumps(body))["betrokkeneIdentificatie"] == {"inpBsn": bsn}


# -- mappings.ubl_invoice: header and totals round trip, amounts stay exact --------------------------
_invoice_numbers = st.text(st.characters(whitelist_categories=("L", "N", "Pd", "Po")), min_size=1, max_size=30)


@FEW
@given(number=_invoice_numbers, issue=days, lines=st.lists(
    st.tuples(st.sampled_from(["casemanager", "bedrijfsarts", "re-integratieconsulent"]),
              st.decimals(min_value=Decimal("0.25"), max_value=Decimal("40"), places=2),
              st.decimals(min_value=Decimal("1.00"), max_value=Decimal("400.00"), places=2)), min_size=1, max_size=5))
def test_generated_invoices_read_back_with_the_same_numbers_and_cents(number, issue, lines):
    from mappings.ubl_invoice import read_invoice_bytes
    from simulators.ubl_factory import Line, make_invoice

    data = make_invoice(number=number, issue_date=issue, order_number="OPD-0518-000001-01",
                        period=(issue, issue), lines=[Line(role=r, hours=h, rate=p) for r, h, p in lines])
    inv = read_invoice_bytes(data)
    assert (inv.invoice_number, inv.issue_date, inv.order_number) == (number, issue, "OPD-0518-000001-01")
    assert [(line.role, line.quantity, line.unit_price) for line in inv.lines] == list(lines)
    t = inv.totals
    assert t.tax_exclusive == sum(line.line_amount for line in inv.lines)
    assert t.tax_inclusive == t.tax_exclusive + t.tax_total and t.payable == t.tax_inclusive
    for amount in (t.tax_exclusive, t.tax_total, t.tax_inclusive, *(line.line_amount for line in inv.lines)):
        assert amount == amount.quantize(Decimal("0.01"))  # cents, never a float's tail


@FAST
@given(st.text(max_size=25))
def test_an_amount_is_its_exact_decimal_or_a_mapping_error(text):
    from mappings.ubl_invoice import InvoiceMappingError, read_invoice_bytes
    from simulators.ubl_factory import Line, make_invoice

    assume(text == text.strip() and "\x00" not in text)
    good = make_invoice(number="P-1", issue_date=date(2027, 4, 1), order_number="OPD-1",
                        period=(date(2027, 3, 1), date(2027, 3, 31)),
                        lines=[Line(role="casemanager", hours=Decimal("1"), rate=Decimal("12.34"))])
    root = etree.fromstring(good)
    price = root.find(".//{*}PriceAmount")
    try:
        price.text = text
    except ValueError:
        return  # lxml refuses it: it can't be in an XML document at all
    try:
        inv = read_invoice_bytes(etree.tostring(root))
    except InvoiceMappingError as exc:
        assert "PriceAmount" in str(exc)
        return
    assert inv.lines[0].unit_price == Decimal(text)  # exactly what was written, never a float


# -- mappings.finance_export --------------------------------------------------------------------------------
_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet read a cell as a formula (OWASP)

def _export_row(excl: Decimal, vat: Decimal, number: str, order: str):
    from mappings.finance_export import booking_row

    invoice = SimpleNamespace(supplier_id="kvk:90000001", invoice_number=number, id=7, document="Invoice",
                              type_code="380", issue_date=date(2027, 4, 1), order_number=order, currency="EUR",
                              decision=None)
    return booking_row(SimpleNamespace(batch="20270402T100000-7", amount_excl_vat=excl, vat=vat), invoice)


@FAST
@given(excl=cents, vat=cents, number=st.text(max_size=40), order=st.text(max_size=40))
def test_booking_rows_keep_their_cents_and_any_text_survives_csv_and_json(excl, vat, number, order):
    from mappings.finance_export import COLUMNS, to_csv, to_json

    assume("\x00" not in number + order)
    row = _export_row(excl, vat, number, order)
    assert Decimal(row["amount_excl_vat"]) == excl and Decimal(row["vat"]) == vat
    assert Decimal(row["amount_incl_vat"]) == excl + vat
    assert all(re.fullmatch(r"-?\d+\.\d{2}", row[k]) for k in ("amount_excl_vat", "vat", "amount_incl_vat"))

    (back,) = list(csv.DictReader(io.StringIO(to_csv([row]).decode("utf-8"), newline="")))
    assert list(back) == list(COLUMNS)
    for key, value in row.items():
        guarded = key not in ("amount_excl_vat", "vat", "amount_incl_vat") and value.startswith(_FORMULA)
        assert back[key] == ("'" + value if guarded else value)  # a spreadsheet never runs it as a formula
    assert json.loads(to_json("b", [row]))["bookings"] == [row]


# -- mappings.lks_file ----------------------------------------------------------------------------------------
lks_rows = st.lists(st.fixed_dictionaries({
    "bsn": bsns,
    "begin": st.dates(min_value=date(2015, 1, 1), max_value=date(2030, 12, 31)),
    "dagen": st.none() | st.integers(0, 3000),
    "pct": st.none() | st.decimals(min_value=0, max_value=100, places=2),
    "gemeentecode": st.integers(1, 9999).map(lambda n: f"{n:04d}"),
}), min_size=1, max_size=6, unique_by=lambda r: (r["bsn"], r["gemeentecode"], r["begin"]))


@FAST
@given(rows=lks_rows, fmt=st.sampled_from(["csv,", "csv;", "json"]))
def test_lks_files_round_trip_in_every_format(rows, fmt):
    from mappings.lks_file import parse_lks_file

    def einde(r):
        return r["begin"] + timedelta(days=r["dagen"]) if r["dagen"] is not None else None

    if fmt == "json":
        data = json.dumps([{"bsn": r["bsn"], "begin": r["begin"].isoformat(),
                            "einde": einde(r).isoformat() if einde(r) else None,
                            "loonwaarde_pct": str(r["pct"]) if r["pct"] is not None else None,
                            "gemeentecode": r["gemeentecode"]} for r in rows]).encode()
    else:
        sep = fmt[-1]
        lines = [sep.join(("bsn", "begin", "einde", "loonwaarde_pct", "gemeentecode"))]
        for r in rows:
            pct = "" if r["pct"] is None else (str(r["pct"]).replace(".", ",") if sep == ";" else str(r["pct"]))
            lines.append(sep.join((r["bsn"], r["begin"].isoformat(), einde(r).isoformat() if einde(r) else "", pct,
                                   r["gemeentecode"])))
        data = "\n".join(lines).encode()
    bestand = parse_lks_file(data, filename=f"lks.{fmt[:4].rstrip(',;')}")
    assert bestand.afgekeurd == []
    assert [(g.bsn, g.periode.begin, g.periode.einde, g.periode.loonwaarde_pct, g.periode.gemeentecode)
            for g in bestand.regels] == [(r["bsn"], r["begin"], einde(r), r["pct"], r["gemeentecode"]) for r in rows]


@FAST
@given(st.binary(max_size=400) | st.text(max_size=200).map(lambda t: ("bsn,begin,einde,loonwaarde_pct,gemeentecode\n"
                                                                     + t).encode()))
def test_any_lks_file_gives_rows_or_a_file_error_and_no_bsn_in_a_reason(data):
    from mappings.lks_file import LksFileError, parse_lks_file

    try:
        bestand = parse_lks_file(data, filename="lks.csv")
    except LksFileError as exc:
        assert not _NINE.search(str(exc))
        return
    for _, reason in bestand.afgekeurd:
        assert not _NINE.search(reason), reason


# -- mappings.provider_contract ---------------------------------------------------------------------------------
money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2)


@FAST
@given(rates=st.dictionaries(st.sampled_from(["casemanager", "bedrijfsarts", "re-integratieconsulent", "jobcoach"]),
                             money, min_size=1), basisjaar=st.integers(2000, 2090),
       indexatie=st.dictionaries(st.integers(1, 10), st.decimals(min_value=0, max_value=20, places=2)),
       btw=st.sampled_from([Decimal("0.00"), Decimal("9.00"), Decimal("21.00")]), naam=st.text(min_size=1, max_size=50))
def test_contracts_round_trip_with_exact_amounts(rates, basisjaar, indexatie, btw, naam):
    from mappings.provider_contract import parse_contract

    assume(naam.strip())
    indexatie = {basisjaar + later: pct for later, pct in indexatie.items()}  # years after the basisjaar
    doc = {"provider_id": "kvk:12345678", "naam": naam, "rollen": {k: str(v) for k, v in rates.items()},
           "basisjaar": basisjaar, "indexatie": {str(k): str(v) for k, v in indexatie.items()}, "btw_pct": str(btw)}
    contract = parse_contract(json.dumps(doc), source="c.json")
    assert dict(contract.rollen) == rates and all(str(contract.rollen[k]) == str(v) for k, v in rates.items())
    assert dict(contract.indexatie) == indexatie and contract.btw_pct == btw and contract.basisjaar == basisjaar


@FAST
@given(st.binary(max_size=300) | st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                                                lambda inner: st.lists(inner, max_size=3)
                                                | st.dictionaries(st.text(max_size=10), inner, max_size=3),
                                                max_leaves=15).map(lambda v: json.dumps(v).encode()))
def test_any_contract_file_gives_a_contract_or_a_contract_error(data):
    from mappings.provider_contract import ContractError, parse_contract

    try:
        parse_contract(data, source="c.json")
    except ContractError as exc:
        assert str(exc).startswith("c.json: ")


# -- mappings.suwinet: LKS periods from generated answers ---------------------------------------------------------
@FAST
@given(periods=st.lists(st.tuples(st.dates(min_value=date(1990, 1, 1), max_value=date(2050, 12, 31)),
                                  st.none() | st.integers(0, 4000),
                                  st.none() | st.decimals(min_value=0, max_value=Decimal("999.99"), places=2),
                                  st.sampled_from(["LK", "XX"])), min_size=0, max_size=5))
def test_lks_periods_read_back_from_the_answer_they_were_written_to(periods):
    from mappings.suwinet import format_percentage, format_suwi_date, lks_perioden

    client = etree.Element("ClientSuwi")
    etree.SubElement(client, "Burgerservicenr").text = synthetic_bsn(1)
    relatie = etree.SubElement(client, "AtlRelatie")
    for begin, dagen, pct, code in periods:
        rv = etree.SubElement(relatie, "ReIntegratievoorziening")
        etree.SubElement(rv, "DatBRv").text = format_suwi_date(begin)
        if dagen is not None:
            etree.SubElement(rv, "DatERv").text = format_suwi_date(begin + timedelta(days=dagen))
        etree.SubElement(rv, "CdTypeRvGsd").text = code
        if pct is not None:
            perc = etree.SubElement(etree.SubElement(rv, "Loonkostensubsidie"), "PercLoonwaardeTovWml")
            etree.SubElement(perc, "Percentage").text = format_percentage(pct)
    bron = etree.SubElement(relatie, "Bron")
    etree.SubElement(bron, "CdPartijSuwi").text = "0518"
    read = lks_perioden(etree.fromstring(etree.tostring(client)))
    assert [(p.begin, p.einde, p.loonwaarde_pct, p.type_code, p.is_lks, p.gemeentecode, p.dates_approximate)
            for p in read] == [(b, b + timedelta(days=d) if d is not None else None, pct, code, code == "LK", "0518",
                                False) for b, d, pct, code in periods]


@FAST
@given(st.text(max_size=12))
def test_any_suwiml_date_text_is_a_date_range_or_a_mapping_error(text):
    from mappings.suwinet import SuwiMappingError, parse_suwi_date

    try:
        parsed = parse_suwi_date(text, element="DatBRv")
    except SuwiMappingError as exc:
        assert "DatBRv" in str(exc) and not _NINE.search(str(exc))
        return
    assert parsed is None or parsed.earliest() <= parsed.latest()


# -- mappings.arbodienst: answers become bookings or a MappingError ------------------------------------------------
ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,20}", fullmatch=True)
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner,
                                                                                      max_size=4), max_leaves=12)


@FAST
@given(booking_id=ids, consult=ids, slot=ids, start=st.datetimes(min_value=datetime(2000, 1, 1),
                                                                  max_value=datetime(2060, 1, 1),
                                                                  timezones=st.just(ZoneInfo("Europe/Amsterdam"))),
       status=st.sampled_from(["GEBOEKT", "GEHOUDEN", "NO_SHOW", "GEANNULEERD", "GEANNULEERD_DOOR_ARBODIENST"]))
def test_a_booking_round_trips_through_its_json(booking_id, consult, slot, start, status):
    from mappings.arbodienst import Booking, BookingStatus, booking_from_json

    wire = json.loads(json.dumps({"booking_id": booking_id, "consult_ref": consult, "case_ref": "VN-000001",
                                  "slot_id": slot, "start": start.isoformat(), "status": status}))
    booking = booking_from_json(wire)
    assert booking == Booking(booking_id, consult, slot, booking.start, BookingStatus(status))
    # the same instant and offset (aware datetimes in a DST fold never compare equal across zones)
    assert booking.start.timestamp() == start.timestamp() and booking.start.utcoffset() == start.utcoffset()


@FAST
@given(st.one_of(json_values, st.fixed_dictionaries({
    "booking_id": json_values, "consult_ref": json_values, "slot_id": json_values, "start": json_values,
    "status": json_values})))
def test_any_json_is_a_booking_or_a_mapping_error_naming_a_field(data):
    from mappings.arbodienst import Booking, MappingError, booking_from_json, slots_from_json

    for parse in (booking_from_json, slots_from_json):
        try:
            assert isinstance(parse(data), (Booking, list))
        except MappingError as exc:
            assert "'" in str(exc) or "not a JSON object" in str(exc)


# -- rules.wvp: more calendar invariants ------------------------------------------------------------------------
@FAST
@given(d=st.dates(min_value=date(2017, 1, 1), max_value=date(2035, 12, 31)), delay=st.integers(0, 800),
       later=st.integers(1, 400))
def test_a_later_intake_never_moves_a_step_earlier_nor_its_legal_date(d, delay, later):
    from rules.wvp import wvp_calendar
    from schemas.case import Stap

    first = {t.stap: t for t in wvp_calendar(d, datum_ontvangst=d + timedelta(days=delay))}
    second = {t.stap: t for t in wvp_calendar(d, datum_ontvangst=d + timedelta(days=delay + later))}
    for stap, t in first.items():
        assert second[stap].datum >= t.datum
        # Fixed by D alone; the RIV of the employer is asked at intake, the plan follows the probleemanalyse.
        if stap not in (Stap.RIV_WERKGEVER, Stap.PLAN_VAN_AANPAK):
            assert second[stap].wettelijke_datum == t.wettelijke_datum
        assert second[stap].onverwijld or not t.onverwijld  # once late, always late


@FAST
@given(st.lists(st.tuples(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
                          st.none() | st.integers(0, 200)), min_size=1, max_size=6), st.randoms())
def test_first_sick_day_is_one_of_the_starts_and_ignores_the_order(periods, rnd):
    from rules.wvp import eerste_ziektedag_van

    perioden = [(start, start + timedelta(days=n) if n is not None else None) for start, n in periods]
    assume(len({s for s, _ in perioden}) == len(perioden))  # equal starts: the order among them may matter
    d = eerste_ziektedag_van(perioden)
    assert d in {start for start, _ in perioden}
    shuffled = list(perioden)
    rnd.shuffle(shuffled)
    assert eerste_ziektedag_van(shuffled) == d

