"""The provider feed connector against the provider feed simulator over real HTTP(S): paging with the
cursor, downloads, idempotent status reports, retries, Retry-After, limits, pinning, the contract."""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import date, datetime, timezone
from decimal import Decimal

import httpx
import pytest
from pydantic import ValidationError

from connectors.providers import (
    FeedProtocolError,
    FeedRefusedUrl,
    FeedRejected,
    FeedSettings,
    FeedTooLarge,
    FeedUnavailable,
    ProviderFeedClient,
    ProviderFeedError,
    Reason,
)
from simulators.certs import generate_test_pki, server_ssl_context
from simulators.harness import SimServer
from simulators.providers import ProviderFeedSimulator
from simulators.ubl_factory import Line, make_invoice

TOKEN = "feed-test-token-93c1"
CLOCK = datetime(2026, 4, 2, 9, 0, tzinfo=timezone.utc)
FAST = {"retry_backoff_seconds": 0.001, "retry_max_backoff_seconds": 0.01, "timeout_seconds": 2.0}


def invoice(n: int) -> bytes:
    return make_invoice(number=f"VR-2026-{n:04d}", issue_date=date(2026, 4, 2), order_number=f"PO-2026-{n:06d}",
                        period=(date(2026, 3, 1), date(2026, 3, 31)), lines=[Line("casemanager", Decimal(n), Decimal(125))])


@pytest.fixture
def feed():
    sim = ProviderFeedSimulator(token=TOKEN, clock=lambda: CLOCK, seed=1)
    for n in range(1, 8):
        sim.add_document(invoice(n), f"VR-2026-{n:04d}")
    with SimServer(sim, seed=1) as server:
        yield sim, server


def client(sim: ProviderFeedSimulator, **overrides) -> ProviderFeedClient:
    return ProviderFeedClient(FeedSettings(**{"name": "provider-test", "base_url": sim.api_root, "token": TOKEN,
                                              **FAST, **overrides}))


def gets(server: SimServer, path: str = "/api/v1/invoices") -> int:
    return server.request_count(method="GET", path=path)


# -- listing and paging ------------------------------------------------------------------------------------
def test_paging_with_the_cursor_in_a_stable_order(feed):
    sim, _ = feed
    with client(sim) as c:
        first = c.list_since(None, 3)
        assert [i.invoice_number for i in first.items] == ["VR-2026-0001", "VR-2026-0002", "VR-2026-0003"]
        assert first.has_more and first.items[0].received_at == CLOCK
        assert first.items[0].sha256 == hashlib.sha256(invoice(1)).hexdigest()
        second = c.list_since(first.next_cursor, 3)
        last = c.list_since(second.next_cursor, 3)
        assert [i.id for i in first.items + second.items + last.items] == [i["id"] for i in sim.items]
        assert not last.has_more and len(last.items) == 1
        idle = c.list_since(last.next_cursor, 3)  # nothing new: polling keeps the cursor
        assert idle.items == [] and idle.next_cursor == last.next_cursor and not idle.has_more
        new_id = sim.add_document(invoice(8), "VR-2026-0008")
        assert [i.id for i in c.list_since(last.next_cursor, 3).items] == [new_id]


def test_iter_new_walks_the_pages_lazily_and_every_cursor_is_safe_to_resume_from(feed):
    sim, server = feed
    with client(sim, page_limit=3) as c:
        walk = c.iter_new(None)
        head = next(walk)
        assert gets(server) == 1  # one page in memory at a time
        pairs = [head] + list(walk)
        assert gets(server) == 3
        all_ids = [i["id"] for i in sim.items]
        assert [item.id for item, _ in pairs] == all_ids
        for n, (_, cursor) in enumerate(pairs):  # stored after item n: a restart from it misses nothing after n
            again = [item.id for item, _ in c.iter_new(cursor)]
            assert again == all_ids[len(all_ids) - len(again):] and len(again) >= len(all_ids) - n - 1
        assert list(c.iter_new(pairs[-1][1])) == []


def test_duplicate_delivery_lists_one_document_under_two_ids(feed):
    sim, _ = feed
    sim.set_faults(duplicate_next=1)
    first = sim.add_document(invoice(9), "VR-2026-0009")
    with client(sim) as c:
        items = [i for i in c.list_since(None, 100).items if i.invoice_number == "VR-2026-0009"]
        assert [i.id for i in items][0] == first and len(items) == 2
        assert items[0].id != items[1].id and items[0].sha256 == items[1].sha256
        assert c.download(items[1].id) == invoice(9)


# -- downloads -------------------------------------------------------------------------------------------
def test_download_returns_the_exact_bytes(feed):
    sim, _ = feed
    item = sim.items[2]
    with client(sim) as c:
        assert c.download(item["id"], sha256=item["sha256"]) == invoice(3)


def test_a_truncated_document_is_fetched_again_then_given_up(feed):
    sim, server = feed
    item = sim.items[0]
    path = f"/api/v1/invoices/{item['id']}/document"
    sim.set_faults(truncate_next=1)
    with client(sim) as c:
        assert c.download(item["id"], sha256=item["sha256"]) == invoice(1)
        assert gets(server, path) == 2
        sim.set_faults(truncate_next=5)
        with pytest.raises(FeedUnavailable, match="sha256"):
            c.download(item["id"], sha256=item["sha256"])
    assert gets(server, path) == 2 + 3


def test_an_oversized_document_is_refused_not_truncated(feed):
    sim, server = feed
    big = sim.add_document(b"<Invoice>" + b" " * 4000 + b"</Invoice>", "VR-BIG")
    with client(sim, max_document_bytes=1024) as c, pytest.raises(FeedTooLarge, match="more than 1024 bytes"):
        c.download(big)
    assert gets(server, f"/api/v1/invoices/{big}/document") == 1  # not retried


# -- status reports ----------------------------------------------------------------------------------------
def test_status_report_with_the_same_key_twice_is_one_report(feed):
    sim, server = feed
    inv = sim.items[0]["id"]
    reasons = [Reason("BR-NL-2", "Ordernummer ontbreekt"), {"code": "TARIEF", "message": "Tarief te hoog", "line": "2"}]
    with client(sim) as c:
        first = c.report_status(inv, "rejected", reasons, idempotency_key="inv-1-rejected")
        again = c.report_status(inv, "rejected", reasons, idempotency_key="inv-1-rejected")
        assert first == again and first.status == "rejected"
        assert sim.statuses(inv) == ["rejected"] and sim.counts()["replays"] == 1
        assert sim.status_reports[0]["reasons"][1] == {"code": "TARIEF", "message": "Tarief te hoog", "line": "2"}
        with pytest.raises(FeedRejected) as caught:
            c.report_status(inv, "accepted", idempotency_key="inv-1-rejected")
        assert caught.value.status == 409 and caught.value.code == "idempotency-key-hergebruikt"
        assert c.report_status(inv, "accepted", idempotency_key="inv-1-accepted").report_id != first.report_id
    assert sim.statuses(inv) == ["rejected", "accepted"]
    assert server.request_count(method="POST") == 4  # the 409 was not retried


def test_a_lost_status_answer_is_retried_into_one_report(feed):
    sim, server = feed
    inv = sim.items[1]["id"]
    server.set_faults(drop_next=1)
    with client(sim) as c:
        c.report_status(inv, "received", idempotency_key="inv-2-received")
    assert sim.statuses(inv) == ["received"]


def test_rejected_without_reasons_is_refused(feed):
    sim, _ = feed
    with client(sim) as c, pytest.raises(FeedRejected) as caught:
        c.report_status(sim.items[0]["id"], "rejected", idempotency_key="k-1")
    assert caught.value.status == 422 and caught.value.code == "reden-ontbreekt"
    with client(sim) as c, pytest.raises(ValueError):
        c.report_status(sim.items[0]["id"], "paid", idempotency_key="k-2")


# -- retries and failures --------------------------------------------------------------------------------
def test_429_retry_after_is_honoured(feed):
    sim, server = feed
    sim.set_faults(throttle_next=1, retry_after=1)
    with client(sim) as c:
        started = time.monotonic()
        c.list_since(None, 2)
    first, second = server.requests[-2:]
    assert first.status == 429 and second.status == 200
    assert 0.95 <= second.started - first.started < 1.6 and time.monotonic() - started < 2.0


def test_5xx_is_retried_a_bounded_number_of_times(feed):
    sim, server = feed
    sim.set_faults(fail_next=2)
    with client(sim) as c:
        assert len(c.list_since(None, 2).items) == 2
        assert gets(server) == 3
        sim.set_faults(fail_next=10)
        with pytest.raises(FeedUnavailable, match="HTTP 503") as caught:
            c.list_since(None, 2)
    assert gets(server) == 3 + 3 and caught.value.retry_after == 0


def test_slow_feed_times_out_as_unavailable(feed):
    sim, server = feed
    sim.set_faults(slow_seconds=0.6)
    with client(sim, timeout_seconds=0.2, max_attempts=2) as c, pytest.raises(FeedUnavailable, match="within 0.2 s"):
        c.list_since(None, 2)
    deadline = time.monotonic() + 2
    while gets(server) < 2 and time.monotonic() < deadline:  # a request is logged when the server answers
        time.sleep(0.05)
    assert gets(server) == 2


def test_4xx_is_not_retried(feed):
    sim, server = feed
    with client(sim) as c, pytest.raises(FeedRejected) as caught:
        c.download("INV-999999")
    assert caught.value.status == 404 and caught.value.code == "factuur-onbekend"
    assert gets(server, "/api/v1/invoices/INV-999999/document") == 1


@pytest.mark.parametrize("item_id", ["..", "../../__providers", "a/../../b", "."])
def test_urls_outside_the_base_url_are_refused_before_sending(feed, item_id):
    sim, server = feed
    with client(sim) as c, pytest.raises(FeedRefusedUrl, match="only URLs under"):
        c.download(item_id)
    assert server.requests == []


def test_the_token_is_never_in_errors_or_logs(feed, caplog):
    sim, _ = feed
    caplog.set_level(logging.DEBUG)
    with client(sim, token="wrong-secret-xyz") as c, pytest.raises(FeedRejected) as caught:
        c.list_since(None)
    assert caught.value.status == 401 and "token" in str(caught.value)
    sim.set_faults(fail_next=3)
    with client(sim) as c, pytest.raises(FeedUnavailable) as unavailable:
        c.list_since(None)
    for text in (str(caught.value), str(unavailable.value), caplog.text):
        assert "wrong-secret-xyz" not in text and TOKEN not in text
    assert "provider-test" in str(unavailable.value)
    assert TOKEN not in repr(FeedSettings(name="x", base_url="https://feed.example/", token=TOKEN))


# -- the contract ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("method,path,headers,body,code", [
    ("GET", "invoices?limit=0", {}, None, "ongeldig-verzoek"),
    ("GET", "invoices?limit=abc", {}, None, "ongeldig-verzoek"),
    ("GET", "invoices?limit=501", {}, None, "ongeldig-verzoek"),
    ("GET", "invoices?since=not-a-cursor", {}, None, "ongeldige-cursor"),
    ("GET", "invoices/bad%20id/document", {}, None, "ongeldig-verzoek"),
    ("POST", "invoices/INV-000001/status", {"Idempotency-Key": "k"}, b'{"status": "paid"}', "ongeldig-verzoek"),
    ("POST", "invoices/INV-000001/status", {}, b'{"status": "received"}', "ongeldig-verzoek"),
    ("POST", "invoices/INV-000001/status", {"Idempotency-Key": "k"}, b'{"status": "received", "x": 1}',
     "ongeldig-verzoek"),
    ("POST", "invoices/INV-000001/status", {"Idempotency-Key": "k"},
     b'{"status": "rejected", "reasons": [{"code": "X"}]}', "ongeldig-verzoek"),
    ("POST", "invoices/INV-000001/status", {"Idempotency-Key": "k"}, b"not json", "ongeldig-verzoek"),
])
def test_requests_outside_the_contract_are_refused(feed, method, path, headers, body, code):
    sim, _ = feed
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json", **headers}
    resp = httpx.request(method, sim.api_root + path, headers=headers, content=body)
    assert resp.status_code == 400 and resp.headers["Content-Type"] == "application/problem+json"
    problem = resp.json()
    assert problem["code"] == code and problem["status"] == 400
    assert not sim.contract.response_problems("/invoices", "get", 400, problem)
    assert sim.status_reports == []


def test_the_simulator_answers_within_the_contract(feed):
    sim, _ = feed
    auth = {"Authorization": f"Bearer {TOKEN}"}
    page = httpx.get(sim.api_root + "invoices?limit=2", headers=auth).json()
    assert sim.contract.response_problems("/invoices", "get", 200, page) == []
    receipt = httpx.post(sim.api_root + "invoices/INV-000001/status", json={"status": "received"},
                         headers={**auth, "Idempotency-Key": "k"})
    assert receipt.status_code == 202
    assert sim.contract.response_problems("/invoices/{invoice_id}/status", "post", 202, receipt.json()) == []
    assert httpx.post(sim.api_root + "invoices/INV-000001/status", content=b"{}", headers=auth).status_code == 415
    assert httpx.get(sim.api_root + "invoices").status_code == 401


def test_answers_outside_the_contract_are_protocol_errors():
    answers = iter([
        httpx.Response(200, text="<html>login</html>", headers={"Content-Type": "text/html"}),
        httpx.Response(200, json={"items": [{"id": "A"}], "next_cursor": "c", "has_more": False}),
        httpx.Response(200, json={"items": [], "next_cursor": "c", "has_more": True}),
        httpx.Response(302, headers={"Location": "https://elders.example/"}),
        httpx.Response(200, json={"not": "xml"}),
    ])
    transport = httpx.MockTransport(lambda request: next(answers))
    settings = FeedSettings(name="mock", base_url="https://feed.example/api/v1", **FAST)
    with ProviderFeedClient(settings, transport=transport) as c:
        with pytest.raises(FeedProtocolError, match="Content-Type"):
            c.list_since(None)
        with pytest.raises(FeedProtocolError, match="outside the contract"):
            c.list_since(None)
        with pytest.raises(FeedProtocolError, match="cursor does not move"):
            list(c.iter_new("c"))
        with pytest.raises(FeedProtocolError, match="redirect"):
            c.list_since(None)
        with pytest.raises(FeedProtocolError, match="instead of application/xml"):
            c.download("A")


def test_settings_are_checked():
    with pytest.raises(ValidationError):
        FeedSettings(name="x", base_url="ftp://feed.example/")
    with pytest.raises(ValidationError):
        FeedSettings(name="x", base_url="https://user:pw@feed.example/")
    with pytest.raises(ValidationError):
        FeedSettings(name="x", base_url="https://feed.example/", client_cert_path="c.pem")
    assert FeedSettings(name="x", base_url="https://feed.example/api").base_url == "https://feed.example/api/"


# -- mutual TLS ------------------------------------------------------------------------------------------
def test_over_https_with_mutual_tls(tmp_path):
    pki = generate_test_pki(tmp_path / "pki")
    sim = ProviderFeedSimulator()  # no bearer token: the client certificate authenticates
    sim.add_document(invoice(1), "VR-2026-0001")
    with SimServer(sim, tls=server_ssl_context(pki)):
        tls = dict(ca_bundle_path=pki.ca_cert, client_cert_path=pki.client_cert, client_key_path=pki.client_key)
        with client(sim, token=None, **tls) as c:
            item = c.list_since(None).items[0]
            assert c.download(item.id, sha256=item.sha256) == invoice(1)
        with client(sim, token=None, max_attempts=1, **{**tls, "ca_bundle_path": None}) as c, \
                pytest.raises(ProviderFeedError, match="TLS") as caught:
            c.list_since(None)  # the server's CA is not trusted
        assert not isinstance(caught.value, FeedUnavailable)
