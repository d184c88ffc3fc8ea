"""Dialect helpers shared by the repositories."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.models import Base


def insert_if_absent(session: Session, model: type[Base], values: dict[str, Any], conflict: list[str]) -> bool:
    """INSERT a row unless one with the same `conflict` columns exists; True when inserted.

    Race-safe: on PostgreSQL and SQLite this is INSERT ... ON CONFLICT DO NOTHING (a concurrent
    inserter of the same key makes us wait for its commit, then we see its row); elsewhere a
    SAVEPOINT absorbs the IntegrityError. Either way the surrounding transaction stays usable.
    """
    return inserted_id(session, model, values, conflict) is not None


def inserted_id(session: Session, model: type[Base], values: dict[str, Any], conflict: list[str]) -> int | None:
    """`insert_if_absent` that returns the new row's id, or None when the row existed already."""
    table = model.__table__
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
        stmt = ins.values(**values).on_conflict_do_nothing(index_elements=conflict).returning(table.c.id)
        return session.execute(stmt).scalar()
    try:
        with session.begin_nested():
            return session.execute(insert(table).values(**values)).inserted_primary_key[0]
    except IntegrityError:
        return None
