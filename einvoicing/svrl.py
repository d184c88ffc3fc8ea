"""Read SVRL (the report compiled schematron produces) into `Finding`s. Pure: lxml only, no I/O.

Every `svrl:failed-assert` and `svrl:successful-report` becomes one Finding: code = the rule's @id,
severity from @flag, source from the rule id, message = its `svrl:text`, location = @location (the
XPath the rule points at), and `line` = the `cbc:ID` of the invoice line that location lies in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from lxml import etree

from schemas.invoices import Finding, Severity, Source

SVRL_NS = "http://purl.oclc.org/dsdl/svrl"
_RESULTS = (f"{{{SVRL_NS}}}failed-assert", f"{{{SVRL_NS}}}successful-report")
_FATAL_FLAGS = frozenset({"fatal", "error"})
NO_ID = "SVRL-NO-ID"  # code for a rule without @id and without a `[ID]` prefix in its text

# National rules inside Peppol BIS (NL-R-001, DE-R-001, GR-S-001 ...); checked after `BR-` so that
# the CEN rules BR-S-08, BR-E-01 ... stay EN 16931.
_PEPPOL_NATIONAL = re.compile(r"^[A-Z]{2}-[RS]-")
_BRACKETED_ID = re.compile(r"^\s*\[([A-Za-z][\w.-]*)\]")


def source_for(rule_id: str) -> Source:
    """Which rule set a rule id belongs to.

    `BR-NL-*`, `BR-GA-*` (g-account) and `SI-UBL-*` → SI-UBL; `PEPPOL-*` and the national rules in
    Peppol BIS (`NL-R-*`, `DE-R-*` ...) → PEPPOL; everything else (`BR-*`, `BR-CO-*`, `BR-CL-*`,
    `UBL-*`, `CII-*` ...) → EN 16931.
    """
    if rule_id.startswith(("BR-NL-", "BR-GA-", "SI-UBL-")):
        return Source.SI_UBL
    if rule_id.startswith("BR-"):
        return Source.EN16931
    if rule_id.startswith("PEPPOL-") or _PEPPOL_NATIONAL.match(rule_id):
        return Source.PEPPOL
    return Source.EN16931


def severity_for(flag: str | None) -> Severity:
    """FATAL for flag `fatal`/`error`, and for a missing flag (a failed rule without a declared weight is
    not a reason to accept); WARNING for `warning`, `information` and any other flag."""
    if flag is None:
        return Severity.FATAL
    return Severity.FATAL if flag.strip().lower() in _FATAL_FLAGS else Severity.WARNING


def parse_svrl(svrl: str | bytes, *, document: Any = None) -> list[Finding]:
    """The findings in one SVRL report, deduplicated (same code, location and message once), in report order.

    `document` is the lxml root element of the validated document; when given, each finding's `line`
    is looked up from its location. Raises `lxml.etree.XMLSyntaxError` when the report is not XML.
    """
    if isinstance(svrl, str) and svrl.lstrip().startswith("<?xml"):
        svrl = svrl.encode("utf-8")  # lxml refuses str input that carries an encoding declaration
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    report = etree.fromstring(svrl, parser)
    return dedupe(_findings(report.iter(*_RESULTS), document))


def _findings(results: Iterable[Any], document: Any) -> Iterator[Finding]:
    lines: dict[str, str | None] = {}
    for result in results:
        text = result.find(f"{{{SVRL_NS}}}text")
        message = " ".join("".join(text.itertext()).split()) if text is not None else ""
        code = (result.get("id") or "").strip() or _id_from_text(message)
        location = result.get("location") or None
        line = None
        if document is not None and location:
            if location not in lines:
                lines[location] = line_id_at(document, location)
            line = lines[location]
        yield Finding(code=code, severity=severity_for(result.get("flag")), source=source_for(code),
                      message=message, line=line, location=location)


def _id_from_text(message: str) -> str:
    # Some legacy rules have no @id but start their text with it: "[BII2-T10-R001] An invoice MUST ..."
    match = _BRACKETED_ID.match(message)
    return match.group(1) if match else NO_ID


def dedupe(findings: Iterable[Finding]) -> list[Finding]:
    """Findings with the same code, location and message kept once, first occurrence first."""
    seen: set[tuple[str, str | None, str]] = set()
    unique = []
    for finding in findings:
        key = (finding.code, finding.location, finding.message)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique


# ---- line lookup -------------------------------------------------------------------------------

# Line elements and the path (local names) from them to the line's identifier.
LINE_ID_PATHS: dict[str, tuple[str, ...]] = {
    "InvoiceLine": ("ID",),
    "CreditNoteLine": ("ID",),
    "OrderLine": ("LineItem", "ID"),
    "IncludedSupplyChainTradeLineItem": ("AssociatedDocumentLineDocument", "LineID"),
}
# One step of an SVRL location: `*:Name`, `prefix:Name`, `Q{ns}Name` or `Name`, then predicates.
_STEP = re.compile(r"^(?:\*:|Q\{(?P<ns>[^}]*)\}|[A-Za-z_][\w.-]*:)?(?P<name>[A-Za-z_][\w.-]*)(?P<preds>(?:\[.*\])?)$")
_NS_PREDICATE = re.compile(r"""^namespace-uri\(\)\s*=\s*['"]([^'"]*)['"]$""")


def line_id_at(document: Any, location: str) -> str | None:
    """The identifier of the (outermost) document line `location` lies in, e.g. `3` for
    `/*:Invoice[...][1]/*:InvoiceLine[...][2]/...` when the second InvoiceLine has `cbc:ID` 3.

    None when the location is not inside a line or does not resolve in `document`.
    """
    for element in _walk(document, location):
        path = LINE_ID_PATHS.get(etree.QName(element).localname)
        if path is not None:
            target = element
            for name in path:
                target = next((c for c in target if _local(c) == name), None)
                if target is None:
                    return None
            return (target.text or "").strip() or None
    return None


def _walk(document: Any, location: str) -> Iterator[Any]:
    steps = _split_steps(location)
    if len(steps) < 2 or steps[0] != "":
        return  # not an absolute path
    current = None
    for step in steps[1:]:
        match = _STEP.match(step)
        if match is None:
            return  # attribute, text() or something we do not follow
        namespace, position = match.group("ns"), 1
        for predicate in _predicates(match.group("preds")):
            ns_match = _NS_PREDICATE.match(predicate)
            if ns_match:
                namespace = ns_match.group(1)
            elif predicate.isdigit():
                position = int(predicate)
            else:
                return
        siblings = [document] if current is None else list(current)
        matching = [e for e in siblings if _local(e) == match.group("name")
                    and (namespace is None or etree.QName(e).namespace == namespace)]
        if len(matching) < position:
            return
        current = matching[position - 1]
        yield current


def _local(element: Any) -> str | None:
    return etree.QName(element).localname if isinstance(element.tag, str) else None


def _split_steps(location: str) -> list[str]:
    """Split an XPath on `/` outside predicates and quotes."""
    steps, depth, quote, start = [], 0, None, 0
    for i, char in enumerate(location):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "/" and depth == 0:
            steps.append(location[start:i])
            start = i + 1
    steps.append(location[start:])
    return steps


def _predicates(text: str) -> Iterator[str]:
    depth, quote, start = 0, None, 0
    for i, char in enumerate(text):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "[":
            if depth == 0:
                start = i + 1
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                yield text[start:i].strip()
