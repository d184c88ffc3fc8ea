"""`vangnet plan|ladder|instrument|dossier`: what staff record in a case's dossier (services.dossier).

Activities are given as 'activiteit|doel|YYYY-MM-DD' (the target date may be left out).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Optional

import typer
from rich.table import Table

import store
from flows.errors import VangnetError

plan_app = typer.Typer(help="The plan van aanpak.", no_args_is_help=True)
ladder_app = typer.Typer(help="The re-integratieladder.", no_args_is_help=True)
instrument_app = typer.Typer(help="Re-integration instruments.", no_args_is_help=True)
dossier_app = typer.Typer(help="Dossier entries for the RIV.", no_args_is_help=True)

CaseArg = Annotated[str, typer.Argument(help="Case reference, e.g. VN-000001.")]
DoorOpt = Annotated[Optional[str], typer.Option(help="Who records it (default: your user name).")]
TodayOpt = Annotated[Optional[str], typer.Option(help="Today's date YYYY-MM-DD (default: the clock).")]
ActivityOpt = Annotated[list[str], typer.Option("--activiteit", help="'activiteit|doel|YYYY-MM-DD'; repeat.")]
EvaluationOpt = Annotated[list[str], typer.Option("--evaluatie", help="Evaluation moment YYYY-MM-DD; repeat.")]


def _cli():
    from flows import cli  # the shared helpers (store, dates, console); imported late: cli imports this module

    return cli


def _activities(values: list[str]):
    from schemas.dossier import Activity

    out = []
    for value in values:
        parts = [p.strip() for p in value.split("|")]
        if len(parts) not in (2, 3) or not all(parts[:2]):
            raise VangnetError(f"--activiteit {value!r} is not 'activiteit|doel|YYYY-MM-DD'.",
                               hint="Give what is done and to which goal; the target date may be left out.")
        target = _cli()._date(parts[2], "--activiteit") if len(parts) == 3 and parts[2] else None
        out.append(Activity(parts[0], parts[1], target))
    return out


def _dates(values: list[str], option: str) -> list[date]:
    return [_cli()._date(v, option) for v in values]


def _choice(enum, value: str, what: str):
    try:
        return enum(int(value)) if enum.__name__ == "Trede" else enum(value)
    except ValueError:
        raise VangnetError(f"Unknown {what} {value!r}.", hint="One of: " + ", ".join(str(e.value) for e in enum)) from None


@plan_app.command("record")
def plan_record(
    case_id: CaseArg,
    op: Annotated[str, typer.Option(help="Date the plan was agreed, YYYY-MM-DD.")],
    contactpersoon: Annotated[str, typer.Option(help="The named contact person (art. 5).")],
    activiteit: ActivityOpt,
    evaluatie: EvaluationOpt = [],  # noqa: B006 - typer needs a list default
    door: DoorOpt = None,
    today: TodayOpt = None,
) -> None:
    """Record the plan van aanpak (version 1); its WVP step counts as done on --op."""
    from services.dossier import record_plan

    cli = _cli()
    run_date = cli._today(today)
    cli._record_step_change(lambda: record_plan(
        cli._open_store(), case_id, agreed_on=cli._date(op, "--op"), contact_person=contactpersoon,
        activities=_activities(activiteit), evaluation_moments=_dates(evaluatie, "--evaluatie"),
        by=cli._who(door), today=run_date))
    cli.console.print(f"{case_id}: plan van aanpak version 1 recorded.")


@plan_app.command("bijstelling")
def plan_bijstelling(
    case_id: CaseArg,
    op: Annotated[str, typer.Option(help="Date of the bijstelling, YYYY-MM-DD.")],
    reden: Annotated[str, typer.Option(help="The evaluation or assessment that gave cause.")],
    activiteit: ActivityOpt = [],  # noqa: B006
    evaluatie: EvaluationOpt = [],  # noqa: B006
    contactpersoon: Annotated[Optional[str], typer.Option(help="A new contact person.")] = None,
    door: DoorOpt = None,
    today: TodayOpt = None,
) -> None:
    """Record a bijstelling (art. 5(4)): the next version; what you don't give is copied from the last."""
    from services.dossier import record_bijstelling

    cli = _cli()
    run_date = cli._today(today)
    holder: list[int] = []
    cli._record_step_change(lambda: holder.append(record_bijstelling(
        cli._open_store(), case_id, on=cli._date(op, "--op"), reason=reden, by=cli._who(door),
        activities=_activities(activiteit) or None,
        evaluation_moments=_dates(evaluatie, "--evaluatie") if evaluatie else None,
        contact_person=contactpersoon, today=run_date)))
    cli.console.print(f"{case_id}: plan van aanpak version {holder[0]} recorded.")


@plan_app.command("copy")
def plan_copy(
    case_id: CaseArg,
    aan: Annotated[str, typer.Option(help="vangnetter or contactpersoon.")],
    op: Annotated[str, typer.Option(help="Date the copy was sent, YYYY-MM-DD.")],
    versie: Annotated[Optional[int], typer.Option(help="Plan version (default: the latest).")] = None,
    door: DoorOpt = None,
    today: TodayOpt = None,
) -> None:
    """Record that a copy of the plan was sent (art. 5)."""
    from schemas.dossier import Recipient
    from services.dossier import record_copy

    cli = _cli()
    run_date, recipient = cli._today(today), _choice(Recipient, aan, "recipient")
    holder: list[int] = []
    cli._record_step_change(lambda: holder.append(record_copy(
        cli._open_store(), case_id, recipient=recipient, sent_on=cli._date(op, "--op"), by=cli._who(door),
        today=run_date, version=versie)))
    cli.console.print(f"{case_id}: copy of plan version {holder[0]} to the {recipient.value} recorded.")


@plan_app.command("show")
def plan_show(case_id: CaseArg) -> None:
    """Every version of the plan van aanpak with activities, evaluation moments and copies."""
    from services.dossier import plan_history

    cli = _cli()
    with store.session_scope(cli._open_store()) as session:
        case = cli._existing_case(session, case_id)
        versions = plan_history(session, case.id)
    if not versions:
        cli.console.print(f"{case_id} has no plan van aanpak yet (`vangnet plan record`).")
    for v in versions:
        title = f"{case_id} plan van aanpak v{v.version} ({v.agreed_on}) — contact: {v.contact_person}"
        table = Table(title=title + (f" — bijstelling: {v.reason}" if v.reason else ""), title_justify="left")
        for column in ("activiteit", "doel", "streefdatum"):
            table.add_column(column)
        for a in v.activities:
            table.add_row(a.activiteit, a.doel, str(a.streefdatum or ""))
        cli.console.print(table)
        cli.console.print("evaluatie: " + (", ".join(map(str, v.evaluation_moments)) or "-") + "   afschriften: "
                          + (", ".join(f"{k} {d}" for k, d in v.copies.items()) or "-"))


@ladder_app.command("set")
def ladder_set(
    case_id: CaseArg,
    trede: Annotated[str, typer.Option(help="Trede 0 (zorg nodig) .. 9 (regulier werk, uitkering beëindigd).")],
    op: Annotated[str, typer.Option(help="Since when, YYYY-MM-DD.")],
    door: DoorOpt = None,
    today: TodayOpt = None,
) -> None:
    """Record the case's trede on the re-integratieladder."""
    from schemas.dossier import TREDE_LABELS, Trede
    from services.dossier import set_trede

    cli = _cli()
    run_date, value = cli._today(today), _choice(Trede, trede, "trede")
    cli._record_step_change(lambda: set_trede(cli._open_store(), case_id, trede=value, since=cli._date(op, "--op"),
                                              by=cli._who(door), today=run_date))
    cli.console.print(f"{case_id}: trede {int(value)} ({TREDE_LABELS[value]}) since {op}.")


@ladder_app.command("show")
def ladder_show(case_id: CaseArg) -> None:
    """The case's treden and instruments over time."""
    from schemas.dossier import TREDE_LABELS, Trede
    from services.dossier import instruments_of, ladder_history

    cli = _cli()
    with store.session_scope(cli._open_store()) as session:
        case = cli._existing_case(session, case_id)
        ladder = [(e.since, e.trede) for e in ladder_history(session, case.id)]
        instruments = [(i.instrument, i.started_on, i.ended_on) for i in instruments_of(session, case.id)]
    table = Table(title=f"{case_id} re-integratieladder", title_justify="left")
    table.add_column("since")
    table.add_column("trede")
    for since, trede in ladder:
        table.add_row(str(since), f"{trede} {TREDE_LABELS[Trede(trede)]}")
    cli.console.print(table)
    used = Table(title=f"{case_id} instruments", title_justify="left")
    for column in ("instrument", "from", "until"):
        used.add_column(column)
    for name, start, end in instruments:
        used.add_row(name, str(start), str(end or "(lopend)"))
    cli.console.print(used)


@instrument_app.command("start")
def instrument_start(
    case_id: CaseArg,
    instrument: Annotated[str, typer.Argument(help="e.g. jobcoaching, proefplaatsing, no_riskpolis.")],
    op: Annotated[str, typer.Option(help="Start date, YYYY-MM-DD.")],
    door: DoorOpt = None,
    today: TodayOpt = None,
) -> None:
    """Record that the case starts using an instrument."""
    from schemas.dossier import Instrument
    from services.dossier import start_instrument

    cli = _cli()
    run_date, value = cli._today(today), _choice(Instrument, instrument, "instrument")
    cli._record_step_change(lambda: start_instrument(cli._open_store(), case_id, value, started_on=cli._date(op, "--op"),
                                                     by=cli._who(door), today=run_date))
    cli.console.print(f"{case_id}: {value.value} from {op}.")


@instrument_app.command("stop")
def instrument_stop(
    case_id: CaseArg,
    instrument: Annotated[str, typer.Argument(help="The running instrument.")],
    op: Annotated[str, typer.Option(help="End date, YYYY-MM-DD.")],
    door: DoorOpt = None,
    today: TodayOpt = None,
) -> None:
    """Record the end of a running instrument."""
    from schemas.dossier import Instrument
    from services.dossier import end_instrument

    cli = _cli()
    run_date, value = cli._today(today), _choice(Instrument, instrument, "instrument")
    cli._record_step_change(lambda: end_instrument(cli._open_store(), case_id, value, ended_on=cli._date(op, "--op"),
                                                   by=cli._who(door), today=run_date))
    cli.console.print(f"{case_id}: {value.value} ended on {op}.")


@dossier_app.command("add")
def dossier_add(
    case_id: CaseArg,
    soort: Annotated[str, typer.Option(help="laatste_arbeid, opleiding_vaardigheden, duurzaamheid, herijking, "
                                            "evaluatie, passende_arbeid, mening_vangnetter or oordeel_gemeente.")],
    tekst: Annotated[str, typer.Option(help="The text for the RIV (never a diagnosis).")],
    op: Annotated[str, typer.Option(help="Date, YYYY-MM-DD.")],
    door: DoorOpt = None,
    today: TodayOpt = None,
) -> None:
    """Add a dossier entry that supplies a part of the re-integratieverslag."""
    from schemas.dossier import EntryKind
    from services.dossier import add_entry

    cli = _cli()
    run_date, kind = cli._today(today), _choice(EntryKind, soort, "soort")
    cli._record_step_change(lambda: add_entry(cli._open_store(), case_id, kind, entry_date=cli._date(op, "--op"),
                                              text=tekst, by=cli._who(door), today=run_date))
    cli.console.print(f"{case_id}: {kind.value} of {op} added to the dossier.")
