"""The scripted scale-out: Prefect server on PostgreSQL, a `process` work pool, several workers, and our
state store on PostgreSQL — the set-up a regional shared-service centre runs (`vangnet scaleout up`).

What `up` does, in order (everything under `VANGNET_HOME/scaleout`, state in `scaleout.json`):
1. PostgreSQL: the server at `--pg-url` (its user may CREATE DATABASE), else a local one started from the
   machine's binaries (`store.local_pg`); databases `prefect` (Prefect's own) and `vangnet` (our store,
   migrated), or `vangnet_<gemeentecode>` per gemeente;
2. `prefect server start` with `postgresql+asyncpg://` as its database, on 127.0.0.1:`--port`;
3. per gemeente a work pool `vangnet-<gemeentecode>` (type process) with every deployment of
   flows/deployments.py (named `<deployment>-<gemeentecode>`), and `--workers` workers (`prefect worker start`) whose flow runs see only that
   gemeente's configuration (its own `.env` file, if given, and its own database): no data crosses.
Work is claimed per batch with `SELECT ... FOR UPDATE SKIP LOCKED`, so workers never take the same signal,
booking or invoice. `down` stops the workers, the server and a PostgreSQL it started.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

import store
from flows.errors import VangnetError
from flows.prefect_server import LOGGING_CONFIG
from flows.settings import Settings
from store.local_pg import create_database, start_local_postgres, stop_cluster_under

STATE_FILE = "scaleout.json"


@dataclass
class Gemeente:
    """One gemeente served by the installation: its code, extra environment and its own store."""

    code: str
    env: dict[str, str] = field(default_factory=dict)
    database_url: str = ""

    @property
    def pool(self) -> str:
        return f"vangnet-{self.code}"


@dataclass
class ScaleOutState:
    """What `up` started (pids, URLs), so `down` and `status` find it again."""

    home: str
    api_url: str
    prefect_db: str
    server_pid: int
    workers: dict[str, int]
    gemeenten: list[dict]
    local_pg_dir: str | None = None

    def save(self) -> None:
        Path(self.home, STATE_FILE).write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")

    @classmethod
    def load(cls, home: Path) -> ScaleOutState | None:
        path = home / STATE_FILE
        return cls(**json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else None


def _asyncpg(url: str) -> str:
    return make_url(url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def prefect_server_env(home: Path, api_port: int, prefect_db_url: str) -> dict[str, str]:
    """Environment of a Prefect server on PostgreSQL, and of every client of it."""
    return {
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_API_URL": f"http://127.0.0.1:{api_port}/api",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(api_port),
        "PREFECT_API_DATABASE_CONNECTION_URL": _asyncpg(prefect_db_url),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_CLI_PROMPT": "false",
        "PREFECT_LOGGING_SETTINGS_PATH": str(LOGGING_CONFIG),  # redacting handlers in server, workers, runs
    }


def _base_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(extra)
    return env


def _spawn(args: list[str], env: Mapping[str, str], log: Path) -> int:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(args, env=dict(env), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=Path(__file__).resolve().parent.parent, start_new_session=True)
    return proc.pid


def _wait_healthy(api_url: str, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-1500:] if log.is_file() else ""
    raise VangnetError(f"The Prefect server on PostgreSQL did not come up within {timeout:.0f} s.\n{tail}",
                       hint=f"See {log}; check that PostgreSQL is reachable and asyncpg is installed.")


def up(settings: Settings, *, gemeenten: list[Gemeente], workers: int = 2, port: int = 4300,
       pg_url: str | None = None, paused: bool = False, worker_limit: int | None = None,
       poll_seconds: float | None = None, database_prefix: str = "", timeout: float = 120) -> ScaleOutState:
    """Start the scale-out (see the module docstring) and return its state. `worker_limit`: flow runs one
    worker runs at once (unset: no limit); `poll_seconds`: how often workers ask for work (Prefect: 10 s);
    `database_prefix` goes before the database names (several installations on one server)."""
    home = (settings.home / "scaleout").resolve()
    home.mkdir(parents=True, exist_ok=True)
    if ScaleOutState.load(home) is not None:
        raise VangnetError(f"A scale-out is already running from {home}.", hint="Run `vangnet scaleout down` first.")
    local = None
    if pg_url is None:
        local = start_local_postgres(home)
        pg_url = local.url
    prefect_db = create_database(pg_url, f"{database_prefix}prefect")
    for g in gemeenten:
        g.database_url = g.database_url or create_database(pg_url, f"{database_prefix}vangnet_{g.code}")
        store.upgrade(g.database_url)
    env = prefect_server_env(home, port, prefect_db)
    python = sys.executable
    server_log = home / "logs" / "prefect-server.log"
    server_pid = _spawn([python, "-m", "prefect", "server", "start"], _base_env(env), server_log)
    state = ScaleOutState(home=str(home), api_url=env["PREFECT_API_URL"], prefect_db=prefect_db, server_pid=server_pid,
                          workers={}, gemeenten=[asdict(g) for g in gemeenten],
                          local_pg_dir=str(home) if local else None)
    state.save()
    _wait_healthy(env["PREFECT_API_URL"], timeout, server_log)
    for g in gemeenten:
        genv = _base_env({**env, **g.env, "VANGNET_DATABASE_URL": g.database_url, "VANGNET_GEMEENTECODE": g.code})
        deploy = subprocess.run([python, "-m", "flows.scaleout", "deploy", g.pool] + (["--paused"] if paused else []),
                                env=genv, capture_output=True, text=True, timeout=300,
                                cwd=Path(__file__).resolve().parent.parent)
        if deploy.returncode != 0:
            raise VangnetError(f"Registering the deployments on pool {g.pool} failed: {deploy.stderr[-1500:]}")
        for i in range(1, workers + 1):
            name = f"{g.pool}-worker-{i}"
            args = [python, "-m", "prefect", "worker", "start", "--pool", g.pool, "--name", name, "--type", "process"]
            if worker_limit:
                args += ["--limit", str(worker_limit)]
            wenv = {**genv, **({"PREFECT_WORKER_QUERY_SECONDS": str(poll_seconds)} if poll_seconds else {})}
            state.workers[name] = _spawn(args, wenv, home / "logs" / f"{name}.log")
        state.save()
    _LOCAL_SERVERS[str(home)] = local
    return state


_LOCAL_SERVERS: dict[str, object] = {}


def _kill(pid: int, sig: int = signal.SIGTERM) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def kill_worker(state: ScaleOutState, name: str) -> None:
    """SIGKILL one worker and the flow runs it started (its whole process group): a crash, not a stop."""
    _kill(state.workers[name], signal.SIGKILL)


def down(settings: Settings) -> bool:
    """Stop what `up` started; False when nothing was running."""
    home = (settings.home / "scaleout").resolve()
    state = ScaleOutState.load(home)
    if state is None:
        return False
    for pid in state.workers.values():
        _kill(pid)
    _kill(state.server_pid)
    time.sleep(1)
    for pid in [*state.workers.values(), state.server_pid]:
        _kill(pid, signal.SIGKILL)
    local = _LOCAL_SERVERS.pop(str(home), None)
    if local is not None:
        local.stop()
    elif state.local_pg_dir:
        stop_cluster_under(Path(state.local_pg_dir))
    (home / STATE_FILE).unlink(missing_ok=True)
    return True


def worker_flow_runs(state: ScaleOutState) -> dict[str, int]:
    """How many flow runs each worker started (from its log): shows the work was shared."""
    counts = {}
    for name in state.workers:
        log = Path(state.home) / "logs" / f"{name}.log"
        text = log.read_text(errors="replace") if log.is_file() else ""
        counts[name] = text.count("submitted to infrastructure")
    return counts


def _deploy_main(argv: list[str]) -> int:
    """`python -m flows.scaleout deploy POOL [--paused]`: run with the server's environment already set."""
    from flows.deployments import deploy_to_pool, ensure_process_pool

    pool, settings = argv[0], Settings()
    ensure_process_pool(pool)
    deploy_to_pool(settings, pool, paused="--paused" in argv, suffix=f"-{settings.gemeentecode}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["deploy"]:
        sys.exit(_deploy_main(sys.argv[2:]))
    sys.exit("usage: python -m flows.scaleout deploy POOL [--paused] (use `vangnet scaleout up` instead)")
