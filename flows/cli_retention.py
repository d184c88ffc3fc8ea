"""`vangnet retention`: anonymise cases closed longer than the retention term (services.retention), now,
without Prefect. The weekly `retention` flow does the same on a schedule."""

from __future__ import annotations

from typing import Annotated, Optional

import typer


def retention(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count what would be anonymised.")] = False,
    today: Annotated[Optional[str], typer.Option(help="Today's date YYYY-MM-DD (default: the clock).")] = None,
) -> None:
    """Anonymise cases closed longer than VANGNET_RETENTION_YEARS (WIA: VANGNET_RETENTION_WIA_YEARS)."""
    from flows import cli
    from flows.settings import Settings
    from services.retention import RetentionResult, anonymise_due_cases

    day = cli._today(today)
    settings = Settings()
    engine = cli._open_store()
    total = RetentionResult(dry_run=dry_run)
    after_id = 0
    while True:
        batch = anonymise_due_cases(engine, today=day, years=settings.retention_years,
                                    wia_years=settings.retention_wia_years, limit=settings.batch_size,
                                    after_id=after_id, dry_run=dry_run)
        total.add(batch)
        if batch.claimed < settings.batch_size:
            break
        after_id = batch.last_case_id
    verb = "would be anonymised (dry run: nothing changed)" if dry_run else "anonymised"
    cli.console.print(f"Retention on {day} ({settings.retention_years} years, WIA {settings.retention_wia_years}): "
                      f"{total.anonymised} cases {verb}, {total.kept} older closed cases kept (WIA term not over).")
    removed = ", ".join(f"{k}={v}" for k, v in total.removed.items() if v)
    if removed:
        cli.console.print(f"  removed: {removed}")

