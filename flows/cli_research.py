"""`vangnet research-export`: the pseudonymised research CSV and its data dictionary (services.research_export).

Prints counts and file paths only, never a pseudonym, and needs the research key from
VANGNET_RESEARCH_KEY or VANGNET_RESEARCH_KEY_FILE (no default).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from flows.errors import VangnetError

KEY_HINT = ("Set VANGNET_RESEARCH_KEY (at least 16 bytes, e.g. the output of "
            "`python -c \"import secrets; print(secrets.token_hex(32))\"`) or VANGNET_RESEARCH_KEY_FILE (a file "
            "holding it). Keep it out of the repository and keep the same key to follow people across exports.")


def research_export(
    out: Annotated[Path, typer.Option(help="Folder to write the CSV and the data dictionary to.")],
    today: Annotated[Optional[str], typer.Option(help="Export date YYYY-MM-DD (default: the clock).")] = None,
) -> None:
    """Write the pseudonymised research export (one row per case, keyed hash instead of BSN) and its dictionary."""
    from flows import cli
    from flows.settings import Settings
    from services.research_export import ResearchKeyError, export_research, load_key

    day = cli._today(today)
    settings = Settings()
    secret = settings.research_key.get_secret_value() if settings.research_key else None
    try:
        key = load_key(secret, settings.research_key_file)
    except ResearchKeyError as exc:
        message = {"missing": "No research key is configured.",
                   "unreadable": f"The research key file {settings.research_key_file} can't be read.",
                   "short": "The research key is too short: it needs at least 16 bytes."}[exc.kind]
        raise VangnetError(message, hint=KEY_HINT) from None
    if out.exists() and not out.is_dir():
        raise VangnetError(f"{out} exists and is not a folder.", hint="Give a folder for --out.")
    try:
        result = export_research(cli._open_store(), out, key=key, today=day, batch_size=settings.batch_size)
    except OSError as exc:
        raise VangnetError(f"Could not write the export to {out} ({type(exc).__name__}).",
                           hint="Check that the folder is writable.") from None
    cli.console.print(f"Research export: {result.rows} cases.")
    for path in (result.csv_path, result.dictionary_csv, result.dictionary_md):
        cli.console.print(f"  {path}")
