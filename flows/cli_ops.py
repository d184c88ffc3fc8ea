"""Operator commands: `vangnet serve` (run the schedules) and `vangnet deploy --pool NAME` (for workers).

Both talk to the configured Prefect server (`VANGNET_PREFECT_API_URL`), or start/reuse the local one.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from flows.settings import Settings

console = Console()


def _prefect(settings: Settings) -> str:
    from flows import prefect_server

    url = prefect_server.ensure_server(settings)
    prefect_server.apply_prefect_env(settings)
    return url


def serve() -> None:
    """Run every vangnet deployment on its schedule from this process until Ctrl-C (see flows/deployments.py)."""
    settings = Settings()
    url = _prefect(settings)
    from flows.deployments import deployment_specs, serve_all

    for spec in deployment_specs(settings):
        when = spec.cron and f"cron {spec.cron}" or spec.interval_minutes and f"every {spec.interval_minutes} min"
        console.print(f"  {spec.name}: {when or 'on demand'}")
    console.print(f"Serving against {url.removesuffix('/api')} — Ctrl-C stops (schedules are paused then).")
    serve_all(settings)


def deploy(pool: Annotated[str, typer.Option(help="Work pool (type process) the workers poll.")] = "vangnet") -> None:
    """Register every deployment on a process work pool (created when missing) for `prefect worker start`."""
    settings = Settings()
    url = _prefect(settings)
    from flows.deployments import deploy_to_pool, ensure_process_pool

    created = ensure_process_pool(pool)
    ids = deploy_to_pool(settings, pool)
    console.print(f"Work pool {pool!r} {'created' if created else 'exists'} at {url.removesuffix('/api')}; "
                  f"deployments: {', '.join(sorted(ids))}.")
    console.print(f"Start workers with: prefect worker start --pool {pool}")


scaleout_app = typer.Typer(help="Prefect server on PostgreSQL with workers, and the store on PostgreSQL.",
                           no_args_is_help=True)


@scaleout_app.command("up")
def scaleout_up(
    workers: Annotated[int, typer.Option(help="Workers per gemeente.")] = 2,
    gemeente: Annotated[list[str], typer.Option(help="Gemeentecode served (repeat for several); default "
                                                "VANGNET_GEMEENTECODE. Its own settings: a file .env.<code>.")] = [],
    pg_url: Annotated[str | None, typer.Option(help="PostgreSQL server URL (user may CREATE DATABASE); "
                                               "default: a local server started here.")] = None,
    port: Annotated[int, typer.Option(help="Port of the Prefect server.")] = 4300,
) -> None:
    """Start PostgreSQL (unless given), Prefect server on it, a process work pool per gemeente with every
    deployment, and the workers (see flows/scaleout.py)."""
    from flows.scaleout import Gemeente, up

    settings = Settings()
    codes = gemeente or ([settings.gemeentecode] if settings.gemeentecode else [])
    if not codes:
        from flows.errors import VangnetError

        raise VangnetError("No gemeente to serve.", hint="Give --gemeente 0518 (repeatable) or set VANGNET_GEMEENTECODE.")
    gemeenten = [Gemeente(code, env=_env_file(f".env.{code}")) for code in codes]
    state = up(settings, gemeenten=gemeenten, workers=workers, port=port, pg_url=pg_url)
    console.print(f"Prefect UI: {state.api_url.removesuffix('/api')} (database on PostgreSQL)")
    for g in state.gemeenten:
        console.print(f"  gemeente {g['code']}: pool vangnet-{g['code']}, store {_masked(g['database_url'])}")
    console.print(f"  workers: {', '.join(state.workers)}; logs in {state.home}/logs. Stop: `vangnet scaleout down`.")


@scaleout_app.command("down")
def scaleout_down() -> None:
    """Stop the workers, the Prefect server and a PostgreSQL started by `up`."""
    from flows.scaleout import down

    console.print("Stopped." if down(Settings()) else "No scale-out was running.")


def _env_file(name: str) -> dict[str, str]:
    """KEY=VALUE lines of a gemeente's own settings file (absent: none)."""
    from pathlib import Path

    path = Path(name)
    if not path.is_file():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines()
             if "=" in line and not line.lstrip().startswith("#"))
    return {k.strip(): v.strip().strip('"') for k, v in pairs}


def _masked(url: str) -> str:
    from store import safe_url

    return safe_url(url)


alerts_app = typer.Typer(help="Operator alerts: Prefect automations posting to a webhook.", no_args_is_help=True)


@alerts_app.command("setup")
def alerts_setup(
    webhook: Annotated[str | None, typer.Option(
        "--webhook", help="Overrides VANGNET_ALERT_WEBHOOK_URL (prefer the variable: a URL on the command line "
        "ends up in shell history).")] = None,
) -> None:
    """Create or update the alert block and the automations (safe to repeat)."""
    settings = Settings()
    _prefect(settings)
    from flows.alerts import resolve_webhook_url, setup_alerts

    def secret(value):
        return value.get_secret_value() if value else None

    ids = setup_alerts(resolve_webhook_url(webhook, secret(settings.alert_webhook_url)),
                       intake_within_seconds=settings.alert_intake_window,
                       token=secret(settings.alert_webhook_token), email_to=settings.alert_email_to)
    for name, id_ in ids.items():
        console.print(f"{name}: {id_}")


@alerts_app.command("remove")
def alerts_remove() -> None:
    """Delete vangnet's automations and alert block."""
    _prefect(Settings())
    from flows.alerts import remove_alerts

    remove_alerts()
    console.print("Alerts removed.")
