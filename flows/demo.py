"""The demo: the whole chain on embedded defaults, against a real local Prefect server.

IB simulator (real HTTP on 127.0.0.1) → intake flow → inbox → signals → cases with WVP dates.
The scenario file gives the run date (`vandaag`) and the signals the simulator serves.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import store
from flows.settings import Settings
from simulators.certs import TestPki, generate_test_pki, server_ssl_context
from simulators.harness import SimServer
from simulators.ib import IbSimulator, SimSecurity

DEMO_SCENARIO = Path(__file__).resolve().parent.parent / "simulators" / "data" / "demo.json"


@dataclass
class DemoResult:
    counts: dict[str, int]
    cases: list[dict[str, Any]]
    quarantine: list[dict[str, Any]]
    prefect_ui: str


def run_demo(settings: Settings, scenario: Path, step: Callable[[str], None]) -> DemoResult:
    """Run the demo; `step` is told each phase (the CLI turns it into a progress bar).

    The caller must have pointed Prefect at the local server (flows.prefect_server) before this runs.
    """
    from flows.intake import intake_flow  # imports prefect: only after the environment is set
    from services.reporting import all_case_summaries

    data = json.loads(scenario.read_text(encoding="utf-8"))
    run_date = date.fromisoformat(data["vandaag"])
    step("Starting the IB simulator (mutual TLS, Digikoppeling 2W-be-S signatures)")
    pki = generate_test_pki(settings.home.resolve() / "demo-pki")
    os.environ.update(demo_ib_environment(pki))
    ib = IbSimulator(data["signalen"], security=SimSecurity.from_pki(pki))
    with SimServer(ib, tls=server_ssl_context(pki)):
        ib.set_faults(duplicate_next=1)  # IB delivers one signal twice: it must be stored once
        step("Running the intake flow")
        counts = intake_flow(run_date=run_date, ib_endpoint=ib.endpoint)
    engine = store.make_engine(settings.resolved_database_url)
    with store.session_scope(engine) as session:
        cases = all_case_summaries(session)
        quarantined = [{"bericht_id": q.bericht_id, "reden": q.reason} for q in store.list_quarantine(session)]
    engine.dispose()
    ui = settings.resolved_prefect_api_url.removesuffix("/api")
    return DemoResult(counts=counts, cases=cases, quarantine=quarantined, prefect_ui=ui)


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
