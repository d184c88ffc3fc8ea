"""Retention (issue 8): rules.retention, services.retention and `vangnet retention`, on SQLite and PostgreSQL.

Dates: today is 1 June 2027 and the terms are two years (seven after a WIA application). A case closed
on 31 May 2025 (two years and a day ago) is due; one closed on 2 June 2025 (a day short) is not.
The cases come in through the real intake (signal file -> inbox -> signals -> cases), so the raw
messages, signals and audit events are the ones production writes.
"""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, timedelta, timezone

from lxml import etree
from sqlalchemy import MetaData, select
from typer.testing import CliRunner

import store
from ib_helpers import valid_bsn
from mappings.ib_signal import IB_NAMESPACE, fields_to_signal_element
from rules.retention import add_years, candidate_before, due_on, is_due, term_years, wia_followed
from schemas.case import Stap
from schemas.dossier import Activity, EntryKind, Instrument, Recipient, Trede
from schemas.lks import LksBron, LksPeriode
from schemas.signal import SignaalSoort, Signal
from services import dossier
from services.intake import import_signal_file, process_inbox_batch
from services.retention import ACTION, ANONYMOUS_BSN, anonymise_due_cases
from store.models import Case, CaseInstrument, ConsultAdvice, Consult, InboxMessage, LadderEntry, Order, SignalRow

TODAY = date(2027, 6, 1)
DUE = date(2025, 5, 31)
NOT_DUE = date(2025, 6, 2)
INTAKE = date(2024, 3, 1)
NOW = datetime(2024, 3, 1, 11, tzinfo=timezone.utc)
LATER = date(2024, 6, 1)
TERMS = {"years": 2, "wia_years": 7}
BSN = {name: valid_bsn(n) for n, name in enumerate(("due", "recent", "wia_step", "wia_signal", "open", "twice"), 1)}
MARKER = "MARKER-PRIVE-TEKST"


# -- rules ------------------------------------------------------------------------------------------
def test_calendar_years_and_29_february():
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert add_years(date(2025, 3, 10), 2) == date(2027, 3, 10)
    assert due_on(date(2025, 3, 10), wia=False, **TERMS) == date(2027, 3, 11)  # "longer than two years"
    assert due_on(date(2024, 2, 29), wia=False, **TERMS) == date(2026, 3, 1)


def test_due_only_after_the_term_and_wia_takes_the_longer_one():
    assert is_due(DUE, TODAY, wia=False, **TERMS)
    assert not is_due(NOT_DUE, TODAY, wia=False, **TERMS)
    assert not is_due(add_years(TODAY, -2), TODAY, wia=False, **TERMS)  # exactly two years: kept
    assert not is_due(None, TODAY, wia=False, **TERMS)
    assert not is_due(DUE, TODAY, wia=True, **TERMS)
    assert is_due(date(2020, 5, 31), TODAY, wia=True, **TERMS)
    assert term_years(wia=True, years=5, wia_years=3) == 5  # a shorter WIA setting never shortens retention
    assert wia_followed(wia_aanvraag_done=False, zw_ended_for_wia=True)
    assert not wia_followed(wia_aanvraag_done=False, zw_ended_for_wia=False)


def test_database_filter_never_misses_a_due_case():
    start = date(2019, 1, 1)
    for offset in range(0, 366 * 6, 3):
        today = start + timedelta(days=offset)
        for years in (1, 2, 3, 4, 7):
            bound = candidate_before(today, years)
            for closed in (bound - timedelta(days=1), bound, bound + timedelta(days=1), bound + timedelta(days=2)):
                if is_due(closed, today, wia=False, years=years, wia_years=years):
                    assert closed < bound, (today, years, closed)


# -- a realistic store -------------------------------------------------------------------------------
def _signal_file(records: list[dict]) -> bytes:
    root = etree.Element(f"{{{IB_NAMESPACE}}}Signalen", nsmap={None: IB_NAMESPACE})
    root.extend(fields_to_signal_element(r) for r in records)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _ziek(n: int, bsn: str) -> dict:
    return {"bericht_id": f"R-{n}", "volgnummer": n, "soort": "ZIEKMELDING_VANGNETTER", "bsn": bsn,
            "gemeentecode": "0518", "eerste_ziektedag": "2024-01-08", "datum_melding": "2024-01-20",
            "wettelijke_grondslag": "ZW_38_2", "werkgever_loonheffingennummer": "001234567L01"}


def _extra_signal(s, bericht_id: str, payload: bytes, case_id: int | None, **fields) -> None:
    inbox, _ = store.add_raw(s, source="ib", payload=payload, received_at=NOW)
    row, _ = store.add_signal(s, Signal(bericht_id=bericht_id, volgnummer=900 + len(bericht_id), gemeentecode="0518",
                                        **fields), inbox_id=inbox.id, received_at=NOW)
    row.case_id = case_id


def build_world(engine) -> dict[str, int]:
    """Six persons through the intake, a full dossier for the one that is due, then closed on their dates."""
    import_signal_file(engine, _signal_file([_ziek(n, b) for n, b in enumerate(BSN.values(), 1)]), source="ib", now=NOW)
    assert process_inbox_batch(engine, source="ib", limit=100, today=INTAKE).cases_created == 6
    with store.session_scope(engine) as s:
        ids = {name: store.find_active_case(s, "0518", bsn).id for name, bsn in BSN.items()}
        refs = {name: store.get_case(s, i).ref for name, i in ids.items()}
    due = refs["due"]
    dossier.record_plan(engine, due, agreed_on=date(2024, 3, 20), contact_person=f"{MARKER} contact",
                        activities=[Activity(f"{MARKER} activiteit", "doel")], evaluation_moments=[date(2024, 5, 1)],
                        by="cm", today=LATER)
    dossier.record_copy(engine, due, recipient=Recipient.VANGNETTER, sent_on=date(2024, 3, 21), by="cm", today=LATER)
    dossier.add_entry(engine, due, EntryKind.MENING_VANGNETTER, entry_date=date(2024, 4, 1), text=f"{MARKER} mening",
                      by="cm", today=LATER)
    dossier.set_trede(engine, due, trede=Trede.ONBETAALD_WERK, since=date(2024, 4, 1), by="cm", today=LATER)
    dossier.start_instrument(engine, due, Instrument.JOBCOACHING, started_on=date(2024, 4, 1), by="cm", today=LATER)
    with store.session_scope(engine) as s:
        case = s.get(Case, ids["due"])
        herijking = next(st for st in store.steps_for(s, case) if st.stap is Stap.HERIJKING_1)
        herijking.deviation_reason, herijking.deviation_consulted_on = f"{MARKER} afwijking", date(2024, 5, 1)
        consult = Consult(case_id=case.id, purpose="probleemanalyse", status="AFGEROND", attempt=1,
                          idempotency_key=f"consult:{case.ref}:probleemanalyse:1", outcome=f"{MARKER} uitkomst")
        s.add(consult)
        s.flush()
        store.store_advice(s, consult, advice={"beperkingen": [f"{MARKER} beperking"]}, dropped_fields=1,
                           guard_version="1")
        from store.dossier import add_riv_document
        add_riv_document(s, case_id=case.id, generated_on=date(2024, 5, 1), sha256="a" * 64, gaps=["b"], final=False,
                         by="cm")
        s.add(Order(case_id=case.id, order_number="OPD-RET-1", provider_id="reintegratie", kind="regie",
                    roles={"casemanager": "125.00"}, start_date=date(2024, 4, 1), status="LOPEND"))
        for name in ("due", "recent", "twice"):
            store.upsert_lks(s, BSN[name], LksPeriode(begin=date(2022, 1, 1), einde=date(2023, 12, 31),
                                                      gemeentecode="0518", bron=LksBron.REGISTRATIE))
        # One raw message holding two persons' signals, and a loose (unlinked) signal of the due person.
        shared = f"<Signalen><bsn>{BSN['due']}</bsn><bsn>{BSN['recent']}</bsn></Signalen>".encode()
        _extra_signal(s, "SHARED-1", shared, ids["due"], soort=SignaalSoort.BETERMELDING, bsn=BSN["due"],
                      datum_herstel=date(2024, 5, 1))
        _extra_signal(s, "SHARED-2", shared, ids["recent"], soort=SignaalSoort.BETERMELDING, bsn=BSN["recent"],
                      datum_herstel=date(2024, 5, 1))
        _extra_signal(s, "LOOSE-1", f"<Signaal><bsn>{BSN['due']}</bsn></Signaal>".encode(), None,
                      soort=SignaalSoort.CORRECTIE, bsn=BSN["due"], verwijst_naar="R-999")
        _extra_signal(s, "WIA-1", f"<Signaal><bsn>{BSN['wia_signal']}</bsn></Signaal>".encode(), ids["wia_signal"],
                      soort=SignaalSoort.EINDE_ZW, bsn=BSN["wia_signal"], datum_einde_zw=date(2025, 5, 31),
                      reden_einde="WIA")
        wia_step = next(st for st in store.steps_for(s, s.get(Case, ids["wia_step"])) if st.stap is Stap.WIA_AANVRAAG)
        wia_step.done_on = date(2025, 5, 1)
        for name, on in (("due", DUE), ("recent", NOT_DUE), ("wia_step", DUE), ("wia_signal", DUE), ("twice", DUE)):
            store.close_case(s, s.get(Case, ids[name]), on=on, reason="einde ZW")
        again = store.create_case(s, gemeentecode="0518", bsn=BSN["twice"], eerste_ziektedag=date(2025, 9, 1),
                                  datum_ontvangst=date(2025, 10, 1), opened_on=date(2025, 10, 1))
        store.close_case(s, again, on=date(2026, 1, 1), reason="hersteld")
        ids["twice_again"] = again.id
    return ids


def where_is(engine, needle: str) -> list[str]:
    """Every table.column (of every table in the database, reflected) whose value contains `needle`."""
    meta = MetaData()
    meta.reflect(engine)
    assert {"cases", "signals", "inbox_messages", "audit_events", "lks_periods", "consult_advice"} <= set(meta.tables)
    hits = []
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)):
                for column, value in row._mapping.items():
                    if isinstance(value, (bytes, bytearray, memoryview)):
                        text = bytes(value).decode("latin-1")
                    elif isinstance(value, (dict, list)):
                        text = json.dumps(value)
                    else:
                        text = str(value)
                    if needle in text:
                        hits.append(f"{table.name}.{column}")
    return sorted(set(hits))


def snapshot(engine) -> dict[str, list]:
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        return {t.name: sorted(repr(tuple(r)) for r in conn.execute(select(t))) for t in meta.sorted_tables}


def run(engine, **kw):
    return anonymise_due_cases(engine, today=TODAY, limit=50, **TERMS, **kw)


# -- the service -------------------------------------------------------------------------------------
def test_due_case_is_anonymised_and_no_trace_of_its_bsn_remains(engine):
    ids = build_world(engine)
    assert where_is(engine, BSN["due"])  # the scan finds a BSN where there is one
    assert "inbox_messages.payload" in where_is(engine, BSN["due"])

    result = run(engine)
    assert (result.claimed, result.anonymised, result.kept, result.wia_term) == (4, 2, 2, 0)
    with store.session_scope(engine) as s:
        refs = {name: s.get(Case, i).ref for name, i in ids.items()}
    assert result.case_refs == [refs["due"], refs["twice"]]
    assert where_is(engine, BSN["due"]) == []
    # The others keep their data: the one a day short, both WIA cases, the open one, and person "twice"
    # whose newer case is within its term (so the LKS periods stay too).
    assert "cases.bsn" in where_is(engine, BSN["recent"]) and "lks_periods.bsn" in where_is(engine, BSN["recent"])
    for name in ("wia_step", "wia_signal", "open"):
        assert "cases.bsn" in where_is(engine, BSN[name]), name
    assert set(where_is(engine, BSN["twice"])) >= {"cases.bsn", "lks_periods.bsn"}
    assert where_is(engine, MARKER) == []  # plan, entry, advice, outcome, deviation reason: all gone

    with store.session_scope(engine) as s:
        case = s.get(Case, ids["due"])
        assert (case.bsn, case.anonymised_on, case.closed_on) == (ANONYMOUS_BSN, TODAY, DUE)
        assert len(store.steps_for(s, case)) == 11  # the counts the management report needs stay
        assert s.scalars(select(LadderEntry).where(LadderEntry.case_id == case.id)).all()
        assert s.scalars(select(CaseInstrument).where(CaseInstrument.case_id == case.id)).all()
        assert s.scalars(select(Order).where(Order.case_id == case.id)).all()
        consult = s.scalars(select(Consult).where(Consult.case_id == case.id)).one()
        assert consult.status == "AFGEROND" and consult.outcome is None
        assert s.scalars(select(ConsultAdvice)).all() == []
        herijking = next(st for st in store.steps_for(s, case) if st.stap is Stap.HERIJKING_1)
        assert herijking.deviation_reason and MARKER not in herijking.deviation_reason
        loose = store.get_signal(s, "LOOSE-1")
        assert loose.bsn == ANONYMOUS_BSN and loose.case_id is None
        shared = s.get(InboxMessage, store.get_signal(s, "SHARED-2").inbox_id)
        assert BSN["recent"].encode() in shared.payload and BSN["due"].encode() not in shared.payload
        assert shared.content_sha256 == f"geanonimiseerd:{shared.id}"
        first = s.get(InboxMessage, store.get_signal(s, "R-1").inbox_id)
        assert first.payload == b"" and first.content_sha256.startswith("geanonimiseerd:")
        events = [e for e in store.audit_for_case(s, case.id) if e.action == ACTION]
    assert len(events) == 1
    details = events[0].details
    assert details == {"termijn_jaren": 2, "gesloten_op": "2025-05-31", "signalen": 3, "berichten_geleegd": 2,
                       "berichten_bewerkt": 1, "adviezen": 1, "dossieritems": 1, "plannen": 1, "afschriften": 1,
                       "riv_documenten": 1, "afwijkingsredenen": 1, "lks_perioden": 1}
    assert BSN["due"] not in json.dumps(details)


def test_a_late_correction_or_withdrawal_of_an_anonymised_case_changes_nothing(engine):
    ids = build_world(engine)
    run(engine)
    late = [{"bericht_id": "LATE-C", "volgnummer": 50, "soort": "CORRECTIE", "bsn": BSN["due"], "gemeentecode": "0518",
             "verwijst_naar": "R-1", "eerste_ziektedag": "2024-01-15", "datum_melding": "2024-01-20",
             "wettelijke_grondslag": "ZW_38_2"},
            {"bericht_id": "LATE-I", "volgnummer": 51, "soort": "INTREKKING", "bsn": BSN["due"], "gemeentecode": "0518",
             "verwijst_naar": "R-1"}]
    import_signal_file(engine, _signal_file(late), source="ib", now=NOW)
    before = snapshot(engine)["cases"]
    process_inbox_batch(engine, source="ib", limit=100, today=TODAY)
    assert snapshot(engine)["cases"] == before  # neither flagged, reopened nor withdrawn
    with store.session_scope(engine) as s:
        for bericht_id in ("LATE-C", "LATE-I"):
            row = store.get_signal(s, bericht_id)
            assert row.case_id is None and row.status.value != "GEPARKEERD", bericht_id
        assert s.get(Case, ids["due"]).status.value == "GESLOTEN"


def test_second_run_and_dry_run_change_nothing(engine):
    build_world(engine)
    before = snapshot(engine)
    dry = run(engine, dry_run=True)
    assert snapshot(engine) == before
    assert dry.dry_run and dry.anonymised == 2

    real = run(engine)
    assert (real.anonymised, real.removed, real.case_refs) == (dry.anonymised, dry.removed, dry.case_refs)
    after = snapshot(engine)
    assert after != before

    again = run(engine)
    assert (again.claimed, again.anonymised) == (2, 0)  # only the two WIA cases are looked at, and kept
    assert snapshot(engine) == after
    assert run(engine, dry_run=True).anonymised == 0


def test_wia_cases_go_once_their_longer_term_is_over(engine):
    ids = build_world(engine)
    result = anonymise_due_cases(engine, today=date(2032, 6, 1), limit=50, **TERMS)
    assert result.wia_term == 2 and result.kept == 0
    with store.session_scope(engine) as s:
        assert s.get(Case, ids["open"]).anonymised_on is None
        assert s.get(Case, ids["wia_signal"]).anonymised_on == date(2032, 6, 1)
    assert where_is(engine, BSN["wia_signal"]) == [] and where_is(engine, BSN["twice"]) == []


def test_batches_continue_after_cases_that_are_kept(engine):
    ids = build_world(engine)
    results, after_id = [], 0
    while True:
        results.append(anonymise_due_cases(engine, today=TODAY, limit=1, after_id=after_id, **TERMS))
        if results[-1].claimed < 1:
            break
        after_id = results[-1].last_case_id
    assert sum(r.anonymised for r in results) == 2 and sum(r.kept for r in results) == 2
    with store.session_scope(engine) as s:
        assert s.get(Case, ids["twice"]).anonymised_on == TODAY


def test_concurrent_workers_anonymise_each_case_once(engine):
    ids = build_world(engine)
    results, errors = [], []

    def worker():  # as a flow run does: batch after batch until a short one
        try:
            after_id = 0
            while True:
                batch = anonymise_due_cases(engine, today=TODAY, limit=1, after_id=after_id, **TERMS)
                results.append(batch)
                if batch.claimed < 1:
                    return
                after_id = batch.last_case_id
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sum(r.anonymised for r in results) == 2
    with store.session_scope(engine) as s:
        for name in ("due", "twice"):
            assert [e.action for e in store.audit_for_case(s, ids[name])].count(ACTION) == 1


# -- the command -------------------------------------------------------------------------------------
def test_cli_dry_run_then_run(engine, db_url, monkeypatch, tmp_path):
    from flows.cli import app

    build_world(engine)
    monkeypatch.setenv("VANGNET_DATABASE_URL", db_url)
    monkeypatch.setenv("VANGNET_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VANGNET_BATCH_SIZE", "1")
    before = snapshot(engine)
    out = CliRunner().invoke(app, ["retention", "--dry-run", "--today", "2027-06-01"])
    assert out.exit_code == 0, out.output + repr(out.exception)
    assert "2 cases would be anonymised" in out.output and "dry run" in out.output
    assert snapshot(engine) == before
    out = CliRunner().invoke(app, ["retention", "--today", "2027-06-01"])
    assert out.exit_code == 0 and "2 cases anonymised" in out.output and "lks_perioden=1" in out.output
    assert all(bsn not in out.output for bsn in BSN.values())
    with store.session_scope(engine) as s:
        assert s.scalar(select(SignalRow.bsn).where(SignalRow.bericht_id == "R-1")) == ANONYMOUS_BSN
