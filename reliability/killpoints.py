"""Crash hooks of the reliability worker (never imported by product code).

`install(spec, count_file)` is called first thing in the worker child. `spec` (env `VANGNET_CRASH_AT`)
names one kill point, `<kind>:<n>`:

- `sql:n`           SIGKILL right after the n-th SQL statement (inside a transaction);
- `commit:n`        right after the n-th session commit (between transactions);
- `http-request:n`  before the n-th outbound HTTP request is sent;
- `http-response:n` after the n-th response came back, before the caller sees it (the partner did the
                    effect, we did not record it);
- `timer:s`         after `s` seconds.

With `count_file` and no spec, nothing is killed: the events are counted and written there as JSON when
the process exits, so the parent can pick `n` within a clean run. Every outbound call of the connectors
goes through `httpx.HTTPTransport.handle_request` (zeep for IB and Suwinet rides on an httpx client too).
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import threading
import time
from pathlib import Path

KINDS = ("sql", "commit", "http-request", "http-response", "timer")
ENV = "VANGNET_CRASH_AT"

_counts = {kind: 0 for kind in KINDS if kind != "timer"}
_calls: list[str] = []  # "POST /zaken/api/v1/statussen" per outbound request, to name an http kill point
_started = time.monotonic()


def die() -> None:
    """SIGKILL this process: no cleanup, no flush, no rollback."""
    os.kill(os.getpid(), signal.SIGKILL)


def parse(spec: str) -> tuple[str, float]:
    """`"sql:17"` -> ("sql", 17.0); ValueError for an unknown kind or a bad number."""
    kind, _, value = spec.partition(":")
    if kind not in KINDS:
        raise ValueError(f"unknown kill point kind {kind!r}; one of {', '.join(KINDS)}")
    return kind, float(value)


def install(spec: str | None, count_file: str | None = None) -> None:
    """Install the hooks: count every event, and kill at `spec` when given."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session
    import httpx

    kind, at = parse(spec) if spec else (None, 0.0)

    def tick(name: str) -> None:
        _counts[name] += 1
        if name == kind and _counts[name] >= at:
            die()

    event.listen(Engine, "after_cursor_execute", lambda *args: tick("sql"))
    event.listen(Session, "after_commit", lambda session: tick("commit"))

    original = httpx.HTTPTransport.handle_request

    def handle_request(self, request):
        _calls.append(f"{request.method} {request.url.path}")
        tick("http-request")
        response = original(self, request)
        tick("http-response")
        return response

    httpx.HTTPTransport.handle_request = handle_request
    if kind == "timer":
        timer = threading.Timer(at, die)
        timer.daemon = True
        timer.start()
    if count_file:
        atexit.register(_write_counts, Path(count_file))


def _write_counts(path: Path) -> None:
    path.write_text(json.dumps({**_counts, "timer": time.monotonic() - _started, "calls": _calls}), encoding="utf-8")
