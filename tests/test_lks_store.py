"""LKS periods in the store: upsert on (bsn, gemeentecode, begin, bron), Suwinet replace; both databases."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import store
from schemas.lks import LksBron, LksPeriode

A, B = "999990019", "999990020"


def p(begin: date, einde: date | None = None, *, bron: LksBron = LksBron.REGISTRATIE, gemeente: str = "0518",
      pct: str | None = "45.5", type_code: str | None = None) -> LksPeriode:
    return LksPeriode(begin=begin, einde=einde, gemeentecode=gemeente, bron=bron,
                      loonwaarde_pct=Decimal(pct) if pct else None, type_code=type_code)


def rows(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(store.LksRecord))


def test_upsert_creates_then_updates_in_place(session: Session):
    row, created = store.upsert_lks(session, A, p(date(2022, 1, 1)))
    first_import = row.imported_at
    assert created and row.einde is None and row.loonwaarde_pct == Decimal("45.50")
    same, created_again = store.upsert_lks(session, A, p(date(2022, 1, 1)))
    assert not created_again and same.id == row.id and same.imported_at == first_import  # nothing changed
    updated, created_third = store.upsert_lks(session, A, p(date(2022, 1, 1), date(2024, 6, 30), pct="50"))
    assert not created_third and updated.id == row.id
    assert updated.einde == date(2024, 6, 30) and updated.loonwaarde_pct == Decimal("50")
    assert updated.imported_at >= first_import
    session.commit()
    assert rows(session) == 1
    assert A not in repr(updated)


def test_same_period_from_each_source_and_gemeente_is_its_own_row(session: Session):
    store.upsert_lks(session, A, p(date(2022, 1, 1)))
    store.upsert_lks(session, A, p(date(2022, 1, 1), bron=LksBron.SUWINET))
    store.upsert_lks(session, A, p(date(2022, 1, 1), gemeente="0344"))
    store.upsert_lks(session, B, p(date(2022, 1, 1)))
    session.commit()
    assert rows(session) == 4
    assert len(store.lks_for_person(session, A)) == 3 and len(store.lks_for_person(session, B)) == 1


def test_lks_for_person_oldest_first_as_periods(session: Session):
    store.upsert_lks(session, A, p(date(2024, 1, 1), type_code="LKS"))
    store.upsert_lks(session, A, p(date(2020, 1, 1), date(2021, 1, 1), pct=None))
    session.commit()
    session.expire_all()
    assert store.lks_for_person(session, A) == [
        p(date(2020, 1, 1), date(2021, 1, 1), pct=None),
        p(date(2024, 1, 1), type_code="LKS"),
    ]
    assert store.lks_for_person(session, B) == []


def test_replace_suwinet_keeps_registration_and_follows_suwinet(session: Session):
    store.upsert_lks(session, A, p(date(2020, 1, 1)))  # registration: never touched
    store.replace_suwinet_lks(session, A, [p(date(2021, 1, 1), bron=LksBron.SUWINET),
                                           p(date(2022, 1, 1), bron=LksBron.SUWINET)])
    session.commit()
    assert [(x.begin, x.bron) for x in store.lks_for_person(session, A)] == [
        (date(2020, 1, 1), LksBron.REGISTRATIE), (date(2021, 1, 1), LksBron.SUWINET),
        (date(2022, 1, 1), LksBron.SUWINET)]

    # Suwinet now reports one period, with an end date; the period it no longer reports goes.
    # A period passed in with another bron is stored as SUWINET all the same.
    store.replace_suwinet_lks(session, A, [p(date(2022, 1, 1), date(2024, 1, 31))])
    session.commit()
    session.expire_all()
    assert [(x.begin, x.einde, x.bron) for x in store.lks_for_person(session, A)] == [
        (date(2020, 1, 1), None, LksBron.REGISTRATIE), (date(2022, 1, 1), date(2024, 1, 31), LksBron.SUWINET)]

    store.replace_suwinet_lks(session, A, [])  # NietsGevonden
    session.commit()
    assert [x.bron for x in store.lks_for_person(session, A)] == [LksBron.REGISTRATIE]
