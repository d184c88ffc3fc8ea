"""Per-process wiring: settings → database engine and partner clients, built once and reused by tasks."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy.engine import Engine

import store
from flows.errors import VangnetError
from flows.settings import Settings


_engines_made: set[str] = set()


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One engine (connection pool) per database URL per process."""
    _engines_made.add(url)
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
            timeout_seconds=settings.partner_timeout or settings.ib_timeout,
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


def suwinet_client(settings: Settings):
    """The Suwinet connector (both services) when an endpoint is configured; None when not."""
    if not (settings.suwinet_reintegratie_endpoint or settings.suwinet_wv_endpoint):
        return None
    from connectors.suwinet import SuwinetClient, SuwinetSettings

    try:
        suwinet_settings = SuwinetSettings(
            reintegratie_endpoint=settings.suwinet_reintegratie_endpoint,
            werknemersverzekeringen_endpoint=settings.suwinet_wv_endpoint,
            client_cert_path=settings.suwinet_client_cert, client_key_path=settings.suwinet_client_key,
            ca_bundle_path=settings.suwinet_ca_bundle, **timeout(settings),
            digikoppeling={
                "profile": settings.suwinet_profile,
                "signing_key_path": settings.suwinet_signing_key,
                "signing_cert_path": settings.suwinet_signing_cert,
                "trusted_sender_cert_path": settings.suwinet_sender_cert,
            },
        )
    except ValueError as exc:
        problems = "; ".join(error["msg"] for error in getattr(exc, "errors", lambda: [])()) or str(exc)
        raise VangnetError(f"The Suwinet settings are incomplete: {problems}",
                           hint="Set the VANGNET_SUWINET_* variables listed in the README's Configuration table.") from None
    return SuwinetClient(suwinet_settings)


def suwinet_lks_lookup(settings: Settings):
    """LKS lookup through Suwinet GSDDossierReintegratie when configured; None when not (registration only)."""
    if not settings.suwinet_reintegratie_endpoint:
        return None
    from schemas.lks import LksBron, LksPeriode

    client = suwinet_client(settings)

    def lookup(bsn: str) -> list[LksPeriode]:
        return [
            LksPeriode(begin=p.begin, einde=p.einde, loonwaarde_pct=p.loonwaarde_pct, type_code=p.type_code or None,
                       gemeentecode=p.gemeentecode or settings.gemeentecode, bron=LksBron.SUWINET)
            for p in client.reintegratie_info(bsn)
            if p.is_lks
        ]

    return lookup


def timeout(settings: Settings) -> dict[str, float]:
    """The `timeout_seconds` of a connector's settings when `partner_timeout` is set (else its own default)."""
    return {"timeout_seconds": settings.partner_timeout} if settings.partner_timeout else {}


def zaken_client(settings: Settings):
    """The ZGW Zaken connector when a zaaksysteem is configured; None when not (no zaak is made)."""
    if not settings.zgw_base_url:
        return None
    from connectors.zaken import ZakenClient, ZakenSettings

    try:
        zaken_settings = ZakenSettings(
            base_url=settings.zgw_base_url, client_id=settings.zgw_client_id, secret=settings.zgw_secret,
            user_id=settings.zgw_user_id, user_representation=settings.zgw_user_representation,
            zaaktype=settings.zgw_zaaktype, statustype_intake=settings.zgw_statustype_intake,
            statustype_einde=settings.zgw_statustype_einde, roltype_betrokkene=settings.zgw_roltype_betrokkene,
            bronorganisatie=settings.zgw_bronorganisatie, verantwoordelijke_organisatie=settings.zgw_bronorganisatie,
            **timeout(settings),
        )
    except ValueError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in getattr(exc, "errors", lambda: [])())
        raise VangnetError(f"The zaaksysteem (ZGW) settings are incomplete or invalid: {fields or exc}",
                           hint="Set the VANGNET_ZGW_* variables listed in the README, or unset VANGNET_ZGW_BASE_URL.") from None
    return ZakenClient(zaken_settings)


def close_all() -> None:
    """Dispose every cached engine and client (the scenario runner calls this between scenarios)."""
    for client in _ib_clients.values():
        client.close()
    _ib_clients.clear()
    for url in list(_engines_made):
        engine_for(url).dispose()
    _engines_made.clear()
    engine_for.cache_clear()


def arbodienst_contract(settings: Settings):
    """The contract with the arbodienst that does the probleemanalyses, when one is configured."""
    if not settings.arbodienst_contract:
        return None
    from mappings.provider_contract import ContractError, find_contract

    try:
        return find_contract(contracts_dir(settings), settings.arbodienst_contract)
    except ContractError as exc:
        raise VangnetError(f"The arbodienst contract can't be used: {exc}",
                           hint="Check VANGNET_ARBODIENST_CONTRACT and VANGNET_PROVIDER_CONTRACTS_DIR.") from None


DEMO_CONTRACTS = Path(__file__).resolve().parent.parent / "simulators" / "data" / "providers"


def contracts_dir(settings: Settings) -> Path:
    """The folder with provider contracts: the configured one, else the demo contracts."""
    return settings.provider_contracts_dir.expanduser() if settings.provider_contracts_dir else DEMO_CONTRACTS


def provider_contracts(settings: Settings) -> dict:
    """Every provider contract by provider id (for pricing orders and checking invoices)."""
    from mappings.provider_contract import ContractError, load_contracts

    try:
        return load_contracts(contracts_dir(settings))
    except ContractError as exc:
        raise VangnetError(f"The provider contracts can't be read: {exc}",
                           hint="Fix the file, or point VANGNET_PROVIDER_CONTRACTS_DIR at the right folder.") from None


@lru_cache(maxsize=4)
def _validator(rules_dir: Path | None):
    from einvoicing import Validator

    return Validator(rules_dir)


def invoice_validator(settings: Settings):
    """The e-invoice validator for the configured rules (one per process: stylesheets compile once)."""
    from einvoicing import default_rules_dir

    if settings.einvoice_rules_dir is not None:
        rules = settings.einvoice_rules_dir.expanduser().resolve()
        if not rules.is_dir():
            # Checking against missing rules would reject every invoice for our own configuration error.
            raise VangnetError(f"The e-invoicing rules folder {rules} does not exist.",
                               hint="Point VANGNET_EINVOICE_RULES_DIR at the folder with the official SI-UBL/Peppol "
                                    "artefacts (corpus layout), or unset it to use the shared corpus.")
        return _validator(rules)
    return _validator(default_rules_dir())


def feed_clients(settings: Settings) -> dict:
    """A client per configured provider invoice feed, by feed name."""
    from connectors.providers import FeedSettings, ProviderFeedClient

    clients = {}
    for name, base_url in settings.provider_feeds.items():
        try:
            feed = FeedSettings(name=name, base_url=base_url, token=settings.provider_feed_tokens.get(name),
                                **timeout(settings))
        except ValueError as exc:  # name the fields, never the values: a URL may hold a password
            fields = ", ".join(".".join(map(str, e["loc"])) for e in getattr(exc, "errors", lambda: [])())
            raise VangnetError(f"The invoice feed {name!r} is configured wrongly: {fields or type(exc).__name__}",
                               hint="Check VANGNET_PROVIDER_FEEDS and VANGNET_PROVIDER_FEED_TOKENS.") from None
        clients[name] = ProviderFeedClient(feed)
    return clients


def drop_folder(settings: Settings):
    """The invoice drop folder, when one is configured."""
    if settings.invoice_drop_dir is None:
        return None
    from connectors.providers import DropFolder

    return DropFolder(settings.invoice_drop_dir.expanduser())


def finance_export_dir(settings: Settings) -> Path:
    """Where booking files for finance are written."""
    return (settings.finance_export_dir or settings.home / "exports").expanduser().resolve()


def report_period(value: str | None, today):
    """The month to report on: `value` (YYYY-MM; ValueError when it is not one), else the month before `today`."""
    from rules.report_metrics import Period

    return Period.parse(value) if value else Period.containing(today).previous()


def report_folder(settings, period) -> Path:
    """`VANGNET_REPORT_DIR`/<period>, else `home`/reports/<period>."""
    return ((settings.report_dir or settings.home / "reports") / period.label).expanduser().resolve()


def provider_names(settings) -> dict[str, str]:
    """Provider id -> name from the contracts; ids only (empty) when the contracts can't be read."""
    try:
        return {pid: contract.naam for pid, contract in provider_contracts(settings).items()}
    except VangnetError:
        return {}
