"""Scenario runner: a JSON file of LKS records, signals and Suwinet data → the real flows → cases.

Each scenario runs on a fresh temporary store and fresh simulators (IB, Suwinet, zaaksysteem) with the
clock at the file's `vandaag`, so runs are independent and repeatable. The output holds no BSN.
File format: README, "Scenario files".
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import store
from flows import runtime
from flows.demo import demo_ib_environment, demo_suwinet_environment, demo_zgw_environment
from flows.errors import VangnetError
from services.lks import import_lks
from services.reporting import case_summary
from simulators.certs import generate_test_pki, server_ssl_context
from simulators.harness import SimServer
from simulators.ib import IbSimulator, SimSecurity
from simulators.suwinet import SuwinetSimulator
from simulators.zgw import ZgwSimulator

OUTPUT_FIELDS = ("bericht_ids", "besluit", "reden", "status", "eerste_ziektedag", "termijnen")
REQUIRED_KEYS = ("vandaag", "gemeentecode", "signalen")


def load_scenario(path: Path) -> dict[str, Any]:
    """Read and check a scenario file; errors name the file and what is missing."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise VangnetError(f"{path}: not a readable JSON scenario ({type(exc).__name__}).",
                           hint="See the README, 'Scenario files', for the format.") from None
    missing = [key for key in REQUIRED_KEYS if not isinstance(data, dict) or key not in data]
    if missing:
        raise VangnetError(f"{path}: missing {', '.join(missing)}.", hint="See the README, 'Scenario files'.")
    try:
        date.fromisoformat(data["vandaag"])
    except (TypeError, ValueError):
        raise VangnetError(f"{path}: 'vandaag' must be a date YYYY-MM-DD.") from None
    return data


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


def run_scenario(path: Path) -> dict[str, Any]:
    """Run one scenario through the real flows; returns {"cases": [...], "quarantaine": [...]}.

    Prefect must already point at a server (the CLI and the tests take care of that).
    """
    from flows.pipeline import pipeline_flow  # imports prefect: only after the environment is set

    data = load_scenario(path)
    run_date = date.fromisoformat(data["vandaag"])
    with tempfile.TemporaryDirectory(prefix="vangnet-scenario-") as tmp, ExitStack() as stack:
        url = f"sqlite:///{Path(tmp) / 'scenario.db'}"
        store.upgrade(url)
        engine = store.make_engine(url)
        if data.get("lks"):
            import_lks(engine, json.dumps({"lks": data["lks"]}).encode(), filename=path.name)
        pki = generate_test_pki(Path(tmp) / "pki")
        security, tls = SimSecurity.from_pki(pki), server_ssl_context(pki)
        ib = IbSimulator(data["signalen"], security=security)
        suwinet = SuwinetSimulator(data.get("lks", []), data.get("suwinet_wv") or {}, security=security)
        secret = secrets.token_urlsafe(24)
        zgw = ZgwSimulator({"vangnet": secret})
        for app in (ib, suwinet):
            stack.enter_context(SimServer(app, tls=tls))
        stack.enter_context(SimServer(zgw))
        env = {
            "VANGNET_DATABASE_URL": url, "VANGNET_GEMEENTECODE": data["gemeentecode"],
            **demo_ib_environment(pki),
            **demo_suwinet_environment(suwinet.reintegratie_endpoint, suwinet.werknemersverzekeringen_endpoint, pki),
            **demo_zgw_environment(zgw.api_root, secret),
            "VANGNET_SUWINET_SAFETY_NET": "true" if data.get("suwinet_wv") else "false",
        }
        stack.enter_context(_environment(env))
        stack.callback(runtime.close_all)
        pipeline_flow(run_date=run_date, ib_endpoint=ib.endpoint)
        with store.session_scope(engine) as session:
            cases = [{k: case_summary(session, c)[k] for k in OUTPUT_FIELDS} for c in store.list_cases(session)]
            quarantine = [{"bericht_id": q.bericht_id, "reden": q.reason} for q in store.list_quarantine(session)]
        engine.dispose()
    return {"cases": cases, "quarantaine": quarantine}
