"""Acceptance: the SimplerInvoicing test set gives the verdict each file name states.

Every file under SimplerInvoicing__testset/ whose name holds `_ok`, `_error` or `_warning` (so not
`general/`, whose SI-UBL 1.x files use dashes) is one test. `_ok` must be VALID (every such file is
clean: no warnings either), `_warning` VALID_WITH_WARNINGS (warnings do not reject), `_error`
INVALID; a rule id in the name (BR-NL-13, UBL-SR-11, NL-R-003 ...) must be among the findings with
the severity the name states. Where the current official rules differ from the file name, DEVIATIONS
says how (from the corpus MANIFEST, "Known deviations found while verifying") and the test asserts
the deviation itself, so it fails when the behaviour changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from einvoicing import Validator, default_rules_dir
from schemas.invoices import Severity, ValidationVerdict

RULES = default_rules_dir()
TESTSET = RULES / "SimplerInvoicing__testset" if RULES is not None else Path("/nonexistent")
pytestmark = pytest.mark.skipif(not TESTSET.is_dir(), reason=f"the e-invoicing test set is absent ({TESTSET})")

OUTCOME = re.compile(r"_(ok|error|warning)(?=[_.])")
RULE_ID = re.compile(r"(?<![A-Za-z0-9])(BR(?:-[A-Z]{1,3})?-\d+|UBL-[A-Z]{2}-\d+|NL-R-\d+|PEPPOL-[A-Z0-9]+-[A-Z]?\d+)(?!\d)")
VERDICT = {"ok": ValidationVerdict.VALID, "warning": ValidationVerdict.VALID_WITH_WARNINGS,
           "error": ValidationVerdict.INVALID}
SEVERITY = {"warning": Severity.WARNING, "error": Severity.FATAL}

FILES = sorted(p for p in TESTSET.rglob("*.xml") if OUTCOME.search(p.name)) if TESTSET.is_dir() else []


@dataclass(frozen=True)
class Deviation:
    verdict: ValidationVerdict
    present: frozenset[str]  # codes that must be among the findings
    absent: frozenset[str]  # rule ids that must NOT be reported
    why: str


def _deviation(verdict, present, absent, why) -> Deviation:
    return Deviation(verdict, frozenset(present), frozenset(absent), why)


_BR_NL_34 = _deviation(ValidationVerdict.VALID_WITH_WARNINGS, {"BR-NL-32-1"}, {"BR-NL-34"},
                       "the warning fires, but the SVRL id is BR-NL-32-1: the NLCIUS schematron reuses that id "
                       "for its BR-NL-34 text")
DEVIATIONS: dict[str, Deviation] = {
    "SI-UBL-2.0_BR-NL-34_warning_reasoncode.xml": _BR_NL_34,
    "SI-UBL-2.0_BR-NL-34_warning_reasoncode_line.xml": _BR_NL_34,
    "SI-UBL-2.0_BR-NL-7_error_381_invoice.xml": _deviation(
        ValidationVerdict.INVALID, {"BR-NL-8", "BR-CL-01"}, {"BR-NL-7"},
        "invalid as expected, but via BR-NL-8 and BR-CL-01 rather than BR-NL-7"),
    "SI-UBL-2.0_UBL-SR-09_error_multiple_legalentity_registrationname.xml": _deviation(
        ValidationVerdict.INVALID, {"XSLT-ERROR"}, {"UBL-SR-09"},
        "two RegistrationName elements: the SI-UBL XSLT stops with an XPath type error (XPTY0004) instead of "
        "reporting UBL-SR-09; the validator must treat that as invalid (the MANIFEST names UBL-SR-15 too, but "
        "no such file is in the corpus)"),
    "PB3_NL-R-002_error.xml": _deviation(
        ValidationVerdict.INVALID, {"PROFILE-UNKNOWN"}, {"NL-R-002"},
        "NL-R-002 no longer fires under Peppol 3.0.21: the supplier country is BE and the adopted NL rules apply "
        "only to suppliers in NL. The file is still invalid: its draft CustomizationID (`...billing:3.0"
        "#draft_nl_error`) is no specification identifier (PEPPOL-EN16931-R004 only checks the prefix)"),
}


def _reported(codes: set[str], rule_id: str) -> bool:
    # Sub-rules count as their rule: BR-NL-27 is reported as BR-NL-27-1 .. BR-NL-27-4.
    return any(code == rule_id or code.startswith(f"{rule_id}-") for code in codes)


@pytest.fixture(scope="module")
def validator() -> Validator:
    """One Validator for the module: each stylesheet compiles once (the SI-UBL XSL is 1 MB)."""
    return Validator(RULES)


def test_the_test_set_is_all_there():
    by_folder = {}
    for path in FILES:
        by_folder[path.parent.relative_to(TESTSET).as_posix()] = by_folder.get(path.parent.relative_to(TESTSET).as_posix(), 0) + 1
    assert by_folder == {"SI-UBL-2.0": 64, "si-ubl-2.0-ext-gaccount": 10, "Peppol-BIS-3/Invoice": 9,
                         "Peppol-BIS-3/Order": 3, "NLCIUS-CII": 2}
    assert set(DEVIATIONS) <= {p.name for p in FILES}  # no stale deviation


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(TESTSET).as_posix())
def test_file_gives_the_verdict_its_name_states(validator, path):
    result = validator.validate(path.read_bytes(), name=path.name)
    codes = {f.code for f in result.findings}
    assert result.profile is not None or "no_customizationid" in path.name, result.findings
    deviation = DEVIATIONS.get(path.name)
    if deviation is not None:
        assert result.verdict is deviation.verdict, (deviation.why, result.findings)
        assert deviation.present <= codes, (deviation.why, codes)
        assert not any(_reported(codes, rule_id) for rule_id in deviation.absent), (deviation.why, codes)
        return
    outcome = OUTCOME.search(path.name).group(1)
    assert result.verdict is VERDICT[outcome], result.findings
    rule_id = RULE_ID.search(path.name)
    if rule_id is not None and outcome != "ok":
        named = [f for f in result.findings if _reported({f.code}, rule_id.group(1))]
        assert named, f"{rule_id.group(1)} not among {sorted(codes)}"
        assert {f.severity for f in named} == {SEVERITY[outcome]}


def test_missing_customization_id_is_reported_as_such(validator):
    result = validator.validate((TESTSET / "SI-UBL-2.0" / "SI-UBL-2.0_error_no_customizationid.xml").read_bytes())
    assert [f.code for f in result.findings] == ["PROFILE-MISSING"]  # XSD passes; no rules can be chosen


def test_each_profile_is_exercised(validator):
    profiles = {validator.validate(p.read_bytes()).profile for p in FILES}
    assert profiles == {"SI-UBL-2.0", "SI-UBL-2.0-GACCOUNT", "PEPPOL-BIS-3", "PEPPOL-ORDER-3", "NLCIUS-CII", None}


def test_a_batch_compiles_each_rule_set_once(validator):
    folders = ("SI-UBL-2.0", "si-ubl-2.0-ext-gaccount", "Peppol-BIS-3/Invoice", "Peppol-BIS-3/Order", "NLCIUS-CII")
    per_folder = [[p for p in FILES if p.parent == TESTSET / folder] for folder in folders]
    for files in per_folder:
        validator.validate(files[0].read_bytes())  # the first file of each profile may compile
    after_first = validator.compile_count
    batch = [p for files in per_folder for p in files[1:3]]
    assert len(batch) >= 5
    for path in batch:
        validator.validate(path.read_bytes())
    assert validator.compile_count == after_first
    # 6 stylesheets and 3 XSDs were needed; a second Validator reuses them all
    assert after_first >= 9
    Validator(RULES).validate(batch[0].read_bytes())
    assert validator.compile_count == after_first
