"""The outbox: external effects recorded in the deciding transaction, performed afterwards, once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store._sql import insert_if_absent
from store.db import utcnow
from store.models import OutboxItem, OutboxStatus

MAX_ERROR_CHARS = 2000


def enqueue(
    session: Session, *, effect: str, idempotency_key: str, payload: dict[str, Any], case_id: int | None = None
) -> tuple[OutboxItem, bool]:
    """Queue an effect; returns (item, created). A key seen before gives the existing item and
    created=False, so a retried run never queues the effect twice."""
    created = insert_if_absent(
        session,
        OutboxItem,
        {
            "effect": effect,
            "idempotency_key": idempotency_key,
            "payload": payload,
            "case_id": case_id,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
        },
        ["idempotency_key"],
    )
    item = session.scalars(select(OutboxItem).where(OutboxItem.idempotency_key == idempotency_key)).one()
    return item, created


def claim_outbox(session: Session, effect: str, limit: int) -> list[OutboxItem]:
    """Up to `limit` PENDING items for `effect`, oldest first, locked until the transaction ends
    (FOR UPDATE SKIP LOCKED on PostgreSQL, so concurrent workers get disjoint items)."""
    stmt = (
        select(OutboxItem)
        .where(OutboxItem.effect == effect, OutboxItem.status == OutboxStatus.PENDING)
        .order_by(OutboxItem.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def mark_outbox_done(session: Session, item: OutboxItem) -> None:
    """The effect happened."""
    item.status = OutboxStatus.DONE
    item.done_at = utcnow()
    session.flush()


def mark_outbox_failed(session: Session, item: OutboxItem, error: str, *, max_attempts: int = 5) -> None:
    """An attempt failed: count it and keep the error. The item stays PENDING (retried by the next
    claim) until `max_attempts` attempts, then becomes FAILED for an operator. `error` must not
    contain personal data."""
    item.attempts += 1
    item.last_error = error[:MAX_ERROR_CHARS]
    if item.attempts >= max_attempts:
        item.status = OutboxStatus.FAILED
    session.flush()
