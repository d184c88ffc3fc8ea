"""The re-integratieverslag (RIV) of a case, assembled from its facts (Regeling art. 8; WIA 25(3)). Pure.

The gemeente hands the RIV to the vangnetter by week 91 for the WIA application (domain.md §5). Its
eleven parts, in the order of the issue, and where each comes from:

| part | title | source | a gap is supplied by |
|---|---|---|---|
| a | administratieve gegevens | the case: reference, gemeente, zaak, BSN (the RIV goes to UWV with the WIA application, so it carries the BSN; nothing else personal), dates of melding and intake, RIV due date | the intake (`intake`) |
| b | laatst verrichte arbeid | dossier entries `laatste_arbeid`; the employer's loonheffingennummer (signal) and end of employment (case) as context | the ex-employer's RIV asked for at intake (step `riv_werkgever_opvragen`) |
| c | opleiding en vaardigheden | dossier entries `opleiding_vaardigheden` | the action `dossier:opleiding_vaardigheden` |
| d | eerste ziektedag | the case | the intake (UWV's signal) |
| e | oordeel over duurzaamheid | dossier entries `duurzaamheid`, else the advice's `verwachte_duur` / `arbeidsongeschiktheid_pct` | the action `consult:herbeoordeling` |
| f | plan van aanpak met elke bijstelling | every plan version: date, reason, contact person, activities, evaluation moments, copies sent | step `plan_van_aanpak` |
| g | elke herijking | steps `herijking_1..3` (due, legal date, done, art. 7 deviation) and dossier entries `herijking`; a herijking due on or before the RIV's date (`today`) and not done is a gap | the missing steps `herijking_n` |
| h | laatste evaluatie | the newest dossier entry `evaluatie` | the action `dossier:evaluatie` |
| i | functionele mogelijkheden en beperkingen | the latest consult advice: type_profiel (FML/IZP), level per rubriek, beperkingen, advies_aanpassingen — never a diagnosis | step `probleemanalyse` without any advice, else `consult:herbeoordeling` |
| j | beschikbaarheid passende arbeid | dossier entries `passende_arbeid` | the action `dossier:passende_arbeid` |
| k | mening van de vangnetter | dossier entries `mening_vangnetter` | the action `dossier:mening_vangnetter` |

Two sections have no letter and are never a gap: "Oordeel van de gemeente" (dossier entries
`oordeel_gemeente`) and "Re-integratieladder en instrumenten" (context). The gemeente's own oordeel is
not one of the parts a-k; it is kept apart from k so that the vangnetter's opinion stays in his own words
and a RIV is not held back (`final`) for a text the regulation doesn't ask for.

Only whitelisted advice fields are read (the same vocabulary as `rules.medical_guard`, shape-checked
again here); whatever else the dict holds never reaches the RIV. The content is structured (facts,
texts, lists, tables of plain strings); `documents.riv_html` and `documents.riv_pdf` render it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from rules.medical_guard import guard_advice
from schemas.case import Stap
from schemas.dossier import TREDE_LABELS, EntryKind, PlanVersion, Recipient, Trede

HERIJKINGEN = (Stap.HERIJKING_1, Stap.HERIJKING_2, Stap.HERIJKING_3)
RUBRIEK_LABELS = {
    "persoonlijk_functioneren": "Persoonlijk functioneren",
    "sociaal_functioneren": "Sociaal functioneren",
    "aanpassing_fysieke_omgeving": "Aanpassing aan fysieke omgevingseisen",
    "dynamische_handelingen": "Dynamische handelingen",
    "statische_houdingen": "Statische houdingen",
    "werktijden": "Werktijden",
}
PROFIEL_LABELS = {"FML": "Functionele Mogelijkhedenlijst (FML)", "IZP": "Inzetbaarheidsprofiel (IZP)"}


# -- input --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CaseFacts:
    """What the RIV shows of the case itself."""

    ref: str
    gemeentecode: str
    bsn: str
    eerste_ziektedag: date | None
    datum_ontvangst: date
    datum_melding: date | None = None
    datum_einde_dienstverband: date | None = None
    zaak_identificatie: str | None = None
    werkgever_loonheffingennummer: str | None = None


@dataclass(frozen=True)
class StepFact:
    """One WVP step: due date now, legal date, when done, an art. 7 deviation."""

    stap: Stap
    datum: date
    wettelijke_datum: date
    done_on: date | None = None
    deviation_reason: str | None = None
    deviation_consulted_on: date | None = None


@dataclass(frozen=True)
class EntryFact:
    """One dossier entry."""

    kind: EntryKind
    entry_date: date
    text: str


@dataclass(frozen=True)
class RivFacts:
    """Everything the RIV is assembled from; `today` is the RIV's date."""

    case: CaseFacts
    today: date
    steps: tuple[StepFact, ...] = ()
    plans: tuple[PlanVersion, ...] = ()
    entries: tuple[EntryFact, ...] = ()
    advice: Mapping[str, Any] | None = None
    """The latest consult advice as stored (after the medical guard)."""
    ladder: tuple[tuple[int, date], ...] = ()
    """(trede, since), oldest first."""
    instruments: tuple[tuple[str, date, date | None], ...] = ()
    """(instrument, started_on, ended_on)."""


# -- output -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fact:
    """A labelled value."""

    label: str
    value: str


@dataclass(frozen=True)
class Text:
    """A paragraph of recorded text, with its heading (usually the date)."""

    heading: str
    text: str


@dataclass(frozen=True)
class Items:
    """A bulleted list."""

    heading: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A table of plain strings."""

    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


Content = Fact | Text | Items | Table


class PartStatus(StrEnum):
    PRESENT = "present"
    GAP = "gap"


@dataclass(frozen=True)
class RivPart:
    """One part of art. 8. A gap names what supplies it (`supplied_by`: a Stap value or an action) and
    how (`hint`, Dutch, with the command)."""

    letter: str
    title: str
    status: PartStatus
    content: tuple[Content, ...] = ()
    supplied_by: str | None = None
    hint: str | None = None
    notes: tuple[str, ...] = ()
    """Remarks shown with the part that don't make it a gap (e.g. a copy of the plan not recorded)."""

    @property
    def is_gap(self) -> bool:
        return self.status is PartStatus.GAP


@dataclass(frozen=True)
class RivSection:
    """A section without a letter (never a gap)."""

    key: str
    title: str
    content: tuple[Content, ...]


@dataclass(frozen=True)
class Riv:
    """The assembled re-integratieverslag."""

    case_ref: str
    gemeentecode: str
    generated_on: date
    riv_due: date | None
    parts: tuple[RivPart, ...]
    sections: tuple[RivSection, ...] = ()

    @property
    def gaps(self) -> tuple[RivPart, ...]:
        return tuple(p for p in self.parts if p.is_gap)

    @property
    def gap_letters(self) -> tuple[str, ...]:
        return tuple(p.letter for p in self.gaps)

    @property
    def complete(self) -> bool:
        return not self.gaps

    def part(self, letter: str) -> RivPart:
        return next(p for p in self.parts if p.letter == letter)


# -- assembly -----------------------------------------------------------------------------------------
def dutch_date(value: date | None) -> str:
    """04-01-2027; '-' for no date."""
    return value.strftime("%d-%m-%Y") if value else "-"


def assemble_riv(facts: RivFacts) -> Riv:
    """The RIV of a case from its facts: parts a..k, each present or a gap, plus the unlettered sections."""
    ref = facts.case.ref
    steps = {s.stap: s for s in facts.steps}
    advice = _whitelisted(facts.advice)
    parts = (
        _part_a(facts, steps), _part_b(facts), _part_c(facts), _part_d(facts), _part_e(facts, advice),
        _part_f(facts), _part_g(facts, steps), _part_h(facts), _part_i(ref, advice), _part_j(facts),
        _part_k(facts),
    )
    due = steps[Stap.RIV].datum if Stap.RIV in steps else None
    return Riv(case_ref=ref, gemeentecode=facts.case.gemeentecode, generated_on=facts.today, riv_due=due,
               parts=parts, sections=(_oordeel_gemeente(facts), _ladder_instruments(facts)))


def _entries(facts: RivFacts, kind: EntryKind) -> list[EntryFact]:
    return sorted((e for e in facts.entries if e.kind is kind), key=lambda e: e.entry_date)


def _texts(entries: list[EntryFact]) -> tuple[Text, ...]:
    return tuple(Text(dutch_date(e.entry_date), e.text) for e in entries)


def _add(ref: str, kind: EntryKind, what: str) -> str:
    return f"`vangnet dossier add {ref} --soort {kind.value} --op JJJJ-MM-DD --tekst '{what}'`"


def _present(letter: str, title: str, content, notes=()) -> RivPart:
    return RivPart(letter, title, PartStatus.PRESENT, tuple(content), notes=tuple(notes))


def _gap(letter: str, title: str, supplied_by: str, hint: str, content=(), notes=()) -> RivPart:
    return RivPart(letter, title, PartStatus.GAP, tuple(content), supplied_by=supplied_by, hint=hint,
                   notes=tuple(notes))


def _entry_part(facts: RivFacts, letter: str, title: str, kind: EntryKind, supplied_by: str, hint: str,
                context=()) -> RivPart:
    entries = _entries(facts, kind)
    if entries:
        return _present(letter, title, (*context, *_texts(entries)))
    return _gap(letter, title, supplied_by, hint, context)


def _part_a(facts: RivFacts, steps: dict[Stap, StepFact]) -> RivPart:
    c = facts.case
    riv = steps.get(Stap.RIV)
    content = (
        Fact("Zaak", c.ref), Fact("Gemeente (CBS-code)", c.gemeentecode),
        Fact("Zaakidentificatie", c.zaak_identificatie or "-"), Fact("BSN", c.bsn or "-"),
        Fact("Datum ziekmelding bij UWV", dutch_date(c.datum_melding)),
        Fact("Datum ontvangst signaal", dutch_date(c.datum_ontvangst)),
        Fact("RIV uiterlijk (week 91)", dutch_date(riv.datum if riv else None)),
        Fact("Datum van dit verslag", dutch_date(facts.today)),
    )
    title = "Administratieve gegevens"
    if not c.bsn:
        return _gap("a", title, "intake", "Het BSN ontbreekt in de zaak; het komt uit het UWV-signaal bij de "
                    f"intake: controleer de signalen van {c.ref} (`vangnet cases show {c.ref}`)", content)
    return _present("a", title, content)


def _part_b(facts: RivFacts) -> RivPart:
    c = facts.case
    context = (Fact("Loonheffingennummer laatste werkgever", c.werkgever_loonheffingennummer or "onbekend"),
               Fact("Einde dienstverband", dutch_date(c.datum_einde_dienstverband)))
    return _entry_part(
        facts, "b", "Laatst verrichte arbeid", EntryKind.LAATSTE_ARBEID, Stap.RIV_WERKGEVER.value,
        "Vraag het re-integratieverslag van de ex-werkgever op en leg het laatst verrichte werk vast: "
        + _add(c.ref, EntryKind.LAATSTE_ARBEID, "functie, taken, uren"), context)


def _part_c(facts: RivFacts) -> RivPart:
    return _entry_part(
        facts, "c", "Opleiding en vaardigheden", EntryKind.OPLEIDING_VAARDIGHEDEN,
        f"dossier:{EntryKind.OPLEIDING_VAARDIGHEDEN.value}",
        "Leg opleiding, werkervaring en vaardigheden vast (uit het intakegesprek): "
        + _add(facts.case.ref, EntryKind.OPLEIDING_VAARDIGHEDEN, "opleidingen, vaardigheden"))


def _part_d(facts: RivFacts) -> RivPart:
    d = facts.case.eerste_ziektedag
    title = "Eerste ziektedag"
    if d is None:
        return _gap("d", title, "intake", "De eerste ziektedag komt uit het UWV-signaal; vraag hem bij UWV na "
                    f"(`vangnet cases show {facts.case.ref}`)")
    return _present("d", title, (Fact("Eerste ziektedag", dutch_date(d)),))


def _part_e(facts: RivFacts, advice: dict[str, Any]) -> RivPart:
    title = "Oordeel over de duurzaamheid van de ongeschiktheid"
    content: list[Content] = list(_texts(_entries(facts, EntryKind.DUURZAAMHEID)))
    bron = f" (advies bedrijfsarts {dutch_date(advice['datum_consult'])})" if "datum_consult" in advice else \
        " (advies bedrijfsarts)"
    if "verwachte_duur" in advice:
        content.append(Fact("Verwachte duur" + bron, advice["verwachte_duur"]))
    if "arbeidsongeschiktheid_pct" in advice:
        content.append(Fact("Mate van arbeidsongeschiktheid" + bron, f"{advice['arbeidsongeschiktheid_pct']}%"))
    if content:
        return _present("e", title, content)
    return _gap("e", title, "consult:herbeoordeling",
                "Vraag de bedrijfsarts om een oordeel over de verwachte duur (het advies komt binnen met de "
                f"consult-flow: `vangnet consults list --case {facts.case.ref}`) of leg het oordeel vast: "
                + _add(facts.case.ref, EntryKind.DUURZAAMHEID, "oordeel over de duurzaamheid"))


def _part_f(facts: RivFacts) -> RivPart:
    title = "Plan van aanpak met elke bijstelling"
    ref = facts.case.ref
    if not facts.plans:
        return _gap("f", title, Stap.PLAN_VAN_AANPAK.value,
                    f"Leg het plan van aanpak vast: `vangnet plan record {ref} --op JJJJ-MM-DD --contactpersoon "
                    "NAAM --activiteit 'activiteit|doel|JJJJ-MM-DD'`")
    content: list[Content] = []
    notes: list[str] = []
    for plan in sorted(facts.plans, key=lambda p: p.version):
        name = "Plan van aanpak" if plan.version == 1 else f"Bijstelling {plan.version - 1}"
        content.append(Fact(f"Versie {plan.version}: {name}", f"vastgesteld op {dutch_date(plan.agreed_on)}"))
        if plan.reason:
            content.append(Fact("Aanleiding bijstelling", plan.reason))
        content.append(Fact("Contactpersoon", plan.contact_person))
        content.append(Table(f"Activiteiten versie {plan.version}", ("Activiteit", "Doel", "Streefdatum"),
                             tuple((a.activiteit, a.doel, dutch_date(a.streefdatum)) for a in plan.activities)))
        content.append(Fact("Evaluatiemomenten",
                            ", ".join(dutch_date(d) for d in plan.evaluation_moments) or "geen vastgelegd"))
        copies = []
        for recipient in Recipient:
            sent = plan.copies.get(recipient.value)
            copies.append(f"{recipient.value}: {dutch_date(sent) if sent else 'niet geregistreerd'}")
            if sent is None:
                notes.append(f"afschrift van versie {plan.version} aan de {recipient.value} is niet geregistreerd "
                             f"(`vangnet plan copy {ref} --aan {recipient.value} --op JJJJ-MM-DD "
                             f"--versie {plan.version}`)")
        content.append(Fact("Afschriften", "; ".join(copies)))
    return _present("f", title, content, notes)


def _part_g(facts: RivFacts, steps: dict[Stap, StepFact]) -> RivPart:
    title = "Herijkingen"
    ref = facts.case.ref
    rows, missing = [], []
    for stap in HERIJKINGEN:
        s = steps.get(stap)
        if s is None:
            continue
        if s.done_on:
            state = f"gedaan op {dutch_date(s.done_on)}"
        elif s.datum <= facts.today:
            state = "ontbreekt"
            missing.append(stap)
        else:
            state = "nog niet aan de orde"
        deviation = (f"{s.deviation_reason} (overlegd {dutch_date(s.deviation_consulted_on)})"
                     if s.deviation_reason else "-")
        rows.append((stap.value.replace("_", " "), dutch_date(s.datum), dutch_date(s.wettelijke_datum), state,
                     deviation))
    content = (Table("Herijkingen (art. 6)", ("Herijking", "Uiterlijk", "Wettelijke datum", "Stand",
                                              "Afwijking (art. 7)"), tuple(rows)),
               *_texts(_entries(facts, EntryKind.HERIJKING)))
    if missing:
        names = ", ".join(s.value for s in missing)
        return _gap("g", title, names,
                    f"Registreer de herijking ({names}): `vangnet cases step-done {ref} {missing[0].value} --op "
                    f"JJJJ-MM-DD` en leg de uitkomst vast: "
                    + _add(ref, EntryKind.HERIJKING, "uitkomst herijking"), content)
    return _present("g", title, content)


def _part_h(facts: RivFacts) -> RivPart:
    title = "Laatste evaluatie"
    entries = _entries(facts, EntryKind.EVALUATIE)
    if entries:
        return _present("h", title, _texts(entries[-1:]))
    moments = sorted(d for p in facts.plans for d in p.evaluation_moments if d <= facts.today)
    when = f" (laatste evaluatiemoment volgens het plan: {dutch_date(moments[-1])})" if moments else ""
    return _gap("h", title, f"dossier:{EntryKind.EVALUATIE.value}",
                f"Leg de uitkomst van de laatste evaluatie vast{when}: "
                + _add(facts.case.ref, EntryKind.EVALUATIE, "uitkomst evaluatie"))


def _part_i(ref: str, advice: dict[str, Any]) -> RivPart:
    title = "Functionele mogelijkheden en beperkingen"
    content: list[Content] = []
    if "type_profiel" in advice:
        content.append(Fact("Soort", PROFIEL_LABELS[advice["type_profiel"]]))
    if "datum_consult" in advice:
        content.append(Fact("Datum oordeel bedrijfsarts", dutch_date(advice["datum_consult"])))
    levels = advice.get("functionele_mogelijkheden", {})
    if levels:
        content.append(Table("Mogelijkheden per rubriek", ("Rubriek", "Mogelijkheden"),
                             tuple((RUBRIEK_LABELS[r], levels[r]) for r in RUBRIEK_LABELS if r in levels)))
    if advice.get("beperkingen"):
        content.append(Items("Beperkingen", tuple(advice["beperkingen"])))
    if advice.get("advies_aanpassingen"):
        content.append(Items("Geadviseerde aanpassingen", tuple(advice["advies_aanpassingen"])))
    note = ("alleen functionele mogelijkheden en beperkingen; een diagnose hoort niet in dit verslag",)
    if levels or advice.get("beperkingen"):
        return _present("i", title, content, note)
    hint = (f"Vraag de arbodienst om een FML of inzetbaarheidsprofiel; het advies komt binnen met de "
            f"consult-flow (`vangnet consults list --case {ref}`)")
    return _gap("i", title, "consult:herbeoordeling" if advice else Stap.PROBLEEMANALYSE.value, hint, content)


def _part_j(facts: RivFacts) -> RivPart:
    return _entry_part(
        facts, "j", "Beschikbaarheid van passende arbeid", EntryKind.PASSENDE_ARBEID,
        f"dossier:{EntryKind.PASSENDE_ARBEID.value}",
        "Leg vast of er passende arbeid beschikbaar is (bij een werkgever of via de gemeente): "
        + _add(facts.case.ref, EntryKind.PASSENDE_ARBEID, "beschikbaarheid passende arbeid"))


def _part_k(facts: RivFacts) -> RivPart:
    return _entry_part(
        facts, "k", "Mening van de vangnetter", EntryKind.MENING_VANGNETTER,
        f"dossier:{EntryKind.MENING_VANGNETTER.value}",
        "Vraag de vangnetter om zijn of haar mening over de re-integratie en leg die vast: "
        + _add(facts.case.ref, EntryKind.MENING_VANGNETTER, "mening van de vangnetter"))


def _oordeel_gemeente(facts: RivFacts) -> RivSection:
    texts = _texts(_entries(facts, EntryKind.OORDEEL_GEMEENTE))
    return RivSection("oordeel-gemeente", "Oordeel van de gemeente",
                      texts or (Text("-", "Geen oordeel van de gemeente vastgelegd."),))


def _ladder_instruments(facts: RivFacts) -> RivSection:
    content: list[Content] = []
    if facts.ladder:
        content.append(Table("Re-integratieladder", ("Sinds", "Trede"), tuple(
            (dutch_date(since), f"{trede} - {TREDE_LABELS[Trede(trede)]}") for trede, since in facts.ladder)))
    if facts.instruments:
        content.append(Table("Instrumenten", ("Instrument", "Start", "Einde"), tuple(
            (name.replace("_", " "), dutch_date(start), dutch_date(end) if end else "loopt")
            for name, start, end in facts.instruments)))
    return RivSection("ladder-instrumenten", "Re-integratieladder en instrumenten",
                      tuple(content) or (Text("-", "Geen trede of instrument vastgelegd."),))


def _whitelisted(advice: Mapping[str, Any] | None) -> dict[str, Any]:
    """The advice fields the RIV may show, shape-checked again by the medical guard; nothing else."""
    if not advice:
        return {}
    kept = guard_advice(advice).kept
    out: dict[str, Any] = {}
    for key in ("type_profiel", "functionele_mogelijkheden", "beperkingen", "advies_aanpassingen",
                "verwachte_duur", "arbeidsongeschiktheid_pct"):
        if key in kept and kept[key] not in ({}, [], None):
            out[key] = kept[key]
    if "datum_consult" in kept:
        out["datum_consult"] = date.fromisoformat(kept["datum_consult"])
    return out
