"""Raw inbound messages (stored first, before parsing), intake cursors and quarantine."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store._sql import insert_if_absent
from store.db import utcnow
from store.models import InboxMessage, InboxStatus, IntakeCursor, QuarantineRow


def add_raw(
    session: Session,
    *,
    source: str,
    payload: bytes,
    received_at: datetime,
    content_type: str = "application/xml",
    message_key: str | None = None,
) -> tuple[InboxMessage, bool]:
    """Store a raw message; returns (row, created). The same bytes from the same source give the
    existing row and created=False (no error), also when two processes race."""
    digest = hashlib.sha256(payload).hexdigest()
    created = insert_if_absent(
        session,
        InboxMessage,
        {
            "source": source,
            "content_sha256": digest,
            "payload": payload,
            "content_type": content_type,
            "message_key": message_key,
            "received_at": received_at,
            "status": InboxStatus.NEW,
        },
        ["source", "content_sha256"],
    )
    row = session.scalars(
        select(InboxMessage).where(InboxMessage.source == source, InboxMessage.content_sha256 == digest)
    ).one()
    return row, created


def claim_inbox(session: Session, source: str, limit: int) -> list[InboxMessage]:
    """Up to `limit` NEW messages of `source`, oldest first, locked until the transaction ends.

    On PostgreSQL rows locked by another worker are skipped (FOR UPDATE SKIP LOCKED), so concurrent
    workers get disjoint batches. Mark each one (mark_inbox) and commit in the same transaction.
    SQLite has no row locks; its BEGIN IMMEDIATE (store.db) serialises whole transactions instead.
    """
    stmt = (
        select(InboxMessage)
        .where(InboxMessage.source == source, InboxMessage.status == InboxStatus.NEW)
        .order_by(InboxMessage.received_at, InboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def count_new(session: Session, source: str) -> int:
    """How many messages of `source` wait to be processed."""
    return session.scalar(select(func.count()).select_from(InboxMessage).where(
        InboxMessage.source == source, InboxMessage.status == InboxStatus.NEW))


def mark_inbox(session: Session, msg: InboxMessage, status: InboxStatus, reason: str | None = None) -> None:
    """Set a message's status (and a reason a person understands); stamps processed_at unless NEW.

    Written at the next flush (autoflush before a query, the savepoint's end or the commit)."""
    msg.status = InboxStatus(status)
    msg.status_reason = reason
    msg.processed_at = None if msg.status is InboxStatus.NEW else utcnow()


def get_cursor(session: Session, source: str) -> int:
    """The last volgnummer taken in from `source`, 0 when none yet."""
    row = session.get(IntakeCursor, source)
    return row.last_volgnummer if row else 0


def set_cursor(session: Session, source: str, value: int) -> None:
    """Record the last volgnummer taken in from `source` (an operator may also move it back)."""
    if value < 0:
        raise ValueError("cursor must be >= 0")
    row = session.get(IntakeCursor, source, with_for_update=True)
    if row is None:
        session.add(IntakeCursor(source=source, last_volgnummer=value, updated_at=utcnow()))
    else:
        row.last_volgnummer = value
    session.flush()


def quarantine(session: Session, *, inbox_id: int, reason: str, bericht_id: str | None = None) -> QuarantineRow:
    """Park a record that could not be processed. `reason` must be readable and free of personal data.

    This does not change the inbox message's status (one message may hold several records);
    call mark_inbox for that.
    """
    row = QuarantineRow(inbox_id=inbox_id, reason=reason, bericht_id=bericht_id)
    session.add(row)
    session.flush()
    return row


def list_quarantine(session: Session, unresolved_only: bool = True) -> list[QuarantineRow]:
    """Quarantined records, oldest first."""
    stmt = select(QuarantineRow).order_by(QuarantineRow.id)
    if unresolved_only:
        stmt = stmt.where(QuarantineRow.resolved_at.is_(None))
    return list(session.scalars(stmt))


def resolve_quarantine(session: Session, row: QuarantineRow, resolution: str) -> None:
    """Close a quarantine entry with what was done about it."""
    row.resolution = resolution
    row.resolved_at = utcnow()
    session.flush()
