"""The partner stand-ins of a local run: IB, Suwinet, the zaaksysteem, the arbodienst and a provider's
invoice feed as real servers on 127.0.0.1.

Used by the demo and the scenario runner. The settings the flows read (`VANGNET_*`) are pointed at the
simulators for the duration, with a throwaway PKI (mutual TLS + Digikoppeling 2W-be-S) made on the spot.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from flows import runtime
from simulators.certs import TestPki, generate_test_pki, server_ssl_context
from simulators.harness import SimServer
from simulators.arbodienst import ArbodienstSimulator
from simulators.ib import IbSimulator, SimSecurity
from simulators.providers import ProviderFeedSimulator
from simulators.suwinet import SuwinetSimulator
from simulators.zgw import ZgwSimulator


DEMO_FEED = "reintegratie-demo"


@dataclass(frozen=True)
class Partners:
    """The running stand-ins a caller still talks to: the IB endpoint, the invoice feed to fill, and every
    server by partner name (ib, suwinet, zgw, arbodienst, invoice-feed): fault knobs, request logs, state."""

    ib_endpoint: str
    invoice_feed: ProviderFeedSimulator
    servers: Mapping[str, SimServer]


@contextmanager
def running_partners(data: Mapping[str, Any], workdir: Path, *, database_url: str,
                     seed: int | None = None) -> Iterator[Partners]:
    """Start the IB, Suwinet, zaaksysteem, arbodienst and invoice-feed simulators seeded from scenario data,
    point the settings (environment) at them for the duration, and yield them. `seed` makes their
    probabilistic faults (set later on `Partners.servers`) repeatable."""
    pki = generate_test_pki(workdir / "pki")
    security, tls = SimSecurity.from_pki(pki), server_ssl_context(pki)
    ib = IbSimulator(data["signalen"], security=security)
    suwinet = SuwinetSimulator(data.get("lks", []), data.get("suwinet_wv") or {}, security=security)
    secret = secrets.token_urlsafe(24)
    zgw = ZgwSimulator({"vangnet": secret})
    vandaag = date.fromisoformat(data["vandaag"])
    arbo = ArbodienstSimulator(token=secret, start_date=vandaag)
    feed = ProviderFeedSimulator(token=secret)
    apps = {"ib": ib, "suwinet": suwinet, "zgw": zgw, "arbodienst": arbo, "invoice-feed": feed}
    with ExitStack() as stack:
        servers = {name: stack.enter_context(SimServer(app, tls=tls if name in ("ib", "suwinet") else None,
                                                       seed=None if seed is None else seed + i))
                   for i, (name, app) in enumerate(apps.items())}
        stack.enter_context(_environment({
            "VANGNET_DATABASE_URL": database_url, "VANGNET_GEMEENTECODE": data["gemeentecode"],
            **demo_ib_environment(pki),
            **demo_suwinet_environment(suwinet.reintegratie_endpoint, suwinet.werknemersverzekeringen_endpoint, pki),
            **demo_zgw_environment(zgw.api_root, secret),
            "VANGNET_SUWINET_SAFETY_NET": "true" if data.get("suwinet_wv") else "false",
            "VANGNET_ARBODIENST_CONTRACT": "arbodienst-demo",
            "VANGNET_ARBODIENST_NAME": "arbodienst-demo",
            "VANGNET_ARBODIENST_BASE_URL": arbo.api_root,
            "VANGNET_ARBODIENST_TOKEN": secret,
            "VANGNET_PROVIDER_FEEDS": json.dumps({DEMO_FEED: feed.api_root}),
            "VANGNET_PROVIDER_FEED_TOKENS": json.dumps({DEMO_FEED: secret}),
        }))
        stack.callback(runtime.close_all)
        yield Partners(ib_endpoint=ib.endpoint, invoice_feed=feed, servers=servers)


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def demo_ib_environment(pki: TestPki) -> dict[str, str]:
    """Settings that make the intake flow talk to the demo's IB simulator like to the real IB."""
    return {
        "VANGNET_IB_PROFILE": "2W-be-S",
        "VANGNET_IB_CA_BUNDLE": str(pki.ca_cert),
        "VANGNET_IB_CLIENT_CERT": str(pki.client_cert),
        "VANGNET_IB_CLIENT_KEY": str(pki.client_key),
        "VANGNET_IB_SIGNING_KEY": str(pki.client_sign_key),
        "VANGNET_IB_SIGNING_CERT": str(pki.client_sign_cert),
        "VANGNET_IB_SENDER_CERT": str(pki.server_sign_cert),
    }


DEMO_CATALOGUS = "https://catalogi.vangnet.invalid/catalogi/api/v1"
DEMO_RSIN = "002220647"


def demo_zgw_environment(api_root: str, secret: str) -> dict[str, str]:
    """Settings that make the zaak flow register zaken at the demo's ZGW simulator."""
    return {
        "VANGNET_ZGW_BASE_URL": api_root,
        "VANGNET_ZGW_CLIENT_ID": "vangnet",
        "VANGNET_ZGW_SECRET": secret,
        "VANGNET_ZGW_ZAAKTYPE": f"{DEMO_CATALOGUS}/zaaktypen/vangnetter",
        "VANGNET_ZGW_STATUSTYPE_INTAKE": f"{DEMO_CATALOGUS}/statustypen/intake",
        "VANGNET_ZGW_STATUSTYPE_EINDE": f"{DEMO_CATALOGUS}/statustypen/afgesloten",
        "VANGNET_ZGW_ROLTYPE_BETROKKENE": f"{DEMO_CATALOGUS}/roltypen/vangnetter",
        "VANGNET_ZGW_BRONORGANISATIE": DEMO_RSIN,
    }


def demo_suwinet_environment(reintegratie_endpoint: str, wv_endpoint: str, pki: TestPki) -> dict[str, str]:
    """Settings that make the takeover and safety-net flows ask the demo's Suwinet simulator."""
    return {
        "VANGNET_SUWINET_REINTEGRATIE_ENDPOINT": reintegratie_endpoint,
        "VANGNET_SUWINET_WV_ENDPOINT": wv_endpoint,
        "VANGNET_SUWINET_SAFETY_NET": "true",
        "VANGNET_SUWINET_PROFILE": "2W-be-S",
        "VANGNET_SUWINET_CA_BUNDLE": str(pki.ca_cert),
        "VANGNET_SUWINET_CLIENT_CERT": str(pki.client_cert),
        "VANGNET_SUWINET_CLIENT_KEY": str(pki.client_key),
        "VANGNET_SUWINET_SIGNING_KEY": str(pki.client_sign_key),
        "VANGNET_SUWINET_SIGNING_CERT": str(pki.client_sign_cert),
        "VANGNET_SUWINET_SENDER_CERT": str(pki.server_sign_cert),
    }
