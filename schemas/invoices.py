"""Provider invoices (domain.md §7): the e-invoice as vangnet reads it, and what checking it found.

An `Invoice` is what `mappings.ubl_invoice` reads out of a UBL 2.1 Invoice or CreditNote (SI-UBL 2.0 /
Peppol BIS 3). Amounts are `Decimal` exactly as written in the document, never float, and always as
the document states them: a CreditNote carries positive amounts; `Invoice.sign` says how it counts.

A `Finding` is one thing a check found, from any source: the UBL XSD, the official schematron rules
(SI-UBL, Peppol, EN 16931) or our own reconciliation against the orders. Its `code` is stable: the
official rule id (`BR-NL-13`, `PEPPOL-EN16931-R004`) or one of `rules.reconciliation.Code`.
Invoices carry no BSN or diagnosis; nothing here may hold personal data.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Severity(StrEnum):
    """How heavy a finding is: FATAL rejects the invoice, DISPUTE needs a person, WARNING only informs."""

    FATAL = "fatal"
    DISPUTE = "dispute"
    WARNING = "warning"


class Source(StrEnum):
    """Where a finding comes from."""

    XML = "XML"  # not well-formed, unsafe, or not an e-invoice at all
    XSD = "XSD"  # the UBL 2.1 schema
    PROFILE = "PROFILE"  # CustomizationID unknown, rules missing, a stylesheet that failed on this input
    SI_UBL = "SI-UBL"  # NLCIUS rules (BR-NL-*)
    PEPPOL = "PEPPOL"  # Peppol BIS rules (PEPPOL-*, NL-R-*)
    EN16931 = "EN16931"  # the CEN core rules (BR-*, BR-CO-*, BR-CL-*, UBL-*)
    RECONCILE = "RECONCILE"  # our own checks against orders, contracts and earlier invoices


class Finding(BaseModel):
    """One thing a check found. `line` is the invoice line's `cbc:ID` when it is about one line;
    `location` the XPath the official rule points at (may be None)."""

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    source: Source
    message: str
    line: str | None = None
    location: str | None = None


class ValidationVerdict(StrEnum):
    """Outcome of the official rules alone (`vangnet invoices validate`): warnings do not reject."""

    VALID = "VALID"
    VALID_WITH_WARNINGS = "VALID_WITH_WARNINGS"
    INVALID = "INVALID"


class Verdict(StrEnum):
    """Outcome of validation + reconciliation (`vangnet invoices check`, the invoice flow)."""

    APPROVED = "APPROVED"
    DISPUTED = "DISPUTED"  # a person decides (Prefect UI form or CLI)
    REJECTED = "REJECTED"  # fatal validation finding or a hard reconciliation rule


class TypeCode(StrEnum):
    """UNTDID 1001 document types used in NL public procurement (domain.md §7)."""

    INVOICE = "380"
    CREDIT_NOTE = "381"
    CORRECTIVE = "384"
    SELF_BILLED = "389"


class InvoiceLine(BaseModel):
    """One `cac:InvoiceLine` / `cac:CreditNoteLine`.

    `role` is the item name normalised to a contract role (`Re-integratieconsulent` →
    `re-integratieconsulent`, `Casemanager` → `casemanager`); `line_amount` is BT-131 as stated, which
    should equal quantity × price / base quantity + line charges − line allowances.
    """

    model_config = ConfigDict(frozen=True)

    line_id: str
    quantity: Decimal
    unit_code: str | None = None
    unit_price: Decimal
    base_quantity: Decimal = Decimal(1)
    line_amount: Decimal
    line_allowances: Decimal = Decimal(0)
    line_charges: Decimal = Decimal(0)
    item_name: str
    role: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    vat_category: str | None = None
    vat_pct: Decimal | None = None


class VatSubtotal(BaseModel):
    """One `cac:TaxTotal/cac:TaxSubtotal` (BG-23): category, rate, taxable base and tax."""

    model_config = ConfigDict(frozen=True)

    category: str
    pct: Decimal | None
    taxable_amount: Decimal
    tax_amount: Decimal


class Totals(BaseModel):
    """`cac:LegalMonetaryTotal` (BG-22) plus the document-level tax total (BT-110)."""

    model_config = ConfigDict(frozen=True)

    line_extension: Decimal
    tax_exclusive: Decimal
    tax_inclusive: Decimal
    payable: Decimal
    tax_total: Decimal
    allowance_total: Decimal = Decimal(0)
    charge_total: Decimal = Decimal(0)
    prepaid: Decimal = Decimal(0)
    rounding: Decimal = Decimal(0)


class Invoice(BaseModel):
    """An e-invoice as vangnet reads it (no personal data: invoices link to a case only by order number).

    `supplier_id` is normalised like a contract's `provider_id` (`kvk:12345678`, `oin:<20 digits>`) when
    the supplier is identified by KvK (0106) or OIN (0190); otherwise None and `supplier_scheme` /
    `supplier_identifier` hold what the document says.
    """

    model_config = ConfigDict(frozen=True)

    document: str  # "Invoice" or "CreditNote"
    customization_id: str | None
    profile_id: str | None = None
    invoice_number: str
    issue_date: date
    due_date: date | None = None
    type_code: str
    currency: str
    supplier_id: str | None
    supplier_scheme: str | None = None
    supplier_identifier: str | None = None
    supplier_name: str | None = None
    order_reference: str | None = None  # cac:OrderReference/cbc:ID
    buyer_reference: str | None = None  # cbc:BuyerReference
    billing_references: tuple[str, ...] = ()  # cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID
    period_start: date | None = None
    period_end: date | None = None
    lines: tuple[InvoiceLine, ...]
    vat: tuple[VatSubtotal, ...] = ()
    totals: Totals

    @property
    def order_number(self) -> str | None:
        """The gemeente's order number: `cac:OrderReference/cbc:ID`, else `cbc:BuyerReference` (BR-NL-2)."""
        return self.order_reference or self.buyer_reference

    @property
    def is_credit(self) -> bool:
        """True for a credit note (a CreditNote document or type code 381)."""
        return self.document == "CreditNote" or self.type_code == TypeCode.CREDIT_NOTE

    @property
    def sign(self) -> int:
        """-1 when this document reduces what the gemeente owes (credit note), else +1."""
        return -1 if self.is_credit else 1
