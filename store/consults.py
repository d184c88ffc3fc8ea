"""Bedrijfsarts consults and their advice (after the medical-data guard).

One Consult row per attempt: a no-show or a cancellation by the arbodienst ends that row and a new
attempt (attempt + 1, its own idempotency key) is made, so the history stays visible.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from schemas.case import Besluit, CaseStatus, Stap
from store._sql import insert_if_absent
from store.models import Case, Consult, ConsultAdvice, ConsultPurpose, OutboxItem, OutboxStatus, WvpStep
from store.outbox import enqueue

BOOK_EFFECT = "consult.book"


class ConsultStatus(StrEnum):
    """Where a consult stands (stored as text in `consults.status`)."""

    TE_BOEKEN = "TE_BOEKEN"
    GEBOEKT = "GEBOEKT"
    GEHOUDEN = "GEHOUDEN"  # the consult took place; the advice is awaited
    AFGEROND = "AFGEROND"  # the advice is stored
    NO_SHOW = "NO_SHOW"
    GEANNULEERD = "GEANNULEERD"  # cancelled by us
    GEANNULEERD_DOOR_ARBODIENST = "GEANNULEERD_DOOR_ARBODIENST"
    CONTROLEREN = "CONTROLEREN"  # the arbodienst refused something: a person checks (see `outcome`)


LIVE = (ConsultStatus.TE_BOEKEN, ConsultStatus.GEBOEKT)
"""A booking that may still happen (and must be cancelled when the case closes)."""
ACTIVE = (*LIVE, ConsultStatus.GEHOUDEN, ConsultStatus.AFGEROND, ConsultStatus.CONTROLEREN)
"""While a case has one of these for a purpose, no new consult is planned for it."""


def consult_key(case_ref: str, purpose: ConsultPurpose | str, attempt: int) -> str:
    """The consult's idempotency key, sent as Idempotency-Key when booking: `consult:VN-000001:probleemanalyse:1`."""
    return f"consult:{case_ref}:{ConsultPurpose(purpose).value}:{attempt}"


def next_attempt(session: Session, case_id: int, purpose: ConsultPurpose) -> int:
    """1 for the first consult of this purpose, else one more than the highest attempt so far."""
    stmt = select(func.max(Consult.attempt)).where(Consult.case_id == case_id, Consult.purpose == purpose)
    return (session.scalar(stmt) or 0) + 1


def create_consult(
    session: Session, case: Case, *, purpose: ConsultPurpose, latest_date: date | None, attempt: int | None = None
) -> tuple[Consult, bool]:
    """A TE_BOEKEN consult for the next attempt (or `attempt`); returns (consult, created). Two workers
    planning the same attempt make one row: the key is unique and the insert skips an existing one."""
    attempt = attempt or next_attempt(session, case.id, purpose)
    key = consult_key(case.ref, purpose, attempt)
    created = insert_if_absent(session, Consult, {
        "case_id": case.id, "purpose": purpose, "status": ConsultStatus.TE_BOEKEN.value, "latest_date": latest_date,
        "attempt": attempt, "idempotency_key": key,
    }, ["idempotency_key"])
    return session.scalars(select(Consult).where(Consult.idempotency_key == key)).one(), created


def cases_needing_probleemanalyse(session: Session, *, limit: int, after_id: int = 0) -> list[tuple[Case, WvpStep]]:
    """Open, taken-over cases whose probleemanalyse is not done and that have no active consult for it."""
    active = exists().where(
        Consult.case_id == Case.id, Consult.purpose == ConsultPurpose.PROBLEEMANALYSE,
        Consult.status.in_([s.value for s in ACTIVE]),
    )
    stmt = (
        select(Case, WvpStep)
        .join(WvpStep, and_(WvpStep.case_id == Case.id, WvpStep.stap == Stap.PROBLEEMANALYSE))
        .where(Case.status == CaseStatus.OPEN, Case.closed_on.is_(None), Case.besluit == Besluit.OVERNAME,
               WvpStep.done_on.is_(None), ~active, Case.id > after_id)
        .order_by(Case.id)
        .limit(limit)
    )
    return [(case, step) for case, step in session.execute(stmt)]


def claim_consults(
    session: Session,
    statuses: Iterable[ConsultStatus],
    *,
    limit: int | None = None,
    after_id: int = 0,
    ids: Iterable[int] | None = None,
    case_closed: bool | None = None,
) -> list[Consult]:
    """Consults with one of `statuses` (and id > after_id, or among `ids`), oldest first, locked until the
    transaction ends (FOR UPDATE SKIP LOCKED on PostgreSQL: concurrent workers get disjoint consults).
    `case_closed` True/False keeps only consults of closed/not closed cases."""
    stmt = (
        select(Consult)
        .where(Consult.status.in_([ConsultStatus(s).value for s in statuses]), Consult.id > after_id)
        .order_by(Consult.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Consult)
    )
    if ids is not None:
        stmt = stmt.where(Consult.id.in_(list(ids)))
    if case_closed is not None:
        closed = Case.closed_on.is_not(None) if case_closed else Case.closed_on.is_(None)
        stmt = stmt.join(Case, Case.id == Consult.case_id).where(closed)
    return list(session.scalars(stmt))


def set_consult_status(session: Session, consult: Consult, status: ConsultStatus, *, outcome: str | None = None) -> None:
    """Move a consult to `status`; `outcome` (plain Dutch, no personal data) says why when it matters."""
    consult.status = ConsultStatus(status).value
    if outcome is not None:
        consult.outcome = outcome
    session.flush()


def mark_consult_booked(session: Session, consult: Consult, *, booking_ref: str, slot_start: datetime) -> None:
    """The arbodienst booked the consult: GEBOEKT with its booking id and start."""
    consult.booking_ref = booking_ref
    consult.slot_start = slot_start
    set_consult_status(session, consult, ConsultStatus.GEBOEKT)


def booking_intent(session: Session, consult: Consult) -> OutboxItem | None:
    """The pending booking request of a consult (outbox effect `consult.book`), if one was written."""
    stmt = select(OutboxItem).where(OutboxItem.idempotency_key == f"{BOOK_EFFECT}:{consult.idempotency_key}",
                                    OutboxItem.status == OutboxStatus.PENDING)
    return session.scalars(stmt).one_or_none()


def record_booking_intent(
    session: Session, consult: Consult, request: dict[str, Any], *, replacing: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Write down the exact booking request before it is sent (no BSN in it), so that after a crash the
    same request goes out again with the same Idempotency-Key. Returns the request to send.

    Compare-and-set: a pending request is replaced only when it is `replacing` (ours, refused with 409,
    which does not bind the key at the arbodienst); when another worker wrote a different one meanwhile,
    that one is returned and must be sent instead.
    """
    current = booking_intent(session, consult)
    if current is not None and current.payload != replacing:
        return dict(current.payload)
    key = f"{BOOK_EFFECT}:{consult.idempotency_key}"
    item, created = enqueue(session, effect=BOOK_EFFECT, idempotency_key=key, payload=request,
                            case_id=consult.case_id)
    if not created:
        item.payload = dict(request)
        item.status = OutboxStatus.PENDING
        session.flush()
    return dict(request)


def count_no_shows(session: Session, case_id: int, purpose: ConsultPurpose) -> int:
    """How many attempts of this purpose the vangnetter did not come to."""
    stmt = select(func.count()).select_from(Consult).where(
        Consult.case_id == case_id, Consult.purpose == purpose, Consult.status == ConsultStatus.NO_SHOW.value)
    return session.scalar(stmt) or 0


def store_advice(
    session: Session, consult: Consult, *, advice: dict[str, Any], dropped_fields: int, guard_version: str
) -> tuple[ConsultAdvice, bool]:
    """Keep the guarded advice of a consult (once: a second call returns the stored row, created=False).
    `advice` must be the guard's `kept` part only."""
    created = insert_if_absent(session, ConsultAdvice, {
        "consult_id": consult.id, "advice": advice, "dropped_fields": dropped_fields, "guard_version": guard_version,
    }, ["consult_id"])
    return session.scalars(select(ConsultAdvice).where(ConsultAdvice.consult_id == consult.id)).one(), created


def advice_for(session: Session, consult_id: int) -> ConsultAdvice | None:
    """The stored advice of a consult, if any."""
    return session.scalars(select(ConsultAdvice).where(ConsultAdvice.consult_id == consult_id)).one_or_none()


def finished_without_step_done(session: Session, *, limit: int) -> list[tuple[Consult, Case]]:
    """Probleemanalyse consults with stored advice whose WVP step is not marked done yet."""
    stmt = (
        select(Consult, Case)
        .join(Case, Case.id == Consult.case_id)
        .join(WvpStep, and_(WvpStep.case_id == Case.id, WvpStep.stap == Stap.PROBLEEMANALYSE))
        .where(Consult.purpose == ConsultPurpose.PROBLEEMANALYSE, Consult.status == ConsultStatus.AFGEROND.value,
               WvpStep.done_on.is_(None))
        .order_by(Consult.id)
        .limit(limit)
    )
    return [(consult, case) for consult, case in session.execute(stmt)]


def list_consults(
    session: Session, *, case_id: int | None = None, statuses: Iterable[ConsultStatus] | None = None,
    limit: int | None = None,
) -> list[Consult]:
    """Consults ordered by case and attempt, optionally of one case or with given statuses."""
    stmt = select(Consult).order_by(Consult.case_id, Consult.purpose, Consult.attempt).limit(limit)
    if case_id is not None:
        stmt = stmt.where(Consult.case_id == case_id)
    if statuses is not None:
        stmt = stmt.where(Consult.status.in_([ConsultStatus(s).value for s in statuses]))
    return list(session.scalars(stmt))
