"""The `vangnet` command line: demo, database, cases and the local Prefect server.

Prefect is imported only by the commands that run flows, after the environment points it at our
server. Errors print what was wrong and what to do, with a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import getpass
import json
import logging
import sys
import traceback
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

import store
from flows.errors import VangnetError
from flows.settings import Settings

app = typer.Typer(help="vangnet: gemeentelijke vangnetters from UWV signal to invoice.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
db_app = typer.Typer(help="The state store (database).", no_args_is_help=True)
cases_app = typer.Typer(help="Cases (one per vangnetter).", no_args_is_help=True)
server_app = typer.Typer(help="The local Prefect server under var/prefect.", no_args_is_help=True)
signals_app = typer.Typer(help="UWV/IB signals.", no_args_is_help=True)
lks_app = typer.Typer(help="The gemeente's own loonkostensubsidie (LKS) registration.", no_args_is_help=True)
scenario_app = typer.Typer(help="Scenario files: a day of signals through the real flows.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(lks_app, name="lks")
app.add_typer(scenario_app, name="scenario")


def _register_sub_apps() -> None:
    from flows.cli_consults import consults_app
    from flows.cli_invoices import invoices_app
    from flows.cli_orders import orders_app

    app.add_typer(orders_app, name="orders", help="Orders (opdrachten) to providers, with tariffs and reports.")
    app.add_typer(consults_app, name="consults", help="Bedrijfsarts consults at the arbodienst.")
    app.add_typer(invoices_app, name="invoices", help="Provider e-invoices: validate, check, sync, review, export.")
    from flows.cli_doctor import doctor
    from flows.cli_ops import alerts_app, deploy, scaleout_app, serve

    app.command("serve")(serve)
    app.command("deploy")(deploy)
    app.command("doctor")(doctor)
    app.add_typer(scaleout_app, name="scaleout")
    app.add_typer(alerts_app, name="alerts")
    from flows.cli_dossier import dossier_app, instrument_app, ladder_app, plan_app
    from flows.cli_report import report
    from flows.cli_research import research_export
    from flows.cli_retention import retention
    from flows.cli_riv import riv

    app.add_typer(plan_app, name="plan", help="The plan van aanpak: record, bijstelling, copies, show.")
    app.add_typer(ladder_app, name="ladder", help="The re-integratieladder (treden 0-9) of a case.")
    app.add_typer(instrument_app, name="instrument", help="Re-integration instruments of a case.")
    app.add_typer(dossier_app, name="dossier", help="Dossier entries for the RIV parts.")
    app.command("riv")(riv)
    app.command("report")(report)
    app.command("research-export")(research_export)
    app.command("retention")(retention)


_register_sub_apps()
app.add_typer(signals_app, name="signals")
app.add_typer(cases_app, name="cases")
app.add_typer(server_app, name="server")

# Piped output (CI logs, `| less`) gets a width that fits the case table instead of rich's 80 columns.
console = Console(width=None if sys.stdout.isatty() else 140)
errors = Console(stderr=True, width=None if sys.stderr.isatty() else 140)


def _version(value: bool) -> None:
    if value:
        console.print(f"vangnet {version('vangnet')}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                               help="Show the version and exit.")] = False,
) -> None:
    """vangnet: gemeentelijke vangnetters from UWV signal to invoice."""


# -- demo -----------------------------------------------------------------------------------------
@app.command()
def demo(
    scenario: Annotated[Optional[Path], typer.Option(help="Scenario file with vandaag and signalen.")] = None,
) -> None:
    """Run the whole chain locally: IB simulator → intake flow → cases with WVP dates."""
    from flows import prefect_server
    from flows.demo import DEMO_SCENARIO, run_demo

    settings = Settings()
    scenario = scenario or DEMO_SCENARIO
    if not scenario.is_file():
        raise VangnetError(f"Scenario file {scenario} does not exist.", hint="Give an existing --scenario file.")
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        task = progress.add_task("Migrating the database", total=9)  # steps: see run_demo

        def step(description: str) -> None:
            progress.update(task, advance=1, description=description)

        store.upgrade(settings.resolved_database_url)
        step("Starting or reusing the local Prefect server (first start takes ~15 s)")
        prefect_server.ensure_server(settings)
        prefect_server.apply_prefect_env(settings)
        result = run_demo(settings, scenario, step)
        progress.update(task, completed=9, description="Done")
    _print_cases(result.cases)
    _print_quarantine(result.quarantine)
    _print_rows("Bedrijfsarts consults", result.consults, ("case", "purpose", "status", "slot", "attempt"))
    _print_rows("Orders", [{"order": o["order_number"], "case": o["case_ref"], "provider": o["provider_id"],
                            "kind": o["kind"], "start": str(o["start_date"]),
                            "hours": ", ".join(f"{r} {h}" for r, h in (o["budget_hours"] or {}).items())}
                           for o in result.orders], ("order", "case", "provider", "kind", "start", "hours"))
    _print_rows("Provider invoices (approved go to finance, disputed wait for a clerk: `vangnet invoices review`)",
                result.invoices, ("id", "invoice", "provider", "order", "amount", "verdict", "findings"))
    _print_deadlines(result.deadlines)
    for flow_name, counts in result.counts.items():
        console.print(f"{flow_name}: " + (", ".join(f"{k}={v}" for k, v in counts.items()) or "-"))
    console.print(f"Management report: {result.report_index}")
    if result.dossier_case:
        console.print(f"Re-integratieverslag (draft, lists its gaps): vangnet riv {result.dossier_case} --out "
                      f"riv-{result.dossier_case} --today {result.run_date}")
    console.print(f"Prefect UI (keeps running): [bold]{result.prefect_ui}[/bold]  —  stop it with "
                  "`vangnet server stop`.")


# -- db -------------------------------------------------------------------------------------------
@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the current schema."""
    url = Settings().resolved_database_url
    store.upgrade(url)
    console.print(f"Database {store.safe_url(url)} is at revision {store.current_revision(url)}.")


# -- cases ----------------------------------------------------------------------------------------
def _open_store():
    from flows.runtime import migrated_engine

    return migrated_engine(Settings())


@cases_app.command("list")
def cases_list(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Show at most this many cases.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many (newest) cases first: the next page.")] = 0,
    status: Annotated[Optional[str], typer.Option(help="Only cases with this status, e.g. OPEN or HANDMATIG.")] = None,
) -> None:
    """List cases, newest first, a page at a time, with their status and first deadlines."""
    from schemas.case import CaseStatus
    from services.reporting import case_summaries_page, count_cases

    if status is not None:
        try:
            status = CaseStatus(status.upper()).value
        except ValueError:
            raise VangnetError(f"Unknown status {status!r}.",
                               hint="One of: " + ", ".join(s.value for s in CaseStatus)) from None
    with store.session_scope(_open_store()) as session:
        total = count_cases(session, status=status)
        page = case_summaries_page(session, limit=limit, offset=offset, status=status)
    which = f"{status} cases" if status else "Cases"
    if not page:
        console.print(f"{which}: none" + (f" after the first {offset}" if offset and total else "") + f" (of {total}).")
        return
    title = f"{which} {offset + 1}-{offset + len(page)} of {total}, newest first"
    _print_cases(page, title=title)
    if offset + len(page) < total:
        console.print(f"More: vangnet cases list --offset {offset + len(page)}"
                      + (f" --limit {limit}" if limit != 50 else "") + (f" --status {status}" if status else ""))


@cases_app.command("show")
def cases_show(case_id: Annotated[str, typer.Argument(help="Case reference, e.g. VN-000001.")]) -> None:
    """Show one case: decision, status and every WVP step."""
    from services.reporting import case_summary

    with store.session_scope(_open_store()) as session:
        case = _existing_case(session, case_id)
        summary = case_summary(session, case)
        steps = store.steps_for(session, case)
        table = Table(title=f"{summary['case_id']} — {summary['status']}", title_justify="left")
        for column in ("step", "due", "legal date", "onverwijld", "done", "by"):
            table.add_column(column)
        for s in steps:
            table.add_row(s.stap.value, str(s.datum), str(s.wettelijke_datum), "yes" if s.onverwijld else "",
                          str(s.done_on or ""), "gemeente" if s.gemeente_verantwoordelijk else "UWV")
        audit = Table(title="Dossier (audit trail)", title_justify="left")
        for column in ("when (UTC)", "who", "what", "details"):
            audit.add_column(column)
        for event in store.audit_for_case(session, case.id):
            audit.add_row(f"{event.at:%Y-%m-%d %H:%M}", event.actor, event.action,
                          json.dumps(event.details, ensure_ascii=False) if event.details else "")
    console.print(f"besluit: {summary['besluit'] or '(nog niet genomen)'} — {summary['reden']}")
    console.print(f"signals: {', '.join(summary['bericht_ids'])}   zaak: {summary['zaak_identificatie'] or '-'}")
    console.print(table)
    console.print(audit)


def _existing_case(session, case_id: str):
    """The case with this reference, or the error that says how to find one."""
    case = store.get_case(session, case_id)
    if case is None:
        raise VangnetError(f"There is no case {case_id!r}.", hint="See `vangnet cases list` for references.")
    return case


def _record_step_change(action) -> None:
    from services.dossier import DossierError
    from services.steps import StepError

    try:
        action()
    except (StepError, DossierError) as exc:
        raise VangnetError(str(exc)) from None


def _who(door: str | None) -> str:
    return door or getpass.getuser()


def _stap(value: str):
    from schemas.case import Stap

    try:
        return Stap(value)
    except ValueError:
        raise VangnetError(f"Unknown step {value!r}.", hint="One of: " + ", ".join(s.value for s in Stap)) from None


def _today(value: str | None):
    from services.intake import DUTCH_TIME

    return _date(value, "--today") if value else datetime.now(DUTCH_TIME).date()


def _date(value: str, option: str):
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise VangnetError(f"{option} {value!r} is not a date.", hint="Use YYYY-MM-DD.") from None


@cases_app.command("step-done")
def cases_step_done(
    case_id: Annotated[str, typer.Argument(help="Case reference, e.g. VN-000001.")],
    stap: Annotated[str, typer.Argument(help="Step, e.g. probleemanalyse.")],
    op: Annotated[str, typer.Option(help="Date it happened, YYYY-MM-DD.")],
    door: Annotated[Optional[str], typer.Option(help="Who records it (default: your user name).")] = None,
    today: Annotated[Optional[str], typer.Option(help="Today's date YYYY-MM-DD (default: the clock).")] = None,
) -> None:
    """Record that a step happened; a probleemanalyse moves the plan-van-aanpak deadline."""
    from services.steps import mark_done

    today = _today(today)
    _record_step_change(lambda: mark_done(_open_store(), case_id, _stap(stap), on=_date(op, "--op"),
                                          by=_who(door), today=today))
    console.print(f"{case_id}: {stap} recorded as done on {op}.")


@cases_app.command("deviate")
def cases_deviate(
    case_id: Annotated[str, typer.Argument(help="Case reference, e.g. VN-000001.")],
    stap: Annotated[str, typer.Argument(help="probleemanalyse, plan_van_aanpak or herijking_1..3.")],
    datum: Annotated[str, typer.Option(help="The new date, YYYY-MM-DD.")],
    reden: Annotated[str, typer.Option(help="Why (Regeling art. 7 requires reasons).")],
    overlegd_op: Annotated[str, typer.Option(help="Date the vangnetter was consulted, YYYY-MM-DD.")],
    door: Annotated[Optional[str], typer.Option(help="Who decided (default: your user name).")] = None,
    today: Annotated[Optional[str], typer.Option(help="Today's date YYYY-MM-DD (default: the clock).")] = None,
) -> None:
    """Deviate from a legal term (Regeling art. 7), with reasons, after consulting the vangnetter."""
    from services.steps import record_deviation

    today = _today(today)
    _record_step_change(lambda: record_deviation(
        _open_store(), case_id, _stap(stap), new_date=_date(datum, "--datum"), reason=reden,
        consulted_on=_date(overlegd_op, "--overlegd-op"), by=_who(door), today=today))
    console.print(f"{case_id}: {stap} moved to {datum} (art. 7), recorded in the dossier.")


@cases_app.command("export")
def cases_export(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (the only format for now).")] = False,
) -> None:
    """Print every case as JSON: one entry per case, no BSN."""
    from services.reporting import all_case_summaries

    if not as_json:
        raise VangnetError("Choose an export format.", hint="Use `vangnet cases export --json`.")
    with store.session_scope(_open_store()) as session:
        payload = all_case_summaries(session)
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


@signals_app.command("import")
def signals_import(
    file: Annotated[Path, typer.Argument(help="Signal file (XML with Signaal elements, as IB delivers them).")],
    today: Annotated[Optional[str], typer.Option(help="Run date YYYY-MM-DD (default: today).")] = None,
) -> None:
    """Import a downloaded signal file through the same inbox as the IB pull, then process it."""
    from datetime import date, time, timezone

    from services.intake import DUTCH_TIME, SOURCE_IB, BatchResult, import_signal_file, process_inbox_batch

    if not file.is_file():
        raise VangnetError(f"File {file} does not exist.", hint="Give the path of the downloaded signal file.")
    try:
        run_date = date.fromisoformat(today) if today else datetime.now(DUTCH_TIME).date()
    except ValueError:
        raise VangnetError(f"--today {today!r} is not a date.", hint="Use YYYY-MM-DD, e.g. 2027-03-01.") from None
    now = datetime.now(timezone.utc) if today is None else datetime.combine(run_date, time(12), DUTCH_TIME)
    settings = Settings()
    engine = _open_store()
    try:
        imported = import_signal_file(engine, file.read_bytes(), source=SOURCE_IB, now=now)
    except ValueError as exc:
        raise VangnetError(f"{file}: {exc}") from None
    totals = BatchResult()
    while (batch := process_inbox_batch(engine, source=SOURCE_IB, limit=settings.batch_size, today=run_date)).claimed:
        totals.add(batch)
    if imported.unreadable:
        errors.print(f"[yellow]{file} could not be read as a signal file; it is stored and quarantined "
                     "(see the reason below).[/]")
    console.print(f"{file.name}: {imported.found} signals found, {imported.new} new in the inbox; "
                  f"{totals.signals_new} new signals, {totals.duplicates} already known, "
                  f"{totals.quarantined} quarantined, {totals.parked} parked, {totals.cases_created} cases opened.")
    with store.session_scope(engine) as session:
        _print_quarantine([{"bericht_id": q.bericht_id, "reden": q.reason} for q in store.list_quarantine(session)])


@lks_app.command("import")
def lks_import(
    file: Annotated[Path, typer.Argument(help="CSV (bsn,begin,einde,loonwaarde_pct,gemeentecode) or JSON.")],
) -> None:
    """Import LKS periods from the gemeente's own administration; bad rows are listed by row number."""
    from mappings.lks_file import LksFileError
    from services.lks import import_lks

    if not file.is_file():
        raise VangnetError(f"File {file} does not exist.", hint="Give the path of the LKS export (CSV or JSON).")
    try:
        result = import_lks(_open_store(), file.read_bytes(), filename=file.name)
    except LksFileError as exc:
        raise VangnetError(f"{file.name}: {exc}") from None
    console.print(f"{file.name}: {result.read} rows read, {result.stored_new} new, {result.updated} updated, "
                  f"{result.unchanged} unchanged, {len(result.rejected)} rejected.")
    for row, reason in result.rejected:
        errors.print(f"[yellow]row {row}:[/] {reason}")


@scenario_app.command("run")
def scenario_run(
    files: Annotated[list[Path], typer.Argument(help="Scenario files (README, 'Scenario files').")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON; JSON Lines with the file name for several.")] = False,
) -> None:
    """Run each scenario on a fresh store and fresh simulators, with the clock at its `vandaag`."""
    from flows import prefect_server
    from flows.scenario import load_scenario

    for file in files:
        load_scenario(file)  # fail fast, before starting anything
    settings = Settings()
    prefect_server.ensure_server(settings)
    prefect_server.apply_prefect_env(settings)
    from flows.scenario import run_scenario

    for file in files:
        result = run_scenario(file)
        if as_json:
            line = {"bestand": file.name, **result} if len(files) > 1 else result
            sys.stdout.write(json.dumps(line, ensure_ascii=False, indent=None if len(files) > 1 else 2) + "\n")
            sys.stdout.flush()
        else:
            console.print(f"[bold]{file.name}[/]")
            for case in result["cases"]:
                console.print(f"  {', '.join(case['bericht_ids'])}: {case['besluit'] or '-'} / {case['status']} — "
                              f"{case['reden']}")
            _print_quarantine(result["quarantaine"])


def _print_quarantine(rows: list[dict]) -> None:
    if not rows:
        return
    table = Table(title="Quarantine", title_justify="left")
    table.add_column("bericht_id")
    table.add_column("reden")
    for row in rows:
        table.add_row(row["bericht_id"] or "-", row["reden"])
    console.print(table)


def _print_cases(cases: list[dict], *, title: str | None = None) -> None:
    table = Table(title=title or f"Cases ({len(cases)})", title_justify="left")
    for column in ("case", "besluit", "status", "signals", "probleemanalyse", "plan van aanpak", "herijking 1", "RIV",
                   "zaak"):
        table.add_column(column)
    for case in cases:
        t = case["termijnen"]

        def due(step: str) -> str:
            if step not in t:
                return ""
            return t[step]["datum"] + (" [bold red]onverwijld[/]" if t[step]["onverwijld"] else "")

        table.add_row(case["case_id"], case["besluit"] or "-", case["status"], ", ".join(case["bericht_ids"]),
                      due("probleemanalyse"), due("plan_van_aanpak"), due("herijking_1"), due("riv"),
                      case["zaak_identificatie"] or "")
    console.print(table)


def _print_rows(title: str, rows: list[dict], columns: tuple[str, ...]) -> None:
    table = Table(title=f"{title} ({len(rows)})", title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row[c]) for c in columns))
    console.print(table)


def _print_deadlines(deadlines: list[dict]) -> None:
    table = Table(title="WVP steps overdue or due within 14 days", title_justify="left")
    for column in ("case", "step", "due", "days late", "by"):
        table.add_column(column)
    for d in deadlines:
        table.add_row(d["case_ref"], d["stap"], d["datum"].isoformat(), str(d["dagen_te_laat"] or ""),
                      "gemeente" if d["gemeente_verantwoordelijk"] else "UWV")
    console.print(table)


# -- server ---------------------------------------------------------------------------------------
@server_app.command("start")
def server_start() -> None:
    """Start (or reuse) the local Prefect server and print its UI address."""
    from flows.prefect_server import ensure_server

    url = ensure_server(Settings())
    console.print(f"Prefect server is up: {url.removesuffix('/api')}")


@server_app.command("stop")
def server_stop() -> None:
    """Stop the local Prefect server started by vangnet."""
    from flows.prefect_server import stop_server

    console.print("Stopped." if stop_server(Settings()) else "No local Prefect server was running.")


@server_app.command("status")
def server_status() -> None:
    """Say whether the Prefect server answers."""
    from flows.prefect_server import is_healthy

    settings = Settings()
    url = settings.resolved_prefect_api_url
    if not is_healthy(url):
        raise VangnetError(f"No Prefect server answers at {url}.", hint="Start it with `vangnet server start`.")
    console.print(f"Prefect server answers at {url.removesuffix('/api')}")


def main() -> None:
    """Entry point: run the app and turn failures into a message and an exit code."""
    try:
        app()
    except VangnetError as exc:
        errors.print(f"[bold red]Error:[/] {exc.message}")
        if exc.hint:
            errors.print(f"[yellow]What to do:[/] {exc.hint}")
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - last resort: no traceback (it may carry personal data) on screen
        log = _write_crash_log(exc)
        errors.print(f"[bold red]Unexpected error ({type(exc).__name__}).[/] Details for the developers: {log}")
        sys.exit(2)


def _write_crash_log(exc: BaseException) -> Path:
    log_dir = Settings().log_dir
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "crash.log"
    with path.open("a", encoding="utf-8") as out:
        out.write(f"--- {datetime.now().isoformat()} ---\n")
        out.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    logging.getLogger(__name__).debug("crash written to %s", path)
    return path
