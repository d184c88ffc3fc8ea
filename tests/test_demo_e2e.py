"""The demo, end to end, as a user runs it: real local Prefect server, real IB simulator, real store.

Checks the Foundation acceptance: the demo completes, `cases export --json` gives one entry per case,
the Prefect server still lists the runs after the demo process has exited, and no BSN of the demo data
appears in any output, log, run name, parameter, artifact or the Prefect database itself.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from flows.demo import DEMO_SCENARIO

pytestmark = [pytest.mark.prefect, pytest.mark.slow]

VANGNET = str(Path(sys.executable).with_name("vangnet"))
SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory):
    home = tmp_path_factory.mktemp("vangnet-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "VANGNET_"))}
    env.update(VANGNET_HOME=str(home), VANGNET_PREFECT_PORT=str(free_port()), COLUMNS="200")
    yield env, home
    subprocess.run([VANGNET, "server", "stop"], env=env, capture_output=True, timeout=60)


def run(env, *args, timeout=300):
    return subprocess.run([VANGNET, *args], env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def demo_runs(demo_env):
    env, home = demo_env
    first = run(env, "demo")
    assert first.returncode == 0, first.stdout + first.stderr
    second = run(env, "demo")  # same signals again: nothing may be doubled
    assert second.returncode == 0, second.stdout + second.stderr
    return env, home, [first, second]


def demo_records() -> list[dict]:
    return json.loads(DEMO_SCENARIO.read_text())["signalen"]


def expected_cases() -> dict[str, list[str]]:
    """Per person (BSN) the ziekmelding bericht_ids that should form one case, from the demo data."""
    from rules.identifiers import is_valid_bsn

    people: dict[str, list[str]] = {}
    for record in demo_records():
        if record["soort"] == "ZIEKMELDING_VANGNETTER" and is_valid_bsn(record["bsn"]):
            people.setdefault(record["bsn"], []).append(record["bericht_id"])
    return people


def test_export_has_one_entry_per_case_after_two_runs(demo_runs):
    env, _, _ = demo_runs
    export = run(env, "cases", "export", "--json")
    assert export.returncode == 0, export.stderr
    cases = json.loads(export.stdout)
    from_ib = [sorted(b for b in c["bericht_ids"] if b.startswith("DEMO-")) for c in cases]
    assert sorted(from_ib) == sorted(sorted(v) for v in expected_cases().values())
    assert len({c["case_id"] for c in cases}) == len(cases)
    for case in cases:
        assert set(case["termijnen"]) >= {"probleemanalyse", "plan_van_aanpak", "riv", "einde_wachttijd"}
        assert case["besluit"] in {"OVERNAME", "GEEN_LKS", "ANDERE_GEMEENTE", "HANDMATIG"}
        assert (case["zaak_identificatie"] is not None) == (case["besluit"] == "OVERNAME")


def test_demo_invoices_show_each_verdict_once_after_two_runs(demo_runs):
    env, home, (first, _) = demo_runs
    assert "Provider invoices" in first.stdout
    listed = run(env, "invoices", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    invoices = json.loads(listed.stdout)
    by_verdict: dict[str, list[str]] = {}
    for inv in invoices:
        by_verdict.setdefault(inv["verdict"], []).append(inv["findings"])
    assert len(invoices) == len({(i["provider"], i["invoice"]) for i in invoices})  # two runs, no doubles
    assert sorted(by_verdict) == ["APPROVED", "DISPUTED", "REJECTED"]
    assert any("RATE_MISMATCH" in f for f in by_verdict["DISPUTED"])
    assert any("ORDER_UNKNOWN" in f for f in by_verdict["REJECTED"])
    assert any("LINE_ARITHMETIC" in f for f in by_verdict["REJECTED"])
    exports = list((home / "exports").glob("boekingen-*.csv"))
    booked = [line for path in exports for line in path.read_text().splitlines()[1:]]
    assert len(booked) == len(by_verdict["APPROVED"])  # each approved invoice booked exactly once


def test_a_demo_case_gives_a_riv_with_every_art_8_part_present_or_a_gap(demo_runs, tmp_path):
    env, _, _ = demo_runs
    case = next(c for c in json.loads(run(env, "cases", "export", "--json").stdout) if "DEMO-1001" in c["bericht_ids"])
    result = run(env, "riv", case["case_id"], "--out", str(tmp_path / "riv"), "--today", "2027-03-01")
    assert result.returncode == 0, result.stdout + result.stderr
    html, pdf = (tmp_path / "riv.html").read_text(encoding="utf-8"), (tmp_path / "riv.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and len(pdf) > 2000
    for letter in "abcdefghijk":
        assert f'id="deel-{letter}"' in html, letter
    # The casemanager's demo records fill b, c and f; what no one recorded yet is listed as a gap.
    assert "Medewerker orderverzameling" in html and "MBO-2 logistiek" in html and "arbeidsdeskundig onderzoek" in html
    assert "Missing parts" in result.stdout and re.search(r"\bk\b.*Mening van de vangnetter", result.stdout)


def test_the_demo_writes_the_management_report_and_publishes_its_figures(demo_runs):
    env, home, (first, _) = demo_runs
    index = home / "reports" / "2027-03" / "index.html"
    assert f"Management report: {index}" in first.stdout.replace("\n", "")
    html = index.read_text(encoding="utf-8")
    assert html.count("<figure") == 7 and all((home / "reports" / "2027-03" / "figures" / f"{key}.png").is_file()
                                              for key in ("caseload", "wvp-steps", "invoices"))
    api = f"http://127.0.0.1:{env['VANGNET_PREFECT_PORT']}/api"
    keys = {a["key"] for a in httpx.post(f"{api}/artifacts/filter", json={}, timeout=10).json()}
    assert {"report-caseload", "report-costs", "report-ladder"} <= keys


def test_scenario_cli_prints_json_lines_per_file(demo_runs):
    env, _, _ = demo_runs
    files = [str(SCENARIOS / "s01-overname-op-tijd.json"), str(SCENARIOS / "s06-andere-woongemeente.json")]
    result = run(env, "scenario", "run", *files, "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert [line["bestand"] for line in lines] == ["s01-overname-op-tijd.json", "s06-andere-woongemeente.json"]
    assert [c["besluit"] for line in lines for c in line["cases"]] == ["OVERNAME", "ANDERE_GEMEENTE"]
    assert "999990019" not in result.stdout


def test_prefect_keeps_the_runs_after_the_demo_exited(demo_runs):
    env, _, _ = demo_runs
    api = f"http://127.0.0.1:{env['VANGNET_PREFECT_PORT']}/api"
    flow_runs = httpx.post(f"{api}/flow_runs/filter", json={}, timeout=10).json()
    for prefix in ("pipeline-", "intake-", "takeover-", "zaken-", "deadlines-", "suwinet-safety-net-"):
        runs = [r for r in flow_runs if r["name"].startswith(prefix)]
        assert len(runs) >= 2 and all(r["state_type"] == "COMPLETED" for r in runs), prefix
    task_runs = httpx.post(f"{api}/task_runs/filter", json={}, timeout=10).json()
    names = {r["name"] for r in task_runs}
    assert {"pull-ib-page-1", "process-inbox-batch-1"} <= names
    artifacts = httpx.post(f"{api}/artifacts/filter", json={}, timeout=10).json()
    assert {"intake-summary", "cases-wvp", "wvp-deadlines"} <= {a["key"] for a in artifacts}
    assert httpx.get(api.removesuffix("/api") + "/", timeout=10).status_code == 200  # the UI is served


MEDICAL_WORDS = ("burn-out", "sertraline", "gedragstherapie", "huilbuien", "overbelasting")
"""From the arbodienst simulator's advice document: what the medical guard keeps out."""


def test_no_bsn_or_medical_word_anywhere(demo_runs):
    env, home, results = demo_runs
    bsns = {r["bsn"] for r in demo_records()}
    api = f"http://127.0.0.1:{env['VANGNET_PREFECT_PORT']}/api"
    haystacks = {f"demo run {i} output": r.stdout + r.stderr for i, r in enumerate(results)}
    for endpoint in ("flow_runs", "task_runs", "logs", "artifacts"):
        haystacks[f"Prefect API {endpoint}"] = httpx.post(f"{api}/{endpoint}/filter", json={}, timeout=10).text
    haystacks["cases export"] = run(env, "cases", "export", "--json").stdout
    for path in home.rglob("*"):
        if path.is_file() and path.suffix in {".log", ".db", ".db-wal", ".db-shm", ".txt", ".json", ".html", ".svg", ".csv", ""}:
            if path.name.startswith("vangnet.db"):
                continue  # our own store holds BSNs by design; everything else must not
            haystacks[str(path.relative_to(home))] = path.read_bytes().decode("latin-1")
    assert any(k.startswith("prefect") for k in haystacks), "the Prefect database was not scanned"
    leaks = [(where, word) for where, text in haystacks.items() for word in (*bsns, *MEDICAL_WORDS)
             if word in text.lower()]
    assert leaks == []
    # The scan itself must be able to find a BSN: our own store does hold them.
    assert any(b in (home / "vangnet.db").read_bytes().decode("latin-1") for b in bsns)
    assert not re.search(r"Traceback", haystacks["demo run 0 output"])
