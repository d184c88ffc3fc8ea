"""vangnet's schedules as Prefect deployments, declared here and nowhere else.

| deployment | flow | when (Europe/Amsterdam) |
|---|---|---|
| `signal-intake` | pull IB signals, process the inbox | every `VANGNET_SCHEDULE_INTAKE_MINUTES` (15) |
| `casework` | takeover decisions → zaken → orders | every `VANGNET_SCHEDULE_INTAKE_MINUTES`, 5 minutes after the intake |
| `suwinet-safety-net` | Suwinet changes of open cases | nightly 02:00 |
| `consult-lifecycle` | plan, book, follow up bedrijfsarts consults | every `VANGNET_SCHEDULE_CONSULTS_MINUTES` (30) |
| `invoice-sync` | fetch, check, export provider invoices | daily 06:00 |
| `wvp-deadline-monitor` | the deadline table and overdue events | daily 07:00 |
| `riv-preparation` | assemble RIVs due within `VANGNET_RIV_LEAD_WEEKS`, list missing parts | daily 07:30 |
| `management-report` | last month's management report (page + an artifact per figure) | monthly, on the 2nd at 07:00 |
| `retention` | anonymise cases closed longer than the retention term | weekly, Sunday 03:00 |
| `invoice-review` | a clerk decides disputed invoices | on demand (Run in the UI) |

No deployment has parameters: every run reads its configuration (`VANGNET_*`) and the date itself, so
nothing personal can end up in a parameter. `vangnet serve` runs them in one process against the
configured Prefect server; `deploy_to_pool` registers them on a work pool for workers (scale-out).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from flows.settings import Settings

REPO_DIR = Path(__file__).resolve().parent.parent
TIMEZONE = "Europe/Amsterdam"
TAGS = ("vangnet",)


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment: the flow (`module:function`), what it does, and its schedule (cron or interval)."""

    name: str
    entrypoint: str
    description: str
    cron: str | None = None
    interval_minutes: int | None = None
    offset_minutes: int = 0

    @property
    def path_entrypoint(self) -> str:
        """The entrypoint as a file path (`flows/intake.py:intake_flow`), for work-pool deployments."""
        module, _, function = self.entrypoint.partition(":")
        return f"{module.replace('.', '/')}.py:{function}"

    def load_flow(self):
        """The flow object."""
        module, _, function = self.entrypoint.partition(":")
        return getattr(importlib.import_module(module), function)

    def schedules(self) -> list:
        """This deployment's Prefect schedules (none: on demand)."""
        from prefect.schedules import Cron, Interval

        if self.cron:
            return [Cron(self.cron, timezone=TIMEZONE)]
        if self.interval_minutes:
            anchor = datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=self.offset_minutes)
            return [Interval(timedelta(minutes=self.interval_minutes), anchor_date=anchor, timezone=TIMEZONE)]
        return []


def deployment_specs(settings: Settings) -> list[DeploymentSpec]:
    """Every deployment with the schedule the settings give."""
    intake, consults = settings.schedule_intake_minutes, settings.schedule_consults_minutes
    return [
        DeploymentSpec("signal-intake", "flows.intake:intake_flow", "Pull new IB signals and process the inbox.",
                       interval_minutes=intake),
        DeploymentSpec("casework", "flows.pipeline:casework_flow",
                       "Takeover decisions, zaak registration and orders for new cases.",
                       interval_minutes=intake, offset_minutes=min(5, intake - 1) if intake > 1 else 0),
        DeploymentSpec("suwinet-safety-net", "flows.safety_net:safety_net_flow",
                       "Ask Suwinet for changes of open cases.", cron="0 2 * * *"),
        DeploymentSpec("consult-lifecycle", "flows.consults:consult_lifecycle_flow",
                       "Plan, book and follow up bedrijfsarts consults.", interval_minutes=consults),
        DeploymentSpec("invoice-sync", "flows.invoices:invoice_sync_flow",
                       "Fetch, validate, reconcile and export provider invoices.", cron="0 6 * * *"),
        DeploymentSpec("wvp-deadline-monitor", "flows.monitor:deadline_monitor_flow",
                       "List WVP steps due or overdue; an event per overdue step.", cron="0 7 * * *"),
        DeploymentSpec("riv-preparation", "flows.riv:riv_preparation_flow",
                       "Assemble the RIVs due within VANGNET_RIV_LEAD_WEEKS and list their missing parts; "
                       "an event per RIV due within 2 weeks that still misses parts.", cron="30 7 * * *"),
        DeploymentSpec("management-report", "flows.report:management_report_flow",
                       "Last month's management report: HTML page with charts in VANGNET_REPORT_DIR and an "
                       "artifact per figure.", cron="0 7 2 * *"),
        DeploymentSpec("retention", "flows.retention:retention_flow",
                       "Anonymise cases closed longer than VANGNET_RETENTION_YEARS (WIA: VANGNET_RETENTION_WIA_YEARS).",
                       cron="0 3 * * 0"),
        DeploymentSpec("invoice-review", "flows.invoices:invoice_review_flow",
                       "A clerk decides disputed invoices (the run pauses with a form per invoice)."),
    ]


def runner_deployments(settings: Settings) -> list:
    """The deployments for `prefect.serve` (all flows in this process)."""
    return [spec.load_flow().to_deployment(name=spec.name, description=spec.description, tags=list(TAGS),
                                           schedules=spec.schedules())
            for spec in deployment_specs(settings)]


def serve_all(settings: Settings) -> None:
    """Run every deployment from this process until stopped (Ctrl-C): `vangnet serve`."""
    from prefect import serve

    serve(*runner_deployments(settings), print_starting_message=True)


def deploy_to_pool(settings: Settings, pool: str, *, source_dir: Path = REPO_DIR, paused: bool = False,
                   suffix: str = "") -> dict[str, str]:
    """Register every deployment on work pool `pool` (workers run the code in `source_dir`); returns
    deployment name → id. `suffix` tells the deployments of one gemeente from another's (`-0518`).
    Idempotent: a second call updates the same deployments."""
    ids = {}
    for spec in deployment_specs(settings):
        name = f"{spec.name}{suffix}"
        flow = spec.load_flow().from_source(source=str(source_dir), entrypoint=spec.path_entrypoint)
        # Not `flow.deploy()`: in Prefect 3.8 its worker check sends `limit: null`, which the server refuses.
        deployment = flow.to_deployment(name=name, description=spec.description, tags=list(TAGS),
                                        schedules=spec.schedules(), paused=paused, work_pool_name=pool)
        ids[name] = str(deployment.apply(work_pool_name=pool))
    return ids


def ensure_process_pool(pool: str) -> bool:
    """Create work pool `pool` of type `process` when it does not exist (True when made)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
            return True
        except ObjectAlreadyExists:
            return False
