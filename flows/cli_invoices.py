"""`vangnet invoices ...`: provider e-invoices — validate and check files, sync, list, show, review, export.

`validate` runs the official rules only (UBL 2.1 XSD, then SI-UBL 2.0 or Peppol BIS 3 chosen by the
CustomizationID); `check` also reconciles against the stored orders without storing anything. Both print
per file a `verdict` and `findings` (`code`, `severity`, `source`, `line`, `message`) and exit with 1 when
a file is INVALID / REJECTED, else 0. The rules come from `VANGNET_EINVOICE_RULES_DIR` (default: the
shared corpus when present); without rules only structural checks run, and the command says so.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from flows.errors import VangnetError
from flows.settings import Settings

invoices_app = typer.Typer(help="Provider e-invoices: validate, check, sync, review and export.", no_args_is_help=True)
console = Console(width=None if sys.stdout.isatty() else 140)
errors = Console(stderr=True, width=None if sys.stderr.isatty() else 140)
PROGRESS_FROM = 5  # files; fewer finish before a bar is worth drawing

FilesArg = Annotated[list[Path], typer.Argument(help="UBL files (Invoice, CreditNote).", exists=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (one object per file in a list).")]
RulesOpt = Annotated[Optional[Path], typer.Option("--rules", help="Rule folder (overrides VANGNET_EINVOICE_RULES_DIR).")]


def _validator(rules: Path | None):
    from flows import runtime

    settings = Settings()
    if rules is not None:
        settings = settings.model_copy(update={"einvoice_rules_dir": rules})
    validator = runtime.invoice_validator(settings)
    if not validator.has_rules:
        errors.print("[yellow]No e-invoicing rules configured: only structural checks run.[/] "
                     "Set VANGNET_EINVOICE_RULES_DIR to the folder with the official SI-UBL/Peppol artefacts.")
    return validator


def _read(paths: list[Path]) -> Iterator[tuple[Path, bytes]]:
    for path in paths:
        if not path.is_file():
            raise VangnetError(f"{path} is not a file.", hint="Give paths of UBL XML files.")
    for path in paths:
        yield path, path.read_bytes()


def _with_progress(items: list[Path], work: Callable[[Path, bytes], dict[str, Any]]) -> list[dict[str, Any]]:
    results = []
    show = len(items) >= PROGRESS_FROM
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=errors, transient=True, disable=not show) as progress:
        task = progress.add_task("Checking invoices", total=len(items))
        for path, data in _read(items):
            results.append(work(path, data))
            progress.advance(task)
    return results


def _finding_json(f) -> dict[str, Any]:
    return {"code": f.code, "severity": str(f.severity), "source": str(f.source), "line": f.line,
            "message": f.message, "location": f.location}


@invoices_app.command("validate")
def invoices_validate(files: FilesArg, as_json: JsonOpt = False, rules: RulesOpt = None) -> None:
    """Validate files with the official rules only (XSD + SI-UBL / Peppol / EN 16931)."""
    validator = _validator(rules)

    def work(path: Path, data: bytes) -> dict[str, Any]:
        result = validator.validate(data, name=path.name)
        return {"file": str(path), "verdict": str(result.verdict), "profile": result.profile,
                "document": result.document, "findings": [_finding_json(f) for f in result.findings]}

    results = _with_progress(files, work)
    _print(results, as_json)
    if any(r["verdict"] == "INVALID" for r in results):
        raise typer.Exit(1)


@invoices_app.command("check")
def invoices_check(files: FilesArg, as_json: JsonOpt = False, rules: RulesOpt = None) -> None:
    """Validate and reconcile files against the stored orders (nothing is stored)."""
    import store
    from flows import runtime
    from services.invoice_checks import assess

    settings = Settings()
    validator = _validator(rules)
    contracts = runtime.provider_contracts(settings)
    engine = runtime.migrated_engine(settings)
    with store.session_scope(engine) as session:
        def work(path: Path, data: bytes) -> dict[str, Any]:
            checked = assess(session, validator.validate(data, name=path.name), contracts)
            inv = checked.invoice
            return {"file": str(path), "verdict": str(checked.verdict), "profile": checked.validation.profile,
                    "invoice": inv.invoice_number if inv else None, "supplier": inv.supplier_id if inv else None,
                    "order": inv.order_number if inv else None,
                    "findings": [_finding_json(f) for f in checked.findings]}

        results = _with_progress(files, work)
        session.rollback()
    _print(results, as_json)
    if any(r["verdict"] == "REJECTED" for r in results):
        raise typer.Exit(1)


def _print(results: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        return
    for r in results:
        colour = {"VALID": "green", "APPROVED": "green", "INVALID": "red", "REJECTED": "red"}.get(r["verdict"], "yellow")
        console.print(f"[bold]{r['file']}[/]: [{colour}]{r['verdict']}[/] ({r.get('profile') or 'no profile'})")
        for f in r["findings"]:
            where = f" line {f['line']}" if f["line"] else ""
            console.print(f"  {f['severity']:<8} {f['source']:<9} {f['code']}{where}: {f['message']}")


def _engine():
    from flows.runtime import migrated_engine

    return migrated_engine(Settings())


@invoices_app.command("sync")
def invoices_sync() -> None:
    """Run the invoice-sync flow once (fetch, check, export, answer) on the local Prefect server."""
    from flows import prefect_server

    settings = Settings()
    prefect_server.ensure_server(settings)
    prefect_server.apply_prefect_env(settings)
    from flows.invoices import invoice_sync_flow

    counts = invoice_sync_flow()
    console.print("invoices: " + ", ".join(f"{k}={v}" for k, v in counts.items()))


@invoices_app.command("list")
def invoices_list(
    verdict: Annotated[Optional[str], typer.Option(help="Only APPROVED, DISPUTED or REJECTED.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Stored invoices: number, provider, order, amount, verdict, finding codes."""
    import store
    from services.invoices import table_row
    from store import invoices as invoice_store

    with store.session_scope(_engine()) as session:
        rows = [{"id": inv.id, **table_row(inv, (f.code for f in invoice_store.findings_of(session, inv.id)))}
                for inv in invoice_store.list_invoices(session, verdict=verdict and verdict.upper())]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    _table("Invoices", rows, ("id", "invoice", "provider", "order", "amount", "verdict", "findings"))


@invoices_app.command("show")
def invoices_show(invoice_id: Annotated[int, typer.Argument(help="Invoice id (see `invoices list`).")]) -> None:
    """One invoice with every finding and the decision on it."""
    import store
    from store import invoices as invoice_store

    with store.session_scope(_engine()) as session:
        inv = invoice_store.get_invoice(session, invoice_id)
        if inv is None:
            raise VangnetError(f"Invoice {invoice_id} does not exist.", hint="See `vangnet invoices list`.")
        console.print(f"[bold]{inv.invoice_number}[/] ({inv.document} {inv.type_code}) from {inv.supplier_id}, "
                      f"order {inv.order_number or '-'}: {inv.verdict} (rules: {inv.auto_verdict})")
        console.print(f"issued {inv.issue_date}, period {inv.period_start or '-'} – {inv.period_end or '-'}, "
                      f"{inv.currency} {inv.total_excl_vat} excl. VAT, {inv.total_incl_vat} incl. VAT")
        if inv.decision:
            console.print(f"decision: {inv.decision} by {inv.decided_by} on {inv.decided_at:%Y-%m-%d %H:%M}"
                          + (f", amount {inv.approved_amount}" if inv.approved_amount is not None else "")
                          + (f": {inv.decision_reason}" if inv.decision_reason else ""))
        rows = [{"code": f.code, "severity": f.severity, "source": f.source, "line": f.line or "",
                 "message": f.message} for f in invoice_store.findings_of(session, inv.id)]
    _table("Findings", rows, ("code", "severity", "source", "line", "message"))


@invoices_app.command("review")
def invoices_review(
    invoice_id: Annotated[int, typer.Argument(help="Id of a DISPUTED invoice.")],
    approve: Annotated[bool, typer.Option("--approve", help="Pay in full.")] = False,
    reject: Annotated[bool, typer.Option("--reject", help="Send back (needs --reason).")] = False,
    partial: Annotated[Optional[str], typer.Option("--partial", help="Pay this amount excl. VAT (needs --reason).")] = None,
    reason: Annotated[Optional[str], typer.Option(help="Why; the provider sees it. No personal data.")] = None,
) -> None:
    """Decide a DISPUTED invoice (the same as the form of the invoice-review flow)."""
    from services.invoices import InvoiceDecisionError, decide

    chosen = [name for name, on in (("approve", approve), ("reject", reject), ("partial", partial is not None)) if on]
    if len(chosen) != 1:
        raise VangnetError("Choose exactly one of --approve, --reject or --partial AMOUNT.")
    amount = None
    if partial is not None:
        try:
            amount = Decimal(partial)
        except InvalidOperation:
            raise VangnetError(f"--partial {partial!r} is not an amount.", hint="Use e.g. --partial 812.50") from None
    try:
        inv = decide(_engine(), invoice_id, chosen[0], by=f"cli:{getpass.getuser()}", reason=reason, amount=amount)
    except InvoiceDecisionError as exc:
        raise VangnetError(str(exc)) from None
    console.print(f"Invoice {inv.invoice_number}: {inv.verdict} ({chosen[0]}). Run `vangnet invoices export` "
                  "or wait for the next invoice-sync to hand it to finance.")


@invoices_app.command("export")
def invoices_export() -> None:
    """Write booking files (CSV + JSON) for approved invoices not exported yet."""
    from datetime import datetime, timezone

    from flows.runtime import finance_export_dir
    from services.invoices import export_approved

    paths = export_approved(_engine(), finance_export_dir(Settings()), now=datetime.now(timezone.utc))
    console.print("\n".join(str(p) for p in paths) if paths else "Nothing to export.")


def _table(title: str, rows: Iterable[dict[str, Any]], columns: tuple[str, ...]) -> None:
    rows = list(rows)
    if not rows:
        console.print(f"{title}: none.")
        return
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row.get(c, "")) for c in columns))
    console.print(table)
