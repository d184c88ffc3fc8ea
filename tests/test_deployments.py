"""The deployments declared in flows/deployments.py: schedules, no parameters, and registration on a
work pool of a real local Prefect server (idempotent)."""

from __future__ import annotations

import httpx
import pytest

from flows.deployments import deployment_specs, deploy_to_pool, runner_deployments
from flows.settings import Settings


def test_every_deployment_has_a_flow_a_schedule_or_is_on_demand_and_no_parameters():
    settings = Settings(schedule_intake_minutes=10, schedule_consults_minutes=20)
    specs = {s.name: s for s in deployment_specs(settings)}
    assert set(specs) == {"signal-intake", "casework", "suwinet-safety-net", "consult-lifecycle", "invoice-sync",
                          "wvp-deadline-monitor", "riv-preparation", "management-report", "retention",
                          "invoice-review"}
    assert (specs["signal-intake"].interval_minutes, specs["consult-lifecycle"].interval_minutes) == (10, 20)
    assert specs["casework"].offset_minutes == 5 and specs["suwinet-safety-net"].cron == "0 2 * * *"
    assert specs["invoice-review"].schedules() == []
    for deployment in runner_deployments(settings):
        assert deployment.parameters == {}  # nothing personal can travel in a parameter
        assert deployment.tags == ["vangnet"]
    cron = specs["invoice-sync"].schedules()[0]
    assert (cron.cron, cron.timezone) == ("0 6 * * *", "Europe/Amsterdam")
    assert specs["signal-intake"].path_entrypoint == "flows/intake.py:intake_flow"


@pytest.mark.prefect
def test_deploy_to_a_process_work_pool_is_idempotent(prefect_server):
    from flows.deployments import ensure_process_pool

    assert ensure_process_pool("vangnet-test") is True and ensure_process_pool("vangnet-test") is False
    first = deploy_to_pool(Settings(), "vangnet-test", paused=True)
    second = deploy_to_pool(Settings(), "vangnet-test", paused=True)
    assert first == second and len(first) == 10
    found = httpx.post(f"{prefect_server}/deployments/filter", timeout=10,
                       json={"work_pools": {"name": {"any_": ["vangnet-test"]}}}).json()
    assert sorted(d["name"] for d in found) == sorted(first)
    intake = next(d for d in found if d["name"] == "signal-intake")
    assert intake["entrypoint"] == "flows/intake.py:intake_flow" and intake["parameters"] == {}
    assert intake["schedules"][0]["schedule"]["interval"] == 15 * 60
