"""`vangnet riv`: the re-integratieverslag (Regeling art. 8) of a case as HTML and PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from flows.errors import VangnetError


def riv(
    case_id: Annotated[str, typer.Argument(help="Case reference, e.g. VN-000001.")],
    out: Annotated[Path, typer.Option(help="Output file; FILE.html and FILE.pdf are written (a .html or .pdf "
                                           "suffix is dropped first).")],
    final: Annotated[bool, typer.Option("--final", help="Mark it final and the RIV step done; refused while "
                                                       "parts are missing.")] = False,
    today: Annotated[Optional[str], typer.Option(help="Today's date YYYY-MM-DD (default: the clock).")] = None,
    door: Annotated[Optional[str], typer.Option(help="Who makes it (default: your user name).")] = None,
) -> None:
    """Assemble the re-integratieverslag of a case: every art. 8 part (a-k), or the gap and what supplies it."""
    from flows import cli
    from services.riv import RivError, generate_riv

    run_date = cli._today(today)
    try:
        result = generate_riv(cli._open_store(), case_id, out=out, today=run_date, by=cli._who(door), final=final)
    except RivError as exc:
        hint = (f"Run `vangnet riv {case_id} --out FILE` without --final to see what supplies each missing part."
                if final else None)
        raise VangnetError(str(exc), hint=hint) from None
    except OSError as exc:
        raise VangnetError(f"Could not write the RIV of {case_id} to {out}: {exc.strerror or exc}.",
                           hint="Choose an --out in a folder you can write to.") from None
    state = "final" if result.final else "draft"
    cli.console.print(escape(f"{result.case_ref}: RIV version {result.version} ({state}) written to "
                             f"{result.html_path} and {result.pdf_path}."))
    gaps = result.riv.gaps
    if not gaps:
        cli.console.print("Every part of art. 8 (a-k) is present.")
        return
    table = Table(title=f"Missing parts ({len(gaps)})", title_justify="left")
    for column in ("part", "title", "supplied by", "what to do"):
        table.add_column(column)
    for p in gaps:
        table.add_row(p.letter, escape(p.title), escape(p.supplied_by or "-"), escape(p.hint or ""))
    cli.console.print(table)
