"""The simulator harness: a real HTTP(S) server whose fault knobs a real client can observe."""

from __future__ import annotations

import ssl
import time

import httpx
import pytest

from ib_helpers import other_pki, pki, wait_for  # noqa: F401 - fixtures
from simulators.certs import client_ssl_context, server_ssl_context
from simulators.harness import SimServer


def echo(method, path, headers, body):
    if path.startswith("/boom"):
        raise RuntimeError("app bug")
    return 200, {"Content-Type": "text/plain", "X-Method": method}, b"echo:" + body


@pytest.fixture
def server():
    with SimServer(echo, seed=42) as srv:
        yield srv


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server.url, timeout=2.0) as c:
        yield c


def test_serves_the_app_and_logs_requests(server, client):
    assert server.url.startswith("http://127.0.0.1:")
    r = client.post("/x?y=1", content=b"hi")
    assert (r.status_code, r.content, r.headers["X-Method"]) == (200, b"echo:hi", "POST")
    client.get("/x")
    client.get("/other")
    assert server.request_count() == 3
    assert server.request_count(path="/x") == 2
    assert server.request_count(method="GET", path="/x") == 1
    assert [(e.method, e.path, e.status) for e in server.requests][0] == ("POST", "/x?y=1", 200)
    server.clear_requests()
    assert server.request_count() == 0


def test_app_exceptions_become_500(server, client):
    assert client.get("/boom").status_code == 500
    assert client.get("/fine").status_code == 200


def test_latency_is_added(server, client):
    server.set_faults(latency=0.3)
    start = time.monotonic()
    assert client.get("/slow").status_code == 200
    assert time.monotonic() - start >= 0.3
    assert server.requests[-1].duration >= 0.3
    server.set_faults(latency=0)
    start = time.monotonic()
    client.get("/fast")
    assert time.monotonic() - start < 0.3


def test_forced_status_for_the_next_n_requests(server, client):
    server.set_faults(status_next=2, status_code=503)
    assert [client.get("/a").status_code for _ in range(3)] == [503, 503, 200]
    assert [e.fault for e in server.requests] == ["status", "status", None]


def test_forced_status_probability_is_deterministic_with_a_seed():
    def run(seed):
        with SimServer(echo, seed=seed) as srv, httpx.Client(base_url=srv.url) as c:
            srv.set_faults(status_probability=0.5, status_code=502)
            return [c.get("/p").status_code for _ in range(20)]

    first = run(7)
    assert first == run(7)
    assert {200, 502} == set(first)


def test_hold_longer_than_the_client_timeout_raises_timeout(server):
    server.set_faults(hold_next=1, hold_seconds=2.0)
    with httpx.Client(base_url=server.url, timeout=0.3) as c:
        start = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            c.get("/held")
        assert time.monotonic() - start < 1.5
        assert c.get("/after").status_code == 200


def test_dropped_connection_raises(server, client):
    server.set_faults(drop_next=1)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/dropped")
    assert client.get("/after").status_code == 200
    assert [(e.status, e.fault) for e in server.requests] == [(None, "drop"), (200, None)]


def test_admin_endpoint_sets_faults_and_shows_the_log(server, client):
    r = client.post("/__faults", json={"status_next": 1, "status_code": 500})
    assert r.status_code == 200 and r.json()["status_next"] == 1
    assert client.get("/a").status_code == 500
    assert client.get("/a").status_code == 200
    log = client.get("/__requests").json()
    assert [(e["path"], e["status"]) for e in log] == [("/a", 500), ("/a", 200)]  # admin calls not logged
    assert client.post("/__faults", json={"nonsense": 1}).status_code == 400
    assert client.post("/__faults", json={"latency": -1}).status_code == 400
    assert client.post("/__faults", json={"drop_probability": 2}).status_code == 400
    client.post("/__faults", json={"status_next": 5})
    assert client.delete("/__faults").json()["status_next"] == 0
    assert client.delete("/__requests").json() == []
    assert server.request_count() == 0


def test_stop_closes_the_port():
    srv = SimServer(echo).start()
    url = srv.url
    assert httpx.get(url + "/x").status_code == 200
    srv.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/x", timeout=1)


def test_stop_releases_held_requests_quickly(server):
    server.set_faults(hold_next=1, hold_seconds=30)
    import threading

    errors = []
    t = threading.Thread(target=lambda: errors.append(_swallow(lambda: httpx.get(server.url + "/h", timeout=10))))
    t.start()
    time.sleep(0.2)
    start = time.monotonic()
    server.stop()
    t.join(5)
    assert not t.is_alive() and time.monotonic() - start < 3


def _swallow(fn):
    try:
        return fn()
    except httpx.HTTPError as exc:
        return exc


def test_https_with_mutual_tls(pki, other_pki):  # noqa: F811
    with SimServer(echo, tls=server_ssl_context(pki)) as srv:
        assert srv.url.startswith("https://127.0.0.1:")
        with httpx.Client(verify=client_ssl_context(pki)) as c:
            assert c.get(srv.url + "/secure").status_code == 200

        # No client certificate: the handshake is refused and the app never sees a request.
        with httpx.Client(verify=client_ssl_context(pki, with_client_cert=False)) as c:
            with pytest.raises(httpx.TransportError):
                c.get(srv.url + "/secure")
        # A client certificate from another CA is refused too.
        foreign = client_ssl_context(pki, with_client_cert=False)
        foreign.load_cert_chain(other_pki.client_cert, other_pki.client_key)
        with httpx.Client(verify=foreign) as c:
            with pytest.raises(httpx.TransportError):
                c.get(srv.url + "/secure")
        # The client refuses a server whose CA it does not trust.
        with httpx.Client(verify=client_ssl_context(other_pki)) as c:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                c.get(srv.url + "/secure")
        assert srv.request_count() == 1
        assert wait_for(lambda: srv.handshake_failures == 3)


def test_https_without_client_cert_requirement(pki):  # noqa: F811
    with SimServer(echo, tls=server_ssl_context(pki, require_client_cert=False)) as srv:
        ctx = ssl.create_default_context(cafile=str(pki.ca_cert))
        assert httpx.get(srv.url + "/x", verify=ctx).status_code == 200


def test_chaos_mixes_every_fault_and_the_app_still_does_the_work_of_a_lost_answer():
    """30 % chaos, seeded: 5xx, 429 with Retry-After, resets, held requests (client timeout), slow answers and
    answers lost after the app did the work all occur; the rest are answered normally."""
    calls = []

    def app(method, path, headers, body):
        calls.append(path)
        return 200, {"Content-Type": "text/plain"}, b"ok"

    seen: dict[str, int] = {}
    with SimServer(app, seed=7) as srv, httpx.Client(base_url=srv.url, timeout=0.5) as c:
        srv.set_faults(chaos_probability=0.3, hold_seconds=0.8, chaos_slow_seconds=0.05)
        for i in range(200):
            try:
                r = c.get(f"/c{i}")
                outcome = f"{r.status_code}" + ("+retry-after" if r.headers.get("Retry-After") else "")
            except httpx.TimeoutException:
                outcome = "timeout"
            except httpx.TransportError:
                outcome = "reset"
            seen[outcome] = seen.get(outcome, 0) + 1
        log = srv.requests
    faults = {e.fault for e in log}
    assert {"500", "502", "503", "429+retry-after", "timeout", "reset", "200"} <= set(seen), seen
    assert {"slow", "lost-answer", "drop", "hold"} <= faults
    assert 0.2 < sum(e.fault is not None for e in log) / len(log) < 0.4
    assert {e.path for e in log if e.fault == "lost-answer"} <= set(calls)  # a lost answer's work was done
    assert not any(e.fault == "drop" and e.path in calls for e in log)  # a reset one never reached the app
