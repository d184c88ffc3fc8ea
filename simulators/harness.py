"""Run a partner stand-in as a real HTTP(S) server on 127.0.0.1, with fault injection.

An *app* is a callable ``app(method, path, headers, body) -> (status, headers, body)``; ``path``
includes the query string. Optional hooks on the app object:

- ``bind(base_url)``: called by :meth:`SimServer.start` with the server's own URL;
- ``set_faults(**knobs)`` / ``fault_state() -> dict``: app-specific fault knobs, reachable via the
  admin endpoint as well.

Paths starting with ``/__`` are admin paths: never logged, never faulted. The harness handles
``GET|POST|DELETE /__faults`` and ``GET|DELETE /__requests``; other admin paths go to the app.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["CHAOS", "App", "AppResponse", "Faults", "LoggedRequest", "SimServer"]

log = logging.getLogger(__name__)

AppResponse = tuple[int, Mapping[str, str], bytes]
App = Callable[[str, str, Mapping[str, str], bytes], AppResponse]

ADMIN_PREFIX = "/__"
MAX_REQUEST_BYTES = 16 * 1024 * 1024


@dataclass
class Faults:
    """Fault knobs; counters (``*_next``) are consumed one per (non-admin) request, in this order:
    drop, hold, forced status, then latency before the real answer."""

    latency: float = 0.0
    """Seconds added before every answer."""
    status_code: int = 503
    """Status used for forced failures."""
    status_next: int = 0
    """Answer the next N requests with ``status_code``."""
    status_probability: float = 0.0
    """Answer each request with ``status_code`` with this probability (seeded RNG)."""
    hold_next: int = 0
    """Hold the next N requests for ``hold_seconds`` (longer than the client's timeout), then close."""
    hold_seconds: float = 30.0
    drop_next: int = 0
    """Close the connection of the next N requests without any response."""
    drop_probability: float = 0.0
    chaos_probability: float = 0.0
    """Give each request, with this probability, one fault picked at random from CHAOS (the fault run)."""
    chaos_slow_seconds: float = 1.0
    """How late a "slow" chaos answer comes."""


CHAOS = ("status-500", "status-502", "status-503", "status-429", "drop", "hold", "slow", "lost-answer")
"""The chaos faults: 5xx and 429 (with Retry-After) answers, a reset connection, a request held until the client
times out (`hold_seconds`), a slow answer, and an answer lost after the app did the work (the hard case for
idempotency: the effect happened, the client doesn't know)."""


@dataclass(frozen=True)
class LoggedRequest:
    """One request as seen by the server (``started`` is ``time.monotonic()``).

    ``status`` is None when dropped or held; ``fault`` names the knob that fired.
    """

    method: str
    path: str
    status: int | None
    started: float
    duration: float
    fault: str | None = None


_FAULT_FIELDS = {f.name: f.type for f in fields(Faults)}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        self.timeout = 30  # idle keep-alive connections release their thread
        self.request.settimeout(self.timeout)
        # Headers and body go out in separate writes: without NODELAY, Nagle + delayed ACK add ~40 ms.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sim = self.server.sim
        if sim.tls is not None:
            try:
                self.request = sim.tls.wrap_socket(self.request, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                sim._note_handshake_failure(exc)
                raise
        sim._track(self.request)
        super().setup()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.sim._untrack(self.request)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s %s", self.address_string(), format % args)

    def _handle(self) -> None:
        self.server.sim._serve(self)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    sim: SimServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


class SimServer:
    """A real HTTP(S) server in a background thread, serving ``app`` with injectable faults.

    Use as a context manager or call :meth:`start`/:meth:`stop`. ``tls`` is a server-side
    ``ssl.SSLContext`` (set ``verify_mode = CERT_REQUIRED`` on it for mutual TLS, see
    :func:`simulators.certs.server_ssl_context`). ``seed`` makes probabilistic faults repeatable.
    """

    def __init__(
        self,
        app: App,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
        seed: int | None = None,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.tls = tls
        self.faults = Faults()
        self.handshake_failures = 0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._log: list[LoggedRequest] = []
        self._stopping = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> SimServer:
        """Bind, start serving in a daemon thread and return self."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server((self.host, self.port), _Handler)
        server.sim = self
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"sim-{self.port}", daemon=True
        )
        self._thread.start()
        bind = getattr(self.app, "bind", None)
        if callable(bind):
            bind(self.url)
        return self

    def stop(self) -> None:
        """Stop serving, release held requests and close open connections."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        with self._lock:
            open_sockets = list(self._sockets)
        for sock in open_sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (no trailing slash)."""
        if self._server is None:
            raise RuntimeError("server is not started; call start() or use it as a context manager")
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

    # -- faults and log ------------------------------------------------------------------------
    def set_faults(self, **knobs: Any) -> None:
        """Update harness knobs (see :class:`Faults`); unknown names go to ``app.set_faults``."""
        own = {k: v for k, v in knobs.items() if k in _FAULT_FIELDS}
        rest = {k: v for k, v in knobs.items() if k not in _FAULT_FIELDS}
        for name, value in own.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"fault knob {name!r} needs a non-negative number, got {value!r}")
            if name.endswith("_probability") and value > 1:
                raise ValueError(f"fault knob {name!r} is a probability between 0 and 1, got {value!r}")
            if name == "status_code" and not 100 <= value <= 599:
                raise ValueError(f"status_code must be an HTTP status (100-599), got {value!r}")
        app_set = getattr(self.app, "set_faults", None)
        if rest and not callable(app_set):
            raise ValueError(f"unknown fault knob(s) {sorted(rest)}; known: {sorted(_FAULT_FIELDS)}")
        with self._lock:
            for name, value in own.items():
                setattr(self.faults, name, value)
        if rest:
            app_set(**rest)

    def reset_faults(self) -> None:
        """Back to a healthy server (app knobs included when the app has ``reset_faults``)."""
        with self._lock:
            self.faults = Faults()
        app_reset = getattr(self.app, "reset_faults", None)
        if callable(app_reset):
            app_reset()

    def fault_state(self) -> dict[str, Any]:
        with self._lock:
            state = asdict(self.faults)
        app_state = getattr(self.app, "fault_state", None)
        if callable(app_state):
            state.update(app_state())
        return state

    @property
    def requests(self) -> list[LoggedRequest]:
        """A copy of the request log (admin paths excluded)."""
        with self._lock:
            return list(self._log)

    def request_count(self, *, method: str | None = None, path: str | None = None) -> int:
        """Number of logged requests, optionally filtered by method and/or exact path (query ignored)."""
        return sum(
            1
            for r in self.requests
            if (method is None or r.method == method) and (path is None or r.path.split("?", 1)[0] == path)
        )

    def clear_requests(self) -> None:
        with self._lock:
            self._log.clear()

    # -- internals -----------------------------------------------------------------------------
    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _untrack(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)

    def _note_handshake_failure(self, exc: BaseException) -> None:
        with self._lock:
            self.handshake_failures += 1
        log.debug("TLS handshake refused: %s", exc)

    def _pick_fault(self) -> tuple[str | None, Faults]:
        with self._lock:
            f = self.faults
            snapshot = Faults(**asdict(f))
            if f.drop_next > 0:
                f.drop_next -= 1
                return "drop", snapshot
            if f.drop_probability and self._rng.random() < f.drop_probability:
                return "drop", snapshot
            if f.hold_next > 0:
                f.hold_next -= 1
                return "hold", snapshot
            if f.status_next > 0:
                f.status_next -= 1
                return "status", snapshot
            if f.status_probability and self._rng.random() < f.status_probability:
                return "status", snapshot
            if f.chaos_probability and self._rng.random() < f.chaos_probability:
                return self._rng.choice(CHAOS), snapshot
            return None, snapshot

    def _record(self, method: str, path: str, status: int | None, started: float, fault: str | None) -> None:
        entry = LoggedRequest(method, path, status, started, time.monotonic() - started, fault)
        with self._lock:
            self._log.append(entry)

    def _serve(self, h: _Handler) -> None:
        started = time.monotonic()
        length = int(h.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            self._send(h, 413, {"Content-Type": "text/plain"}, b"request too large\n")
            return
        body = h.rfile.read(length) if length else b""
        headers = {k: v for k, v in h.headers.items()}
        if h.path.startswith(ADMIN_PREFIX):
            try:
                self._send(h, *self._admin(h.command, h.path, headers, body))
            except Exception:
                log.exception("simulator admin call failed on %s %s", h.command, h.path)
                self._send(h, 500, {"Content-Type": "text/plain"}, b"simulator error\n")
            return
        fault, knobs = self._pick_fault()
        if fault == "drop":
            self._record(h.command, h.path, None, started, "drop")
            self._drop(h)
            return
        if fault == "hold":
            self._record(h.command, h.path, None, started, "hold")  # logged on arrival: tests count it now
            self._stopping.wait(knobs.hold_seconds)
            self._drop(h)
            return
        if knobs.latency:
            self._stopping.wait(knobs.latency)
        if fault == "slow":
            self._stopping.wait(knobs.chaos_slow_seconds)
        if fault == "status" or (fault or "").startswith("status-"):
            code = knobs.status_code if fault == "status" else int(fault.split("-")[1])
            status, out_headers, out_body = code, {"Content-Type": "text/plain"}, b"injected fault\n"
            if code == 429:
                out_headers = {**out_headers, "Retry-After": "1"}
        else:
            try:
                status, out_headers, out_body = self.app(h.command, h.path, headers, body)
            except Exception:
                log.exception("simulator app failed on %s %s", h.command, h.path.split("?", 1)[0])
                status, out_headers, out_body = 500, {"Content-Type": "text/plain"}, b"simulator error\n"
        if fault == "lost-answer":
            self._record(h.command, h.path, None, started, fault)
            self._drop(h)
            return
        self._record(h.command, h.path, status, started, fault)
        self._send(h, status, out_headers, out_body)

    @staticmethod
    def _drop(h: _Handler) -> None:
        h.close_connection = True
        try:
            h.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    @staticmethod
    def _send(h: _Handler, status: int, headers: Mapping[str, str] | Iterable[tuple[str, str]], body: bytes) -> None:
        h.send_response(status)
        items = headers.items() if isinstance(headers, Mapping) else headers
        for name, value in items:
            if name.lower() not in ("content-length", "connection"):
                h.send_header(name, value)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    def _admin(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> AppResponse:
        route = path.split("?", 1)[0]
        if route == "/__faults":
            if method == "GET":
                return _json(200, self.fault_state())
            if method == "DELETE":
                self.reset_faults()
                return _json(200, self.fault_state())
            if method == "POST":
                try:
                    knobs = json.loads(body or b"{}")
                    if not isinstance(knobs, dict):
                        raise ValueError("expected a JSON object of fault knobs")
                    self.set_faults(**knobs)
                except (ValueError, TypeError) as exc:
                    return _json(400, {"error": str(exc)})
                return _json(200, self.fault_state())
        elif route == "/__requests":
            if method == "GET":
                return _json(200, [asdict(r) for r in self.requests])
            if method == "DELETE":
                self.clear_requests()
                return _json(200, [])
        else:
            return self.app(method, path, headers, body)
        return _json(405, {"error": f"{method} not allowed on {route}"})


def _json(status: int, payload: object) -> AppResponse:
    return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()


class AppFaults:
    """Mixin for simulator apps: a dataclass of fault knobs (`faults_type`) that tests set by name.

    The app provides `self._lock` and `self.faults`; knobs are non-negative integer counters unless
    `_check_knob` is overridden for a knob of another kind (call super for the counters).
    """

    faults_type: type
    faults_label: str = "simulator"

    def set_faults(self, **knobs: Any) -> None:
        with self._lock:
            for name, value in knobs.items():
                if not hasattr(self.faults, name):
                    raise ValueError(f"unknown {self.faults_label} fault knob {name!r}")
                self._check_knob(name, value)
                setattr(self.faults, name, value)

    def _check_knob(self, name: str, value: Any) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{self.faults_label} fault knob {name!r} needs a non-negative integer")

    def reset_faults(self) -> None:
        with self._lock:
            self.faults = self.faults_type()

    def fault_state(self) -> dict[str, Any]:
        with self._lock:
            return dict(vars(self.faults))


def serve_until_stopped(app: Any, *, host: str, port: int, tls: ssl.SSLContext | None = None, seed: int | None = None,
                        banner: Callable[[SimServer], str]) -> int:
    """Serve `app` in the foreground for `python -m simulators ...`: the first stdout line is the server URL,
    `banner(server)` goes to stderr; Ctrl-C or SIGTERM stops it. Returns the exit code (0)."""
    import signal
    import sys

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with SimServer(app, host=host, port=port, tls=tls, seed=seed) as server:
        print(server.url, flush=True)
        print(banner(server), file=sys.stderr, flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


def mtls_note(tls_dir: object, *, signing: bool = False) -> str:
    """The banner line telling where a throwaway test PKI's client files are."""
    files = "ca.pem, client.pem, client-key.pem" + (", client-sign.pem, client-sign-key.pem, server-sign.pem"
                                                    if signing else "")
    return f"mutual TLS, client files in {tls_dir}: {files}"
