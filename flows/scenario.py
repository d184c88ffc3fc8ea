"""Scenario runner: a JSON file of LKS records, signals and Suwinet data → the real flows → cases.

Each scenario runs on a fresh temporary store and fresh simulators (IB, Suwinet, zaaksysteem) with the
clock at the file's `vandaag`, so runs are independent and repeatable. The output holds no BSN.
File format: README, "Scenario files".
"""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import store
from flows.errors import VangnetError
from flows.partners import running_partners
from services.lks import import_lks
from services.reporting import case_summary

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


def run_scenario(path: Path, *, micro_batch: int | None = None) -> dict[str, Any]:
    """Run one scenario through the real flows; returns {"cases": [...], "quarantaine": [...]}.
    `micro_batch`: the pipeline's micro-batch mode with pages of that many signals.

    Prefect must already point at a server (the CLI and the tests take care of that).
    """
    from flows.pipeline import pipeline_flow  # imports prefect: only after the environment is set

    data = load_scenario(path)
    with tempfile.TemporaryDirectory(prefix="vangnet-scenario-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'scenario.db'}"
        store.upgrade(url)
        engine = store.make_engine(url)
        if data.get("lks"):
            import_lks(engine, json.dumps({"lks": data["lks"]}).encode(), filename=path.name)
        with running_partners(data, Path(tmp), database_url=url) as partners:
            pipeline_flow(run_date=date.fromisoformat(data["vandaag"]), ib_endpoint=partners.ib_endpoint,
                          micro_batch=micro_batch)
        with store.session_scope(engine) as session:
            cases = [{k: case_summary(session, c)[k] for k in OUTPUT_FIELDS} for c in store.list_cases(session)]
            quarantine = [{"bericht_id": q.bericht_id, "reden": q.reason} for q in store.list_quarantine(session)]
        engine.dispose()
    return {"cases": cases, "quarantaine": quarantine}
