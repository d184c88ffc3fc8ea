"""The re-integratieverslag (Regeling art. 8 a-k): the pure assembly, HTML and PDF rendering, the service on a
migrated store, and `vangnet riv`.

Calendar (D + 7n days): D = 4 January 2027 gives herijking 1 on 05-07-2027, herijking 2 on 03-01-2028,
herijking 3 on 03-07-2028 and the RIV on 02-10-2028 (week 91). The RIV is made on 1 September 2028.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

import store
from documents.riv_html import render_html
from documents.riv_pdf import latin1, render_pdf
from flows.errors import VangnetError
from rules.riv import (CaseFacts, EntryFact, Fact, Items, PartStatus, RivFacts, StepFact, Table, Text,
                       assemble_riv)
from rules.wvp import wvp_calendar
from schemas.case import CaseStatus, Stap
from schemas.dossier import Activity, EntryKind, Instrument, PlanVersion, Recipient, Trede
from store.dossier import riv_documents
from store.models import ConsultPurpose, SignalRow

D = date(2027, 1, 4)
TODAY = date(2028, 9, 1)
BSN = "999990019"
LETTERS = tuple("abcdefghijk")
H1, H2, H3, RIV_DUE = (D + timedelta(weeks=w) for w in (26, 52, 78, 91))
DIAGNOSIS = "HERNIA-L5-DIAGNOSE"


# -- pure assembly ----------------------------------------------------------------------------------
def entry(kind: EntryKind, day: date, text: str) -> EntryFact:
    return EntryFact(kind, day, text)


def full_facts(today: date = TODAY) -> RivFacts:
    """Every source of every part present."""
    steps = (
        StepFact(Stap.HERIJKING_1, H1, H1, done_on=H1),
        StepFact(Stap.HERIJKING_2, H2 + timedelta(days=14), H2, done_on=H2 + timedelta(days=10),
                 deviation_reason="opname", deviation_consulted_on=H2 - timedelta(days=3)),
        StepFact(Stap.HERIJKING_3, H3, H3, done_on=H3),
        StepFact(Stap.RIV, RIV_DUE, RIV_DUE),
    )
    plans = (
        PlanVersion(1, date(2027, 3, 1), "J. de Vries", (Activity("Jobcoaching", "werkritme", date(2027, 6, 1)),),
                    (date(2027, 5, 1),), None, {"vangnetter": date(2027, 3, 2), "contactpersoon": date(2027, 3, 2)}),
        PlanVersion(2, date(2027, 8, 1), "P. Jansen", (Activity("Proefplaatsing", "passend werk", None),),
                    (date(2027, 11, 1),), "evaluatie van 1 mei", {"vangnetter": date(2027, 8, 2)}),
    )
    entries = (
        entry(EntryKind.LAATSTE_ARBEID, date(2027, 2, 5), "Orderpicker, 32 uur per week"),
        entry(EntryKind.OPLEIDING_VAARDIGHEDEN, date(2027, 2, 5), "MBO-2 logistiek, heftruckcertificaat"),
        entry(EntryKind.DUURZAAMHEID, date(2028, 6, 1), "Geen duurzaam volledige ongeschiktheid"),
        entry(EntryKind.HERIJKING, H1, "Herijking 1: tweede spoor gestart"),
        entry(EntryKind.EVALUATIE, date(2027, 11, 1), "Evaluatie november: proefplaatsing loopt"),
        entry(EntryKind.EVALUATIE, date(2028, 5, 1), "Evaluatie mei: urenopbouw naar 20 uur"),
        entry(EntryKind.PASSENDE_ARBEID, date(2028, 7, 1), "Passend werk bij werkgever X, 20 uur"),
        entry(EntryKind.MENING_VANGNETTER, date(2028, 8, 1), "Ik wil bij X blijven werken"),
        entry(EntryKind.OORDEEL_GEMEENTE, date(2028, 8, 15), "De re-integratie-inspanningen zijn voldoende"),
    )
    advice = {"type_profiel": "FML", "datum_consult": "2028-05-20",
              "functionele_mogelijkheden": {"werktijden": "beperkt", "statische_houdingen": "sterk beperkt"},
              "beperkingen": ["niet langer dan 1 uur staan"], "advies_aanpassingen": ["zit-sta werkplek"],
              "verwachte_duur": "langer dan een jaar", "arbeidsongeschiktheid_pct": 45}
    case = CaseFacts("VN-000001", "0518", BSN, D, date(2027, 2, 1), datum_melding=date(2027, 1, 20),
                     datum_einde_dienstverband=date(2026, 12, 31), zaak_identificatie="ZAAK-2027-1",
                     werkgever_loonheffingennummer="123456789L01")
    return RivFacts(case, today, steps, plans, entries, advice, ladder=((3, date(2027, 3, 1)), (5, date(2028, 2, 1))),
                    instruments=(("jobcoaching", date(2027, 3, 1), date(2027, 9, 1)),))


def strings(content) -> list[str]:
    out: list[str] = []
    for item in content:
        if isinstance(item, Fact):
            out += [item.label, item.value]
        elif isinstance(item, Text):
            out += [item.heading, item.text]
        elif isinstance(item, Items):
            out += [item.heading, *item.items]
        elif isinstance(item, Table):
            out += [item.caption, *item.headers, *(c for row in item.rows for c in row)]
    return out


def all_strings(riv) -> str:
    parts = [s for p in riv.parts for s in (p.title, *strings(p.content), *p.notes, p.hint or "")]
    return "\n".join(parts + [s for sec in riv.sections for s in (sec.title, *strings(sec.content))])


def test_every_part_present_with_all_data():
    riv = assemble_riv(full_facts())
    assert tuple(p.letter for p in riv.parts) == LETTERS
    assert riv.complete and riv.gaps == () and riv.gap_letters == ()
    assert all(p.status is PartStatus.PRESENT and p.supplied_by is None for p in riv.parts)
    assert riv.riv_due == RIV_DUE and riv.generated_on == TODAY
    a = dict((f.label, f.value) for f in riv.part("a").content if isinstance(f, Fact))
    assert a["BSN"] == BSN and a["Zaak"] == "VN-000001" and a["RIV uiterlijk (week 91)"] == "02-10-2028"
    assert "123456789L01" in strings(riv.part("b").content)
    assert "04-01-2027" in strings(riv.part("d").content)
    f = strings(riv.part("f").content)
    assert "Versie 2: Bijstelling 1" in f and "evaluatie van 1 mei" in f and "P. Jansen" in f and "Jobcoaching" in f
    assert riv.part("f").notes == (  # version 2 went to the vangnetter only
        "afschrift van versie 2 aan de contactpersoon is niet geregistreerd "
        "(`vangnet plan copy VN-000001 --aan contactpersoon --op JJJJ-MM-DD --versie 2`)",)
    herijkingen = next(c for c in riv.part("g").content if isinstance(c, Table))
    assert [r[3] for r in herijkingen.rows] == ["gedaan op 05-07-2027", "gedaan op 13-01-2028", "gedaan op 03-07-2028"]
    assert herijkingen.rows[1][4] == "opname (overlegd 31-12-2027)"
    h = strings(riv.part("h").content)  # only the newest evaluation
    assert "Evaluatie mei: urenopbouw naar 20 uur" in h and "Evaluatie november: proefplaatsing loopt" not in h
    levels = next(c for c in riv.part("i").content if isinstance(c, Table))
    assert levels.rows == (("Statische houdingen", "sterk beperkt"), ("Werktijden", "beperkt"))
    assert "Functionele Mogelijkhedenlijst (FML)" in strings(riv.part("i").content)
    e = strings(riv.part("e").content)
    assert "Geen duurzaam volledige ongeschiktheid" in e and "45%" in e
    oordeel = next(s for s in riv.sections if s.key == "oordeel-gemeente")
    assert "De re-integratie-inspanningen zijn voldoende" in strings(oordeel.content)
    ladder = strings(next(s for s in riv.sections if s.key == "ladder-instrumenten").content)
    assert "5 - betaald werk met ondersteuning" in ladder and "jobcoaching" in ladder


def without(facts: RivFacts, kind: EntryKind) -> RivFacts:
    return replace(facts, entries=tuple(e for e in facts.entries if e.kind is not kind))


ADVICE_WITHOUT_DURATION = {"type_profiel": "FML", "functionele_mogelijkheden": {"werktijden": "beperkt"}}
MISSING = {
    "b": (lambda f: without(f, EntryKind.LAATSTE_ARBEID), "riv_werkgever_opvragen", "--soort laatste_arbeid"),
    "c": (lambda f: without(f, EntryKind.OPLEIDING_VAARDIGHEDEN), "dossier:opleiding_vaardigheden",
          "--soort opleiding_vaardigheden"),
    "d": (lambda f: replace(f, case=replace(f.case, eerste_ziektedag=None)), "intake", "UWV-signaal"),
    "e": (lambda f: replace(without(f, EntryKind.DUURZAAMHEID), advice=ADVICE_WITHOUT_DURATION),
          "consult:herbeoordeling", "--soort duurzaamheid"),
    "f": (lambda f: replace(f, plans=()), "plan_van_aanpak", "vangnet plan record VN-000001"),
    "g": (lambda f: replace(f, steps=tuple(replace(s, done_on=None) if s.stap is Stap.HERIJKING_2 else s
                                           for s in f.steps)), "herijking_2",
          "vangnet cases step-done VN-000001 herijking_2"),
    "h": (lambda f: without(f, EntryKind.EVALUATIE), "dossier:evaluatie", "--soort evaluatie"),
    "i": (lambda f: replace(f, advice={"verwachte_duur": "een jaar", "type_profiel": "IZP"}), "consult:herbeoordeling",
          "vangnet consults list --case VN-000001"),
    "j": (lambda f: without(f, EntryKind.PASSENDE_ARBEID), "dossier:passende_arbeid", "--soort passende_arbeid"),
    "k": (lambda f: without(f, EntryKind.MENING_VANGNETTER), "dossier:mening_vangnetter", "--soort mening_vangnetter"),
}


@pytest.mark.parametrize("letter", sorted(MISSING))
def test_a_missing_source_is_a_gap_with_the_step_that_supplies_it(letter):
    strip, supplied_by, command = MISSING[letter]
    riv = assemble_riv(strip(full_facts()))
    assert riv.gap_letters == (letter,) and not riv.complete
    part = riv.part(letter)
    assert part.status is PartStatus.GAP and part.supplied_by == supplied_by
    assert command in part.hint


def test_without_any_advice_the_probleemanalyse_supplies_i_and_e_falls_back_to_nothing():
    facts = replace(without(full_facts(), EntryKind.DUURZAAMHEID), advice=None)
    riv = assemble_riv(facts)
    assert riv.gap_letters == ("e", "i")
    assert riv.part("i").supplied_by == "probleemanalyse"
    # Without a duurzaamheid entry, the advice's expected duration and degree supply part e.
    riv = assemble_riv(without(full_facts(), EntryKind.DUURZAAMHEID))
    assert riv.complete and strings(riv.part("e").content) == [
        "Verwachte duur (advies bedrijfsarts 20-05-2028)", "langer dan een jaar",
        "Mate van arbeidsongeschiktheid (advies bedrijfsarts 20-05-2028)", "45%"]


def test_the_oordeel_of_the_gemeente_is_never_a_gap():
    riv = assemble_riv(without(full_facts(), EntryKind.OORDEEL_GEMEENTE))
    assert riv.complete
    assert "Geen oordeel van de gemeente vastgelegd." in all_strings(riv)


@pytest.mark.parametrize(("today", "state", "gap"), [
    (H3 - timedelta(days=1), "nog niet aan de orde", False),
    (H3, "ontbreekt", True),
    (H3 + timedelta(days=30), "ontbreekt", True),
])
def test_a_herijking_is_missing_only_from_its_due_date(today, state, gap):
    facts = full_facts(today)
    facts = replace(facts, steps=tuple(replace(s, done_on=None) if s.stap is Stap.HERIJKING_3 else s
                                       for s in facts.steps))
    riv = assemble_riv(facts)
    rows = next(c for c in riv.part("g").content if isinstance(c, Table)).rows
    assert rows[2][0] == "herijking 3" and rows[2][3] == state
    assert ("g" in riv.gap_letters) is gap
    if gap:
        assert riv.part("g").supplied_by == "herijking_3"


def test_two_missing_herijkingen_are_both_named():
    facts = full_facts()
    facts = replace(facts, steps=tuple(replace(s, done_on=None) if s.stap in (Stap.HERIJKING_1, Stap.HERIJKING_3)
                                       else s for s in facts.steps))
    assert assemble_riv(facts).part("g").supplied_by == "herijking_1, herijking_3"


def test_no_diagnosis_reaches_the_riv_even_when_the_advice_holds_one():
    advice = dict(full_facts().advice)
    advice.update({"diagnose": DIAGNOSIS, "oorzaak": DIAGNOSIS, "toelichting_arts": DIAGNOSIS,
                   "behandeling": DIAGNOSIS, "medicatie": DIAGNOSIS, "hernia_l5": DIAGNOSIS,
                   "functionele_mogelijkheden": {"werktijden": "beperkt", "diagnose_rubriek": DIAGNOSIS,
                                                 "sociaal_functioneren": DIAGNOSIS},
                   "verwachte_duur": {"tekst": DIAGNOSIS}, "type_profiel": DIAGNOSIS})
    riv = assemble_riv(replace(full_facts(), advice=advice))
    text = all_strings(riv)
    assert DIAGNOSIS not in text and "diagnose_rubriek" not in text and "hernia" not in text.lower()
    assert DIAGNOSIS not in render_html(riv)
    assert DIAGNOSIS.encode() not in render_pdf(riv, font="core", compress=False)
    levels = next(c for c in riv.part("i").content if isinstance(c, Table))
    assert levels.rows == (("Werktijden", "beperkt"),)  # the valid rubriek survives


# -- rendering --------------------------------------------------------------------------------------
SCRIPT = "<script>alert('x')</script> & co"


def scripted_riv():
    facts = full_facts()
    facts = replace(without(facts, EntryKind.MENING_VANGNETTER),
                    entries=tuple(e if e.kind is not EntryKind.LAATSTE_ARBEID else replace(e, text=SCRIPT)
                                  for e in without(facts, EntryKind.MENING_VANGNETTER).entries))
    return assemble_riv(facts)


def test_html_has_every_part_as_a_section_in_order_and_escapes_text():
    riv = scripted_riv()
    page = render_html(riv, version=3)
    ids = re.findall(r'<section id="deel-([a-k])"', page)
    assert tuple(ids) == LETTERS
    assert "<script>" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in page
    summary = page[page.index('id="ontbrekend"'):page.index('id="deel-a"')]
    assert '<a href="#deel-k">k. Mening van de vangnetter</a>' in summary and "deel-b" not in summary
    assert 'class="deel gap"' in page[page.index('id="deel-k"') - 20:]
    assert "versie 3 (concept)" in page and BSN in page  # the RIV goes to UWV: it carries the BSN
    assert render_html(riv, version=3) == page  # deterministic


def test_html_of_a_complete_riv_says_so():
    page = render_html(assemble_riv(full_facts()), version=1, final=True)
    assert "Alle onderdelen a tot en met k van art. 8 zijn aanwezig." in page and "versie 1 (definitief)" in page
    assert 'class="deel gap"' not in page


def test_pdf_with_core_font_holds_every_part_title_and_handles_non_latin1():
    facts = full_facts()
    facts = replace(facts, entries=(*facts.entries, entry(EntryKind.OORDEEL_GEMEENTE, TODAY,
                                                          "Akkoord — “goed” ✓ €10 … Zoë")))
    riv = assemble_riv(facts)
    pdf = render_pdf(riv, version=2, font="core", compress=False)
    assert pdf.startswith(b"%PDF-")
    for part in riv.parts:
        assert f"({part.letter}. {part.title}) Tj".encode("latin-1") in pdf  # page text, not only the outline
    assert '(Akkoord - "goed" ? EUR10 ... Zoë) Tj'.encode("latin-1") in pdf
    assert render_pdf(riv, version=2, font="core", compress=False) == pdf  # deterministic
    later = replace(riv, generated_on=TODAY + timedelta(days=1))
    assert render_pdf(later, version=2, font="core", compress=False) != pdf


def test_pdf_default_font_has_the_parts_in_its_outline():
    riv = scripted_riv()
    pdf = render_pdf(riv)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    titles = re.findall(rb"/Title \(([^)]*)\)", pdf)
    assert [t.decode("latin-1") for t in titles if re.match(rb"[a-k]\. ", t)] == [
        f"{p.letter}. {p.title}" for p in riv.parts]
    assert int(re.search(rb"/Count (\d+)\s*/Kids", pdf).group(1)) >= 2  # the page tree
    assert render_pdf(riv) == pdf


def test_latin1_replacements():
    assert latin1("a – b — “c” ‘d’ € … • x\u00a0y č ł ✓ ë") == "a - b - \"c\" 'd' EUR ... - x y c ? ? ë"


# -- service on a migrated store --------------------------------------------------------------------
def open_case(engine, *, d: date = D, bsn: str = BSN, status: CaseStatus = CaseStatus.OPEN) -> str:
    with store.session_scope(engine) as s:
        case = store.create_case(s, gemeentecode="0518", bsn=bsn, eerste_ziektedag=d, datum_ontvangst=date(2027, 2, 1),
                                 opened_on=date(2027, 2, 1), status=status, datum_einde_dienstverband=date(2026, 12, 31))
        store.replace_steps(s, case, wvp_calendar(d, datum_ontvangst=date(2027, 2, 1)))
        inbox, _ = store.add_raw(s, source="ib", payload=f"<signaal>{case.id}</signaal>".encode(),
                                 received_at=datetime(2027, 2, 1, 9, tzinfo=timezone.utc))
        s.add(SignalRow(inbox_id=inbox.id, bericht_id=f"RIV-{case.id}", volgnummer=case.id,
                        soort="ZIEKMELDING_VANGNETTER", bsn=bsn, gemeentecode="0518", eerste_ziektedag=d,
                        werkgever_loonheffingennummer="123456789L01", case_id=case.id,
                        received_at=datetime(2027, 2, 1, 9, tzinfo=timezone.utc)))
        return case.ref


def store_advice(engine, ref: str, advice: dict) -> None:
    with store.session_scope(engine) as s:
        case = store.get_case(s, ref)
        consult, _ = store.create_consult(s, case, purpose=ConsultPurpose.HERBEOORDELING, latest_date=None)
        store.store_advice(s, consult, advice=advice, dropped_fields=0, guard_version="mg-1")


def fill_dossier(engine, ref: str) -> None:
    """Every RIV part supplied through the services, as staff would."""
    from services import dossier
    from services.steps import mark_done

    dossier.record_plan(engine, ref, agreed_on=date(2027, 3, 1), contact_person="J. de Vries",
                        activities=[Activity("Jobcoaching", "werkritme", date(2027, 6, 1))],
                        evaluation_moments=[date(2027, 5, 1)], by="cm", today=TODAY)
    dossier.record_copy(engine, ref, recipient=Recipient.VANGNETTER, sent_on=date(2027, 3, 2), by="cm", today=TODAY)
    dossier.record_copy(engine, ref, recipient=Recipient.CONTACTPERSOON, sent_on=date(2027, 3, 2), by="cm",
                        today=TODAY)
    dossier.record_bijstelling(engine, ref, on=date(2027, 8, 1), reason="evaluatie van 1 mei", by="cm", today=TODAY,
                               activities=[Activity("Proefplaatsing", "passend werk")])
    for stap, on in ((Stap.HERIJKING_1, H1), (Stap.HERIJKING_2, H2), (Stap.HERIJKING_3, H3)):
        mark_done(engine, ref, stap, on=on, by="cm", today=TODAY)
    for kind in EntryKind:
        dossier.add_entry(engine, ref, kind, entry_date=date(2028, 8, 1), text=f"tekst {kind.value}", by="cm",
                          today=TODAY)
    dossier.set_trede(engine, ref, trede=Trede.ONBETAALD_WERK, since=date(2027, 3, 1), by="cm", today=TODAY)
    dossier.start_instrument(engine, ref, Instrument.JOBCOACHING, started_on=date(2027, 3, 1), by="cm", today=TODAY)
    store_advice(engine, ref, {"type_profiel": "FML", "datum_consult": "2028-05-20",
                               "functionele_mogelijkheden": {"werktijden": "beperkt"},
                               "beperkingen": ["niet tillen"], "verwachte_duur": "langer dan een jaar"})


def riv_step(engine, ref: str):
    with store.session_scope(engine) as s:
        case = store.get_case(s, ref)
        step = next(st for st in store.steps_for(s, case) if st.stap is Stap.RIV)
        return step.done_on, riv_documents(s, case.id), store.audit_for_case(s, case.id)


def test_draft_with_gaps_is_written_and_recorded(engine, tmp_path):
    from services.riv import generate_riv

    ref = open_case(engine)
    result = generate_riv(engine, ref, out=tmp_path / "out" / "riv.html", today=TODAY, by="cm")
    assert (result.html_path, result.pdf_path) == (tmp_path / "out" / "riv.html", tmp_path / "out" / "riv.pdf")
    assert result.riv.gap_letters == ("b", "c", "e", "f", "g", "h", "i", "j", "k")  # a and d come from the case
    assert result.riv.part("b").supplied_by == "riv_werkgever_opvragen"
    html = result.html_path.read_text(encoding="utf-8")
    assert "123456789L01" in html and "31-12-2026" in html and BSN in html
    assert result.pdf_path.read_bytes().startswith(b"%PDF-")
    done_on, docs, audit = riv_step(engine, ref)
    assert done_on is None
    assert [(d.version, d.final, d.gaps, d.generated_on) for d in docs] == [
        (1, False, ["b", "c", "e", "f", "g", "h", "i", "j", "k"], TODAY)]
    assert docs[0].sha256 == hashlib.sha256(html.encode("utf-8")).hexdigest() == result.sha256
    event = audit[-1]
    assert (event.action, event.actor) == ("riv.opgesteld", "cm")
    assert event.details == {"versie": 1, "ontbrekend": ["b", "c", "e", "f", "g", "h", "i", "j", "k"],
                             "definitief": False}


def test_final_is_refused_with_gaps_and_accepted_when_complete(engine, tmp_path):
    from services.riv import RivError, generate_riv

    ref = open_case(engine)
    fill_dossier(engine, ref)
    with store.session_scope(engine) as s:  # herijking 3 not done yet: the only gap
        case = store.get_case(s, ref)
        next(st for st in store.steps_for(s, case) if st.stap is Stap.HERIJKING_3).done_on = None
    with pytest.raises(RivError, match=r"kan niet definitief worden.*g \(Herijkingen: herijking_3\)"):
        generate_riv(engine, ref, out=tmp_path / "riv", today=TODAY, by="cm", final=True)
    assert not (tmp_path / "riv.html").exists()
    assert riv_step(engine, ref)[:2] == (None, [])

    from services.steps import mark_done
    mark_done(engine, ref, Stap.HERIJKING_3, on=H3, by="cm", today=TODAY)
    result = generate_riv(engine, ref, out=tmp_path / "riv", today=TODAY, by="cm", final=True)
    assert result.riv.complete and result.version == 1 and result.final
    done_on, docs, audit = riv_step(engine, ref)
    assert done_on == TODAY and [(d.version, d.final, d.gaps) for d in docs] == [(1, True, [])]
    assert [e.details for e in audit if e.action == "step.done"][-1] == {"stap": "riv", "gedaan_op": TODAY.isoformat()}
    html = (tmp_path / "riv.html").read_text(encoding="utf-8")
    assert "versie 1 (definitief)" in html and "tekst mening_vangnetter" in html and "Proefplaatsing" in html
    assert all(BSN not in str(e.details) for e in audit)


def test_a_diagnosis_stored_by_mistake_stays_out_of_the_files(engine, tmp_path):
    from services.riv import generate_riv

    ref = open_case(engine)
    store_advice(engine, ref, {"type_profiel": "IZP", "functionele_mogelijkheden": {"werktijden": "beperkt"},
                               "diagnose": DIAGNOSIS, "toelichting_arts": DIAGNOSIS})
    result = generate_riv(engine, ref, out=tmp_path / "riv", today=TODAY, by="cm")
    assert "i" not in result.riv.gap_letters
    assert DIAGNOSIS not in result.html_path.read_text(encoding="utf-8")
    assert DIAGNOSIS.encode() not in result.pdf_path.read_bytes()


def test_unknown_and_anonymised_cases_are_refused(engine, tmp_path):
    from services.riv import RivError, generate_riv

    with pytest.raises(RivError, match="geen zaak 'VN-999999'"):
        generate_riv(engine, "VN-999999", out=tmp_path / "x", today=TODAY, by="cm")
    ref = open_case(engine)
    with store.session_scope(engine) as s:
        store.get_case(s, ref).anonymised_on = TODAY
    with pytest.raises(RivError, match="geanonimiseerd"):
        generate_riv(engine, ref, out=tmp_path / "x", today=TODAY, by="cm")


def test_prepare_due_rivs_in_batches_records_only_changed_gaps(engine):
    from services import dossier
    from services.riv import prepare_due_rivs

    due = open_case(engine)                                          # RIV 02-10-2028: 31 days left
    overdue = open_case(engine, d=D - timedelta(weeks=6), bsn="999990020")   # RIV 21-08-2028: 11 days late
    later = open_case(engine, d=D + timedelta(weeks=7), bsn="999990032")     # RIV 20-11-2028: beyond 6 weeks
    closed = open_case(engine, bsn="999990044", status=CaseStatus.GESLOTEN)
    done = open_case(engine, bsn="999990056")
    with store.session_scope(engine) as s:
        case = store.get_case(s, done)
        next(st for st in store.steps_for(s, case) if st.stap is Stap.RIV).done_on = TODAY

    def run_all(limit: int):
        items, after_id, batches = [], 0, 0
        while True:
            batch = prepare_due_rivs(engine, today=TODAY, lead_weeks=6, limit=limit, after_id=after_id)
            batches += 1
            items += batch.items
            if len(batch.items) < limit:
                return items, batches
            after_id = batch.last_id

    items, batches = run_all(limit=1)
    assert batches == 3  # two cases, one per batch, then an empty one
    assert [(i.case_ref, i.due, i.days_left, i.version, i.recorded) for i in items] == [
        (due, RIV_DUE, 31, 1, True), (overdue, RIV_DUE - timedelta(weeks=6), -11, 1, True)]
    assert items[0].gaps == items[1].gaps == ("b", "c", "e", "f", "g", "h", "i", "j", "k")

    again, _ = run_all(limit=10)
    assert [(i.case_ref, i.version, i.recorded) for i in again] == [(due, 1, False), (overdue, 1, False)]
    dossier.add_entry(engine, due, EntryKind.MENING_VANGNETTER, entry_date=TODAY, text="wil werken", by="cm",
                      today=TODAY)
    third, _ = run_all(limit=10)
    assert [(i.case_ref, i.version, i.recorded) for i in third] == [(due, 2, True), (overdue, 1, False)]
    assert "k" not in third[0].gaps and "k" in third[1].gaps
    with store.session_scope(engine) as s:
        docs = riv_documents(s, store.get_case(s, due).id)
        assert [(d.version, d.final, "k" in d.gaps) for d in docs] == [(1, False, True), (2, False, False)]
        for ref in (later, closed, done):
            assert riv_documents(s, store.get_case(s, ref).id) == []


# -- CLI --------------------------------------------------------------------------------------------
runner = CliRunner()


@pytest.fixture
def home(local_home):
    return local_home

def cli(*args: str):
    from flows.cli import app

    return runner.invoke(app, ["riv", *args])


def test_cli_writes_both_files_and_lists_the_gaps(home, tmp_path):
    ref = open_case(home)
    result = cli(ref, "--out", str(tmp_path / "docs" / "riv-1.pdf"), "--today", TODAY.isoformat(), "--door", "cm")
    assert result.exit_code == 0, result.output
    html, pdf = tmp_path / "docs" / "riv-1.html", tmp_path / "docs" / "riv-1.pdf"
    assert html.is_file() and pdf.read_bytes().startswith(b"%PDF-")
    out = " ".join(result.output.split())
    assert f"{ref}: RIV version 1 (draft) written to {html} and {pdf}." in out
    assert "Missing parts (9)" in out and "riv_werkgever_opvragen" in out and "dossier:mening_vangnetter" in out
    rows = re.findall(r"^│ ([a-k]) ", result.output, re.M)
    assert rows == ["b", "c", "e", "f", "g", "h", "i", "j", "k"]
    assert BSN not in result.output


def test_cli_final_is_refused_with_gaps_and_marks_the_step_done_when_complete(home, tmp_path):
    ref = open_case(home)
    refused = cli(ref, "--out", str(tmp_path / "riv"), "--final", "--today", TODAY.isoformat())
    assert refused.exit_code == 1
    assert isinstance(refused.exception, VangnetError) and "kan niet definitief worden" in refused.exception.message
    assert "b (Laatst verrichte arbeid: riv_werkgever_opvragen)" in refused.exception.message
    assert "without --final" in refused.exception.hint
    assert not (tmp_path / "riv.html").exists()

    fill_dossier(home, ref)
    accepted = cli(ref, "--out", str(tmp_path / "riv"), "--final", "--today", TODAY.isoformat(), "--door", "cm")
    assert accepted.exit_code == 0, accepted.output
    assert "RIV version 1 (final)" in accepted.output and "Every part of art. 8 (a-k) is present." in accepted.output
    assert (tmp_path / "riv.html").is_file() and (tmp_path / "riv.pdf").is_file()
    done_on, docs, _ = riv_step(home, ref)
    assert done_on == TODAY and docs[-1].final


def test_cli_unknown_case_is_an_error(home, tmp_path):
    result = cli("VN-000042", "--out", str(tmp_path / "riv"), "--today", TODAY.isoformat())
    assert isinstance(result.exception, VangnetError) and "geen zaak 'VN-000042'" in result.exception.message
