"""The monthly management report as a Prefect flow: the page on disk and one markdown artifact per figure.

Parameters are a month (`YYYY-MM`) and optionally the output folder: nothing personal. The
artifacts (`report-<figure>`) hold the figure's numbers as a markdown table, the same the page shows.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from documents.charts import TITLES
from documents.report_html import caption, markdown_table
from flows import runtime
from flows.runtime import provider_names, report_folder, report_period
from flows.settings import Settings
from rules.report_metrics import Period
from services.intake import DUTCH_TIME
from services.management_report import ManagementReport, build_report, write_report


@task(name="collect-report-numbers", cache_policy=NO_CACHE)
def collect(engine, period: Period, gemeente: str | None, names: dict[str, str]) -> ManagementReport:
    return build_report(engine, period, gemeente=gemeente, provider_names=names)


@task(name="render-report", cache_policy=NO_CACHE)
def render(report: ManagementReport, folder: Path, today: date) -> Path:
    return write_report(report, folder, generated_on=today)


@task(name="publish-report-artifacts", cache_policy=NO_CACHE)
def publish(report: ManagementReport) -> list[str]:
    keys = []
    for key, metric in report.figures().items():
        artifact_key = f"report-{key}"
        create_markdown_artifact(
            key=artifact_key,
            markdown=f"## {TITLES[key]} — {report.period.name}\n\n{caption(key, report.period)}\n\n"
                     f"{markdown_table(metric.table())}\n",
            description=f"Managementrapportage {report.period.label}: {TITLES[key]}")
        keys.append(artifact_key)
    return keys


def _run_name() -> str:
    return f"management-report-{datetime.now(DUTCH_TIME):%Y%m%d-%H%M%S}"


@flow(name="management-report", flow_run_name=_run_name, persist_result=False)
def management_report_flow(period: str | None = None, out_dir: str | None = None) -> dict[str, object]:
    """Write the management report of `period` (YYYY-MM; default: last month) to `out_dir` (default:
    the report folder) and publish each figure's numbers as an artifact."""
    today = datetime.now(DUTCH_TIME).date()
    month = report_period(period, today)
    settings = Settings()
    engine = runtime.migrated_engine(settings)
    report = collect(engine, month, settings.gemeentecode, provider_names(settings))
    index = render(report, Path(out_dir).expanduser().resolve() if out_dir else report_folder(settings, month), today)
    keys = publish(report)
    get_run_logger().info("Management report %s written to %s (%d figures).", month.label, index, len(keys))
    return {"period": month.label, "index": str(index), "artifacts": keys}
