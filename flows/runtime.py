"""Per-process wiring: settings → database engine and partner clients, built once and reused by tasks."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy.engine import Engine

import store
from flows.errors import VangnetError
from flows.settings import Settings


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One engine (connection pool) per database URL per process."""
    return store.make_engine(url)


def migrated_engine(settings: Settings) -> Engine:
    """The store's engine, refusing to run on a database whose schema is behind the code."""
    url = settings.resolved_database_url
    if not store.is_up_to_date(url):
        raise VangnetError(
            f"The database at {store.safe_url(url)} is not at the current schema version.",
            hint="Run `vangnet db upgrade` (the demo does this itself).",
        )
    return engine_for(url)
