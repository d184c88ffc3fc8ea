"""The takeover step end to end on SQLite and PostgreSQL: a real ZIEKMELDING through intake opens the
case (besluit NULL), `decide_pending` decides it. Windows are worked out by hand from domain.md §3.

Signal: eerste ziektedag 2027-01-04, einde dienstverband 2027-01-29 → peildatum 2027-01-29,
window 2025-01-29 t/m 2027-01-29.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import threading
from datetime import date, datetime, timezone

import pytest
from lxml import etree
from sqlalchemy import Engine, func, select, text

import store
from ib_helpers import valid_bsn
from mappings.ib_signal import fields_to_signal_element
from schemas.case import Besluit, CaseStatus
from schemas.lks import LksBron, LksPeriode
from services.intake import process_inbox_batch
from services.lks import import_lks
from services.signal_handling import REDEN_NOG_TE_BEOORDELEN
from services.takeover import decide_pending
from store.models import AuditEvent, Case, OutboxItem

G, ANDER = "0518", "0344"
NOW = datetime(2027, 3, 1, 11, 0, tzinfo=timezone.utc)
TODAY = date(2027, 3, 2)
_volgnummer = itertools.count(1)
_bsn_seq = itertools.count(500)


def new_bsn() -> str:
    return valid_bsn(next(_bsn_seq))


def ziekmelding(engine: Engine, bsn: str, *, gemeente: str = G, **fields) -> int:
    """Feed one ZIEKMELDING_VANGNETTER through the inbox and intake; the id of the case it opened."""
    n = next(_volgnummer)
    record = {"bericht_id": f"ZM-{n}", "volgnummer": n, "soort": "ZIEKMELDING_VANGNETTER", "bsn": bsn,
              "gemeentecode": gemeente, "eerste_ziektedag": "2027-01-04", "datum_einde_dienstverband": "2027-01-29",
              "datum_melding": "2027-01-14", "wettelijke_grondslag": "ZW_38_2", **fields}
    with store.session_scope(engine) as s:
        store.add_raw(s, source="ib", payload=etree.tostring(fields_to_signal_element(record)), received_at=NOW,
                      message_key=record["bericht_id"])
    result = process_inbox_batch(engine, source="ib", limit=100, today=NOW.date())
    assert result.quarantined == 0 and result.cases_created == 1
    with store.session_scope(engine) as s:
        return store.find_active_case(s, gemeente, bsn).id


def registratie(engine: Engine, *rows: str) -> None:
    """Import LKS rows `bsn,begin,einde,pct,gemeentecode` as the gemeente's registration."""
    data = ("bsn,begin,einde,loonwaarde_pct,gemeentecode\n" + "\n".join(rows)).encode()
    assert import_lks(engine, data, filename="lks.csv").rejected == []


def case_of(engine: Engine, case_id: int) -> Case:
    with store.session_scope(engine) as s:
        return s.get(Case, case_id)


def audit(engine: Engine, case_id: int, action: str) -> list[dict]:
    with store.session_scope(engine) as s:
        return [e.details for e in store.audit_for_case(s, case_id) if e.action == action]


def outbox(engine: Engine) -> list[OutboxItem]:
    with store.session_scope(engine) as s:
        return list(s.scalars(select(OutboxItem).order_by(OutboxItem.id)))


def decide(engine: Engine, **kw):
    return decide_pending(engine, eigen_gemeentecode=G, today=TODAY, limit=kw.pop("limit", 50), **kw)


def p(begin: str, einde: str | None = None, gemeente: str = G, bron: LksBron = LksBron.SUWINET) -> LksPeriode:
    return LksPeriode(begin=date.fromisoformat(begin), einde=einde and date.fromisoformat(einde),
                      gemeentecode=gemeente, bron=bron, type_code="LKS")


def assert_no_open_transaction(engine: Engine) -> None:
    """Fails when any other connection holds a transaction (so a network call would hold DB locks)."""
    if engine.dialect.name == "sqlite":
        con = sqlite3.connect(engine.url.database, timeout=0.2, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")  # "database is locked" while another writer is open
            con.execute("ROLLBACK")
        finally:
            con.close()
        return
    with engine.connect() as conn:
        busy = conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'")).scalar()
    assert busy == 0, "a transaction is open during the lookup"


class FakeSuwinet:
    """Stands in for the Suwinet connector: answers per BSN, raises for some, records what it was asked."""

    def __init__(self, engine: Engine, answers: dict[str, list[LksPeriode]] | None = None,
                 failing: set[str] = frozenset()) -> None:
        self.engine, self.answers, self.failing, self.asked = engine, answers or {}, failing, []
        self.called_inside_transaction = 0

    def __call__(self, bsn: str) -> list[LksPeriode]:
        try:
            assert_no_open_transaction(self.engine)
        except (AssertionError, sqlite3.OperationalError):
            self.called_inside_transaction += 1
            raise
        self.asked.append(bsn)
        if bsn in self.failing:
            raise ConnectionError(f"Suwinet onbereikbaar voor {bsn}")  # the BSN must not reach the audit
        return self.answers.get(bsn, [])


# --- each decision end to end ----------------------------------------------------------------------


def test_a_new_case_waits_for_the_takeover(engine):
    case_id = ziekmelding(engine, new_bsn())
    case = case_of(engine, case_id)
    assert case.besluit is None and case.reden == REDEN_NOG_TE_BEOORDELEN and case.status is CaseStatus.OPEN


def test_overname_keeps_the_case_open_and_queues_the_zaak_once(engine):
    bsn = new_bsn()
    case_id = ziekmelding(engine, bsn)
    registratie(engine, f"{bsn},2024-03-01,2025-01-29,45,{G}")  # ends exactly on the window start

    result = decide(engine)
    ref = f"VN-{case_id:06d}"
    assert (result.decided, result.by_code, result.case_refs, result.claimed) == (1, {"OVERNAME": 1}, [ref], 1)
    case = case_of(engine, case_id)
    assert case.besluit is Besluit.OVERNAME and case.status is CaseStatus.OPEN and case.closed_on is None
    assert case.reden.startswith("Overname: LKS van deze gemeente (0518) van 2024-03-01 t/m 2025-01-29 (registratie)")
    [details] = audit(engine, case_id, "case.besluit")
    assert details == {
        "besluit": "OVERNAME", "besloten_op": TODAY.isoformat(), "peildatum": "2027-01-29", "venster": {"van": "2025-01-29", "tot": "2027-01-29"},
        "lks": [{"gemeentecode": G, "begin": "2024-03-01", "einde": "2025-01-29", "bron": "REGISTRATIE"}],
        "suwinet_geraadpleegd": False, "status": {"oud": "OPEN", "nieuw": "OPEN"}, "reden": case.reden,
    }
    [item] = outbox(engine)
    assert (item.effect, item.idempotency_key, item.payload, item.case_id) == (
        "zaak.create", f"zaak.create:{ref}", {"case_id": case_id}, case_id)

    again = decide(engine)
    assert (again.decided, again.claimed, again.by_code) == (0, 0, {})
    assert len(outbox(engine)) == 1 and len(audit(engine, case_id, "case.besluit")) == 1
    assert case_of(engine, case_id).reden == case.reden


def test_geen_lks_closes_the_case(engine):
    bsn = new_bsn()
    case_id = ziekmelding(engine, bsn)
    registratie(engine, f"{bsn},2022-01-01,2025-01-28,45,{G}")  # one day before the window
    assert decide(engine).by_code == {"GEEN_LKS": 1}
    case = case_of(engine, case_id)
    assert case.besluit is Besluit.GEEN_LKS and case.status is CaseStatus.GESLOTEN
    assert case.closed_on == TODAY and case.closed_reason == case.reden
    assert "eindigde op 2025-01-28" in case.reden and "venster 2025-01-29 t/m 2027-01-29" in case.reden
    assert outbox(engine) == []


def test_another_gemeente_is_transferred_and_suwinet_is_not_asked(engine):
    bsn = new_bsn()
    case_id = ziekmelding(engine, bsn, gemeente=ANDER)
    suwinet = FakeSuwinet(engine)
    assert decide(engine, lks_lookup=suwinet).by_code == {"ANDERE_GEMEENTE": 1}
    case = case_of(engine, case_id)
    assert case.besluit is Besluit.ANDERE_GEMEENTE and case.status is CaseStatus.OVERGEDRAGEN
    assert case.closed_on == TODAY and case.closed_reason == case.reden
    assert "overgedragen aan gemeente 0344" in case.reden
    assert suwinet.asked == []  # not our person: no lookup (data minimisation)
    assert outbox(engine) == []


def test_no_lks_anywhere_goes_to_a_person(engine):
    case_id = ziekmelding(engine, new_bsn())
    assert decide(engine, lks_lookup=FakeSuwinet(engine)).by_code == {"HANDMATIG": 1}
    case = case_of(engine, case_id)
    assert case.besluit is Besluit.HANDMATIG and case.status is CaseStatus.HANDMATIG and case.closed_on is None
    assert "geen LKS gevonden in de registratie of in Suwinet" in case.reden
    assert audit(engine, case_id, "case.besluit")[0]["suwinet_geraadpleegd"] is True


def test_lks_of_another_gemeente_from_suwinet_goes_to_a_person(engine):
    bsn = new_bsn()
    case_id = ziekmelding(engine, bsn)
    decide(engine, lks_lookup=FakeSuwinet(engine, {bsn: [p("2023-01-01", None, gemeente=ANDER)]}))
    case = case_of(engine, case_id)
    assert case.besluit is Besluit.HANDMATIG and "gemeente 0344 verleende" in case.reden
    assert "vanaf 2023-01-01 (loopt nog) (Suwinet)" in case.reden


# --- the Suwinet lookup ----------------------------------------------------------------------------


def test_lookup_outside_transactions_stored_and_a_failure_leaves_only_that_case_pending(engine):
    ok, broken = new_bsn(), new_bsn()
    ok_id, broken_id = ziekmelding(engine, ok), ziekmelding(engine, broken)
    suwinet = FakeSuwinet(engine, {ok: [p("2025-06-01", "2026-05-31")]}, failing={broken})

    result = decide(engine, lks_lookup=suwinet)
    assert suwinet.called_inside_transaction == 0
    assert sorted(suwinet.asked) == sorted([ok, broken])
    assert (result.decided, result.by_code) == (1, {"OVERNAME": 1})
    assert result.lookup_failed == [f"VN-{broken_id:06d}"]
    assert case_of(engine, ok_id).besluit is Besluit.OVERNAME
    with store.session_scope(engine) as s:
        assert store.lks_for_person(s, ok) == [p("2025-06-01", "2026-05-31")]
    pending = case_of(engine, broken_id)
    assert pending.besluit is None and pending.status is CaseStatus.OPEN
    assert audit(engine, broken_id, "case.lks_opvraging_mislukt") == [{
        "fout": "ConnectionError",
        "reden": "LKS opvragen bij Suwinet is mislukt; de overnametoets volgt bij een volgende run"}]

    # Suwinet is back: only the pending case is asked about and decided.
    later = FakeSuwinet(engine, {broken: [p("2024-01-01", None)]})
    assert decide(engine, lks_lookup=later).by_code == {"OVERNAME": 1}
    assert later.asked == [broken]
    assert len(outbox(engine)) == 2


def test_suwinet_answer_replaces_what_suwinet_said_before(engine):
    bsn = new_bsn()
    case_id = ziekmelding(engine, bsn)
    with store.session_scope(engine) as s:  # an earlier Suwinet answer, no longer true
        store.replace_suwinet_lks(s, bsn, [p("2024-01-01", None)])
    registratie(engine, f"{bsn},2015-01-01,2018-12-31,45,{G}")
    decide(engine, lks_lookup=FakeSuwinet(engine, {bsn: []}))  # NietsGevonden
    assert case_of(engine, case_id).besluit is Besluit.GEEN_LKS
    with store.session_scope(engine) as s:
        assert [x.bron for x in store.lks_for_person(s, bsn)] == [LksBron.REGISTRATIE]


def test_a_lookup_returning_garbage_counts_as_a_failed_lookup(engine):
    case_id = ziekmelding(engine, new_bsn())
    result = decide(engine, lks_lookup=lambda bsn: [{"begin": "2024-01-01"}])
    assert result.decided == 0 and result.lookup_failed == [f"VN-{case_id:06d}"]
    assert audit(engine, case_id, "case.lks_opvraging_mislukt")[0]["fout"] == "TypeError"


def test_the_no_transaction_check_does_notice_an_open_transaction(engine):
    ziekmelding(engine, new_bsn())
    with pytest.raises((AssertionError, sqlite3.OperationalError)):
        with store.session_scope(engine) as s:
            s.execute(select(Case).with_for_update())
            s.add(AuditEvent(actor="test", action="test"))
            s.flush()
            assert_no_open_transaction(engine)


def test_an_unexpected_error_leaves_that_case_undecided_and_the_batch_goes_on(engine, monkeypatch):
    import services.takeover as takeover

    first, second = ziekmelding(engine, new_bsn()), ziekmelding(engine, new_bsn())
    real = takeover.beslis_overname
    calls = itertools.count()

    def flaky(**kw):
        if next(calls) == 0:
            raise KeyError("stuk")
        return real(**kw)

    monkeypatch.setattr(takeover, "beslis_overname", flaky)
    result = decide(engine)
    assert result.errors == [f"VN-{first:06d}"] and result.case_refs == [f"VN-{second:06d}"]
    assert case_of(engine, first).besluit is None and case_of(engine, first).status is CaseStatus.OPEN
    assert audit(engine, first, "case.besluit_mislukt")[0]["fout"] == "KeyError"
    assert decide(engine).case_refs == [f"VN-{first:06d}"]  # retried on the next run


# --- batches, reruns, concurrency -------------------------------------------------------------------


def test_only_undecided_open_cases_are_claimed_in_id_order_with_paging(engine):
    ids = [ziekmelding(engine, new_bsn()) for _ in range(3)]
    closed = ziekmelding(engine, new_bsn())
    with store.session_scope(engine) as s:  # closed before the takeover ran (e.g. a betermelding)
        store.close_case(s, s.get(Case, closed), on=TODAY, reason="herstel gemeld per 2027-02-20")

    first = decide(engine, limit=2)
    assert first.claimed == 2 and first.case_refs == [f"VN-{i:06d}" for i in ids[:2]]
    assert first.last_case_id == ids[1]
    second = decide(engine, limit=2, after_id=first.last_case_id)
    assert second.case_refs == [f"VN-{ids[2]:06d}"]
    assert decide(engine).claimed == 0
    assert case_of(engine, closed).besluit is None


def test_a_case_decided_while_its_lookup_ran_is_not_decided_again(engine):
    bsn = new_bsn()
    case_id = ziekmelding(engine, bsn)
    registratie(engine, f"{bsn},2024-01-01,,45,{G}")
    in_lookup, release = threading.Event(), threading.Event()

    def slow_lookup(asked: str) -> list[LksPeriode]:
        in_lookup.set()
        assert release.wait(20)
        return []

    results = {}
    worker = threading.Thread(target=lambda: results.setdefault("slow", decide(engine, lks_lookup=slow_lookup)))
    worker.start()
    assert in_lookup.wait(20)
    results["fast"] = decide(engine)  # a second worker, while the first waits on the network
    release.set()
    worker.join(20)
    assert not worker.is_alive()
    assert results["fast"].decided == 1 and results["slow"].decided == 0 and results["slow"].claimed == 1
    assert len(audit(engine, case_id, "case.besluit")) == 1 and len(outbox(engine)) == 1


@pytest.fixture
def pg_engine(pg_database_factory):
    url = pg_database_factory()
    store.upgrade(url)
    engine = store.make_engine(url)
    yield engine
    engine.dispose()


@pytest.mark.postgres
def test_a_case_locked_by_another_worker_is_skipped_not_waited_for(pg_engine):
    # Row locks exist only on PostgreSQL; SQLite serialises whole transactions instead.
    engine = pg_engine
    locked, free = ziekmelding(engine, new_bsn()), ziekmelding(engine, new_bsn())
    factory = store.make_sessionmaker(engine)
    with factory() as other:
        other.execute(select(Case).where(Case.id == locked).with_for_update())
        results = {}
        worker = threading.Thread(target=lambda: results.setdefault("r", decide(engine)))
        worker.start()
        worker.join(20)
        assert not worker.is_alive(), "decide_pending waited for a locked case"
        assert results["r"].case_refs == [f"VN-{free:06d}"]
        other.rollback()
    assert decide(engine).case_refs == [f"VN-{locked:06d}"]


# --- privacy -------------------------------------------------------------------------------------------


def test_no_bsn_in_reasons_audit_outbox_or_results(engine):
    bsns = [new_bsn() for _ in range(5)]
    ids = [ziekmelding(engine, bsn) for bsn in bsns[:4]] + [ziekmelding(engine, bsns[4], gemeente=ANDER)]
    registratie(engine, f"{bsns[0]},2024-01-01,,45,{G}", f"{bsns[1]},2015-01-01,2016-01-01,45,{G}")
    suwinet = FakeSuwinet(engine, {bsns[2]: [p("2024-01-01", None, gemeente=ANDER)]}, failing={bsns[3]})
    result = decide(engine, lks_lookup=suwinet)
    assert result.by_code == {"OVERNAME": 1, "GEEN_LKS": 1, "HANDMATIG": 1, "ANDERE_GEMEENTE": 1}

    with store.session_scope(engine) as s:
        texts = [json.dumps(e.details) for e in s.scalars(select(AuditEvent))]
        texts += [f"{c.reden} {c.closed_reason}" for c in s.scalars(select(Case))]
        texts += [json.dumps(o.payload) + o.idempotency_key for o in s.scalars(select(OutboxItem))]
        texts += [repr(r) for r in s.scalars(select(store.LksRecord))]
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "case.besluit")) == 4
    texts.append(repr(result))
    blob = "\n".join(texts)
    for bsn in bsns:
        assert bsn not in blob
    assert {case_of(engine, i).besluit for i in ids} == {
        Besluit.OVERNAME, Besluit.GEEN_LKS, Besluit.HANDMATIG, Besluit.ANDERE_GEMEENTE, None}
