"""`vangnet report`: the monthly management report as an HTML page with charts (and, on request, as
Prefect artifacts through the `management-report` flow).

The month, the folder and the provider names come from flows.runtime, shared with the flow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from flows.errors import VangnetError


def report(
    period: Annotated[Optional[str], typer.Option(help="Month YYYY-MM (default: last month).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Output folder for index.html and figures/ (default: "
                                                     "VANGNET_REPORT_DIR or <home>/reports, per month).")] = None,
    publish: Annotated[bool, typer.Option("--publish/--no-publish", help="Run it as the management-report flow on "
                                          "the Prefect server, with an artifact per figure.")] = False,
    today: Annotated[Optional[str], typer.Option(help="Today's date YYYY-MM-DD (default: the clock).")] = None,
) -> None:
    """Write the management report of a month: caseload, lead times, WVP steps, consults, costs, invoices, ladder."""
    from flows import cli
    from flows.runtime import report_period
    from flows.settings import Settings

    run_date = cli._today(today)
    try:
        month = report_period(period, run_date)
    except ValueError:
        raise VangnetError(f"--period {period!r} is not a month.", hint="Use YYYY-MM, e.g. 2027-03.") from None
    if month.first > run_date:
        raise VangnetError(f"--period {month.label} has not started yet (today is {run_date}).",
                           hint="Report on a month that has begun; without --period you get last month.")
    settings = Settings()
    if publish:
        index = _run_flow(settings, month, out)
    else:
        index = _write(settings, month, out, run_date)
    if month.last >= run_date:
        cli.console.print(f"Note: {month.label} is not over yet; the numbers are up to today.")
    cli.console.print(escape(f"Management report {month.label} written to {index}"))


def _write(settings, month, out: Path | None, run_date) -> Path:
    from flows import cli
    from flows.runtime import provider_names, report_folder
    from services.management_report import build_report, write_report

    folder = out.expanduser().resolve() if out else report_folder(settings, month)
    report = build_report(cli._open_store(), month, gemeente=settings.gemeentecode,
                          provider_names=provider_names(settings))
    try:
        return write_report(report, folder, generated_on=run_date)
    except OSError as exc:
        raise VangnetError(f"Could not write the report to {folder}: {exc.strerror or exc}.",
                           hint="Choose an --out folder you can write to.") from None


def _run_flow(settings, month, out: Path | None) -> Path:
    from flows import prefect_server

    prefect_server.ensure_server(settings)
    prefect_server.apply_prefect_env(settings)
    from flows.report import management_report_flow

    result = management_report_flow(period=month.label, out_dir=str(out.expanduser().resolve()) if out else None)
    return Path(str(result["index"]))
