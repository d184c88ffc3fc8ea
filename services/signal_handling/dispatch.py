"""Apply one signal, then the parked signals that were waiting for it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date

from sqlalchemy.orm import Session

import store
from schemas.signal import SignaalSoort, Signal
from services.signal_handling.common import Applied, received_on_of
from services.signal_handling.endings import apply_ending
from services.signal_handling.references import apply_correctie, apply_intrekking
from services.signal_handling.ziekmelding import apply_ziekmelding
from store.models import SignalRow, SignalStatus

_HANDLERS = {
    SignaalSoort.ZIEKMELDING_VANGNETTER: apply_ziekmelding,
    SignaalSoort.BETERMELDING: apply_ending,
    SignaalSoort.EINDE_ZW: apply_ending,
    SignaalSoort.EZWB_UITSLAG: apply_ending,
    SignaalSoort.VERHUIZING: apply_ending,
    SignaalSoort.CORRECTIE: apply_correctie,
    SignaalSoort.INTREKKING: apply_intrekking,
}


def apply_signal(session: Session, row: SignalRow, signal: Signal, *, received_on: date) -> Applied:
    """Apply a stored, valid signal to the cases; `received_on` is the day it reached our inbox.

    When it acted (was not parked), the parked signals it may have been holding up are applied too:
    those of the same person and those referring to it, in volgnummer order, until none moves.
    """
    applied = _HANDLERS[signal.soort](session, row, signal, received_on=received_on)
    if applied.parked:
        return applied
    persons = {(row.gemeentecode, row.bsn)}
    if applied.case is not None:
        persons.add((applied.case.gemeentecode, applied.case.bsn))
    return replace(applied, replayed=replay_parked(session, persons=persons, refs={row.bericht_id}))


def replay_parked(session: Session, *, persons: Iterable[tuple[str, str]] = (), refs: Iterable[str] = (),
                  every: bool = False) -> tuple[str, ...]:
    """Try the parked signals of `persons` and those referring to `refs` (or `every` parked signal: the
    sweep) again; returns the bericht_ids that could now be applied."""
    persons, refs = set(persons), set(refs)
    replayed: list[str] = []
    while True:
        moved = False
        for row in store.parked_signals(session, persons=persons, refs=refs, every=every):
            if row.status is not SignalStatus.GEPARKEERD:  # withdrawn earlier in this pass
                continue
            signal = store.signal_from_row(row)
            applied = _HANDLERS[signal.soort](session, row, signal, received_on=received_on_of(row))
            if applied.parked:
                continue
            moved = True
            replayed.append(row.bericht_id)
            refs.add(row.bericht_id)
            persons.add((row.gemeentecode, row.bsn))
            if applied.case is not None:
                persons.add((applied.case.gemeentecode, applied.case.bsn))
        if not moved:
            return tuple(replayed)
