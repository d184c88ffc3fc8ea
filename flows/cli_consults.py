"""`vangnet consults ...`: the bedrijfsarts consults (the lead registers `consults_app` in flows/cli.py)."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

import store
from flows.errors import VangnetError
from flows.settings import Settings
from rules.booking import DUTCH_TIME

consults_app = typer.Typer(help="Bedrijfsarts consults (probleemanalyse) at the arbodienst.", no_args_is_help=True)
console = Console(width=None if sys.stdout.isatty() else 140)


@consults_app.command("list")
def consults_list(
    case: Annotated[Optional[str], typer.Option(help="Only this case, e.g. VN-000001.")] = None,
) -> None:
    """List consults: case, purpose, status, slot (Dutch time), attempt, deadline. No personal data."""
    from flows.runtime import migrated_engine

    with store.session_scope(migrated_engine(Settings())) as session:
        try:
            case_id = store.parse_case_ref(case) if case else None
        except ValueError:
            raise VangnetError(f"There is no case {case!r}.", hint="See `vangnet cases list` for references.") from None
        rows = [(c, store.get_case(session, c.case_id).ref) for c in store.list_consults(session, case_id=case_id)]
    table = Table(title="Consults", title_justify="left")
    for column in ("case", "purpose", "status", "slot", "attempt", "latest date", "booking"):
        table.add_column(column)
    for consult, case_ref in rows:
        slot = f"{consult.slot_start.astimezone(DUTCH_TIME):%Y-%m-%d %H:%M}" if consult.slot_start else ""
        table.add_row(case_ref, consult.purpose.value, consult.status, slot, str(consult.attempt),
                      str(consult.latest_date or "zo snel mogelijk"), consult.booking_ref or "")
    if not rows:
        console.print("No consults yet.")
        return
    console.print(table)
