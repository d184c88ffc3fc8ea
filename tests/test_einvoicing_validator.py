"""The e-invoice validator: synthetic invoices, structural mode, profiles, broken or missing rules, SVRL
parsing, memory and threads. The official test set is in test_einvoicing_testset.py."""

from __future__ import annotations

import re
import resource
import threading
from pathlib import Path

import pytest
from lxml import etree

from einvoicing import PROFILES, CheckCode, DocumentType, Profile, Validator, default_rules_dir, validate_files
from einvoicing.profiles import DOCUMENT_TYPES, find_profile
from einvoicing.svrl import NO_ID, line_id_at, parse_svrl, source_for
from schemas.invoices import Severity, Source, ValidationVerdict

RULES = default_rules_dir()
SYNTHETIC = RULES / "_synthetic" if RULES is not None else Path("/nonexistent")
needs_corpus = pytest.mark.skipif(RULES is None or not SYNTHETIC.is_dir(),
                                  reason="the e-invoicing corpus (../shared/corpus/einvoicing) is absent")

UBL = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NLCIUS = "urn:cen.eu:en16931:2017#compliant#urn:fdc:nen.nl:nlcius:v1.0"
PEPPOL = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"


def ubl(customization: str | None = NLCIUS, *, lines: tuple[str, ...] = ("1",)) -> bytes:
    """A small UBL Invoice (not a complete one: enough for structure, profile and line lookups)."""
    cid = f"<cbc:CustomizationID>{customization}</cbc:CustomizationID>" if customization is not None else ""
    body = "".join(f"<cac:InvoiceLine><cbc:ID>{line}</cbc:ID></cac:InvoiceLine>" for line in lines)
    return (f'<?xml version="1.0" encoding="UTF-8"?><Invoice xmlns="{UBL}" xmlns:cbc="{CBC}" xmlns:cac="{CAC}">'
            f"{cid}<cbc:ID>F-1</cbc:ID>{body}</Invoice>").encode()


def codes(result) -> set[str]:
    return {f.code for f in result.findings}


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(RULES)


# --- the synthetic corpus ----------------------------------------------------------------------------

SYNTHETIC_EXPECTED = {
    "nlcius-creditnote.xml": ("SI-UBL-2.0", "CreditNote", ValidationVerdict.VALID),
    "nlcius-error-no-order-no-buyerref.xml": ("SI-UBL-2.0", "Invoice", ValidationVerdict.INVALID),
    "nlcius-fixedprice-traject-invoice.xml": ("SI-UBL-2.0", "Invoice", ValidationVerdict.VALID),
    "nlcius-hourly-invoice.xml": ("SI-UBL-2.0", "Invoice", ValidationVerdict.VALID),
    "nlcius-large-500-lines.xml": ("SI-UBL-2.0", "Invoice", ValidationVerdict.VALID),
    "peppol-hourly-invoice.xml": ("PEPPOL-BIS-3", "Invoice", ValidationVerdict.VALID),
}


@needs_corpus
def test_every_synthetic_file_is_listed():
    assert {p.name for p in SYNTHETIC.glob("*.xml")} == set(SYNTHETIC_EXPECTED)


@needs_corpus
@pytest.mark.parametrize("name", sorted(SYNTHETIC_EXPECTED))
def test_synthetic_invoice(validator, name):
    profile, document, verdict = SYNTHETIC_EXPECTED[name]
    result = validator.validate((SYNTHETIC / name).read_bytes(), name=name)
    assert (result.profile, result.document, result.verdict) == (profile, document, verdict), result.findings
    assert result.root is not None and etree.QName(result.root).localname == document
    if verdict is ValidationVerdict.INVALID:
        [finding] = result.findings
        assert (finding.code, finding.severity, finding.source) == ("BR-NL-2", Severity.FATAL, Source.SI_UBL)
        assert "BuyerReference" in finding.message or "order" in finding.message.lower()


@needs_corpus
def test_500_line_invoice_is_valid_within_a_memory_bound(validator):
    validator.validate((SYNTHETIC / "nlcius-hourly-invoice.xml").read_bytes())  # Saxon started, XSL compiled
    data = (SYNTHETIC / "nlcius-large-500-lines.xml").read_bytes()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    result = validator.validate(data)
    growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert result.verdict is ValidationVerdict.VALID, result.findings
    assert len(result.root.findall(f"{{{CAC}}}InvoiceLine")) == 500
    # Measured 13 MB (lxml tree, its text copy, Saxon's tree, a 0.75 MB SVRL report). The bound is
    # generous because Saxon's GraalVM heap grows in large steps; it catches a leak or a per-line copy
    # of the document, not small drifts. ru_maxrss is a peak, so an earlier test may hide growth: the
    # bound can only be too lenient, never flaky.
    assert growth_mb < 400


@needs_corpus
def test_xsd_and_schematron_both_run(validator):
    root = etree.fromstring((SYNTHETIC / "nlcius-error-no-order-no-buyerref.xml").read_bytes())
    issue_date = root.find(f"{{{CBC}}}IssueDate")
    root.remove(issue_date)
    root.insert(0, issue_date)  # out of the XSD's sequence; the schematron does not mind
    result = validator.validate(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    xsd = [f for f in result.findings if f.code == "XSD"]
    assert xsd and all((f.severity, f.source) == (Severity.FATAL, Source.XSD) for f in xsd)
    assert "IssueDate" in xsd[0].message and re.fullmatch(r"line \d+", xsd[0].location)
    assert "BR-NL-2" in codes(result)


@needs_corpus
def test_peppol_runs_the_cen_and_the_peppol_rules(validator):
    root = etree.fromstring((SYNTHETIC / "peppol-hourly-invoice.xml").read_bytes())
    root.find(f".//{{{CBC}}}PayableAmount").text = "1.00"  # CEN: BR-CO-16
    city = root.find(f".//{{{CAC}}}AccountingSupplierParty//{{{CBC}}}CityName")
    city.getparent().remove(city)  # Peppol's NL rules: NL-R-002
    second_line = root.findall(f"{{{CAC}}}InvoiceLine")[1]
    item_name = second_line.find(f"{{{CAC}}}Item/{{{CBC}}}Name")
    item_name.getparent().remove(item_name)  # CEN: BR-25, on that line
    result = validator.validate(etree.tostring(root))
    by_code = {f.code: f for f in result.findings}
    assert result.profile == "PEPPOL-BIS-3" and {"BR-CO-16", "NL-R-002", "BR-25"} <= set(by_code)
    assert (by_code["BR-CO-16"].source, by_code["NL-R-002"].source) == (Source.EN16931, Source.PEPPOL)
    assert by_code["BR-25"].line == second_line.findtext(f"{{{CBC}}}ID") and by_code["BR-CO-16"].line is None


# --- structural mode (no rules) ----------------------------------------------------------------------

def test_structural_mode_says_it_has_no_rules():
    structural = Validator(None)
    before = structural.compile_count
    result = structural.validate(ubl())
    assert not structural.has_rules and structural.rules_dir is None
    assert result.verdict is ValidationVerdict.VALID_WITH_WARNINGS and result.profile == "SI-UBL-2.0"
    [note] = result.findings
    assert (note.code, note.severity, note.source) == (CheckCode.RULES_NOT_CONFIGURED, Severity.WARNING, Source.PROFILE)
    assert "VANGNET_EINVOICE_RULES_DIR" in note.message
    assert structural.compile_count == before


@pytest.mark.parametrize("data, fragment", [
    (b"<Invoice><unclosed></Invoice>", "not well-formed"),
    (b"", "empty"),
    (b'<?xml version="1.0"?><!DOCTYPE Invoice [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
     b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&secret;</Invoice>', "DOCTYPE"),
    (b'<?xml version="1.0" encoding="ISO-8859-1"?><Invoice/>', "UTF-8"),
])
def test_unsafe_or_broken_xml_is_fatal(data, fragment):
    for checker in (Validator(None), Validator(RULES)):
        result = checker.validate(data)
        [finding] = result.findings
        assert (finding.code, finding.severity, finding.source) == ("XML", Severity.FATAL, Source.XML)
        assert fragment in finding.message and "passwd" not in finding.message
        assert result.verdict is ValidationVerdict.INVALID and result.root is None and result.document is None


def test_unknown_root_is_fatal():
    result = Validator(None).validate(b'<Invoice xmlns="urn:example:not-ubl"><cbc:ID xmlns:cbc="x">1</cbc:ID></Invoice>')
    [finding] = result.findings
    assert (finding.code, finding.severity, finding.source) == (CheckCode.DOCUMENT_UNKNOWN, Severity.FATAL, Source.XML)
    assert "CreditNote" in finding.message and result.document is None and result.root is not None


@pytest.mark.parametrize("checker", [Validator(None), Validator(RULES)], ids=["structural", "rules"])
def test_missing_or_unknown_customization_id(checker):
    missing = checker.validate(ubl(None))
    unknown = checker.validate(ubl("urn:example:unknown:1.0"))
    blank = checker.validate(ubl("   "))
    for result, code in ((missing, CheckCode.PROFILE_MISSING), (unknown, CheckCode.PROFILE_UNKNOWN),
                         (blank, CheckCode.PROFILE_MISSING)):
        finding = next(f for f in result.findings if f.code == code)
        assert (finding.severity, finding.source, result.verdict) == (Severity.FATAL, Source.PROFILE,
                                                                      ValidationVerdict.INVALID)
        assert NLCIUS in finding.message and PEPPOL in finding.message  # says which ids are supported
        assert result.profile is None and result.document == "Invoice"
    assert "urn:example:unknown:1.0" in next(f.message for f in unknown.findings if f.code == CheckCode.PROFILE_UNKNOWN)


def test_extended_customization_ids(validator):
    hourly = (SYNTHETIC / "nlcius-hourly-invoice.xml").read_bytes()
    assert NLCIUS.encode() in hourly

    def claiming(rest: str) -> bytes:
        return hourly.replace(NLCIUS.encode(), (NLCIUS + rest).encode())

    proper = validator.validate(claiming("#conformant#urn:example.nl:extra:1.0"))
    draft = validator.validate(claiming("#draft_error"))
    assert proper.profile == draft.profile == "SI-UBL-2.0"  # the base rules run either way
    assert proper.verdict is ValidationVerdict.VALID_WITH_WARNINGS
    assert [f.code for f in proper.findings] == [CheckCode.PROFILE_EXTENSION]
    assert draft.verdict is ValidationVerdict.INVALID
    assert [f.code for f in draft.findings] == [CheckCode.PROFILE_UNKNOWN]
    assert "#conformant#urn:" in draft.findings[0].message  # says what an extension must look like


def test_profile_table_lookups():
    by_name = {p.name: p for p in PROFILES}
    assert find_profile(NLCIUS, "Invoice") is by_name["SI-UBL-2.0"]
    assert find_profile(NLCIUS, "CrossIndustryInvoice") is by_name["NLCIUS-CII"]
    assert find_profile(f"{NLCIUS}#conformant#urn:fdc:nen.nl:gaccount:v1.0", "CreditNote") is by_name["SI-UBL-2.0-GACCOUNT"]
    assert find_profile(f"{PEPPOL}#draft_nl_error", "Invoice") is by_name["PEPPOL-BIS-3"]  # longest known prefix
    assert find_profile(f"{NLCIUS}#conformant#urn:example", "Invoice") is by_name["SI-UBL-2.0"]
    gaccount_extended = f"{NLCIUS}#conformant#urn:fdc:nen.nl:gaccount:v1.0#extra"
    assert find_profile(gaccount_extended, "Invoice") is by_name["SI-UBL-2.0-GACCOUNT"]  # not plain SI-UBL
    assert find_profile("urn:fdc:peppol.eu:poacc:trns:order:3", "Order") is by_name["PEPPOL-ORDER-3"]
    assert find_profile("urn:fdc:peppol.eu:poacc:trns:order:3", "Invoice") is None  # an Order id on an invoice
    assert find_profile("urn:cen.eu:en16931:2017", "Invoice") is None  # shorter than any known id


def test_order_customization_on_an_invoice_is_unknown():
    result = Validator(None).validate(ubl("urn:fdc:peppol.eu:poacc:trns:order:3"))
    assert CheckCode.PROFILE_UNKNOWN in codes(result) and result.profile is None


def test_default_rules_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("VANGNET_EINVOICE_RULES_DIR", str(tmp_path / "missing"))
    assert default_rules_dir() == tmp_path / "missing"  # returned even though it does not exist
    monkeypatch.delenv("VANGNET_EINVOICE_RULES_DIR")
    corpus = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "einvoicing"
    assert default_rules_dir() == (corpus if corpus.is_dir() else None)


# --- missing and broken rules ------------------------------------------------------------------------

def test_configured_rules_folder_missing(tmp_path):
    checker = Validator(tmp_path / "no-such-folder")
    result = checker.validate(ubl())
    assert not checker.has_rules
    [finding] = result.findings
    assert (finding.code, finding.severity, finding.source) == (CheckCode.RULES_MISSING, Severity.FATAL, Source.PROFILE)
    assert "no-such-folder" in finding.message and "VANGNET_EINVOICE_RULES_DIR" in finding.message


def test_rules_folder_without_the_needed_files(tmp_path):
    checker = Validator(tmp_path)
    result = checker.validate(ubl())
    assert checker.has_rules and result.verdict is ValidationVerdict.INVALID
    missing = [f.message for f in result.findings if f.code == CheckCode.RULES_MISSING]
    assert len(missing) == 2  # the Invoice XSD and the SI-UBL stylesheet
    assert any("UBL-Invoice-2.1.xsd" in m for m in missing) and any("si-ubl-2.0.xsl" in m for m in missing)


SVRL_STYLESHEET = """<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="2.0"
    xmlns:svrl="http://purl.oclc.org/dsdl/svrl">
  <xsl:template match="/">
    <svrl:schematron-output>
      <svrl:failed-assert id="TEST-1" flag="fatal" location="/*:Invoice[1]/*:InvoiceLine[2]">
        <svrl:text>Line <xsl:value-of select="count(//*:InvoiceLine)"/> lines</svrl:text>
      </svrl:failed-assert>
    </svrl:schematron-output>
  </xsl:template>
</xsl:stylesheet>"""

# A dynamic error on a document with two cbc:ID children of a line, like the official SI-UBL rules
# on two RegistrationName elements (XPTY0004).
FAILING_STYLESHEET = """<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="2.0">
  <xsl:template match="/"><out><xsl:value-of select="normalize-space(//*:InvoiceLine/*:ID)"/></out></xsl:template>
</xsl:stylesheet>"""

BROKEN_STYLESHEET = """<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="2.0">
  <xsl:template match="/"><xsl:value-of select="1 +"/></xsl:template>
</xsl:stylesheet>"""


def tmp_rules(tmp_path: Path, **stylesheets: str) -> Validator:
    """A Validator on tmp_path with one profile running the given stylesheets (no XSD)."""
    for name, text in stylesheets.items():
        (tmp_path / f"{name}.xsl").write_text(text)
    profile = Profile("TEST", NLCIUS, frozenset({"Invoice"}), tuple(f"{name}.xsl" for name in stylesheets), "test rules")
    types = [DocumentType(t.name, t.namespace, t.syntax, None) for t in DOCUMENT_TYPES]
    return Validator(tmp_path, profiles=[profile], document_types=types)


def test_stylesheet_error_is_a_finding_and_other_rule_sets_still_run(tmp_path):
    checker = tmp_rules(tmp_path, a_failing=FAILING_STYLESHEET, b_report=SVRL_STYLESHEET)
    result = checker.validate(ubl(lines=("10", "20")))  # two lines: two IDs, normalize-space() fails
    assert result.verdict is ValidationVerdict.INVALID and result.profile == "TEST"
    error, report = result.findings
    assert (error.code, error.severity, error.source) == (CheckCode.XSLT_ERROR, Severity.FATAL, Source.PROFILE)
    assert "a_failing.xsl" in error.message and "normalize-space" in error.message
    assert (report.code, report.line, report.message) == ("TEST-1", "20", "Line 2 lines")
    # the same rules pass a document they can handle: the error belonged to that one document
    ok = checker.validate(ubl(lines=("7",)))
    assert [f.code for f in ok.findings] == ["TEST-1"] and ok.findings[0].line is None  # no second line


def test_stylesheet_that_does_not_compile_is_compiled_once(tmp_path):
    checker = tmp_rules(tmp_path, broken=BROKEN_STYLESHEET)
    before = checker.compile_count
    first, second = checker.validate(ubl()), checker.validate(ubl())
    for result in (first, second):
        [finding] = result.findings
        assert (finding.code, finding.severity) == (CheckCode.RULES_BROKEN, Severity.FATAL)
        assert "broken.xsl" in finding.message and "XPST0003" in finding.message
    assert checker.compile_count == before + 1


def test_compiled_rules_are_shared_between_validators(tmp_path):
    first = tmp_rules(tmp_path, report=SVRL_STYLESHEET)
    first.validate(ubl())
    count = first.compile_count
    second = Validator(tmp_path, profiles=first.profiles, document_types=first.document_types)
    assert [f.code for f in second.validate(ubl()).findings] == ["TEST-1"]
    assert second.compile_count == count


def test_validate_files(tmp_path):
    (tmp_path / "good.xml").write_bytes(ubl())
    (tmp_path / "big.xml").write_bytes(ubl(lines=tuple(str(i) for i in range(200))))
    checker = Validator(None, max_bytes=2000)
    results = dict(validate_files(checker, [tmp_path / "good.xml", tmp_path / "big.xml", tmp_path / "gone.xml"]))
    assert results[tmp_path / "good.xml"].profile == "SI-UBL-2.0"
    assert codes(results[tmp_path / "big.xml"]) == {"XML"} and "limit" in results[tmp_path / "big.xml"].findings[0].message
    assert codes(results[tmp_path / "gone.xml"]) == {CheckCode.FILE_UNREADABLE}


# --- SVRL --------------------------------------------------------------------------------------------

SVRL = """<?xml version="1.0" encoding="UTF-8"?>
<svrl:schematron-output xmlns:svrl="http://purl.oclc.org/dsdl/svrl">
  <svrl:active-pattern document=""/>
  <svrl:fired-rule context="/"/>
  <svrl:failed-assert id="BR-NL-2" flag="fatal" location="/*:Invoice[namespace-uri()='{ubl}'][1]">
    <svrl:text>[BR-NL-2] Order   reference
      missing</svrl:text>
  </svrl:failed-assert>
  <svrl:failed-assert id="BR-NL-2" flag="fatal" location="/*:Invoice[namespace-uri()='{ubl}'][1]">
    <svrl:text>[BR-NL-2] Order reference missing</svrl:text>
  </svrl:failed-assert>
  <svrl:failed-assert id="BR-CO-10" flag="error"
      location="/*:Invoice[namespace-uri()='{ubl}'][1]/*:InvoiceLine[namespace-uri()='{cac}'][2]/*:Price[namespace-uri()='{cac}'][1]">
    <svrl:text>Sum wrong</svrl:text>
  </svrl:failed-assert>
  <svrl:successful-report id="PEPPOL-EN16931-R008" flag="warning" location="/Q{{{ubl}}}Invoice[1]/Q{{{cac}}}InvoiceLine[3]/@unitCode">
    <svrl:text>Empty element</svrl:text>
  </svrl:successful-report>
  <svrl:failed-assert flag="fatal" location="/*:Invoice[1]">
    <svrl:text>[BII2-T10-R001] An invoice MUST have a customization identifier</svrl:text>
  </svrl:failed-assert>
  <svrl:failed-assert flag="information" location="/*:Invoice[1]/*:InvoiceLine[9]"><svrl:text>No id at all</svrl:text></svrl:failed-assert>
  <svrl:failed-assert id="NL-R-003" location="/*:Invoice[1]/*:Note[1]"><svrl:text>No flag</svrl:text></svrl:failed-assert>
</svrl:schematron-output>""".format(ubl=UBL, cac=CAC)


def test_svrl_parsing():
    document = etree.fromstring(ubl(lines=("a", "b", "c")))
    findings = parse_svrl(SVRL, document=document)
    assert [(f.code, f.severity, f.source, f.line) for f in findings] == [
        ("BR-NL-2", Severity.FATAL, Source.SI_UBL, None),  # twice in the report, once here
        ("BR-CO-10", Severity.FATAL, Source.EN16931, "b"),  # flag "error" is fatal; in the second line
        ("PEPPOL-EN16931-R008", Severity.WARNING, Source.PEPPOL, "c"),  # Q{} steps, ends in an attribute
        ("BII2-T10-R001", Severity.FATAL, Source.EN16931, None),  # id taken from the text
        (NO_ID, Severity.WARNING, Source.EN16931, None),  # InvoiceLine[9] does not exist
        ("NL-R-003", Severity.FATAL, Source.PEPPOL, None),  # no flag: not a reason to accept
    ]
    assert findings[0].message == "[BR-NL-2] Order reference missing"  # whitespace normalised
    assert findings[1].location.endswith("*:Price[namespace-uri()='%s'][1]" % CAC)
    assert parse_svrl(SVRL.encode()) == [f.model_copy(update={"line": None}) for f in findings]  # bytes, no document


@pytest.mark.parametrize("rule_id, source", [
    ("BR-NL-13", Source.SI_UBL), ("BR-NL-32-1", Source.SI_UBL), ("BR-GA-3", Source.SI_UBL), ("SI-UBL-2", Source.SI_UBL),
    ("PEPPOL-EN16931-R004", Source.PEPPOL), ("NL-R-002", Source.PEPPOL), ("DE-R-001", Source.PEPPOL),
    ("PEPPOL-T01-B00110", Source.PEPPOL), ("BR-S-08", Source.EN16931), ("BR-CO-15", Source.EN16931),
    ("BR-CL-01", Source.EN16931), ("UBL-SR-09", Source.EN16931), ("UBL-CR-561", Source.EN16931),
    ("CII-SR-001", Source.EN16931), ("BR-01", Source.EN16931),
])
def test_source_by_rule_id(rule_id, source):
    assert source_for(rule_id) is source


def test_line_lookup_for_other_documents():
    order = etree.fromstring(
        b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2" xmlns:cac="%s" xmlns:cbc="%s">'
        b"<cac:OrderLine><cac:LineItem><cbc:ID>L-1</cbc:ID></cac:LineItem></cac:OrderLine></Order>" % (CAC.encode(), CBC.encode()))
    assert line_id_at(order, "/*:Order[1]/*:OrderLine[1]/*:LineItem[1]/*:Quantity[1]") == "L-1"
    assert line_id_at(order, "/*:Invoice[1]/*:OrderLine[1]") is None  # the root does not match
    assert line_id_at(order, "*:Order[1]/*:OrderLine[1]") is None  # not absolute
    assert line_id_at(order, "/*:Order[1]/*:OrderLine[last()]") is None  # a predicate we do not evaluate


# --- threads -----------------------------------------------------------------------------------------

@needs_corpus
def test_validate_is_thread_safe(validator):
    files = [SYNTHETIC / n for n in sorted(SYNTHETIC_EXPECTED) if "large" not in n]
    files += sorted((RULES / "SimplerInvoicing__testset" / "SI-UBL-2.0").glob("*_error*.xml"))[:8]
    documents = [p.read_bytes() for p in files]
    serial = [validator.validate(d).findings for d in documents]
    start = threading.Barrier(2)
    results: dict[int, list] = {}

    def work(worker: int) -> None:
        start.wait()
        order = documents if worker == 0 else documents[::-1]  # different documents at the same moment
        found = [validator.validate(d).findings for d in order]
        results[worker] = found if worker == 0 else found[::-1]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert results[0] == serial and results[1] == serial


@pytest.mark.skipif(RULES is None, reason="the e-invoicing corpus is absent")
def test_validate_files_on_threads_keeps_the_order_and_the_results(tmp_path):
    good = next(SYNTHETIC.glob("nlcius-hourly*.xml")).read_bytes()
    for i in range(6):
        (tmp_path / f"{i}.xml").write_bytes(good if i % 2 else b"<x/>")
    paths = sorted(tmp_path.glob("*.xml")) + [tmp_path / "gone.xml"]
    checker = Validator(RULES)
    one = [(p, r.verdict, r.findings) for p, r in validate_files(checker, paths)]
    assert [v for _, v, _ in one].count(ValidationVerdict.VALID) == 3
    assert [(p, r.verdict, r.findings) for p, r in validate_files(checker, paths, threads=3)] == one
