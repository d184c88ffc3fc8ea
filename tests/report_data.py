"""A small, realistic store for the management report (period March 2027), with its numbers worked by hand.

`build_report_dataset(engine)` writes it through the store models; `EXPECTED` holds what the report
must show for `PERIOD`, counted from the construction below (not from the report code). Reusable by
any test that needs cases across months with steps, consults, orders, invoices and ladder entries.

Cases (D = eerste ziektedag; received = opened; takeover = the `case.besluit` OVERNAME audit event):
| case | D          | received   | closed     | besluit  | takeover   | D->signal | D->takeover |
| c1   | 2026-04-06 | 2026-05-10 | 2026-09-15 | OVERNAME | 2026-05-12 | 34        | 36          |
| c2   | 2026-04-20 | 2026-06-03 |            | OVERNAME | 2026-06-08 | 44        | 49 (HANDMATIG on 06-04 first) |
| c3   | 2026-06-01 | 2026-08-20 | 2027-03-10 | OVERNAME | 2026-08-21 | 80        | 81          |
| c4   | 2026-10-12 | 2026-11-05 |            | OVERNAME | (no event: opened_on) | 24 | 24   |
| c5   | 2026-12-07 | 2027-01-12 |            | OVERNAME | 2027-01-14 | 36        | 38          |
| c6   | 2026-11-02 | 2027-02-02 |            | OVERNAME | 2027-02-03 | 92        | 93          |
| c7   | 2027-02-15 | 2027-03-04 |            | OVERNAME | 2027-03-05 | 17        | 18          |
| c8   | 2027-01-18 | 2027-03-18 | 2027-03-18 | GEEN_LKS | -          | 59        | -           |
| c9   | 2025-10-06 | 2025-12-01 |            | OVERNAME | (before the window)                  |
| c10  | 2027-03-01 | 2027-04-02 |            | OVERNAME | (after the period)                   |
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import store
from ib_helpers import valid_bsn
from rules.booking import DUTCH_TIME
from rules.report_metrics import Period
from schemas.case import Besluit, CaseStatus, Stap
from store import invoices as invoice_store
from store.models import AuditEvent, Consult, ConsultPurpose, LadderEntry, Order, OrderKind, WvpStep

PERIOD = Period(2027, 3)
GEMEENTE = "0518"
ARBO, REINT, UNKNOWN = "kvk:11111111", "kvk:22222222", "kvk:33333333"
PROVIDER_NAMES = {ARBO: "Arbodienst Noord", REINT: "Reïntegratie Zuid"}

EXPECTED = {
    # 2026-04 .. 2027-03
    "caseload_open": [1, 2, 3, 3, 4, 3, 3, 4, 4, 5, 6, 6],
    "caseload_new": [0, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 2],
    "caseload_closed": [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2],
    "signal_days": (17, 24, 34, 36, 44, 59, 80, 92),
    "takeover_days": (18, 24, 36, 38, 49, 81, 93),
    # buckets (weeks) 0-2, 2-4, 4-6, 6-8, 8-13, 13-26, 26-52, >=52
    "signal_hist": (0, 2, 2, 1, 2, 1, 0, 0),
    "takeover_hist": (0, 2, 2, 1, 1, 1, 0, 0),
    "signal_median": 40.0, "signal_p90": 92,   # (36 + 44) / 2; nearest rank ceil(7.2) = 8th
    "takeover_median": 38.0, "takeover_p90": 93,  # 4th of 7; ceil(6.3) = 7th
    # op tijd, te laat gedaan, te laat open, onverwijld (steps due in March 2027)
    "wvp": {"riv_werkgever_opvragen": (0, 0, 0, 1), "probleemanalyse": (1, 0, 0, 0),
            "plan_van_aanpak": (1, 1, 0, 0), "herijking_1": (0, 0, 2, 0), "herijking_2": (0, 0, 1, 0),
            "herijking_3": (1, 0, 0, 0)},
    "consults": {"gehouden": 2, "niet verschenen": 1, "geannuleerd": 2, "overig": 1},
    # provider: orders, budget, approved to date, approved in March, orders without budget
    "costs": {"Arbodienst Noord": (2, Decimal("2090.00"), Decimal("980.00"), Decimal("500.00"), 0),
              "Reïntegratie Zuid": (2, Decimal("4500.00"), Decimal("2770.00"), Decimal("1270.00"), 1)},
    "invoices": {"goedgekeurd": (5, Decimal("1895.00")), "betwist": (1, Decimal("240.00")),
                 "afgewezen": (2, Decimal("899.00")), "overig": (0, Decimal("0.00"))},
    "ladder_moves": {"omhoog": 3, "gelijk": 1, "omlaag": 1, "nieuw ingeschaald": 1},
    "ladder_distribution": (0, 1, 1, 1, 2, 0, 1, 0, 0, 0),
}


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    """A Dutch wall-clock moment (stored as UTC)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=DUTCH_TIME)


D = date.fromisoformat

CASES = {  # name: (D, received, closed, besluit, takeover event date or None)
    "c1": (D("2026-04-06"), D("2026-05-10"), D("2026-09-15"), Besluit.OVERNAME, D("2026-05-12")),
    "c2": (D("2026-04-20"), D("2026-06-03"), None, Besluit.OVERNAME, D("2026-06-08")),
    "c3": (D("2026-06-01"), D("2026-08-20"), D("2027-03-10"), Besluit.OVERNAME, D("2026-08-21")),
    "c4": (D("2026-10-12"), D("2026-11-05"), None, Besluit.OVERNAME, None),
    "c5": (D("2026-12-07"), D("2027-01-12"), None, Besluit.OVERNAME, D("2027-01-14")),
    "c6": (D("2026-11-02"), D("2027-02-02"), None, Besluit.OVERNAME, D("2027-02-03")),
    "c7": (D("2027-02-15"), D("2027-03-04"), None, Besluit.OVERNAME, D("2027-03-05")),
    "c8": (D("2027-01-18"), D("2027-03-18"), D("2027-03-18"), Besluit.GEEN_LKS, None),
    "c9": (D("2025-10-06"), D("2025-12-01"), None, Besluit.OVERNAME, D("2025-12-02")),
    "c10": (D("2027-03-01"), D("2027-04-02"), None, Besluit.OVERNAME, D("2027-04-02")),
}

STEPS = [  # case, stap, due (datum), done_on, onverwijld, gemeente responsible -> category in March
    ("c7", Stap.RIV_WERKGEVER, "2027-03-04", "2027-03-04", True, True),       # onverwijld
    ("c7", Stap.PROBLEEMANALYSE, "2027-03-29", "2027-03-25", False, True),    # op tijd
    ("c8", Stap.PROBLEEMANALYSE, "2027-03-29", None, False, True),            # case closed 03-18: left out
    ("c5", Stap.PLAN_VAN_AANPAK, "2027-03-03", "2027-03-02", False, True),    # op tijd
    ("c6", Stap.PLAN_VAN_AANPAK, "2027-03-10", "2027-03-15", False, True),    # te laat gedaan
    ("c6", Stap.PROBLEEMANALYSE, "2027-02-02", "2027-02-24", True, True),     # February: not counted
    ("c4", Stap.HERIJKING_1, "2027-03-22", None, False, True),                # te laat, open
    ("c3", Stap.HERIJKING_1, "2027-03-05", None, False, True),                # open when closed on 03-10
    ("c2", Stap.HERIJKING_2, "2027-03-15", "2027-04-02", False, True),        # done after March: open
    ("c9", Stap.HERIJKING_3, "2027-03-08", "2027-02-26", False, True),        # op tijd (early)
    ("c5", Stap.UWV_WIA_BRIEF, "2027-03-20", None, False, False),             # UWV's step: left out
    ("c4", Stap.HERIJKING_2, "2027-04-12", None, False, True),                # April: not counted
]

CONSULTS = [  # case, purpose, status, slot (Dutch time) or None, last change (for those without a slot)
    ("c7", ConsultPurpose.PROBLEEMANALYSE, "NO_SHOW", at(D("2027-03-10"), 10), None),
    ("c7", ConsultPurpose.PROBLEEMANALYSE, "AFGEROND", at(D("2027-03-17"), 10), None),
    ("c5", ConsultPurpose.HERBEOORDELING, "GEHOUDEN", at(D("2027-03-22"), 14), None),
    ("c4", ConsultPurpose.HERBEOORDELING, "GEANNULEERD_DOOR_ARBODIENST", at(D("2027-03-25"), 9), None),
    ("c6", ConsultPurpose.HERBEOORDELING, "TE_BOEKEN", None, at(D("2027-03-30"), 8)),
    ("c8", ConsultPurpose.PROBLEEMANALYSE, "GEANNULEERD", None, at(D("2027-03-18"), 12)),
    ("c2", ConsultPurpose.HERBEOORDELING, "GEHOUDEN", at(D("2027-02-20"), 10), None),   # February
    ("c9", ConsultPurpose.HERBEOORDELING, "GEBOEKT", at(D("2027-04-06"), 10), None),    # April
    ("c3", ConsultPurpose.HERBEOORDELING, "NO_SHOW", at(D("2027-04-01"), 0, 30), None), # 03-31 22:30 UTC: April
]

ORDERS = {  # name: case, provider, kind, roles, budget_hours, budget_amount, start, end
    "O1": ("c5", ARBO, OrderKind.REGIE, {"bedrijfsarts": "240.00", "casemanager": "125.00"},
           {"bedrijfsarts": "2", "casemanager": "4"}, None, "2027-01-14", None),            # 980.00
    "O2": ("c6", ARBO, OrderKind.REGIE, {"bedrijfsarts": "240.00", "casemanager": "125.00"},
           {"bedrijfsarts": "1.5", "casemanager": "6"}, None, "2027-02-03", "2027-05-03"),  # 1110.00
    "O3": ("c2", REINT, OrderKind.TRAJECT, {"re-integratieconsulent": "115.00"}, None, "4500.00",
           "2026-07-01", "2027-06-30"),
    "O4": ("c1", REINT, OrderKind.TRAJECT, {"re-integratieconsulent": "115.00"}, None, "3500.00",
           "2026-05-15", "2026-09-15"),                                                     # ended: not running
    "O5": ("c9", REINT, OrderKind.REGIE, {"arbeidsdeskundige": "135.00"}, None, None, "2026-01-10", None),
}

INVOICES = [  # number, order, supplier, type, verdict, billed, approved_amount, received (Dutch time)
    ("I1", "O1", ARBO, "380", "APPROVED", "480.00", None, at(D("2027-02-10"))),
    ("I2", "O1", ARBO, "380", "APPROVED", "250.00", None, at(D("2027-03-05"))),
    ("I3", "O2", ARBO, "380", "APPROVED", "500.00", "375.00", at(D("2027-03-12"))),  # partial approval
    ("I4", "O2", ARBO, "381", "APPROVED", "-125.00", None, at(D("2027-03-20"))),      # credit note
    ("I5", "O2", ARBO, "380", "DISPUTED", "240.00", None, at(D("2027-03-25"))),
    ("I6", "O3", REINT, "380", "APPROVED", "1500.00", None, at(D("2026-11-20"))),
    ("I7", "O3", REINT, "380", "APPROVED", "1000.00", None, at(D("2027-03-28"))),
    ("I8", "O3", REINT, "380", "REJECTED", "800.00", None, at(D("2027-03-15"))),
    ("I9", "O4", REINT, "380", "APPROVED", "3500.00", None, at(D("2026-09-01"))),
    ("I10", None, UNKNOWN, "380", "REJECTED", "99.00", None, at(D("2027-03-02"))),
    ("I11", "O3", REINT, "380", "APPROVED", "700.00", None, at(D("2027-04-01"), 0, 30)),  # April (Dutch date)
    ("I12", "O5", REINT, "380", "APPROVED", "270.00", None, at(D("2027-03-09"))),
]

LADDER = [  # case, trede, since (in insert order: the later of two on one day wins)
    ("c2", 2, "2026-07-01"), ("c2", 4, "2027-03-10"),                        # up
    ("c4", 3, "2026-12-01"), ("c4", 2, "2027-03-20"), ("c4", 4, "2027-03-20"),  # up (correction same day)
    ("c5", 5, "2027-01-20"), ("c5", 3, "2027-03-15"),                        # down
    ("c6", 1, "2027-03-02"),                                                 # new
    ("c9", 6, "2026-02-01"), ("c9", 5, "2027-02-28"), ("c9", 6, "2027-03-31"),  # up (5 -> 6)
    ("c3", 2, "2026-09-01"), ("c3", 2, "2027-03-05"),                        # same
    ("c7", 2, "2027-04-03"),                                                 # after March: no trede yet
    ("c1", 4, "2026-06-01"),                                                 # closed 2026: not in March
]


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def build_report_dataset(engine) -> dict[str, int]:
    """Write the dataset; returns case name -> case id."""
    ids: dict[str, int] = {}
    orders: dict[str, int] = {}
    with store.session_scope(engine) as s:
        for n, (name, (d, received, closed, besluit, takeover)) in enumerate(CASES.items(), start=900):
            case = store.create_case(
                s, gemeentecode=GEMEENTE, bsn=valid_bsn(n), eerste_ziektedag=d, datum_ontvangst=received,
                opened_on=received, besluit=besluit, reden="testdata", closed_on=closed,
                closed_reason="testdata" if closed else None,
                status=CaseStatus.GESLOTEN if closed else CaseStatus.OPEN)
            ids[name] = case.id
            if name == "c2":
                s.add(AuditEvent(at=at(D("2026-06-04")), actor="vangnet/overname", action="case.besluit",
                                 case_id=case.id, details={"besluit": Besluit.HANDMATIG.value}))
            if takeover is not None or besluit is not Besluit.OVERNAME:
                s.add(AuditEvent(at=at(takeover or received), actor="vangnet/overname", action="case.besluit",
                                 case_id=case.id, details={"besluit": besluit.value}))
        for name, stap, due, done, onverwijld, gemeente in STEPS:
            s.add(WvpStep(case_id=ids[name], stap=stap, datum=_d(due), wettelijke_datum=_d(due), onverwijld=onverwijld,
                          gemeente_verantwoordelijk=gemeente, done_on=_d(done)))
        attempts: dict[tuple[str, ConsultPurpose], int] = {}
        for name, purpose, status, slot, changed in CONSULTS:
            attempt = attempts[name, purpose] = attempts.get((name, purpose), 0) + 1
            s.add(Consult(case_id=ids[name], purpose=purpose, status=status, slot_start=slot, attempt=attempt,
                          idempotency_key=f"consult:{name}:{purpose.value}:{attempt}",
                          created_at=changed or slot, updated_at=changed or slot))
        for name, (case, provider, kind, roles, hours, amount, start, end) in ORDERS.items():
            order = Order(case_id=ids[case], order_number=f"OPD-{name}", provider_id=provider, kind=kind, roles=roles,
                          budget_hours=hours, budget_amount=Decimal(amount) if amount else None,
                          start_date=_d(start), end_date=_d(end), status="LOPEND")
            s.add(order)
            s.flush()
            orders[name] = order.id
        for number, order, supplier, type_code, verdict, billed, approved, received in INVOICES:
            inbox, _ = store.add_raw(s, source="invoices", payload=f"<Invoice>{number}</Invoice>".encode(),
                                     received_at=received, message_key=f"drop:{number}.xml")
            amount = Decimal(billed)
            invoice_store.add_invoice(
                s, inbox_id=inbox.id, source_ref=f"drop:{number}.xml",
                document="CreditNote" if type_code == "381" else "Invoice", profile="nlcius",
                supplier_id=supplier, invoice_number=number, order_number=f"OPD-{order}" if order else None,
                order_id=orders[order] if order else None, type_code=type_code, issue_date=received.date(),
                period_start=None, period_end=None, currency="EUR", total_excl_vat=amount,
                total_vat=(amount * Decimal("0.21")).quantize(Decimal("0.01")),
                total_incl_vat=(amount * Decimal("1.21")).quantize(Decimal("0.01")), billed_hours={},
                billed_amount=amount, billing_references=[], content_fingerprint=f"fp-{number}",
                auto_verdict="DISPUTED" if approved else verdict, verdict=verdict,
                decision="partial" if approved else None, approved_amount=Decimal(approved) if approved else None,
                created_at=received)
        for name, trede, since in LADDER:
            s.add(LadderEntry(case_id=ids[name], trede=trede, since=_d(since), recorded_by="test"))
            s.flush()  # insert order = id order (the tie-break of two entries on one day)
    return ids
