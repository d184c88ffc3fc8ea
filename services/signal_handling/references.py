"""CORRECTIE and INTREKKING: act on the signal they refer to (`verwijst_naar`), or wait for it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy.orm import Session

import store
from rules.signal_effects import (
    CORRECTED_FACTS,
    EffectKind,
    Withdrawal,
    correction_problem,
    ending_effect,
    fact_changes,
    illness_period,
    last_closer,
    withdrawal_effect,
)
from rules.signals import REQUIRED_BY_SOORT
from rules.wvp import wvp_calendar
from schemas.case import CaseStatus, Stap
from schemas.signal import SignaalSoort, Signal
from services.signal_handling.common import (
    Applied,
    audit,
    close,
    closed_facts,
    done,
    facts,
    flag,
    park,
    set_signal_status,
)
from services.signal_handling.endings import apply_ending
from store.models import Case, SignalRow, SignalStatus

_VOLGT_NIET = "het bericht waarnaar verwezen wordt ({}) is nog niet ontvangen"
_KRING = "bericht {} verwijst (via correcties) naar zichzelf; beoordeel handmatig"
_GEANONIMISEERD = ("bericht {} verwijst naar een zaak die na de bewaartermijn is geanonimiseerd; er verandert "
                   "niets, beoordeel handmatig of het een nieuwe melding is")


class _Circular(Exception):
    pass


def _chain(session: Session, row: SignalRow) -> list[SignalRow] | str:
    """The signals `row` refers to, nearest first, down to the original (not a correction);
    or the reason to wait when one of them has not arrived yet."""
    chain: list[SignalRow] = []
    seen = {row.bericht_id}
    ref = row.verwijst_naar
    while True:
        target = store.get_signal(session, ref)
        if target is None:
            return _VOLGT_NIET.format(ref)
        if target.bericht_id in seen:
            raise _Circular
        seen.add(target.bericht_id)
        chain.append(target)
        if target.soort is not SignaalSoort.CORRECTIE:
            return chain
        ref = target.verwijst_naar


def _case_of(session: Session, rows: list[SignalRow]) -> Case | None:
    case_id = next((r.case_id for r in rows if r.case_id is not None), None)
    return session.get(Case, case_id) if case_id is not None else None


def _anonymised(case: Case | None) -> bool:
    """A case the retention flow anonymised is history: a late correction or withdrawal can't change it."""
    return case is not None and case.anonymised_on is not None


def _closer(session: Session, case: Case) -> str | None:
    events = store.audit_for_case(session, case.id)
    return last_closer((e.action, (e.details or {}).get("bericht_id")) for e in events)


# --- CORRECTIE ---------------------------------------------------------------------------------


def apply_correctie(session: Session, row: SignalRow, signal: Signal, *, received_on: date) -> Applied:
    """Replace what the referenced signal said by the correction's full record."""
    try:
        chain = _chain(session, row)
    except _Circular:
        audit(session, "signal.noted", row, reden=_KRING.format(row.bericht_id))
        return done(session, row, None, "noted")
    if isinstance(chain, str):
        return park(session, row, chain)
    if _anonymised(_case_of(session, chain)):
        audit(session, "signal.noted", row, reden=_GEANONIMISEERD.format(row.bericht_id))
        return done(session, row, None, "noted")
    target, original = chain[0], chain[-1]
    if original.soort is SignaalSoort.ZIEKMELDING_VANGNETTER:
        return _correct_ziekmelding(session, row, signal, target, original)
    if original.soort is SignaalSoort.INTREKKING:
        case = _case_of(session, chain)
        reason = f"correctie {row.bericht_id} op intrekking {original.bericht_id}; beoordeel handmatig"
        if case is None:
            audit(session, "signal.noted", row, reden=reason)
            return done(session, row, None, "noted")
        flag(session, row, case, reason)
        return done(session, row, case, "flagged")
    return _correct_ending(session, row, signal, chain, received_on)


def _correct_ziekmelding(
    session: Session, row: SignalRow, signal: Signal, target: SignalRow, original: SignalRow
) -> Applied:
    case = session.get(Case, original.case_id) if original.case_id else None
    if case is None:  # every applied ziekmelding has a case; this one was never applied
        audit(session, "signal.noted", row,
              reden=f"ziekmelding {original.bericht_id} hoort bij geen zaak; beoordeel handmatig")
        return done(session, row, None, "noted")
    problem = correction_problem(facts(case), signal)
    others = closed_facts(session, case.gemeentecode, case.bsn, except_id=case.id)
    period = illness_period(signal.eerste_ziektedag, others) if problem is None else None
    if period is not None and period.same_case is not None:
        problem = "de gecorrigeerde eerste ziektedag valt in een eerdere, al gesloten ziekteperiode"
    if problem is not None:
        flag(session, row, case, f"correctie {row.bericht_id} op ziekmelding {original.bericht_id}: {problem}")
        return done(session, row, case, "flagged")

    current = {name: getattr(case, name) for name in CORRECTED_FACTS}
    new = {"eerste_ziektedag": period.eerste_ziektedag, "datum_melding": signal.datum_melding,
           "datum_einde_dienstverband": signal.datum_einde_dienstverband}
    changes = fact_changes(current, new)
    for name, (_, value) in changes.items():
        setattr(case, name, value)
    steps = {step.stap: step for step in store.steps_for(session, case)}
    old_dates = {stap: step.datum for stap, step in steps.items()}
    pa = steps.get(Stap.PROBLEEMANALYSE)
    new_steps = store.replace_steps(session, case, wvp_calendar(
        case.eerste_ziektedag, datum_ontvangst=case.datum_ontvangst, datum_melding=case.datum_melding,
        probleemanalyse_gedaan=pa.done_on if pa else None,
    ))
    moved = {s.stap.value: (old_dates.get(s.stap), s.datum) for s in new_steps if old_dates.get(s.stap) != s.datum}
    audit(session, "case.corrected", row, case, corrigeert=target.bericht_id, feiten=changes, termijnen=moved,
          reden="gegevens van de ziekmelding gecorrigeerd; WVP-termijnen opnieuw berekend")
    if target.status is not SignalStatus.INGETROKKEN:
        set_signal_status(session, target, SignalStatus.GECORRIGEERD, by=row)
    return done(session, row, case, "corrected")


def _correct_ending(
    session: Session, row: SignalRow, signal: Signal, chain: list[SignalRow], received_on: date
) -> Applied:
    target, original = chain[0], chain[-1]
    as_original = signal.model_copy(update={"soort": original.soort})
    case = _case_of(session, chain)
    if original.status is SignalStatus.INGETROKKEN or target.status is SignalStatus.INGETROKKEN:
        audit(session, "signal.noted", row, case, reden=f"bericht {target.bericht_id} is al ingetrokken")
        return done(session, row, case, "noted")
    missing = [name for name in REQUIRED_BY_SOORT[original.soort] if getattr(signal, name) is None]
    if missing:
        reason = (f"correctie {row.bericht_id} op {original.soort.value} {original.bericht_id} mist "
                  f"{', '.join(missing)}; beoordeel handmatig")
        if case is None:
            audit(session, "signal.noted", row, reden=reason)
            return done(session, row, None, "noted")
        flag(session, row, case, reason)
        return done(session, row, case, "flagged")
    chain_ids = {r.bericht_id for r in chain}
    if case is not None and case.closed_on is not None and _closer(session, case) in chain_ids:
        # The corrected signal closed this case: judge the correction as if the case were still open.
        reopened = replace(facts(case), closed_on=None, status=CaseStatus.OPEN)
        others = closed_facts(session, case.gemeentecode, case.bsn, except_id=case.id)
        effect = ending_effect(as_original, reopened, others, received_on=received_on)
        set_signal_status(session, target, SignalStatus.GECORRIGEERD, by=row)
        if effect.kind is EffectKind.CLOSE and effect.case_id == case.id:
            close(session, row, case, status=effect.status, on=effect.on, reason=effect.reason,
                  action="case.closing_corrected")
            return done(session, row, case, "corrected")
        flag(session, row, case, f"correctie {row.bericht_id}: bericht {target.bericht_id} sloot de zaak, "
                                 "de correctie niet meer; beoordeel of de zaak weer open moet")
        return done(session, row, case, "flagged")
    # The corrected signal changed nothing (yet): the correction takes its place.
    set_signal_status(session, target, SignalStatus.GECORRIGEERD, by=row)
    return apply_ending(session, row, as_original, received_on=received_on)


# --- INTREKKING --------------------------------------------------------------------------------


def apply_intrekking(session: Session, row: SignalRow, signal: Signal, *, received_on: date) -> Applied:
    """Withdraw the referenced signal and undo what it did where a clean rule says how."""
    if signal.verwijst_naar == signal.bericht_id:
        audit(session, "signal.noted", row, reden=_KRING.format(row.bericht_id))
        return done(session, row, None, "noted")
    target = store.get_signal(session, signal.verwijst_naar)
    if target is None:
        return park(session, row, _VOLGT_NIET.format(signal.verwijst_naar))
    case = session.get(Case, target.case_id) if target.case_id else None
    if _anonymised(case):
        audit(session, "signal.noted", row, reden=_GEANONIMISEERD.format(row.bericht_id))
        return done(session, row, None, "noted")
    if target.status is SignalStatus.INGETROKKEN:
        audit(session, "signal.noted", row, case, reden=f"bericht {target.bericht_id} was al ingetrokken")
        return done(session, row, case, "noted")

    others = 0
    if case is not None and target.soort is SignaalSoort.ZIEKMELDING_VANGNETTER:
        others = sum(1 for s in store.signals_for_case(session, case, soort=SignaalSoort.ZIEKMELDING_VANGNETTER)
                     if s.id != target.id and s.status is not SignalStatus.INGETROKKEN)
    closed_it = case is not None and case.closed_on is not None and _closer(session, case) == target.bericht_id
    active = store.find_active_case(session, target.gemeentecode, target.bsn) if closed_it else None
    same_person = (target.gemeentecode, target.bsn) == (signal.gemeentecode, signal.bsn)
    decision = withdrawal_effect(
        target.soort,
        applied=case is not None,
        same_person=same_person,
        other_ziekmeldingen=others,
        closed_the_case=closed_it,
        other_active_case=active is not None and active.id != case.id,
    )

    if decision is Withdrawal.FLAG:
        if same_person:  # the withdrawal itself stands; only undoing its effect needs a person
            set_signal_status(session, target, SignalStatus.INGETROKKEN, by=row)
        reason = _flag_reason(row, target, same_person=same_person)
        if case is None:
            audit(session, "signal.noted", row, reden=reason)
            return done(session, row, None, "noted")
        flag(session, row, case, reason)
        return done(session, row, case, "flagged")

    set_signal_status(session, target, SignalStatus.INGETROKKEN, by=row)
    if decision is Withdrawal.WITHDRAW_CASE:
        close(session, row, case, status=CaseStatus.INGETROKKEN, on=max(received_on, case.opened_on),
              reason=f"ziekmelding {target.bericht_id} ingetrokken", action="case.withdrawn")
        return done(session, row, case, "withdrawn")
    if decision is Withdrawal.REOPEN:
        old_status, old_closed = case.status, case.closed_on
        store.reopen_case(session, case, status=old_status if old_status is CaseStatus.HANDMATIG else CaseStatus.OPEN)
        audit(session, "case.reopened", row, case, status=(old_status, case.status), closed_on=(old_closed, None),
              reden=f"{target.soort.value} {target.bericht_id} ingetrokken: de zaak is weer open")
        return done(session, row, case, "reopened")
    # MARK_ONLY
    if target.soort is SignaalSoort.CORRECTIE and case is None:
        _restore_corrected(session, target, by=row)
    audit(session, "signal.noted", row, case, reden=f"bericht {target.bericht_id} ingetrokken; de zaak verandert niet")
    return done(session, row, case, "noted")


def _flag_reason(row: SignalRow, target: SignalRow, *, same_person: bool) -> str:
    if not same_person:
        return (f"intrekking {row.bericht_id} noemt een andere persoon of gemeente dan bericht {target.bericht_id}; "
                "beoordeel handmatig")
    if target.soort is SignaalSoort.CORRECTIE:
        return f"correctie {target.bericht_id} ingetrokken; controleer de gegevens van de zaak"
    if target.soort is SignaalSoort.INTREKKING:
        return f"intrekking {target.bericht_id} ingetrokken; beoordeel of het ingetrokken bericht weer geldt"
    return (f"{target.soort.value} {target.bericht_id} ingetrokken, maar de persoon heeft inmiddels een andere "
            "actieve zaak; beoordeel of deze zaak weer open moet")


def _restore_corrected(session: Session, correction: SignalRow, *, by: SignalRow) -> None:
    """A withdrawn correction that never acted gives the signal it had set aside its place back."""
    target = store.get_signal(session, correction.verwijst_naar) if correction.verwijst_naar else None
    if target is None or target.status is not SignalStatus.GECORRIGEERD or target.case_id is not None:
        return
    live = [s for s in store.signals_referring_to(session, target.bericht_id)
            if s.soort is SignaalSoort.CORRECTIE and s.status is not SignalStatus.INGETROKKEN]
    if not live:
        set_signal_status(session, target, SignalStatus.GEPARKEERD, by=by)
