"""Parsed signals, idempotent on bericht_id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.signal import Signal
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
    """Attach a signal to its case."""
    signal_row.case_id = case.id
    session.flush()


def mark_signal(session: Session, signal_row: SignalRow, status: SignalStatus) -> None:
    """Set a signal's status (VERWERKT once handled, GEPARKEERD while waiting, e.g. out of order)."""
    signal_row.status = SignalStatus(status)
    session.flush()
