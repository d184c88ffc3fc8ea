"""Alerts: automations on the real test Prefect server post to a local webhook receiver.

The receiver is `http.server` on 127.0.0.1 in a thread; it records every POSTed JSON body. The
automations are global on the session's server, so one module fixture sets them up (with a 10 s intake
window, Prefect's minimum for a proactive trigger) and removes them afterwards.

End to end (event → triggers service → block → receiver): a failed flow run, a missing intake, and a
quarantine event. The other vangnet events are checked with the server's own matcher and template
renderer instead of being emitted: other test modules assert on *all* events of those names on the
shared server (e.g. test_intake_flow expects exactly one `vangnet.intake.sequence-gap`).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

pytestmark = [pytest.mark.prefect, pytest.mark.slow]

DEADLINE = 45.0  # seconds; reactive notifications arrive in 0.5-1.5 s, the proactive one ~15 s after setup
DECOY = "111222333"  # BSN-shaped; put where a careless template would copy it


class Receiver:
    """A webhook that records (arrival time, JSON body) of every POST."""

    def __init__(self) -> None:
        self.posts: list[tuple[float, dict]] = []
        received = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", 0))
                received.append((time.monotonic(), {"_auth": self.headers.get("Authorization"),
                                                    **json.loads(self.rfile.read(length) or b"{}")}))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/vangnet?key=s3cret"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, text: str, *, since: float = 0.0, timeout: float = DEADLINE) -> tuple[float, dict]:
        """The first post after `since` whose subject or body contains `text`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, body in list(self.posts):
                if at >= since and text in body.get("subject", "") + body.get("body", ""):
                    return at, body
            time.sleep(0.2)
        seen = [b.get("subject") for _, b in self.posts]
        raise AssertionError(f"no notification mentioning {text!r} within {timeout:.0f} s; received: {seen}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(scope="module")
def alerts(prefect_server, receiver):
    from flows import alerts

    started = time.monotonic()
    ids = alerts.setup_alerts(receiver.url, intake_within_seconds=10, token="t0ken")
    yield started, ids
    alerts.remove_alerts()


def _automations(api_url: str, names) -> list[dict]:
    response = httpx.post(f"{api_url}/automations/filter", timeout=10,
                          json={"automations": {"name": {"any_": list(names)}}})
    response.raise_for_status()
    return response.json()


def test_setup_twice_keeps_the_same_automations(prefect_server, alerts, receiver):
    from flows import alerts as module

    _, first = alerts
    assert set(first) == {module.BLOCK_NAME, *module.ALERT_NAMES}
    before = {a["id"]: a["updated"] for a in _automations(prefect_server, module.ALERT_NAMES)}

    second = module.setup_alerts(receiver.url, intake_within_seconds=10, token="t0ken")

    assert second == first
    after = _automations(prefect_server, module.ALERT_NAMES)
    assert sorted(a["name"] for a in after) == sorted(module.ALERT_NAMES)  # one each, no duplicates
    assert {a["id"]: a["updated"] for a in after} == before  # unchanged definitions are not rewritten


def test_a_namesake_made_by_hand_is_removed(prefect_server, alerts, receiver):
    from prefect.client.orchestration import get_client

    from flows import alerts as module

    _, ids = alerts
    wanted = module.alert_automations(uuid.UUID(ids[module.BLOCK_NAME]), intake_within_seconds=10)
    copy = next(a for a in wanted if a.name == module.SEQUENCE_GAP)
    with get_client(sync_client=True) as client:
        client.create_automation(copy)
    assert len(_automations(prefect_server, [module.SEQUENCE_GAP])) == 2

    assert module.setup_alerts(receiver.url, intake_within_seconds=10, token="t0ken") == ids
    assert [a["id"] for a in _automations(prefect_server, [module.SEQUENCE_GAP])] == [ids[module.SEQUENCE_GAP]]


def test_the_webhook_url_and_token_are_block_secrets(prefect_server, alerts, receiver):
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    block = CustomWebhookNotificationBlock.load("vangnet-alerts")
    assert block.url == "{{webhook_url}}" and block.headers == {"Authorization": "Bearer {{token}}"}
    assert block.secrets.get_secret_value() == {"webhook_url": receiver.url, "token": "t0ken"}
    shown = httpx.get(f"{prefect_server}/block_documents/{alerts[1]['vangnet-alerts']}", timeout=10).json()
    assert "s3cret" not in json.dumps(shown) and "t0ken" not in json.dumps(shown)


def test_a_changed_definition_is_updated_in_place(prefect_server, alerts, receiver):
    from flows import alerts as module

    _, ids = alerts
    changed = module.setup_alerts(receiver.url, intake_within_seconds=10, overdue_quiet_seconds=60, token="t0ken")
    try:
        assert changed == ids
        [overdue] = _automations(prefect_server, [module.WVP_OVERDUE])
        assert overdue["trigger"]["within"] == 60.0
    finally:
        module.setup_alerts(receiver.url, intake_within_seconds=10, token="t0ken")


def test_quarantine_in_a_flow_reaches_the_webhook_without_personal_data(alerts, receiver):
    """End to end with a real vangnet event (one that no other test module counts on the shared server)."""
    from prefect import flow
    from prefect.events import emit_event

    @flow(name="alerts-test-quarantine", flow_run_name="alerts-test-q", persist_result=False)
    def quarantining_flow():
        emit_event(event="vangnet.intake.quarantined", resource={"prefect.resource.id": "vangnet.source.ib"},
                   payload={"quarantined": 3, "bsn": DECOY})

    sent = time.monotonic()
    quarantining_flow()

    at, post = receiver.wait_for("3 message(s) quarantined", since=sent)
    print(f"quarantine notification after {at - sent:.1f} s")
    assert "vangnet.source.ib" in post["subject"] and "(run alerts-test-q)" in post["body"]
    assert "/runs/flow-run/" in post["body"]
    assert post["text"].startswith(post["subject"]) and post["_auth"] == "Bearer t0ken"
    assert DECOY not in json.dumps(post) and not re.search(r"\b\d{9}\b", post["body"])


EVENT_ALERTS = [  # event, resource, payload (with decoys) -> the one alert it raises, texts it shows, texts it hides
    ("vangnet.intake.sequence-gap", "vangnet.source.ib", {"first": 6, "last": 8, "bsn": DECOY},
     "vangnet: sequence gap at IB", ["volgnummers 6-8", "6 to 8", "resend"], []),
    ("vangnet.wvp.step-overdue", "vangnet.case.VN-000001",
     {"stap": "probleemanalyse", "datum": "2027-01-18", "dagen_te_laat": 3, "bsn": DECOY},
     "vangnet: WVP steps overdue", ["case VN-000001, step probleemanalyse, 3 days late", "held back for 1 h"], []),
    ("vangnet.invoices.quarantined", "vangnet.source.invoices", {"quarantined": 2},
     "vangnet: messages quarantined", ["2 message(s) quarantined (vangnet.source.invoices)"], []),
    ("vangnet.invoices.feed-failed", "vangnet.invoice-feed.reintegratie", {"error": "ProviderFeedError"},
     "vangnet: partner down", ["invoice feed reintegratie failed", "with ProviderFeedError"], []),
    ("vangnet.partner.unavailable", "vangnet.partner.zgw", {"error": "ZakenUnavailable", "waiting": 3, "bsn": DECOY},
     "vangnet: partner down", ["partner zgw down", "zgw failed with ZakenUnavailable", "3 item(s) and the rest wait"],
     []),
    ("vangnet.partner.unavailable", "vangnet.partner.arbodienst:arbo-noord", {"error": "ArbodienstUnavailable"},
     "vangnet: partner down", ["partner arbodienst:arbo-noord down", "failed with ArbodienstUnavailable"], ["item(s)"]),
    ("vangnet.consult.escalated", "vangnet.case.VN-000002",
     {"reden": "herhaald niet verschenen bij de bedrijfsarts", "max_no_shows": 2, "bsn": DECOY},
     "vangnet: case needs a person", ["case VN-000002 needs a person"], ["verschenen"]),
    ("vangnet.riv.gaps", "vangnet.case.VN-000003", {"riv_datum": "2028-10-02", "dagen_over": 9,
                                                    "ontbrekend": ["e", "k"], "bsn": DECOY},
     "vangnet: RIV due with missing parts", ["case VN-000003, due 2028-10-02, missing parts e, k"], []),
]


@pytest.fixture(scope="module")
def server_automations(prefect_server, alerts):
    """Our automations as the server's triggers service sees them, by name."""
    from prefect.server.events.schemas.automations import Automation

    from flows import alerts as module

    return {a["name"]: Automation.model_validate(a) for a in _automations(prefect_server, module.ALERT_NAMES)}


@pytest.mark.parametrize("name, resource, payload, alert, shown, hidden", EVENT_ALERTS,
                         ids=[case[0] for case in EVENT_ALERTS])
def test_each_event_raises_its_alert_with_counts_and_references_only(server_automations, name, resource, payload,
                                                                     alert, shown, hidden):
    """The server's matcher and template renderer, without emitting: the other test modules count these events."""
    from prefect.server.events.jinja_filters import all_filters
    from prefect.server.events.schemas.events import ReceivedEvent
    from prefect.server.utilities.user_templates import register_user_template_filters, render_user_template_sync

    event = ReceivedEvent(occurred=datetime.now(timezone.utc), event=name, resource={"prefect.resource.id": resource},
                          payload=payload, id=uuid.uuid4())
    assert [n for n, a in server_automations.items() if a.trigger.covers(event)] == [alert]

    register_user_template_filters(all_filters)
    [action] = server_automations[alert].actions
    context = {"event": event, "flow_run": None, "flow": None}
    subject, body = (render_user_template_sync(t, context) for t in (action.subject, action.body))
    for text in shown:
        assert text in subject + "\n" + body
    for text in [DECOY, *hidden]:
        assert text not in subject + body


def test_failed_flow_run_reaches_the_webhook_without_its_error(alerts, receiver):
    from prefect import flow

    @flow(name="alerts-test-failing", flow_run_name="alerts-test-boom", persist_result=False)
    def failing_flow():
        raise RuntimeError(f"could not process BSN {DECOY}")

    sent = time.monotonic()
    state = failing_flow(return_state=True)
    assert state.is_failed()

    at, post = receiver.wait_for("alerts-test-failing", since=sent)
    print(f"flow-failed notification after {at - sent:.1f} s")
    assert "alerts-test-boom" in post["subject"] and "Failed" in post["subject"]
    assert "/runs/flow-run/" in post["body"]
    assert DECOY not in json.dumps(post)


def test_no_intake_within_the_window_alerts(alerts, receiver):
    started, _ = alerts
    at, post = receiver.wait_for("no successful signal intake", since=started)
    print(f"no-intake notification {at - started:.1f} s after setup (window 10 s)")
    assert "signal-intake" in post["body"] and "10 s" in post["subject"]


def test_bad_arguments_are_refused_with_a_hint():
    from flows import alerts
    from flows.errors import VangnetError

    with pytest.raises(VangnetError, match="not an http") as bad_url:
        alerts.ensure_alert_block("ftp://secret-token@host/x")
    assert "secret-token" not in str(bad_url.value) + (bad_url.value.hint or "")
    with pytest.raises(VangnetError, match="at least 10"):
        alerts.alert_automations(uuid.uuid4(), intake_within_seconds=5)
    with pytest.raises(VangnetError, match="No webhook") as missing:
        alerts.resolve_webhook_url(None, None)
    assert "VANGNET_ALERT_WEBHOOK_URL" in missing.value.hint
    assert alerts.resolve_webhook_url(None, "https://a.example/h") == "https://a.example/h"


def _completed_event(api_url: str, flow_run_id) -> dict:
    from prefect.events.worker import EventsWorker

    EventsWorker.drain_all()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        events = httpx.post(f"{api_url}/events/filter", timeout=10, json={"filter": {
            "event": {"name": ["prefect.flow-run.Completed"]},
            "resource": {"id": [f"prefect.flow-run.{flow_run_id}"]}}}).json()["events"]
        if events:
            return events[0]
        time.sleep(0.3)
    raise AssertionError(f"no Completed event for flow run {flow_run_id} within 15 s")


def test_only_a_completed_signal_intake_run_counts_as_intake(prefect_server, alerts):
    """With the server's own matcher: showing that an alert does *not* come is slow and timing-dependent.

    Runs after the no-intake test on purpose: a completed `signal-intake` run resets that window.
    """
    from prefect import flow
    from prefect.server.events.schemas.automations import Automation
    from prefect.server.events.schemas.events import ReceivedEvent

    from flows import alerts as module

    @flow(name="signal-intake", flow_run_name="alerts-test-intake", persist_result=False)
    def fake_intake():
        return 0

    @flow(name="alerts-test-other", flow_run_name="alerts-test-other", persist_result=False)
    def other_flow():
        return 0

    [automation] = _automations(prefect_server, [module.NO_INTAKE])
    trigger = Automation.model_validate(automation).trigger
    runs = [fake_intake(return_state=True).state_details.flow_run_id,
            other_flow(return_state=True).state_details.flow_run_id]
    intake, other = (_completed_event(prefect_server, run) for run in runs)  # stored in ~5 s batches
    assert trigger.covers(ReceivedEvent.model_validate(intake))
    assert not trigger.covers(ReceivedEvent.model_validate(other))


def test_an_unreachable_server_is_a_clear_error():
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows import alerts
    from flows.errors import VangnetError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{s.getsockname()[1]}/api"
    with temporary_settings(updates={PREFECT_API_URL: nobody}), pytest.raises(VangnetError) as error:
        alerts.setup_alerts("https://alerts.example.nl/hook?key=s3cret", intake_within_seconds=10)
    assert nobody in error.value.message and "vangnet server start" in error.value.hint
    assert "s3cret" not in error.value.message + error.value.hint
