"""simulators.ubl_factory against the OFFICIAL artefacts in the e-invoicing corpus: the UBL 2.1 XSD (lxml)
and the compiled schematron of SI-UBL 2.0, or CEN EN 16931 + Peppol BIS 3 (saxonche)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from lxml import etree
from stdnum.nl import bsn

from simulators.ubl_factory import GEMEENTE_OIN, Line, make_invoice

CORPUS = Path("/work/shared/corpus/einvoicing")
XSD = CORPUS / "kduvekot__ubl-release-package/xsdrt/maindoc"
SI_UBL = CORPUS / "peppolautoriteit-nl__validation/xsl/si-ubl-2.0.xsl"
PEPPOL = CORPUS / ("phax__phive-rules/phive-rules-peppol/src/main/resources/external/schematron/openpeppol/"
                   "2026.5/xslt")
NEEDED = [XSD / "UBL-Invoice-2.1.xsd", XSD / "UBL-CreditNote-2.1.xsd", SI_UBL, PEPPOL / "CEN-EN16931-UBL.xslt",
          PEPPOL / "PEPPOL-EN16931-UBL.xslt"]
SVRL = "{http://purl.oclc.org/dsdl/svrl}"
NS = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
      "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"}

LINES = [Line("casemanager", D("6.5"), D("125.00")), Line("bedrijfsarts", D("1.25"), D("240.00")),
         Line("arbeidsdeskundige", D("4"), D("135.00")), Line("re-integratieconsulent", D("7.75"), D("115.00"))]
BASE = dict(number="VR-2026-0101", issue_date=date(2026, 4, 2), order_number="PO-2026-000123",
            period=(date(2026, 3, 1), date(2026, 3, 31)), lines=LINES)


@pytest.fixture(scope="module")
def official():
    """Checks a document against XSD + profile rules; returns the failed fatal/error asserts (id, text)."""
    missing = [str(p) for p in NEEDED if not p.is_file()]
    if missing:
        pytest.skip(f"official e-invoicing artefacts not found: {missing[0]}")
    saxonche = pytest.importorskip("saxonche")
    processor = saxonche.PySaxonProcessor(license=False)
    xslt = processor.new_xslt30_processor()
    rules = {"si-ubl": [xslt.compile_stylesheet(stylesheet_file=str(SI_UBL))],
             "peppol": [xslt.compile_stylesheet(stylesheet_file=str(PEPPOL / name))
                        for name in ("CEN-EN16931-UBL.xslt", "PEPPOL-EN16931-UBL.xslt")]}
    schemas = {doc: etree.XMLSchema(etree.parse(str(XSD / f"UBL-{doc}-2.1.xsd"))) for doc in ("Invoice", "CreditNote")}

    def check(data: bytes, profile: str = "si-ubl") -> list[tuple[str, str]]:
        root = etree.fromstring(data)
        schema = schemas[etree.QName(root).localname]
        assert schema.validate(root), f"UBL XSD: {schema.error_log.last_error}"
        failed = []
        node = processor.parse_xml(xml_text=data.decode("utf-8"))
        for stylesheet in rules[profile]:
            svrl = etree.fromstring(stylesheet.transform_to_string(xdm_node=node).encode("utf-8"))
            failed += [(f.get("id"), " ".join("".join(f.itertext()).split())[:160])
                       for f in svrl.iter(f"{SVRL}failed-assert") if f.get("flag") in ("fatal", "error")]
        return failed

    return check


def text(data: bytes, path: str) -> list[str]:
    return etree.fromstring(data).xpath(f"{path}/text()", namespaces=NS)


def test_hourly_invoice_passes_si_ubl(official):
    data = make_invoice(**BASE)
    assert official(data) == []
    assert text(data, "/*/cac:OrderReference/cbc:ID") == ["PO-2026-000123"]
    assert text(data, "/*/cbc:BuyerReference") == ["PO-2026-000123"]
    assert text(data, "//cac:InvoiceLine/cac:Item/cbc:Name") == ["Casemanager", "Bedrijfsarts", "Arbeidsdeskundige",
                                                                 "Re-integratieconsulent"]
    assert text(data, "//cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount") == ["2543.75"]  # as in the corpus example
    assert text(data, "/*/cac:TaxTotal/cbc:TaxAmount") == ["534.19"]
    assert text(data, "//cac:LegalMonetaryTotal/cbc:PayableAmount") == ["3077.94"]
    assert text(data, "//cac:AccountingCustomerParty//cbc:EndpointID[@schemeID='0190']") == [GEMEENTE_OIN]


def test_no_personal_data_in_the_document():
    for kvk in ("12345678", "00000000", "87654321", "11111111"):
        data = make_invoice(**BASE, supplier_kvk=kvk).decode()
        nines = re.findall(r"(?<!\d)\d{9}(?!\d)", data)
        assert not [n for n in nines if bsn.is_valid(n)]  # nothing that could be a BSN (e.g. in the btw-id)
    assert "dossier" not in data.lower()


def test_rounding_is_half_up_per_line_and_per_vat_rate(official):
    lines = [Line("casemanager", D("1"), D("0.50")), Line("jobcoach", D("0.333"), D("10.005"), vat_pct=D(9))]
    data = make_invoice(**{**BASE, "lines": lines})
    assert official(data) == []
    assert text(data, "//cac:InvoiceLine/cbc:LineExtensionAmount") == ["0.50", "3.33"]
    assert text(data, "//cac:TaxSubtotal/cbc:TaxAmount") == ["0.11", "0.30"]  # 0.105 -> 0.11; 0.2997 -> 0.30
    assert text(data, "/*/cac:TaxTotal/cbc:TaxAmount") == ["0.41"]


def test_exempt_line_passes(official):
    lines = [Line("bedrijfsarts", D("2"), D("150"), vat_pct=D(0)), LINES[0]]
    assert official(make_invoice(**{**BASE, "lines": lines})) == []


def test_credit_note_passes(official):
    data = make_invoice(**{**BASE, "number": "VR-2026-0103", "lines": [Line("bedrijfsarts", D("0.25"), D("240"))]},
                        credit_note=True, billing_reference="VR-2026-0101")
    assert official(data) == []
    root = etree.fromstring(data)
    assert etree.QName(root).localname == "CreditNote"
    assert text(data, "/*/cbc:CreditNoteTypeCode") == ["381"]
    assert text(data, "/*/cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID") == ["VR-2026-0101"]
    assert text(data, "//cac:CreditNoteLine/cbc:CreditedQuantity") == ["0.25"]
    with pytest.raises(ValueError, match="billing_reference"):
        make_invoice(**BASE, credit_note=True)


def test_peppol_invoice_and_credit_note_pass(official):
    assert official(make_invoice(**BASE, profile="peppol"), "peppol") == []
    credit = make_invoice(**BASE, profile="peppol", credit_note=True, billing_reference="VR-2026-0101")
    assert official(credit, "peppol") == []
    assert "peppol.eu:2017:poacc:billing:3.0" in text(credit, "/*/cbc:CustomizationID")[0]


def test_500_lines_pass_and_are_quick(official):
    lines = [Line(("casemanager", "jobcoach", "re-integratieconsulent")[i % 3], D(i % 9 + 1) / 4, D("98.37"))
             for i in range(500)]
    data = make_invoice(**{**BASE, "lines": lines})
    assert len(text(data, "//cac:InvoiceLine/cbc:ID")) == 500
    assert official(data) == []
    assert official(make_invoice(**{**BASE, "lines": lines}, profile="peppol"), "peppol") == []


def test_amount_override_passes_the_official_rules_but_is_wrong(official):
    lines = [Line("casemanager", D("2"), D("100.00"), amount=D("250.00")), LINES[1]]
    data = make_invoice(**{**BASE, "lines": lines})
    assert official(data) == []  # SI-UBL does not check quantity x price
    assert text(data, "//cac:InvoiceLine[1]/cbc:LineExtensionAmount") == ["250.00"]
    assert text(data, "//cac:LegalMonetaryTotal/cbc:LineExtensionAmount") == ["550.00"]  # totals follow the lines


def test_vat_and_total_overrides_break_the_official_rules(official):
    assert {code for code, _ in official(make_invoice(**BASE, vat_override=D("1.00")))} >= {"BR-CO-17"}
    assert {code for code, _ in official(make_invoice(**BASE, total_override=D("1.00")))} == {"BR-CO-15"}


def test_without_order_or_buyer_reference_breaks_br_nl_2(official):
    data = make_invoice(**{**BASE, "order_number": None})
    assert [code for code, _ in official(data)] == ["BR-NL-2"]
    assert official(make_invoice(**{**BASE, "order_number": None}, buyer_reference="WI-REINT-2026")) == []
