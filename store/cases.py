"""Cases and their WVP steps."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from schemas.case import CaseStatus, Stap, Termijn
from store.models import CASE_REF_PREFIX, Case, WvpStep

_REF = re.compile(rf"^(?:{CASE_REF_PREFIX})?(\d+)$", re.IGNORECASE)
_STAP_ORDER = {stap: i for i, stap in enumerate(Stap)}


def parse_case_ref(ref_or_id: str | int) -> int:
    """The case id for "VN-000012", "12" or 12; ValueError for anything else."""
    if isinstance(ref_or_id, int) and not isinstance(ref_or_id, bool):
        return ref_or_id
    match = _REF.match(str(ref_or_id).strip())
    if not match:
        raise ValueError(f"not a case reference: expected {CASE_REF_PREFIX}000012 or a number")
    return int(match.group(1))


def find_active_case(session: Session, gemeentecode: str, bsn: str) -> Case | None:
    """The person's case that is not closed yet, if any."""
    stmt = select(Case).where(Case.gemeentecode == gemeentecode, Case.bsn == bsn, Case.closed_on.is_(None))
    return session.scalars(stmt).one_or_none()


def cases_for_person(session: Session, gemeentecode: str, bsn: str, *, closed_only: bool = False) -> list[Case]:
    """All of the person's cases (or only the closed ones), oldest first."""
    stmt = select(Case).where(Case.gemeentecode == gemeentecode, Case.bsn == bsn).order_by(Case.id)
    if closed_only:
        stmt = stmt.where(Case.closed_on.is_not(None))
    return list(session.scalars(stmt))


def create_case(session: Session, **fields: Any) -> Case:
    """Insert a case (fields are Case columns). Raises IntegrityError when the person already has an
    active case; the surrounding transaction stays usable (the insert runs in a SAVEPOINT)."""
    case = Case(**fields)
    with session.begin_nested():
        session.add(case)
    return case


def get_case(session: Session, ref_or_id: str | int) -> Case | None:
    """A case by reference ("VN-000012") or id; None when it does not exist or `ref_or_id` is no reference."""
    try:
        return session.get(Case, parse_case_ref(ref_or_id))
    except ValueError:
        return None


def list_cases(
    session: Session, *, status: CaseStatus | str | None = None, limit: int | None = None, offset: int = 0,
    newest_first: bool = False,
) -> list[Case]:
    """Cases ordered by id (oldest first, or newest first), optionally only those with `status`;
    `limit`/`offset` give one page (the id order makes pages stable)."""
    stmt = select(Case).order_by(Case.id.desc() if newest_first else Case.id).offset(offset).limit(limit)
    if status is not None:
        stmt = stmt.where(Case.status == CaseStatus(status))
    return list(session.scalars(stmt))


def close_case(
    session: Session, case: Case, *, on: date, reason: str, status: CaseStatus = CaseStatus.GESLOTEN
) -> None:
    """Close a case (it stops being the person's active case)."""
    case.closed_on = on
    case.closed_reason = reason
    case.status = CaseStatus(status)
    session.flush()


def reopen_case(session: Session, case: Case, *, status: CaseStatus = CaseStatus.OPEN) -> None:
    """Make a closed case active again. Raises IntegrityError (transaction still usable) when the
    person has another active case: check with find_active_case first."""
    with session.begin_nested():
        case.closed_on = None
        case.closed_reason = None
        case.status = CaseStatus(status)
        session.flush()


def flag_case(session: Session, case: Case, *, reason: str) -> None:
    """Hand a case to a person: status HANDMATIG, `reden` says what to look at. Closed stays closed."""
    case.status = CaseStatus.HANDMATIG
    case.reden = reason
    session.flush()


def replace_steps(session: Session, case: Case, termijnen: list[Termijn]) -> list[WvpStep]:
    """Make the case's steps match `termijnen`, returning them in calendar order.

    Existing steps get the new dates but keep what happened (done_on, deviation_*; a deviated step keeps
    its agreed date and only gets the new legal date). Steps missing
    from `termijnen` are removed unless something was recorded on them.
    """
    existing = {step.stap: step for step in steps_for(session, case)}
    wanted = {t.stap for t in termijnen}
    result: dict[Stap, WvpStep] = {}
    for termijn in termijnen:
        step = existing.get(termijn.stap)
        if step is None:
            step = WvpStep(case_id=case.id, stap=termijn.stap)
            session.add(step)
        result[termijn.stap] = step
        if step.deviation_reason is None:  # an agreed art. 7 deviation keeps its date
            step.datum = termijn.datum
            step.onverwijld = termijn.onverwijld
        step.wettelijke_datum = termijn.wettelijke_datum
        step.gemeente_verantwoordelijk = termijn.gemeente_verantwoordelijk
    for stap, step in existing.items():
        if stap not in wanted and step.done_on is None and step.deviation_reason is None:
            session.delete(step)
        else:
            result[stap] = step
    session.flush()
    # `result` is exactly what steps_for would read back now; no second query.
    return sorted(result.values(), key=lambda step: _STAP_ORDER[step.stap])


def add_steps(session: Session, case: Case, termijnen: list[Termijn]) -> None:
    """The calendar of a case that has no steps yet (a new case), in one multi-row INSERT."""
    session.execute(insert(WvpStep), [
        {"case_id": case.id, "stap": t.stap, "datum": t.datum, "wettelijke_datum": t.wettelijke_datum,
         "onverwijld": t.onverwijld, "gemeente_verantwoordelijk": t.gemeente_verantwoordelijk}
        for t in termijnen])


def steps_for(session: Session, case: Case) -> list[WvpStep]:
    """The case's steps in calendar order (the order of the Stap enum)."""
    rows = session.scalars(select(WvpStep).where(WvpStep.case_id == case.id))
    return sorted(rows, key=lambda step: _STAP_ORDER[step.stap])
