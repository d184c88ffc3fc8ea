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
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from store.db import make_engine, make_sessionmaker
from store.local_pg import LocalPostgresError, start_local_postgres
from store.migrate import upgrade
from prefect_fixtures import configure_prefect_env, prefect_server  # noqa: F401 - fixture

configure_prefect_env()  # before any test module imports prefect

ENV_URL = "VANGNET_TEST_DATABASE_URL"


@pytest.fixture(autouse=True)
def _logs_without_the_safety_net(request: pytest.FixtureRequest) -> Iterator[None]:
    """The redaction filter rewrites log records in place, so a test checking that code logs no BSN
    would pass even if it did. It is off in this process except for tests marked `redaction`."""
    from flows.logs import set_redaction_enabled

    set_redaction_enabled(request.node.get_closest_marker("redaction") is not None)
    yield
    set_redaction_enabled(True)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a running PostgreSQL server (maintenance database) for this test session."""
    if os.environ.get(ENV_URL):
        yield os.environ[ENV_URL]
        return
    try:
        server = start_local_postgres()
    except LocalPostgresError as exc:
        pytest.fail(f"PostgreSQL tests need a real server and none could be started: {exc}\nOr set {ENV_URL}="
                    "postgresql://user:pass@host:port/postgres (user may CREATE DATABASE). To run only the SQLite "
                    "tests: pytest -m 'not postgres'.", pytrace=False)
    try:
        yield server.url
    finally:
        server.stop()


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
def local_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A temporary `VANGNET_HOME` with a migrated SQLite store where the CLI and the flows find it by
    default; yields an engine on that store."""
    from flows import runtime

    monkeypatch.setenv("VANGNET_HOME", str(tmp_path))
    monkeypatch.delenv("VANGNET_DATABASE_URL", raising=False)
    url = f"sqlite:///{(tmp_path / 'vangnet.db').resolve()}"
    upgrade(url)
    eng = make_engine(url)
    try:
        yield eng
    finally:
        eng.dispose()
        runtime.close_all()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the migrated database; rolled back and closed after the test."""
    with make_sessionmaker(engine)() as s:
        yield s
        s.rollback()

