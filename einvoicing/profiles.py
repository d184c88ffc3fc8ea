"""Which official rules apply to which e-invoice: the document types and the profile table.

Pure data and lookups, no I/O. Every path is RELATIVE to the rules folder, which has the layout of
the shared corpus (`<owner>__<repo>/<path in that repository>`, see its MANIFEST.md), so pointing
`VANGNET_EINVOICE_RULES_DIR` at a newer copy of that folder updates the rules without a code change.

The corpus has no XSD for UN/CEFACT CII, so a CII invoice gets the schematron rules only
(`DocumentType.xsd` is None); that is a gap in the corpus, not a finding about the invoice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_UBL_MAINDOC = "kduvekot__ubl-release-package/xsdrt/maindoc"
_PEPPOL_XSLT = "phax__phive-rules/phive-rules-peppol/src/main/resources/external/schematron/openpeppol/2026.5/xslt"
_NL_XSL = "peppolautoriteit-nl__validation/xsl"

_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
_RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
_RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"


@dataclass(frozen=True)
class DocumentType:
    """A root element vangnet accepts: UBL Invoice/CreditNote/Order or a CII invoice."""

    name: str  # the root's local name
    namespace: str
    syntax: str  # "UBL" or "CII"
    xsd: str | None  # relative path of its XSD; None: no schema in the rules folder


DOCUMENT_TYPES: tuple[DocumentType, ...] = (
    DocumentType("Invoice", "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2", "UBL",
                 f"{_UBL_MAINDOC}/UBL-Invoice-2.1.xsd"),
    DocumentType("CreditNote", "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2", "UBL",
                 f"{_UBL_MAINDOC}/UBL-CreditNote-2.1.xsd"),
    DocumentType("Order", "urn:oasis:names:specification:ubl:schema:xsd:Order-2", "UBL",
                 f"{_UBL_MAINDOC}/UBL-Order-2.1.xsd"),
    DocumentType("CrossIndustryInvoice", _RSM, "CII", None),
)


@dataclass(frozen=True)
class Profile:
    """One specification a document can claim (by CustomizationID) and the rule sets that check it.

    `stylesheets` are compiled schematron (XSLT 2.0 producing SVRL); all of them run, in order.
    """

    name: str
    customization_id: str
    documents: frozenset[str]  # DocumentType names this profile is for
    stylesheets: tuple[str, ...]
    title: str  # for people: which specification and version

    def describe(self) -> str:
        """`customization id` (title), as listed in messages."""
        return f"{self.customization_id} ({self.title})"


_NLCIUS = "urn:cen.eu:en16931:2017#compliant#urn:fdc:nen.nl:nlcius:v1.0"
_INVOICES = frozenset({"Invoice", "CreditNote"})

PROFILES: tuple[Profile, ...] = (
    Profile("SI-UBL-2.0", _NLCIUS, _INVOICES, (f"{_NL_XSL}/si-ubl-2.0.xsl",), "SI-UBL 2.0 / NLCIUS"),
    Profile("SI-UBL-2.0-GACCOUNT", f"{_NLCIUS}#conformant#urn:fdc:nen.nl:gaccount:v1.0", _INVOICES,
            (f"{_NL_XSL}/si-ubl-2.0-ext-gaccount.xsl",), "SI-UBL 2.0 with G-account extension"),
    Profile("PEPPOL-BIS-3", "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0",
            _INVOICES, (f"{_PEPPOL_XSLT}/CEN-EN16931-UBL.xslt", f"{_PEPPOL_XSLT}/PEPPOL-EN16931-UBL.xslt"),
            "Peppol BIS Billing 3.0"),
    Profile("PEPPOL-ORDER-3", "urn:fdc:peppol.eu:poacc:trns:order:3", frozenset({"Order"}),
            (f"{_PEPPOL_XSLT}/PEPPOLBIS-T01.xslt",), "Peppol BIS Order 3.0"),
    Profile("NLCIUS-CII", _NLCIUS, frozenset({"CrossIndustryInvoice"}), (f"{_NL_XSL}/nlcius-cii-1.0.xsl",),
            "NLCIUS for UN/CEFACT CII"),
)


def document_type(root: Any, types: Iterable[DocumentType] = DOCUMENT_TYPES) -> DocumentType | None:
    """The DocumentType of an lxml root element, or None when it is not one vangnet accepts."""
    tag = root.tag if isinstance(root.tag, str) else ""
    for doc_type in types:
        if tag == f"{{{doc_type.namespace}}}{doc_type.name}":
            return doc_type
    return None


def customization_id(root: Any, doc_type: DocumentType) -> str | None:
    """The specification identifier (BT-24) the document claims, stripped; None when absent or empty.

    UBL: `cbc:CustomizationID`; CII: `rsm:ExchangedDocumentContext/
    ram:GuidelineSpecifiedDocumentContextParameter/ram:ID`.
    """
    if doc_type.syntax == "CII":
        path = f"{{{_RSM}}}ExchangedDocumentContext/{{{_RAM}}}GuidelineSpecifiedDocumentContextParameter/{{{_RAM}}}ID"
    else:
        path = f"{{{_CBC}}}CustomizationID"
    value = (root.findtext(path) or "").strip()
    return value or None


def find_profile(customization: str, document: str, profiles: Iterable[Profile] = PROFILES) -> Profile | None:
    """The profile for this CustomizationID and document type.

    An exact match wins; otherwise the profile with the LONGEST id the CustomizationID starts with
    (e.g. Peppol `...billing:3.0#draft_nl_error` runs the Peppol rules, which judge the id themselves;
    the g-account id extends the NLCIUS id and must not fall back to plain SI-UBL).
    """
    candidates = [p for p in profiles if document in p.documents]
    for profile in candidates:
        if profile.customization_id == customization:
            return profile
    prefixed = [p for p in candidates if customization.startswith(p.customization_id)]
    return max(prefixed, key=lambda p: len(p.customization_id), default=None)


def profiles_for(document: str, profiles: Iterable[Profile] = PROFILES) -> list[Profile]:
    """The profiles that accept this document type (for 'supported are ...' messages)."""
    return [p for p in profiles if document in p.documents]
