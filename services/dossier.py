"""What staff record in a case's dossier besides the WVP steps (Regeling art. 4 and 5).

- the plan van aanpak (art. 5): activities with goals and target dates, evaluation moments and a named
  contact person; version 1 is the plan, every bijstelling (art. 5(4)) the next version with its reason;
  the copies sent to the vangnetter and the contact person are recorded per version;
- the case's trede on the re-integratieladder (0-9) and the instruments it uses, over time;
- entries for the RIV parts no other record supplies (the last job, an evaluation, the vangnetter's
  opinion, ...).

Every change is an audit event that names what changed, never the free text itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import store
from schemas.case import Stap
from schemas.dossier import Activity, EntryKind, Instrument, PlanVersion, Recipient, Trede
from store.dossier import entries_of, instruments_of, ladder_history, plan_copies, plan_versions
from store.models import Case, CaseInstrument, DossierEntry, LadderEntry, PlanCopy, PlanVanAanpak

MAX_TEXT = 4000
"""Longest dossier entry: a RIV part is a paragraph or two, not a file."""


class DossierError(ValueError):
    """The request can't be recorded; the message says why and what to do."""


def _case(session: Session, case_ref: str) -> Case:
    case = store.get_case(session, case_ref)
    if case is None:
        raise DossierError(f"er is geen zaak {case_ref!r}; zie `vangnet cases list`")
    if case.anonymised_on is not None:
        raise DossierError(f"zaak {case.ref} is na de bewaartermijn geanonimiseerd; er kan niets meer bij")
    return case


def _not_future(value: date, today: date, what: str) -> None:
    if value > today:
        raise DossierError(f"{what} ({value}) ligt in de toekomst; registreer wat gebeurd is")


def _activities_json(activities: Sequence[Activity]) -> list[dict]:
    if not activities:
        raise DossierError("een plan van aanpak heeft minstens één activiteit met een doel (--activiteit)")
    out = []
    for a in activities:
        if not a.activiteit.strip() or not a.doel.strip():
            raise DossierError("elke activiteit heeft een omschrijving en een doel: 'activiteit|doel|YYYY-MM-DD'")
        out.append({"activiteit": a.activiteit.strip(), "doel": a.doel.strip(),
                    "streefdatum": a.streefdatum.isoformat() if a.streefdatum else None})
    return out


def record_plan(engine: Engine, case_ref: str, *, agreed_on: date, contact_person: str,
                activities: Sequence[Activity], evaluation_moments: Sequence[date], by: str, today: date) -> int:
    """Record the plan van aanpak (version 1) and mark its WVP step done on `agreed_on`.

    A plan exists once per case; a change is a bijstelling (`record_bijstelling`)."""
    _not_future(agreed_on, today, "de datum van het plan")
    if not contact_person.strip():
        raise DossierError("het plan van aanpak noemt een contactpersoon (art. 5): geef --contactpersoon")
    with store.session_scope(engine) as session:
        case = _case(session, case_ref)
        if plan_versions(session, case.id):
            raise DossierError(f"zaak {case.ref} heeft al een plan van aanpak; een wijziging is een bijstelling "
                               "(`vangnet plan bijstelling`)")
        session.add(PlanVanAanpak(
            case_id=case.id, version=1, agreed_on=agreed_on, contact_person=contact_person.strip(),
            activities=_activities_json(activities),
            evaluation_moments=sorted(d.isoformat() for d in evaluation_moments), reason=None, recorded_by=by))
        step = next((s for s in store.steps_for(session, case) if s.stap is Stap.PLAN_VAN_AANPAK), None)
        if step is not None and step.done_on is None:
            step.done_on = agreed_on
        store.record_audit(session, actor=by, action="plan_van_aanpak.vastgesteld", case_id=case.id, details={
            "versie": 1, "op": agreed_on.isoformat(), "activiteiten": len(activities),
            "evaluatiemomenten": len(evaluation_moments)})
        return 1


def record_bijstelling(engine: Engine, case_ref: str, *, on: date, reason: str, by: str,
                       activities: Sequence[Activity] | None = None,
                       evaluation_moments: Sequence[date] | None = None,
                       contact_person: str | None = None, today: date | None = None) -> int:
    """Art. 5(4): the plan was adjusted after an evaluation or medical assessment. The next version copies
    the latest and replaces what is given. Returns the new version number (1 is the original plan)."""
    if not reason.strip():
        raise DossierError("geef de aanleiding van de bijstelling (--reden)")
    if today is not None:
        _not_future(on, today, "de datum van de bijstelling")
    with store.session_scope(engine) as session:
        case = _case(session, case_ref)
        versions = plan_versions(session, case.id)
        if not versions:
            raise DossierError(f"zaak {case.ref} heeft nog geen plan van aanpak om bij te stellen; "
                               "leg het eerst vast met `vangnet plan record`")
        latest = versions[-1]
        if on < latest.agreed_on:
            raise DossierError(f"de bijstelling ({on}) ligt voor versie {latest.version} ({latest.agreed_on})")
        version = latest.version + 1
        session.add(PlanVanAanpak(
            case_id=case.id, version=version, agreed_on=on,
            contact_person=(contact_person or latest.contact_person).strip(),
            activities=_activities_json(activities) if activities else list(latest.activities),
            evaluation_moments=(sorted(d.isoformat() for d in evaluation_moments) if evaluation_moments is not None
                                else list(latest.evaluation_moments)),
            reason=reason.strip(), recorded_by=by))
        store.record_audit(session, actor=by, action="plan_van_aanpak.bijgesteld", case_id=case.id,
                           details={"versie": version, "op": on.isoformat()})
        return version


def record_copy(engine: Engine, case_ref: str, *, recipient: Recipient, sent_on: date, by: str, today: date,
                version: int | None = None) -> int:
    """Record that a plan version (default: the latest) was sent to `recipient`. Returns the version.
    Recording the same copy twice keeps the first date."""
    _not_future(sent_on, today, "de verzenddatum")
    with store.session_scope(engine) as session:
        case = _case(session, case_ref)
        versions = plan_versions(session, case.id)
        plan = versions[-1] if versions and version is None else next((v for v in versions if v.version == version), None)
        if plan is None:
            raise DossierError(f"zaak {case.ref} heeft geen plan van aanpak" + (f" versie {version}" if version else ""))
        if sent_on < plan.agreed_on:
            raise DossierError(f"een afschrift ({sent_on}) kan niet voor het plan ({plan.agreed_on}) zijn verstuurd")
        if any(c.recipient == recipient.value for c in plan_copies(session, [plan.id])):
            return plan.version
        session.add(PlanCopy(plan_id=plan.id, recipient=recipient.value, sent_on=sent_on, recorded_by=by))
        store.record_audit(session, actor=by, action="plan_van_aanpak.afschrift", case_id=case.id, details={
            "versie": plan.version, "aan": recipient.value, "op": sent_on.isoformat()})
        return plan.version


def plan_history(session: Session, case_id: int) -> list[PlanVersion]:
    """Every plan version of a case with its copies, oldest first."""
    versions = plan_versions(session, case_id)
    copies: dict[int, dict[str, date]] = {}
    for c in plan_copies(session, [v.id for v in versions]):
        copies.setdefault(c.plan_id, {})[c.recipient] = c.sent_on
    return [PlanVersion(
        version=v.version, agreed_on=v.agreed_on, contact_person=v.contact_person,
        activities=tuple(Activity(a["activiteit"], a["doel"],
                                  date.fromisoformat(a["streefdatum"]) if a.get("streefdatum") else None)
                         for a in v.activities),
        evaluation_moments=tuple(date.fromisoformat(d) for d in v.evaluation_moments),
        reason=v.reason, copies=copies.get(v.id, {})) for v in versions]


def set_trede(engine: Engine, case_ref: str, *, trede: Trede, since: date, by: str, today: date) -> None:
    """Record the case's trede on the re-integratieladder from `since` on."""
    _not_future(since, today, "de datum van de trede")
    with store.session_scope(engine) as session:
        case = _case(session, case_ref)
        history = ladder_history(session, case.id)
        previous = history[-1].trede if history else None
        session.add(LadderEntry(case_id=case.id, trede=int(trede), since=since, recorded_by=by))
        store.record_audit(session, actor=by, action="ladder.trede", case_id=case.id, details={
            "trede": int(trede), "vorige": previous, "sinds": since.isoformat()})


def start_instrument(engine: Engine, case_ref: str, instrument: Instrument, *, started_on: date, by: str,
                     today: date) -> None:
    """Record that the case uses an instrument from `started_on`; refused while the same one still runs."""
    _not_future(started_on, today, "de startdatum")
    with store.session_scope(engine) as session:
        case = _case(session, case_ref)
        if any(i.instrument == instrument.value and i.ended_on is None for i in instruments_of(session, case.id)):
            raise DossierError(f"zaak {case.ref} gebruikt {instrument.value} al; beëindig het eerst")
        session.add(CaseInstrument(case_id=case.id, instrument=instrument.value, started_on=started_on,
                                   ended_on=None, recorded_by=by))
        store.record_audit(session, actor=by, action="instrument.gestart", case_id=case.id, details={
            "instrument": instrument.value, "op": started_on.isoformat()})


def end_instrument(engine: Engine, case_ref: str, instrument: Instrument, *, ended_on: date, by: str,
                   today: date) -> None:
    """Record the end of a running instrument."""
    _not_future(ended_on, today, "de einddatum")
    with store.session_scope(engine) as session:
        case = _case(session, case_ref)
        running = [i for i in instruments_of(session, case.id) if i.instrument == instrument.value and i.ended_on is None]
        if not running:
            raise DossierError(f"zaak {case.ref} heeft geen lopend instrument {instrument.value}")
        if ended_on < running[-1].started_on:
            raise DossierError(f"de einddatum ({ended_on}) ligt voor de start ({running[-1].started_on})")
        running[-1].ended_on = ended_on
        store.record_audit(session, actor=by, action="instrument.beeindigd", case_id=case.id, details={
            "instrument": instrument.value, "op": ended_on.isoformat()})


def add_entry(engine: Engine, case_ref: str, kind: EntryKind, *, entry_date: date, text: str, by: str,
              today: date) -> None:
    """Add a dossier entry for a RIV part (the audit records the kind and date, not the text)."""
    _not_future(entry_date, today, "de datum")
    text = text.strip()
    if not text:
        raise DossierError("een dossieritem heeft tekst (--tekst)")
    if len(text) > MAX_TEXT:
        raise DossierError(f"de tekst is {len(text)} tekens; houd een dossieritem onder {MAX_TEXT}")
    with store.session_scope(engine) as session:
        case = _case(session, case_ref)
        session.add(DossierEntry(case_id=case.id, kind=kind.value, entry_date=entry_date, text=text, recorded_by=by))
        store.record_audit(session, actor=by, action="dossier.item", case_id=case.id, details={
            "soort": kind.value, "op": entry_date.isoformat()})


__all__ = ["DossierError", "add_entry", "end_instrument", "entries_of", "instruments_of", "ladder_history",
           "plan_history", "record_bijstelling", "record_copy", "record_plan", "set_trede", "start_instrument"]
