"""`vangnet orders ...`: orders (opdrachten) to providers — list, show, create, report received.

Provider contracts are JSON files in the folder `VANGNET_PROVIDER_CONTRACTS_DIR`; unset, the demo
contracts in `simulators/data/providers/` are used (production sets the variable to the gemeente's own
contract folder). Output carries case references and order numbers only, never a BSN.
"""

from __future__ import annotations

import getpass
import sys
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from flows.errors import VangnetError


orders_app = typer.Typer(help="Orders (opdrachten) to the arbodienst and re-integration providers.",
                         no_args_is_help=True)
console = Console(width=None if sys.stdout.isatty() else 140)


def contracts_dir() -> Path:
    """The folder with provider contracts (`VANGNET_PROVIDER_CONTRACTS_DIR`, else the demo contracts)."""
    from flows.runtime import contracts_dir as configured_dir
    from flows.settings import Settings

    return configured_dir(Settings())


def _engine():
    from flows.runtime import migrated_engine
    from flows.settings import Settings

    return migrated_engine(Settings())


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise VangnetError(f"{option} {value!r} is not a date.", hint="Use YYYY-MM-DD.") from None


def _today(value: str | None) -> date:
    from services.intake import DUTCH_TIME

    return _date(value, "--today") if value else datetime.now(DUTCH_TIME).date()


def parse_hours(value: str) -> dict[str, Decimal]:
    """`bedrijfsarts=3,casemanager=10` → hours per role (a comma separates pairs: write 7.5, not 7,5)."""
    hours: dict[str, Decimal] = {}
    for part in filter(None, (p.strip() for p in value.split(","))):
        role, sep, amount = (x.strip() for x in part.partition("="))
        try:
            if not sep or not role:
                raise InvalidOperation
            number = Decimal(amount)
        except InvalidOperation:
            raise VangnetError(f"--hours {part!r} is not role=hours.",
                               hint="Use e.g. --hours bedrijfsarts=3,casemanager=10 (decimals with a point).") from None
        if role in hours:
            raise VangnetError(f"--hours names {role} twice.", hint="Give each role once.")
        hours[role] = number
    if not hours:
        raise VangnetError("--hours is empty.", hint="Use e.g. --hours bedrijfsarts=3,casemanager=10")
    return hours


def _service(call):
    from mappings.provider_contract import ContractError
    from services.orders import OrderError

    try:
        return call()
    except OrderError as exc:
        raise VangnetError(str(exc)) from None
    except ContractError as exc:
        raise VangnetError(f"Provider contract: {exc}",
                           hint="Fix the contract file, or point VANGNET_PROVIDER_CONTRACTS_DIR at the folder with contracts.") from None


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:.2f}"


@orders_app.command("list")
def orders_list(case: Annotated[Optional[str], typer.Option("--case", help="Only this case, e.g. VN-000001.")] = None) -> None:
    """List orders: number, case, provider, kind, status, period and budget."""
    from services.orders import list_orders

    orders = _service(lambda: list_orders(_engine(), case))
    table = Table(title="Orders (opdrachten)", title_justify="left")
    for column in ("order", "case", "provider", "kind", "status", "start", "end", "budget (excl. VAT)"):
        table.add_column(column)
    for o in orders:
        budget = (_money(o.budget_amount) if o.budget_amount is not None
                  else ", ".join(f"{r} {h}h" for r, h in (o.budget_hours or {}).items()))
        table.add_row(o.order_number, o.case_ref, o.provider_id, o.kind, o.status, str(o.start_date),
                      str(o.end_date or "-"), budget)
    console.print(table if orders else "No orders" + (f" for {case}." if case else "."))


@orders_app.command("show")
def orders_show(order_number: Annotated[str, typer.Argument(help="Order number, e.g. OPD-0518-000001-01.")]) -> None:
    """One order: roles and rates, budget, and the reports owed with due and received dates."""
    from services.orders import order_detail

    detail = _service(lambda: order_detail(_engine(), order_number))
    o = detail.order
    console.print(f"[bold]{o.order_number}[/bold] — case {o.case_ref}, provider {o.provider_id}, {o.kind}, {o.status}")
    console.print(f"period: {o.start_date} – {o.end_date or 'open'}")
    roles = Table(title="Roles (rate per hour excl. VAT, as of the start)", title_justify="left")
    for column in ("role", "rate", "hours ordered", "amount"):
        roles.add_column(column)
    for role, rate in o.roles.items():
        h = (o.budget_hours or {}).get(role)
        roles.add_row(role, _money(rate), "-" if h is None else str(h), "-" if h is None else _money(h * rate))
    console.print(roles)
    label = "fixed price" if o.budget_amount is not None else "budget"
    console.print(f"{label} (excl. VAT): {_money(o.value_excl_vat)}")
    reports = Table(title="Reports owed", title_justify="left")
    for column in ("kind", "due", "received"):
        reports.add_column(column)
    for r in detail.reports:
        reports.add_row(r.kind, str(r.due_date), str(r.received_on or "-"))
    console.print(reports if detail.reports else "No reports owed under this order.")


@orders_app.command("create")
def orders_create(
    case_id: Annotated[str, typer.Argument(help="Case reference, e.g. VN-000001.")],
    provider: Annotated[str, typer.Option(help="Contract file, its name in the contract folder, or provider id (kvk:...).")],
    kind: Annotated[str, typer.Option(help="regie (hours per role) or traject (fixed price).")],
    start: Annotated[str, typer.Option(help="Start date, YYYY-MM-DD.")],
    hours: Annotated[Optional[str], typer.Option(help="For regie: role=hours,... e.g. bedrijfsarts=3,casemanager=10.")] = None,
    traject: Annotated[Optional[str], typer.Option(help="For traject: its name in the contract, e.g. 2e-spoor-12.")] = None,
    end: Annotated[Optional[str], typer.Option(help="End date for regie, YYYY-MM-DD (a traject's follows from its length).")] = None,
    door: Annotated[Optional[str], typer.Option(help="Who orders (default: your user name).")] = None,
    today: Annotated[Optional[str], typer.Option(help="Today's date YYYY-MM-DD (default: the clock).")] = None,
) -> None:
    """Order work from a provider for a case; running it again with the same request changes nothing."""
    from mappings.provider_contract import find_contract
    from services.orders import create_order

    if kind.lower() not in ("regie", "traject"):
        raise VangnetError(f"--kind {kind!r} is not an order kind.", hint="Use --kind regie or --kind traject.")
    contract = _service(lambda: find_contract(contracts_dir(), provider))
    summary = _service(lambda: create_order(
        _engine(), case_ref=case_id, contract=contract, kind=kind.lower(), today=_today(today),
        start=_date(start, "--start"), end=_date(end, "--end") if end else None,
        hours=parse_hours(hours) if hours else None, traject=traject, by=door or getpass.getuser()))
    verb = "Created" if summary.created else "Already there:"
    console.print(f"{verb} order {summary.order_number} for {summary.case_ref} at {contract.naam} "
                  f"({summary.provider_id}), {summary.kind}, {summary.start_date} – {summary.end_date or 'open'}, "
                  f"value {_money(summary.value_excl_vat)} excl. VAT.", soft_wrap=True)


@orders_app.command("report-received")
def orders_report_received(
    order_number: Annotated[str, typer.Argument(help="Order number, e.g. OPD-0518-000001-01.")],
    kind: Annotated[str, typer.Argument(help="START, WIA, VOORTGANG or AFRONDING.")],
    due: Annotated[str, typer.Option(help="The report's due date, YYYY-MM-DD (see `orders show`).")],
    op: Annotated[str, typer.Option(help="Date it was received, YYYY-MM-DD.")],
    door: Annotated[Optional[str], typer.Option(help="Who records it (default: your user name).")] = None,
    today: Annotated[Optional[str], typer.Option(help="Today's date YYYY-MM-DD (default: the clock).")] = None,
) -> None:
    """Record that a provider's report came in (it drops off the deadline monitor)."""
    from services.orders import record_report

    line = _service(lambda: record_report(_engine(), order_number, kind, _date(due, "--due"), _date(op, "--op"),
                                          door or getpass.getuser(), today=_today(today)))
    console.print(f"Report {line.kind} of {order_number} due {line.due_date}: received on {line.received_on}.",
                  soft_wrap=True)
