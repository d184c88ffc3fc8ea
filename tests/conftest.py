"""Shared fixtures: a real PostgreSQL server per test session and a fresh database per test.

Where PostgreSQL comes from, first that works:
1. `VANGNET_TEST_DATABASE_URL` (a server URL whose user may CREATE DATABASE);
2. the system PostgreSQL binaries (`pg_config --bindir`, else /usr/lib/postgresql/*/bin), started
   on a free port on 127.0.0.1 with data and socket in a temp dir (as user `postgres` when root);
3. the `pgserver` package (note: run as root it adds a system user `pgserver` with useradd).
If none works the PostgreSQL tests FAIL (never skip) with a message saying how to fix it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from store.db import make_engine, make_sessionmaker
from store.migrate import upgrade
from prefect_fixtures import configure_prefect_env, prefect_server  # noqa: F401 - fixture

configure_prefect_env()  # before any test module imports prefect

ENV_URL = "VANGNET_TEST_DATABASE_URL"


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

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.tmp = Path(tempfile.mkdtemp(prefix="vangnet-pg-"))
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


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a running PostgreSQL server (maintenance database) for this test session."""
    if os.environ.get(ENV_URL):
        yield os.environ[ENV_URL]
        return

    problems: list[str] = []
    for bindir in _system_bindirs():
        try:
            server = _SystemPostgres(bindir)
        except RuntimeError as exc:
            problems.append(f"{bindir}: {exc}")
            continue
        try:
            url = server.start()
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            server.stop()
            problems.append(f"{bindir}: {exc}")
            continue
        try:
            yield url
        finally:
            server.stop()
        return
    if not problems:
        problems.append("no PostgreSQL server binaries found (pg_config --bindir, /usr/lib/postgresql/*/bin)")

    try:
        import pgserver  # type: ignore[import-not-found]

        pgdata = Path(tempfile.mkdtemp(prefix="vangnet-pgserver-"))
        server = pgserver.get_server(pgdata, cleanup_mode="delete")
    except Exception as exc:  # noqa: BLE001 - any failure here means: report and fail below
        problems.append(f"pgserver: {type(exc).__name__}: {exc}")
    else:
        try:
            yield server.get_uri()
        finally:
            server.cleanup()
        return

    pytest.fail(
        "PostgreSQL tests need a real server and none could be started:\n  - "
        + "\n  - ".join(problems)
        + f"\nFix one of: set {ENV_URL}=postgresql://user:pass@host:port/postgres (user may CREATE DATABASE); "
        "install the server (Debian/Ubuntu: apt-get install postgresql); or pip install pgserver. "
        "To run only the SQLite tests: pytest -m 'not postgres'.",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def pg_database_factory(pg_url: str) -> Iterator[Callable[[], str]]:
    """Creates empty databases on the session's server; drops them all at the end."""
    admin = make_engine(pg_url, isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def create() -> str:
        name = f"vangnet_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(pg_url).set(database=name).render_as_string(hide_password=False)

    yield create
    try:
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of a fresh, empty (not migrated) database, once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'vangnet.db'}"
    return request.getfixturevalue("pg_database_factory")()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a freshly migrated database."""
    upgrade(db_url)
    eng = make_engine(db_url)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the migrated database; rolled back and closed after the test."""
    with make_sessionmaker(engine)() as s:
        yield s
        s.rollback()

