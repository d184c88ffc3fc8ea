"""Shared pieces of signal handling: the result type, audit, parking, closing and flagging a case.

Every effect is written to the audit trail (the dossier, Regeling art. 4) with who (actor), what
(action, bericht_id, soort) and why (reden, old -> new values); never a BSN.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

import store
from rules.signal_effects import CaseFacts, status_after
from schemas.case import CaseStatus
from store.models import Case, SignalRow, SignalStatus

ACTOR = "vangnet/intake"
DUTCH_TIME = ZoneInfo("Europe/Amsterdam")


@dataclass(frozen=True)
class Applied:
    """What applying one signal did.

    `case` is the case it acted on or was noted on (None when parked), `case_created` whether that
    case is new, `parked` whether the signal waits. `effect` is a short code for tests and summaries
    (opened, linked, closed, noted, flagged, corrected, withdrawn, reopened, parked); `replayed` lists
    the bericht_ids of parked signals that could be applied after this one.
    """

    case: Case | None
    case_created: bool
    parked: bool
    effect: str = ""
    replayed: tuple[str, ...] = ()


def received_on_of(row: SignalRow) -> date:
    """The Dutch calendar day a stored signal reached our inbox."""
    return row.received_at.astimezone(DUTCH_TIME).date()


def facts(case: Case) -> CaseFacts:
    """The rules' view of a case."""
    return CaseFacts(id=case.id, status=case.status, gemeentecode=case.gemeentecode, bsn=case.bsn,
                     eerste_ziektedag=case.eerste_ziektedag, opened_on=case.opened_on, closed_on=case.closed_on)


def person_cases(session: Session, gemeentecode: str, bsn: str) -> tuple[Case | None, list[CaseFacts]]:
    """The person's active case (if any) and the rules' view of their closed cases, in one query."""
    cases = store.cases_for_person(session, gemeentecode, bsn)
    active = next((c for c in cases if c.closed_on is None), None)
    return active, [facts(c) for c in cases if c.closed_on is not None]


def closed_facts(session: Session, gemeentecode: str, bsn: str, *, except_id: int | None = None) -> list[CaseFacts]:
    """The rules' view of the person's closed cases."""
    return [facts(c) for c in store.cases_for_person(session, gemeentecode, bsn, closed_only=True) if c.id != except_id]


def audit(session: Session, action: str, row: SignalRow, case: Case | None = None, **details: Any) -> None:
    """Append an audit event about signal `row`; tuples in `details` are written as {oud, nieuw}."""
    body: dict[str, Any] = {"bericht_id": row.bericht_id, "soort": row.soort.value}
    if row.verwijst_naar:
        body["verwijst_naar"] = row.verwijst_naar
    body.update({key: _json(value) for key, value in details.items()})
    store.record_audit(session, actor=ACTOR, action=action, case_id=case.id if case else None, details=body)


def _json(value: Any) -> Any:
    if isinstance(value, tuple) and len(value) == 2:
        return {"oud": _json(value[0]), "nieuw": _json(value[1])}
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


def park(session: Session, row: SignalRow, reason: str) -> Applied:
    """Let the signal wait (GEPARKEERD). Audited once, not again on every retry."""
    if row.status is not SignalStatus.GEPARKEERD:
        store.mark_signal(session, row, SignalStatus.GEPARKEERD)
        audit(session, "signal.parked", row, reden=reason)
    return Applied(case=None, case_created=False, parked=True, effect="parked")


def done(session: Session, row: SignalRow, case: Case | None, effect: str, *, link: bool = True) -> Applied:
    """Mark the signal handled (VERWERKT), linked to `case` when it belongs there."""
    if case is not None and link:
        store.link_signal(session, row, case)
    store.mark_signal(session, row, SignalStatus.VERWERKT)
    return Applied(case=case, case_created=False, parked=False, effect=effect)


def set_signal_status(session: Session, target: SignalRow, status: SignalStatus, by: SignalRow) -> None:
    """Mark another signal corrected or withdrawn by `by`; audited only when it changes."""
    if target.status is status:
        return
    old = target.status
    store.mark_signal(session, target, status)
    case = session.get(Case, target.case_id) if target.case_id else None
    audit(session, "signal.status", by, case, betreft=target.bericht_id, status=(old, status))


def close(session: Session, row: SignalRow, case: Case, *, status: CaseStatus, on: date, reason: str,
          action: str = "case.closed") -> None:
    """Close `case` because of `row` (a HANDMATIG case keeps that status)."""
    old_status, old_closed = case.status, case.closed_on
    new_status = status_after(case.status, status)
    store.close_case(session, case, on=on, reason=reason, status=new_status)
    audit(session, action, row, case, status=(old_status, new_status), closed_on=(old_closed, on), reden=reason)


def flag(session: Session, row: SignalRow, case: Case, reason: str) -> None:
    """Hand `case` to a person (HANDMATIG) with `reason`."""
    old_status, old_reden = case.status, case.reden
    store.flag_case(session, case, reason=reason)
    audit(session, "case.flagged", row, case, status=(old_status, CaseStatus.HANDMATIG),
          reden_zaak=(old_reden, reason), reden=reason)
