"""Booking files for finance: approved invoices as CSV and JSON rows (pure, no I/O).

One row per approved invoice (a credit note is a row with negative amounts). Columns, in order:

| column | meaning |
|---|---|
| `booking_key` | idempotency key of the booking: `<supplier>/<invoice number>/<vangnet invoice id>`; finance skips a key it has seen |
| `batch` | the export batch (`<timestamp>-<first invoice id>`); a re-written batch has the same name |
| `supplier` | `kvk:<8 digits>` or `oin:<20 digits>` |
| `invoice_number` | the provider's invoice number (BT-1) |
| `document` | `Invoice` or `CreditNote` |
| `type_code` | 380 invoice, 381 credit note, 384 corrective, 389 self-billed |
| `issue_date` | BT-2, ISO date |
| `order_number` | the gemeente's order (opdrachtnummer) the invoice is booked on |
| `currency` | ISO 4217 (EUR) |
| `amount_excl_vat` | approved amount excl. VAT (the whole invoice, or a clerk's partial approval) |
| `vat` | VAT on that amount |
| `amount_incl_vat` | the sum of both |
| `decision` | `auto` (approved by the rules) or the clerk's `approve` / `partial` |

Amounts use a point as decimal separator and two decimals. No personal data: invoices carry none.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

COLUMNS = ("booking_key", "batch", "supplier", "invoice_number", "document", "type_code", "issue_date",
           "order_number", "currency", "amount_excl_vat", "vat", "amount_incl_vat", "decision")
FORMAT_VERSION = 1


def booking_row(export: Any, invoice: Any) -> dict[str, str]:
    """One booking row from an export record and its invoice (store rows or look-alikes)."""
    return {
        "booking_key": f"{invoice.supplier_id}/{invoice.invoice_number}/{invoice.id}",
        "batch": export.batch,
        "supplier": invoice.supplier_id,
        "invoice_number": invoice.invoice_number,
        "document": invoice.document,
        "type_code": invoice.type_code,
        "issue_date": invoice.issue_date.isoformat(),
        "order_number": invoice.order_number or "",
        "currency": invoice.currency,
        "amount_excl_vat": f"{export.amount_excl_vat:.2f}",
        "vat": f"{export.vat:.2f}",
        "amount_incl_vat": f"{export.amount_excl_vat + export.vat:.2f}",
        "decision": invoice.decision or "auto",
    }


def to_csv(rows: list[dict[str, str]]) -> bytes:
    """The rows as CSV (UTF-8, comma-separated, header line, CRLF line ends as RFC 4180)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        # A leading =, +, -, @, tab or carriage return would make a spreadsheet run the cell as a formula.
        writer.writerow({k: ("'" + v if k not in _NUMERIC and v.startswith(_FORMULA) else v) for k, v in row.items()})
    return out.getvalue().encode("utf-8")


def to_json(batch: str, rows: list[dict[str, str]]) -> bytes:
    """The rows as one JSON document: {"format": 1, "batch": ..., "bookings": [...]}."""
    return json.dumps({"format": FORMAT_VERSION, "batch": batch, "bookings": rows}, indent=2,
                      ensure_ascii=False).encode("utf-8")


_NUMERIC = {"amount_excl_vat", "vat", "amount_incl_vat"}
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
