"""The pseudonymised research export (issue 8): rules.research, services.research_export, `vangnet research-export`.

Dates worked by hand: D = 4 January 2027, signal received 1 February (4 weeks later), takeover decided
8 February (5 weeks). Probleemanalyse due 15 February (D + 42), done 10 February: on time. Plan van
aanpak due 1 March (15 Feb + 14), agreed 5 March: late. Everything else lies after the export date.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

import store
from rules import research
from rules.research import COLUMN_NAMES, ResearchFacts, StepFacts, month, pseudonym, research_row, step_timing
from rules.wvp import wvp_calendar
from schemas.case import Besluit, CaseStatus, Stap
from schemas.dossier import Activity, EntryKind, Instrument, Recipient, Trede
from services import dossier
from services.research_export import ResearchKeyError, export_research, load_key
from services.retention import ANONYMOUS_BSN
from store.models import AuditEvent, Consult, InboxMessage, Invoice, Order, RivDocument

KEY = b"k" * 32
OTHER_KEY = b"another-research-key-0123456789"
TODAY = date(2027, 6, 1)
D = date(2027, 1, 4)
ONTVANGST = date(2027, 2, 1)
BSN_A, BSN_B = "999990019", "999990020"
MARKERS = ("MARKER-ENTRY-TEKST", "MARKER-ACTIVITEIT", "MARKER-DOEL", "Marker-Contactpersoon", "MARKER-BIJSTELLING",
           "MARKER-REDEN")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# -- rules ------------------------------------------------------------------------------------------
def test_pseudonym_is_a_keyed_hash_stable_per_person_and_key():
    a = pseudonym(KEY, "0518", BSN_A)
    assert a == pseudonym(KEY, "0518", BSN_A) and re.fullmatch(r"[0-9a-f]{64}", a)
    assert a != pseudonym(KEY, "0518", BSN_B)
    assert a != pseudonym(OTHER_KEY, "0518", BSN_A)
    assert a != pseudonym(KEY, "0363", BSN_A)
    import hashlib
    assert a != hashlib.sha256(f"0518:{BSN_A}".encode()).hexdigest()  # not a plain (enumerable) hash
    with pytest.raises(ValueError, match="16 bytes"):
        pseudonym(b"short", "0518", BSN_A)


def test_month_and_step_timing():
    assert month(date(2027, 2, 28)) == "2027-02" and month(None) == ""
    steps = (StepFacts(Stap.PROBLEEMANALYSE, date(2027, 2, 15), date(2027, 2, 15)),  # on the day: on time
             StepFacts(Stap.PLAN_VAN_AANPAK, date(2027, 3, 1), date(2027, 3, 2)),  # a day late
             StepFacts(Stap.HERIJKING_1, date(2027, 7, 5), None),  # not yet due
             StepFacts(Stap.RIV_WERKGEVER, date(2027, 2, 1), None),  # intake task: not counted
             StepFacts(Stap.UWV_WIA_BRIEF, date(2027, 1, 1), None, gemeente_verantwoordelijk=False))  # UWV's
    assert step_timing(steps, today=TODAY, closed_on=None) == (1, 1)
    assert step_timing(steps, today=date(2027, 7, 6), closed_on=None) == (1, 2)  # herijking 1 now overdue
    assert step_timing(steps, today=date(2027, 7, 6), closed_on=date(2027, 7, 1)) == (1, 1)  # closed before


def test_row_has_exactly_the_dictionary_columns_and_coarse_values():
    facts = ResearchFacts(gemeentecode="0518", bsn=BSN_A, datum_ontvangst=date(2027, 2, 20), status="OPEN",
                          eerste_ziektedag=D, overname_op=date(2027, 3, 31), besluit="OVERNAME", treden=(2, 4, 3),
                          instrumenten=("proefplaatsing", "jobcoaching", "proefplaatsing"),
                          kosten_goedgekeurd=Decimal("1234.50"))
    row = research_row(facts, key=KEY, today=TODAY)
    assert tuple(row) == COLUMN_NAMES == tuple(c.name for c in research.COLUMNS)
    assert row["maand_signaal"] == "2027-02" and row["maand_overname"] == "2027-03" and row["maand_einde"] == ""
    assert row["weken_tot_signaal"] == "6" and row["weken_tot_overname"] == "12"  # 47 and 86 days
    assert (row["trede_start"], row["trede_laatst"]) == ("2", "3")
    assert row["instrumenten"] == "jobcoaching;proefplaatsing"
    assert row["kosten_goedgekeurd"] == "1235" and row["wia_aanvraag_gedaan"] == "0"
    assert BSN_A not in str(row) and "2027-01-04" not in str(row)


# -- the export against a store ----------------------------------------------------------------------
def _case(s, bsn: str, *, besluit=Besluit.OVERNAME, closed_on: date | None = None, anonymised: bool = False) -> int:
    case = store.create_case(s, gemeentecode="0518", bsn=bsn, eerste_ziektedag=D, datum_ontvangst=ONTVANGST,
                             opened_on=ONTVANGST, besluit=besluit, status=CaseStatus.OPEN,
                             reden="MARKER-REDEN van de overnametoets")
    store.replace_steps(s, case, wvp_calendar(D, datum_ontvangst=ONTVANGST))
    s.add(AuditEvent(at=datetime(2027, 2, 8, 9, tzinfo=timezone.utc), actor="test", action="case.besluit",
                     case_id=case.id, details={"besluit": besluit.value}))
    if closed_on is not None:
        store.close_case(s, case, on=closed_on, reason="hersteld")
    if anonymised:
        case.anonymised_on = TODAY
    s.flush()
    return case.id


@pytest.fixture
def cases(engine):
    """Person A twice (an old closed case and a current one), person B once, one anonymised case."""
    with store.session_scope(engine) as s:
        old_a = _case(s, BSN_A, closed_on=date(2027, 1, 20))
        a = _case(s, BSN_A)
        b = _case(s, BSN_B, besluit=Besluit.GEEN_LKS)
        gone = _case(s, ANONYMOUS_BSN, closed_on=date(2027, 1, 15), anonymised=True)
        case = store.get_case(s, a)
        step = next(st for st in store.steps_for(s, case) if st.stap is Stap.PROBLEEMANALYSE)
        step.done_on = date(2027, 2, 10)
        for status in ("AFGEROND", "NO_SHOW", "GEBOEKT"):
            s.add(Consult(case_id=a, purpose="probleemanalyse", status=status, attempt=1,
                          idempotency_key=f"consult:{case.ref}:{status}", outcome="MARKER-REDEN consult"))
        s.add(RivDocument(case_id=a, version=1, generated_on=date(2027, 5, 1), sha256="0" * 64, gaps=[], final=True,
                          recorded_by="test"))
        _approved_invoices(s, a)
        ref = case.ref
    dossier.record_plan(engine, ref, agreed_on=date(2027, 3, 5), contact_person="Marker-Contactpersoon",
                        activities=[Activity("MARKER-ACTIVITEIT", "MARKER-DOEL", date(2027, 4, 1))],
                        evaluation_moments=[date(2027, 5, 1)], by="cm", today=TODAY)
    dossier.record_bijstelling(engine, ref, on=date(2027, 5, 2), reason="MARKER-BIJSTELLING", by="cm", today=TODAY)
    dossier.record_copy(engine, ref, recipient=Recipient.VANGNETTER, sent_on=date(2027, 5, 3), by="cm", today=TODAY)
    dossier.add_entry(engine, ref, EntryKind.MENING_VANGNETTER, entry_date=date(2027, 5, 4),
                      text="MARKER-ENTRY-TEKST: de vangnetter wil graag buiten werken", by="cm", today=TODAY)
    dossier.set_trede(engine, ref, trede=Trede.SOCIALE_CONTACTEN, since=date(2027, 3, 1), by="cm", today=TODAY)
    dossier.set_trede(engine, ref, trede=Trede.ONBETAALD_WERK, since=date(2027, 5, 1), by="cm", today=TODAY)
    dossier.start_instrument(engine, ref, Instrument.PROEFPLAATSING, started_on=date(2027, 4, 1), by="cm", today=TODAY)
    dossier.start_instrument(engine, ref, Instrument.JOBCOACHING, started_on=date(2027, 4, 2), by="cm", today=TODAY)
    return {"old_a": old_a, "a": a, "b": b, "gone": gone}


def _approved_invoices(s, case_id: int) -> None:
    order = Order(case_id=case_id, order_number=f"OPD-{case_id}", provider_id="reintegratie", kind="regie",
                  roles={"casemanager": "125.00"}, start_date=date(2027, 3, 1), status="LOPEND")
    s.add(order)
    s.flush()
    # approved 1000.40, a partly approved 500 (of 800) and a credit note of -250.10, one rejected: 1250.30 -> 1250
    for n, (billed, approved, verdict) in enumerate([(Decimal("1000.40"), None, "APPROVED"),
                                                      (Decimal("800.00"), Decimal("500.00"), "APPROVED"),
                                                      (Decimal("-250.10"), None, "APPROVED"),
                                                      (Decimal("999.00"), None, "REJECTED")]):
        inbox = InboxMessage(source="invoices", content_sha256=f"{case_id}-{n}", payload=b"<Invoice/>",
                             content_type="application/xml", received_at=datetime(2027, 5, 1, tzinfo=timezone.utc))
        s.add(inbox)
        s.flush()
        s.add(Invoice(inbox_id=inbox.id, document="Invoice", supplier_id="0106:12345678", invoice_number=f"F{n}",
                      order_id=order.id, order_number=order.order_number, type_code="381" if billed < 0 else "380",
                      issue_date=date(2027, 5, 1), currency="EUR", total_excl_vat=billed, total_vat=Decimal(0),
                      total_incl_vat=billed, billed_hours={}, billed_amount=billed, billing_references=[],
                      content_fingerprint=f"fp{case_id}{n}", auto_verdict=verdict, verdict=verdict,
                      approved_amount=approved))


def _read(path) -> tuple[str, list[dict]]:
    text = path.read_text(encoding="utf-8")
    return text, list(csv.DictReader(io.StringIO(text)))


def test_same_key_same_pseudonym_across_exports_and_cases(engine, cases, tmp_path):
    first = export_research(engine, tmp_path / "one", key=KEY, today=TODAY, batch_size=2)
    second = export_research(engine, tmp_path / "two", key=KEY, today=TODAY, batch_size=3)
    other = export_research(engine, tmp_path / "three", key=OTHER_KEY, today=TODAY)
    rows1, rows2, rows3 = (_read(r.csv_path)[1] for r in (first, second, other))
    assert first.rows == second.rows == other.rows == 3  # the anonymised case is left out
    p1, p2, p3 = ([r["pseudoniem"] for r in rows] for rows in (rows1, rows2, rows3))
    assert p1 == p2  # order is by case id: old A, A, B
    assert p1[0] == p1[1] != p1[2]  # person A's two cases share a pseudonym; B has another
    assert not set(p1) & set(p3)  # another key: unlinkable
    assert first.csv_path.name == "onderzoek-2027-06-01.csv"


def test_rows_hold_the_case_facts(engine, cases, tmp_path):
    _, rows = _read(export_research(engine, tmp_path, key=KEY, today=TODAY).csv_path)
    old_a, a, b = rows
    assert a == {
        "pseudoniem": a["pseudoniem"], "gemeentecode": "0518", "maand_eerste_ziektedag": "2027-01",
        "maand_signaal": "2027-02", "maand_overname": "2027-02", "maand_einde": "", "besluit": "OVERNAME",
        "status": "OPEN", "weken_tot_signaal": "4", "weken_tot_overname": "5", "trede_start": "2",
        "trede_laatst": "4", "instrumenten": "jobcoaching;proefplaatsing", "aantal_consulten": "1",
        "aantal_no_shows": "1", "stappen_op_tijd": "1", "stappen_te_laat": "1", "plan_versies": "2",
        "riv_compleet": "1", "kosten_goedgekeurd": "1250", "wia_aanvraag_gedaan": "0"}
    assert (old_a["maand_einde"], old_a["status"], old_a["stappen_te_laat"]) == ("2027-01", "GESLOTEN", "0")
    assert (b["besluit"], b["maand_overname"], b["weken_tot_overname"]) == ("GEEN_LKS", "", "")
    assert b["plan_versies"] == "0" and b["riv_compleet"] == "0" and b["kosten_goedgekeurd"] == "0"


def test_export_holds_no_bsn_no_exact_date_and_no_free_text(engine, cases, tmp_path):
    result = export_research(engine, tmp_path, key=KEY, today=TODAY, batch_size=2)
    text, rows = _read(result.csv_path)
    with store.session_scope(engine) as s:
        bsns = set(s.scalars(select(store.Case.bsn))) - {ANONYMOUS_BSN}
    assert bsns == {BSN_A, BSN_B}
    for bsn in bsns:
        assert bsn not in text
        assert all(bsn not in cell for row in rows for cell in row.values())
    assert not ISO_DATE.search(text)  # no exact date (eerste ziektedag, birth, ...): months only
    for marker in MARKERS:
        assert marker.lower() not in text.lower()
    assert "naam" not in text.splitlines()[0] and "geboorte" not in text.splitlines()[0]


def test_dictionary_covers_exactly_the_columns(engine, cases, tmp_path):
    result = export_research(engine, tmp_path, key=KEY, today=TODAY)
    header = next(csv.reader(io.StringIO(result.csv_path.read_text(encoding="utf-8"))))
    entries = list(csv.DictReader(io.StringIO(result.dictionary_csv.read_text(encoding="utf-8"))))
    assert [e["kolom"] for e in entries] == header == list(COLUMN_NAMES)
    assert all(e["type"] and e["omschrijving"] and e["waarden"] for e in entries)
    md = result.dictionary_md.read_text(encoding="utf-8")
    assert [line.split("|")[1].strip() for line in md.splitlines() if line.startswith("| ")][1:] == header


def test_export_of_an_empty_store_has_just_the_header(engine, tmp_path):
    result = export_research(engine, tmp_path, key=KEY, today=TODAY)
    assert result.rows == 0
    assert result.csv_path.read_text(encoding="utf-8").splitlines() == [",".join(COLUMN_NAMES)]


# -- the key -----------------------------------------------------------------------------------------
def test_key_comes_from_setting_or_file_and_has_no_default(tmp_path):
    with pytest.raises(ResearchKeyError, match="VANGNET_RESEARCH_KEY of VANGNET_RESEARCH_KEY_FILE"):
        load_key(None, None)
    with pytest.raises(ResearchKeyError, match="minimaal 16 bytes"):
        load_key("too-short", None)
    assert load_key("  " + "x" * 20 + "\n", None) == b"x" * 20
    key_file = tmp_path / "research.key"
    key_file.write_text("y" * 32 + "\n", encoding="utf-8")
    assert load_key(None, key_file) == b"y" * 32
    with pytest.raises(ResearchKeyError, match="niet te lezen"):
        load_key(None, tmp_path / "missing.key")


@pytest.fixture
def cli(engine, db_url, monkeypatch, tmp_path):
    monkeypatch.setenv("VANGNET_DATABASE_URL", db_url)
    monkeypatch.setenv("VANGNET_HOME", str(tmp_path / "home"))
    for name in ("VANGNET_RESEARCH_KEY", "VANGNET_RESEARCH_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env

    def run(*args):
        from flows.cli import app

        return CliRunner().invoke(app, list(args))

    return run


def test_cli_needs_a_key(cli, tmp_path):
    out = cli("research-export", "--out", str(tmp_path / "export"), "--today", "2027-06-01")
    assert out.exit_code != 0
    assert "No research key" in str(out.exception)
    assert "VANGNET_RESEARCH_KEY_FILE" in out.exception.hint
    assert not (tmp_path / "export").exists()


def test_cli_refuses_a_short_key(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("VANGNET_RESEARCH_KEY", "geheim")
    out = cli("research-export", "--out", str(tmp_path / "export"))
    assert out.exit_code != 0 and "at least 16 bytes" in str(out.exception)
    assert "geheim" not in str(out.exception) + out.exception.hint


def test_cli_writes_the_files_and_prints_no_pseudonym(cli, engine, cases, tmp_path, monkeypatch):
    monkeypatch.setenv("VANGNET_RESEARCH_KEY", KEY.decode())
    out = cli("research-export", "--out", str(tmp_path / "export"), "--today", "2027-06-01")
    assert out.exit_code == 0, out.output + repr(out.exception)
    assert "3 cases" in out.output and "onderzoek-2027-06-01.csv" in out.output
    assert "onderzoek-datadictionary.md" in out.output
    assert pseudonym(KEY, "0518", BSN_A) not in out.output and BSN_A not in out.output
    assert (tmp_path / "export" / "onderzoek-datadictionary.csv").is_file()
