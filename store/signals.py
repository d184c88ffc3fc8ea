"""Parsed signals, idempotent on bericht_id."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, event, or_, select
from sqlalchemy.orm import Session, make_transient_to_detached

from schemas.signal import SIGNAL_FIELDS, SignaalSoort, Signal
from store._sql import inserted_id
from store.models import Case, SignalRow, SignalStatus


def add_signal(session: Session, signal: Signal, *, inbox_id: int, received_at: datetime) -> tuple[SignalRow, bool]:
    """Store a signal; returns (row, created). A bericht_id seen before gives the existing row and
    created=False, even when two processes race. The stored row is not compared with `signal`:
    a different message under a known bericht_id is the caller's problem to report."""
    values = signal.model_dump()
    values.update(inbox_id=inbox_id, received_at=received_at, status=SignalStatus.NIEUW)
    new_id = inserted_id(session, SignalRow, values, ["bericht_id"])
    if new_id is None:
        row = get_signal(session, signal.bericht_id)
        assert row is not None
        return row, False
    # Every column is known: the new row joins the session without being read back.
    row = SignalRow(id=new_id, case_id=None, **values)
    make_transient_to_detached(row)
    session.add(row)
    return row, True


def get_signal(session: Session, bericht_id: str) -> SignalRow | None:
    """The signal with this bericht_id (e.g. the one a CORRECTIE or INTREKKING refers to)."""
    return session.scalars(select(SignalRow).where(SignalRow.bericht_id == bericht_id)).one_or_none()


def link_signal(session: Session, signal_row: SignalRow, case: Case) -> None:
    """Attach a signal to its case (written at the next flush: the savepoint's end or the next query)."""
    signal_row.case_id = case.id


def mark_signal(session: Session, signal_row: SignalRow, status: SignalStatus) -> None:
    """Set a signal's status (VERWERKT once handled, GEPARKEERD while waiting, e.g. out of order,
    GECORRIGEERD when a correction replaced it, INGETROKKEN when withdrawn). Written at the next flush
    (autoflush before any query, or the savepoint's end), so a link and a status are one UPDATE."""
    signal_row.status = SignalStatus(status)
    if signal_row.status is SignalStatus.GEPARKEERD:
        _note_parked(session, signal_row)


def signal_from_row(signal_row: SignalRow) -> Signal:
    """The stored signal as a `Signal` again (e.g. to apply a parked one later)."""
    return Signal.model_validate({name: getattr(signal_row, name) for name in SIGNAL_FIELDS})


def parked_signals(
    session: Session, *, persons: Iterable[tuple[str, str]] = (), refs: Iterable[str] = (), every: bool = False
) -> list[SignalRow]:
    """GEPARKEERD signals of these (gemeentecode, bsn) persons or referring (verwijst_naar) to one of
    `refs` (or `every` parked signal), in volgnummer order."""
    stmt = select(SignalRow).where(SignalRow.status == SignalStatus.GEPARKEERD)
    if not every:
        persons, refs = _could_be_parked(session, set(persons), set(refs))
        conditions = [and_(SignalRow.gemeentecode == g, SignalRow.bsn == b) for g, b in persons]
        if refs:
            conditions.append(SignalRow.verwijst_naar.in_(sorted(refs)))
        if not conditions:
            return []
        stmt = stmt.where(or_(*conditions))
    return list(session.scalars(stmt.order_by(SignalRow.volgnummer, SignalRow.id)))


def signals_for_case(session: Session, case: Case, *, soort: SignaalSoort | None = None) -> list[SignalRow]:
    """The signals linked to a case (optionally of one kind), in volgnummer order."""
    stmt = select(SignalRow).where(SignalRow.case_id == case.id).order_by(SignalRow.volgnummer, SignalRow.id)
    if soort is not None:
        stmt = stmt.where(SignalRow.soort == SignaalSoort(soort))
    return list(session.scalars(stmt))


def signals_referring_to(session: Session, bericht_id: str) -> list[SignalRow]:
    """Signals whose verwijst_naar is `bericht_id` (its corrections and withdrawals)."""
    stmt = select(SignalRow).where(SignalRow.verwijst_naar == bericht_id).order_by(SignalRow.volgnummer)
    return list(session.scalars(stmt))


# Intake asks after every applied signal whether parked signals were waiting for it; nearly always none
# were. A transaction's Session therefore keeps the persons and references of the parked signals (read
# once, kept up to date by mark_signal) and only queries for those that can match. A signal parked by
# another worker after that read (or in its not yet committed transaction) is retried by the sweep at the
# end of a drained batch (services.intake.process_inbox_batch).
_PARKED_KEY = "vangnet.parked_index"


def _parked_index(session: Session) -> tuple[set[tuple[str, str]], set[str]]:
    index = session.info.get(_PARKED_KEY)
    if index is None:
        rows = session.execute(select(SignalRow.gemeentecode, SignalRow.bsn, SignalRow.verwijst_naar)
                               .where(SignalRow.status == SignalStatus.GEPARKEERD))
        index = (set(), set())
        for gemeentecode, bsn, verwijst_naar in rows:
            index[0].add((gemeentecode, bsn))
            if verwijst_naar:
                index[1].add(verwijst_naar)
        session.info[_PARKED_KEY] = index
    return index


def _note_parked(session: Session, row: SignalRow) -> None:
    if _PARKED_KEY in session.info:
        persons, refs = session.info[_PARKED_KEY]
        persons.add((row.gemeentecode, row.bsn))
        if row.verwijst_naar:
            refs.add(row.verwijst_naar)


def _could_be_parked(session: Session, persons: set[tuple[str, str]], refs: set[str]):
    parked_persons, parked_refs = _parked_index(session)
    return persons & parked_persons, refs & parked_refs


@event.listens_for(Session, "after_transaction_end")
def _forget_parked_index(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction: the next one reads afresh
        session.info.pop(_PARKED_KEY, None)
