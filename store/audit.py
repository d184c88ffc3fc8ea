"""The audit trail: part of the legally required dossier, so append-only.

The ORM guard below refuses UPDATE and DELETE of AuditEvent rows in any Session (flush and bulk
statements); the migration adds a database trigger that refuses them from raw SQL too.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session

from store.models import AuditEvent


class AuditAppendOnlyError(RuntimeError):
    """Raised on an attempt to change or remove an audit event."""


def record_audit(
    session: Session, *, actor: str, action: str, case_id: int | None = None, details: dict[str, Any] | None = None
) -> AuditEvent:
    """Append an event. `details` must be JSON-serialisable (dates as ISO strings). It is written at the
    next flush (before the next query, a savepoint's end or the commit), with the changes it describes."""
    row = AuditEvent(actor=actor, action=action, case_id=case_id, details=details)
    session.add(row)
    return row


def audit_for_case(session: Session, case_id: int) -> list[AuditEvent]:
    """A case's events in the order they happened."""
    stmt = select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.at, AuditEvent.id)
    return list(session.scalars(stmt))


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, _flush_context: Any, _instances: Any) -> None:
    for obj in session.deleted:
        if isinstance(obj, AuditEvent):
            raise AuditAppendOnlyError("audit events cannot be deleted")
    for obj in session.dirty:
        if isinstance(obj, AuditEvent) and session.is_modified(obj, include_collections=False):
            raise AuditAppendOnlyError("audit events cannot be changed")


@event.listens_for(Session, "do_orm_execute")
def _refuse_audit_bulk(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and any(m.class_ is AuditEvent for m in state.all_mappers):
        raise AuditAppendOnlyError("audit events cannot be changed or deleted")
