"""The dossier records (plan van aanpak with versioned bijstellingen and copies, ladder, instruments,
entries): services.dossier and the `vangnet plan|ladder|instrument|dossier` commands."""

from __future__ import annotations

from datetime import date

import pytest
from typer.testing import CliRunner

import store
from flows.cli import app
from rules.wvp import wvp_calendar
from schemas.case import CaseStatus, Stap
from schemas.dossier import Activity, EntryKind, Instrument, Recipient, Trede
from services import dossier
from services.dossier import DossierError
from store.dossier import entries_of, instruments_of, ladder_history

D = date(2027, 1, 4)
TODAY = date(2027, 6, 1)
BSN = "999990019"


@pytest.fixture
def case_ref(engine):
    with store.session_scope(engine) as s:
        case = store.create_case(s, gemeentecode="0518", bsn=BSN, eerste_ziektedag=D, datum_ontvangst=date(2027, 2, 1),
                                 opened_on=date(2027, 2, 1), status=CaseStatus.OPEN)
        store.replace_steps(s, case, wvp_calendar(D, datum_ontvangst=date(2027, 2, 1)))
        return case.ref


def _plan(engine, ref, **kw):
    args = dict(agreed_on=date(2027, 3, 1), contact_person="J. de Vries (casemanager)",
                activities=[Activity("arbeidsdeskundig onderzoek", "zicht op passende functies", date(2027, 4, 1)),
                            Activity("sollicitatietraining", "twee gesprekken", None)],
                evaluation_moments=[date(2027, 5, 1), date(2027, 4, 1)], by="cm", today=TODAY)
    args.update(kw)
    return dossier.record_plan(engine, ref, **args)


def _audit(engine, ref):
    with store.session_scope(engine) as s:
        return [(e.action, e.details) for e in store.audit_for_case(s, store.get_case(s, ref).id)]


def test_plan_is_recorded_and_marks_its_step_done(engine, case_ref):
    assert _plan(engine, case_ref) == 1
    with store.session_scope(engine) as s:
        case = store.get_case(s, case_ref)
        [v1] = dossier.plan_history(s, case.id)
        step = next(st for st in store.steps_for(s, case) if st.stap is Stap.PLAN_VAN_AANPAK)
    assert step.done_on == date(2027, 3, 1)
    assert v1.contact_person == "J. de Vries (casemanager)" and v1.reason is None
    assert [a.activiteit for a in v1.activities] == ["arbeidsdeskundig onderzoek", "sollicitatietraining"]
    assert v1.activities[0].streefdatum == date(2027, 4, 1) and v1.activities[1].streefdatum is None
    assert v1.evaluation_moments == (date(2027, 4, 1), date(2027, 5, 1))
    action, details = _audit(engine, case_ref)[-1]
    assert action == "plan_van_aanpak.vastgesteld" and details["activiteiten"] == 2
    assert "sollicitatietraining" not in str(details)  # the audit names what changed, not the text


def test_a_second_plan_is_refused_and_points_to_bijstelling(engine, case_ref):
    _plan(engine, case_ref)
    with pytest.raises(DossierError, match="bijstelling"):
        _plan(engine, case_ref)


def test_plan_needs_contact_person_and_a_goal(engine, case_ref):
    with pytest.raises(DossierError, match="contactpersoon"):
        _plan(engine, case_ref, contact_person=" ")
    with pytest.raises(DossierError, match="doel"):
        _plan(engine, case_ref, activities=[Activity("training", " ")])
    with pytest.raises(DossierError, match="toekomst"):
        _plan(engine, case_ref, agreed_on=date(2027, 7, 1))


def test_bijstellingen_are_new_versions_that_keep_the_earlier_ones(engine, case_ref):
    with pytest.raises(DossierError, match="nog geen plan"):
        dossier.record_bijstelling(engine, case_ref, on=date(2027, 4, 1), reason="evaluatie", by="cm")
    _plan(engine, case_ref)
    assert dossier.record_bijstelling(engine, case_ref, on=date(2027, 4, 1), reason="evaluatie", by="cm") == 2
    assert dossier.record_bijstelling(
        engine, case_ref, on=date(2027, 5, 15), reason="FML herzien", by="cm",
        activities=[Activity("proefplaatsing", "uren opbouwen", date(2027, 8, 1))], contact_person="P. Jansen") == 3
    with pytest.raises(DossierError, match="voor versie 3"):
        dossier.record_bijstelling(engine, case_ref, on=date(2027, 5, 1), reason="x", by="cm")
    with store.session_scope(engine) as s:
        v1, v2, v3 = dossier.plan_history(s, store.get_case(s, case_ref).id)
    assert v2.activities == v1.activities and v2.contact_person == v1.contact_person and v2.reason == "evaluatie"
    assert [a.activiteit for a in v3.activities] == ["proefplaatsing"] and v3.contact_person == "P. Jansen"
    assert [a.activiteit for a in v1.activities][0] == "arbeidsdeskundig onderzoek"  # version 1 unchanged
    assert [d["versie"] for a, d in _audit(engine, case_ref) if a == "plan_van_aanpak.bijgesteld"] == [2, 3]


def test_copies_are_recorded_per_version_and_recipient(engine, case_ref):
    _plan(engine, case_ref)
    assert dossier.record_copy(engine, case_ref, recipient=Recipient.VANGNETTER, sent_on=date(2027, 3, 2),
                               by="cm", today=TODAY) == 1
    dossier.record_bijstelling(engine, case_ref, on=date(2027, 4, 1), reason="evaluatie", by="cm")
    dossier.record_copy(engine, case_ref, recipient=Recipient.CONTACTPERSOON, sent_on=date(2027, 4, 2), by="cm",
                        today=TODAY)
    dossier.record_copy(engine, case_ref, recipient=Recipient.CONTACTPERSOON, sent_on=date(2027, 4, 9), by="cm",
                        today=TODAY)  # recorded twice: the first date stays
    with pytest.raises(DossierError, match="kan niet voor het plan"):
        dossier.record_copy(engine, case_ref, recipient=Recipient.VANGNETTER, sent_on=date(2027, 2, 1), by="cm",
                            today=TODAY, version=1)
    with store.session_scope(engine) as s:
        v1, v2 = dossier.plan_history(s, store.get_case(s, case_ref).id)
    assert v1.copies == {"vangnetter": date(2027, 3, 2)}
    assert v2.copies == {"contactpersoon": date(2027, 4, 2)}


def test_ladder_and_instruments_over_time(engine, case_ref):
    dossier.set_trede(engine, case_ref, trede=Trede.GEISOLEERD, since=date(2027, 2, 1), by="cm", today=TODAY)
    dossier.set_trede(engine, case_ref, trede=Trede.ONBETAALD_WERK, since=date(2027, 5, 1), by="cm", today=TODAY)
    dossier.start_instrument(engine, case_ref, Instrument.JOBCOACHING, started_on=date(2027, 3, 1), by="cm", today=TODAY)
    with pytest.raises(DossierError, match="al"):
        dossier.start_instrument(engine, case_ref, Instrument.JOBCOACHING, started_on=date(2027, 4, 1), by="cm",
                                 today=TODAY)
    with pytest.raises(DossierError, match="voor de start"):
        dossier.end_instrument(engine, case_ref, Instrument.JOBCOACHING, ended_on=date(2027, 2, 1), by="cm", today=TODAY)
    dossier.end_instrument(engine, case_ref, Instrument.JOBCOACHING, ended_on=date(2027, 5, 1), by="cm", today=TODAY)
    with pytest.raises(DossierError, match="geen lopend"):
        dossier.end_instrument(engine, case_ref, Instrument.SCHOLING, ended_on=date(2027, 5, 1), by="cm", today=TODAY)
    with store.session_scope(engine) as s:
        case_id = store.get_case(s, case_ref).id
        assert [(e.since, e.trede) for e in ladder_history(s, case_id)] == [(date(2027, 2, 1), 1), (date(2027, 5, 1), 4)]
        assert [(i.instrument, i.started_on, i.ended_on) for i in instruments_of(s, case_id)] == [
            ("jobcoaching", date(2027, 3, 1), date(2027, 5, 1))]
    trede_events = [d for a, d in _audit(engine, case_ref) if a == "ladder.trede"]
    assert trede_events[-1] == {"trede": 4, "vorige": 1, "sinds": "2027-05-01"}


def test_entries_are_kept_with_their_kind_and_limited(engine, case_ref):
    dossier.add_entry(engine, case_ref, EntryKind.LAATSTE_ARBEID, entry_date=date(2027, 2, 10),
                      text="Orderpicker, 32 uur", by="cm", today=TODAY)
    with pytest.raises(DossierError, match="onder"):
        dossier.add_entry(engine, case_ref, EntryKind.EVALUATIE, entry_date=TODAY, text="x" * 5000, by="cm", today=TODAY)
    with store.session_scope(engine) as s:
        [entry] = entries_of(s, store.get_case(s, case_ref).id)
    assert (entry.kind, entry.text) == ("laatste_arbeid", "Orderpicker, 32 uur")
    assert "Orderpicker" not in str(_audit(engine, case_ref))


def test_unknown_and_anonymised_cases_are_refused(engine, case_ref):
    with pytest.raises(DossierError, match="geen zaak"):
        dossier.set_trede(engine, "VN-999999", trede=Trede.ZORG, since=TODAY, by="cm", today=TODAY)
    with store.session_scope(engine) as s:
        store.get_case(s, case_ref).anonymised_on = TODAY
    with pytest.raises(DossierError, match="geanonimiseerd"):
        dossier.set_trede(engine, case_ref, trede=Trede.ZORG, since=TODAY, by="cm", today=TODAY)


def test_the_commands_record_and_show_the_dossier(engine, case_ref, db_url, monkeypatch):
    monkeypatch.setenv("VANGNET_DATABASE_URL", db_url)
    run = CliRunner().invoke
    common = ["--door", "cm", "--today", "2027-06-01"]
    out = run(app, ["plan", "record", case_ref, "--op", "2027-03-01", "--contactpersoon", "J. de Vries",
                    "--activiteit", "scholing|certificaat VCA|2027-05-01", "--evaluatie", "2027-04-15", *common])
    assert out.exit_code == 0, out.output
    out = run(app, ["plan", "bijstelling", case_ref, "--op", "2027-04-15", "--reden", "evaluatie", *common])
    assert out.exit_code == 0 and "version 2" in out.output, out.output
    out = run(app, ["plan", "copy", case_ref, "--aan", "vangnetter", "--op", "2027-04-16", *common])
    assert out.exit_code == 0 and "version 2" in out.output, out.output
    out = run(app, ["plan", "show", case_ref])
    assert out.exit_code == 0 and "certificaat VCA" in out.output and "vangnetter 2027-04-16" in out.output
    assert run(app, ["ladder", "set", case_ref, "--trede", "5", "--op", "2027-05-01", *common]).exit_code == 0
    assert run(app, ["instrument", "start", case_ref, "proefplaatsing", "--op", "2027-05-01", *common]).exit_code == 0
    out = run(app, ["ladder", "show", case_ref])
    assert "betaald werk met ondersteuning" in out.output and "proefplaatsing" in out.output and "(lopend)" in out.output
    out = run(app, ["dossier", "add", case_ref, "--soort", "mening_vangnetter", "--tekst", "wil graag buiten werken",
                    "--op", "2027-05-20", *common])
    assert out.exit_code == 0, out.output
    for wrong, message in ((["ladder", "set", case_ref, "--trede", "12", "--op", "2027-05-01"], "Unknown trede"),
                           (["plan", "record", case_ref, "--op", "2027-03-01", "--contactpersoon", "x",
                             "--activiteit", "alleen tekst"], "is not 'activiteit|doel"),
                           (["plan", "record", case_ref, "--op", "2027-03-01", "--contactpersoon", "x",
                             "--activiteit", "a|b"], "al een plan")):
        out = run(app, [*wrong, *common])  # VangnetError: `vangnet` (flows.cli.main) prints it without a traceback
        assert out.exit_code != 0 and message in out.output + str(out.exception), out.output
    assert BSN not in out.output
