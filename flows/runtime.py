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
    endpoint = endpoint or settings.ib_endpoint
    if endpoint not in _ib_clients:
        _ib_clients[endpoint] = build_ib_client(settings, endpoint=endpoint)
    return _ib_clients[endpoint]


def build_ib_client(settings: Settings, *, endpoint: str | None = None):
    """A new IB connector configured from settings: mutual TLS and, on 2W-be-S, signing."""
    from connectors.inlichtingenbureau import IbClient, IbSettings

    endpoint = endpoint or settings.ib_endpoint
    if not endpoint:
        raise VangnetError(
            "No IB endpoint is configured.",
            hint="Set VANGNET_IB_ENDPOINT (and its certificates), or run `vangnet demo` to use the simulator.",
        )
    try:
        ib_settings = IbSettings(
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
        )
    except ValueError as exc:  # pydantic's ValidationError: name the settings, never echo values
        problems = "; ".join(error["msg"] for error in getattr(exc, "errors", lambda: [])()) or str(exc)
        raise VangnetError(f"The IB connection settings are incomplete: {problems}",
                           hint="Set the VANGNET_IB_* variables listed in the README's Configuration table.") from None
    return IbClient(ib_settings)
