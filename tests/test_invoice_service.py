"""Invoices from inbox to finance (services.invoices) on SQLite and PostgreSQL, with the official rules:
verdicts, duplicates, budgets across invoices, credit notes, quarantine, a clerk's decisions, the
booking files (exactly once, also after a crash) and the answers to the providers."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timezone
from decimal import Decimal as D

import pytest
from sqlalchemy import select

import store
from einvoicing import Validator, default_rules_dir
from flows.runtime import DEMO_CONTRACTS
from mappings.provider_contract import load_contracts
from rules.wvp import wvp_calendar
from schemas.case import Besluit, CaseStatus
from services import invoices as svc
from services.orders import create_order
from simulators.ubl_factory import Line, make_invoice
from store import invoices as invoice_store
from store.models import InboxStatus, OutboxItem

RULES = default_rules_dir()
pytestmark = pytest.mark.skipif(RULES is None, reason="the e-invoicing corpus (../shared/corpus/einvoicing) is absent")

CONTRACTS = load_contracts(DEMO_CONTRACTS)
ARBO = CONTRACTS["kvk:90000001"]
NOW = datetime(2027, 4, 2, 10, tzinfo=timezone.utc)
D_ZIEK, OPENED = date(2027, 1, 4), date(2027, 3, 1)
CASEMANAGER, BEDRIJFSARTS = D("128.88"), D("247.44")  # 2027 rates of the demo arbodienst


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(RULES)


def open_case(engine, bsn: str = "999990019") -> str:
    with store.session_scope(engine) as s:
        case = store.create_case(s, gemeentecode="0518", bsn=bsn, eerste_ziektedag=D_ZIEK, datum_ontvangst=OPENED,
                                 opened_on=OPENED, besluit=Besluit.OVERNAME, status=CaseStatus.OPEN)
        store.replace_steps(s, case, wvp_calendar(D_ZIEK, datum_ontvangst=OPENED))
        return case.ref


def order(engine, hours=None) -> str:
    ref = open_case(engine)
    return create_order(engine, case_ref=ref, contract=ARBO, kind="regie", today=OPENED, start=OPENED,
                        hours=hours or {"bedrijfsarts": D("3"), "casemanager": D("10")}, by="test").order_number


def ubl(number: str, order_number: str, lines: list[Line], **kw) -> bytes:
    return make_invoice(supplier_kvk="90000001", supplier_name="Arbodienst Demo B.V.", number=number,
                        issue_date=date(2027, 4, 1), order_number=order_number,
                        period=(date(2027, 3, 1), date(2027, 3, 31)), lines=lines, **kw)


def deliver(engine, *docs: bytes, ref: str = "feed:demo") -> svc.IntakeResult:
    result = svc.IntakeResult()
    with store.session_scope(engine) as s:
        for n, doc in enumerate(docs):
            svc._store_raw(s, doc, f"{ref}:{n}-{len(doc)}", NOW, result)
    return result


def check(engine, validator, limit: int = 50) -> svc.ProcessResult:
    return svc.process_batch(engine, validator, CONTRACTS, limit=limit)


def invoices(engine) -> dict[str, tuple[str, list[str]]]:
    with store.session_scope(engine) as s:
        return {i.invoice_number: (i.verdict, sorted(f.code for f in invoice_store.findings_of(s, i.id)))
                for i in invoice_store.list_invoices(s)}


def statuses(engine) -> list[tuple[str, str, list[str]]]:
    with store.session_scope(engine) as s:
        items = s.scalars(select(OutboxItem).where(OutboxItem.effect == svc.STATUS_EFFECT).order_by(OutboxItem.id))
        return [(i.payload["ref"], i.payload["status"], [r["code"] for r in i.payload["reasons"]]) for i in items]


def test_each_verdict_with_its_findings_and_answer_to_the_provider(engine, validator):
    number = order(engine)
    deliver(engine,
            ubl("A-1", number, [Line(role="casemanager", hours=D("2"), rate=CASEMANAGER)]),
            ubl("A-2", number, [Line(role="bedrijfsarts", hours=D("1.5"), rate=BEDRIJFSARTS + 20)]),
            ubl("A-3", number, [Line(role="casemanager", hours=D("1"), rate=CASEMANAGER, amount=D("140.00"))]),
            ubl("A-4", "OPD-0518-999999-01", [Line(role="casemanager", hours=D("1"), rate=CASEMANAGER)]))
    result = check(engine, validator)
    assert result.verdicts == {"APPROVED": 1, "DISPUTED": 1, "REJECTED": 2} and result.quarantined == 0
    found = invoices(engine)
    assert found["A-1"] == ("APPROVED", [])
    assert found["A-2"] == ("DISPUTED", ["RATE_MISMATCH"])
    assert found["A-3"][0] == "REJECTED" and "LINE_ARITHMETIC" in found["A-3"][1]
    assert found["A-4"][0] == "REJECTED" and "ORDER_UNKNOWN" in found["A-4"][1]
    answers = {(status, tuple(codes)) for _, status, codes in statuses(engine)}
    assert ("accepted", ()) in answers and any(s == "rejected" and "ORDER_UNKNOWN" in c for s, c in answers)
    assert sum(1 for _, s, _ in statuses(engine) if s == "received") == 4
    assert {r["verdict"] for r in result.rows} == {"APPROVED", "DISPUTED", "REJECTED"}
    assert all(set(r) == {"invoice", "provider", "order", "amount", "verdict", "findings"} for r in result.rows)
    assert check(engine, validator).processed == 0  # nothing left: each inbox row is checked once


def test_same_file_twice_is_one_invoice_and_duplicates_are_caught(engine, validator):
    number = order(engine)
    first = ubl("B-1", number, [Line(role="casemanager", hours=D("2"), rate=CASEMANAGER)])
    assert (deliver(engine, first, first).new, deliver(engine, first).duplicate) == (1, 1)
    same_number = ubl("B-1", number, [Line(role="casemanager", hours=D("3"), rate=CASEMANAGER)])
    same_content = ubl("B-2", number, [Line(role="casemanager", hours=D("2"), rate=CASEMANAGER)])
    deliver(engine, same_number, same_content)
    check(engine, validator)
    with store.session_scope(engine) as s:
        rows = invoice_store.list_invoices(s)
        assert len(rows) == 3
    found = invoices(engine)
    assert found["B-2"] == ("DISPUTED", ["DUPLICATE_CONTENT"])
    second_b1 = [r for r in rows if r.invoice_number == "B-1"][1]
    with store.session_scope(engine) as s:
        assert "DUPLICATE_NUMBER" in [f.code for f in invoice_store.findings_of(s, second_b1.id)]
        assert s.get(type(second_b1), second_b1.id).verdict == "REJECTED"


def test_budget_counts_earlier_approved_invoices_and_credit_notes(engine, validator):
    number = order(engine)
    deliver(engine, ubl("C-1", number, [Line(role="casemanager", hours=D("6"), rate=CASEMANAGER)]))
    check(engine, validator)
    deliver(engine, ubl("C-2", number, [Line(role="casemanager", hours=D("6.5"), rate=CASEMANAGER)]))
    check(engine, validator)
    assert invoices(engine)["C-2"] == ("DISPUTED", ["OVER_BUDGET_HOURS"])  # 6 + 6.5 > 10 ordered hours
    credit = ubl("C-3", number, [Line(role="casemanager", hours=D("3"), rate=CASEMANAGER)], credit_note=True,
                 type_code="381", billing_reference="C-1")
    orphan = ubl("C-4", number, [Line(role="casemanager", hours=D("1"), rate=CASEMANAGER)], credit_note=True,
                 type_code="381", billing_reference="NOT-THERE")
    deliver(engine, credit, orphan)
    check(engine, validator)
    found = invoices(engine)
    assert found["C-3"] == ("APPROVED", [])
    assert found["C-4"][0] == "DISPUTED" and "ORIGINAL_UNKNOWN" in found["C-4"][1]
    deliver(engine, ubl("C-5", number, [Line(role="casemanager", hours=D("7"), rate=CASEMANAGER)]))
    check(engine, validator)
    assert invoices(engine)["C-5"] == ("APPROVED", [])  # 6 − 3 + 7 = 10: within the order after the credit


def test_unreadable_documents_are_quarantined_with_a_reason_and_the_batch_goes_on(engine, validator):
    number = order(engine)
    good = ubl("D-1", number, [Line(role="casemanager", hours=D("1"), rate=CASEMANAGER)])
    xxe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Invoice>&e;</Invoice>'
    deliver(engine, b"not xml at all", xxe, b"<Order xmlns='urn:oasis:names:specification:ubl:schema:xsd:Order-2'/>",
            good)
    result = check(engine, validator)
    assert (result.quarantined, result.verdicts) == (3, {"APPROVED": 1})
    with store.session_scope(engine) as s:
        reasons = [q.reason for q in store.list_quarantine(s)]
        inbox = s.scalars(select(store.InboxMessage).order_by(store.InboxMessage.id)).all()
        assert [m.status for m in inbox] == [InboxStatus.QUARANTINED] * 3 + [InboxStatus.PROCESSED]
    assert len(reasons) == 3 and all(reasons) and "passwd" not in " ".join(reasons)
    assert sum(1 for _, s, _ in statuses(engine) if s == "rejected") == 3


def test_a_clerks_decisions_are_checked_applied_and_audited(engine, validator):
    number = order(engine)
    docs = [ubl(f"E-{n}", number, [Line(role="bedrijfsarts", hours=D("1"), rate=BEDRIJFSARTS + n)]) for n in (1, 2, 3)]
    deliver(engine, *docs)
    check(engine, validator)
    ids = {d["invoice"]: d["id"] for d in svc.open_disputes(engine)}
    assert sorted(ids) == ["E-1", "E-2", "E-3"]
    with pytest.raises(svc.InvoiceDecisionError, match="reden"):
        svc.decide(engine, ids["E-2"], "reject", by="clerk")
    with pytest.raises(svc.InvoiceDecisionError, match="tussen 0 en 250.44"):
        svc.decide(engine, ids["E-3"], "partial", by="clerk", reason="te hoog tarief", amount=D("300"))
    assert svc.decide(engine, ids["E-1"], "approve", by="clerk").verdict == "APPROVED"
    assert svc.decide(engine, ids["E-2"], "reject", by="clerk", reason="niet besteld").verdict == "REJECTED"
    partial = svc.decide(engine, ids["E-3"], "partial", by="clerk", reason="tarief", amount=D("247.44"))
    assert (partial.verdict, partial.approved_amount) == ("APPROVED", D("247.44"))
    with pytest.raises(svc.InvoiceDecisionError, match="al APPROVED"):
        svc.decide(engine, ids["E-1"], "reject", by="clerk", reason="toch niet")
    with store.session_scope(engine) as s:
        events = s.scalars(select(store.AuditEvent).where(store.AuditEvent.action.like("invoice.%"))).all()
        assert sorted(e.action for e in events) == ["invoice.approve", "invoice.partial", "invoice.reject"]
    assert ("rejected", ["REVIEW_REJECTED"]) in [(s, c) for _, s, c in statuses(engine)]


def test_approved_invoices_are_exported_exactly_once_even_after_a_crash(engine, validator, tmp_path, monkeypatch):
    number = order(engine)
    deliver(engine, *(ubl(f"F-{n}", number, [Line(role="casemanager", hours=D(n), rate=CASEMANAGER)]) for n in (1, 2)))
    deliver(engine, ubl("F-3", "OPD-0518-999999-01", [Line(role="casemanager", hours=D("1"), rate=CASEMANAGER)]))
    check(engine, validator)
    out = tmp_path / "exports"
    real_write = svc._write_batch

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(svc, "_write_batch", crash)
    with pytest.raises(OSError):
        svc.export_approved(engine, out, now=NOW)
    monkeypatch.setattr(svc, "_write_batch", real_write)
    files = svc.export_approved(engine, out, now=datetime(2027, 4, 3, tzinfo=timezone.utc))
    assert [p.name for p in files] == ["boekingen-20270402T100000-1.csv", "boekingen-20270402T100000-1.json"]
    assert svc.export_approved(engine, out, now=datetime(2027, 4, 4, tzinfo=timezone.utc)) == []
    rows = list(csv.DictReader(io.StringIO(files[0].read_text(encoding="utf-8"))))
    assert [(r["invoice_number"], r["amount_excl_vat"], r["vat"], r["amount_incl_vat"]) for r in rows] == [
        ("F-1", "128.88", "27.06", "155.94"), ("F-2", "257.76", "54.13", "311.89")]
    bookings = json.loads(files[1].read_text(encoding="utf-8"))["bookings"]
    assert [b["booking_key"] for b in bookings] == [r["booking_key"] for r in rows]
    assert all("999990019" not in p.read_text() for p in files)


class FakeFeed:
    def __init__(self, fail: int = 0) -> None:
        self.calls: list[tuple] = []
        self.fail = fail

    def report_status(self, item_id, status, reasons, *, idempotency_key):
        if self.fail:
            self.fail -= 1
            raise ConnectionError("feed down")
        self.calls.append((item_id, status, [r["code"] for r in reasons], idempotency_key))


def test_answers_go_to_the_feed_or_into_the_drop_folder_once(engine, validator, tmp_path):
    number = order(engine)
    deliver(engine, ubl("G-1", number, [Line(role="casemanager", hours=D("1"), rate=CASEMANAGER)]), ref="feed:demo")
    deliver(engine, ubl("G-2", "OPD-0518-999999-01", [Line(role="casemanager", hours=D("1"), rate=CASEMANAGER)]),
            ref="drop:g2.xml")
    check(engine, validator)
    feed = FakeFeed(fail=1)
    first = svc.deliver_statuses(engine, {"demo": feed}, tmp_path)
    assert (first.sent, first.failed) == (0, 1)  # the feed is down: stop, retry next run
    second = svc.deliver_statuses(engine, {"demo": feed}, tmp_path)
    assert (second.sent, second.failed) == (4, 0)
    assert [c[1] for c in feed.calls] == ["received", "accepted"]
    assert len({c[3] for c in feed.calls}) == 2  # an idempotency key per answer
    responses = sorted(p.name for p in (tmp_path / "responses").iterdir())
    stem = responses[0].removesuffix(".received.json")
    assert stem.startswith("g2.xml_0-") and responses == [f"{stem}.received.json", f"{stem}.rejected.json"]
    rejected = json.loads((tmp_path / "responses" / responses[1]).read_text())
    assert "ORDER_UNKNOWN" in [r["code"] for r in rejected["reasons"]]
    assert svc.deliver_statuses(engine, {"demo": feed}, tmp_path).sent == 0
