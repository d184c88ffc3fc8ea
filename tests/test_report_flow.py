"""The `management-report` flow on a real local Prefect server: the page in the report folder and one markdown
artifact per figure whose table holds the service's numbers (and the hand-counted ones of the dataset)."""

from __future__ import annotations

from pathlib import Path

import pytest

from documents.report_html import format_value
from ib_helpers import valid_bsn
from report_data import CASES, EXPECTED, PERIOD, build_report_dataset
from services.management_report import FIGURES, build_report

pytestmark = [pytest.mark.prefect, pytest.mark.slow]


@pytest.fixture
def home(local_home, monkeypatch):
    monkeypatch.setenv("VANGNET_GEMEENTECODE", "0518")
    monkeypatch.delenv("VANGNET_REPORT_DIR", raising=False)
    return local_home

def _table(markdown: str) -> list[list[str]]:
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    assert len(lines) >= 2 and set(lines[1]) <= {"|", "-"}, markdown
    return [[cell.strip() for cell in line.strip()[1:-1].split("|")] for line in (lines[0], *lines[2:])]


def _artifacts(flow_run_id) -> tuple[dict[str, dict], object]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, FlowRunFilter, TaskRunFilter
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        # Every argument given: Prefect 3.8's sync client sends null for missing ones, which the server refuses.
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])),
            flow_run_filter=FlowRunFilter(), task_run_filter=TaskRunFilter(), sort=ArtifactSort.KEY_ASC,
            limit=50, offset=0)
        run = client.read_flow_run(flow_run_id)
    return {a.key: {"type": a.type, "data": a.data, "description": a.description} for a in found}, run


def test_flow_writes_the_page_and_publishes_each_figure(prefect_server, home, tmp_path):
    from flows.runtime import provider_names
    from flows.report import management_report_flow
    from flows.settings import Settings

    build_report_dataset(home)
    state = management_report_flow(period=PERIOD.label, return_state=True)
    assert state.is_completed(), state
    result = state.result()
    index = tmp_path / "reports" / "2027-03" / "index.html"
    assert Path(result["index"]) == index.resolve() and index.is_file()
    assert sorted(p.name for p in (index.parent / "figures").glob("*.png")) == sorted(f"{k}.png" for k in FIGURES)
    assert "gemeente 0518" in index.read_text(encoding="utf-8")

    artifacts, run = _artifacts(state.state_details.flow_run_id)
    assert run.parameters == {"period": "2027-03", "out_dir": None}
    assert sorted(artifacts) == sorted(f"report-{k}" for k in FIGURES) == sorted(result["artifacts"])
    expected = build_report(home, PERIOD, provider_names=provider_names(Settings()))
    for key, metric in expected.figures().items():
        artifact = artifacts[f"report-{key}"]
        assert artifact["type"] == "markdown" and "2027-03" in artifact["description"]
        rows = metric.table()
        assert _table(artifact["data"]) == [list(rows[0]), *([format_value(v) for v in r.values()] for r in rows)]

    # The same numbers as counted by hand when the dataset was built.
    steps = _table(artifacts["report-wvp-steps"]["data"])
    totals = [sum(counts[i] for counts in EXPECTED["wvp"].values()) for i in range(4)]
    assert steps[-1] == ["totaal", *map(str, totals), str(sum(totals))]
    consults = {row[0]: int(row[1]) for row in _table(artifacts["report-consults"]["data"])[1:]}
    assert consults == EXPECTED["consults"]
    invoices = {row[0]: (int(row[1]), row[2]) for row in _table(artifacts["report-invoices"]["data"])[1:]}
    assert invoices == {k: (n, format_value(amount)) for k, (n, amount) in EXPECTED["invoices"].items()}
    caseload = _table(artifacts["report-caseload"]["data"])[1:]
    assert [int(row[1]) for row in caseload] == EXPECTED["caseload_open"]

    everything = " ".join(str(a["data"]) for a in artifacts.values())
    assert not any(valid_bsn(n) in everything for n in range(900, 900 + len(CASES)))
    assert "VN-0" not in everything


def test_flow_without_a_period_reports_last_month(prefect_server, home, tmp_path):
    from datetime import datetime

    from flows.report import management_report_flow
    from rules.report_metrics import Period
    from services.intake import DUTCH_TIME

    result = management_report_flow()
    last_month = Period.containing(datetime.now(DUTCH_TIME).date()).previous()
    assert result["period"] == last_month.label
    assert (tmp_path / "reports" / last_month.label / "index.html").is_file()
