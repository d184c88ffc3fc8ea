"""Start, reuse and stop the long-lived local Prefect server (SQLite under `var/prefect`).

The per-process ephemeral API loses task-run history when the process exits and is slow to start,
so vangnet runs its flows against a real `prefect server start` that operators can open in a browser.
This module never imports prefect: the environment must be set before prefect is first imported.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from flows.errors import VangnetError
from flows.settings import Settings


LOGGING_CONFIG = Path(__file__).with_name("logging.yml")


def prefect_env(settings: Settings) -> dict[str, str]:
    """Environment for both the server and the flow-running client: local home, no analytics, redacting logs."""
    home = settings.prefect_home
    return {
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": settings.resolved_prefect_api_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_API_HOST": settings.prefect_host,
        "PREFECT_SERVER_API_PORT": str(settings.prefect_port),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_CLI_PROMPT": "false",
        "PREFECT_LOGGING_SETTINGS_PATH": str(LOGGING_CONFIG),  # flows/logs.py: no BSN, IBAN, e-mail in logs
    }


def apply_prefect_env(settings: Settings) -> None:
    """Point this process's Prefect client at our server. Call before the first `import prefect`."""
    if "prefect" in sys.modules:
        raise RuntimeError("apply_prefect_env must run before prefect is imported")
    os.environ.update(prefect_env(settings))


def is_healthy(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def _pid_file(settings: Settings) -> Path:
    return settings.prefect_home / "server.pid"


def _log_file(settings: Settings) -> Path:
    return settings.prefect_home / "server.log"


def ensure_server(settings: Settings) -> str:
    """Return the API URL of a healthy Prefect server, starting the local one when none answers."""
    api_url = settings.resolved_prefect_api_url
    if is_healthy(api_url):
        return api_url
    if settings.prefect_api_url:
        raise VangnetError(
            f"The Prefect server configured in VANGNET_PREFECT_API_URL ({api_url}) does not answer.",
            hint="Start that server, or unset VANGNET_PREFECT_API_URL to use the local one under var/.",
        )
    home = settings.prefect_home
    home.mkdir(parents=True, exist_ok=True)
    prefect_cli = Path(sys.executable).with_name("prefect")
    command = [str(prefect_cli), "server", "start", "--host", settings.prefect_host, "--port", str(settings.prefect_port)]
    with open(_log_file(settings), "ab") as log:
        process = subprocess.Popen(
            command,
            env={**os.environ, **prefect_env(settings)},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # outlives the demo, so the UI keeps showing its runs
        )
    _pid_file(settings).write_text(str(process.pid))
    deadline = time.monotonic() + settings.prefect_start_timeout
    while time.monotonic() < deadline:
        if is_healthy(api_url):
            return api_url
        if process.poll() is not None:
            break
        time.sleep(0.5)
    else:
        process.terminate()
    raise VangnetError(
        f"The local Prefect server did not come up on {api_url}.",
        hint=f"See {_log_file(settings)}; is port {settings.prefect_port} taken? Set VANGNET_PREFECT_PORT.",
    )


def server_pid(settings: Settings) -> int | None:
    """PID of the server this install started, if it is still running."""
    try:
        pid = int(_pid_file(settings).read_text())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def stop_server(settings: Settings, timeout: float = 20.0) -> bool:
    """Stop the local server started by `ensure_server`; False when none was running."""
    pid = server_pid(settings)
    if pid is None:
        return False
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server_pid(settings) is not None:
        time.sleep(0.2)
        try:
            os.waitpid(pid, os.WNOHANG)  # reap it when we are its parent (tests)
        except ChildProcessError:
            pass
    if server_pid(settings) is not None:
        os.killpg(pid, signal.SIGKILL)
    _pid_file(settings).unlink(missing_ok=True)
    return True
