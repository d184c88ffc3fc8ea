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
