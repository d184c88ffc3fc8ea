"""A local PostgreSQL server for tests and the scripted scale-out, started from what the machine has.

`start_local_postgres(workdir)` tries, first that works: the system PostgreSQL binaries
(`pg_config --bindir`, else /usr/lib/postgresql/*/bin), started on a free port on 127.0.0.1 with data and
socket under `workdir` (as user `postgres` when root: initdb refuses root); else the pip-installable
`pgserver` package. It returns a `LocalPostgres` with the server URL (maintenance database) and `stop()`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from sqlalchemy import text
from sqlalchemy.engine import make_url

from store.db import make_engine


class LocalPostgresError(RuntimeError):
    """No local PostgreSQL server could be started; the message lists what was tried and how to fix it."""


@dataclass
class LocalPostgres:
    """A running local server: `url` of its maintenance database, `stop()` ends it and removes its data."""

    url: str
    stop: Callable[[], None]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _system_bindirs() -> list[Path]:
    found: list[Path] = []
    if shutil.which("pg_config"):
        try:
            out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True, timeout=10)
            found.append(Path(out.stdout.strip()))
        except (subprocess.SubprocessError, OSError):
            pass

    def version(p: Path) -> float:
        try:
            return float(p.parent.name)
        except ValueError:
            return 0.0

    found += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    return [d for d in dict.fromkeys(found) if (d / "initdb").is_file() and (d / "pg_ctl").is_file()]


class _SystemPostgres:
    """A throw-away cluster started with the system binaries."""

    def __init__(self, bindir: Path, workdir: Path | None = None) -> None:
        self.bindir = bindir
        self.tmp = Path(tempfile.mkdtemp(prefix="vangnet-pg-", dir=workdir))
        self.data = self.tmp / "data"
        self.user: pwd.struct_passwd | None = None
        if os.geteuid() == 0:  # initdb refuses to run as root
            try:
                self.user = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root and there is no 'postgres' user to run the server as") from None
            os.chown(self.tmp, self.user.pw_uid, self.user.pw_gid)

    def _run(self, *args: str, timeout: float = 60) -> None:
        kwargs: dict = {}
        if self.user is not None:
            kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        env = {**os.environ, "LC_ALL": "C", "HOME": str(self.tmp)}
        result = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]], capture_output=True, text=True, timeout=timeout,
            cwd=self.tmp, env=env, **kwargs,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({result.returncode}): {(result.stderr or result.stdout).strip()[-1500:]}")

    def start(self) -> str:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        last_error: Exception | None = None
        for _ in range(3):  # the free port can be taken between probing and binding
            port = _free_port()
            opts = f"-h 127.0.0.1 -p {port} -k {self.tmp} -F -c max_connections=50"
            try:
                self._run("pg_ctl", "-D", str(self.data), "-l", str(self.tmp / "server.log"), "-w", "-t", "30",
                          "-o", opts, "start")
                return f"postgresql://postgres@127.0.0.1:{port}/postgres"
            except RuntimeError as exc:
                last_error = exc
        log = self.tmp / "server.log"
        tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
        raise RuntimeError(f"{last_error}\n{tail}")

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


def start_local_postgres(workdir: Path | None = None) -> LocalPostgres:
    """Start a throw-away PostgreSQL server (system binaries, else pgserver); raises LocalPostgresError."""
    problems: list[str] = []
    for bindir in _system_bindirs():
        try:
            server = _SystemPostgres(bindir, workdir)
        except RuntimeError as exc:
            problems.append(f"{bindir}: {exc}")
            continue
        try:
            return LocalPostgres(url=server.start(), stop=server.stop)
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            server.stop()
            problems.append(f"{bindir}: {exc}")
    if not problems:
        problems.append("no PostgreSQL server binaries found (pg_config --bindir, /usr/lib/postgresql/*/bin)")
    try:
        import pgserver  # type: ignore[import-not-found]

        pgdata = Path(tempfile.mkdtemp(prefix="vangnet-pgserver-", dir=workdir))
        server = pgserver.get_server(pgdata, cleanup_mode="delete")
    except Exception as exc:  # noqa: BLE001 - any failure here means: report below
        problems.append(f"pgserver: {type(exc).__name__}: {exc}")
    else:
        return LocalPostgres(url=server.get_uri(), stop=server.cleanup)
    raise LocalPostgresError("no local PostgreSQL server could be started:\n  - " + "\n  - ".join(problems)
                             + "\nInstall the server (Debian/Ubuntu: apt-get install postgresql) or pip install "
                             "pgserver, or give the URL of an existing server.")


def stop_cluster_under(folder: Path) -> int:
    """Stop every cluster started from the system binaries under `folder` (from another process than
    the one that started it, e.g. `vangnet scaleout down`); returns how many were stopped."""
    stopped = 0
    bindirs = _system_bindirs()
    for pid_file in folder.glob("vangnet-pg-*/data/postmaster.pid"):
        if not bindirs:
            break
        data = pid_file.parent
        owner = data.stat().st_uid
        kwargs: dict = {"user": owner, "group": data.stat().st_gid, "extra_groups": []} if os.geteuid() == 0 else {}
        subprocess.run([str(bindirs[0] / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True,
                       timeout=60, cwd=data.parent, **kwargs)
        shutil.rmtree(data.parent, ignore_errors=True)
        stopped += 1
    return stopped


def create_database(server_url: str, name: str) -> str:
    """Create database `name` on the server when it does not exist; returns its URL."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"database name {name!r}: use letters, digits and _")
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)
