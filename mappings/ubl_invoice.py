"""UBL 2.1 Invoice / CreditNote (SI-UBL 2.0, Peppol BIS 3) → `schemas.invoices.Invoice`. Pure: no I/O.

Only what reconciliation needs is read (domain.md §7); the official rules (XSD, schematron) judge the rest.
Elements are found by namespace URI, never by prefix. Amounts and quantities become `Decimal(text)`
exactly as written ("1460.5" stays 1460.5), never float, with at most 15 digits before and 12 after the
point (no exponents, NaN or Infinity); dates must be JJJJ-MM-DD.

Choices:
- Supplier id: the first of `cac:PartyLegalEntity/cbc:CompanyID`, `cbc:EndpointID`,
  `cac:PartyIdentification/cbc:ID` (in that order, each with a `schemeID`) that is a valid KvK (0106,
  8 digits) or OIN (0190, 20 digits) becomes `supplier_id`. When none is, `supplier_id` is None and
  `supplier_scheme` / `supplier_identifier` keep the first identifier that has a scheme.
- VAT: the `cac:TaxTotal` whose `cbc:TaxAmount/@currencyID` is the document currency (or has none).
  A second TaxTotal in the VAT accounting currency (BT-111) is ignored.
- Line allowances/charges are the line's own `cac:AllowanceCharge` children; a discount inside
  `cac:Price` is already in the net price and is not counted again.
- `read_invoice_bytes` lets `mappings.safe_xml.UnsafeXmlError` through (not XML, DTD, too big):
  the caller reports that as an XML finding; everything after parsing is an `InvoiceMappingError`.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from functools import lru_cache

from lxml import etree

from mappings.safe_xml import parse_xml
from schemas.invoices import Invoice, InvoiceLine, Totals, VatSubtotal
from schemas.orders import ROLE_PATTERN, normalise_provider_id

__all__ = ["MAX_INVOICE_BYTES", "InvoiceMappingError", "read_invoice", "read_invoice_bytes", "role_of"]

MAX_INVOICE_BYTES = 20 * 1024 * 1024
"""Largest e-invoice accepted (a 500-line invoice is about 400 KB; attachments make them bigger)."""

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
_ROOTS = {
    "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice": "Invoice",
    "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote": "CreditNote",
}
# xsd:decimal, at most 15 digits before and 12 after the point: sums and products stay exact in rules.
_DECIMAL = re.compile(r"[+-]?([0-9]{1,15}(\.[0-9]{0,12})?|\.[0-9]{1,12})")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ROLE = re.compile(ROLE_PATTERN)
_SEPARATORS = re.compile(r"[\s_]+")
_ROLE_MAX = 40  # schemas.orders.Role
_SCHEMES = {"0106": "kvk", "0190": "oin"}


class InvoiceMappingError(ValueError):
    """The document is not an invoice we can read; the message names the document and the field, not its value."""


@lru_cache(maxsize=None)
def _steps(path: str) -> tuple[str, ...]:
    """`cac:Price/cbc:PriceAmount` → the Clark tags of its steps."""
    return tuple("{%s}%s" % (NS[p], local) for p, _, local in (step.partition(":") for step in path.split("/")))


class _Children:
    """Look-ups of plain child paths (`cac:Price/cbc:PriceAmount`: no predicates or wildcards), with the
    results ElementPath gives (`a/b`: the b children of every a child, in document order).

    Each element's children are indexed by tag in one pass the first time a path goes through it, so a
    line's dozen look-ups cost one walk over its children instead of a dozen trips through lxml's
    path machinery (which dominated mapping a 500-line invoice). One instance per document read.
    """

    __slots__ = ("_index",)

    def __init__(self) -> None:
        self._index: dict[etree._Element, dict[object, list[etree._Element]]] = {}

    def _of(self, el: etree._Element, tag: str) -> list[etree._Element]:
        index = self._index.get(el)
        if index is None:
            index = {}
            for child in el:
                index.setdefault(child.tag, []).append(child)
            self._index[el] = index
        return index.get(tag, _NONE)

    def find(self, el: etree._Element, path: str) -> etree._Element | None:
        return self._first(el, _steps(path), 0)

    def _first(self, el: etree._Element, steps: tuple[str, ...], i: int) -> etree._Element | None:
        children = self._of(el, steps[i])
        if i == len(steps) - 1:
            return children[0] if children else None
        for child in children:
            found = self._first(child, steps, i + 1)
            if found is not None:
                return found
        return None

    def findall(self, el: etree._Element, path: str) -> list[etree._Element]:
        found = [el]
        for tag in _steps(path):
            found = [child for parent in found for child in self._of(parent, tag)]
        return found

    def text(self, el: etree._Element, path: str) -> str | None:
        found = self._first(el, _steps(path), 0)
        if found is None or found.text is None:
            return None
        return found.text.strip() or None


_NONE: list[etree._Element] = []


def role_of(item_name: str) -> str | None:
    """The contract role an item name stands for: `Re-integratieconsulent` → `re-integratieconsulent`.

    Lower case, runs of spaces/underscores become '-', surrounding blanks dropped; None when the result is
    not a role name (`schemas.orders.ROLE_PATTERN`, at most 40 characters).
    """
    role = _SEPARATORS.sub("-", item_name.strip().lower())
    return role if len(role) <= _ROLE_MAX and _ROLE.fullmatch(role) else None


class _Reader:
    """Reads one document; knows its name for error messages."""

    def __init__(self, root: etree._Element) -> None:
        document = _ROOTS.get(root.tag) if isinstance(root.tag, str) else None
        if document is None:
            local = etree.QName(root).localname if isinstance(root.tag, str) else "?"
            raise InvoiceMappingError(
                f"het document is een {local!r}, geen UBL 2.1 Invoice of CreditNote; alleen facturen en "
                "creditnota's worden gelezen")
        self.root = root
        self._c = _Children()
        self.document = document
        self.number = "(zonder cbc:ID)"
        self.where = document  # prefix of error messages: the document, its number, the line

    def fail(self, what: str) -> InvoiceMappingError:
        return InvoiceMappingError(f"{self.where}: {what}")

    def required(self, el: etree._Element, path: str) -> str:
        value = self._c.text(el, path)
        if value is None:
            raise self.fail(f"{path} ontbreekt of is leeg")
        return value

    def day(self, el: etree._Element, path: str, *, required: bool = False) -> date | None:
        value = self._c.text(el, path)
        if value is None and not required:
            return None
        if value is not None and _DATE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise self.fail(f"{path} ontbreekt of is geen datum (JJJJ-MM-DD)")

    def amount(self, el: etree._Element, path: str, *, default: Decimal | None = None) -> Decimal:
        value = self._c.text(el, path)
        if value is None and default is not None:
            return default
        if value is None or not _DECIMAL.fullmatch(value):
            raise self.fail(f"{path} ontbreekt of is geen getal")
        return Decimal(value)

    def supplier(self) -> dict[str, str | None]:
        party = self._c.find(self.root, "cac:AccountingSupplierParty/cac:Party")
        if party is None:
            raise self.fail("cac:AccountingSupplierParty/cac:Party ontbreekt")
        ids = [*self._c.findall(party, "cac:PartyLegalEntity/cbc:CompanyID"), *self._c.findall(party, "cbc:EndpointID"),
               *self._c.findall(party, "cac:PartyIdentification/cbc:ID")]
        schemed = [(el.get("schemeID", "").strip(), (el.text or "").strip()) for el in ids if el.get("schemeID")]
        supplier_id = next(filter(None, (_provider_id(s, i) for s, i in schemed)), None)
        scheme, identifier = schemed[0] if schemed else (None, None)
        name = self._c.text(party, "cac:PartyName/cbc:Name") or self._c.text(party, "cac:PartyLegalEntity/cbc:RegistrationName")
        if supplier_id is not None:
            scheme, identifier = {"kvk": "0106", "oin": "0190"}[supplier_id[:3]], supplier_id[4:]
        return {"supplier_id": supplier_id, "supplier_scheme": scheme or None,
                "supplier_identifier": identifier or None, "supplier_name": name}

    def line(self, el: etree._Element) -> InvoiceLine:
        line_id = self._c.text(el, "cbc:ID")
        self.where = f"{self.document} regel {line_id or '(zonder cbc:ID)'}"
        if line_id is None:
            raise self.fail("cbc:ID ontbreekt")
        quantity_path = "cbc:InvoicedQuantity" if self.document == "Invoice" else "cbc:CreditedQuantity"
        quantity = self._c.find(el, quantity_path)
        unit_code = None if quantity is None else (quantity.get("unitCode") or "").strip() or None
        allowances = charges = Decimal(0)
        for ac in self._c.findall(el, "cac:AllowanceCharge"):
            indicator = (self._c.text(ac, "cbc:ChargeIndicator") or "").lower()
            if indicator not in ("true", "false", "1", "0"):
                raise self.fail("cac:AllowanceCharge/cbc:ChargeIndicator ontbreekt of is geen true/false")
            amount = self.amount(ac, "cbc:Amount")
            if indicator in ("true", "1"):
                charges += amount
            else:
                allowances += amount
        name = self._c.text(el, "cac:Item/cbc:Name") or self._c.text(el, "cac:Item/cbc:Description")
        if name is None:
            raise self.fail("cac:Item/cbc:Name ontbreekt (en er is geen cac:Item/cbc:Description)")
        pct = self._c.find(el, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent")
        return InvoiceLine(
            line_id=line_id,
            quantity=self.amount(el, quantity_path),
            unit_code=unit_code,
            unit_price=self.amount(el, "cac:Price/cbc:PriceAmount"),
            base_quantity=self.amount(el, "cac:Price/cbc:BaseQuantity", default=Decimal(1)),
            line_amount=self.amount(el, "cbc:LineExtensionAmount"),
            line_allowances=allowances,
            line_charges=charges,
            item_name=name,
            role=role_of(name),
            period_start=self.day(el, "cac:InvoicePeriod/cbc:StartDate"),
            period_end=self.day(el, "cac:InvoicePeriod/cbc:EndDate"),
            vat_category=self._c.text(el, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID"),
            vat_pct=None if pct is None else self.amount(el, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent"),
        )

    def tax_total(self, currency: str) -> etree._Element:
        candidates = [t for t in self._c.findall(self.root, "cac:TaxTotal")
                      if (amount := self._c.find(t, "cbc:TaxAmount")) is not None
                      and amount.get("currencyID", currency).strip() == currency]
        if not candidates:
            raise self.fail(f"cac:TaxTotal met cbc:TaxAmount in de documentvaluta {currency} ontbreekt")
        return next((t for t in candidates if self._c.find(t, "cac:TaxSubtotal") is not None), candidates[0])

    def vat(self, tax_total: etree._Element) -> tuple[VatSubtotal, ...]:
        subtotals = []
        for sub in self._c.findall(tax_total, "cac:TaxSubtotal"):
            pct = self._c.find(sub, "cac:TaxCategory/cbc:Percent")
            subtotals.append(VatSubtotal(
                category=self.required(sub, "cac:TaxCategory/cbc:ID"),
                pct=None if pct is None else self.amount(sub, "cac:TaxCategory/cbc:Percent"),
                taxable_amount=self.amount(sub, "cbc:TaxableAmount"),
                tax_amount=self.amount(sub, "cbc:TaxAmount"),
            ))
        return tuple(subtotals)

    def totals(self, tax_total: etree._Element) -> Totals:
        lmt = self._c.find(self.root, "cac:LegalMonetaryTotal")
        if lmt is None:
            raise self.fail("cac:LegalMonetaryTotal ontbreekt")
        self.where = f"{self.document} {self.number} (cac:LegalMonetaryTotal)"
        zero = Decimal(0)
        totals = Totals(
            line_extension=self.amount(lmt, "cbc:LineExtensionAmount"),
            tax_exclusive=self.amount(lmt, "cbc:TaxExclusiveAmount"),
            tax_inclusive=self.amount(lmt, "cbc:TaxInclusiveAmount"),
            payable=self.amount(lmt, "cbc:PayableAmount"),
            tax_total=self.amount(tax_total, "cbc:TaxAmount"),
            allowance_total=self.amount(lmt, "cbc:AllowanceTotalAmount", default=zero),
            charge_total=self.amount(lmt, "cbc:ChargeTotalAmount", default=zero),
            prepaid=self.amount(lmt, "cbc:PrepaidAmount", default=zero),
            rounding=self.amount(lmt, "cbc:PayableRoundingAmount", default=zero),
        )
        self.where = f"{self.document} {self.number}"
        return totals

    def read(self) -> Invoice:
        root = self.root
        self.number = self.required(root, "cbc:ID")
        self.where = f"{self.document} {self.number}"
        type_path = "cbc:InvoiceTypeCode" if self.document == "Invoice" else "cbc:CreditNoteTypeCode"
        header = {
            "document": self.document,
            "customization_id": self._c.text(root, "cbc:CustomizationID"),
            "profile_id": self._c.text(root, "cbc:ProfileID"),
            "invoice_number": self.number,
            "issue_date": self.day(root, "cbc:IssueDate", required=True),
            "due_date": self.day(root, "cbc:DueDate"),
            "type_code": self.required(root, type_path),
            "currency": self.required(root, "cbc:DocumentCurrencyCode"),
            **self.supplier(),
            "order_reference": self._c.text(root, "cac:OrderReference/cbc:ID"),
            "buyer_reference": self._c.text(root, "cbc:BuyerReference"),
            "billing_references": tuple(
                ref.text.strip() for ref in self._c.findall(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID")
                if ref.text and ref.text.strip()),
            "period_start": self.day(root, "cac:InvoicePeriod/cbc:StartDate"),
            "period_end": self.day(root, "cac:InvoicePeriod/cbc:EndDate"),
        }
        tax_total = self.tax_total(header["currency"])
        vat = self.vat(tax_total)
        totals = self.totals(tax_total)
        line_path = "cac:InvoiceLine" if self.document == "Invoice" else "cac:CreditNoteLine"
        lines = tuple(self.line(el) for el in self._c.findall(root, line_path))
        self.where = f"{self.document} {self.number}"
        if not lines:
            raise self.fail(f"de factuur heeft geen {line_path}")
        return Invoice(**header, lines=lines, vat=vat, totals=totals)


def _provider_id(scheme: str, identifier: str) -> str | None:
    prefix = _SCHEMES.get(scheme)
    if prefix is None or not identifier.isascii():
        return None
    try:
        return normalise_provider_id(f"{prefix}:{identifier}")
    except ValueError:
        return None


def read_invoice(root: etree._Element) -> Invoice:
    """Map a parsed UBL 2.1 `Invoice` or `CreditNote` root element; raises `InvoiceMappingError`."""
    return _Reader(root).read()


def read_invoice_bytes(data: bytes, *, max_bytes: int = MAX_INVOICE_BYTES) -> Invoice:
    """Parse `data` safely (`mappings.safe_xml.parse_xml`, which raises `UnsafeXmlError`) and map it."""
    return read_invoice(parse_xml(data, max_bytes=max_bytes))
