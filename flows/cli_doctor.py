"""`vangnet doctor`: checks configuration, database, certificates, partners and rule files, and says
what is wrong and how to fix it. The checks live in `services/doctor.py`; this only renders them.

Exit code 0 when no check failed (warnings and skips are fine), 1 otherwise. Output names variables,
files and hosts, never a secret value.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

STYLES = {"ok": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}


def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON (a list).")] = False,
    deep: Annotated[bool, typer.Option("--deep", help="Also compile the e-invoicing rules (10-20 s).")] = False,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds per partner connection attempt.")] = 3.0,
) -> None:
    """Check configuration, database, certificates, partners and rule files; say what is wrong and how to fix it."""
    from services.doctor import has_failures, run_checks

    checks = run_checks(timeout=timeout, deep=deep)
    if as_json:
        sys.stdout.write(json.dumps([c.as_dict() for c in checks], indent=2, ensure_ascii=False) + "\n")
    else:
        print_checks(checks, Console(width=None if sys.stdout.isatty() else 160))
    if has_failures(checks):
        raise typer.Exit(1)


def print_checks(checks: list, console: Console) -> None:
    """The checks as a table (check, status, detail, fix) and a summary line."""
    from services.doctor import summary

    table = Table(title="vangnet doctor", title_justify="left", show_lines=False)
    table.add_column("check", max_width=32, overflow="fold")
    table.add_column("status", no_wrap=True)
    table.add_column("detail", ratio=3, overflow="fold")
    table.add_column("fix", ratio=2, overflow="fold")
    for check in checks:
        table.add_row(Text(check.name), Text(check.status, style=STYLES[check.status]), Text(check.detail),
                      Text(check.fix or ""))
    console.print(table)
    counts = summary(checks)
    line = (f"{counts['ok']} ok, {counts['warn']} warnings, {counts['fail']} failed, {counts['skip']} skipped "
            "(not configured).")
    if counts["fail"]:
        console.print(f"[bold red]Not ready:[/] {line} Fix the failed checks, then run `vangnet doctor` again.")
    elif counts["warn"]:
        console.print(f"[yellow]Ready, with warnings:[/] {line}")
    else:
        console.print(f"[green]Ready:[/] {line}")


doctor_app = typer.Typer(help="Check this installation.", add_completion=False, pretty_exceptions_enable=False)
doctor_app.command()(doctor)
