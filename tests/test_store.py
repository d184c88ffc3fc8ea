"""The state store on SQLite and PostgreSQL: migrations, repositories and their invariants."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, delete, inspect, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

import store
from schemas.case import Besluit, CaseStatus, Stap, Termijn
from schemas.signal import SignaalSoort, Signal, WettelijkeGrondslag
from store import migrate
from store.models import Base

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
BSN_A, BSN_B = "999990019", "999990020"


def _elfproef(bsn: str) -> bool:
    total = sum(int(d) * w for d, w in zip(bsn, (9, 8, 7, 6, 5, 4, 3, 2, -1)))
    return total != 0 and total % 11 == 0


def test_test_bsns_pass_the_elfproef() -> None:
    assert _elfproef(BSN_A) and _elfproef(BSN_B)
    assert not _elfproef("999990018")


def _signal(bericht_id: str = "B-1", bsn: str = BSN_A, volgnummer: int = 1, **extra: object) -> Signal:
    fields: dict[str, object] = {
        "bericht_id": bericht_id,
        "volgnummer": volgnummer,
        "soort": SignaalSoort.ZIEKMELDING_VANGNETTER,
        "bsn": bsn,
        "gemeentecode": "0363",
        "eerste_ziektedag": date(2025, 1, 6),
        "datum_einde_dienstverband": date(2025, 1, 31),
        "datum_melding": date(2025, 2, 3),
        "wettelijke_grondslag": WettelijkeGrondslag.ZW_38_2,
    }
    fields.update(extra)
    return Signal(**fields)  # type: ignore[arg-type]


def _case(session: Session, bsn: str = BSN_A, **extra: object) -> store.Case:
    fields: dict[str, object] = {
        "gemeentecode": "0363",
        "bsn": bsn,
        "eerste_ziektedag": date(2025, 1, 6),
        "datum_ontvangst": date(2025, 3, 1),
        "besluit": Besluit.OVERNAME,
        "opened_on": date(2025, 3, 1),
    }
    fields.update(extra)
    return store.create_case(session, **fields)


def _inbox(session: Session, payload: bytes = b"<bericht/>", source: str = "ib") -> store.InboxMessage:
    return store.add_raw(session, source=source, payload=payload, received_at=T0)[0]


# --- engine and migrations ---------------------------------------------------------------------


def test_make_engine_normalises_postgres_urls_and_hides_passwords() -> None:
    for raw in ("postgres://u:s3cret@db.example/vangnet", "postgresql://u:s3cret@db.example/vangnet"):
        eng = store.make_engine(raw)
        assert eng.url.drivername == "postgresql+psycopg"
        assert "s3cret" not in repr(eng) and "s3cret" not in store.safe_url(eng.url)
    with pytest.raises(ValueError) as err:
        store.make_engine("::not a url:s3cret@")
    assert "s3cret" not in str(err.value)


def test_sqlite_engine_creates_directory_and_sets_pragmas(tmp_path) -> None:
    eng = store.make_engine(f"sqlite:///{tmp_path / 'a' / 'b' / 'v.db'}")
    try:
        with eng.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
        assert (tmp_path / "a" / "b" / "v.db").exists()
    finally:
        eng.dispose()


def test_session_scope_commits_and_rolls_back(engine: Engine) -> None:
    with store.session_scope(engine) as s:
        store.set_cursor(s, "ib", 7)
    with pytest.raises(RuntimeError):
        with store.session_scope(engine) as s:
            store.set_cursor(s, "ib", 9)
            raise RuntimeError("boom")
    with store.session_scope(engine) as s:
        assert store.get_cursor(s, "ib") == 7


def test_migrations_from_empty_match_the_models(db_url: str, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # migrations are found from the package, not the working directory
    assert store.current_revision(db_url) is None
    assert not store.is_up_to_date(db_url)
    store.upgrade(db_url)
    assert store.current_revision(db_url) == store.head_revision()
    assert store.is_up_to_date(db_url)
    store.upgrade(db_url)  # idempotent

    eng = store.make_engine(db_url)
    try:
        with eng.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
            assert compare_metadata(ctx, Base.metadata) == []
            assert set(inspect(conn).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}
        # The comparison can fail: drop an index and it must be reported.
        with eng.begin() as conn:
            conn.execute(text("DROP INDEX ix_outbox_effect_status"))
        with eng.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert [d[0] for d in compare_metadata(ctx, Base.metadata)] == ["add_index"]
    finally:
        eng.dispose()


def test_downgrade_to_base_and_up_again(db_url: str) -> None:
    store.upgrade(db_url)
    migrate.downgrade(db_url, "base")
    assert store.current_revision(db_url) is None
    eng = store.make_engine(db_url)
    try:
        with eng.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    finally:
        eng.dispose()
    store.upgrade(db_url)
    assert store.is_up_to_date(db_url)


def test_datetimes_come_back_aware_utc_and_naive_is_refused(session: Session) -> None:
    cet = timezone(timedelta(hours=1))
    msg, _ = store.add_raw(session, source="ib", payload=b"x", received_at=datetime(2025, 3, 1, 11, 30, tzinfo=cet))
    session.expire_all()
    assert session.get(store.InboxMessage, msg.id).received_at == datetime(2025, 3, 1, 10, 30, tzinfo=UTC)
    assert session.get(store.InboxMessage, msg.id).received_at.utcoffset() == timedelta(0)
    with pytest.raises(Exception, match="naive datetime"):
        store.add_raw(session, source="ib", payload=b"y", received_at=datetime(2025, 3, 1, 10, 30))


# --- inbox, cursor, quarantine -----------------------------------------------------------------


def test_raw_inbox_dedupes_same_bytes_per_source(session: Session) -> None:
    first, created = store.add_raw(session, source="ib", payload=b"<a/>", received_at=T0, message_key="B-1")
    again, created_again = store.add_raw(session, source="ib", payload=b"<a/>", received_at=T0 + timedelta(hours=1))
    other_source, created_other = store.add_raw(session, source="file", payload=b"<a/>", received_at=T0)
    other_bytes, created_bytes = store.add_raw(session, source="ib", payload=b"<b/>", received_at=T0)
    assert (created, created_again, created_other, created_bytes) == (True, False, True, True)
    assert again.id == first.id and len({first.id, other_source.id, other_bytes.id}) == 3
    session.commit()
    rows = session.scalars(select(store.InboxMessage).order_by(store.InboxMessage.id)).all()
    assert len(rows) == 3
    assert rows[0].payload == b"<a/>" and rows[0].message_key == "B-1" and rows[0].status is store.InboxStatus.NEW
    assert rows[0].content_sha256 == hashlib.sha256(b"<a/>").hexdigest()


def test_claim_inbox_oldest_new_first_and_mark(session: Session) -> None:
    ids = [
        store.add_raw(session, source="ib", payload=f"<m{i}/>".encode(), received_at=T0 + timedelta(minutes=10 - i))[0].id
        for i in range(4)
    ]
    store.add_raw(session, source="file", payload=b"<other/>", received_at=T0 - timedelta(days=1))
    batch = store.claim_inbox(session, "ib", 3)
    assert [m.id for m in batch] == [ids[3], ids[2], ids[1]]  # received_at ascending
    store.mark_inbox(session, batch[0], store.InboxStatus.PROCESSED)
    store.mark_inbox(session, batch[1], store.InboxStatus.QUARANTINED, reason="geen geldig XML")
    store.mark_inbox(session, batch[2], store.InboxStatus.DUPLICATE, reason="zelfde bericht_id")
    session.commit()
    assert batch[1].status_reason == "geen geldig XML" and batch[0].processed_at is not None
    assert [m.id for m in store.claim_inbox(session, "ib", 10)] == [ids[0]]
    assert store.claim_inbox(session, "nobody", 10) == []


def test_cursor_survives_a_new_engine(db_url: str, engine: Engine) -> None:
    with store.session_scope(engine) as s:
        assert store.get_cursor(s, "ib") == 0
        store.set_cursor(s, "ib", 41)
        store.set_cursor(s, "ib", 42)
        store.set_cursor(s, "file", 3)
    engine.dispose()
    restarted = store.make_engine(db_url)
    try:
        with store.session_scope(restarted) as s:
            assert store.get_cursor(s, "ib") == 42
            assert store.get_cursor(s, "file") == 3
            with pytest.raises(ValueError):
                store.set_cursor(s, "ib", -1)
    finally:
        restarted.dispose()


def test_quarantine_list_and_resolve(session: Session) -> None:
    msg = _inbox(session)
    q1 = store.quarantine(session, inbox_id=msg.id, reason="BSN voldoet niet aan de 11-proef", bericht_id="B-9")
    q2 = store.quarantine(session, inbox_id=msg.id, reason="onbekende soort")
    assert [q.id for q in store.list_quarantine(session)] == [q1.id, q2.id]
    store.resolve_quarantine(session, q1, "opnieuw verwerkt na correctie")
    assert [q.id for q in store.list_quarantine(session)] == [q2.id]
    assert [q.id for q in store.list_quarantine(session, unresolved_only=False)] == [q1.id, q2.id]
    assert q1.resolved_at is not None and q1.bericht_id == "B-9"


def test_foreign_keys_are_enforced(session: Session) -> None:
    with pytest.raises(IntegrityError):
        store.quarantine(session, inbox_id=999_999, reason="x")


# --- signals -------------------------------------------------------------------------------------


def test_signal_idempotent_on_bericht_id(session: Session) -> None:
    msg = _inbox(session)
    row, created = store.add_signal(session, _signal("B-1"), inbox_id=msg.id, received_at=T0)
    again, created_again = store.add_signal(session, _signal("B-1", volgnummer=99), inbox_id=msg.id, received_at=T0)
    other, created_other = store.add_signal(session, _signal("B-2", volgnummer=2), inbox_id=msg.id, received_at=T0)
    assert (created, created_again, created_other) == (True, False, True)
    assert again.id == row.id != other.id
    session.commit()
    session.expire_all()
    stored = store.get_signal(session, "B-1")
    assert stored.volgnummer == 1 and stored.bsn == BSN_A and stored.status is store.SignalStatus.NIEUW
    assert stored.soort is SignaalSoort.ZIEKMELDING_VANGNETTER
    assert stored.wettelijke_grondslag is WettelijkeGrondslag.ZW_38_2
    assert stored.eerste_ziektedag == date(2025, 1, 6) and stored.datum_herstel is None
    assert session.scalar(select(store.SignalRow.id).where(store.SignalRow.bericht_id == "B-2")) == other.id
    assert BSN_A not in repr(stored)


def test_link_and_mark_signal(session: Session) -> None:
    msg = _inbox(session)
    row, _ = store.add_signal(session, _signal(), inbox_id=msg.id, received_at=T0)
    case = _case(session)
    store.link_signal(session, row, case)
    store.mark_signal(session, row, store.SignalStatus.VERWERKT)
    session.commit()
    session.expire_all()
    row = store.get_signal(session, "B-1")
    assert row.case_id == case.id and row.status is store.SignalStatus.VERWERKT


# --- cases and steps -----------------------------------------------------------------------------


def test_case_ref_and_get_case(session: Session) -> None:
    case = _case(session)
    assert case.ref == f"VN-{case.id:06d}"
    assert store.get_case(session, case.ref) is case
    assert store.get_case(session, case.id) is case
    assert store.get_case(session, str(case.id)) is case
    assert store.get_case(session, "VN-999999") is None
    assert store.get_case(session, "ABC-1") is None  # not a reference at all
    with pytest.raises(ValueError):
        store.parse_case_ref("ABC-1")
    assert BSN_A not in repr(case) and case.status is CaseStatus.OPEN


def test_at_most_one_active_case_per_person(session: Session) -> None:
    first = _case(session)
    assert store.find_active_case(session, "0363", BSN_A) is first
    with pytest.raises(IntegrityError):
        _case(session)
    # The SAVEPOINT kept the transaction usable; another person and another gemeente are fine.
    _case(session, bsn=BSN_B)
    _case(session, gemeentecode="0344")
    store.close_case(session, first, on=date(2025, 6, 1), reason="hersteld")
    assert store.find_active_case(session, "0363", BSN_A) is None
    second = _case(session)
    session.commit()
    assert store.find_active_case(session, "0363", BSN_A).id == second.id
    assert first.status is CaseStatus.GESLOTEN


def test_list_cases(session: Session) -> None:
    a = _case(session)
    b = _case(session, bsn=BSN_B, status=CaseStatus.HANDMATIG)
    c = _case(session, gemeentecode="0344")
    session.commit()
    assert [x.id for x in store.list_cases(session)] == [a.id, b.id, c.id]
    assert [x.id for x in store.list_cases(session, status=CaseStatus.HANDMATIG)] == [b.id]
    assert [x.id for x in store.list_cases(session, limit=1, offset=1)] == [b.id]


def _termijn(stap: Stap, days: int, onverwijld: bool = False) -> Termijn:
    d = date(2025, 1, 6) + timedelta(days=days)
    return Termijn(stap=stap, datum=d, wettelijke_datum=d, onverwijld=onverwijld)


def test_replace_steps_keeps_done_on_and_orders_by_calendar(session: Session) -> None:
    case = _case(session)
    plan = [_termijn(Stap.HERIJKING_1, 182), _termijn(Stap.PROBLEEMANALYSE, 42), _termijn(Stap.PLAN_VAN_AANPAK, 56)]
    steps = store.replace_steps(session, case, plan)
    assert [s.stap for s in steps] == [Stap.PROBLEEMANALYSE, Stap.PLAN_VAN_AANPAK, Stap.HERIJKING_1]
    steps[0].done_on = date(2025, 2, 10)
    steps[1].deviation_reason = "vangnetter gehoord, later"
    steps[1].deviation_consulted_on = date(2025, 2, 12)
    session.commit()

    replanned = [
        Termijn(stap=Stap.PROBLEEMANALYSE, datum=date(2025, 3, 1), wettelijke_datum=date(2025, 2, 17), onverwijld=True),
        _termijn(Stap.EZWB_VENSTER, 308),
    ]
    steps = store.replace_steps(session, case, replanned)
    session.commit()
    session.expire_all()
    steps = store.steps_for(session, case)
    # herijking_1 had nothing recorded: removed; plan_van_aanpak had a deviation: kept.
    assert [s.stap for s in steps] == [Stap.PROBLEEMANALYSE, Stap.PLAN_VAN_AANPAK, Stap.EZWB_VENSTER]
    pa = steps[0]
    assert pa.done_on == date(2025, 2, 10) and pa.onverwijld is True
    assert pa.datum == date(2025, 3, 1) and pa.wettelijke_datum == date(2025, 2, 17)
    assert steps[1].deviation_consulted_on == date(2025, 2, 12)
    assert len(session.scalars(select(store.WvpStep)).all()) == 3


# --- audit ---------------------------------------------------------------------------------------


def test_audit_records_in_order(session: Session) -> None:
    case = _case(session)
    e1 = store.record_audit(session, actor="intake", action="case.opened", case_id=case.id, details={"besluit": "OVERNAME"})
    e2 = store.record_audit(session, actor="clerk:42", action="step.done", case_id=case.id)
    store.record_audit(session, actor="system", action="run.started")
    session.commit()
    events = store.audit_for_case(session, case.id)
    assert [e.id for e in events] == [e1.id, e2.id]
    assert events[0].details == {"besluit": "OVERNAME"} and events[0].at.tzinfo is not None


def test_audit_is_append_only_in_the_orm(session: Session) -> None:
    event = store.record_audit(session, actor="intake", action="case.opened")
    session.commit()
    event.action = "rewritten"
    with pytest.raises(store.AuditAppendOnlyError):
        session.flush()
    session.rollback()
    session.delete(event)
    with pytest.raises(store.AuditAppendOnlyError):
        session.flush()
    session.rollback()
    with pytest.raises(store.AuditAppendOnlyError):
        session.execute(update(store.AuditEvent).values(action="x"))
    with pytest.raises(store.AuditAppendOnlyError):
        session.execute(delete(store.AuditEvent))
    session.rollback()
    session.expire_all()
    assert session.get(store.AuditEvent, event.id).action == "case.opened"


@pytest.mark.parametrize("sql", ["UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"])
def test_audit_is_append_only_in_the_database(engine: Engine, sql: str) -> None:
    with store.session_scope(engine) as s:
        store.record_audit(s, actor="intake", action="case.opened")
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text(sql))
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text("TRUNCATE audit_events"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT action FROM audit_events")).scalars().all() == ["case.opened"]


# --- outbox --------------------------------------------------------------------------------------


def test_outbox_idempotency_key(session: Session) -> None:
    case = _case(session)
    item, created = store.enqueue(
        session, effect="zaak.create", idempotency_key=f"zaak:{case.ref}", payload={"case": case.ref}, case_id=case.id
    )
    again, created_again = store.enqueue(
        session, effect="zaak.create", idempotency_key=f"zaak:{case.ref}", payload={"case": "other"}
    )
    assert (created, created_again) == (True, False) and again.id == item.id
    session.commit()
    session.expire_all()
    assert session.scalars(select(store.OutboxItem)).one().payload == {"case": case.ref}


def test_outbox_claim_done_and_failed(session: Session) -> None:
    items = [store.enqueue(session, effect="zaak.create", idempotency_key=f"k{i}", payload={"i": i})[0] for i in range(3)]
    store.enqueue(session, effect="booking.create", idempotency_key="b1", payload={})
    claimed = store.claim_outbox(session, "zaak.create", 2)
    assert [i.id for i in claimed] == [items[0].id, items[1].id]
    store.mark_outbox_done(session, claimed[0])
    store.mark_outbox_failed(session, claimed[1], "HTTP 503", max_attempts=2)
    session.commit()
    assert claimed[0].status is store.OutboxStatus.DONE and claimed[0].done_at is not None
    assert claimed[1].status is store.OutboxStatus.PENDING and claimed[1].attempts == 1
    assert [i.id for i in store.claim_outbox(session, "zaak.create", 10)] == [items[1].id, items[2].id]
    store.mark_outbox_failed(session, claimed[1], "x" * 5000, max_attempts=2)
    session.commit()
    session.expire_all()
    failed = session.get(store.OutboxItem, items[1].id)
    assert failed.status is store.OutboxStatus.FAILED and failed.attempts == 2 and len(failed.last_error) == 2000
    assert [i.id for i in store.claim_outbox(session, "zaak.create", 10)] == [items[2].id]


# --- other tables round-trip (types are portable) --------------------------------------------


def _invoice_fields(inbox_id: int, **overrides: object) -> dict[str, object]:
    fields: dict[str, object] = dict(
        inbox_id=inbox_id, document="Invoice", supplier_id="kvk:12345678", invoice_number="F-1",
        order_number="OPD-2025-001", type_code="380", issue_date=date(2025, 4, 1), currency="EUR",
        total_excl_vat=Decimal("480.00"), total_vat=Decimal("100.80"), total_incl_vat=Decimal("580.80"),
        billed_hours={"bedrijfsarts": "2"}, billed_amount=Decimal("480.00"), billing_references=[],
        content_fingerprint="0" * 64, auto_verdict="APPROVED", verdict="APPROVED",
    )
    return fields | overrides


def test_orders_invoices_and_consults_round_trip(session: Session) -> None:
    case = _case(session)
    msg = _inbox(session, b"<Invoice/>", source="invoice-feed")
    session.add(
        store.Order(
            case_id=case.id, order_number="OPD-2025-001", provider_id="KVK12345678", kind=store.OrderKind.REGIE,
            roles={"bedrijfsarts": "240.00", "casemanager": "125.00"}, budget_hours={"bedrijfsarts": 4},
            budget_amount=Decimal("1460.00"), start_date=date(2025, 3, 1), status="OPEN",
        )
    )
    invoice = store.Invoice(**_invoice_fields(msg.id))
    session.add(invoice)
    session.flush()
    session.add(store.InvoiceFinding(invoice_id=invoice.id, code="RATE", severity="error", source="recon", line="1", message="tarief"))
    session.add(
        store.Consult(
            case_id=case.id, purpose=store.ConsultPurpose.PROBLEEMANALYSE, status="REQUESTED",
            latest_date=date(2025, 3, 10), idempotency_key=f"consult:{case.ref}:1", slot_start=T0,
        )
    )
    session.commit()
    session.expire_all()
    order = session.scalars(select(store.Order)).one()
    assert order.roles["bedrijfsarts"] == "240.00" and order.budget_amount == Decimal("1460.00")
    assert order.kind is store.OrderKind.REGIE
    inv = session.scalars(select(store.Invoice)).one()
    assert inv.total_incl_vat == Decimal("580.80") and inv.created_at.tzinfo is not None
    assert session.scalars(select(store.Consult)).one().purpose is store.ConsultPurpose.PROBLEEMANALYSE
    with pytest.raises(IntegrityError):
        with session.begin_nested():
            session.add(
                store.Invoice(**_invoice_fields(msg.id, invoice_number="F-2"))  # one invoice per inbox row
            )
