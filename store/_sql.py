"""Dialect helpers shared by the repositories."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Table, TextClause, bindparam, insert, text
from sqlalchemy.engine import Dialect
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
    dialect = session.get_bind().dialect
    if dialect.name in ("postgresql", "sqlite"):
        values = _with_defaults(table, values)
        return session.execute(_insert_ignoring(dialect, table, tuple(sorted(values)), tuple(conflict)), values).scalar()
    try:
        with session.begin_nested():
            return session.execute(insert(table).values(**values)).inserted_primary_key[0]
    except IntegrityError:
        return None


# SQLAlchemy 2.0 cannot cache its dialect INSERT ... ON CONFLICT constructs, so it compiled one for every
# inbox message, signal and outbox item (a fifth of the signal core's time). The same statement as text with
# typed parameters is compiled once per table and set of columns.
@lru_cache(maxsize=64)
def _insert_ignoring(dialect: Dialect, table: Table, columns: tuple[str, ...], conflict: tuple[str, ...]) -> TextClause:
    quote = dialect.identifier_preparer.quote
    sql = (f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({', '.join(quote(c) for c in columns)}) "
           f"VALUES ({', '.join(':' + c for c in columns)}) "
           f"ON CONFLICT ({', '.join(quote(c) for c in conflict)}) DO NOTHING RETURNING {quote('id')}")
    return text(sql).bindparams(*[bindparam(c, type_=table.c[c].type) for c in columns])


def _with_defaults(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """`values` plus the Python-side defaults of the columns it leaves out (text SQL doesn't apply them)."""
    missing = [c for c in table.columns if c.name not in values and c.default is not None]
    if not missing:
        return values
    values = dict(values)
    for column in missing:
        default = column.default
        values[column.name] = default.arg(None) if default.is_callable else default.arg
    return values
