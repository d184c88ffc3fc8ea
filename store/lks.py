"""LKS periods per person: the gemeente's own registration and what Suwinet said."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from schemas.lks import LksBron, LksPeriode
from store._sql import insert_if_absent
from store.db import utcnow
from store.models import LksRecord

_CHANGEABLE = ("einde", "loonwaarde_pct", "type_code")


def upsert_lks(session: Session, bsn: str, periode: LksPeriode) -> tuple[LksRecord, bool]:
    """Store a period of `bsn`; returns (row, created).

    A period is known by (bsn, gemeentecode, begin, bron). When it is known, einde, loonwaarde_pct and
    type_code are brought up to date (and imported_at moves only when one of them changed); no
    duplicate is made, also when two processes race.
    """
    values = {"bsn": bsn, "imported_at": utcnow(), **periode.model_dump()}
    created = insert_if_absent(session, LksRecord, values, ["bsn", "gemeentecode", "begin", "bron"])
    row = get_lks(session, bsn, periode)
    assert row is not None
    if not created and any(getattr(row, name) != getattr(periode, name) for name in _CHANGEABLE):
        for name in _CHANGEABLE:
            setattr(row, name, getattr(periode, name))
        row.imported_at = utcnow()
        session.flush()
    return row, created


def get_lks(session: Session, bsn: str, periode: LksPeriode) -> LksRecord | None:
    """The stored row for the same period (same bsn, granting gemeente, begin and source), if any."""
    stmt = select(LksRecord).where(
        LksRecord.bsn == bsn,
        LksRecord.gemeentecode == periode.gemeentecode,
        LksRecord.begin == periode.begin,
        LksRecord.bron == periode.bron,
    )
    return session.scalars(stmt).one_or_none()


def periode_from_row(row: LksRecord) -> LksPeriode:
    """A stored row as an `LksPeriode` (without the BSN)."""
    return LksPeriode(begin=row.begin, einde=row.einde, loonwaarde_pct=row.loonwaarde_pct,
                      gemeentecode=row.gemeentecode, bron=row.bron, type_code=row.type_code)


def lks_for_person(session: Session, bsn: str) -> list[LksPeriode]:
    """Every LKS period of `bsn` from every source, oldest first."""
    stmt = (
        select(LksRecord)
        .where(LksRecord.bsn == bsn)
        .order_by(LksRecord.begin, LksRecord.gemeentecode, LksRecord.bron, LksRecord.id)
    )
    return [periode_from_row(row) for row in session.scalars(stmt)]


def replace_suwinet_lks(session: Session, bsn: str, periods: Iterable[LksPeriode]) -> None:
    """Make the person's SUWINET rows exactly `periods` (Suwinet is the truth for what it reports).

    Each period is stored with bron SUWINET whatever it says; rows Suwinet no longer reports are
    removed; an empty answer (NietsGevonden) removes them all. REGISTRATIE rows are never touched.
    """
    wanted = {(p.gemeentecode, p.begin): p.model_copy(update={"bron": LksBron.SUWINET}) for p in periods}
    stale = [
        row.id
        for row in session.scalars(select(LksRecord).where(LksRecord.bsn == bsn, LksRecord.bron == LksBron.SUWINET))
        if (row.gemeentecode, row.begin) not in wanted
    ]
    if stale:
        session.execute(delete(LksRecord).where(LksRecord.id.in_(stale)),
                        execution_options={"synchronize_session": "fetch"})
    for periode in wanted.values():
        upsert_lks(session, bsn, periode)
    session.flush()
