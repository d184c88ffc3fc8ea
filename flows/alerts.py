"""Operator alerts: Prefect automations that post to a webhook, created from code and idempotent.

`setup_alerts(url)` saves one notification block (`vangnet-alerts`, a Custom Webhook that POSTs JSON
`{"subject", "body", "text"[, "to"]}`) and one automation per alert, each with a `SendNotification`
action to that block. The Prefect server's triggers service evaluates them (on by default in
`prefect server start`; `PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED`). Run it again at any time: it finds
the automations by name, updates the ones that differ and never makes a second one.

Alert texts carry counts, case references, flow and run names only: they are Jinja templates that pick
single fields from the event (`event.payload.quarantined`, `event.resource.id`, ...), never the whole
payload and never a run's error message (which may quote personal data); the link to the run is there.

The webhook URL (often itself the credential, as with Slack/Teams/Mattermost hooks) and an optional
bearer token are kept in the block's secret values, so neither shows in the UI, the code or the logs.
E-mail: Prefect core has no SMTP block (only SendGrid, a cloud service), so e-mail goes through the
webhook: point it at a mail relay; `email_to` adds a `"to"` field for the relay to route on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from flows.errors import VangnetError

BLOCK_NAME = "vangnet-alerts"
TAG = "vangnet"
INTAKE_FLOW = "signal-intake"
MIN_PROACTIVE_SECONDS = 10  # Prefect refuses a shorter `within` for proactive triggers

FLOW_FAILED = "vangnet: flow run failed or crashed"
NO_INTAKE = "vangnet: no successful intake in 24 h"
SEQUENCE_GAP = "vangnet: sequence gap at IB"
WVP_OVERDUE = "vangnet: WVP steps overdue"
QUARANTINED = "vangnet: messages quarantined"
PARTNER_DOWN = "vangnet: partner down"
NEEDS_PERSON = "vangnet: case needs a person"
RIV_GAPS = "vangnet: RIV due with missing parts"
ALERT_NAMES = (FLOW_FAILED, NO_INTAKE, SEQUENCE_GAP, WVP_OVERDUE, QUARANTINED, PARTNER_DOWN, NEEDS_PERSON, RIV_GAPS)

_RUN = "{% if flow_run %} (run {{ flow_run.name }}){% endif %}"
_RUN_LINK = "{% if flow_run %}\nRun: {{ flow_run|ui_url }}{% endif %}"


def resolve_webhook_url(option: str | None, setting: str | None) -> str:
    """The webhook to alert: the CLI option, else the `alert_webhook_url` setting; an error when neither."""
    url = option or setting
    if not url:
        raise VangnetError("No webhook to send alerts to.",
                           hint="Pass --webhook URL or set VANGNET_ALERT_WEBHOOK_URL.")
    return url


def ensure_alert_block(webhook_url: str, *, name: str = BLOCK_NAME, token: str | None = None,
                       email_to: str | None = None) -> UUID:
    """Create or update the notification block that alerts are posted through; returns its id.

    The block POSTs JSON `{"subject", "body", "text"}` (`text` = subject + body, which Slack- and
    Mattermost-style hooks show) plus `"to": email_to` when given. URL and token are block secrets.
    """
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    _check_url(webhook_url)
    secrets = {"webhook_url": webhook_url} | ({"token": token} if token else {})
    payload: dict[str, Any] = {"subject": "{{subject}}", "body": "{{body}}", "text": "{{subject}}\n\n{{body}}"}
    if email_to:
        payload["to"] = email_to
    block = CustomWebhookNotificationBlock(
        name=name, url="{{webhook_url}}", method="POST", json_data=payload, secrets=secrets,
        headers={"Authorization": "Bearer {{token}}"} if token else None,
    )
    return block.save(name, overwrite=True)


def _check_url(url: str) -> None:
    """Refuse a URL that cannot be a webhook, without echoing it (it may hold a token)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise VangnetError("The alert webhook URL is not an http(s) URL with a host.",
                           hint="Give the full URL, e.g. https://alerts.example.nl/hooks/vangnet.")


def ensure_automations(block_id: UUID | str, *, intake_within_seconds: int = 86400,
                       overdue_quiet_seconds: int = 3600) -> dict[str, str]:
    """Create or update vangnet's alert automations, all notifying `block_id`; returns name → id.

    `intake_within_seconds`: alert when no `signal-intake` run completed for this long (at least 10).
    `overdue_quiet_seconds`: after an overdue-steps alert, hold further ones back this long, so one
    deadline-monitor run gives one alert (naming the first overdue step) instead of one per step.
    """
    from prefect.client.orchestration import get_client

    wanted = alert_automations(UUID(str(block_id)), intake_within_seconds=intake_within_seconds,
                               overdue_quiet_seconds=overdue_quiet_seconds)
    with get_client(sync_client=True) as client:
        return {automation.name: str(_ensure_one(client, automation)) for automation in wanted}


def _ensure_one(client, wanted) -> UUID:
    """Create `wanted`, or update the one with its name when it differs; extra namesakes are deleted."""
    existing = _automations_named(client, wanted.name)
    if not existing:
        return client.create_automation(wanted)
    keep, *duplicates = existing  # the oldest stays, so its id is stable
    for duplicate in duplicates:
        client.delete_automation(duplicate.id)
    if _canonical(keep) != _canonical(wanted):
        client.update_automation(keep.id, wanted)
    return keep.id


def _automations_named(client, name: str) -> list:
    """Automations with exactly this name, oldest first."""
    from prefect.events.schemas.automations import Automation

    response = client.request("POST", "/automations/filter",
                              json={"sort": "CREATED_DESC", "automations": {"name": {"any_": [name]}}})
    response.raise_for_status()
    return [Automation.model_validate(item) for item in reversed(response.json())]


def _canonical(automation) -> str:
    """The automation's definition as comparable text: no id, sets sorted."""
    from prefect.events.schemas.automations import AutomationCore

    fields = {name: getattr(automation, name) for name in AutomationCore.model_fields}
    data = AutomationCore(**fields).model_dump(mode="json", exclude={"owner_resource"})
    return json.dumps(_sorted_sets(data), sort_keys=True)


def _sorted_sets(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted_sets(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_sorted_sets(v) for v in value]
        return sorted(items) if all(isinstance(v, str) for v in items) else items
    return value


def alert_automations(block_id: UUID, *, intake_within_seconds: int = 86400,
                      overdue_quiet_seconds: int = 3600) -> list:
    """The wanted automations (`prefect.events.schemas.automations.AutomationCore`), not yet saved."""
    if intake_within_seconds < MIN_PROACTIVE_SECONDS:
        raise VangnetError(f"intake_within_seconds is {intake_within_seconds}; Prefect needs at least "
                           f"{MIN_PROACTIVE_SECONDS} s for an alert on a missing event.",
                           hint="Use a window of 10 seconds or more (default one day: 86400).")
    if overdue_quiet_seconds < 0:
        raise VangnetError("overdue_quiet_seconds must be 0 or more.", hint="Default: 3600 (one hour).")
    return [
        _flow_failed(block_id),
        _no_intake(block_id, intake_within_seconds),
        _sequence_gap(block_id),
        _wvp_overdue(block_id, overdue_quiet_seconds),
        _quarantined(block_id),
        _partner_down(block_id),
        _needs_person(block_id),
        _riv_gaps(block_id, overdue_quiet_seconds),
    ]


def _automation(name: str, description: str, trigger, block_id: UUID, subject: str, body: str):
    from prefect.events.actions import SendNotification
    from prefect.events.schemas.automations import AutomationCore

    return AutomationCore(name=name, description=description, enabled=True, tags=[TAG], trigger=trigger,
                          actions=[SendNotification(block_document_id=block_id, subject=subject, body=body)])


def _on(*events: str, match: dict | None = None, within: int = 0):
    """A reactive trigger: fire on the first matching event, then stay quiet for `within` seconds."""
    from prefect.events.schemas.automations import EventTrigger, Posture

    return EventTrigger(expect=set(events), match=match or {}, posture=Posture.Reactive, threshold=1,
                        within=timedelta(seconds=within))


def _flow_failed(block_id: UUID):
    return _automation(
        FLOW_FAILED, "Any vangnet flow run that ends Failed or Crashed.",
        _on("prefect.flow-run.Failed", "prefect.flow-run.Crashed", match={"prefect.resource.id": "prefect.flow-run.*"}),
        block_id,
        "vangnet: flow {{ flow.name }} run {{ event.resource.name }} {{ event.resource['prefect.state-name'] }}",
        "Flow {{ flow.name }}, run {{ event.resource.name }}, ended {{ event.resource['prefect.state-name'] }} "
        "at {{ event.occurred }}.\nThe error is in the run's logs in Prefect (not sent here: it may quote "
        "personal data). Fix the cause, then run the flow again." + _RUN_LINK,
    )


def _no_intake(block_id: UUID, within_seconds: int):
    from prefect.events.schemas.automations import EventTrigger, Posture

    window = _duration(within_seconds)
    trigger = EventTrigger(
        expect={"prefect.flow-run.Completed"}, match={"prefect.resource.id": "prefect.flow-run.*"},
        match_related={"prefect.resource.role": "flow", "prefect.resource.name": INTAKE_FLOW},
        posture=Posture.Proactive, threshold=1, within=timedelta(seconds=within_seconds),
    )
    return _automation(
        NO_INTAKE, f"No run of flow {INTAKE_FLOW} completed within {window} (alone or inside vangnet-pipeline).",
        trigger, block_id, f"vangnet: no successful signal intake in {window}",
        f"No run of flow {INTAKE_FLOW} completed in the last {window}: UWV signals (IB) may be waiting.\n"
        "Check that the intake's schedule and worker run, and look at the last intake runs in Prefect.",
    )


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def _sequence_gap(block_id: UUID):
    return _automation(
        SEQUENCE_GAP, "IB skipped message sequence numbers (vangnet.intake.sequence-gap).",
        _on("vangnet.intake.sequence-gap"), block_id,
        "vangnet: sequence gap at IB, volgnummers {{ event.payload.first }}-{{ event.payload.last }}",
        "Signal intake" + _RUN + " found a sequence gap at IB: volgnummers {{ event.payload.first }} to "
        "{{ event.payload.last }} were never delivered (source {{ event.resource.id }}, {{ event.occurred }}).\n"
        "Ask IB (UWV) to resend them; the intake carries on with the other messages." + _RUN_LINK,
    )


def _wvp_overdue(block_id: UUID, quiet_seconds: int):
    return _automation(
        WVP_OVERDUE, "WVP steps past their date (vangnet.wvp.step-overdue); one alert, then quiet for "
        f"{_duration(quiet_seconds)}.",
        _on("vangnet.wvp.step-overdue", match={"prefect.resource.id": "vangnet.case.*"}, within=quiet_seconds),
        block_id, "vangnet: WVP steps overdue",
        "The deadline monitor" + _RUN + " found WVP steps past their date. First: case "
        "{{ event.resource.id | replace('vangnet.case.', '') }}, step {{ event.payload.stap }}, "
        "{{ event.payload.dagen_te_laat }} days late.\nThe most overdue (up to 1,000) are in the run's "
        "wvp-deadlines artifact, the counts in wvp-deadlines-summary; "
        f"further overdue alerts are held back for {_duration(quiet_seconds)}." + _RUN_LINK,
    )


def _riv_gaps(block_id: UUID, quiet_seconds: int):
    return _automation(
        RIV_GAPS, "Re-integratieverslagen due within two weeks that still miss parts (vangnet.riv.gaps); one "
        f"alert, then quiet for {_duration(quiet_seconds)}.",
        _on("vangnet.riv.gaps", match={"prefect.resource.id": "vangnet.case.*"}, within=quiet_seconds),
        block_id, "vangnet: RIV due with missing parts",
        "The RIV task" + _RUN + " found re-integratieverslagen due soon that still miss parts. First: case "
        "{{ event.resource.id | replace('vangnet.case.', '') }}, due {{ event.payload.riv_datum }}, missing parts "
        "{{ event.payload.ontbrekend | join(', ') }}.\nAll of them are in the run's riv-gaps artifact; "
        "`vangnet riv CASE --out FILE` lists what supplies each part." + _RUN_LINK,
    )


def _quarantined(block_id: UUID):
    return _automation(
        QUARANTINED, "Incoming signal messages or invoices put in quarantine.",
        _on("vangnet.intake.quarantined", "vangnet.invoices.quarantined"), block_id,
        "vangnet: {{ event.payload.quarantined }} message(s) quarantined ({{ event.resource.id }})",
        "{{ event.payload.quarantined }} incoming message(s) from {{ event.resource.id }} quarantined"
        + _RUN + ", each with a reason.\nA person must look at them and resend, correct or discard each."
        + _RUN_LINK,
    )


def _partner_down(block_id: UUID):
    partner = ("{{ event.resource.id | replace('vangnet.partner.', '') | replace('vangnet.invoice-feed.', "
               "'invoice feed ') }}")
    return _automation(
        PARTNER_DOWN, f"A partner stayed unavailable after its retries ({PARTNER_UNAVAILABLE_EVENT}, "
                      "vangnet.invoices.feed-failed).",
        _on(PARTNER_UNAVAILABLE_EVENT, "vangnet.invoices.feed-failed"), block_id,
        f"vangnet: partner {partner} down",
        f"{partner} failed with {{{{ event.payload.error }}}}" + _RUN + ". What was done stays; "
        "{% if event.payload.waiting %}{{ event.payload.waiting }} item(s) and {% endif %}the rest wait for the "
        "next run.\nIf it keeps failing, check the partner's URL, certificates and credentials, and ask the "
        "partner whether their service is up." + _RUN_LINK,
    )


PARTNER_UNAVAILABLE_EVENT = "vangnet.partner.unavailable"
"""A partner stayed unavailable after the connector's bounded retries in a task (resource
`vangnet.partner.<name>`; payload: the error's type and how many items wait)."""


def partner_unavailable(partner: str, error: str, waiting: int = 0) -> None:
    """Tell operators (the "partner down" alert) that `partner` could not be reached; `error` is an
    exception type name, never its message (which may quote a record)."""
    from prefect.events import emit_event

    emit_event(event=PARTNER_UNAVAILABLE_EVENT, resource={"prefect.resource.id": f"vangnet.partner.{partner}"},
               payload={"error": error, "waiting": waiting})


def _needs_person(block_id: UUID):
    return _automation(
        NEEDS_PERSON, "A case the flows hand over to a person (vangnet.consult.escalated).",
        _on("vangnet.consult.escalated", match={"prefect.resource.id": "vangnet.case.*"}), block_id,
        "vangnet: case {{ event.resource.id | replace('vangnet.case.', '') }} needs a person",
        "The consult flow" + _RUN + " handed case {{ event.resource.id | replace('vangnet.case.', '') }} over "
        "to a person. Open the case in vangnet (`vangnet cases show`) to see why and decide." + _RUN_LINK,
    )


def setup_alerts(webhook_url: str, *, intake_within_seconds: int = 86400, overdue_quiet_seconds: int = 3600,
                 token: str | None = None, email_to: str | None = None, block_name: str = BLOCK_NAME) -> dict[str, str]:
    """Save the block and the automations; returns name → id (the block under its own name).

    Safe to run again: unchanged automations are left alone, changed ones updated in place, and a
    paused one is enabled again. A Prefect server that cannot be reached or refuses is a `VangnetError`.
    """
    with _prefect_errors("set up the alerts"):
        block_id = ensure_alert_block(webhook_url, name=block_name, token=token, email_to=email_to)
        automations = ensure_automations(block_id, intake_within_seconds=intake_within_seconds,
                                         overdue_quiet_seconds=overdue_quiet_seconds)
    return {block_name: str(block_id), **automations}


@contextmanager
def _prefect_errors(what: str) -> Iterator[None]:
    """Turn a failed call to the Prefect API into an error that says which server and what to do."""
    import httpx
    from prefect.settings import PREFECT_API_URL

    try:
        yield
    except httpx.HTTPStatusError as exc:
        raise VangnetError(f"The Prefect server refused to {what}: HTTP {exc.response.status_code} on "
                           f"{exc.request.method} {exc.request.url.path}.",
                           hint="See the server's log; a Prefect version mismatch between client and server "
                           "is a common cause.") from exc
    except httpx.HTTPError as exc:
        raise VangnetError(f"Could not reach the Prefect server at {PREFECT_API_URL.value()} to {what} "
                           f"({type(exc).__name__}).",
                           hint="Start it with `vangnet server start`, or set VANGNET_PREFECT_API_URL.") from exc


def remove_alerts(*, block_name: str | None = BLOCK_NAME) -> list[str]:
    """Delete vangnet's alert automations (by name) and, unless `block_name` is None, the block."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    removed = []
    with _prefect_errors("remove the alerts"), get_client(sync_client=True) as client:
        for name in ALERT_NAMES:
            for automation in _automations_named(client, name):
                client.delete_automation(automation.id)
                removed.append(name)
    if block_name:
        try:
            CustomWebhookNotificationBlock.delete(block_name)
            removed.append(block_name)
        except (ObjectNotFound, ValueError):
            pass
    return removed
