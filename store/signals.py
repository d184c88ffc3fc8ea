"""Parsed signals, idempotent on bericht_id."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from schemas.signal import SIGNAL_FIELDS, SignaalSoort, Signal
from store._sql import insert_if_absent
from store.models import Case, SignalRow, SignalStatus


def add_signal(session: Session, signal: Signal, *, inbox_id: int, received_at: datetime) -> tuple[SignalRow, bool]:
    """Store a signal; returns (row, created). A bericht_id seen before gives the existing row and
    created=False, even when two processes race. The stored row is not compared with `signal`:
    a different message under a known bericht_id is the caller's problem to report."""
    values = signal.model_dump()
    values.update(inbox_id=inbox_id, received_at=received_at, status=SignalStatus.NIEUW)
    created = insert_if_absent(session, SignalRow, values, ["bericht_id"])
    row = get_signal(session, signal.bericht_id)
    assert row is not None
    return row, created


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


def signal_from_row(signal_row: SignalRow) -> Signal:
    """The stored signal as a `Signal` again (e.g. to apply a parked one later)."""
    return Signal.model_validate({name: getattr(signal_row, name) for name in SIGNAL_FIELDS})


def parked_signals(
    session: Session, *, persons: Iterable[tuple[str, str]] = (), refs: Iterable[str] = ()
) -> list[SignalRow]:
    """GEPARKEERD signals of these (gemeentecode, bsn) persons or referring (verwijst_naar) to one of
    `refs`, in volgnummer order."""
    conditions = [and_(SignalRow.gemeentecode == g, SignalRow.bsn == b) for g, b in set(persons)]
    refs = sorted(set(refs))
    if refs:
        conditions.append(SignalRow.verwijst_naar.in_(refs))
    if not conditions:
        return []
    stmt = (
        select(SignalRow)
        .where(SignalRow.status == SignalStatus.GEPARKEERD, or_(*conditions))
        .order_by(SignalRow.volgnummer, SignalRow.id)
    )
    return list(session.scalars(stmt))


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
