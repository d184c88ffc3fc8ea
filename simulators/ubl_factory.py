"""SI-UBL 2.0 / Peppol BIS 3 invoices and credit notes for the simulator, the demo, tests and benchmarks.

Built with lxml after ``_synthetic/nlcius-hourly-invoice.xml`` of the e-invoicing corpus: a fictitious
re-integration provider (identified by KvK, scheme 0106) invoices a fictitious gemeente (OIN, scheme
0190) for hours per role. The order number goes into ``cac:OrderReference/cbc:ID`` and, unless
another is given, into ``cbc:BuyerReference`` (BR-NL-2). There is no personal data anywhere: no BSN,
no client name, no dossier number; lines name a role and the period only.

Without overrides the result passes the UBL 2.1 XSD and the SI-UBL 2.0 (or Peppol BIS 3 + EN 16931)
rules. ``Line.amount``, ``vat_override`` and ``total_override`` make deliberately wrong documents.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from lxml import etree

__all__ = ["GEMEENTE_NAME", "GEMEENTE_OIN", "Line", "make_invoice"]

NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CREDIT = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

CUSTOMIZATION = {
    "si-ubl": "urn:cen.eu:en16931:2017#compliant#urn:fdc:nen.nl:nlcius:v1.0",
    "peppol": "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0",
}
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
GEMEENTE_OIN = "00000001001234567000"
"""OIN (scheme 0190) of the fictitious buyer, as in the corpus' synthetic invoices."""
GEMEENTE_NAME = "Gemeente Voorbeeldstad"
IBAN = "NL91ABNA0417164300"  # the well-known example IBAN
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Line:
    """One invoice line: ``hours`` (the quantity, in ``unit``) of ``role`` at ``rate`` per unit.

    ``name`` defaults to the role with a capital (``re-integratieconsulent`` → ``Re-integratieconsulent``);
    ``amount`` overrides the line amount (BT-131) to make wrong arithmetic; ``vat_pct`` 0 means exempt (E).
    """

    role: str
    hours: Decimal
    rate: Decimal
    unit: str = "HUR"
    name: str | None = None
    amount: Decimal | None = None
    vat_pct: Decimal = Decimal(21)

    @property
    def item_name(self) -> str:
        return self.name or self.role[:1].upper() + self.role[1:]

    @property
    def line_amount(self) -> Decimal:
        if self.amount is not None:
            return Decimal(self.amount).quantize(CENT, ROUND_HALF_UP)
        return (Decimal(self.hours) * Decimal(self.rate)).quantize(CENT, ROUND_HALF_UP)


def _num(value: Decimal) -> str:
    """Plain decimal notation, never an exponent (``Decimal('1E+2')`` → ``100``)."""
    return format(Decimal(value).normalize(), "f")


def _vat_number(kvk: str) -> str:
    """A fictitious btw-id from the KvK number whose 9 digits fail the 11-proef (never BSN-shaped)."""
    total = sum(int(c) * w for c, w in zip(kvk, range(9, 1, -1)))
    check = next(d for d in range(10) if (total - d) % 11)
    return f"NL{kvk}{check}B01"


def _money(value: Decimal) -> str:
    return format(Decimal(value).quantize(CENT, ROUND_HALF_UP), "f")


class _Builder:
    """Appends UBL elements; the small helpers keep ``make_invoice`` readable and fast."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root

    @staticmethod
    def cbc(parent: etree._Element, tag: str, text: str, **attrs: str) -> etree._Element:
        el = etree.SubElement(parent, f"{{{CBC}}}{tag}", attrs or None)
        el.text = text
        return el

    @staticmethod
    def cac(parent: etree._Element, tag: str) -> etree._Element:
        return etree.SubElement(parent, f"{{{CAC}}}{tag}")

    def amount(self, parent: etree._Element, tag: str, value: Decimal) -> None:
        self.cbc(parent, tag, _money(value), currencyID="EUR")

    def tax_category(self, parent: etree._Element, tag: str, pct: Decimal) -> None:
        cat = self.cac(parent, tag)
        self.cbc(cat, "ID", "S" if pct > 0 else "E")
        self.cbc(cat, "Percent", _num(pct))
        if pct == 0 and tag == "TaxCategory":
            self.cbc(cat, "TaxExemptionReason", "Vrijgesteld van btw")
        self.cbc(self.cac(cat, "TaxScheme"), "ID", "VAT")

    def party(self, parent: etree._Element, tag: str, *, scheme: str, ident: str, name: str, street: str,
              city: str, postcode: str, vat: str | None, contact: str, email: str) -> None:
        party = self.cac(self.cac(parent, tag), "Party")
        self.cbc(party, "EndpointID", ident, schemeID=scheme)
        self.cbc(self.cac(party, "PartyName"), "Name", name)
        address = self.cac(party, "PostalAddress")
        self.cbc(address, "StreetName", street)
        self.cbc(address, "CityName", city)
        self.cbc(address, "PostalZone", postcode)
        self.cbc(self.cac(address, "Country"), "IdentificationCode", "NL")
        if vat is not None:
            tax = self.cac(party, "PartyTaxScheme")
            self.cbc(tax, "CompanyID", vat)
            self.cbc(self.cac(tax, "TaxScheme"), "ID", "VAT")
        legal = self.cac(party, "PartyLegalEntity")
        self.cbc(legal, "RegistrationName", name)
        self.cbc(legal, "CompanyID", ident, schemeID=scheme)
        person = self.cac(party, "Contact")
        self.cbc(person, "Name", contact)
        self.cbc(person, "ElectronicMail", email)


def _line_template(b: _Builder, doc: str, key: tuple[str, str, Decimal], description: str,
                   order_line: bool) -> etree._Element:
    """A detached ``cac:InvoiceLine``/``cac:CreditNoteLine``: ID, quantity, amount, [OrderLineReference],
    Item, Price, in this order (``make_invoice`` fills the texts by position)."""
    name, unit, pct = key
    el = etree.Element(f"{{{CAC}}}{doc}Line", nsmap={"cac": CAC, "cbc": CBC})
    b.cbc(el, "ID", "")
    b.cbc(el, "CreditedQuantity" if doc == "CreditNote" else "InvoicedQuantity", "", unitCode=unit)
    b.cbc(el, "LineExtensionAmount", "", currencyID="EUR")
    if order_line:
        b.cbc(b.cac(el, "OrderLineReference"), "LineID", "")
    item = b.cac(el, "Item")
    b.cbc(item, "Description", description)
    b.cbc(item, "Name", name)
    b.tax_category(item, "ClassifiedTaxCategory", pct)
    b.cbc(b.cac(el, "Price"), "PriceAmount", "", currencyID="EUR")
    return el


def make_invoice(*, supplier_kvk: str = "12345678", supplier_name: str = "Voorbeeld Re-integratie B.V.",
                 number: str, issue_date: date, order_number: str | None, period: tuple[date, date],
                 lines: list[Line], type_code: str = "380", billing_reference: str | None = None,
                 profile: Literal["si-ubl", "peppol"] = "si-ubl", buyer_reference: str | None = None,
                 credit_note: bool = False, vat_override: Decimal | None = None,
                 total_override: Decimal | None = None) -> bytes:
    """A UBL 2.1 Invoice (or, with ``credit_note``, a CreditNote with type code 381) as UTF-8 bytes.

    ``buyer_reference`` defaults to ``order_number``; with neither the document breaks BR-NL-2 /
    PEPPOL-EN16931-R003 on purpose. A credit note or a corrective invoice (384) needs
    ``billing_reference`` (the invoice it corrects). ``vat_override`` replaces the VAT total (the
    difference lands in the first VAT subtotal, the tax-inclusive and payable amounts follow);
    ``total_override`` replaces the tax-inclusive and payable amounts.
    """
    if profile not in CUSTOMIZATION:
        raise ValueError(f"profile must be one of {sorted(CUSTOMIZATION)}, got {profile!r}")
    if not lines:
        raise ValueError("an invoice needs at least one line")
    if not (len(supplier_kvk) == 8 and supplier_kvk.isdigit()):
        raise ValueError("supplier_kvk must be the 8 digits of a KvK number")
    if period[0] > period[1]:
        raise ValueError("period must run from its start to its end date")
    if credit_note and type_code == "380":
        type_code = "381"
    if (credit_note or type_code in ("381", "384")) and not billing_reference:
        raise ValueError(f"a {'credit note' if credit_note else f'type {type_code} invoice'} needs "
                         "billing_reference: the number of the invoice it corrects")
    doc = "CreditNote" if credit_note else "Invoice"
    root = etree.Element(f"{{{NS_CREDIT if credit_note else NS_INVOICE}}}{doc}",
                         nsmap={None: NS_CREDIT if credit_note else NS_INVOICE, "cac": CAC, "cbc": CBC})
    b = _Builder(root)
    b.cbc(root, "CustomizationID", CUSTOMIZATION[profile])
    b.cbc(root, "ProfileID", PROFILE_ID)
    b.cbc(root, "ID", number)
    b.cbc(root, "IssueDate", issue_date.isoformat())
    due = (issue_date + timedelta(days=30)).isoformat()
    if not credit_note:
        b.cbc(root, "DueDate", due)
    b.cbc(root, f"{doc}TypeCode", type_code)
    b.cbc(root, "DocumentCurrencyCode", "EUR")
    reference = buyer_reference if buyer_reference is not None else order_number
    if reference:
        b.cbc(root, "BuyerReference", reference)
    invoice_period = b.cac(root, "InvoicePeriod")
    b.cbc(invoice_period, "StartDate", period[0].isoformat())
    b.cbc(invoice_period, "EndDate", period[1].isoformat())
    if order_number:
        b.cbc(b.cac(root, "OrderReference"), "ID", order_number)
    if billing_reference:
        b.cbc(b.cac(b.cac(root, "BillingReference"), "InvoiceDocumentReference"), "ID", billing_reference)
    b.party(root, "AccountingSupplierParty", scheme="0106", ident=supplier_kvk, name=supplier_name,
            street="Voorbeeldstraat 1", city="Utrecht", postcode="3511 AA", vat=_vat_number(supplier_kvk),
            contact="Debiteurenadministratie", email="facturen@provider.example")
    b.party(root, "AccountingCustomerParty", scheme="0190", ident=GEMEENTE_OIN, name=GEMEENTE_NAME,
            street="Stadhuisplein 1", city="Voorbeeldstad", postcode="1234 AB", vat=None,
            contact="Team Werk en Inkomen", email="crediteuren@voorbeeldstad.example")
    means = b.cac(root, "PaymentMeans")
    b.cbc(means, "PaymentMeansCode", "58")
    if credit_note:
        b.cbc(means, "PaymentDueDate", due)
    b.cbc(means, "PaymentID", number)
    b.cbc(b.cac(means, "PayeeFinancialAccount"), "ID", IBAN)
    b.cbc(b.cac(root, "PaymentTerms"), "Note", "Betaling binnen 30 dagen")

    amounts = [line.line_amount for line in lines]
    per_rate: dict[Decimal, Decimal] = defaultdict(Decimal)
    for line, amount in zip(lines, amounts):
        per_rate[Decimal(line.vat_pct)] += amount
    taxes = {pct: (base * pct / 100).quantize(CENT, ROUND_HALF_UP) for pct, base in per_rate.items()}
    tax_total = sum(taxes.values(), Decimal("0.00"))
    if vat_override is not None:
        first = next(iter(taxes))
        taxes[first] += Decimal(vat_override) - tax_total
        tax_total = Decimal(vat_override)
    net = sum(amounts, Decimal("0.00"))
    gross = net + tax_total if total_override is None else Decimal(total_override)

    tax = b.cac(root, "TaxTotal")
    b.amount(tax, "TaxAmount", tax_total)
    for pct, base in per_rate.items():
        sub = b.cac(tax, "TaxSubtotal")
        b.amount(sub, "TaxableAmount", base)
        b.amount(sub, "TaxAmount", taxes[pct])
        b.tax_category(sub, "TaxCategory", pct)
    totals = b.cac(root, "LegalMonetaryTotal")
    b.amount(totals, "LineExtensionAmount", net)
    b.amount(totals, "TaxExclusiveAmount", net)
    b.amount(totals, "TaxInclusiveAmount", gross)
    b.amount(totals, "PayableAmount", gross)

    # Lines with the same name, unit and VAT rate differ only in id, quantity and amounts: copying a
    # prepared line (a C-level deepcopy) is several times faster than building each from scratch.
    description = f"Inzet {{}}, periode {period[0]:%d-%m-%Y} t/m {period[1]:%d-%m-%Y}"
    templates: dict[tuple[str, str, Decimal], etree._Element] = {}
    for i, (line, amount) in enumerate(zip(lines, amounts), start=1):
        key = (line.item_name, line.unit, Decimal(line.vat_pct))
        if key not in templates:
            templates[key] = _line_template(b, doc, key, description.format(key[0].lower()), bool(order_number))
        el = copy.deepcopy(templates[key])
        el[0].text = str(i)
        el[1].text = _num(line.hours)
        el[2].text = _money(amount)
        if order_number:
            el[3][0].text = str(i)
        el[-1][0].text = _num(line.rate)
        root.append(el)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
