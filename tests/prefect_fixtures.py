"""A real local Prefect server for tests that run flows in the test process.

Prefect reads its settings when first imported, so `configure_prefect_env()` runs from conftest before
any test module imports prefect: it points this process at a private server home and a free port.
The server itself starts only when a test asks for the `prefect_server` fixture (about 15 s, once).
"""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

import pytest

from flows.prefect_server import ensure_server, prefect_env, stop_server
from flows.settings import Settings

_SETTINGS: Settings | None = None


def configure_prefect_env() -> None:
    global _SETTINGS
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home = Path(tempfile.mkdtemp(prefix="vangnet-test-prefect-"))
    _SETTINGS = Settings(home=home, prefect_port=port)
    os.environ.update(prefect_env(_SETTINGS))


@pytest.fixture(scope="session")
def prefect_server():
    """The API URL of a running Prefect server that this test process's flows report to."""
    assert _SETTINGS is not None, "configure_prefect_env() must run in conftest"
    url = ensure_server(_SETTINGS)
    yield url
    # Send what the flows logged before the server goes away; else Prefect's exit handler retries for long.
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)
    EventsWorker.drain_all()
    stop_server(_SETTINGS)


def events_named(api_url: str, name: str, *, at_least: int = 1, timeout: float = 15.0) -> list[dict]:
    """Events with this name on the server. The server stores events asynchronously: poll a while."""
    import time

    import httpx
    from prefect.events.worker import EventsWorker

    EventsWorker.drain_all()
    deadline = time.monotonic() + timeout
    while True:
        events = httpx.post(f"{api_url}/events/filter", timeout=10,
                            json={"filter": {"event": {"name": [name]}}}).json()["events"]
        if len(events) >= at_least or time.monotonic() > deadline:
            return events
        time.sleep(0.3)
