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


_ib_clients: dict[str, object] = {}


def ib_client(settings: Settings, *, endpoint: str | None = None):
    """The IB connector for `endpoint` (default: settings), built once per process."""
    from connectors.inlichtingenbureau import IbClient, IbSettings

    endpoint = endpoint or settings.ib_endpoint
    if not endpoint:
        raise VangnetError(
            "No IB endpoint is configured.",
            hint="Set VANGNET_IB_ENDPOINT (and its certificates), or run `vangnet demo` to use the simulator.",
        )
    if endpoint not in _ib_clients:
        _ib_clients[endpoint] = IbClient(IbSettings(
            endpoint=endpoint,
            timeout_seconds=settings.ib_timeout,
            client_cert_path=settings.ib_client_cert,
            client_key_path=settings.ib_client_key,
            ca_bundle_path=settings.ib_ca_bundle,
            max_attempts=settings.ib_max_attempts,
            digikoppeling={
                "profile": settings.ib_profile,
                "own_oin": settings.ib_own_oin,
                "receiver_oin": settings.ib_receiver_oin,
                "signing_key_path": settings.ib_signing_key,
                "signing_cert_path": settings.ib_signing_cert,
                "trusted_sender_cert_path": settings.ib_sender_cert,
            },
        ))
    return _ib_clients[endpoint]
