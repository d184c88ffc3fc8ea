"""What a signal does to a person's cases (domain.md §4), decided from the signal and the case facts.

Pure: no store, no clock. The services look up the facts, ask these functions, and do the store work.
Reasons are plain Dutch and never contain a BSN.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from rules.wvp import eerste_ziektedag_van
from schemas.case import CaseStatus
from schemas.signal import EzwbUitkomst, SignaalSoort, Signal

ENDING_SOORTEN = frozenset({
    SignaalSoort.BETERMELDING, SignaalSoort.EINDE_ZW, SignaalSoort.EZWB_UITSLAG, SignaalSoort.VERHUIZING,
})
"""Kinds that act on the person's active case (close it, transfer it or only note something)."""

CORRECTED_FACTS = ("eerste_ziektedag", "datum_melding", "datum_einde_dienstverband")
"""Case facts a CORRECTIE of a ziekmelding replaces (the correction carries the full record)."""

CLOSING_ACTIONS = frozenset({"case.closed", "case.transferred", "case.withdrawn"})
"""Audit actions that close a case; `case.reopened` undoes the last one."""


@dataclass(frozen=True)
class CaseFacts:
    """What the rules need to know about one case."""

    id: int
    status: CaseStatus
    gemeentecode: str
    eerste_ziektedag: date | None
    opened_on: date
    closed_on: date | None = None
    bsn: str = field(default="", repr=False)

    @property
    def counts_as_period(self) -> bool:
        """A closed case that was a real period of illness here (not withdrawn, not moved away)."""
        return (
            self.closed_on is not None
            and self.eerste_ziektedag is not None
            and self.status not in (CaseStatus.INGETROKKEN, CaseStatus.OVERGEDRAGEN)
        )


class EffectKind(StrEnum):
    PARK = "PARK"  # no case to act on yet: wait for the ziekmelding
    CLOSE = "CLOSE"  # close (or transfer) the active case
    NOTE = "NOTE"  # record it on a case, change nothing
    FLAG = "FLAG"  # a person must look: case status HANDMATIG


@dataclass(frozen=True)
class Effect:
    """The decision for one ending signal. `case_id` is the case it concerns (None when parked);
    `link` says whether the signal belongs to that case (False: it is only noted there)."""

    kind: EffectKind
    reason: str
    case_id: int | None = None
    status: CaseStatus | None = None
    on: date | None = None
    link: bool = True


def end_date(signal: Signal) -> date | None:
    """The day an ending signal says the illness or the benefit ended; None when it names none."""
    if signal.soort is SignaalSoort.BETERMELDING:
        return signal.datum_herstel
    if signal.soort is SignaalSoort.EINDE_ZW:
        return signal.datum_einde_zw
    if signal.soort is SignaalSoort.EZWB_UITSLAG and signal.ezwb_uitkomst is EzwbUitkomst.ZW_EINDIGT:
        return signal.ezwb_datum
    return None


def ending_effect(
    signal: Signal, active: CaseFacts | None, closed: Iterable[CaseFacts], *, received_on: date
) -> Effect:
    """What a BETERMELDING, EINDE_ZW, EZWB_UITSLAG or VERHUIZING does.

    An end date inside a period that is already closed belongs to that period: noted there. An end
    date before the active case's first sick day belongs to an earlier illness: noted, the case stays
    open. Without an active case the signal waits (parked) for its ziekmelding.
    """
    if signal.soort not in ENDING_SOORTEN:
        raise ValueError(f"{signal.soort} is geen signaal dat een zaak beëindigt")
    einde = end_date(signal)
    if einde is not None:
        for case in closed:
            if case.counts_as_period and case.eerste_ziektedag <= einde <= case.closed_on:
                return Effect(EffectKind.NOTE, case_id=case.id,
                              reason=f"{_datum_naam(signal)} {einde} valt in een al gesloten ziekteperiode")
    if active is None:
        return Effect(EffectKind.PARK, reason="nog geen zaak voor deze persoon; wacht op de ziekmelding")
    if einde is not None and active.eerste_ziektedag is not None and einde < active.eerste_ziektedag:
        return Effect(EffectKind.NOTE, case_id=active.id, link=False, reason=(
            f"{_datum_naam(signal)} {einde} ligt voor de eerste ziektedag {active.eerste_ziektedag}: "
            "hoort bij een eerdere ziekteperiode; de zaak blijft open"))

    soort = signal.soort
    if soort is SignaalSoort.BETERMELDING:
        return _close(active, einde, f"herstel gemeld per {einde}")
    if soort is SignaalSoort.EINDE_ZW:
        return _close(active, einde, f"Ziektewet beëindigd per {einde} (reden {signal.reden_einde.value})")
    if soort is SignaalSoort.EZWB_UITSLAG:
        if signal.ezwb_uitkomst is EzwbUitkomst.ZW_LOOPT_DOOR:
            return Effect(EffectKind.NOTE, case_id=active.id, reason="EZWb: ZW loopt door")
        if einde is None:
            return Effect(EffectKind.FLAG, case_id=active.id,
                          reason="EZWb: ZW eindigt, maar de einddatum ontbreekt; stel die handmatig vast")
        return _close(active, einde, f"EZWb: ZW eindigt per {einde}")
    # VERHUIZING
    nieuw = signal.nieuwe_gemeentecode
    if nieuw == active.gemeentecode:
        return Effect(EffectKind.NOTE, case_id=active.id, reason=f"verhuisd binnen gemeente {nieuw}; geen gevolgen")
    return Effect(EffectKind.CLOSE, case_id=active.id, status=CaseStatus.OVERGEDRAGEN,
                  on=max(received_on, active.opened_on),
                  reason=f"verhuisd naar gemeente {nieuw}; de zaak wordt aan die gemeente overgedragen")


def _close(active: CaseFacts, on: date, reason: str) -> Effect:
    return Effect(EffectKind.CLOSE, case_id=active.id, status=CaseStatus.GESLOTEN, on=on, reason=reason)


def _datum_naam(signal: Signal) -> str:
    return {
        SignaalSoort.BETERMELDING: "datum_herstel",
        SignaalSoort.EINDE_ZW: "datum_einde_zw",
        SignaalSoort.EZWB_UITSLAG: "ezwb_datum",
    }[signal.soort]


def status_after(current: CaseStatus, wanted: CaseStatus) -> CaseStatus:
    """The status a case gets from an automatic effect: HANDMATIG stays until a person clears it."""
    return current if current is CaseStatus.HANDMATIG else wanted


@dataclass(frozen=True)
class IllnessPeriod:
    """Where a ziekmelding without an active case belongs.

    `same_case`: the id of a closed case whose period already covers its first sick day (a late
    repeat: link, open nothing). Otherwise a new case with D = `eerste_ziektedag`, which is an
    earlier day when the illness counts as one with the closed periods in `samengeteld_met` (ZW 29(5)).
    """

    eerste_ziektedag: date
    same_case: int | None = None
    samengeteld_met: tuple[int, ...] = ()


def illness_period(eerste_ziektedag: date, closed: Iterable[CaseFacts]) -> IllnessPeriod:
    """Decide D for illness starting on `eerste_ziektedag`, given the person's closed cases."""
    periods = [case for case in closed if case.counts_as_period]
    for case in sorted(periods, key=lambda c: c.closed_on, reverse=True):
        if case.eerste_ziektedag <= eerste_ziektedag < case.closed_on:
            return IllnessPeriod(eerste_ziektedag=case.eerste_ziektedag, same_case=case.id)
    earlier = [case for case in periods if case.closed_on <= eerste_ziektedag]
    d = eerste_ziektedag_van([(c.eerste_ziektedag, c.closed_on) for c in earlier] + [(eerste_ziektedag, None)])
    if d == eerste_ziektedag:
        return IllnessPeriod(eerste_ziektedag=d)
    chain = sorted((c for c in earlier if c.eerste_ziektedag >= d), key=lambda c: c.closed_on)
    return IllnessPeriod(eerste_ziektedag=d, samengeteld_met=tuple(c.id for c in chain))


def correction_problem(case: CaseFacts, correction: Signal) -> str | None:
    """Why a correction of a case's ziekmelding can't be applied automatically, or None."""
    if correction.bsn != case.bsn:
        return ("de correctie noemt een andere persoon (BSN) dan de zaak; "
                "beoordeel of de zaak bij een andere persoon hoort")
    if correction.gemeentecode != case.gemeentecode:
        return f"de correctie noemt gemeente {correction.gemeentecode}, de zaak hoort bij {case.gemeentecode}"
    if correction.eerste_ziektedag is None:
        return "de correctie van de ziekmelding mist de eerste_ziektedag"
    return None


def fact_changes(current: Mapping[str, date | None], new: Mapping[str, date | None]) -> dict[str, tuple]:
    """The corrected case facts that differ: {field: (old, new)}."""
    return {name: (current.get(name), new.get(name)) for name in CORRECTED_FACTS if current.get(name) != new.get(name)}


def last_closer(events: Iterable[tuple[str, str | None]]) -> str | None:
    """The bericht_id of the signal that closed the case last, from its audit (action, bericht_id)
    pairs in order; None when the case is open or was reopened since."""
    closer = None
    for action, bericht_id in events:
        if action in CLOSING_ACTIONS:
            closer = bericht_id
        elif action == "case.reopened":
            closer = None
    return closer


class Withdrawal(StrEnum):
    WITHDRAW_CASE = "WITHDRAW_CASE"  # close the case as INGETROKKEN
    MARK_ONLY = "MARK_ONLY"  # mark the signal withdrawn, audit, the case is unchanged
    REOPEN = "REOPEN"  # the withdrawn signal closed the case: open it again
    FLAG = "FLAG"  # a person must look: HANDMATIG


def withdrawal_effect(
    soort: SignaalSoort,
    *,
    applied: bool,
    same_person: bool,
    other_ziekmeldingen: int = 0,
    closed_the_case: bool = False,
    other_active_case: bool = False,
) -> Withdrawal:
    """What withdrawing a known signal does.

    A ziekmelding takes its case with it when it is the case's only (remaining) ziekmelding. A signal
    that never acted on a case (still parked) is simply set aside. A withdrawn ending signal that
    closed the case reopens it (the person turns out to be still ill), unless the person has another
    active case by now. Withdrawn corrections and withdrawals are for a person to judge.
    """
    if not same_person:
        return Withdrawal.FLAG
    if soort is SignaalSoort.ZIEKMELDING_VANGNETTER:
        return Withdrawal.WITHDRAW_CASE if applied and other_ziekmeldingen == 0 else Withdrawal.MARK_ONLY
    if not applied:
        return Withdrawal.MARK_ONLY
    if soort in ENDING_SOORTEN:
        if not closed_the_case:
            return Withdrawal.MARK_ONLY
        return Withdrawal.FLAG if other_active_case else Withdrawal.REOPEN
    return Withdrawal.FLAG
